"""Regenerate ``catalogue.json`` from the installed mteb: ``python -m harness.benchmarks.refresh``.

The catalogue is data, shipped with the harness, so that an install without mteb still knows every
benchmark's tasks, their types and main scores, and the facts the import needs (each task's eval
splits and subsets as the benchmark filters them, mteb's registered model revisions for
``join_revisions``, every task's type and main score for reading pre-1.11 result files). Shape (``format`` 1)::

    {"format": 1, "mteb_version": "2.26.24",
     "tasks": {TASK: {"type", "harness_type", "main_score", "dataset_revision", "is_public",
                      "is_aggregate", and for a task of some benchmark "eval_splits", "hf_subsets"}},
     "renamed_tasks": {OLD NAME: NAME},
     "benchmarks": [{"name", "aliases", "display_name", "description", "reference", "language_view",
                     "aggregations", "superseded_by",
                     "tasks": {TASK: {"eval_splits": [...] | null, "hf_subsets": [...] | null}}}],

A benchmark's ``eval_splits`` / ``hf_subsets`` are null where it keeps the task's own (most do;
this keeps the multilingual subset lists to one copy).
     "model_revisions": {MODEL: REVISION}}
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.benchmarks import CATALOGUE_FORMAT, CATALOGUE_PATH
from harness.files import atomic_write_bytes


def _harness_types() -> dict[str, str]:
    """mteb's task type -> ours, where one of our task types scores it."""
    from harness.tasktypes import get_task_type, task_type_names

    return {d.mteb.type: d.name for d in map(get_task_type, task_type_names()) if d.mteb is not None}


def _task_facts(task: Any, ours: dict[str, str], in_benchmark: bool) -> dict[str, Any]:
    """A task's own facts; its unfiltered splits and subsets only where a benchmark holds it."""
    meta = task.metadata
    facts = {
        "type": meta.type,
        "harness_type": ours.get(meta.type),
        "main_score": meta.main_score,
        "dataset_revision": (meta.dataset or {}).get("revision"),
        "is_public": meta.is_public is not False,
        "is_aggregate": bool(task.is_aggregate),
    }
    if in_benchmark:
        facts.update(eval_splits=list(meta.eval_splits), hf_subsets=list(meta.hf_subsets))
    return facts


def _benchmark(bench: Any, tasks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A benchmark's display fields and its tasks' splits and subsets where it narrows them."""
    view = bench.language_view
    return {
        "name": bench.name,
        "aliases": list(bench.aliases or ()),
        "display_name": bench.display_name,
        "description": bench.description,
        "reference": bench.reference,
        "language_view": view if isinstance(view, str) else list(view),
        "aggregations": [getattr(a, "value", None) or type(a).__name__ for a in bench.aggregations],
        "superseded_by": list(bench.superseded_by or ()) or None,
        "tasks": {
            task.metadata.name: {
                key: None if list(getattr(task, key)) == tasks[task.metadata.name][key] else list(getattr(task, key))
                for key in ("eval_splits", "hf_subsets")
            }
            for task in bench.tasks
        },
    }


def build() -> dict[str, Any]:
    """The catalogue of the installed mteb (imports mteb: seconds)."""
    import mteb
    from mteb.results.task_result import outdated_tasks, renamed_tasks

    logging.getLogger("mteb").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = _harness_types()
        benchmarks = sorted(mteb.get_benchmarks(), key=lambda b: b.name)
        in_benchmarks = {t.metadata.name for b in benchmarks for t in b.tasks}
        every = [*mteb.get_tasks(exclude_superseded=False, exclude_private=False, exclude_beta=False), *outdated_tasks.values()]
        tasks = {t.metadata.name: _task_facts(t, ours, t.metadata.name in in_benchmarks) for t in every}
        listed = [_benchmark(b, tasks) for b in benchmarks]
        revisions = {m.name: m.revision for m in mteb.get_model_metas() if m.name is not None}
    return {
        "format": CATALOGUE_FORMAT,
        "mteb_version": metadata.version("mteb"),
        "tasks": dict(sorted(tasks.items())),
        "renamed_tasks": dict(renamed_tasks),
        "benchmarks": listed,
        "model_revisions": dict(sorted(revisions.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.benchmarks.refresh", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CATALOGUE_PATH, help=f"where to write (default: {CATALOGUE_PATH})")
    args = parser.parse_args(argv)
    try:
        catalogue = build()
    except ImportError:
        print("error: refreshing the catalogue needs the mteb package (pip install mteb)", file=sys.stderr)
        return 2
    atomic_write_bytes(args.out, (json.dumps(catalogue, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8"))
    print(f"{args.out}: {len(catalogue['benchmarks'])} benchmarks, {len(catalogue['tasks'])} tasks, mteb {catalogue['mteb_version']}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
