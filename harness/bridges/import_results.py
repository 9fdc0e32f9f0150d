"""Published mteb results into the store as *imported* results (``import-results PATH``).

PATH is a clone of mteb's results repository or any folder of mteb ``TaskResult`` JSON files
(FinMTEB's are the same format), laid out as mteb writes them:
``<org>__<model>/<revision>/<Task>.json``, with an optional ``model_meta.json`` beside them that
names the model and its revision (otherwise the two folder names do).

What enters the store, per (published model, task):

* Model name ``"<published name> (published)"``: its own leaderboard row, never merged with a
  model run here (the statistics refuse two results of one model on one task, and a leaderboard
  row holds one score per task). ``harness.model.published_name`` keeps the original name.
* ``harness.status = "imported"`` and no per-item data: no confidence interval, and the
  statistics leave it out of significance tests with a note (``harness.stats.comparison``).
* The task is matched by name against our specs (built-in and ``task_dirs``), then the supported
  tasks of the installed mteb; the score is the entry of the spec's eval split and subset
  (``hf_subset`` or ``default``), and it must hold the spec's main-score metric. Only numeric
  metrics are kept (nested dicts of mteb < 1.12.48 flattened as ``max_ap``).
* Dataset revision: equal to the spec's -> task name ``T``. Different or missing ->
  ``T@<revision[:12]>``, its own leaderboard column, so a score on other data is never averaged
  or ranked with ``T``; ``harness.imported`` records both revisions either way. A spec without a
  revision (local or built data) cannot be checked: ``T``, with ``revision_match = null``.
* One result per (model, stored task): when several revision folders of a model hold the same
  task, the file of the newest mteb version wins, and it replaces an earlier import of that task
  under another revision folder.

Every file that is not a readable result (bad JSON, foreign JSON, a harness result) gives one
warning and the rest imports; files of tasks unknown here are counted, not warned about (a
results clone holds thousands).
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.errors import SpecError, StoreError, one_line
from harness.files import read_regular
from harness.specs import TaskSpec
from harness.store import MAX_RESULT_BYTES, ResultDocument, model_folder, read_result, write_result

PUBLISHED_SUFFIX = " (published)"
_META_FILE = "model_meta.json"
_UNKNOWN_TASK = "task unknown here or not asked for"


class _Published(BaseModel):
    """The fields of an mteb TaskResult (mteb >= 1.11, FinMTEB) that the import reads."""

    model_config = ConfigDict(extra="allow")
    task_name: str
    dataset_revision: str | None = None
    mteb_version: str | None = None
    scores: dict[str, list[dict[str, Any]]]
    evaluation_time: float | None = None


@dataclass
class ImportSummary:
    """What an import did: files written, revision mismatches, and counts of what it left out."""

    written: list[Path] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def line(self) -> str:
        parts = [f"{len(self.written)} imported"]
        if self.mismatched:
            parts.append(f"{len(self.mismatched)} of them on another dataset revision (stored as TASK@REVISION)")
        parts += [f"{n} skipped: {reason}" for reason, n in sorted(self.skipped.items())]
        return "; ".join(parts)


@dataclass
class _Candidate:
    document: ResultDocument
    mteb_version: tuple[int, ...]


# ---------------------------------------------------------------- reading one file


def _load_json(path: Path) -> Any:
    """A regular file of at most MAX_RESULT_BYTES, parsed; ValueError (one line) otherwise."""
    try:
        return json.loads(read_regular(path, MAX_RESULT_BYTES).decode("utf-8"))
    except StoreError as err:
        raise ValueError(str(err).removeprefix(f"{path}: ")) from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ValueError(f"not readable JSON ({one_line(err)})") from None


def _read(path: Path) -> _Published:
    """Parse one result file; ValueError (one line) when it is not a published mteb result."""
    raw = _load_json(path)
    if not isinstance(raw, dict):
        raise ValueError(f"a JSON {type(raw).__name__}, not an mteb TaskResult object")
    if "harness" in raw:
        raise ValueError("a harness result, not a published one")
    if "mteb_dataset_name" in raw:
        raw = _convert_legacy(path)
    try:
        return _Published.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        raise ValueError(f"not an mteb TaskResult ({'.'.join(map(str, first['loc']))}: {first['msg']})") from None


def _convert_legacy(path: Path) -> dict[str, Any]:
    """A pre-1.11 mteb result through mteb's own converter (it knows the old metric names)."""
    try:
        from mteb import TaskResult
    except ImportError:
        raise ValueError("mteb < 1.11 result format; converting it needs the mteb package") from None
    try:
        return TaskResult.from_disk(path).model_dump(mode="json")
    except Exception as err:  # noqa: BLE001 - mteb raises many types for files it cannot convert
        raise ValueError(f"mteb < 1.11 result format that mteb cannot convert ({str(err).splitlines()[0][:120]})") from None


def _version_key(version: str | None) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version or "")[:4])


def _model_of(path: Path) -> dict[str, Any]:
    """Name, revision and facts of the model a result file belongs to."""
    meta: dict[str, Any] = {}
    meta_path = path.parent / _META_FILE
    if meta_path.exists():
        try:
            loaded = _load_json(meta_path)
            meta = loaded if isinstance(loaded, dict) else {}
        except ValueError as err:
            warnings.warn(f"{meta_path}: {err}; the model is named after its folders", stacklevel=3)
    name = meta.get("name") or path.parent.parent.name.replace("__", "/", 1)
    embed_dim = meta.get("embed_dim")
    return {
        "name": str(name) + PUBLISHED_SUFFIX,
        "revision": str(meta.get("revision") or path.parent.name),
        "similarity": meta.get("similarity_fn_name") or "cosine",
        "n_parameters": meta.get("n_parameters"),
        "embedding_dim": embed_dim if isinstance(embed_dim, int) else None,
        "max_tokens": meta.get("max_tokens"),
        "settings": {},
        "published_name": str(name),
    }


def _numbers(entry: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Finite numeric metrics of a score entry, nested dicts flattened (``max: {ap}`` -> ``max_ap``)."""
    out: dict[str, float] = {}
    for key, value in entry.items():
        if isinstance(value, dict):
            out.update(_numbers(value, f"{prefix}{key}_"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[f"{prefix}{key}"] = float(value)
    return out


# ---------------------------------------------------------------- one file -> one store document


def _stored_task_name(spec: TaskSpec, published_revision: str | None) -> tuple[str, bool | None]:
    """(task name in the store, revision match: None when the spec has no revision to check)."""
    if spec.data.revision is None:
        return spec.name, None
    if published_revision == spec.data.revision:
        return spec.name, True
    short = re.sub(r"[^A-Za-z0-9_.-]", "_", published_revision or "unknown")[:12]
    return f"{spec.name}@{short}", False


def _document(path: Path, published: _Published, spec: TaskSpec) -> ResultDocument:
    """The store document of one published score; ValueError names what is missing."""
    split = spec.data.eval_split
    subset = spec.data.hf_subset or "default"
    entries = [e for e in published.scores.get(split, []) if e.get("hf_subset") == subset]
    if not entries:
        raise ValueError(f"no score for split {split!r}, subset {subset!r}")
    metrics = _numbers(entries[0])
    if spec.main_score not in metrics:
        raise ValueError(f"no {spec.main_score} (the spec's main score) among the published scores")
    stored_name, match = _stored_task_name(spec, published.dataset_revision)
    languages = entries[0].get("languages")
    imported = {
        "source": str(path),
        "task": spec.name,
        "dataset_revision": published.dataset_revision,
        "spec_revision": spec.data.revision,
        "revision_match": match,
        "mteb_version": published.mteb_version,
    }
    return ResultDocument.build(
        spec,
        model=_model_of(path),
        metrics=metrics,
        evaluation_time=published.evaluation_time,
        details={"imported": imported},
        status="imported",
        task_name=stored_name,
        dataset_revision=published.dataset_revision or "unknown",
        mteb_version=published.mteb_version,
        languages=languages if isinstance(languages, list) else None,
    )


# ---------------------------------------------------------------- the import


class _References:
    """Specs to match published task names against: ours first, then supported mteb tasks."""

    def __init__(self, task_dirs: Sequence[str | Path]) -> None:
        from harness.registry import discover_specs

        self.ours = discover_specs(task_dirs)
        self._mteb: dict[str, TaskSpec | None] = {}

    def names(self) -> set[str]:
        """Every task name a published file may carry to be imported."""
        try:
            from harness.bridges.mteb_tasks import catalog

            supported = {name for name, entry in catalog().items() if "fields" in entry}
        except SpecError:  # mteb not installed: our specs only
            supported = set()
        return set(self.ours) | supported

    def get(self, name: str) -> TaskSpec | None:
        if name in self.ours:
            return self.ours[name]
        if name not in self._mteb:
            from harness.bridges.mteb_tasks import mteb_spec

            try:
                self._mteb[name] = mteb_spec(name)
            except SpecError:
                self._mteb[name] = None
        return self._mteb[name]


def _result_files(source: Path, known: set[str], tasks: Iterable[str] | None) -> tuple[list[Path], int]:
    """(result files named after a wanted known task, how many other task files there are)."""
    wanted = known if tasks is None else known & set(tasks)
    files = [p for p in source.rglob("*.json") if p.name != _META_FILE]
    matching = sorted(p for p in files if p.stem in wanted)
    return matching, len(files) - len(matching)


def _replace_other_revisions(results_dir: Path, document: ResultDocument) -> None:
    """Remove earlier imports of this model and stored task under other revision folders."""
    model = document.harness["model"]
    keep = results_dir / model_folder(model["name"], model["revision"])
    for path in keep.parent.glob(f"*/{document.task_name}.json"):
        if path.parent == keep:
            continue
        try:
            earlier = read_result(path, check_items=False)
        except StoreError:
            continue
        if earlier.data.harness.status == "imported":
            path.unlink()


def _choose(files: list[Path], references: _References, models: set[str] | None, summary: ImportSummary) -> list[ResultDocument]:
    """The store document of each (model, stored task), newest mteb version first; counts the rest."""
    chosen: dict[tuple[str, str], _Candidate] = {}
    for path in files:
        try:
            published = _read(path)
        except ValueError as err:
            warnings.warn(f"{path}: {err}; skipped", stacklevel=3)
            continue
        spec = references.get(published.task_name)
        if spec is None:
            summary.skip(_UNKNOWN_TASK)
            continue
        try:
            document = _document(path, published, spec)
        except ValueError as err:
            summary.skip(str(err))
            continue
        model = document.harness["model"]
        if models is not None and model["published_name"] not in models:
            summary.skip("model not asked for")
            continue
        key = (model["name"], document.task_name)
        candidate = _Candidate(document, _version_key(published.mteb_version))
        if key in chosen:
            summary.skip("an older duplicate (same model and task in another revision folder)")
            if candidate.mteb_version <= chosen[key].mteb_version:
                continue
        chosen[key] = candidate
    return [c.document for c in chosen.values()]


def import_results(
    source: str | Path,
    results_dir: str | Path,
    *,
    task_dirs: Sequence[str | Path] = (),
    tasks: Iterable[str] | None = None,
    models: Iterable[str] | None = None,
) -> ImportSummary:
    """Import every published score under ``source`` that matches a task known here.

    Args:
        source: a results-repository clone or a folder of mteb TaskResult JSON files.
        results_dir: our store.
        task_dirs: extra spec folders to match task names against.
        tasks, models: import only these task names / published model names.

    Returns:
        An :class:`ImportSummary`.
    """
    source, results_dir = Path(source), Path(results_dir)
    if not source.is_dir():
        raise SpecError(f"import-results: {source} is not a folder")
    references = _References(task_dirs)
    summary = ImportSummary()
    files, others = _result_files(source, references.names(), tasks)
    if others:
        summary.skipped[_UNKNOWN_TASK] = others
    for document in _choose(files, references, set(models) if models is not None else None, summary):
        imported = document.harness["imported"]
        if imported["revision_match"] is False:
            summary.mismatched.append(
                f"{document.harness['model']['published_name']} × {imported['task']}: published on dataset revision "
                f"{imported['dataset_revision']}, our spec pins {imported['spec_revision']}"
            )
        _replace_other_revisions(results_dir, document)
        summary.written.append(write_result(results_dir, document, {}).path)
    return summary
