"""Metric kernels against sklearn / mteb functions (property-based), and hand-computed STS."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score

from harness.data.types import STSData
from harness.evaluators import _metrics, _retrieval_metrics, classification, sts

settings.register_profile("evaluators", max_examples=60, deadline=None)
settings.load_profile("evaluators")

# scores on a coarse grid so that ties are frequent
scores_labels = st.integers(2, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(-4, 4), min_size=n, max_size=n).map(lambda v: np.array(v) / 4),
        st.lists(st.integers(0, 1), min_size=n, max_size=n).map(np.array),
    )
)


# ---------------------------------------------------------------- STS by hand


def test_sts_hand_computed() -> None:
    # cosines 1, 3/5, 0; gold 5, 4, 1 -> normalised 1, 4/5, 1/5
    e1 = np.array([[1, 0], [1, 0], [1, 0]], np.float32)
    e2 = np.array([[1, 0], [0.6, 0.8], [0, 1]], np.float32)
    data = STSData(["a", "b", "c"], ["d", "e", "f"], np.array([5.0, 4.0, 1.0]))
    out = sts.evaluate(data, {"sentence1": e1, "sentence2": e2}, sts.Options(), "cosine")
    # Pearson: S_xy = 31/75, S_xx = 38/75, S_yy = 26/75 -> 31 / sqrt(988)
    assert out.metrics["cosine_pearson"] == pytest.approx(31 / math.sqrt(988), abs=1e-6)
    assert out.metrics["pearson"] == pytest.approx(31 / math.sqrt(988), abs=1e-6)
    assert out.metrics["cosine_spearman"] == pytest.approx(1.0)
    # Manhattan distances 0, 1.2, 2 and Euclidean 0, 0.894, 1.414: same order as the gold
    assert out.metrics["manhattan_spearman"] == pytest.approx(1.0)
    assert out.metrics["euclidean_spearman"] == pytest.approx(1.0)
    np.testing.assert_allclose(out.items["cosine_scores"], [1, 0.6, 0], atol=1e-6)
    np.testing.assert_allclose(out.items["manhattan_distances"], [0, -1.2, -2], atol=1e-6)
    np.testing.assert_allclose(out.items["gold"], [1, 0.8, 0.2])


def test_sts_dot_similarity_uses_raw_vectors() -> None:
    e1 = np.array([[1, 0], [2, 0], [3, 0]], np.float32)
    e2 = np.array([[1, 0], [1, 0], [1, 0]], np.float32)
    data = STSData(["a"] * 3, ["b"] * 3, np.array([1.0, 2.0, 3.0]))
    with pytest.warns(Warning, match="constant"):  # the cosines are constant
        out = sts.evaluate(data, {"sentence1": e1, "sentence2": e2}, sts.Options(), "dot")
    np.testing.assert_allclose(out.items["similarity_scores"], [1, 2, 3])
    assert out.metrics["spearman"] == pytest.approx(1.0)
    with pytest.warns(Warning, match="constant"):
        constant = sts.evaluate(data, {"sentence1": e1, "sentence2": e2}, sts.Options(), "cosine")
    # all cosines are 1: undefined, NaN as scipy and mteb (the runner stores it as 0.0)
    assert np.isnan(constant.metrics["cosine_spearman"])
    assert constant.metrics["manhattan_spearman"] == pytest.approx(-1.0)  # distances grow with gold


# ---------------------------------------------------------------- pair classification kernels


@given(scores_labels)
def test_average_precision_matches_sklearn(case) -> None:
    scores, labels = case
    if labels.sum() == 0:
        assert np.isnan(_metrics.average_precision(labels, scores))
        return
    assert _metrics.average_precision(labels, scores) == pytest.approx(
        average_precision_score(labels, scores), abs=1e-12
    )


@given(scores_labels, st.booleans())
def test_best_threshold_metrics_match_mteb(case, higher: bool) -> None:
    pc = pytest.importorskip("mteb.abstasks.pair_classification")
    scores, labels = case
    task = pc.AbsTaskPairClassification
    acc, _ = task._find_best_acc_and_threshold(None, scores.tolist(), labels, higher)
    f1, precision, recall, _ = task._find_best_f1_and_threshold(None, scores.tolist(), labels, higher)
    assert _metrics.best_accuracy(scores, labels, higher) == pytest.approx(acc, abs=1e-12)
    assert _metrics.best_f1(scores, labels, higher) == pytest.approx((f1, precision, recall), abs=1e-12)


# ---------------------------------------------------------------- classification kernels


@given(
    st.integers(5, 60).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 4), min_size=n, max_size=n),
            st.lists(st.lists(st.integers(0, 4), min_size=n, max_size=n), min_size=1, max_size=3),
        )
    )
)
def test_classification_scores_match_sklearn(case) -> None:
    gold, runs = np.array(case[0]), np.array(case[1])
    out = _metrics.classification_scores(gold, runs, 5)
    for i, pred in enumerate(runs):
        assert out["accuracy"][i] == pytest.approx(np.mean(pred == gold))
        for name, fn in (("f1", f1_score), ("precision", precision_score), ("recall", recall_score)):
            for average, key in (("macro", name), ("weighted", f"{name}_weighted")):
                expected = fn(gold, pred, average=average, zero_division=0.0)
                assert out[key][i] == pytest.approx(expected, abs=1e-12), (key, i)


class _Rows:
    """The slice of ``datasets.Dataset`` that mteb's ``_undersample_data`` uses."""

    def __init__(self, labels: list) -> None:
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, key: str) -> list:
        return self.labels

    def select(self, idx: list[int]) -> None:
        return None


@given(
    st.lists(st.sampled_from(["neg", "neu", "pos", "x"]), min_size=1, max_size=80),
    st.integers(1, 5),
    st.integers(1, 4),
    st.integers(0, 2**31 - 1),
)
def test_undersampling_matches_mteb(labels, samples_per_label, n_experiments, seed) -> None:
    cls = pytest.importorskip("mteb.abstasks.classification").AbsTaskClassification
    fake = SimpleNamespace(seed=seed, samples_per_label=samples_per_label, label_column_name="label")
    idxs, expected = None, []
    for i in range(n_experiments):
        _, idxs, selected = cls._undersample_data(fake, _Rows(labels), i, idxs)
        expected.append(selected)
    opts = classification.Options(n_experiments=n_experiments, samples_per_label=samples_per_label, seed=seed)
    got = classification.undersample(np.array(labels), opts)
    assert [g.tolist() for g in got] == expected


# ---------------------------------------------------------------- nAUC


@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 3), min_size=n, max_size=n).map(lambda v: np.array(v, float) / 3),
            st.lists(st.integers(0, 4), min_size=n, max_size=n).map(lambda v: np.array(v, float) / 4),
        )
    )
)
def test_nauc_matches_mteb(case) -> None:
    rm = pytest.importorskip("mteb._evaluators.retrieval_metrics")
    conf, metric = case
    expected = rm.nauc(conf, metric)
    got = _retrieval_metrics.nauc(conf, metric)
    if np.isnan(expected):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(expected, abs=1e-12)


def test_confidences_match_mteb() -> None:
    rm = pytest.importorskip("mteb._evaluators.retrieval_metrics")
    rows = [[0.9, 0.5, 0.5, 0.1], [0.3], []]
    padded = np.full((3, 4), np.nan)
    for i, r in enumerate(rows):
        padded[i, : len(r)] = r
    got = _retrieval_metrics.confidences(padded)
    for i, r in enumerate(rows):
        exp = rm.confidence_scores(r)
        np.testing.assert_allclose(got[i], [exp["max"], exp["std"], exp["diff1"]], atol=1e-15)
