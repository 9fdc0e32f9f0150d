"""Model adapters: lexical baselines against hand-computed formulas, neural adapters against each other."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.errors import ModelError
from harness.models import load_model

CORPUS = ["the cat sat on the mat", "dogs chase the cat", "a bird sings", "the the the cat cat"]


def bm25_by_hand(query: str, doc: str, corpus: list[str], k1: float = 1.5, b: float = 0.75) -> float:
    docs = [d.split() for d in corpus]
    avgdl = sum(len(d) for d in docs) / len(docs)
    words = doc.split()
    score = 0.0
    for term in query.split():
        df = sum(term in d for d in docs)
        idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        tf = words.count(term)
        score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(words) / avgdl))
    return score


def test_bm25_dot_product_is_the_bm25_score() -> None:
    model = load_model("bm25")
    model.fit(CORPUS)
    queries = ["cat", "the cat", "bird sings loudly", "cat cat"]
    scores = (model.encode(queries, role="query") @ model.encode(CORPUS, role="document").T).toarray()
    expected = [[bm25_by_hand(q, d, CORPUS) for d in CORPUS] for q in queries]
    np.testing.assert_allclose(scores, expected, rtol=1e-5)
    assert model.info.similarity == "dot"


def test_tfidf_matches_sklearn_vectorizer() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    model = load_model("tfidf")
    model.fit(CORPUS)
    ours = model.encode(CORPUS).toarray()
    reference = TfidfVectorizer(sublinear_tf=True, token_pattern=r"(?u)\b\w+\b").fit_transform(CORPUS).toarray()
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-7)


def test_random_is_seeded_and_batch_independent() -> None:
    model = load_model("random")
    together = model.encode(["a", "b", "c"])
    alone = model.encode(["b"])
    np.testing.assert_array_equal(together[1], alone[0])
    assert not np.allclose(load_model("random", seed=1).encode(["b"]), alone)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1, rtol=1e-6)


def test_unknown_model_suggests_a_close_name() -> None:
    with pytest.raises(ModelError, match="did you mean minilm-l6"):
        load_model("minilm-l7")


def test_hub_model_offline_fails_with_one_line() -> None:
    model = load_model("sentence-transformers/definitely-not-here")
    with pytest.raises(ModelError) as info:
        model.encode(["x"])
    assert "\n" not in str(info.value) and "definitely-not-here" in str(info.value)


SENTENCES = ["A man is playing a guitar.", "The stock market fell sharply today.", "Cats are small furry animals."]


def test_onnx_int8_minilm_agrees_with_the_float_model() -> None:
    dense = load_model("minilm-l6").encode(SENTENCES)
    quantised = load_model("minilm-l6-int8").encode(SENTENCES)
    assert quantised.shape == dense.shape == (3, 384)
    cosines = (dense * quantised).sum(1) / np.linalg.norm(dense, axis=1) / np.linalg.norm(quantised, axis=1)
    assert cosines.min() > 0.95


def test_onnx_l3_is_pooled_and_batch_invariant() -> None:
    model = load_model("minilm-l3-onnx")
    batch = model.encode(SENTENCES)
    single = model.encode(SENTENCES[1:2])
    assert batch.shape == (3, 384) and batch.dtype == np.float32
    np.testing.assert_allclose(batch[1], single[0], atol=1e-5)


def test_matryoshka_dim_truncates_and_renormalises() -> None:
    full = load_model("minilm-l6").encode(SENTENCES)
    cut = load_model("minilm-l6", dim=64).encode(SENTENCES)
    expected = full[:, :64] / np.linalg.norm(full[:, :64], axis=1, keepdims=True)
    np.testing.assert_allclose(cut, expected, atol=1e-6)
