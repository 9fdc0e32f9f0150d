"""From the per-item arrays of one task's stored results to its :class:`TaskStatistic`.

Which arrays recompute a main score, and what "the same items" means, is declared per task type
as an :class:`~harness.tasktypes.ItemLayout` (``harness/tasktypes/<type>.py``, beside the
evaluator that documents its item keys). This module interprets a layout; it reads the store
only and never imports the evaluators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from harness.errors import HarnessError
from harness.stats.ranked import AveragePrecision, Correlation
from harness.stats.resample import MeanOfItems, TaskStatistic
from harness.tasktypes import ItemLayout, UnsupportedScore, get_task_type

__all__ = ["Items", "UnpairedItems", "UnsupportedScore", "task_statistic"]

Items = Mapping[str, np.ndarray]


class UnpairedItems(ValueError):
    """The models' results do not cover the same items, so they cannot be compared pairwise."""


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


def _orders(all_items: Sequence[Items], split: str, align_by: str | None) -> list[slice | np.ndarray]:
    """Per model, the permutation that puts its items in ``align_by`` order (all of them: no
    alignment); the aligned ids must agree across models."""
    if align_by is None:
        return [slice(None)] * len(all_items)
    orders: list[slice | np.ndarray] = []
    reference = None
    for items in all_items:
        ids = _array(items, split, align_by)
        order = np.argsort(ids, kind="stable")
        if reference is None:
            reference = ids[order]
        elif len(ids) != len(reference) or not np.array_equal(ids[order], reference):
            raise UnpairedItems(f"the models' {split}.{align_by} differ, so they were not scored on the same items")
        orders.append(order)
    return orders


def _values(items: Items, split: str, layout: ItemLayout, name: str, sign: int, order: slice | np.ndarray) -> np.ndarray:
    """One model's per-item values of array ``name``, shape (n_items,)."""
    values = _array(items, split, name)
    if layout.column is not None:
        names_array, metric = layout.column
        names = list(_array(items, split, names_array))
        if metric not in names:
            raise UnsupportedScore(f"{metric} is not among the stored per-item metrics ({split}.{names_array})")
        values = values[:, names.index(metric)]
    if layout.over_draws:
        values = values.mean(axis=0)
    return sign * values[order]


def task_statistic(task_type: str, main_score: str, split: str, all_items: Sequence[Items]) -> TaskStatistic:
    """The main score of each model as a function of the task's shared items.

    Args:
        task_type: the spec's type (a registered task type).
        main_score: the main metric's name (``harness.main_score_name``).
        split: the evaluated split (the items' key prefix).
        all_items: one mapping ``<split>.<name> -> array`` per model, in model order.

    Returns:
        A statistic with ``n_models == len(all_items)``.

    Raises:
        UnsupportedScore: the type or main score cannot be recomputed from the stored arrays.
        UnpairedItems: the models were not scored on the same items.
    """
    try:
        descriptor = get_task_type(task_type)
    except HarnessError:
        raise UnsupportedScore(f"task type {task_type} has no per-item statistic") from None
    layout = descriptor.item_layout(main_score)
    shared = [_shared(all_items, split, name) for name in layout.shared]
    orders = _orders(all_items, split, layout.align_by)
    if layout.kind == "average_precision":
        scores = [
            np.column_stack([_values(items, split, layout, name, sign, order) for name, sign in layout.values]).astype(np.float64)
            for items, order in zip(all_items, orders)
        ]
        return AveragePrecision(shared[0], scores)
    [(name, sign)] = layout.values
    columns = _stack([_values(items, split, layout, name, sign, order) for items, order in zip(all_items, orders)])
    if layout.kind == "correlation":
        assert layout.method is not None  # ItemLayout checks it
        return Correlation(shared[0], columns, layout.method)
    return MeanOfItems(columns)
