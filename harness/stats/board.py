"""A whole leaderboard ranked across tasks, from one main score per (model, task).

Input: a float matrix ``scores`` (M models, T tasks) with NaN where a model has no (complete)
score, and each task's type. Two parts:

* :func:`mteb_columns`: mteb 2.x's leaderboard columns exactly (``mteb/benchmarks/
  _create_table.py``, ``_create_summary_table``): ``Mean (Task)`` is the plain mean over the
  tasks and NaN when any is missing (polars ``mean_horizontal(ignore_nulls=False)``); each type
  mean likewise over the type's tasks; ``Mean (TaskType)`` the mean of the type means (NaN if
  one is); Borda: on each task, the models with a score are ranked (1 = best, ties averaged)
  and get ``n_models - rank`` points, where ``n_models`` counts the models with any score; a
  missing task gives 0 points; the Borda rank ranks the point totals (ties share the best rank,
  ``method="min"``). mteb ranks a task on the mean of whatever subsets a model has, even where a
  missing subset makes the task's score undefined for the means: ``borda_scores`` carries those.
* :func:`task_uncertainty`: how sure the order is, across tasks (each task one draw from the
  population of tasks). Only the models with every task (*complete*) are ranked together, on
  their within-task ranks among themselves, so an incomplete model never shrinks the task set.
  A paired bootstrap over tasks (the same resampled tasks for every model) gives each model's
  rank interval (``alpha/2`` and ``1 - alpha/2`` quantiles, ``inverted_cdf``) and P(rank 1) (a
  k-way tie gives each 1/k). Tiers: every pair of complete models, Wilcoxon signed-rank test of
  their score differences over the tasks (zeros dropped, ties averaged, normal approximation with
  tie and continuity correction, as ``scipy.stats.wilcoxon(method="approx", correction=True)``),
  Holm over all pairs, then :func:`harness.stats.within.tiers` from the best mean rank (Benavoli
  et al. 2016). Not a bootstrap test: with 41 tasks a bootstrap-interval test of mean-rank
  differences separates identically distributed models too often (about 8% at a nominal 5%,
  measured), while Wilcoxon keeps to the nominal rate (the A/A test in the test suite) and its
  p-values are analytic, small enough for Holm over tens of thousands of pairs. An incomplete
  model gets a rank interval too: where it would rank among the complete models plus itself,
  bootstrapping the tasks it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from harness.stats.resample import draw_counts
from harness.stats.within import holm, tiers

CHUNK_ELEMENTS = 1 << 18  # resamples x models per bootstrap step (bounds memory at any size)


@dataclass
class MtebColumns:
    """mteb's columns, one entry per model (NaN where undefined).

    Attributes:
        ranked: bool (M,), the model has a score on some task (mteb lists only those).
        borda_rank: int64 (M,), 0 where not ranked.
        mean_task, mean_task_type: float (M,).
        type_means: type -> float (M,), in first-seen task order.
    """

    ranked: np.ndarray
    borda_rank: np.ndarray
    mean_task: np.ndarray
    mean_task_type: np.ndarray
    type_means: dict[str, np.ndarray]


def mteb_columns(scores: np.ndarray, types: Sequence[str], borda_scores: np.ndarray | None = None) -> MtebColumns:
    """mteb's Borda rank and means (module docstring).

    Args:
        scores: float (M, T), NaN where a model's task score is missing or undefined.
        types: the type of each of the T tasks.
        borda_scores: float (M, T), the scores the Borda count ranks (default ``scores``).
    """
    scores = np.asarray(scores, dtype=float)
    borda_scores = scores if borda_scores is None else np.asarray(borda_scores, dtype=float)
    m, t = scores.shape
    ranked = ~np.isnan(scores).all(axis=1) if t else np.zeros(m, dtype=bool)
    n_models = int(ranked.sum())
    points = np.zeros(m)
    for j in range(t):
        has = ~np.isnan(borda_scores[:, j])
        if has.any():
            points[has] += n_models - stats.rankdata(-borda_scores[has, j], method="average")
    borda = np.zeros(m, dtype=np.int64)
    borda[ranked] = stats.rankdata(-points[ranked], method="min").astype(np.int64)
    type_means = {}
    for kind in dict.fromkeys(types):
        columns = [j for j, k in enumerate(types) if k == kind]
        type_means[kind] = scores[:, columns].mean(axis=1)  # NaN when any is missing, as mteb
    nan = np.full(m, np.nan)
    mean_task = scores.mean(axis=1) if t else nan
    mean_task_type = np.column_stack(list(type_means.values())).mean(axis=1) if type_means else nan
    return MtebColumns(ranked, borda, mean_task, mean_task_type, type_means)


@dataclass
class Uncertainty:
    """Rank uncertainty across tasks, one entry per model (module docstring).

    Attributes:
        complete: bool (M,), the model has every task (ranked with the others).
        mean_rank: float (M,), mean within-task rank among the complete models (NaN if incomplete).
        rank_ci_low, rank_ci_high: int64 (M,), the rank interval (an incomplete model's: among the
            complete models plus itself, on its own tasks).
        p_first: float (M,), share of resamples ranked first.
        tier: int64 (M,), 1 = not separable from the best; 0 for incomplete models.
        n_tasks: int64 (M,), tasks the interval was computed on.
    """

    complete: np.ndarray
    mean_rank: np.ndarray
    rank_ci_low: np.ndarray
    rank_ci_high: np.ndarray
    p_first: np.ndarray
    tier: np.ndarray
    n_tasks: np.ndarray


def task_uncertainty(scores: np.ndarray, *, n_resamples: int = 1000, seed: int = 0,
                     alpha: float = 0.05) -> Uncertainty:
    """Rank intervals, P(rank 1) and tiers from a paired bootstrap over tasks.

    Args:
        scores: float (M, T), NaN where missing; a row without any score gets rank interval
            ``(1, 1)`` over 0 tasks only if it is alone (callers leave such rows out).
        n_resamples, seed, alpha: bootstrap draws, seed, and the level of intervals and tests.
    """
    scores = np.asarray(scores, dtype=float)
    m, t = scores.shape
    complete = ~np.isnan(scores).any(axis=1) if t else np.zeros(m, dtype=bool)
    out = Uncertainty(complete, np.full(m, np.nan), np.zeros(m, np.int64), np.zeros(m, np.int64),
                      np.zeros(m), np.zeros(m, np.int64), (~np.isnan(scores)).sum(axis=1))
    index = np.flatnonzero(complete)
    ranks = stats.rankdata(-scores[index].T, axis=1, method="average") if t else np.zeros((0, len(index)))  # (T, C)
    rng = np.random.default_rng([seed, 3])
    if len(index):
        low, high, first = _bootstrap(ranks, rng, n_resamples, alpha)
        mean_rank = ranks.mean(axis=0)
        out.mean_rank[index] = mean_rank
        out.rank_ci_low[index], out.rank_ci_high[index], out.p_first[index] = low, high, first
        out.tier[index] = _tiers(scores[index].T, mean_rank, alpha)
    for row in np.flatnonzero(~complete):
        low, high, first = _placed(scores[index], ranks, scores[row], rng, n_resamples, alpha)
        out.rank_ci_low[row], out.rank_ci_high[row], out.p_first[row] = low, high, first
    return out


def _bootstrap(ranks: np.ndarray, rng: np.random.Generator, n_resamples: int,
               alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank quantiles and P(rank 1) of the C complete models from their (T, C) within-task ranks."""
    t, c = ranks.shape
    positions = np.empty((n_resamples, c), dtype=np.int32)
    first = np.zeros(c)
    step = max(1, CHUNK_ELEMENTS // max(c, t))
    for start in range(0, n_resamples, step):
        size = min(step, n_resamples - start)
        totals = draw_counts(rng, size, t) @ ranks  # (size, C), the same tasks for every model
        positions[start : start + size] = stats.rankdata(totals, axis=1, method="min")
        best = totals == totals.min(axis=1, keepdims=True)
        first += (best / best.sum(axis=1, keepdims=True)).sum(axis=0)
    low, high = np.quantile(positions, [alpha / 2, 1 - alpha / 2], axis=0, method="inverted_cdf")
    return low.astype(np.int64), high.astype(np.int64), first / n_resamples


def wilcoxon_p(values: np.ndarray) -> np.ndarray:
    """Two-sided Wilcoxon signed-rank p-values of every pair of columns: float (C, C).

    Args:
        values: float (T, C), T paired observations (tasks) of C models.
    """
    t, c = values.shape
    a, b = np.triu_indices(c, 1)
    diff = values[:, a] - values[:, b]  # (T, P)
    size = np.abs(diff)
    zeros = (diff == 0).sum(axis=0)
    n = t - zeros
    ranks = stats.rankdata(size, axis=0, method="average") - zeros  # zeros rank lowest: drop them, shift the rest
    w_plus = np.where(diff > 0, ranks, 0.0).sum(axis=0)
    ordered = np.sort(size, axis=0)
    group = np.cumsum(np.r_[np.ones((1, diff.shape[1]), bool), ordered[1:] != ordered[:-1]], axis=0) - 1
    counts = np.bincount((group * diff.shape[1] + np.arange(diff.shape[1])).ravel(), minlength=t * diff.shape[1])
    ties = (counts.astype(float) ** 3 - counts).reshape(t, -1).sum(axis=0) - (zeros.astype(float) ** 3 - zeros)
    mean = n * (n + 1) / 4
    variance = n * (n + 1) * (2 * n + 1) / 24 - ties / 48
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.maximum(np.abs(w_plus - mean) - 0.5, 0.0) / np.sqrt(variance)
    p = np.where((n > 0) & (variance > 0), 2 * stats.norm.sf(z), 1.0)
    out = np.ones((c, c))
    out[a, b] = out[b, a] = np.minimum(p, 1.0)
    return out


def _tiers(scores: np.ndarray, mean_rank: np.ndarray, alpha: float) -> np.ndarray:
    """Tiers of the complete models from their (T, C) scores: Wilcoxon + Holm over all pairs."""
    c = len(mean_rank)
    if c < 2 or len(scores) < 2:
        return np.ones(c, dtype=np.int64)
    p_raw = wilcoxon_p(scores)
    upper = np.triu_indices(c, 1)
    p_adj = np.ones((c, c))
    p_adj[upper] = holm(p_raw[upper])
    p_adj.T[upper] = p_adj[upper]
    return tiers(-mean_rank, p_raw, alpha, p_adj)


def _placed(complete_scores: np.ndarray, complete_ranks: np.ndarray, own: np.ndarray, rng: np.random.Generator,
            n_resamples: int, alpha: float) -> tuple[int, int, float]:
    """An incomplete model's rank among the complete models plus itself, over the tasks it has."""
    has = ~np.isnan(own)
    if not len(complete_scores) or not has.any():
        return 1, 1, 1.0
    others, mine = complete_scores[:, has], own[has]  # (C, k), (k,)
    above = (others > mine) + 0.5 * (others == mine)  # what each complete model adds to the model's rank
    own_rank = 1 + above.sum(axis=0)  # (k,)
    their_rank = complete_ranks[has] + (1 - above.T)  # (k, C): the model pushes them down where it is better
    counts = draw_counts(rng, n_resamples, int(has.sum()))
    position = 1 + ((counts @ their_rank) < (counts @ own_rank)[:, None]).sum(axis=1)
    low, high = np.quantile(position, [alpha / 2, 1 - alpha / 2], method="inverted_cdf")
    return int(low), int(high), float((position == 1).mean())
