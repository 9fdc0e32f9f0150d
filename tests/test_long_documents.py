"""Long documents: window splitting and pooling by hand, the encode path's strategies, the generators."""

from __future__ import annotations

import re

import numpy as np
import pytest

from harness import long_documents
from harness.data.builders import get_builder
from harness.encode import encode_groups
from harness.evaluators.base import TextGroup
from harness.models import Encoder, ModelInfo
from harness.specs import TaskSpec


def word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"\S+", text)]


def test_split_into_overlapping_windows_by_hand() -> None:
    text = "a b c d e f g"
    windows, owner = long_documents.split([text, "x y"], [word_spans(text), word_spans("x y")], size=3, overlap=1)
    assert windows == ["a b c", "c d e", "e f g", "x y"]
    assert owner.tolist() == [0, 0, 0, 1]
    with pytest.raises(ValueError, match="overlap"):
        long_documents.split([text], [word_spans(text)], size=2, overlap=2)


def test_pooling_by_hand() -> None:
    vectors = np.array([[1.0, 0.0], [3.0, -2.0], [5.0, 5.0]], dtype=np.float32)
    owner = np.array([0, 0, 1])
    np.testing.assert_array_equal(long_documents.pool(vectors, owner, 2, "chunk_mean"), [[2.0, -1.0], [5.0, 5.0]])
    np.testing.assert_array_equal(long_documents.pool(vectors, owner, 2, "chunk_max"), [[3.0, 0.0], [5.0, 5.0]])


class WordModel(Encoder):
    """Max 4 tokens (2 content tokens after [CLS]/[SEP]); vector = (number of words, first letter code)."""

    splits_tokens = True

    def __init__(self) -> None:
        self.info = ModelInfo(name="t/words", revision="1", max_tokens=4)
        self.seen: list[str] = []

    def token_spans(self, texts):
        return [word_spans(t) for t in texts]

    def encode(self, texts, **_):
        self.seen.extend(texts)
        return np.array([[len(t.split()), ord(t[0])] for t in texts], dtype=np.float32)


@pytest.mark.parametrize(
    ("strategy", "expected", "windows"),
    [("truncate", [5.0, 97.0], ["a b c d e"]), ("chunk_mean", [5 / 3, 99.0], ["a b", "c d", "e"]), ("chunk_max", [2.0, 101.0], ["a b", "c d", "e"])],
)
def test_encode_path_strategies_and_counts(strategy: str, expected: list[float], windows: list[str]) -> None:
    task = TaskSpec(name="T", type="sts", main_score="cosine_spearman", data={"local": "x"}, long_documents={"strategy": strategy})
    model = WordModel()
    out, stats = encode_groups(model, {"a": TextGroup(["a b c d e", "z"])}, task=task)
    np.testing.assert_allclose(out["a"][0], expected)
    assert sorted(set(model.seen)) == sorted({*windows, "z"})
    assert stats.long_documents == {"texts": 2, "truncated": int(strategy == "truncate"), "chunked": int(strategy != "truncate"),
                                    "windows": 2 if strategy == "truncate" else 4}


@pytest.mark.parametrize("builder", ["longembed_passkey", "longembed_needle"])
def test_generators_are_deterministic_sized_and_answerable(builder: str) -> None:
    from harness.data.builders.longembed import _token_counter

    options = {"lengths": [256, 1024], "per_length": 4, "seed": 7}
    first, second = get_builder(builder)(options, None), get_builder(builder)(options, None)
    assert first == second
    assert first != get_builder(builder)({**options, "seed": 8}, None)
    count = _token_counter()
    for qid, question in first.queries.items():
        (doc,) = first.qrels[qid]
        length = int(first.query_groups[qid].removeprefix("len="))
        assert abs(count(first.corpus[doc]) - length) <= 0.1 * length
        person = re.search(r"of (.+)\?$|What is (.+)'s", question)
        assert (person.group(1) or person.group(2)) in first.corpus[doc]
        assert set(first.candidates[qid]) == {d for d in first.corpus if d.startswith(f"len{length}_")}
