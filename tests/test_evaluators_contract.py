"""Every evaluator module follows the contract of ``harness/evaluators/base.py``.

One small synthetic task per type runs through ``text_groups`` -> ``evaluate`` with dense,
CSR and fp16 embeddings; the tests check the output types, determinism and import hygiene.
"""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydantic
import pytest
import scipy.sparse as sp

from harness.data import types
from harness.evaluators import TASK_TYPES, get_evaluator
from harness.evaluators.base import EvalOutput, TextGroup

EVALUATORS = Path(__file__).resolve().parents[1] / "harness" / "evaluators"
MAIN_SCORE = {
    "sts": "cosine_spearman",
    "classification": "accuracy",
    "pair_classification": "max_ap",
    "clustering": "v_measure",
    "retrieval": "ndcg_at_10",
    "reranking": "map_at_1000",
    "summarization": "cosine_spearman",
}


pytestmark = pytest.mark.usefixtures("one_openmp_thread")  # conftest.py: k-means on one OpenMP thread


def vec(text: str, dim: int = 16) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dim)
    v[np.abs(v) < 0.6] = 0.0  # some zeros, so CSR input is genuinely sparse
    return v.astype(np.float32)


def sample_data(task_type: str):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(120)]
    if task_type == "sts":
        return types.STSData(words[:40], words[40:80], rng.uniform(0, 5, 40))
    if task_type == "pair_classification":
        return types.PairClassificationData(words[:40], words[40:80], rng.integers(0, 2, 40))
    if task_type == "classification":
        labels = np.array(["a", "b", "c"])[rng.integers(0, 3, 120)]
        return types.ClassificationData(words[:80], labels[:80], words[80:], labels[80:])
    if task_type == "clustering":
        return types.ClusteringData(words, rng.integers(0, 4, 120))
    if task_type in ("retrieval", "reranking"):
        corpus = {f"d{i}": w for i, w in enumerate(words[:60])}
        queries = {f"q{i}": w for i, w in enumerate(words[60:80])}
        qrels = {q: {f"d{j}": int(rng.integers(1, 3)) for j in rng.choice(60, 3, replace=False)} for q in queries}
        candidates = {q: [f"d{j}" for j in rng.choice(60, 12, replace=False)] for q in queries}
        return types.RetrievalData(corpus, queries, qrels, candidates if task_type == "reranking" else None)
    if task_type == "summarization":
        human = [[f"h{i}_{j}" for j in range(2)] for i in range(10)]
        machine = [[f"m{i}_{j}" for j in range(6)] for i in range(10)]
        return types.SummarizationData(human, machine, rng.integers(1, 6, (10, 6)).astype(float).tolist())
    raise AssertionError(task_type)


def embed(groups: dict[str, TextGroup], kind: str) -> dict[str, object]:
    """Vectors of each group as ``kind``: dense float32, CSR, fp16, or float32 holding the fp16
    roundings (``fp16_values``)."""
    out = {}
    for name, group in groups.items():
        dense = np.stack([vec(t) for t in group.texts])
        half = dense.astype(np.float16)
        out[name] = {"dense": dense, "csr": sp.csr_matrix(dense), "fp16": half, "fp16_values": half.astype(np.float32)}[kind]
    return out


def run(task_type: str, kind: str = "dense", similarity: str = "cosine", **options) -> EvalOutput:
    module = get_evaluator(task_type)
    opts = module.Options(**options)
    data = sample_data(task_type)
    return module.evaluate(data, embed(module.text_groups(data, opts), kind), opts, similarity)


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_module_exposes_the_contract(task_type: str) -> None:
    module = get_evaluator(task_type)
    assert issubclass(module.Options, pydantic.BaseModel)
    assert module.Options.model_config.get("extra") == "forbid"
    with pytest.raises(pydantic.ValidationError):
        module.Options(not_an_option=1)
    assert isinstance(module.METRICS, tuple) and all(isinstance(m, str) for m in module.METRICS)
    assert len(set(module.METRICS)) == len(module.METRICS)
    assert MAIN_SCORE[task_type] in module.METRICS
    assert callable(module.text_groups) and callable(module.evaluate)


@pytest.mark.parametrize("task_type", TASK_TYPES)
@pytest.mark.parametrize("similarity", ["cosine", "dot"])
def test_output_types_and_documented_items(task_type: str, similarity: str) -> None:
    module = get_evaluator(task_type)
    out = run(task_type, similarity=similarity)
    assert isinstance(out, EvalOutput)
    assert set(out.metrics) <= set(module.METRICS)
    for name, value in out.metrics.items():
        assert type(value) is float, name  # Python floats, not numpy scalars
    assert np.isfinite(out.metrics[MAIN_SCORE[task_type]])
    json.dumps(out.metrics)
    assert out.items
    for key, array in out.items.items():
        assert isinstance(array, np.ndarray), key
        assert array.dtype.kind in "biufU", (key, array.dtype)
        assert key in (module.__doc__ or ""), f"item {key!r} is not documented"


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_same_call_twice_gives_identical_scores(task_type: str) -> None:
    first, second = run(task_type), run(task_type)
    assert first.metrics == pytest.approx(second.metrics, abs=0, rel=0, nan_ok=True)
    for key in first.items:
        np.testing.assert_array_equal(first.items[key], second.items[key])


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_sparse_inputs_score_like_dense(task_type: str) -> None:
    dense, sparse = run(task_type), run(task_type, kind="csr")
    assert set(sparse.metrics) == set(dense.metrics)
    for name in dense.metrics:
        assert sparse.metrics[name] == pytest.approx(dense.metrics[name], abs=1e-6, nan_ok=True), name


@pytest.mark.parametrize("task_type", TASK_TYPES)
@pytest.mark.parametrize("similarity", ["cosine", "dot"])
def test_half_precision_scores_as_float32_of_the_rounded_values(task_type: str, similarity: str) -> None:
    half = run(task_type, kind="fp16", similarity=similarity)
    rounded = run(task_type, kind="fp16_values", similarity=similarity)
    assert half.metrics == pytest.approx(rounded.metrics, abs=0, rel=0, nan_ok=True)
    assert set(half.items) == set(rounded.items)
    for key in rounded.items:
        np.testing.assert_array_equal(half.items[key], rounded.items[key], err_msg=key)


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_text_groups_are_typed_and_roles_set(task_type: str) -> None:
    module = get_evaluator(task_type)
    groups = module.text_groups(sample_data(task_type), module.Options())
    assert groups and all(isinstance(g, TextGroup) for g in groups.values())
    roles = {g.role for g in groups.values()}
    assert roles == ({"query", "document"} if task_type in ("retrieval", "reranking") else {None})


def test_classification_embeds_only_sampled_training_texts() -> None:
    module = get_evaluator("classification")
    opts = module.Options(n_experiments=2, samples_per_label=3)
    data = sample_data("classification")
    groups = module.text_groups(data, opts)
    assert len(groups["train"].texts) <= 2 * 3 * 3
    assert len(groups["test"].texts) == len(data.test_texts)
    out = module.evaluate(data, embed(groups, "dense"), opts, "cosine")
    assert out.items["correct"].shape == (2, len(data.test_texts))
    assert out.metrics["accuracy"] == pytest.approx(out.items["correct"].mean())


def test_unknown_type_suggests_close_match() -> None:
    with pytest.raises(ValueError, match="retrieval"):
        get_evaluator("retreival")


def test_no_heavy_or_forbidden_imports() -> None:
    forbidden = ("torch", "transformers", "mteb", "sentence_transformers", "datasets")
    harness_forbidden = tuple(
        f"harness.{m}" for m in ("models", "encode", "cache", "store", "report", "stats", "cli")
    )
    for path in EVALUATORS.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
                assert not name.startswith(harness_forbidden), f"{path.name} imports {name}"
    code = (
        "import sys; from harness.evaluators import TASK_TYPES, get_evaluator\n"
        "[get_evaluator(t) for t in TASK_TYPES]\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'mteb', 'sklearn', 'scipy')]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=EVALUATORS.parents[1])


def test_modules_stay_small() -> None:
    for path in EVALUATORS.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 300, path.name
