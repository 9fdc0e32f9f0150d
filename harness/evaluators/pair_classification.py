"""Pair classification, scored as mteb 2.x ``AbsTaskPairClassification``.

Each pair gets five scores: the model's similarity, cosine similarity, Manhattan and Euclidean
distance (sklearn ``paired_*_distances``; lower = more similar) and the dot product. For each,
mteb reports the best accuracy and the best F1 (with its precision and recall) over thresholds
between consecutive distinct scores, and the average precision; ``max_<metric>`` is the best of
the five. Main score: ``max_ap``.

Items (all of shape (n_pairs,)):
    ``labels``: int64 gold label (1 = duplicate/paraphrase).
    ``similarity_scores``, ``cosine_scores``, ``dot_scores``: float64 similarities.
    ``manhattan_distances``, ``euclidean_distances``: float64 distances (positive, as mteb).
Any metric is recomputable on a resample ``idx`` from ``labels[idx]`` and the scores.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from harness.data.types import PairClassificationData
from harness.evaluators._metrics import average_precision, best_accuracy, best_f1, as_floats
from harness.evaluators._similarity import as_matrix, paired_distances, paired_dot, paired_similarity
from harness.evaluators.base import EvalOutput, Similarity, TextGroup
from harness.tasktypes.pair_classification import SCORES as SCORE_TABLE


class Options(BaseModel):
    """Pair classification has no settings in mteb."""

    model_config = ConfigDict(extra="forbid")


# (metric prefix, item key, higher score = more similar), in mteb's order
SCORES: tuple[tuple[str, str, bool], ...] = tuple((prefix, key, sign > 0) for prefix, (key, sign) in SCORE_TABLE.items())
_KINDS = ("accuracy", "f1", "precision", "recall", "ap")
METRICS: tuple[str, ...] = tuple(
    f"{prefix}_{kind}" for prefix, _, _ in SCORES for kind in _KINDS
) + tuple(f"max_{kind}" for kind in _KINDS)


def text_groups(data: PairClassificationData, options: Options) -> dict[str, TextGroup]:
    """The two sides of the pairs, each of length n_pairs (symmetric: no role)."""
    return {"sentence1": TextGroup(list(data.sentence1)), "sentence2": TextGroup(list(data.sentence2))}


def pair_scores(e1: object, e2: object, similarity: Similarity) -> dict[str, np.ndarray]:
    """The five per-pair scores of mteb's ``PairClassificationEvaluator``, float64 (n_pairs,)."""
    e1, e2 = as_matrix(e1), as_matrix(e2)
    generic = paired_distances(e1, e2)
    return {
        "similarity_scores": paired_similarity(e1, e2, similarity),
        "cosine_scores": generic["cosine"],
        "manhattan_distances": generic["manhattan"],
        "euclidean_distances": generic["euclidean"],
        "dot_scores": paired_dot(e1, e2),
    }


def metrics_from_scores(labels: np.ndarray, items: dict[str, np.ndarray]) -> dict[str, float]:
    """All :data:`METRICS` from gold labels (n_pairs,) and the per-pair scores."""
    metrics: dict[str, float] = {}
    for prefix, key, higher in SCORES:
        scores = items[key]
        f1, precision, recall = best_f1(scores, labels, higher)
        metrics[f"{prefix}_accuracy"] = best_accuracy(scores, labels, higher)
        metrics[f"{prefix}_f1"] = f1
        metrics[f"{prefix}_precision"] = precision
        metrics[f"{prefix}_recall"] = recall
        metrics[f"{prefix}_ap"] = average_precision(labels, scores if higher else -scores)
    for kind in _KINDS:
        metrics[f"max_{kind}"] = max(metrics[f"{prefix}_{kind}"] for prefix, _, _ in SCORES)
    return metrics


def evaluate(
    data: PairClassificationData,
    embeddings: dict[str, object],
    options: Options,
    similarity: Similarity,
) -> EvalOutput:
    """Score labelled pairs.

    Args:
        data: pairs and {0, 1} labels (n_pairs).
        embeddings: ``sentence1`` and ``sentence2``, each of shape (n_pairs, dim).
        options: :class:`Options`.
        similarity: the model's similarity function.

    Returns:
        :data:`METRICS` (all in [0, 1], higher = better) and the items above.
    """
    labels = np.asarray(data.labels, dtype=np.int64)
    items = pair_scores(embeddings["sentence1"], embeddings["sentence2"], similarity)
    metrics = metrics_from_scores(labels, items)
    items["labels"] = labels
    return EvalOutput(metrics=as_floats(metrics), items=items)
