"""Retrieval and reranking against pytrec_eval directly, hand-computed cases and invariances."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from harness.data.types import RetrievalData
from harness.errors import DataError
from harness.evaluators import retrieval, reranking

pytrec_eval = pytest.importorskip("pytrec_eval")


def run(data: RetrievalData, q: np.ndarray, d: np.ndarray, similarity: str = "dot", module=retrieval, **opts):
    return module.evaluate(data, {"queries": q, "corpus": d}, module.Options(**opts), similarity)


def one_query(doc_vectors: dict[str, list[float]], qrels: dict[str, int], query: list[float] | None = None):
    corpus = {d: f"text {d}" for d in doc_vectors}
    data = RetrievalData(corpus, {"q": "query"}, {"q": qrels})
    q = np.array([query or [1.0, 0.0]], np.float32)
    return data, q, np.array(list(doc_vectors.values()), np.float32)


# ---------------------------------------------------------------- hand-computed


def test_three_doc_ndcg_by_hand() -> None:
    # ranking by dot with query (1, 0): b (0.9), a (0.5), c (0.1); grades a=2, b=0, c=1
    data, q, d = one_query({"a": [0.5, 0], "b": [0.9, 0], "c": [0.1, 0]}, {"a": 2, "b": 0, "c": 1})
    m = run(data, q, d, k_values=(1, 2, 3)).metrics
    dcg3 = 0 / math.log2(2) + 2 / math.log2(3) + 1 / math.log2(4)
    idcg3 = 2 / math.log2(2) + 1 / math.log2(3)
    assert m["ndcg_at_3"] == pytest.approx(dcg3 / idcg3, abs=1e-12)
    assert m["ndcg_at_3"] == pytest.approx(0.66967181649423, abs=1e-12)
    assert m["ndcg_at_1"] == 0.0
    assert m["ndcg_at_2"] == pytest.approx((2 / math.log2(3)) / idcg3, abs=1e-12)
    assert m["map_at_3"] == pytest.approx((1 / 2 + 2 / 3) / 2, abs=1e-12)
    assert m["recall_at_2"] == 0.5 and m["recall_at_3"] == 1.0
    assert m["precision_at_2"] == 0.5 and m["precision_at_3"] == pytest.approx(2 / 3)
    assert m["mrr_at_1"] == 0.0 and m["mrr_at_2"] == 0.5
    assert m["hit_rate_at_1"] == 0.0 and m["hit_rate_at_2"] == 1.0
    assert m["accuracy"] == m["recall_at_1"] == 0.0


@pytest.mark.parametrize(("relevant", "expected_mrr"), [("b", 1.0), ("a", 0.5)])
def test_tied_scores_rank_larger_doc_id_first(relevant: str, expected_mrr: float) -> None:
    data, q, d = one_query({"a": [0.5, 0], "b": [0.5, 0], "c": [0.1, 0]}, {relevant: 1})
    assert run(data, q, d, k_values=(1, 3)).metrics["mrr_at_3"] == expected_mrr


def test_precision_divides_by_k_when_fewer_docs_retrieved() -> None:
    data, q, d = one_query({"a": [1, 0], "b": [0, 1]}, {"a": 1})
    m = run(data, q, d, k_values=(1, 5)).metrics
    assert m["precision_at_5"] == pytest.approx(1 / 5)
    assert m["recall_at_5"] == 1.0 and m["ndcg_at_5"] == 1.0


def test_judged_doc_missing_from_corpus_counts_in_denominators() -> None:
    data, q, d = one_query({"a": [1, 0], "b": [0, 1]}, {"a": 1, "gone": 1})
    m = run(data, q, d, k_values=(2,)).metrics
    assert m["recall_at_2"] == 0.5
    assert m["ndcg_at_2"] == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_queries_filtered_and_averaged_as_mteb() -> None:
    corpus = {"a": "x", "b": "y"}
    queries = {"q1": "1", "q2": "2", "q3": "3", "nojudgement": "4"}
    qrels = {"q1": {"a": 1}, "q2": {"a": 0}, "q3": {}}  # q2 judged but not relevant; q3 empty
    data = RetrievalData(corpus, queries, qrels)
    groups = retrieval.text_groups(data, retrieval.Options())
    assert groups["queries"].texts == ["1", "2"] and groups["queries"].role == "query"
    assert groups["corpus"].role == "document"
    q = np.array([[1, 0], [1, 0]], np.float32)
    out = run(data, q, np.eye(2, dtype=np.float32), k_values=(1,))
    assert out.metrics["ndcg_at_1"] == 0.5  # (1 + 0) / 2: q2 counts as 0
    assert list(out.items["query_ids"]) == ["q1", "q2"]


def test_qrels_query_without_text_is_a_data_error() -> None:
    data = RetrievalData({"a": "x"}, {"q1": "1"}, {"q1": {"a": 1}, "q9": {"a": 1}})
    with pytest.raises(DataError, match="q9"):
        retrieval.text_groups(data, retrieval.Options())


# ---------------------------------------------------------------- pytrec_eval oracle


def _exact_vectors(rng: np.random.Generator, n: int, dim: int = 12) -> np.ndarray:
    """Four entries of +-1 (norm 2): cosines are exact multiples of 1/4 whatever the summation
    order (BLAS, sparse, fp16), so ties are real ties on every path."""
    v = np.zeros((n, dim), np.float32)
    for row in v:
        row[rng.choice(dim, 4, replace=False)] = rng.choice([-1.0, 1.0], 4)
    return v


def _random_task(seed: int, n_docs: int = 60, n_q: int = 25):
    rng = np.random.default_rng(seed)
    doc_ids = [f"doc{rng.integers(10**6)}-{i}" for i in range(n_docs)]  # ids not in index order
    corpus = {d: d for d in doc_ids}
    queries = {f"q{i}": f"q{i}" for i in range(n_q)}
    qrels = {}
    for qid in queries:
        docs = rng.choice(doc_ids, size=int(rng.integers(1, 8)), replace=False)
        qrels[qid] = {str(d): int(rng.integers(0, 4)) for d in docs}  # graded, several relevant
    return RetrievalData(corpus, queries, qrels), _exact_vectors(rng, n_q), _exact_vectors(rng, n_docs)


@pytest.mark.parametrize(("seed", "k_values"), [(0, (1, 2, 3, 5, 10, 60)), (1, (1, 2, 3, 5, 10, 20)), (2, (3, 7))])
def test_every_cutoff_matches_pytrec_eval_with_ties(seed: int, k_values: tuple[int, ...]) -> None:
    """Ties everywhere (scores in steps of 1/4); trec_eval ranks the *full* run, so any doc we
    cut at the top-k boundary (max(k_values) < 60 docs) must be the one trec_eval ranks below k."""
    data, q, d = _random_task(seed)
    out = run(data, q, d, "cosine", k_values=k_values)
    qn, dn = q / np.linalg.norm(q, axis=1, keepdims=True), d / np.linalg.norm(d, axis=1, keepdims=True)
    full = (qn @ dn.T).astype(np.float64)
    doc_ids = list(data.corpus)
    run_dict = {qid: dict(zip(doc_ids, full[i].tolist())) for i, qid in enumerate(data.queries)}
    cuts = ",".join(map(str, k_values))
    measures = {f"ndcg_cut.{cuts}", f"map_cut.{cuts}", f"recall.{cuts}", f"P.{cuts}", f"success.{cuts}", "recip_rank"}
    trec = pytrec_eval.RelevanceEvaluator(data.qrels, measures).evaluate(run_dict)
    names = list(out.items["metric_names"])
    pairs = {"ndcg": "ndcg_cut", "map": "map_cut", "recall": "recall", "precision": "P", "hit_rate": "success"}
    for i, qid in enumerate(out.items["query_ids"]):
        for ours_kind, trec_kind in pairs.items():
            for k in k_values:
                got = out.items["values"][i, names.index(f"{ours_kind}_at_{k}")]
                assert got == pytest.approx(trec[qid][f"{trec_kind}_{k}"], abs=1e-12), (qid, ours_kind, k)
        if max(k_values) == len(doc_ids):  # unbounded reciprocal rank
            assert out.items["values"][i, names.index("mrr_at_60")] == pytest.approx(trec[qid]["recip_rank"])
    k = k_values[-1]
    mean = np.mean([trec[qid][f"ndcg_cut_{k}"] for qid in trec])
    assert len(trec) == len(data.qrels)
    assert out.metrics[f"ndcg_at_{k}"] == pytest.approx(mean, abs=1e-12)


def test_mrr_matches_mteb_mrr_function() -> None:
    metrics_mod = pytest.importorskip("mteb._evaluators.retrieval_metrics")
    data, q, d = _random_task(3)
    k_values = (1, 3, 5, 10)
    out = run(data, q, d, "dot", k_values=k_values)
    scores = (q @ d.T).astype(np.float64)
    run_dict = {qid: dict(zip(data.corpus, scores[i].tolist())) for i, qid in enumerate(data.queries)}
    expected = metrics_mod.mrr(data.qrels, run_dict, list(k_values))
    names = list(out.items["metric_names"])
    for k in k_values:
        np.testing.assert_allclose(out.items["values"][:, names.index(f"mrr_at_{k}")], expected[f"MRR@{k}"])


# ---------------------------------------------------------------- invariances


def test_chunking_sparse_and_fp16_do_not_change_scores() -> None:
    data, q, d = _random_task(4)
    base = run(data, q, d, "cosine")
    chunked = run(data, q, d, "cosine", max_chunk_scores=7)
    sparse = run(data, sp.csr_matrix(q), sp.csr_matrix(d), "cosine")
    half = run(data, q.astype(np.float16), d.astype(np.float16), "cosine")
    for other in (chunked, sparse, half):
        assert other.metrics == pytest.approx(base.metrics, abs=1e-12, nan_ok=True)
        np.testing.assert_allclose(other.items["values"], base.items["values"])
    again = run(data, q, d, "cosine")
    assert again.metrics == pytest.approx(base.metrics, abs=0, rel=0, nan_ok=True)


def test_corpus_larger_than_k_keeps_exact_top_k() -> None:
    rng = np.random.default_rng(5)
    data, q, d = _random_task(5, n_docs=300)
    d = rng.standard_normal(d.shape).astype(np.float32)
    small = run(data, q, d, k_values=(1, 5, 10, 50))
    wide = run(data, q, d, k_values=(1, 5, 10, 50, 300))
    for name in ("ndcg_at_10", "map_at_50", "recall_at_50", "mrr_at_10"):
        assert small.metrics[name] == pytest.approx(wide.metrics[name], abs=1e-12)


def test_ignore_identical_ids_drops_self_hits_after_top_k() -> None:
    corpus = {"a": "x", "b": "y", "c": "z"}
    data = RetrievalData(corpus, {"a": "x"}, {"a": {"b": 1}})
    q = np.array([[1, 0]], np.float32)
    d = np.array([[1, 0], [0.5, 0], [0.4, 0]], np.float32)
    kept = run(data, q, d, k_values=(1, 2))
    dropped = run(data, q, d, k_values=(1, 2), ignore_identical_ids=True)
    assert kept.metrics["mrr_at_2"] == 0.5 and dropped.metrics["mrr_at_2"] == 1.0
    # mteb removes self hits from the top-k run, so only k - 1 other docs remain
    assert dropped.metrics["precision_at_2"] == 0.5


# ---------------------------------------------------------------- reranking


def test_reranking_ranks_only_candidates() -> None:
    corpus = {"a": "x", "b": "y", "c": "z", "unused": "w"}
    data = RetrievalData(corpus, {"q": "1", "r": "2"}, {"q": {"b": 1}, "r": {"a": 1}}, {"q": ["b", "c", "b"]})
    groups = reranking.text_groups(data, reranking.Options())
    assert groups["corpus"].texts == ["y", "z"]  # candidates only, corpus order
    q = np.array([[1, 0], [1, 0]], np.float32)
    d = np.array([[0.1, 0], [0.9, 0]], np.float32)  # b, c
    out = run(data, q, d, module=reranking, k_values=(1, 2))
    # q: c ranked above b -> MRR 0.5; r has no candidates -> empty run, 0
    np.testing.assert_allclose(out.items["values"][:, list(out.items["metric_names"]).index("mrr_at_2")], [0.5, 0])
    assert out.metrics["map_at_2"] == pytest.approx(0.25)


def test_reranking_unknown_candidate_is_a_data_error() -> None:
    data = RetrievalData({"a": "x"}, {"q": "1"}, {"q": {"a": 1}}, {"q": ["a", "zz"]})
    with pytest.raises(DataError, match="zz"):
        reranking.text_groups(data, reranking.Options())
