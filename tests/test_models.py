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


# ---------------------------------------------------------------- the contract (harness.models.base.Encoder)


def test_load_model_always_returns_an_encoder() -> None:
    from harness.models import Encoder

    class Plain:
        def encode(self, texts, *, role=None):
            return np.ones((len(texts), 2))

    mine = load_model(Plain(), name="me/plain")
    for model in (load_model("random"), load_model("bm25"), load_model("minilm-l6"), mine):
        assert isinstance(model, Encoder)
    assert load_model(mine) is mine
    assert mine.info.name == "me/plain" and not mine.fits_on_corpus and not mine.splits_tokens
    np.testing.assert_array_equal(mine.encode(["a", "b"], role="query", task=None, batch_size=2), np.ones((2, 2)))
    assert load_model("bm25").fits_on_corpus and load_model("minilm-l6").splits_tokens


def test_an_adapter_registered_without_the_base_class_is_wrapped() -> None:
    from harness.models import Encoder, ModelInfo, register_adapter
    from harness.models.registry import ADAPTERS

    class Foreign:
        def __init__(self, size: int = 3) -> None:
            self.size = size
            self.info = ModelInfo(name="other/foreign", revision="7", similarity="dot")

        def encode(self, texts, **_):
            return np.ones((len(texts), self.size))

    register_adapter("test-foreign")(Foreign)
    try:
        model = load_model("test-foreign", size=5)
        assert isinstance(model, Encoder) and model.info.name == "other/foreign" and model.info.similarity == "dot"
        assert model.cache_identity() is None  # its identity is unknown: never cached
        assert model.encode(["x"]).shape == (1, 5)
        with pytest.raises(ModelError, match="already registered"):
            register_adapter("test-foreign")(type("Other", (Foreign,), {}))
    finally:
        ADAPTERS.unregister("test-foreign")
    with pytest.raises(ModelError, match="no encode method|not a class with an encode method"):
        register_adapter("test-broken")(type("Broken", (), {}))


def test_billed_models_are_known_by_name() -> None:
    from harness.models import is_billed

    assert is_billed("openai:text-embedding-3-small")
    assert not is_billed("random") and not is_billed("minilm-l6")


def test_list_models_describes_aliases_without_building_them(capsys: pytest.CaptureFixture[str]) -> None:
    """An alias whose packages are missing is listed as not installed, with its install command;
    listing never calls a factory (building mpnet unpacks 419 MB)."""
    from harness.cli import main
    from harness.models.registry import ALIASES, Alias

    def never() -> None:
        raise AssertionError("list models built an alias")

    ALIASES.register("test-missing", Alias(never, "sentence-transformers", "a model for this test", packages=("no-such-dist-xyz",),
                                           install="pip install --no-deps no-such-dist-xyz"))
    try:
        assert main(["list", "models"]) == 0
    finally:
        ALIASES.unregister("test-missing")
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("test-missing"))
    assert "not installed (pip install --no-deps no-such-dist-xyz)" in row
