"""Resampled statistics equal the metric recomputed on the expanded resample (scipy / sklearn)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import ConstantInputWarning, pearsonr, spearmanr
from sklearn.metrics import average_precision_score

from harness.stats.ranked import AveragePrecision, Correlation
from harness.stats.resample import MeanOfItems, draw_counts, draw_signs

N = 60


def resamples(rng: np.random.Generator, n: int = N, r: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Explicit index resamples (r, n) and their counts (r, n)."""
    idx = rng.integers(0, n, (r, n))
    return idx, np.stack([np.bincount(i, minlength=n) for i in idx])


def score_columns(rng: np.random.Generator, gold: np.ndarray) -> np.ndarray:
    """Four kinds of model scores: informative, heavily tied, constant, unrelated."""
    n = len(gold)
    return np.column_stack([gold + rng.normal(0, 2, n), rng.normal(size=n).round(1), np.full(n, 3.0), rng.normal(size=n)])


@pytest.mark.parametrize("method", ["spearman", "pearson"])
@pytest.mark.parametrize("tied_gold", [True, False])
def test_correlation_equals_scipy_on_every_resample(method: str, tied_gold: bool) -> None:
    rng = np.random.default_rng(1)
    gold = rng.integers(0, 6, N).astype(float) if tied_gold else rng.normal(size=N)
    scores = score_columns(rng, gold)
    idx, counts = resamples(rng)
    corr = spearmanr if method == "spearman" else pearsonr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantInputWarning)
        expected = np.nan_to_num([[corr(gold[i], scores[i, j])[0] for j in range(4)] for i in idx])  # undefined -> 0
        observed = np.nan_to_num([corr(gold, scores[:, j])[0] for j in range(4)])
    stat = Correlation(gold, scores, method)
    np.testing.assert_allclose(stat.resampled(counts), expected, atol=1e-12)
    np.testing.assert_allclose(stat.observed(), observed, atol=1e-12)


def test_average_precision_equals_sklearn_and_takes_the_best_function() -> None:
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, N)
    scores = [
        np.column_stack([labels + rng.normal(0, 1, N), rng.normal(size=N).round(1)]),  # two functions, ties
        rng.normal(size=(N, 1)).round(1),
        np.ones((N, 1)),  # every pair tied
    ]
    idx, counts = resamples(rng)
    expected = [[max(average_precision_score(labels[i], s[i, k]) for k in range(s.shape[1])) for s in scores] for i in idx]
    np.testing.assert_allclose(AveragePrecision(labels, scores).resampled(counts), expected, atol=1e-12)


def test_average_precision_is_zero_without_positives() -> None:
    stat = AveragePrecision(np.zeros(5, dtype=int), [np.arange(5.0)[:, None]])
    assert stat.observed().tolist() == [0.0]


def test_identical_orders_are_computed_once() -> None:
    rng = np.random.default_rng(3)
    cosine = rng.normal(size=N)
    unit = np.tanh(cosine)  # cosine of unit vectors; Euclidean distance sqrt(2 - 2 cos), negated
    stat = AveragePrecision(rng.integers(0, 2, N), [np.column_stack([unit, 2 * unit, -np.sqrt(2 - 2 * unit)])])
    assert len(stat._orders) == 1


def test_mean_of_items_skips_nan_like_nanmean() -> None:
    rng = np.random.default_rng(4)
    values = rng.random((N, 3))
    values[rng.random((N, 3)) < 0.2] = np.nan
    values[:, 2] = values[:, 1]
    idx, counts = resamples(rng)
    stat = MeanOfItems(values)
    np.testing.assert_allclose(stat.resampled(counts), [np.nanmean(values[i], axis=0) for i in idx], atol=1e-12)
    np.testing.assert_allclose(stat.observed(), np.nanmean(values, axis=0))
    # only models that skipped the same items may use the sign-flip test
    assert stat.randomisable().tolist() == [[True, False, False], [False, True, True], [False, True, True]]


def test_draws_are_seeded_bootstrap_counts_and_fair_signs() -> None:
    counts = draw_counts(np.random.default_rng(0), 5000, 7)
    assert counts.dtype == np.int64 and (counts.sum(axis=1) == 7).all()
    np.testing.assert_allclose(counts.mean(axis=0), 1.0, atol=0.05)  # multinomial(7, 1/7) has mean 1
    np.testing.assert_array_equal(counts, draw_counts(np.random.default_rng(0), 5000, 7))
    signs = draw_signs(np.random.default_rng(0), 4000, 13)
    assert signs.shape == (4000, 13) and set(np.unique(signs)) == {-1.0, 1.0}
    assert abs(signs.mean()) < 0.02 and abs(np.corrcoef(signs[:, 0], signs[:, 8])[0, 1]) < 0.05


def test_hand_checked_resamples() -> None:
    # gold [1, 2, 3], scores [1, 3, 2] drawn as items (0, 0, 1): gold [1, 1, 2], scores [1, 1, 3],
    # the same ranks [1.5, 1.5, 3] on both sides, so Spearman 1
    spearman = Correlation(np.array([1.0, 2.0, 3.0]), np.array([[1.0], [3.0], [2.0]]), "spearman")
    assert spearman.resampled(np.array([[2, 1, 0]]))[0, 0] == pytest.approx(1.0)
    assert spearman.observed()[0] == pytest.approx(0.5)
    # labels [1, 0, 1], scores [0.9, 0.8, 0.1]: AP = (1/1 + 2/3) / 2; drawn as (1, 2, 2): scores
    # [0.8, 0.1, 0.1] with labels [0, 1, 1] -> one tied group of two positives at precision 2/3
    ap = AveragePrecision(np.array([1, 0, 1]), [np.array([[0.9], [0.8], [0.1]])])
    np.testing.assert_allclose(ap.resampled(np.array([[1, 1, 1], [0, 1, 2]]))[:, 0], [5 / 6, 2 / 3])
    # two items whose differences are both 0.2: of the four sign patterns, two reach |0.2|
    flips = MeanOfItems(np.array([[0.7, 0.5], [0.4, 0.2]])).signed(draw_signs(np.random.default_rng(0), 20_000, 2))
    assert np.mean(np.abs(flips[:, 0] - flips[:, 1]) >= 0.2 - 1e-12) == pytest.approx(0.5, abs=0.02)
