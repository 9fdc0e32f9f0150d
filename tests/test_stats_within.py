"""Within-task statistics: validity (A/A, null false-positive rate, power), Holm, tiers, scipy."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

from harness.stats.ranked import AveragePrecision, Correlation
from harness.stats.resample import MeanOfItems, TaskStatistic
from harness.stats.within import compare_task, holm, pair_tests, resample, tiers

ALPHA = 0.05
FIRST, SECOND = np.array([0]), np.array([1])


def p_value(stat: TaskStatistic, rng: np.random.Generator, n_resamples: int = 999) -> float:
    return float(pair_tests(resample(stat, rng, n_resamples), FIRST, SECOND, ALPHA)["p_value"][0])


def sts(rng: np.random.Generator, noise: tuple[float, float], n: int = 100) -> Correlation:
    gold = rng.normal(size=n)
    return Correlation(gold, np.column_stack([gold + rng.normal(0, s, n) for s in noise]), "spearman")


def pairs(rng: np.random.Generator, noise: tuple[float, float], n: int = 200) -> AveragePrecision:
    labels = rng.integers(0, 2, n)
    return AveragePrecision(labels, [(labels + rng.normal(0, s, n))[:, None] for s in noise])


def accuracy(rng: np.random.Generator, skills: tuple[float, float], n: int = 100) -> MeanOfItems:
    """Classification items as stored: correctness over 10 experiments, averaged per test item."""
    difficulty = rng.beta(4, 2, n)
    return MeanOfItems(np.column_stack([(rng.random((10, n)) < difficulty**s).mean(axis=0) for s in skills]))


def retrieval(rng: np.random.Generator, shapes: tuple[float, float], n: int = 100) -> MeanOfItems:
    return MeanOfItems(np.column_stack([rng.beta(a, 2, n) for a in shapes]))


# name -> (statistic under the null (two models, same distribution), clearly better vs random)
KINDS: dict[str, tuple[Callable, Callable]] = {
    "accuracy (sign-flip)": (lambda r: accuracy(r, (1.0, 1.0)), lambda r: accuracy(r, (0.2, 5.0))),
    "nDCG-like (sign-flip)": (lambda r: retrieval(r, (0.5, 0.5)), lambda r: retrieval(r, (4.0, 0.3))),
    "Spearman (bootstrap)": (lambda r: sts(r, (1.5, 1.5)), lambda r: sts(r, (0.5, 50.0))),
    "average precision (bootstrap)": (lambda r: pairs(r, (1.5, 1.5)), lambda r: pairs(r, (0.5, 50.0))),
}


@pytest.mark.parametrize("kind", KINDS)
def test_null_false_positive_rate_is_within_the_binomial_interval(kind: str) -> None:
    """Over 400 null tasks the rejection rate at 5% is inside the 99% binomial interval."""
    null, _ = KINDS[kind]
    rng = np.random.default_rng(2024)
    n_tasks = 400
    rejections = sum(p_value(null(rng), rng) < ALPHA for _ in range(n_tasks))
    low, high = stats.binom.interval(0.99, n_tasks, ALPHA)
    assert low <= rejections <= high, f"{kind}: {rejections}/{n_tasks} false positives, 99% interval [{low}, {high}]"


@pytest.mark.parametrize("kind", KINDS)
def test_power_a_clearly_better_model_beats_a_random_one(kind: str) -> None:
    _, better = KINDS[kind]
    rng = np.random.default_rng(7)
    assert p_value(better(rng), rng) == pytest.approx(1 / 1000)  # every null draw is less extreme


def twins(rng: np.random.Generator) -> list[TaskStatistic]:
    """One statistic per kind whose two models hold identical per-item data."""
    gold, labels, values = rng.normal(size=80), rng.integers(0, 2, 80), rng.random(80)
    scores = gold + rng.normal(0, 1, 80)
    return [
        MeanOfItems(np.column_stack([values, values])),
        Correlation(gold, np.column_stack([scores, scores]), "spearman"),
        Correlation(gold, np.column_stack([scores, scores]), "pearson"),
        AveragePrecision(labels, [scores[:, None], scores[:, None].copy()]),
    ]


@pytest.mark.parametrize("index", range(4))
def test_a_a_identical_models_differ_by_zero_and_never_significantly(index: int) -> None:
    rng = np.random.default_rng(11)
    pair, per_model = compare_task(twins(rng)[index], rng, n_resamples=999, alpha=ALPHA, against="all")
    assert pair["delta"].tolist() == [0.0] and pair["p_value"].tolist() == [1.0] and pair["p_holm"].tolist() == [1.0]
    assert pair["ci_low"].tolist() == [0.0] and pair["ci_high"].tolist() == [0.0]
    assert per_model["tier"].tolist() == [1, 1]


def test_mean_interval_agrees_with_scipy_bootstrap_percentile() -> None:
    rng = np.random.default_rng(5)
    x = rng.beta(2, 5, 50)
    _, per_model = compare_task(MeanOfItems(x[:, None]), rng, n_resamples=20_000, alpha=ALPHA, against="all")
    ref = stats.bootstrap((x,), np.mean, n_resamples=20_000, method="percentile", random_state=1).confidence_interval
    assert per_model["ci_low"][0] == pytest.approx(ref.low, abs=0.003)
    assert per_model["ci_high"][0] == pytest.approx(ref.high, abs=0.003)


def test_paired_spearman_difference_interval_agrees_with_scipy_bootstrap() -> None:
    rng = np.random.default_rng(6)
    gold = rng.normal(size=40)
    a, b = gold + rng.normal(0, 0.7, 40), gold + rng.normal(0, 1.2, 40)
    draws = resample(Correlation(gold, np.column_stack([a, b]), "spearman"), rng, 20_000)
    ours = pair_tests(draws, FIRST, SECOND, ALPHA)

    def difference(g: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
        return stats.spearmanr(g, x)[0] - stats.spearmanr(g, y)[0]

    ref = stats.bootstrap((gold, a, b), difference, paired=True, vectorized=False, n_resamples=2000,
                          method="percentile", random_state=2).confidence_interval
    assert ours["delta"][0] == pytest.approx(difference(gold, a, b))
    assert ours["ci_low"][0] == pytest.approx(ref.low, abs=0.03)
    assert ours["ci_high"][0] == pytest.approx(ref.high, abs=0.03)


def test_sign_flip_p_value_agrees_with_scipy_exact_permutation_test() -> None:
    rng = np.random.default_rng(8)
    a, b = rng.normal(0.6, 0.2, 12), rng.normal(0.5, 0.2, 12)
    exact = stats.permutation_test((a, b), lambda x, y, axis: x.mean(axis) - y.mean(axis), permutation_type="samples",
                                   n_resamples=np.inf, vectorized=True).pvalue  # all 2^12 sign patterns
    ours = p_value(MeanOfItems(np.column_stack([a, b])), rng, n_resamples=20_000)
    assert ours == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / 20_000) + 2 / 20_000)


def test_holm_by_hand_and_against_statsmodels() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4 x 0.005, 3 x 0.01, max(.., 2 x 0.03), max(.., 1 x 0.04)
    np.testing.assert_allclose(holm(p), [0.03, 0.06, 0.06, 0.02])
    multipletests = pytest.importorskip("statsmodels.stats.multitest").multipletests
    many = np.random.default_rng(0).random(30) ** 3
    np.testing.assert_allclose(holm(many), multipletests(many, method="holm")[1])


def test_tiers_step_down_from_the_leader() -> None:
    scores = np.array([0.9, 0.85, 0.6, 0.55, 0.2])
    p = np.ones((5, 5))
    for (i, j), value in {(0, 1): 0.3, (0, 2): 0.01, (0, 3): 0.01, (0, 4): 0.001, (1, 2): 0.04, (1, 3): 0.02,
                          (1, 4): 0.001, (2, 3): 0.5, (2, 4): 0.01, (3, 4): 0.02}.items():
        p[i, j] = p[j, i] = value
    # one family of adjusted p-values: {0, 1} | {2, 3} (3 vs 2: 0.5) | {4}
    assert tiers(scores, p, ALPHA, p_adjusted=p).tolist() == [1, 1, 2, 2, 3]
    # Holm per step: leader 0 vs 1..4 -> [0.3, 0.03, 0.03, 0.004]; leader 2 vs 3, 4 -> [0.5, 0.02]
    assert tiers(scores, p, ALPHA).tolist() == [1, 1, 2, 2, 3]
    # a model not distinguishable from the leader joins it even if it differs from a tier-mate
    chain = np.array([[1, 0.2, 0.3], [0.2, 1, 0.01], [0.3, 0.01, 1]])
    assert tiers(np.array([0.9, 0.8, 0.7]), chain, ALPHA).tolist() == [1, 1, 1]


def test_against_leader_reports_only_the_leaders_pairs() -> None:
    rng = np.random.default_rng(9)
    stat = MeanOfItems(np.column_stack([rng.random(60) < r for r in (0.5, 0.9, 0.7)]).astype(float))
    pair, per_model = compare_task(stat, rng, n_resamples=999, alpha=ALPHA, against="leader")
    assert pair["a"].tolist() == [1, 1] and sorted(pair["b"].tolist()) == [0, 2]
    assert (pair["delta"] >= 0).all() and (pair["p_holm"] >= pair["p_value"]).all()
    assert per_model["tier"][1] == 1
