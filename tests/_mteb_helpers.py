"""Shared by the mteb parity tests: run one mteb task and our evaluator on the same vectors.

``run_mteb`` builds nothing: it evaluates an mteb task over a local ``datasets`` object
(``data_loaded = True``) with a fake encoder that looks texts up in a fixed table; ``run_ours``
feeds the same table to our evaluator; ``assert_agree`` compares every metric mteb reports
(1e-6; 1e-5 for the retrieval means mteb rounds to 5 decimals). Import it after
``pytest.importorskip("mteb")`` (``conftest.py`` points mteb's cache at a temporary folder).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pytest
from datasets import Dataset, DatasetDict
from mteb.abstasks.classification import AbsTaskClassification
from mteb.abstasks.clustering import AbsTaskClustering
from mteb.abstasks.pair_classification import AbsTaskPairClassification
from mteb.abstasks.retrieval import AbsTaskRetrieval
from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData
from mteb.abstasks.task_metadata import TaskMetadata
from mteb.abstasks.text.summarization import AbsTaskSummarization
from mteb.models.model_meta import ScoringFunction
from mteb.similarity_functions import select_pairwise_similarity, select_similarity

from harness.data import types
from harness.evaluators import get_evaluator
from harness.evaluators.base import EvalOutput, TextGroup

ROUNDED = ("ndcg_at_", "map_at_", "recall_at_", "precision_at_", "hit_rate_at_", "accuracy")


class FakeEncoder:
    """An mteb encoder returning fixed vectors looked up by text."""

    mteb_model_meta = None

    def __init__(self, table: dict[str, np.ndarray], similarity: str = "cosine") -> None:
        self.table = table
        self.fn = ScoringFunction(similarity)

    def encode(self, inputs: Any, **kwargs: Any) -> np.ndarray:
        texts = [t for batch in inputs for t in batch["text"]]
        return np.stack([self.table[t] for t in texts]).astype(np.float32)

    def similarity(self, a: Any, b: Any) -> Any:
        return select_similarity(a, b, self.fn)

    def similarity_pairwise(self, a: Any, b: Any) -> Any:
        return select_pairwise_similarity(a, b, self.fn)


def hashed(text: str, dim: int = 24) -> np.ndarray:
    """A float32 vector of shape (dim,) drawn from a generator seeded by the text."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32)


def exact_vector(rng: np.random.Generator, dim: int) -> np.ndarray:
    """Four entries of +-1, the rest 0 (norm 2): cosines and dots are exact in float32, so ties
    are the same whatever the summation order (ours numpy, mteb torch)."""
    v = np.zeros(dim, np.float32)
    v[rng.choice(dim, 4, replace=False)] = rng.choice([-1.0, 1.0], 4)
    return v


def metadata(name: str, type_: str, main_score: str) -> TaskMetadata:
    return TaskMetadata(
        name=name,
        type=type_,
        main_score=main_score,
        description="local oracle task",
        reference="https://github.com/embeddings-benchmark/mteb",
        dataset={"path": "NA", "revision": "NA"},
        category="t2t",
        eval_splits=["test"],
        eval_langs=["eng-Latn"],
        date=("2022-12-22", "2022-12-22"),
        dialect=[],
        domains=[],
        task_subtypes=[],
        license="cc-by-4.0",
        annotations_creators="derived",
        modalities=["text"],
        sample_creation="found",
        bibtex_citation="",
    )


class PairsTask(AbsTaskPairClassification):
    metadata = metadata("LocalPairs", "PairClassification", "max_ap")


class ClassificationTask(AbsTaskClassification):
    metadata = metadata("LocalClassification", "Classification", "accuracy")


class ClusteringTask(AbsTaskClustering):
    metadata = metadata("LocalClustering", "Clustering", "v_measure")


class SummarizationTask(AbsTaskSummarization):
    metadata = metadata("LocalSummarization", "Summarization", "cosine_spearman")
    min_score = 0
    max_score = 5


def clustering_task(texts: list[str], labels: list[Any], **attrs: Any) -> ClusteringTask:
    """mteb's clustering task over ``texts`` with ``labels``, its attributes set from ``attrs``."""
    task = ClusteringTask()
    for key, value in attrs.items():
        setattr(task, key, value)
    task.dataset = DatasetDict({"test": Dataset.from_dict({"sentences": texts, "labels": labels})})
    return task


def retrieval_task(data: types.RetrievalData, **attrs: Any) -> AbsTaskRetrieval:
    """mteb's retrieval task (reranking when ``data.candidates`` is set), class attributes ``attrs``."""
    cls = type(
        "LocalRetrieval",
        (AbsTaskRetrieval,),
        {"metadata": metadata("LocalRetrieval", "Retrieval", "ndcg_at_10"), **attrs},
    )
    task = cls()
    split = RetrievalSplitData(
        corpus=Dataset.from_list([{"id": d, "title": "", "text": t} for d, t in data.corpus.items()]),
        queries=Dataset.from_list([{"id": q, "text": t} for q, t in data.queries.items()]),
        relevant_docs={q: dict(docs) for q, docs in data.qrels.items()},
        top_ranked={q: list(c) for q, c in data.candidates.items()} if data.candidates else None,
    )
    task.dataset = {"default": {"test": split}}
    return task


def run_mteb(task: Any, table: dict[str, np.ndarray], similarity: str) -> dict[str, Any]:
    """mteb's scores of ``task`` with the vectors of ``table`` (text -> vector)."""
    task.data_loaded = True
    scores = task.evaluate(
        FakeEncoder(table, similarity), "test", encode_kwargs={"batch_size": 64, "show_progress_bar": False}
    )
    return dict(scores["default"])


def run_ours(
    type_: str, data: Any, table: dict[str, np.ndarray], similarity: str, **options: Any
) -> tuple[EvalOutput, dict[str, TextGroup]]:
    """Our evaluator's output on ``data`` with the vectors of ``table``, and the groups it embedded."""
    module = get_evaluator(type_)
    opts = module.Options(**options)
    groups = module.text_groups(data, opts)
    embeddings = {name: np.stack([table[t] for t in g.texts]) for name, g in groups.items()}
    return module.evaluate(data, embeddings, opts, similarity), groups


def assert_agree(ours: dict[str, float], theirs: dict[str, Any], names: Any, rounded: bool = False) -> None:
    """Every metric of ``names`` mteb reports as a number equals ours (NaN: ours is absent or NaN)."""
    compared = 0
    for name in names:
        value = theirs.get(name)
        if not isinstance(value, float) or np.isnan(value):
            assert name not in ours or np.isnan(ours[name]), name
            continue
        tol = 1e-5 if rounded and name.startswith(ROUNDED) else 1e-6
        assert ours[name] == pytest.approx(value, abs=tol), name
        assert type(ours[name]) is float, name
        compared += 1
    assert compared > 0
