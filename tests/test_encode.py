"""The encode path: dedup, order, validation of what a model returns."""

from __future__ import annotations

import numpy as np
import pytest

from harness.encode import encode_groups
from harness.errors import ModelError
from harness.evaluators.base import TextGroup
from harness.models import Encoder, ModelInfo
from harness.specs import TaskSpec

TASK = TaskSpec(name="T", type="sts", main_score="cosine_spearman", data={"local": "x"})


class Recorder(Encoder):
    """Encodes text i as [len(text), hash-ish]; remembers every call."""

    def __init__(self, result=None) -> None:
        self.info = ModelInfo(name="Recorder", revision="1")
        self.calls: list[tuple[list[str], object]] = []
        self.result = result

    def encode(self, texts, *, role, task, batch_size):
        self.calls.append((list(texts), role))
        if self.result is not None:
            return self.result(texts)
        return np.array([[len(t), sum(map(ord, t)) % 97] for t in texts], dtype=np.float32)


def test_dedup_per_role_and_original_order_restored() -> None:
    model = Recorder()
    groups = {
        "a": TextGroup(["xx", "y", "xx", "zzz"]),
        "b": TextGroup(["y", "zzz"]),
        "q": TextGroup(["y"], role="query"),
    }
    out, stats = encode_groups(model, groups, task=TASK, batch_size=2)
    encoded = [t for texts, role in model.calls if role is None for t in texts]
    assert sorted(encoded) == ["xx", "y", "zzz"]  # each distinct text once
    assert [t for texts, _ in model.calls if _ is None for t in texts] == ["zzz", "xx", "y"]  # longest first
    np.testing.assert_array_equal(out["a"][:, 0], [2, 1, 2, 3])
    np.testing.assert_array_equal(out["b"][:, 0], [1, 3])
    assert stats.texts == 7 and stats.unique_texts == 4  # "y" as query is encoded separately


@pytest.mark.parametrize(
    ("result", "fragment"),
    [
        (lambda texts: np.full((len(texts), 3), np.nan), "NaN or infinite"),
        (lambda texts: np.ones((len(texts) + 1, 3)), "shape (4, 3) for 3 texts"),
        (lambda texts: np.ones((len(texts), len(texts[0]))), "dimension changed"),
        (lambda texts: np.array([["a"] * 3] * len(texts)), "not numbers"),
    ],
)
def test_bad_vectors_are_model_errors(result, fragment) -> None:
    groups = {"a": TextGroup(["ccc", "bb", "dd", "e"])}
    with pytest.raises(ModelError, match="model 'Recorder' on task T") as info:
        encode_groups(Recorder(result), groups, task=TASK, batch_size=3)
    assert fragment in str(info.value)


def test_sparse_vectors_pass_through() -> None:
    import scipy.sparse as sp

    model = Recorder(lambda texts: sp.csr_matrix(np.array([[len(t), 0, 1] for t in texts], dtype=np.float32)))
    out, _ = encode_groups(model, {"a": TextGroup(["a", "bbb", "a"])}, task=TASK, batch_size=1)
    assert sp.issparse(out["a"])
    np.testing.assert_array_equal(out["a"].toarray()[:, 0], [1, 3, 1])
