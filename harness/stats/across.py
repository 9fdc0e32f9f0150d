"""Across tasks: mteb's aggregates, Friedman + post-hoc tests, and rank uncertainty.

Input everywhere is a long table of main scores, one row per (task, model) result, with columns
``task``, ``task_type``, ``model``, ``score`` (higher = better).

Missing results:

* ``mean_task``, ``mean_task_type``, ``borda_rank`` follow mteb 2.x exactly
  (``mteb/benchmarks/_create_table.py``): ``Mean (Task)`` is the plain mean over the selected
  tasks and is NaN when the model lacks any of them (polars ``mean_horizontal(ignore_nulls=
  False)``); ``Mean (TaskType)`` is the mean of per-type means, each NaN when a task of that
  type is missing; the Borda count gives a model ``n_models - rank`` points on each task it
  has (rank among the models that have the task, 1 = best, ties averaged), 0 on a task it
  lacks, and ``borda_rank`` ranks the point totals (1 = most points, ties share the lowest
  rank, ``method="min"``).
* Everything rank-based (``mean_rank``, Friedman, Nemenyi, Wilcoxon, the rank bootstrap) needs
  a complete block design: it uses only the tasks that every model has, and names the others.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from harness.stats.resample import draw_counts
from harness.stats.within import holm

CHUNK_ELEMENTS = 1 << 16


def mteb_aggregates(scores: pd.DataFrame) -> pd.DataFrame:
    """``model``, ``mean_task``, ``mean_task_type``, ``borda_rank`` as mteb's leaderboard.

    Args:
        scores: long table (task, task_type, model, score).

    Returns:
        One row per model, in first-seen order.
    """
    wide = scores.pivot(index="model", columns="task", values="score")
    types = scores.drop_duplicates("task").set_index("task")["task_type"]
    mean_task = wide.mean(axis=1, skipna=False)
    per_type = wide.T.groupby(types.reindex(wide.columns)).mean(numeric_only=True)  # NaN-skipping
    complete_type = wide.T.notna().groupby(types.reindex(wide.columns)).all()
    mean_task_type = per_type.where(complete_type).mean(axis=0, skipna=False)
    ranks = scores.groupby("task")["score"].rank(method="average", ascending=False)
    points = (len(wide) - ranks).groupby(scores["model"]).sum().reindex(wide.index, fill_value=0.0)
    borda = points.rank(method="min", ascending=False).astype(int)
    out = pd.DataFrame({"mean_task": mean_task, "mean_task_type": mean_task_type, "borda_rank": borda})
    return out.reindex(scores["model"].unique()).rename_axis("model").reset_index()


def complete_block(scores: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Tasks x models score matrix over the tasks every model has, and the tasks left out."""
    wide = scores.pivot(index="task", columns="model", values="score")[scores["model"].unique()]
    complete = wide.notna().all(axis=1)
    return wide[complete], sorted(wide.index[~complete])


def task_ranks(matrix: pd.DataFrame) -> np.ndarray:
    """float64 (T, M): rank of each model within each task (1 = best, ties averaged)."""
    return stats.rankdata(-matrix.to_numpy(), axis=1, method="average")


def friedman(matrix: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Friedman's test that all models rank alike, with Nemenyi's critical difference.

    Returns:
        One row: ``statistic``, ``p`` (NaN below 3 models or 2 tasks), ``n_tasks``,
        ``n_models``, ``nemenyi_cd`` (mean-rank difference Nemenyi needs at ``alpha``:
        ``q_alpha / sqrt(2) * sqrt(k (k + 1) / (6 N))``, Demšar 2006).
    """
    n, k = matrix.shape
    statistic = p = cd = float("nan")
    if k >= 3 and n >= 2:
        result = stats.friedmanchisquare(*matrix.to_numpy().T)
        statistic, p = float(result.statistic), float(result.pvalue)
    if k >= 2 and n >= 1:
        q_alpha = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
        cd = float(q_alpha * np.sqrt(k * (k + 1) / (6 * n)))
    return pd.DataFrame([{"statistic": statistic, "p": p, "n_tasks": n, "n_models": k, "nemenyi_cd": cd}])


def posthoc(matrix: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Pairwise tests over tasks: Nemenyi, and Wilcoxon signed-rank with Holm (Benavoli 2016).

    Nemenyi's p-value is ``studentized_range.sf(sqrt(2) * |Ra - Rb| / sqrt(k (k+1) / (6N)), k,
    inf)`` on mean ranks, as scikit-posthocs' ``posthoc_nemenyi_friedman``; it and the
    Wilcoxon tests are computed here with scipy rather than scikit-posthocs
    (``posthoc_nemenyi_friedman``, ``posthoc_wilcoxon``) because importing scikit-posthocs
    loads pyplot and seaborn and this must stay plot-free (the tests check Nemenyi against
    it). Wilcoxon compares the two models' scores task by task (zero differences dropped;
    p = 1 when all are zero); Holm adjusts over all pairs. Benavoli et al. recommend Wilcoxon + Holm over Nemenyi, whose
    outcome for a pair depends on the other models compared.

    Returns:
        One row per pair: ``model_a``, ``model_b`` (a has the better mean rank),
        ``mean_rank_a``, ``mean_rank_b``, ``nemenyi_p``, ``wilcoxon_p``, ``wilcoxon_p_holm``,
        ``significant`` (``wilcoxon_p_holm < alpha``).
    """
    n, k = matrix.shape
    columns = ["model_a", "model_b", "mean_rank_a", "mean_rank_b", "nemenyi_p", "wilcoxon_p", "wilcoxon_p_holm",
               "significant"]
    if n == 0 or k < 2:
        return pd.DataFrame(columns=columns)
    mean_rank = task_ranks(matrix).mean(axis=0)
    values = matrix.to_numpy()
    rows = []
    for a, b in combinations(np.argsort(mean_rank, kind="stable"), 2):
        q = abs(mean_rank[a] - mean_rank[b]) / np.sqrt(k * (k + 1) / (6 * n))
        diff = values[:, a] - values[:, b]
        wilcoxon_p = 1.0 if not diff.any() else float(stats.wilcoxon(values[:, a], values[:, b]).pvalue)
        rows.append([matrix.columns[a], matrix.columns[b], mean_rank[a], mean_rank[b],
                     float(stats.studentized_range.sf(q * np.sqrt(2), k, np.inf)), wilcoxon_p])
    out = pd.DataFrame(rows, columns=columns[:6])
    out["wilcoxon_p_holm"] = holm(out["wilcoxon_p"].to_numpy())
    out["significant"] = out["wilcoxon_p_holm"] < alpha
    return out


def rank_bootstrap(matrix: pd.DataFrame, rng: np.random.Generator, n_resamples: int, alpha: float) -> pd.DataFrame:
    """Rank uncertainty from a bootstrap over tasks.

    Each resample draws N tasks with replacement from the N complete tasks and ranks the models
    by their mean within-task rank (1 = best; ties share the best rank). ``p_first`` is the
    share of resamples in which a model ranks first (a k-way tie gives each 1/k, so the column
    sums to 1); ``rank_ci_low``/``rank_ci_high`` are the ``alpha/2`` and ``1 - alpha/2``
    empirical quantiles (``inverted_cdf``) of its rank.

    Returns:
        One row per model: ``model``, ``mean_rank``, ``p_first``, ``rank_ci_low``,
        ``rank_ci_high`` (NaN without complete tasks).
    """
    n, k = matrix.shape
    out = pd.DataFrame({"model": matrix.columns, "mean_rank": np.nan, "p_first": np.nan, "rank_ci_low": np.nan,
                        "rank_ci_high": np.nan})
    if n == 0:
        return out
    ranks = task_ranks(matrix)
    positions = np.empty((n_resamples, k))
    first = np.zeros(k)
    chunk = max(1, CHUNK_ELEMENTS // n)
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        totals = draw_counts(rng, size, n) @ ranks  # (size, k): N x mean rank, exact (half-integers)
        positions[start : start + size] = stats.rankdata(totals, axis=1, method="min")
        best = totals == totals.min(axis=1, keepdims=True)
        first += (best / best.sum(axis=1, keepdims=True)).sum(axis=0)
    out["mean_rank"] = ranks.mean(axis=0)
    out["p_first"] = first / n_resamples
    low, high = np.quantile(positions, [alpha / 2, 1 - alpha / 2], axis=0, method="inverted_cdf")
    out["rank_ci_low"], out["rank_ci_high"] = low, high
    return out
