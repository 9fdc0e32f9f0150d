"""The one entry point: :func:`compare` a set of stored results, within and across tasks."""

from __future__ import annotations

import difflib
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from harness.stats import across, within
from harness.stats.items import UnpairedItems, UnsupportedScore, task_statistic
from harness.stats.tables import INTERVAL_COLUMNS, PAIR_COLUMNS, SUMMARY_COLUMNS, Comparison, StatsError
from harness.store import StoredResult

SCORE_TOLERANCE = 1e-6  # the items must reproduce the stored main score this closely


@dataclass(frozen=True)
class _Options:
    n_resamples: int
    seed: int
    alpha: float
    against: str


def _select(results: list[StoredResult], names: Sequence[str] | None, what: str,
            key: Callable[[StoredResult], str]) -> list[StoredResult]:
    """The results whose ``key`` is in ``names`` (all when None); unknown names are an error."""
    if names is None:
        return results
    known = sorted({key(r) for r in results})
    unknown = [n for n in names if n not in known]
    if unknown:
        hints = [f"{n} (did you mean {', '.join(close)}?)" if (close := difflib.get_close_matches(n, known, 3)) else n
                 for n in unknown]
        raise StatsError(f"unknown {what}: {'; '.join(hints)}; the results have {', '.join(known) or 'none'}")
    return [r for r in results if key(r) in set(names)]


def _by_task(results: list[StoredResult]) -> dict[str, dict[str, StoredResult]]:
    """task -> model -> result, both sorted; two results for one (model, task) are an error."""
    table: dict[str, dict[str, StoredResult]] = {}
    for result in results:
        by_model = table.setdefault(result.task_name, {})
        if result.model_name in by_model:
            paths = " and ".join(sorted(str(r.path) for r in (by_model[result.model_name], result)))
            raise StatsError(f"two results for {result.model_name} on {result.task_name} ({paths}); keep one revision")
        by_model[result.model_name] = result
    return {task: dict(sorted(table[task].items())) for task in sorted(table)}


def _task_rng(seed: int, task: str) -> np.random.Generator:
    """The task's own stream: its draws do not depend on which other tasks are compared."""
    return np.random.default_rng([seed, 0, zlib.crc32(task.encode("utf-8"))])


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame(columns=[*PAIR_COLUMNS, "test", "n_items"])


def _compare_task(task: str, by_model: dict[str, StoredResult], options: _Options,
                  notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairs and intervals rows of one task (see :class:`Comparison`); appends to ``notes``."""
    items = {model: result.items() for model, result in by_model.items()}
    paired = [m for m in by_model if items[m]]
    intervals = pd.DataFrame({
        "task": task, "model": list(by_model), "score": [r.main_score for r in by_model.values()],
        "ci_low": np.nan, "ci_high": np.nan, "n_items": 0, "tier": pd.NA,
    }).set_index("model", drop=False)
    if len(paired) < len(by_model):
        imported = ", ".join(m for m in by_model if m not in paired)
        notes.append(f"{task}: no per-item data for {imported} (imported); left out of its significance tests")
    if not paired:
        return _empty_pairs(), intervals
    first = by_model[paired[0]].data
    try:
        if len({by_model[m].data.harness.main_score_name for m in paired}) > 1:
            raise UnpairedItems("the models report different main scores")
        split = next(iter(first.scores))
        stat = task_statistic(str(first.harness.task.get("type")), first.harness.main_score_name, split,
                              [items[m] for m in paired])
    except (UnpairedItems, UnsupportedScore) as err:
        warnings.warn(f"{task}: {err}; no significance tests for this task", stacklevel=3)
        notes.append(f"{task}: {err}; no significance tests for this task")
        return _empty_pairs(), intervals
    pairs, per_model = within.compare_task(stat, _task_rng(options.seed, task), n_resamples=options.n_resamples,
                                           alpha=options.alpha, against=options.against)
    score = per_model["score"]
    gap = np.abs(score - intervals.loc[paired, "score"].to_numpy()).max()
    if gap > SCORE_TOLERANCE:
        notes.append(f"{task}: the per-item data reproduce the stored main scores only to {gap:.2g}")
    intervals.loc[paired, ["score", "ci_low", "ci_high"]] = np.column_stack(
        [score, per_model["ci_low"], per_model["ci_high"]])
    intervals.loc[paired, "n_items"] = stat.n_items
    intervals.loc[paired, "tier"] = per_model["tier"]
    names, a, b = np.array(paired), pairs["a"], pairs["b"]
    frame = pd.DataFrame({
        "task": task, "model_a": names[a], "model_b": names[b], "score_a": score[a], "score_b": score[b],
        **{k: pairs[k] for k in ("delta", "ci_low", "ci_high", "p_value", "p_holm")},
        "significant": pairs["p_holm"] < options.alpha, "test": pairs["test"], "n_items": stat.n_items,
    })
    return frame, intervals


def compare(
    results: Sequence[StoredResult],
    *,
    models: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    n_resamples: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    against: str = "all",
) -> Comparison:
    """Compare models within each task (paired resampling) and across tasks (ranks).

    Args:
        results: stored results (``harness.store.iter_results``), one per (model, task).
        models, tasks: names to keep (default: all); an unknown name is an error.
        n_resamples: bootstrap resamples and sign-flip draws per task, and task resamples for
            the rank bootstrap (at least 99).
        seed: seeds every draw; each task has its own stream (seed, task name).
        alpha: significance level; intervals are ``1 - alpha`` two-sided.
        against: "all" (every pair of models per task) or "leader" (each model against the
            task's best); the Holm family is the comparisons made within one task.

    Returns:
        A :class:`Comparison`.

    Raises:
        StatsError: bad arguments, unknown names, or two results for one (model, task).
    """
    if against not in ("all", "leader"):
        raise StatsError(f"against must be 'all' or 'leader', not {against!r}")
    if not 0 < alpha < 1:
        raise StatsError(f"alpha must be between 0 and 1, not {alpha}")
    if n_resamples < 99:
        raise StatsError(f"n_resamples must be at least 99, not {n_resamples}")
    chosen = _select(list(results), models, "model", lambda r: r.model_name)
    chosen = _select(chosen, tasks, "task", lambda r: r.task_name)
    if not chosen:
        raise StatsError("no results to compare")
    options = _Options(n_resamples, seed, alpha, against)
    notes: list[str] = []
    pair_frames, interval_frames, scores = [], [], []
    # the resampling matmuls are skinny: threading them in BLAS cost more than it saved (2-core VMs)
    with threadpool_limits(1, user_api="blas"):
        for task, by_model in _by_task(chosen).items():
            pairs, intervals = _compare_task(task, by_model, options, notes)
            pair_frames += [pairs] if len(pairs) else []
            interval_frames.append(intervals.reset_index(drop=True))
            task_type = str(next(iter(by_model.values())).data.harness.task.get("type"))
            scores += [{"task": task, "task_type": task_type, "model": m, "score": r.main_score}
                       for m, r in by_model.items()]
        summary, friedman, posthoc = _across(pd.DataFrame(scores), options, notes)
    pairs = pd.concat(pair_frames, ignore_index=True) if pair_frames else _empty_pairs()
    intervals = pd.concat(interval_frames, ignore_index=True)[INTERVAL_COLUMNS]
    intervals = intervals.astype({"n_items": int, "tier": "Int64"})
    return Comparison(pairs, intervals, summary, friedman, posthoc, _method(options), notes)


def _across(scores: pd.DataFrame, options: _Options,
            notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Summary, Friedman and post-hoc tables from the long (task, task_type, model, score) table."""
    matrix, left_out = across.complete_block(scores)
    if left_out:
        notes.append(f"rank statistics use the {len(matrix)} tasks every model has; "
                     f"left out (missing results): {', '.join(left_out)}")
    rng = np.random.default_rng([options.seed, 1])  # tasks use [seed, 0, crc32(name)]
    ranks = across.rank_bootstrap(matrix, rng, options.n_resamples, options.alpha)
    summary = across.mteb_aggregates(scores).merge(ranks, on="model", how="left")
    summary["n_tasks"] = summary["model"].map(scores.groupby("model")["task"].nunique())
    summary = summary[[*SUMMARY_COLUMNS, "n_tasks"]].sort_values(["borda_rank", "model"], ignore_index=True)  # as mteb
    return summary, across.friedman(matrix, options.alpha), across.posthoc(matrix, options.alpha)


def _method(options: _Options) -> dict[str, Any]:
    family = "all pairs" if options.against == "all" else "each model vs the leader"
    return {
        "n_resamples": options.n_resamples,
        "seed": options.seed,
        "alpha": options.alpha,
        "against": options.against,
        "interval": "percentile bootstrap over the task's items, paired (the same resamples for every model)",
        "pair_test": {
            "sign-flip": "paired sign-flip randomisation test, two-sided (main score a mean of per-item values)",
            "bootstrap": "centred paired bootstrap test, two-sided (correlations, average precision)",
        },
        "p_value": "(b + 1) / (R + 1)",
        "multiple_comparisons": f"Holm-Bonferroni within each task over {family}",
        "tiers": "step-down: the best remaining model and all not significantly worse (adjusted p >= alpha)",
        "across": "mteb Mean (Task), Mean (TaskType), Borda rank; Friedman; Nemenyi; Wilcoxon signed-rank + Holm "
                  "(Benavoli et al. 2016); rank bootstrap over tasks",
        "missing": "mean_task and mean_task_type NaN when a task is missing and Borda counts 0 for it (mteb); rank "
                   "statistics use the tasks every model has; results without per-item data have no interval or test",
    }
