"""Load a task's data: a registered builder, else the local copy, else the hub.

``load_task_data(spec, data_root)`` returns the TaskData dataclass of the spec's type. Which
formats a type reads, and which row loader builds it, is its descriptor's to say
(``harness/tasktypes/``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.data.beir import load_beir
from harness.data.files import find_split_file, read_rows
from harness.data.rows import RowSplits
from harness.data.types import RetrievalData, TaskData
from harness.errors import DataError, DataUnavailable
from harness.specs import TaskSpec
from harness.tasktypes import TaskTypeDescriptor, get_task_type

DATA_DIR_ENV = "HARNESS_DATA_DIR"


def default_data_root() -> Path | None:
    """The data root from ``HARNESS_DATA_DIR``, if set."""
    value = os.environ.get(DATA_DIR_ENV)
    return Path(value) if value else None


def resolve_local(spec: TaskSpec, data_root: Path | None) -> Path | None:
    """The local path of ``spec``'s data, or None if it has none or it is absent.

    A relative path must stay inside the data root, also after following symlinks.
    """
    local = spec.data.local
    if not local:
        return None
    path = Path(local).expanduser()
    if not path.is_absolute():
        if data_root is None:
            return None
        root = data_root.resolve()
        path = (root / path).resolve()
        if not path.is_relative_to(root):
            raise DataError(f"{spec.source_file}: data.local: {local!r} escapes the data root {data_root}")
    return path if path.exists() else None


def load_task_data(spec: TaskSpec, data_root: Path | None = None) -> TaskData:
    """Load the evaluation data of ``spec``.

    Raises:
        DataUnavailable: no builder, no local copy, and the hub cannot be reached.
        DataError: the data exists but is malformed (message names file and field/line).
    """
    if data_root is None:
        data_root = default_data_root()
    if spec.data.builder:
        from harness.data.builders import get_builder

        return get_builder(spec.data.builder)(dict(spec.data.builder_options), data_root)
    local = resolve_local(spec, data_root)
    if local is not None:
        return _load_local(spec, local)
    if spec.data.hf:
        return _load_hub(spec)
    where = f"under data root {data_root}" if data_root else "(no --data-dir / HARNESS_DATA_DIR set)"
    raise DataUnavailable(f"{spec.source_file}: data.local: {spec.data.local!r} not found {where}")


def _split_path(spec: TaskSpec, local: Path, split: str) -> Path:
    if local.is_file():
        if get_task_type(spec.type).train_split:
            raise DataError(f"{local}: {spec.type} needs a folder with {spec.data.train_split} and {spec.data.eval_split} files")
        return local
    return find_split_file(local, split)


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


def _load_local(spec: TaskSpec, local: Path) -> TaskData:
    task_type = get_task_type(spec.type)
    if task_type.corpus and local.is_dir() and (local / "corpus.jsonl").is_file():
        return load_beir(local, spec.data.eval_split)
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
    (read when ``candidates``)."""
    from harness.data.hub import load_hub_rows

    split = spec.data.eval_split
    prefix = f"{subset}-" if subset else ""
    corpus = {
        str(r.get("_id", r.get("id"))): (f"{r.get('title') or ''} {r['text']}").strip()
        for r in load_hub_rows(repo, revision, split, f"{prefix}corpus")
    }
    queries = {str(r.get("_id", r.get("id"))): r["text"] for r in load_hub_rows(repo, revision, split, f"{prefix}queries")}
    qrels: dict[str, dict[str, int]] = {}
    for r in load_hub_rows(repo, revision, split, subset or "default"):
        qrels.setdefault(str(r["query-id"]), {})[str(r["corpus-id"])] = int(r["score"])
    ranked = None
    if candidates:
        ranked = {
            str(r["query-id"]): [str(d) for d in r["corpus-ids"]] for r in load_hub_rows(repo, revision, split, f"{prefix}top_ranked")
        }
    return RetrievalData(corpus, {q: queries[q] for q in qrels if q in queries}, qrels, ranked)
