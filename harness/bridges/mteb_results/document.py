"""The store document of one imported result, and mteb's per-benchmark reading of it.

A published result is not built from a TaskSpec (``ResultDocument.build``): its task may be of a
type no evaluator here runs (bitext mining, ...), and its score is mteb's, over all the task's
subsets. Stored fields (the shape 20b's ranking reads; see docs/published-results.md):

* ``scores``: ``{first split: [one entry]}``: ``main_score`` is the mean of the finite main scores
  of every (split, subset) of the task's own eval splits (mteb's task-level score); the entry
  keeps the file's metrics when it has one (split, subset) only.
* ``harness.imported``: ``task`` (plain name), ``source``, ``scores`` (every split -> every
  subset's ``{hf_subset, main_score}``, None where undefined), ``dataset_revision``,
  ``spec_revision``, ``revision_match``, ``mteb_version``, ``model_revision``, ``join``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness import __version__
from harness.benchmarks import BenchmarkTask, task_facts
from harness.bridges.mteb_results.layout import (
    LEGACY_REVISION,
    Published,
    short_revision,
)
from harness.specs import TaskSpec
from harness.store import ResultDocument


class TaskFacts:
    """A task's type, main score, eval splits and reference dataset revision: from our spec when
    we have one (its revision is the one a mismatch is judged against), else from mteb's catalogue."""

    def __init__(self, specs: Mapping[str, TaskSpec]) -> None:
        self._specs = specs
        self._known: dict[str, dict[str, Any]] = {}

    def of(self, task: str) -> dict[str, Any]:
        if task not in self._known:
            self._known[task] = self._facts(task)
        return self._known[task]

    def _facts(self, task: str) -> dict[str, Any]:
        mteb = task_facts(task)
        spec = self._specs.get(task)
        revision = spec.data.revision if spec is not None and spec.data.revision else (mteb.dataset_revision if mteb else None)
        return {
            "name": task,
            "type": spec.type if spec is not None else ((mteb.harness_type or mteb.task_type.lower()) if mteb else "unknown"),
            "mteb_type": mteb.task_type if mteb else None,
            "main_score": mteb.main_score if mteb else (spec.main_score if spec is not None else "main_score"),
            "eval_splits": list(mteb.eval_splits) if mteb and mteb.eval_splits else ([spec.data.eval_split] if spec else []),
            "revision": revision if revision not in (None, "revision_not_applicable") else None,
            "suite": list(spec.suite) if spec is not None else [],
            "languages": list(spec.languages) if spec is not None else [],
        }


def _task_score(published: Published, splits: list[str]) -> tuple[str, list[dict[str, Any]], float | None]:
    """(split to file it under, the entries scored, mean finite main score or None)."""
    chosen = [s for s in splits if s in published.scores] or list(published.scores)
    entries = [e for s in chosen for e in published.scores[s]]
    values = [e["main_score"] for e in entries if e["main_score"] is not None]
    return (chosen[0] if chosen else "test"), entries, (sum(values) / len(values) if values else None)


def build_document(
    published: Published,
    task: Mapping[str, Any],
    model: Mapping[str, Any],
    source: Path,
    join: Mapping[str, Any],
    strict_revisions: bool,
) -> ResultDocument | None:
    """The stored document, or None when the task has no defined main score in the file."""
    split, entries, score = _task_score(published, task["eval_splits"])
    if score is None:
        return None
    spec_revision, revision = task["revision"], published.dataset_revision
    known = revision not in (None, LEGACY_REVISION)
    match = None if spec_revision is None or not known else revision == spec_revision
    stored_name = f"{task['name']}@{short_revision(published.dataset_revision)}" if strict_revisions and match is False else task["name"]
    single = entries[0] if len(entries) == 1 else {}
    entry = {
        **{k: v for k, v in single.items() if k not in ("main_score", "hf_subset", "languages")},
        "main_score": score,
        "hf_subset": single.get("hf_subset", "default"),
        "languages": single.get("languages", task["languages"]),
    }
    imported = {
        "task": task["name"],
        "source": str(source),
        "scores": {s: [{"hf_subset": e["hf_subset"], "main_score": e["main_score"]} for e in items] for s, items in published.scores.items()},
        "dataset_revision": published.dataset_revision,
        "spec_revision": spec_revision,
        "revision_match": match,
        "mteb_version": published.mteb_version,
        "model_revision": model["revision"],
        "join": dict(join),
    }
    block = {
        "model": dict(model),
        "task": {k: task[k] for k in ("name", "type", "mteb_type", "main_score", "suite", "languages")},
        "main_score_name": task["main_score"],
        "harness_version": __version__,
        "status": "imported",
        "imported": imported,
        "items_file": None,
        "items_sha256": None,
    }
    return ResultDocument({
        "dataset_revision": revision if known else "unknown",
        "task_name": stored_name,
        "mteb_version": published.mteb_version,
        "evaluation_time": published.evaluation_time,
        "kg_co2_emissions": None,
        "scores": {split: [entry]},
        "harness": block,
    })


def benchmark_rows(imported: Mapping[str, Any], task: BenchmarkTask) -> list[tuple[str, str, float | None]]:
    """mteb's ``validate_and_filter_scores`` of one imported result for one benchmark task.

    Args:
        imported: the stored ``harness.imported`` block.
        task: the benchmark's view of the task (``Benchmark.details[name]``).

    Returns:
        ``(split, subset, main score or None)`` for each of the task's eval splits and subsets
        (an aggregate task: its ``default`` subset), None where the file has no defined score.
    """
    scores = imported.get("scores") or {}
    subsets = ("default",) if task.is_aggregate else task.hf_subsets
    rows = []
    for split in task.eval_splits:
        have = {e["hf_subset"]: e["main_score"] for e in scores.get(split, [])}
        rows += [(split, subset, have.get(subset)) for subset in subsets]
    return rows
