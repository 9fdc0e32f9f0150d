"""One mteb benchmark's view of the store (``report --benchmark NAME``): its tasks, its types and
each (model, task) score exactly as mteb's leaderboard computes it.

mteb's summary table (``mteb/benchmarks/_create_table.py``) scores a (model, task) as the mean of
the scored (split, subset) rows the benchmark keeps (NaN counts as no score), and nulls it when
the model has fewer scored rows than ``n distinct scored subsets x n distinct scored splits`` of
the task over every model ("incomplete"); the Borda count still ranks the task on that mean.
Imported results carry every published row (``harness.imported.scores``, narrowed by
``harness.bridges.mteb_results.benchmark_rows``); a result run here has one row per split entry.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.store import StoredResult, iter_results

if TYPE_CHECKING:
    from harness.benchmarks import Benchmark

Rows = list[tuple[str, str, float | None]]


@dataclass
class CellScore:
    """A (model, task) score for the means (None: undefined) and the one the Borda count ranks."""

    score: float | None
    borda: float | None


def fold_revisions(results: Sequence[StoredResult]) -> list[StoredResult]:
    """Imported ``X@<revision>`` results back under task ``X`` (one column per task, as mteb's
    leaderboard; the drill-down still flags the mismatch). Changes the results in place."""
    for result in results:
        imported = result.data.harness.imported if result.data.harness.status == "imported" else None
        task = (imported or {}).get("task")
        if task and task != result.task_name:
            result.data.task_name = str(task)
    return list(results)


def _rows(result: StoredResult, details: Any) -> Rows:
    imported = result.data.harness.imported if result.data.harness.status == "imported" else None
    if imported and imported.get("scores"):
        from harness.bridges.mteb_results import benchmark_rows

        return benchmark_rows(imported, details)
    return [(split, entry.hf_subset, entry.main_score) for split, entries in result.data.scores.items()
            for entry in entries]


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def cell_scores(results: Sequence[StoredResult], benchmark: Any) -> dict[tuple[str, str], CellScore]:
    """(model, task) -> :class:`CellScore` for every result of a benchmark task (module docstring).

    Args:
        results: one result per (model, task), tasks already folded and of the benchmark.
        benchmark: ``harness.benchmarks.get_benchmark(name)``.
    """
    scored: dict[tuple[str, str], list[tuple[str, str, float]]] = {}
    for result in results:
        rows = _rows(result, benchmark.details[result.task_name])
        scored[(result.model_name, result.task_name)] = [(split, subset, float(value)) for split, subset, value in rows
                                                         if _finite(value)]
    subsets: dict[str, set[str]] = {}
    splits: dict[str, set[str]] = {}
    for (_, task), values in scored.items():
        subsets.setdefault(task, set()).update(subset for _, subset, _ in values)
        splits.setdefault(task, set()).update(split for split, _, _ in values)
    required = {task: len(subsets[task]) * len(splits[task]) for task in subsets}
    out = {}
    for (model, task), values in scored.items():
        mean = sum(v for _, _, v in values) / len(values) if values else None
        complete = len({(split, subset) for split, subset, _ in values}) >= required[task]
        out[(model, task)] = CellScore(mean if values and complete else None, mean)
    return out


def render_benchmark(results_dir: Path, out: Path, benchmark: Benchmark, strict_revisions: bool) -> Path:
    """The page of one mteb benchmark in ``out``, its table computed as mteb's leaderboard
    computes it; returns its index.html."""
    from harness.leaderboard.render import render_report  # render imports this module

    if strict_revisions:  # never a mean over fewer tasks: the benchmark's table has one column per task
        warnings.warn(f"--strict-revisions: the {benchmark.name} table keeps one column per task, as mteb's leaderboard; "
                      "results on another dataset revision are marked in each task's drill-down", stacklevel=2)
    results = fold_revisions(list(iter_results(results_dir, set(benchmark.tasks))))
    if not results:  # an empty table, as mteb's ("No results"), not an error
        warnings.warn(f"--results {results_dir}: holds no result of a task of benchmark {benchmark.name} "
                      "(import-results PATH imports the published ones)", stacklevel=2)
    return render_report(results, out, title=f"Leaderboard — {benchmark.name}", benchmark=benchmark)
