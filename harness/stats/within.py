"""Within one task: paired intervals, pairwise tests, Holm's adjustment and rank tiers.

Every model of a task is scored on the *same* resamples of the task's items (paired). From
``R`` resamples:

* **Interval** of a model's score: the percentile bootstrap interval, the ``alpha / 2`` and
  ``1 - alpha / 2`` quantiles of its resampled scores (numpy's linear interpolation).
* **Difference** of two models, ``delta = score_a - score_b``: its interval is the percentile
  interval of the paired resampled differences.
* **p-value** of a difference, two-sided, always ``(b + 1) / (R + 1)`` with ``b`` the number of
  null draws at least as extreme as the observed difference (ties count, with a relative
  tolerance of 1e-9 for rounding):

  - *sign-flip randomisation test* when both scores are means of per-item values over the same
    items (retrieval, reranking, classification accuracy, clustering draws, summarization
    when both models scored the same texts): null draws ``mean(s_i * (x_ai - x_bi))`` with
    independent random signs ``s_i``, exact under the null that each item's two values are
    exchangeable.
  - *centred paired bootstrap* otherwise (correlations, average precision): null draws are the
    resampled differences minus the observed one, ``|delta* - delta| >= |delta|``
    (Efron & Tibshirani 1993, ch. 16).

Chunks of resamples bound memory (about ``CHUNK_ELEMENTS`` counts at a time); there is no
Python loop over resamples.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from harness.stats.resample import TaskStatistic, draw_counts, draw_signs

CHUNK_ELEMENTS = 1 << 16  # resamples x items per chunk: 512 KiB per int64 array, cache-sized
TIE_TOLERANCE = 1e-9


@dataclass
class Draws:
    """Paired resamples of one task.

    Attributes:
        observed: float64 (M,), each model's score on all items.
        boot: float64 (R, M), its score on each bootstrap resample (shared counts).
        flips: float64 (R, M), its sign-flip statistic on each draw (shared signs), or None when
            no score is a mean of items.
        randomisable: bool (M, M), pairs that use the sign-flip test.
    """

    observed: np.ndarray
    boot: np.ndarray
    flips: np.ndarray | None
    randomisable: np.ndarray


def resample(stat: TaskStatistic, rng: np.random.Generator, n_resamples: int) -> Draws:
    """Score every model on ``n_resamples`` paired bootstrap resamples (and sign flips)."""
    randomisable = stat.randomisable()
    boot = np.empty((n_resamples, stat.n_models))
    flips = np.empty_like(boot) if randomisable.any() else None
    chunk = max(1, CHUNK_ELEMENTS // stat.n_items)
    for start in range(0, n_resamples, chunk):
        rows = slice(start, min(start + chunk, n_resamples))
        size = rows.stop - rows.start
        boot[rows] = stat.resampled(draw_counts(rng, size, stat.n_items))
        if flips is not None:
            flips[rows] = stat.signed(draw_signs(rng, size, stat.n_items))
    return Draws(stat.observed(), boot, flips, randomisable)


def pair_tests(draws: Draws, a: np.ndarray, b: np.ndarray, alpha: float) -> dict[str, np.ndarray]:
    """Difference, interval and two-sided p-value for the model pairs ``(a[k], b[k])``.

    Args:
        draws: the task's :class:`Draws`.
        a, b: int arrays of shape (P,), model indices.
        alpha: 1 - confidence level of the intervals.

    Returns:
        ``delta``, ``ci_low``, ``ci_high``, ``p_value`` (float64 (P,)) and ``test`` (str (P,):
        "sign-flip" or "bootstrap").
    """
    delta = draws.observed[a] - draws.observed[b]
    boot = draws.boot[:, a] - draws.boot[:, b]
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2], axis=0)
    flip = draws.randomisable[a, b]
    null = boot - delta
    if draws.flips is not None:
        null[:, flip] = draws.flips[:, a[flip]] - draws.flips[:, b[flip]]
    extreme = np.abs(null) >= np.abs(delta) * (1 - TIE_TOLERANCE)
    p_value = (extreme.sum(axis=0) + 1) / (len(boot) + 1)
    return {
        "delta": delta,
        "ci_low": low,
        "ci_high": high,
        "p_value": p_value,
        "test": np.where(flip, "sign-flip", "bootstrap"),
    }


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (step-down; controls the family-wise error rate).

    The k-th smallest of m p-values becomes ``max_{j <= k} min(1, (m - j + 1) p_(j))``. Equal
    to statsmodels' ``multipletests(method="holm")`` (checked in the tests), which is not used
    because statsmodels is no dependency of the harness and this is five lines.

    Args:
        p_values: float array of shape (m,).

    Returns:
        float64 array of shape (m,), in the input order.
    """
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order]))
    adjusted = np.empty_like(p)
    adjusted[order] = scaled
    return adjusted


def tiers(scores: np.ndarray, p_raw: np.ndarray, alpha: float, p_adjusted: np.ndarray | None = None) -> np.ndarray:
    """Rank tiers: the leader and every model not significantly worse than it share a tier.

    Procedure: start with all models and tier 1. The *leader* is the remaining model with the
    highest score (first in input order on a tie). The tier is the leader plus every remaining
    model whose difference from the leader is not significant (adjusted p >= ``alpha``). Those
    models leave, the tier number goes up by one, and the step repeats until no model remains.
    So tier 1 is "not distinguishable from the best", and each later tier is the same question
    about the best of what is left.

    Adjusted p: from ``p_adjusted`` (a matrix adjusted over all pairs at once, as in the pairs
    table for ``against="all"``) when given; else each step is its own Holm family, the
    leader's comparisons with the remaining models (for ``against="leader"`` the first step is
    then exactly the reported family).

    Args:
        scores: float (M,), each model's observed score (higher = better).
        p_raw: float (M, M), symmetric raw p-values of the pairwise differences.
        alpha: significance level.
        p_adjusted: float (M, M), symmetric adjusted p-values, or None.

    Returns:
        int64 (M,), tier of each model (1 = top).
    """
    tier = np.zeros(len(scores), dtype=np.int64)
    level = 1
    while (tier == 0).any():
        remaining = np.flatnonzero(tier == 0)
        leader = remaining[np.argmax(scores[remaining])]
        others = remaining[remaining != leader]
        p = p_adjusted[leader, others] if p_adjusted is not None else holm(p_raw[leader, others])
        tier[leader] = level
        tier[others[p >= alpha]] = level
        level += 1
    return tier


def compare_task(
    stat: TaskStatistic, rng: np.random.Generator, *, n_resamples: int, alpha: float, against: str
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """All statistics of one task whose M models share items.

    Args:
        stat: the models' main scores as functions of the items.
        rng: the task's generator (consumed).
        n_resamples: resamples R (bootstrap and sign flips each).
        alpha: significance level and 1 - confidence level.
        against: "all" (every pair, one Holm family) or "leader" (each model against the
            highest-scoring one, one Holm family).

    Returns:
        (pairs, models): pairs has int ``a``, ``b`` (model a scores at least model b) and the
        :func:`pair_tests` columns plus ``p_holm`` (each (P,)); models has ``score``,
        ``ci_low``, ``ci_high`` and ``tier`` (each (M,)).
    """
    draws = resample(stat, rng, n_resamples)
    m = stat.n_models
    rank = np.argsort(-draws.observed, kind="stable")  # best first; pairs read "a beats b"
    a, b = np.array(list(combinations(rank, 2)), dtype=np.intp).reshape(-1, 2).T
    tests = pair_tests(draws, a, b, alpha)
    p_raw = np.ones((m, m))
    p_raw[a, b] = p_raw[b, a] = tests["p_value"]
    reported = np.ones(len(a), dtype=bool) if against == "all" else a == rank[0]
    pairs = {"a": a[reported], "b": b[reported], **{k: v[reported] for k, v in tests.items()}}
    pairs["p_holm"] = holm(pairs["p_value"])
    if against == "all":
        p_adjusted = np.ones((m, m))
        p_adjusted[a, b] = p_adjusted[b, a] = pairs["p_holm"]
        tier = tiers(draws.observed, p_raw, alpha, p_adjusted)
    else:
        tier = tiers(draws.observed, p_raw, alpha)
    low, high = np.quantile(draws.boot, [alpha / 2, 1 - alpha / 2], axis=0)
    return pairs, {"score": draws.observed, "ci_low": low, "ci_high": high, "tier": tier}
