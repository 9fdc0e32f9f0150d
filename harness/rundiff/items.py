"""Items that moved: per task, the items whose per-item value B lost or gained most against A.

The per-item value is what the main score averages, read with the task type's
:class:`~harness.tasktypes.ItemLayout` exactly as ``harness.stats`` reads it:

* mean scores (retrieval, reranking, classification, clustering, summarization): the item's own
  value (nDCG@10 of a query, accuracy of a test text over the experiments, V-measure of a draw);
* correlations (STS): the item's term of the correlation, ``z(gold)_i * z(sim)_i`` on values
  (Pearson) or average ranks (Spearman), population z-scores, whose mean is the correlation;
* average precision (pair classification): AP does not split into items, so the pair's share of
  the ranking, the fraction of pairs of the other label it is ordered correctly against (ties
  half); its mean over either label is the AUC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from harness.stats.items import (
    _values as layout_values,  # the reading compare uses, not a copy of it
)
from harness.store import StoredResult
from harness.tasktypes import ItemLayout, get_task_type

Items = Mapping[str, np.ndarray]
MEASURES = {
    "mean": "the item's {score}",
    "correlation": "the item's term of the {score} (z(gold) x z(similarity); the terms average to the score)",
    "average_precision": "the pair's share of the ranking by {score}'s similarity (fraction of other-label pairs ordered right)",
}


@dataclass
class MovedItem:
    """One item: its id, per-item values under A and B, and what to show (label -> text)."""

    id: str
    value_a: float
    value_b: float
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def delta(self) -> float:
        return self.value_b - self.value_a


@dataclass
class MovedItems:
    """A task's largest per-item losses and gains (largest first); ``note`` says why texts are missing."""

    task: str
    measure: str
    losses: list[MovedItem]
    gains: list[MovedItem]
    note: str | None = None


@dataclass(frozen=True)
class Aligned:
    """Per-item values of both models on the same items.

    Attributes:
        ids: str (n,), the item ids (query ids, else positions).
        index_a, index_b: int (n,), each item's row in A's and B's stored arrays.
        value_a, value_b: float64 (n,), the per-item values.
    """

    ids: np.ndarray
    index_a: np.ndarray
    index_b: np.ndarray
    value_a: np.ndarray
    value_b: np.ndarray


def _order(items: Items, split: str, align_by: str | None) -> tuple[np.ndarray | None, np.ndarray | slice]:
    """(ids in item order, the permutation putting the stored rows in that order), as ``harness.stats``
    aligns them; (None, all rows) for a type whose items are positions."""
    if align_by is None:
        return None, slice(None)
    ids = np.asarray(items[f"{split}.{align_by}"])
    order = np.argsort(ids, kind="stable")
    return ids[order], order


def _term(gold: np.ndarray, scores: np.ndarray, method: str) -> np.ndarray:
    """Each item's term of the correlation of ``gold`` and ``scores`` (mean of the terms = it)."""
    x, y = (gold, scores) if method == "pearson" else (rankdata(gold), rankdata(scores))
    z = [(v - v.mean()) / v.std() if v.std() > 0 else np.zeros_like(v, dtype=np.float64) for v in (x, y)]
    return z[0] * z[1]


def _ranking_share(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Per pair: the fraction of other-label pairs it is ranked correctly against (ties count half)."""
    positive = labels == 1
    pos, neg = np.sort(scores[positive]), np.sort(scores[~positive])
    share = np.zeros(len(scores))
    if len(pos) and len(neg):
        below = np.searchsorted(neg, scores, "left") + 0.5 * (np.searchsorted(neg, scores, "right") - np.searchsorted(neg, scores, "left"))
        above = len(pos) - np.searchsorted(pos, scores, "right")
        above = above + 0.5 * (np.searchsorted(pos, scores, "right") - np.searchsorted(pos, scores, "left"))
        share = np.where(positive, below / len(neg), above / len(pos))
    return share


def _model_values(items: Items, split: str, layout: ItemLayout, order: np.ndarray | slice) -> np.ndarray:
    """One model's per-item values (float64 (n,)) in item order."""
    name, sign = layout.values[0]
    if layout.kind == "mean":
        return layout_values(items, split, layout, name, sign, order).astype(np.float64)
    scores = sign * np.asarray(items[f"{split}.{name}"], dtype=np.float64)[order]
    shared = np.asarray(items[f"{split}.{layout.shared[0]}"])[order]
    if layout.kind == "correlation":
        assert layout.method is not None  # ItemLayout checks it
        return _term(shared.astype(np.float64), scores, layout.method)
    return _ranking_share(shared, scores)


def aligned(result_a: StoredResult, result_b: StoredResult, items_a: Items, items_b: Items) -> tuple[Aligned, str]:
    """Both models' per-item values on the task's items, and what the value is.

    The two results passed ``compare``'s pairing checks (same items), so the orders agree.
    """
    harness = result_a.data.harness
    score, split = harness.main_score_name, next(iter(result_a.data.scores))
    layout = get_task_type(str(harness.task.get("type"))).item_layout(score)
    ids, order_a = _order(items_a, split, layout.align_by)
    _, order_b = _order(items_b, split, layout.align_by)
    value_a, value_b = (_model_values(items, split, layout, order) for items, order in ((items_a, order_a), (items_b, order_b)))
    if ids is None:
        ids = np.array([f"#{i}" for i in range(len(value_a))])
    rows = np.arange(len(value_a))
    index_a, index_b = (rows if isinstance(o, slice) else o for o in (order_a, order_b))
    return Aligned(ids, index_a, index_b, value_a, value_b), MEASURES[layout.kind].format(score=score)


def largest(values: Aligned, top: int) -> tuple[list[int], list[int]]:
    """Positions of the ``top`` largest losses (B below A) and gains, largest first (ties: item order)."""
    delta = values.value_b - values.value_a
    delta = np.where(np.isfinite(delta), delta, 0.0)  # an item a model skipped did not move
    losses = [int(i) for i in np.argsort(delta, kind="stable")[:top] if delta[i] < 0]
    gains = [int(i) for i in np.argsort(-delta, kind="stable")[:top] if delta[i] > 0]
    return losses, gains


def moved_items(result_a: StoredResult, result_b: StoredResult, *, top: int = 5, data_dir: Path | None = None) -> MovedItems:
    """The ``top`` largest per-item losses and gains of B against A on one task, with their texts."""
    from harness.rundiff.texts import describe

    items_a, items_b = result_a.items(), result_b.items()
    values, measure = aligned(result_a, result_b, items_a, items_b)
    losses, gains = largest(values, top)
    chosen = [MovedItem(str(values.ids[i]), float(values.value_a[i]), float(values.value_b[i])) for i in losses + gains]
    note = describe(result_a, items_a, items_b, values, losses + gains, chosen, data_dir)
    return MovedItems(result_a.task_name, measure, chosen[: len(losses)], chosen[len(losses):], note)
