"""The results store: mteb-compatible JSON per (model, revision, task) plus per-item arrays.

Layout (mteb's)::

    results/<org>__<model>/<revision>/<Task>.json        # mteb TaskResult + a "harness" block
    results/<org>__<model>/<revision>/<Task>.items.npz   # per-item arrays, no pickle

The items file is written first and the JSON last, each atomically (temporary file in the same
folder, fsync, rename), under a lock on the results folder; the JSON records the items file's
SHA-256, so a result is complete exactly when its JSON validates and the items match it.

Reads trust nothing: only regular files are opened (never a FIFO or a device), each under a size
cap, a result JSON only where it resolves inside the results folder, and its items file only by a
plain name inside the result's own folder; every refusal is one :class:`StoreError` line.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import warnings
import zipfile
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from harness import __version__
from harness.errors import StoreError, brief, one_line
from harness.files import atomic_write_bytes, open_regular, read_regular

if TYPE_CHECKING:
    from harness.specs import TaskSpec

RESULT_FORMAT = "2.0.0"  # the mteb result format we write (mteb_version field); see module docstring
LOCK_NAME = ".harness.lock"
MAX_RESULT_BYTES = 64 * 2**20  # a result JSON read back (ours are kilobytes; mteb's largest published ones a few MB)
MAX_ITEMS_BYTES = 2 * 2**30  # an items file, and the arrays it unpacks to (a large retrieval run is tens of MB)
_CHUNK = 2**20


class _SplitScores(BaseModel):
    model_config = ConfigDict(extra="allow")
    main_score: float
    hf_subset: str
    languages: list[str]


class HarnessBlock(BaseModel):
    """Our additions to mteb's TaskResult (ignored by mteb)."""

    model_config = ConfigDict(extra="allow")
    model: dict[str, Any]
    task: dict[str, Any]
    main_score_name: str
    items_file: str | None
    items_sha256: str | None
    harness_version: str
    status: str = "run"  # "run" here, or "imported" (published score, no per-item data)
    imported: dict[str, Any] | None = None  # an import's source, revisions and join (bridges.mteb_results)

    @field_validator("items_file")
    @classmethod
    def _plain_name(cls, name: str | None) -> str | None:
        """The items file lives beside its JSON: a plain file name, never a path."""
        if name is not None and (name in ("", ".", "..") or len(name) > 255 or any(c in name for c in "/\\\0")):
            raise ValueError(f"items_file {brief(name)} must be a plain file name in the result's folder")
        return name


class ResultFile(BaseModel):
    """Schema checked on every read."""

    model_config = ConfigDict(extra="allow")
    dataset_revision: str
    task_name: str
    mteb_version: str | None
    evaluation_time: float | None
    scores: dict[str, list[_SplitScores]]
    harness: HarnessBlock


@dataclass
class StoredResult:
    """One result read back from the store."""

    path: Path
    data: ResultFile

    @property
    def model_name(self) -> str:
        return str(self.data.harness.model["name"])

    @property
    def revision(self) -> str:
        return str(self.data.harness.model["revision"])

    @property
    def task_name(self) -> str:
        return self.data.task_name

    def scores(self, split: str | None = None) -> dict[str, Any]:
        """All metrics of ``split`` (default: the first split) as a plain dict."""
        split = split or next(iter(self.data.scores))
        return self.data.scores[split][0].model_dump()

    @property
    def main_score(self) -> float:
        return float(self.scores()["main_score"])

    def items(self) -> dict[str, np.ndarray]:
        """Per-item arrays (keys ``<split>.<name>``); empty for imported results."""
        name = self.data.harness.items_file
        if not name:
            return {}
        try:
            with open_regular(self.path.parent / name, MAX_ITEMS_BYTES, within=self.path.parent) as handle, \
                    np.load(handle, allow_pickle=False) as archive:
                return {key: archive[key] for key in archive.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:  # changed since read_result checked it
            raise StoreError(f"{self.path}: its per-item file {name} cannot be read ({one_line(err)})") from None


@dataclass(frozen=True)
class ResultDocument:
    """One result as the store writes it: mteb's TaskResult fields, then our ``harness`` block.

    Own runs and imports build it the same way (:meth:`build`, as mteb's
    ``TaskResult.from_task_results``); ``fields`` is JSON-ready, in the stored key order.
    """

    fields: Mapping[str, Any]

    @classmethod
    def build(
        cls,
        spec: TaskSpec,
        *,
        model: Mapping[str, Any],
        metrics: Mapping[str, float],
        evaluation_time: float | None,
        details: Mapping[str, Any],
        status: Literal["run", "imported"] = "run",
        task_name: str | None = None,
        dataset_revision: str | None = None,
        mteb_version: str | None = RESULT_FORMAT,
        languages: list[str] | None = None,
        date: str | None = None,
        breakdown_by_length: Mapping[str, Any] | None = None,
    ) -> ResultDocument:
        """The document of ``spec``'s score on its eval split and subset.

        Args:
            spec: the task (its eval split, subset, main score and languages).
            model: the model's record (``ModelInfo.to_dict()`` and extras); needs name and revision.
            metrics: metric -> value; must hold ``spec.main_score``.
            evaluation_time: seconds the unit took (None: unknown).
            details: further ``harness`` keys, in order (a run's options, encode statistics and
                undefined metrics; an import's source).
            status: ``"run"`` (not written: the schema's default) or ``"imported"``.
            task_name: the stored task name (default ``spec.name``).
            dataset_revision: default: the spec's revision, ``builder:<name>`` or ``local``.
            mteb_version: the result format (a published file's own version for an import).
            languages: default: the spec's.
            date: ISO time of the run; None writes no date.
            breakdown_by_length: a retrieval run's scores by document length.
        """
        data = spec.data
        revision = dataset_revision or data.revision or (f"builder:{data.builder}" if data.builder else "local")
        scores = {
            **metrics,
            "main_score": metrics[spec.main_score],
            "hf_subset": data.hf_subset or "default",
            "languages": languages if languages is not None else list(spec.languages),
        }
        head = {
            "dataset_revision": revision,
            "task_name": task_name or spec.name,
            "mteb_version": mteb_version,
            "evaluation_time": evaluation_time,
            "kg_co2_emissions": None,
            **({"date": date} if date is not None else {}),
            "scores": {data.eval_split: [scores]},
        }
        block = {
            "model": dict(model),
            "task": spec.model_dump(mode="json"),
            "main_score_name": spec.main_score,
            "harness_version": __version__,
            **({"status": status} if status != "run" else {}),
            **details,
            "items_file": None,
            "items_sha256": None,
            **({"breakdown_by_length": breakdown_by_length} if breakdown_by_length is not None else {}),
        }
        return cls({**head, "harness": block})

    @property
    def task_name(self) -> str:
        return str(self.fields["task_name"])

    @property
    def harness(self) -> Mapping[str, Any]:
        """The ``harness`` block (model record, task spec, details)."""
        return self.fields["harness"]


def model_folder(name: str, revision: str) -> Path:
    """``<org>__<model>/<revision>`` (mteb's naming); unsafe characters replaced."""
    safe_name = name.replace("/", "__").replace("\\", "_")
    safe_revision = revision.replace("/", "_").replace("\\", "_") or "no_revision"
    if safe_name in ("", ".", "..") or safe_revision in (".", ".."):
        raise StoreError(f"model name {name!r} / revision {revision!r} cannot name a results folder")
    return Path(safe_name) / safe_revision


def result_path(results_dir: Path, model_name: str, revision: str, task_name: str) -> Path:
    return results_dir / model_folder(model_name, revision) / f"{task_name}.json"


def results_lock(results_dir: Path) -> Any:
    """An inter-process lock on ``results_dir`` (filelock; held only while a result is written)."""
    from filelock import FileLock

    try:
        results_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreError(f"{results_dir}: cannot create results folder ({err.strerror})") from None
    return FileLock(str(results_dir / LOCK_NAME))


def sweep_temp_files(results_dir: Path) -> int:
    """Remove temporary files left by a writer that was killed mid-write; returns how many.

    Writers hold the results lock while a temporary file exists, so under the lock every
    temporary file is an orphan.
    """
    if not results_dir.is_dir():
        return 0
    with results_lock(results_dir):
        orphans = [p for p in results_dir.glob("*/*/.*.tmp") if p.is_file()]
        for path in orphans:
            path.unlink(missing_ok=True)
    return len(orphans)


def _npz_bytes(items: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    for key, value in items.items():
        if np.asarray(value).dtype == object:
            raise StoreError(f"per-item array {key!r} has object dtype (not storable without pickle)")
    np.savez_compressed(buffer, **items)
    return buffer.getvalue()


def write_result(results_dir: Path, document: ResultDocument | Mapping[str, Any], items: Mapping[str, np.ndarray]) -> StoredResult:
    """Store one (model, task) result: items first, then the JSON naming their checksum.

    Args:
        document: a ResultDocument (or its fields: the mteb TaskResult fields plus ``harness``);
            not modified: the stored copy gets ``items_file`` and ``items_sha256``.
        items: per-item arrays, keys ``<split>.<name>``.

    Returns:
        The stored result, validated as every read validates it.
    """
    fields = document.fields if isinstance(document, ResultDocument) else document
    block = fields["harness"]
    task_name = fields["task_name"]
    path = result_path(results_dir, block["model"]["name"], block["model"]["revision"], task_name)
    payload = _npz_bytes(items) if items else b""
    items_file = f"{task_name}.items.npz" if items else None
    stored = {
        **fields,
        "harness": {**block, "items_file": items_file, "items_sha256": hashlib.sha256(payload).hexdigest() if items else None},
    }
    text = json.dumps(stored, indent=2, allow_nan=False).encode("utf-8")
    data = ResultFile.model_validate_json(text)  # never write what we would refuse to read
    with results_lock(results_dir):
        if items_file:
            atomic_write_bytes(path.with_name(items_file), payload)
        atomic_write_bytes(path, text)
    return StoredResult(path, data)


def _dumps(fields: Mapping[str, Any]) -> bytes:
    """Compact strict JSON; orjson where installed (~5x faster than json for an import's files)."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is optional
        return json.dumps(fields, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return orjson.dumps(fields)


def write_results(results_dir: Path, documents: Iterable[ResultDocument]) -> list[Path]:
    """Store many results without per-item data (an import of ~100,000) under one lock, each checked
    and replaced atomically as :func:`write_result` does, with one disk sync at the end; their paths."""
    paths = []
    with results_lock(results_dir):
        for document in documents:
            path = result_path(results_dir, document.harness["model"]["name"], document.harness["model"]["revision"], document.task_name)
            text = _dumps(document.fields)
            ResultFile.model_validate_json(text)  # never write what we would refuse to read
            atomic_write_bytes(path, text, sync=False)
            paths.append(path)
        if paths:
            os.sync()
    return paths


def _check_items(path: Path, name: str, expected_sha256: str | None) -> None:
    """The items file ``name`` beside ``path``: a regular file in that folder, matching its
    checksum, holding only ``.npy`` members of plain dtypes that unpack to at most
    :data:`MAX_ITEMS_BYTES` (their headers are read, not their data)."""
    try:
        with open_regular(path.parent / name, MAX_ITEMS_BYTES, within=path.parent) as handle:
            digest, size = hashlib.sha256(), 0
            while size <= MAX_ITEMS_BYTES and (chunk := handle.read(_CHUNK)):
                digest.update(chunk)
                size += len(chunk)
            matches = digest.hexdigest() == expected_sha256
            if matches:
                handle.seek(0)
                _check_npz(handle)
    except StoreError as err:
        raise StoreError(f"{path}: its per-item file {err}") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise StoreError(f"{path}: its per-item file {name} is not a readable .npz ({one_line(err)})") from None
    if not matches:
        raise StoreError(f"{path}: its per-item file {name} does not match (checksum)")


def _check_npz(handle: BinaryIO) -> None:
    """ValueError unless every member is a ``.npy`` array without objects; unpacked size capped."""
    headers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    unpacked = 0
    with zipfile.ZipFile(handle) as archive:
        for member in archive.infolist():
            if not member.filename.endswith(".npy"):
                raise ValueError(f"member {brief(member.filename)} is not a .npy array")
            with archive.open(member) as stream:
                version = np.lib.format.read_magic(stream)
                if version not in headers:
                    raise ValueError(f"member {brief(member.filename)}: unsupported .npy version {version}")
                shape, _, dtype = headers[version](stream)
            if dtype.hasobject:
                raise ValueError(f"member {brief(member.filename)} holds objects (not readable without pickle)")
            unpacked += math.prod(shape) * dtype.itemsize
    if unpacked > MAX_ITEMS_BYTES:
        raise ValueError(f"its arrays unpack to {unpacked} bytes, over the {MAX_ITEMS_BYTES}-byte limit")


def read_result(path: Path, *, check_items: bool = True, within: Path | None = None) -> StoredResult:
    """Read and validate one result JSON (and its items file).

    Args:
        within: the results folder the JSON must resolve into (default: its own folder).
    """
    payload = read_regular(path, MAX_RESULT_BYTES, within=within or path.parent)
    try:
        data = ResultFile.model_validate_json(payload)
    except (ValidationError, ValueError) as err:
        reason = err.errors()[0]["msg"] if isinstance(err, ValidationError) else one_line(err)
        raise StoreError(f"{path}: not a valid result file ({reason})") from None
    name = data.harness.items_file
    if check_items and name:
        _check_items(path, name, data.harness.items_sha256)
    return StoredResult(path, data)


def find_result(results_dir: Path, model_name: str, revision: str, task_name: str) -> StoredResult | None:
    """The complete stored result for this unit, or None (missing, incomplete or unreadable)."""
    path = result_path(results_dir, model_name, revision, task_name)
    if not path.is_file():
        return None
    try:
        return read_result(path, within=results_dir)
    except StoreError:
        return None


def iter_results(results_dir: Path, tasks: Collection[str] | None = None) -> Iterator[StoredResult]:
    """Every valid result under ``results_dir``; each invalid file gives one warning and is skipped.

    ``tasks``: read only the files named after one of these tasks (``<Task>.json`` or, for a result
    stored per dataset revision, ``<Task>@<revision>.json``): a large store is read in part.
    """
    for path in sorted(Path(results_dir).glob("*/*/*.json")):
        if path.name == "model_meta.json" or (tasks is not None and path.stem.partition("@")[0] not in tasks):
            continue
        try:
            yield read_result(path, within=Path(results_dir))
        except StoreError as err:
            warnings.warn(str(err), stacklevel=2)
