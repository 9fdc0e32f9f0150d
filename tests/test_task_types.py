"""Task types: each lives in one descriptor (``harness/tasktypes/``), and a new one is one module.

The design test registers an eighth type, bitext mining, entirely from this file (descriptor,
evaluator, row loader), runs it end to end through ``harness.evaluate`` with a hashing encoder,
and recomputes its main score from the stored items through ``harness.compare``.
"""

from __future__ import annotations

import ast
import json
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict

import harness
from harness.data.rows import RowSplits, column, texts
from harness.errors import SpecError
from harness.evaluators.base import EvalOutput, TextGroup
from harness.specs import TaskSpec
from harness.stats.items import task_statistic
from harness.store import iter_results
from harness.tasktypes import (
    BUILT_IN,
    ItemLayout,
    TaskTypeDescriptor,
    UnsupportedScore,
    get_task_type,
    register_task_type,
    task_type_names,
    unregister_task_type,
)

HARNESS = Path(__file__).resolve().parent.parent / "harness"

# ---------------------------------------------------------------- a toy eighth type, defined here


@dataclass
class BitextData:
    """Translation pairs: ``targets[i]`` translates ``sources[i]``."""

    sources: list[str]
    targets: list[str]


def bitext_rows(source: RowSplits) -> BitextData:
    """One row per pair: ``sentence1`` (source) and ``sentence2`` (its translation)."""
    cols, path = source.columns, source.path
    return BitextData(
        texts(column(source.rows, "sentence1", cols, path), "sentence1", cols, path),
        texts(column(source.rows, "sentence2", cols, path), "sentence2", cols, path),
    )


class BitextEvaluator:
    """Nearest-neighbour matching: a source is correct when its most similar target is its own."""

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")

    METRICS = ("accuracy",)

    def text_groups(self, data: BitextData, options: BaseModel) -> dict[str, TextGroup]:
        return {"sources": TextGroup(data.sources), "targets": TextGroup(data.targets)}

    def evaluate(self, data: BitextData, embeddings: Mapping[str, np.ndarray], options: BaseModel, similarity: str) -> EvalOutput:
        a, b = (np.asarray(embeddings[g], dtype=np.float32) for g in ("sources", "targets"))
        a, b = (m / np.linalg.norm(m, axis=1, keepdims=True) for m in (a, b))
        correct = (a @ b.T).argmax(axis=1) == np.arange(len(a))
        return EvalOutput({"accuracy": float(correct.mean())}, {"correct": correct})


def bitext_items(main_score: str) -> ItemLayout:
    if main_score != "accuracy":
        raise UnsupportedScore(f"bitext main score {main_score} is not a mean over pairs")
    return ItemLayout("mean", values=(("correct", 1),))


BITEXT = TaskTypeDescriptor(
    name="bitext_mining",
    label="Bitext mining",
    color="#000000",
    columns={"sentence1": "sentence1", "sentence2": "sentence2"},
    evaluator_target=BitextEvaluator(),
    rows=bitext_rows,
    items=bitext_items,
)


class HashingEncoder:
    """Bag of hashed words in ``dim`` dimensions: deterministic, no model."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def encode(self, texts: list[str], *, role: Any = None, task: Any = None, batch_size: int = 32) -> np.ndarray:
        out = np.full((len(texts), self.dim), 1e-3, dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, zlib.crc32(word.encode()) % self.dim] += 1.0
        return out


@pytest.fixture
def bitext_type() -> Iterator[TaskTypeDescriptor]:
    register_task_type(BITEXT)
    try:
        yield BITEXT
    finally:
        unregister_task_type(BITEXT.name)


def write_bitext_task(root: Path, n: int = 40) -> Path:
    words = [f"w{i}" for i in range(60)]
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(n):
        sentence = list(rng.choice(words, size=5, replace=False))
        rows.append({"sentence1": " ".join(sentence), "sentence2": " ".join(reversed(sentence)) + " x"})
    (root / "data" / "bitext").mkdir(parents=True)
    (root / "data" / "bitext" / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = root / "tasks" / "ToyBitext.yaml"
    spec.parent.mkdir()
    spec.write_text("name: ToyBitext\ntype: bitext_mining\nmain_score: accuracy\nsuite: [toy]\ndata: {local: bitext}\n")
    return spec


def test_a_new_task_type_is_one_descriptor(tmp_path: Path, bitext_type: TaskTypeDescriptor) -> None:
    spec = write_bitext_task(tmp_path)
    results = tmp_path / "results"
    for dim in (256, 8):
        run = harness.evaluate(HashingEncoder(dim), [spec], data_dir=tmp_path / "data", results_dir=results,
                               model_name=f"hash-{dim}", use_cache=False, verbose=False)
        assert [r.task_name for r in run.results] == ["ToyBitext"]
    stored = {r.model_name: r for r in iter_results(results)}
    assert set(stored) == {"hash-256", "hash-8"}
    assert stored["hash-256"].main_score == 1.0 > stored["hash-8"].main_score  # bags of words match exactly at 256 dims
    for result in stored.values():
        items = result.items()
        assert items["test.correct"].shape == (40,)
        observed = task_statistic("bitext_mining", "accuracy", "test", [items]).observed()[0]
        assert observed == result.main_score
    comparison = harness.compare(results, n_resamples=199)
    scores = comparison.intervals.set_index("model")["score"]
    assert scores["hash-256"] == 1.0 and scores["hash-8"] == stored["hash-8"].main_score
    assert not any("reproduce the stored main scores" in note for note in comparison.notes)
    assert len(comparison.pairs) == 1 and comparison.pairs["n_items"].iloc[0] == 40


def test_the_spec_schema_reads_the_registry(bitext_type: TaskTypeDescriptor) -> None:
    spec = TaskSpec(name="T", type="bitext_mining", main_score="accuracy", data={"local": "x"})
    assert spec.column_map == {"sentence1": "sentence1", "sentence2": "sentence2"}
    with pytest.raises(SpecError, match="main_score: 'f1' is not a bitext_mining metric"):
        TaskSpec(name="T", type="bitext_mining", main_score="f1", data={"local": "x"})
    with pytest.raises(SpecError, match="columns: unknown key 'score'"):
        TaskSpec(name="T", type="bitext_mining", main_score="accuracy", data={"local": "x"}, columns={"score": "s"})
    with pytest.raises(SpecError, match="unknown field"):
        TaskSpec(name="T", type="bitext_mining", main_score="accuracy", data={"local": "x"}, options={"k": 1})


def test_unknown_and_unregistered_types_are_refused(bitext_type: TaskTypeDescriptor) -> None:
    with pytest.raises(SpecError, match=r"type: Input should be .*\(did you mean bitext_mining\?\)") as err:
        TaskSpec(name="T", type="bitext_minning", main_score="accuracy", data={"local": "x"})
    assert "\n" not in str(err.value)
    unregister_task_type("bitext_mining")
    assert "bitext_mining" not in task_type_names()
    with pytest.raises(SpecError, match="type: Input should be"):
        TaskSpec(name="T", type="bitext_mining", main_score="accuracy", data={"local": "x"})
    with pytest.raises(SpecError, match="unknown task type 'bitext_mining'"):
        get_task_type("bitext_mining")
    register_task_type(BITEXT)  # the fixture unregisters it again
    assert get_task_type("bitext_mining") is BITEXT


def test_a_name_is_registered_once(bitext_type: TaskTypeDescriptor) -> None:
    with pytest.raises(SpecError, match="already registered"):
        register_task_type(TaskTypeDescriptor("sts", "STS", "#fff", {}, BitextEvaluator()))


# ---------------------------------------------------------------- the built-in types

# Main scores each built-in type recomputes from its items (and one it does not).
RECOMPUTABLE = {
    "retrieval": (["ndcg_at_10", "map_at_1000", "recall_at_100"], []),
    "reranking": (["map_at_1000", "ndcg_at_10", "mrr_at_10"], []),
    "classification": (["accuracy"], ["f1"]),
    "clustering": (["v_measure"], ["ami"]),
    "pair_classification": (["max_ap", "cosine_ap", "manhattan_ap", "euclidean_ap", "dot_ap", "similarity_ap"], ["max_f1"]),
    "sts": (["cosine_spearman", "cosine_pearson", "manhattan_spearman", "euclidean_pearson", "spearman", "pearson"], []),
    "summarization": (["cosine_spearman", "cosine_pearson", "dot_spearman", "dot_pearson", "spearman", "pearson"], []),
}


def test_every_built_in_type_has_a_descriptor() -> None:
    assert list(BUILT_IN) == task_type_names()[: len(BUILT_IN)] and set(RECOMPUTABLE) == set(BUILT_IN)
    for name in BUILT_IN:
        descriptor = get_task_type(name)
        assert descriptor.name == name and descriptor.label and descriptor.color.startswith("#")
        assert 0 < descriptor.tolerance <= 5e-3
        assert descriptor.row_loader is not None or descriptor.corpus
        supported, unsupported = RECOMPUTABLE[name]
        for main_score in supported:
            assert main_score in descriptor.evaluator.METRICS, (name, main_score)
            layout = descriptor.item_layout(main_score)
            assert layout.kind in ("mean", "correlation", "average_precision")
        for main_score in unsupported:
            assert main_score in descriptor.evaluator.METRICS
            with pytest.raises(UnsupportedScore):
                descriptor.item_layout(main_score)


def test_specs_default_to_each_types_columns() -> None:
    spec = TaskSpec(name="P", type="pair_classification", main_score="max_ap", data={"local": "x"}, columns={"sentence1": "a"})
    assert spec.column_map == {"sentence1": "a", "sentence2": "sentence2", "label": "labels"}


# A module outside the types' homes that names a built-in type as a string switches on it. These
# are the known exceptions, each with its reason; the list only shrinks.
ALLOWED: dict[str, str] = {
    "reproduce/reference.py": "its TOLERANCES table restates descriptor.tolerance (to be read from the descriptors)",
}


def _type_strings(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and node.value in BUILT_IN}


def test_no_module_outside_the_type_homes_names_a_type() -> None:
    homes = (HARNESS / "tasktypes", HARNESS / "evaluators", HARNESS / "data" / "rows.py")
    offenders = {}
    for path in sorted(HARNESS.rglob("*.py")):
        if any(path == home or home in path.parents for home in homes):
            continue
        rel = str(path.relative_to(HARNESS))
        found = _type_strings(path)
        if found and rel not in ALLOWED:
            offenders[rel] = sorted(found)
    assert offenders == {}


def test_importing_task_types_is_cheap() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from harness.tasktypes import get_task_type, task_type_names\n"
        "[get_task_type(t).columns for t in task_type_names()]\n"
        "print(sorted(m for m in ('sklearn', 'scipy', 'pandas', 'torch', 'harness.evaluators', 'harness.stats') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=HARNESS.parent, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
