"""From the per-item arrays of one task's stored results to its :class:`TaskStatistic`.

The keys read here are the ones each evaluator documents in its module docstring
(``harness/evaluators/<type>.py``, "Items:"); they are restated here because the statistics read
the store only and never import the evaluators. Per task type, the main scores recomputable
from items, and what "the same items" means:

============================  ===============================================  ==========================
type                          main scores (statistic)                          items must agree on
============================  ===============================================  ==========================
retrieval, reranking          any column of ``values`` (mean over queries)     ``query_ids`` (as a set)
classification                ``accuracy`` (mean over test items of the        ``gold``
                              item's mean correctness over experiments)
clustering                    ``v_measure`` (mean over the stored draws)       ``sample_indices``, ``labels``
summarization                 the six per-text correlations (NaN-skipping      number of texts
                              mean over texts)
sts                           ``[cosine_|manhattan_|euclidean_](pearson|       ``gold``
                              spearman)`` (correlation with gold)
pair_classification           ``<function>_ap`` and ``max_ap`` (average        ``labels``
                              precision, best of the five functions)
============================  ===============================================  ==========================
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from harness.stats.ranked import AveragePrecision, Correlation
from harness.stats.resample import MeanOfItems, TaskStatistic

Items = Mapping[str, np.ndarray]

# STS metric prefix -> scores correlated with gold (harness/evaluators/sts.py)
_STS_SCORES = {
    "": "similarity_scores",
    "cosine_": "cosine_scores",
    "manhattan_": "manhattan_distances",
    "euclidean_": "euclidean_distances",
}
# pair-classification function -> (scores, higher = positive) (harness/evaluators/pair_classification.py)
_PAIR_SCORES = {
    "similarity": ("similarity_scores", True),
    "cosine": ("cosine_scores", True),
    "manhattan": ("manhattan_distances", False),
    "euclidean": ("euclidean_distances", False),
    "dot": ("dot_scores", True),
}
_SUMMARIZATION = ("pearson", "spearman", "cosine_spearman", "cosine_pearson", "dot_spearman", "dot_pearson")


class UnpairedItems(ValueError):
    """The models' results do not cover the same items, so they cannot be compared pairwise."""


class UnsupportedScore(ValueError):
    """The main score cannot be recomputed from the stored per-item arrays."""


def _array(items: Items, split: str, name: str) -> np.ndarray:
    try:
        return np.asarray(items[f"{split}.{name}"])
    except KeyError:
        raise UnsupportedScore(f"per-item array {split}.{name} is missing") from None


def _shared(all_items: Sequence[Items], split: str, name: str) -> np.ndarray:
    """The array ``name``, which every model must hold identically (the items' identity)."""
    arrays = [_array(items, split, name) for items in all_items]
    if any(a.shape != arrays[0].shape or not np.array_equal(a, arrays[0]) for a in arrays[1:]):
        raise UnpairedItems(f"the models' {split}.{name} differ, so they were not scored on the same items")
    return arrays[0]


def _stack(columns: Sequence[np.ndarray]) -> np.ndarray:
    if len({len(c) for c in columns}) > 1:
        raise UnpairedItems(f"the models hold different numbers of items ({sorted({len(c) for c in columns})})")
    return np.column_stack(columns).astype(np.float64)


def _ranking(all_items: Sequence[Items], split: str, main_score: str) -> TaskStatistic:
    columns = []
    reference = None
    for items in all_items:
        names = list(_array(items, split, "metric_names"))
        if main_score not in names:
            raise UnsupportedScore(f"{main_score} is not among the stored per-query metrics")
        ids = _array(items, split, "query_ids")
        order = np.argsort(ids, kind="stable")  # align queries by id, whatever order each stored
        if reference is None:
            reference = ids[order]
        elif len(ids) != len(reference) or not np.array_equal(ids[order], reference):
            raise UnpairedItems(f"the models' {split}.query_ids differ, so they were not scored on the same queries")
        columns.append(_array(items, split, "values")[order, names.index(main_score)])
    return MeanOfItems(_stack(columns))


def _classification(all_items: Sequence[Items], split: str, main_score: str) -> TaskStatistic:
    if main_score != "accuracy":
        raise UnsupportedScore(f"classification main score {main_score} is not a mean over test items")
    _shared(all_items, split, "gold")
    return MeanOfItems(_stack([_array(items, split, "correct").mean(axis=0) for items in all_items]))


def _clustering(all_items: Sequence[Items], split: str, main_score: str) -> TaskStatistic:
    if main_score != "v_measure":
        raise UnsupportedScore(f"clustering main score {main_score} has no per-draw values stored")
    _shared(all_items, split, "sample_indices")
    _shared(all_items, split, "labels")
    return MeanOfItems(_stack([_array(items, split, "v_measures") for items in all_items]))


def _summarization(all_items: Sequence[Items], split: str, main_score: str) -> TaskStatistic:
    if main_score not in _SUMMARIZATION:
        raise UnsupportedScore(f"summarization main score {main_score} is not a per-text correlation")
    return MeanOfItems(_stack([_array(items, split, main_score) for items in all_items]))


def _sts(all_items: Sequence[Items], split: str, main_score: str) -> TaskStatistic:
    match = re.fullmatch(r"(cosine_|manhattan_|euclidean_|)(pearson|spearman)", main_score)
    if match is None:
        raise UnsupportedScore(f"STS main score {main_score} is not a correlation with gold")
    gold = _shared(all_items, split, "gold")
    scores = _stack([_array(items, split, _STS_SCORES[match[1]]) for items in all_items])
    return Correlation(gold, scores, match[2])


def _pair_classification(all_items: Sequence[Items], split: str, main_score: str) -> TaskStatistic:
    match = re.fullmatch(r"(max|similarity|cosine|manhattan|euclidean|dot)_ap", main_score)
    if match is None:
        raise UnsupportedScore(f"pair-classification main score {main_score} is not an average precision")
    labels = _shared(all_items, split, "labels")
    functions = list(_PAIR_SCORES) if match[1] == "max" else [match[1]]
    scores = []
    for items in all_items:
        oriented = [(1 if _PAIR_SCORES[f][1] else -1) * _array(items, split, _PAIR_SCORES[f][0]) for f in functions]
        scores.append(np.column_stack(oriented).astype(np.float64))
    return AveragePrecision(labels, scores)


_BUILDERS = {
    "retrieval": _ranking,
    "reranking": _ranking,
    "classification": _classification,
    "clustering": _clustering,
    "summarization": _summarization,
    "sts": _sts,
    "pair_classification": _pair_classification,
}


def task_statistic(task_type: str, main_score: str, split: str, all_items: Sequence[Items]) -> TaskStatistic:
    """The main score of each model as a function of the task's shared items.

    Args:
        task_type: the spec's type ("retrieval", "sts", ...).
        main_score: the main metric's name (``harness.main_score_name``).
        split: the evaluated split (the items' key prefix).
        all_items: one mapping ``<split>.<name> -> array`` per model, in model order.

    Returns:
        A statistic with ``n_models == len(all_items)``.

    Raises:
        UnsupportedScore: the type or main score cannot be recomputed from the stored arrays.
        UnpairedItems: the models were not scored on the same items.
    """
    if task_type not in _BUILDERS:
        raise UnsupportedScore(f"task type {task_type} has no per-item statistic")
    return _BUILDERS[task_type](all_items, split, main_score)
