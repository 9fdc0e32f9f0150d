"""Binary/int8 retrieval with float rescoring (issue 22): hand-computed Hamming top-K, brute-force
oracles, the popcount fallback, variant names carrying K, and what the result records."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import harness
from harness.data.types import RetrievalData
from harness.evaluators import _ranking, retrieval
from harness.rescore import QuantisedIndex, RescoredRetrieval, popcount, ranked_runs
from harness.variants import Variant

RNG = np.random.default_rng(7)


def _runs(queries, docs, quantize, k, rescore, ids=None):
    ids = ids or [f"d{i}" for i in range(len(docs))]
    parts = list(ranked_runs(queries, QuantisedIndex(docs, quantize), _ranking.id_ranks(ids), k, rescore, 2**24))
    return np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])


def test_hamming_top_k_and_rescoring_by_hand() -> None:
    # 8 dims; sign bits of the documents (1 = positive):
    docs = np.array([
        [1, 1, 1, 1, -1, -1, -1, -1],     # d0 bits 11110000
        [1, 1, 1, -1, -1, -1, -1, -1],    # d1 bits 11100000
        [1, 1, -1, -1, -1, -1, -1, 1],    # d2 bits 11000001
        [-1, -1, -1, -1, 1, 1, 1, 1],     # d3 bits 00001111
    ], dtype=np.float32) * np.array([0.1, 0.9, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], dtype=np.float32)
    query = np.array([[0.9, 0.1, 0.8, 0.05, -0.3, -0.2, -0.1, -0.4]], dtype=np.float32)  # bits 11110000
    # Hamming to the query: d0 0, d1 1, d2 3, d3 8 -> similarity (8 - 2h) / 8 = 1, .75, .25, -1
    docs_k0, scores_k0 = _runs(query, docs, "binary", 4, 0)
    assert docs_k0.tolist() == [[0, 1, 2, 3]] and scores_k0.tolist() == [[1.0, 0.75, 0.25, -1.0]]
    # rescoring the top 3 by query . (±1 document): d0 .9+.1+.8+.05+.3+.2+.1+.4 = 2.85,
    # d1 .9+.1+.8-.05+.3+.2+.1+.4 = 2.75, d2 .9+.1-.8-.05+.3+.2+.1-.4 = 0.35; d3 stays 4th, unscored
    docs_k3, scores_k3 = _runs(query, docs, "binary", 4, 3)
    assert docs_k3.tolist() == [[0, 1, 2, 3]]
    np.testing.assert_allclose(scores_k3[0, :3], [2.85, 2.75, 0.35], rtol=1e-6)
    assert np.isnan(scores_k3[0, 3])
    # a query whose float values favour d1 over d0 once rescored (d0, d1 differ in bit 3 only)
    flipped = query.copy()
    flipped[0, 3] = -0.0001  # bits 11100000: Hamming d1 0, d0 1
    assert _runs(flipped, docs, "binary", 2, 0)[0].tolist() == [[1, 0]]
    # ties in Hamming go to the larger id; rescoring then orders by the float dot product
    tied = np.array([[1, 1, 1, 1, 1, 1, 1, 1]] * 3, dtype=np.float32)
    tied[1, 0] = 5.0  # same bits; d1 has the largest first value
    assert _runs(np.ones((1, 8), np.float32), tied, "binary", 3, 0)[0].tolist() == [[2, 1, 0]]
    assert _runs(np.array([[1, 0, 0, 0, 0, 0, 0, 0.5]], np.float32), tied, "binary", 1, 0)[0].tolist() == [[2]]


@pytest.mark.parametrize("quantize", ["binary", "int8"])
def test_two_stage_runs_match_brute_force(quantize: str) -> None:
    from sentence_transformers.util.quantization import quantize_embeddings

    docs = RNG.standard_normal((120, 64)).astype(np.float32)
    queries = RNG.standard_normal((9, 64)).astype(np.float32)
    if quantize == "binary":
        codes, query_codes = np.where(docs > 0, 1, -1), np.where(queries > 0, 1, -1)
    else:
        codes = quantize_embeddings(docs, "int8", calibration_embeddings=docs).astype(np.int64)
        query_codes = quantize_embeddings(queries, "int8", calibration_embeddings=docs).astype(np.int64)
    first = query_codes @ codes.T  # integers: dim - 2 * hamming, or the int8 dot product
    rescored = queries.astype(np.float64) @ codes.T
    got_docs, _ = _runs(queries, docs, quantize, 30, 12)
    for q in range(len(queries)):
        stage1 = sorted(range(len(docs)), key=lambda d: (first[q, d], f"d{d}"), reverse=True)[:30]  # ties: the larger id string
        head = sorted(stage1[:12], key=lambda d: -rescored[q, d])
        assert got_docs[q].tolist() == head + stage1[12:], q


def test_popcount_lookup_table_fallback_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    words = RNG.integers(0, 2**63, size=(5, 7), dtype=np.uint64)
    expected = np.array([[int(w).bit_count() for w in row] for row in words])
    np.testing.assert_array_equal(popcount(words), expected)
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    np.testing.assert_array_equal(popcount(words), expected)


def test_rescore_0_scores_as_the_binary_cosine_variant() -> None:
    """dim 64: the ±1 cosines are exact in float32, so even the ties agree with the plain path."""
    docs = RNG.standard_normal((80, 64)).astype(np.float32)
    queries = RNG.standard_normal((15, 64)).astype(np.float32)
    data = RetrievalData(corpus={f"d{i}": "" for i in range(80)}, queries={f"q{i}": "" for i in range(15)},
                         qrels={f"q{i}": {f"d{(7 * i) % 80}": 1, f"d{(3 * i + 1) % 80}": 2} for i in range(15)})
    options = retrieval.Options(k_values=(1, 5, 10))
    binary = Variant(quantize="binary")
    plain = retrieval.evaluate(data, {"queries": binary.apply(queries, docs), "corpus": binary.apply(docs, docs)}, options, "cosine")
    ours = RescoredRetrieval("binary", 0).evaluate(data, {"queries": queries, "corpus": docs}, options, "cosine")
    assert ours.metrics == plain.metrics
    full = RescoredRetrieval("binary", 80).evaluate(data, {"queries": queries, "corpus": docs}, options, "cosine")
    assert full.metrics != plain.metrics


class Hashing:
    def encode(self, texts, *, role=None, task=None, batch_size=32):
        return np.stack([np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(16) for t in texts]).astype(np.float32)


def test_variant_names_carry_k_and_results_record_k_and_bytes(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "tiny"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"_id": f"d{i}", "title": "", "text": f"doc {i}"}) + "\n" for i in range(30)))
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": f"q{i}", "text": f"query {i}"}) + "\n" for i in range(6)))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(f"q{i}\td{3 * i}\t1\n" for i in range(6)))
    specs = [harness.TaskSpec(name="Tiny", type="retrieval", main_score="ndcg_at_10", data={"local": "tiny"}), "WordSim353"]
    run = harness.evaluate(Hashing(), specs, model_name="me/hash", data_dir=tmp_path / "data", results_dir=tmp_path / "r",
                           use_cache=False, sweep=["quantize=binary,int8", "rescore=0,10"], verbose=False)
    stored = {r.model_name: r.data.harness.model for r in run.results}
    assert sorted(stored) == [f"me/hash@quantize={q},rescore={k}" for q in ("binary", "int8") for k in (0, 10)]
    assert stored["me/hash@quantize=binary,rescore=10"]["settings"].items() >= {"rescore": 10, "bytes_per_document": 2.0, "bytes_per_vector": 2.0}.items()
    assert stored["me/hash@quantize=int8,rescore=0"]["settings"]["bytes_per_document"] == 16
    assert {r.task_name for r in run.results} == {"Tiny"}  # WordSim353 (sts) skipped: nothing to rescore
    skipped = [o for o in run.summary.outcomes if o.status == "skipped"]
    assert len(skipped) == 4 and "not retrieval" in skipped[0].message
