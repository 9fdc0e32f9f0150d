"""In-memory task data, one dataclass per task type.

Loaders (``rows.py``, ``beir.py``, ``hub.py``, ``builders/``) produce these; evaluators consume
them together with embeddings. Texts are plain ``list[str]``; labels and gold scores are numpy
arrays aligned with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import numpy as np


@dataclass
class STSData:
    """Sentence pairs with gold similarity.

    Attributes:
        sentence1, sentence2: lists of length n_pairs.
        scores: float array of shape (n_pairs,), gold similarity (any range; higher = closer).
    """

    sentence1: list[str]
    sentence2: list[str]
    scores: np.ndarray


@dataclass
class PairClassificationData:
    """Sentence pairs with a binary label (1 = duplicate/paraphrase, 0 = not).

    Attributes:
        sentence1, sentence2: lists of length n_pairs.
        labels: int array of shape (n_pairs,) with values in {0, 1}.
    """

    sentence1: list[str]
    sentence2: list[str]
    labels: np.ndarray


@dataclass
class ClassificationData:
    """Labelled texts with a train split (for the logistic-regression probe) and a test split.

    Attributes:
        train_texts, test_texts: lists of texts.
        train_labels, test_labels: arrays aligned with the texts (ints or strings).
    """

    train_texts: list[str]
    train_labels: np.ndarray
    test_texts: list[str]
    test_labels: np.ndarray


@dataclass
class ClusteringData:
    """Texts with a gold cluster label each.

    Attributes:
        texts: list of length n_texts.
        labels: array of shape (n_texts,) (ints or strings).
        sets: None, or int array of shape (n_texts,): the row of mteb's hub layout (one row =
            one list of texts = one clustering set) each text came from, 0-based in row order.
            Only the legacy clustering protocol (one k-means per set) uses it.
    """

    texts: list[str]
    labels: np.ndarray
    sets: np.ndarray | None = None


@dataclass
class RetrievalData:
    """A BEIR-style retrieval (or reranking) task.

    Attributes:
        corpus: doc id -> document text (title and body already joined as mteb joins them).
        queries: query id -> query text.
        qrels: query id -> {doc id: graded relevance (int, > 0 relevant)}.
        candidates: for reranking only, query id -> the doc ids to rank; None for full retrieval.
        query_groups: optional query id -> group label (e.g. the designed document length) for
            the per-group breakdown of the main score; None = bucket by relevant-document length.
    """

    corpus: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    candidates: dict[str, list[str]] | None = None
    query_groups: dict[str, str] | None = None


@dataclass
class SummarizationData:
    """Machine summaries of texts, each with a human relevance score, plus human summaries.

    Attributes:
        human_summaries: per text, a list of reference summaries.
        machine_summaries: per text, a list of machine summaries.
        relevance: per text, a list of floats aligned with ``machine_summaries``.
    """

    human_summaries: list[list[str]]
    machine_summaries: list[list[str]]
    relevance: list[list[float]] = field(default_factory=list)


TaskData = Union[
    STSData,
    PairClassificationData,
    ClassificationData,
    ClusteringData,
    RetrievalData,
    SummarizationData,
]
