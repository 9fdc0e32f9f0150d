"""Load a task's data: a registered builder, else the local copy, else the hub.

``load_task_data(spec, data_root)`` returns the TaskData dataclass of the spec's type. Which
formats a type reads, and which row loader builds it, is its descriptor's to say
(``harness/tasktypes/``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.data.beir import load_beir
from harness.data.builders.base import OPTIONS_FIELD
from harness.data.files import find_split_file, read_rows
from harness.data.rows import RowSplits
from harness.data.types import RetrievalData, TaskData
from harness.errors import DataError, DataUnavailable
from harness.paths import confined, found, regular_file
from harness.specs import TaskSpec
from harness.tasktypes import TaskTypeDescriptor, get_task_type

DATA_DIR_ENV = "HARNESS_DATA_DIR"


def default_data_root() -> Path | None:
    """The data root from ``HARNESS_DATA_DIR``, if set."""
    value = os.environ.get(DATA_DIR_ENV)
    return Path(value) if value else None


@dataclass(frozen=True)
class LocalData:
    """A spec's local copy, and where the files its fields name lie (``harness.paths``).

    Attributes:
        path: the file or folder ``data.local`` names, normalised lexically.
        root: the data root the spec's paths stay under.
        local: ``data.local`` as given (``~`` expanded).
        source: the spec file, for messages.
        allow_absolute: the user's ``--allow-absolute-paths``.
    """

    path: Path
    root: Path
    local: str
    source: str
    allow_absolute: bool

    def inside(self, name: str, field: str) -> Path:
        """The path of ``name`` (derived from spec field ``field``, e.g. a split) in the local folder,
        confined to the data root like ``data.local`` itself."""
        if os.path.normpath(name or os.curdir) == os.curdir:
            raise DataError(f"{self.source}: {field}: {name!r} names no file")
        return confined(self.root, os.path.join(self.local, name), field, self.source, self.allow_absolute)


def resolve_local(spec: TaskSpec, data_root: Path | None, *, allow_absolute: bool = False) -> LocalData | None:
    """``spec``'s local copy, or None if it has none or nothing is there.

    ``data.local`` must stay under the data root, lexically (``..`` and absolute paths are refused
    unless ``allow_absolute``); symlinks inside the root are followed.

    Raises:
        DataError: the path leaves the data root, or is a symlink loop or a dangling link.
    """
    local = spec.data.local
    if not local:
        return None
    local = os.path.expanduser(local)
    if data_root is None and not os.path.isabs(local):
        return None  # a relative path names nothing without a data root
    root = data_root if data_root is not None else Path(os.curdir)
    source = spec.source_file or "<python>"
    path = confined(root, local, "data.local", source, allow_absolute)
    return LocalData(path, root, local, source, allow_absolute) if found(path, "data.local") else None


def load_task_data(spec: TaskSpec, data_root: Path | None = None, *, allow_absolute: bool = False) -> TaskData:
    """Load the evaluation data of ``spec``; ``allow_absolute`` lets its ``data.local`` and split
    names leave the data root (``--allow-absolute-paths``).

    Raises:
        DataUnavailable: no builder, no local copy, and the hub cannot be reached.
        DataError: the data exists but is malformed (message names file and field/line).
    """
    if data_root is None:
        data_root = default_data_root()
    if spec.data.builder:
        from harness.data.builders import get_builder

        try:
            return get_builder(spec.data.builder)(dict(spec.data.builder_options), data_root)
        except DataError as err:  # an option's message names the field; add the spec file
            if str(err).startswith(OPTIONS_FIELD):
                raise type(err)(f"{spec.source_file}: {err}") from None
            raise
    local = resolve_local(spec, data_root, allow_absolute=allow_absolute)
    if local is not None:
        return _load_local(spec, local)
    if spec.data.hf:
        return _load_hub(spec)
    where = f"under data root {data_root}" if data_root else "(no --data-dir / HARNESS_DATA_DIR set)"
    raise DataUnavailable(f"{spec.source_file}: data.local: {spec.data.local!r} not found {where}")


def _split_path(spec: TaskSpec, local: LocalData, split: str) -> Path:
    if not local.path.is_dir():
        if get_task_type(spec.type).train_split:
            raise DataError(f"{local.path}: {spec.type} needs a folder with {spec.data.train_split} and {spec.data.eval_split} files")
        return regular_file(local.path, "data.local")
    field = "data.eval_split" if split == spec.data.eval_split else "data.train_split"
    base = local.inside(split, field)
    return find_split_file(base.parent, base.name, field)


def _from_rows(spec: TaskSpec, split_rows: dict[str, list[dict[str, Any]]], paths: dict[str, Path]) -> TaskData:
    """Build the type's dataclass from rows of the eval (and, where the type fits on one, train) split."""
    task_type, split, train = get_task_type(spec.type), spec.data.eval_split, spec.data.train_split
    if task_type.row_loader is None:
        raise DataError(f"{paths[split]}: {spec.type} data must be a folder in the BEIR layout (corpus.jsonl, queries.jsonl, qrels/)")
    return task_type.row_loader(
        RowSplits(
            split_rows[split],
            paths[split],
            split,
            spec.column_map,
            frozenset(spec.columns),
            (split_rows[train], paths[train]) if task_type.train_split else None,
        )
    )


def _needed_splits(spec: TaskSpec, task_type: TaskTypeDescriptor) -> list[str]:
    return [spec.data.train_split, spec.data.eval_split] if task_type.train_split else [spec.data.eval_split]


def _load_local(spec: TaskSpec, local: LocalData) -> TaskData:
    task_type = get_task_type(spec.type)
    if task_type.corpus and local.path.is_dir() and found(local.path / "corpus.jsonl", "data.local"):
        return load_beir(local.path, spec.data.eval_split, locate=lambda name: local.inside(name, "data.eval_split"))
    paths = {s: _split_path(spec, local, s) for s in _needed_splits(spec, task_type)}
    return _from_rows(spec, {s: read_rows(p) for s, p in paths.items()}, paths)


def _load_hub(spec: TaskSpec) -> TaskData:
    from harness.data.hub import load_hub_rows

    repo, revision, subset = spec.data.hf, spec.data.revision, spec.data.hf_subset
    assert repo and revision  # guaranteed by DataSpec validation
    task_type = get_task_type(spec.type)
    if task_type.corpus:
        return _hub_retrieval(spec, repo, revision, subset, candidates=task_type.hub_candidates)
    split_rows = {s: load_hub_rows(repo, revision, s, subset) for s in _needed_splits(spec, task_type)}
    return _from_rows(spec, split_rows, {s: Path(f"hf://{repo}/{s}") for s in split_rows})


def _hub_retrieval(spec: TaskSpec, repo: str, revision: str, subset: str | None, *, candidates: bool) -> RetrievalData:
    """mteb's hub layout: configs ``corpus``, ``queries``, ``default`` (qrels), and ``top_ranked``
    (read when ``candidates``), each row checked as its BEIR file is (``beir.py``)."""
    from harness.data import beir
    from harness.data.hub import load_hub_rows

    split = spec.data.eval_split
    prefix = f"{subset}-" if subset else ""

    def rows(config: str) -> tuple[list[dict[str, Any]], Path]:
        return load_hub_rows(repo, revision, split, config), Path(f"hf://{repo}/{config}/{split}")

    corpus = beir.documents(*rows(f"{prefix}corpus"), queries=False)
    queries = beir.documents(*rows(f"{prefix}queries"), queries=True)
    judged, path = rows(subset or "default")
    qrels = beir.judgements(enumerate(judged, start=1), path)
    ranked = beir.candidates(*rows(f"{prefix}top_ranked")) if candidates else None
    return RetrievalData(corpus, {q: queries[q] for q in qrels if q in queries}, qrels, ranked)
