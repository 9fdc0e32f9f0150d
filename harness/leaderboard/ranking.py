"""Rank every leaderboard row, own runs and published ones alike: mteb's columns and the
uncertainty across tasks (:mod:`harness.stats.board`), written into the rows ``gather`` built.

A row's ``uncertainty`` says which kind it carries: ``"tasks"`` (the bootstrap over tasks; every
complete row), ``"tasks+items"`` (own runs with per-item data: the within-task intervals too),
or ``"placed"`` (an incomplete row: where it would rank among the complete ones, on its tasks).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.stats.board import mteb_columns, task_uncertainty

TASK_RESAMPLES = 1000  # bootstrap draws over tasks (rank intervals move by < 1 rank at this count)


def _value(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def score_matrix(models: Sequence[dict[str, Any]], tasks: Sequence[str], borda: bool = False) -> np.ndarray:
    """float (M, T): each row's cell scores (with ``borda``: and the scores only the Borda count
    ranks, ``borda_only``), NaN where missing."""
    out = np.full((len(models), len(tasks)), np.nan)
    for i, m in enumerate(models):
        values = {t: c["score"] for t, c in m["cells"].items()}
        if borda:
            values.update(m.get("borda_only") or {})
        for j, task in enumerate(tasks):
            if task in values:
                out[i, j] = values[task]
    return out


def rank_rows(models: list[dict[str, Any]], tasks: Sequence[str], types: Sequence[str], *, seed: int = 0,
              alpha: float = 0.05, n_resamples: int = TASK_RESAMPLES) -> list[dict[str, Any]]:
    """Fill in each row: ``borda``, ``mean_task``, ``mean_type``, ``types[ty]["mean"]``,
    ``complete``, ``mean_rank``, ``rank_ci``, ``p_first``, ``tier`` (None if incomplete),
    ``uncertainty``.

    Args:
        models: rows with ``cells`` (task -> ``{"score", "n"}``), ``borda_only`` (task -> score
            the Borda count ranks where the means have none) and ``types``.
        tasks, types: the view's tasks and the type each one's mean goes to.

    Returns:
        The rows that have a score on some task (mteb lists only those), others left out.
    """
    scores = score_matrix(models, tasks)
    columns = mteb_columns(scores, list(types), score_matrix(models, tasks, borda=True))
    ranked = np.flatnonzero(columns.ranked)
    spread = task_uncertainty(scores[ranked], n_resamples=n_resamples, seed=seed, alpha=alpha)
    where = {int(row): k for k, row in enumerate(ranked)}
    for i, m in enumerate(models):
        k = where.get(i)
        if k is None:
            continue
        m["borda"] = int(columns.borda_rank[i])
        m["mean_task"], m["mean_type"] = _value(columns.mean_task[i]), _value(columns.mean_task_type[i])
        for kind, means in columns.type_means.items():
            m["types"][kind]["mean"] = _value(means[i])
        complete = bool(spread.complete[k])
        m["complete"] = complete
        m["mean_rank"] = _value(spread.mean_rank[k]) if complete else None
        m["rank_ci"] = (int(spread.rank_ci_low[k]), int(spread.rank_ci_high[k]))
        m["p_first"] = float(spread.p_first[k])
        m["tier"] = int(spread.tier[k]) if complete else None
        per_item = any(c.get("n") for c in m["cells"].values())
        m["uncertainty"] = ("tasks+items" if per_item else "tasks") if complete else "placed"
    return [models[i] for i in ranked]


def describe(models: Sequence[dict[str, Any]], n_tasks: int, *, alpha: float = 0.05,
             n_resamples: int = TASK_RESAMPLES) -> dict[str, Any]:
    """The page's sentence on the rank tiers and intervals, with the counts it names."""
    complete = sum(1 for m in models if m.get("complete"))
    method = (f"Across tasks, for every row (own runs and published ones alike): the {complete} rows with all {n_tasks} "
              f"tasks are ranked on their within-task ranks among themselves; {n_resamples} paired bootstrap resamples "
              f"of the tasks (the same tasks for every row) give each one's {100 * (1 - alpha):.0f}% rank interval and "
              "P(rank 1). Tiers: Wilcoxon signed-rank tests of each pair's score differences over the tasks, Holm over "
              "all pairs, step-down from the best mean rank (calibrated: identically distributed models are separated at "
              f"most {100 * alpha:.0f}% of the time). A row that lacks a task is “incomplete”: not tiered; its interval "
              "places it among the complete rows on its own tasks.")
    return {"method": method, "n_complete": complete, "n_tasks": n_tasks}


def pair_published(models: Sequence[dict[str, Any]]) -> None:
    """Set ``vs_published`` on each own row whose model also has a published row: that row's name,
    the difference of Mean (Task) (None unless both have one) and the mean per-task difference over
    the tasks both have (``delta_common``, ``n_common``)."""
    published = {m["published_name"]: m for m in models if m["published"] and m.get("published_name")}
    for m in models:
        other = None if m["published"] else published.get(m["name"])
        m["vs_published"] = None
        if other is None:
            continue
        common = [t for t in m["cells"] if t in other["cells"]]
        deltas = [m["cells"][t]["score"] - other["cells"][t]["score"] for t in common]
        both = m["mean_task"] is not None and other["mean_task"] is not None
        m["vs_published"] = {"name": other["name"], "delta_mean_task": m["mean_task"] - other["mean_task"] if both else None,
                             "delta_common": sum(deltas) / len(deltas) if deltas else None, "n_common": len(common)}
