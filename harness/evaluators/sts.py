"""Semantic textual similarity, scored as mteb 2.x ``AbsTaskSTS`` + ``AnySTSEvaluator``.

Each pair is scored with cosine similarity, negative Manhattan and negative Euclidean distance
(sklearn ``paired_*_distances``, as mteb) and with the model's own similarity; each score is
correlated with the gold score (scipy ``pearsonr`` / ``spearmanr``). Gold scores are first
normalised to ``(x - min_score) / (max_score - min_score)`` as mteb does (no effect on the
correlations beyond rounding). Main score: ``cosine_spearman``.

Items (all of shape (n_pairs,), float64):
    ``gold``: normalised gold score.
    ``cosine_scores``: cosine similarity.
    ``manhattan_distances``: negative Manhattan distance (higher = closer, as mteb).
    ``euclidean_distances``: negative Euclidean distance (higher = closer, as mteb).
    ``similarity_scores``: the model's similarity ("cosine" or "dot").
Any metric is ``corr(gold[idx], <scores>[idx])`` on a resample ``idx``.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from harness.data.types import STSData
from harness.evaluators._metrics import as_floats
from harness.evaluators._similarity import as_matrix, paired_distances, paired_similarity
from harness.evaluators.base import EvalOutput, Similarity, TextGroup
from harness.tasktypes.sts import SCORE_KEYS


class Options(BaseModel):
    """STS settings (mteb ``AbsTaskSTS`` class attributes).

    Attributes:
        min_score, max_score: range of the gold scores, used only to normalise them.
    """

    model_config = ConfigDict(extra="forbid")

    min_score: float = 0.0
    max_score: float = 5.0

    @model_validator(mode="after")
    def _ordered(self) -> Options:
        if self.max_score <= self.min_score:
            raise ValueError("max_score must be greater than min_score")
        return self


METRICS: tuple[str, ...] = (
    "pearson",
    "spearman",
    "cosine_pearson",
    "cosine_spearman",
    "manhattan_pearson",
    "manhattan_spearman",
    "euclidean_pearson",
    "euclidean_spearman",
)



def text_groups(data: STSData, options: Options) -> dict[str, TextGroup]:
    """The two sides of the pairs, each of length n_pairs (symmetric: no role)."""
    return {"sentence1": TextGroup(list(data.sentence1)), "sentence2": TextGroup(list(data.sentence2))}


def pair_scores(e1: object, e2: object, similarity: Similarity) -> dict[str, np.ndarray]:
    """mteb's four per-pair scores for embeddings of shape (n_pairs, dim) (dense or CSR).

    Returns:
        ``cosine_scores``, ``manhattan_distances`` and ``euclidean_distances`` (both negated)
        and ``similarity_scores``, each float64 of shape (n_pairs,).
    """
    e1, e2 = as_matrix(e1), as_matrix(e2)
    generic = paired_distances(e1, e2)
    return {
        "cosine_scores": generic["cosine"],
        "manhattan_distances": -generic["manhattan"],
        "euclidean_distances": -generic["euclidean"],
        "similarity_scores": paired_similarity(e1, e2, similarity),
    }


def correlations(gold: np.ndarray, items: dict[str, np.ndarray]) -> dict[str, float]:
    """Pearson and Spearman of each score in ``items`` against ``gold`` (mteb's metric names)."""
    from scipy.stats import pearsonr, spearmanr  # slow to import: only when scoring

    metrics: dict[str, float] = {}
    for prefix, key in SCORE_KEYS.items():
        metrics[f"{prefix}pearson"] = float(pearsonr(gold, items[key])[0])
        metrics[f"{prefix}spearman"] = float(spearmanr(gold, items[key])[0])
    return {name: metrics[name] for name in METRICS}


def evaluate(
    data: STSData,
    embeddings: dict[str, object],
    options: Options,
    similarity: Similarity,
) -> EvalOutput:
    """Score STS pairs.

    Args:
        data: the pairs and gold scores (n_pairs).
        embeddings: ``sentence1`` and ``sentence2``, each of shape (n_pairs, dim).
        options: :class:`Options`.
        similarity: the model's similarity function.

    Returns:
        :data:`METRICS` (correlations in [-1, 1], higher = better) and the items above.
    """
    gold = (np.asarray(data.scores, dtype=np.float64) - options.min_score) / (
        options.max_score - options.min_score
    )
    items = pair_scores(embeddings["sentence1"], embeddings["sentence2"], similarity)
    items["gold"] = gold
    return EvalOutput(metrics=as_floats(correlations(gold, items)), items=items)
