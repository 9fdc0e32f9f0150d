"""One published mteb result file, either layout, read into one shape (:class:`Published`).

Layouts, as mteb's ``TaskResult.from_disk`` reads them (mteb 2.26; facts borrowed, code not):

* mteb >= 1.11: ``{"task_name", "dataset_revision", "mteb_version", "evaluation_time",
  "scores": {split: [{"hf_subset", "languages", "main_score", <metric>: ...}]}}``.
* mteb < 1.11 (a file without ``mteb_version``, or older than 1.11, that does not validate as
  the above): ``{"mteb_dataset_name", "dataset_revision", "mteb_version",
  split: {<metric>: ..., "cos_sim": {"spearman": ...}, "evaluation_time": ...}}``, or with one
  level of subsets (``split: {"en": {...}, "de": {...}}``). mteb renames the nested similarity
  blocks (``cos_sim`` -> ``cosine_*``, ``dot`` -> ``dot_*``, ``max`` -> ``max_*``, ...) and takes
  the main score from the task's metadata (here: the shipped benchmark catalogue).

Every metric value is a finite float or None: NaN and ±Infinity (real files hold both) become
None, so the store's strict JSON can hold them; nested metric blocks are flattened as
``<block>_<metric>``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from harness.errors import StoreError, brief, one_line
from harness.files import read_regular

MAX_FILE_BYTES = 64 * 2**20  # the largest published result files are a few MB
_NESTED_SIMILARITY = (("cosine", "cos_sim"), ("manhattan", "manhattan"), ("euclidean", "euclidean"),
                      ("dot", "dot"), ("max", "max"), ("similarity", "similarity"))
_OLD_BLOCKS = {old for _, old in _NESTED_SIMILARITY}
_NOT_SUBSETS = {"v_measures", "cos_sim", "euclidean", "manhattan", "dot", "max"}  # mteb's list, "similarity" not in it
_OLD_SUBSET_RENAMES = {  # mteb's fixes of subsets renamed since (task, mteb versions or None for all, old, new)
    ("MLSUMClusteringP2P", ("1.1.2.dev0", "1.1.3.dev0"), "default", "fr"),
    ("MLSUMClusteringS2S", ("1.1.2.dev0", "1.1.3.dev0"), "default", "fr"),
    ("XPQARetrieval", None, "fr", "fra-fra"),
}
_NO_LANGUAGES: list[str] = []
_WORD = frozenset(b'"_-.' + bytes(range(48, 58)) + bytes(range(65, 91)) + bytes(range(97, 123)))
LEGACY_VERSION = "mteb version not available"  # what mteb records for an old file without a version
LEGACY_REVISION = "dataset revision not available"

try:  # orjson parses a result file 3-5x faster than json (the import reads ~100,000); optional
    import orjson

    _fast_loads: Any = orjson.loads
    _FastError: Any = orjson.JSONDecodeError
except ImportError:  # pragma: no cover - orjson is not a dependency
    _fast_loads, _FastError = json.loads, json.JSONDecodeError


class Unreadable(ValueError):
    """A file that is not a published mteb result; the message says why (one line)."""


@dataclass(frozen=True)
class Published:
    """One published result: ``scores`` maps split -> one entry per subset, each with
    ``hf_subset`` (str), ``languages`` (list), ``main_score`` (float or None) and flat metrics
    (float or None)."""

    task_name: str
    dataset_revision: str | None  # None: an old file says null
    mteb_version: str | None
    evaluation_time: float | None
    scores: dict[str, list[dict[str, Any]]]
    legacy: bool


def parse_version(text: str | None) -> Version | None:
    """mteb's reading of a version for ``join_revisions``: a PEP 440 version, else None."""
    try:
        return Version(text) if isinstance(text, str) else None
    except InvalidVersion:
        return None


def _min_version(text: Any) -> Version | None:
    """mteb's ``_parse_mteb_version_min``: a version, or the first of a range ``A-B``."""
    if not isinstance(text, str):
        return None
    return parse_version(text) or (parse_version(text.split("-", 1)[0]) if "-" in text else None)


def load_json(path: Path) -> Any:
    """``path`` parsed; NaN/Infinity are allowed (as Python floats). Unreadable otherwise."""
    try:
        raw = read_regular(path, MAX_FILE_BYTES)
    except StoreError as err:
        raise Unreadable(str(err).removeprefix(f"{path}: ")) from None
    if not raw.strip():
        raise Unreadable("an empty file")
    try:
        return _fast_loads(raw)
    except _FastError:
        pass  # NaN/Infinity (orjson refuses them) or not JSON at all
    try:  # the common case, fast: a bare NaN/Infinity value is what we store as undefined anyway
        return _fast_loads(_bare_to_null(_bare_to_null(raw, b"NaN"), b"Infinity"))
    except _FastError:
        pass
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:  # ValueError: JSON, or an int of > 4300 digits
        raise Unreadable(f"not readable JSON ({one_line(err, 120)})") from None


def _bare_to_null(raw: bytes, token: bytes) -> bytes:
    """``raw`` with each bare JSON value ``token`` / ``-token`` (``NaN``, ``Infinity``) as ``null``;
    one next to a letter, digit or quote (inside a string or a word) is left alone. ``bytes.split``
    rather than a regex: a regex scans the 1 GB of such files ~4x slower."""
    parts = raw.split(token)
    out = [parts[0]]
    for part in parts[1:]:
        prev = out[-1]
        minus = prev.endswith(b"-")
        before = prev[-2:-1] if minus else prev[-1:]
        if (before and before[0] in _WORD) or (part[:1] and part[0] in _WORD):
            out += [token, part]
            continue
        if minus:
            out[-1] = prev[:-1]
        out += [b"null", part]
    return b"".join(out)


def _number(value: Any) -> float | None:
    """A finite float, or None (NaN, ±Infinity, overflow)."""
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _metrics(entry: Mapping[str, Any], prefix: str = "") -> dict[str, float | None]:
    """Numeric metrics of one entry, nested blocks flattened; other values (lists, text) dropped."""
    out: dict[str, float | None] = {}
    for key, value in entry.items():
        if isinstance(value, dict):
            out.update(_metrics(value, f"{prefix}{key}_"))
        elif _is_number(value):
            out[f"{prefix}{key}"] = _number(value)
    return out


def _main_score(value: Any, where: str) -> float | None:
    if value is None or _is_number(value):
        return None if value is None else _number(value)
    raise Unreadable(f"{where}: main_score is {brief(value, 60)}, not a number")


def _with_metrics(scores: dict[str, list[dict[str, Any]]], raw: Mapping[str, list[Any]]) -> dict[str, list[dict[str, Any]]]:
    """``scores`` with the languages and every metric of the entry when the file holds exactly
    one (a task of one split and subset: the drill-down shows them); a many-subset file keeps
    ``{hf_subset, main_score}`` per entry, which keeps an import of the whole repository (1.8 GB,
    mostly metrics of many subsets) small and fast."""
    if sum(len(entries) for entries in scores.values()) != 1:
        return scores
    split = next(s for s, entries in scores.items() if entries)
    entry, languages = raw[split][0], raw[split][0].get("languages")
    metrics = {k: v for k, v in _metrics(entry).items() if k != "main_score"}
    return {split: [{**metrics, **scores[split][0], "languages": [str(x) for x in languages or ()]}]}


def _entry(raw: Any, where: str, main_metric: str | None = None) -> dict[str, Any]:
    """One subset's ``hf_subset`` and ``main_score``: the entry's own, else (an old file, with
    ``main_metric``) the metric of that name, as mteb's converter reads it. Called ~1.5 million
    times by a full import."""
    if type(raw) is not dict:
        raise Unreadable(f"{where}: a {type(raw).__name__}, not an object of scores")
    subset = raw.get("hf_subset", "default")
    if type(subset) is not str or type(raw.get("languages", _NO_LANGUAGES)) is not list:
        raise Unreadable(f"{where}: hf_subset must be a string and languages a list")
    if main_metric is not None and "main_score" not in raw:  # an old file names its main score only sometimes
        main = _metrics(raw).get(main_metric)
    elif "main_score" not in raw:
        raise Unreadable(f"{where}: no main_score")
    else:
        value = raw["main_score"]
        main = value if type(value) is float and math.isfinite(value) else _main_score(value, where)
    return {"hf_subset": subset, "main_score": main}


def _current(raw: Mapping[str, Any]) -> Published:
    """The mteb >= 1.11 layout; Unreadable names the first field that does not fit."""
    task, scores = raw.get("task_name"), raw.get("scores")
    if not isinstance(task, str) or not task:
        raise Unreadable("task_name: missing or not a string")
    if not isinstance(scores, Mapping) or not all(isinstance(v, list) for v in scores.values()):
        raise Unreadable("scores: missing or not {split: [entries]}")
    version, revision, seconds = raw.get("mteb_version"), raw.get("dataset_revision"), raw.get("evaluation_time")
    if version is not None and not isinstance(version, str):
        raise Unreadable("mteb_version: not a string")
    if not isinstance(revision, str):
        raise Unreadable("dataset_revision: missing or not a string")
    if seconds is not None and not _is_number(seconds):
        raise Unreadable("evaluation_time: not a number")
    parsed = {split: [_entry(e, f"scores.{split}[{i}]") for i, e in enumerate(entries)] for split, entries in scores.items()}
    return Published(task, revision, version, None if seconds is None else _number(seconds), _with_metrics(parsed, scores), legacy=False)


def _legacy(raw: Mapping[str, Any], main_scores: Mapping[str, str], renamed: Mapping[str, str]) -> Published:
    """The mteb < 1.11 layout, converted as mteb converts it."""
    data = dict(raw)
    revision = data.pop("dataset_revision", LEGACY_REVISION)
    name = data.pop("mteb_dataset_name")
    version = data.pop("mteb_version", LEGACY_VERSION)
    if not isinstance(name, str) or not isinstance(version, str) or not (revision is None or isinstance(revision, str)):
        raise Unreadable("mteb_dataset_name and mteb_version must be strings, dataset_revision a string or null")
    name = renamed.get(name, name)
    if name not in main_scores:
        lowered = {known.lower(): known for known in main_scores}
        if name.lower() not in lowered:
            raise Unreadable(f"mteb < 1.11 result of task {brief(name, 80)}, which mteb does not know")
        name = lowered[name.lower()]
    seconds, splits = 0.0, {}
    for split, block in data.items():
        if not isinstance(block, Mapping):
            raise Unreadable(f"{split}: a {type(block).__name__}, not an object of scores")
        block = dict(block)
        elapsed = block.pop("evaluation_time", 0.0)
        seconds += (_number(elapsed) or 0.0) if _is_number(elapsed) else 0.0
        splits[split] = block
    if not any(isinstance(v, Mapping) for block in splits.values() for k, v in block.items() if k not in _NOT_SUBSETS):
        splits = {split: {"default": block} for split, block in splits.items()}
    for task, versions, old, new in _OLD_SUBSET_RENAMES:
        if name == task and (versions is None or version in versions) and old in splits.get("test", {}):
            splits["test"][new] = splits["test"].pop(old)
    converted: dict[str, list[dict[str, Any]]] = {}
    for split, subsets in splits.items():
        converted[split] = []
        for subset, block in subsets.items():
            if not isinstance(block, dict):
                raise Unreadable(f"{split}.{subset}: a {type(block).__name__}, not an object of scores")
            renamed_block = {k: v for k, v in block.items() if k not in _OLD_BLOCKS}
            for new_name, old_name in _NESTED_SIMILARITY:
                if isinstance(block.get(old_name), dict):
                    renamed_block.update({f"{new_name}_{k}": v for k, v in block[old_name].items()})
            converted[split].append({**renamed_block, "hf_subset": subset, "languages": []})
    scores = {split: [_entry(e, f"{split}.{e['hf_subset']}", main_scores[name]) for e in entries] for split, entries in converted.items()}
    return Published(name, revision, version, seconds, _with_metrics(scores, converted), legacy=True)


def read_published(path: Path, main_scores: Mapping[str, str], renamed: Mapping[str, str]) -> Published:
    """Parse one result file of either layout.

    Args:
        main_scores: mteb task name -> main score name (for the old layout).
        renamed: old task name -> current one (mteb's ``renamed_tasks``).

    Raises:
        Unreadable: one line saying why the file is not a published mteb result.
    """
    raw = load_json(path)
    if not isinstance(raw, dict):
        raise Unreadable(f"a JSON {type(raw).__name__}, not an mteb result object")
    if "harness" in raw:
        raise Unreadable("a harness result, not a published one")
    try:
        return _current(raw)
    except Unreadable:
        old = "mteb_version" not in raw or ((v := _min_version(raw["mteb_version"])) is not None and v < Version("1.11.0"))
        if not (old and "mteb_dataset_name" in raw):
            raise
    return _legacy(raw, main_scores, renamed)


def short_revision(revision: str | None) -> str:
    """A dataset revision as a task-name suffix (``--strict-revisions``): 12 safe characters."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", revision or "unknown")[:12]
