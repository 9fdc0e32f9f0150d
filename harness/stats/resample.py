"""Main scores recomputed on paired resamples of a task's items, one class per kind of statistic.

A resample is given by its *counts*: an int64 array of shape (n_resamples, n_items) saying how
often each item was drawn (a bootstrap draws ``n_items`` items with replacement, so each row sums
to ``n_items``). Every statistic here is exactly the main score of the expanded resample
(``items[idx]``), computed from the counts without expanding it: a mean becomes a weighted mean,
a correlation a weighted correlation of weighted ranks, average precision a weighted cumulative
sum. The same counts go to every model of the task, which is what makes the comparison paired.

Undefined values (a constant input to a correlation, no positive label, no included item) count
0.0, the runner's convention for stored metrics (``harness.runner.defined_metrics``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

# int64 rank products stay exact below this many items (n * (2n)^2 < 2^63)
MAX_RANKED_ITEMS = 1_000_000


def draw_counts(rng: np.random.Generator, n_resamples: int, n_items: int) -> np.ndarray:
    """Bootstrap counts: int64 (n_resamples, n_items), each row a multinomial(n_items) draw."""
    idx = rng.integers(0, n_items, size=(n_resamples, n_items), dtype=np.int32).astype(np.intp)
    idx += np.arange(0, n_resamples * n_items, n_items, dtype=np.intp)[:, None]
    return np.bincount(idx.ravel(), minlength=n_resamples * n_items).reshape(n_resamples, n_items)


# row k: the 8 bits of byte k as +1.0 / -1.0, so one lookup turns random bytes into signs
_SIGNS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1) * 2.0 - 1.0


def draw_signs(rng: np.random.Generator, n_resamples: int, n_items: int) -> np.ndarray:
    """Random signs for a sign-flip test: float64 (n_resamples, n_items) of +1/-1, each p = 1/2."""
    raw = rng.integers(0, 256, size=(n_resamples, (n_items + 7) // 8), dtype=np.uint8)
    return np.take(_SIGNS, raw, axis=0).reshape(n_resamples, -1)[:, :n_items]


class TaskStatistic(ABC):
    """The main scores of M models on one task, as functions of shared item counts."""

    n_items: int
    n_models: int

    @abstractmethod
    def resampled(self, counts: np.ndarray) -> np.ndarray:
        """Main score of every model on each resample.

        Args:
            counts: int64 array of shape (c, n_items), rows summing to n_items.

        Returns:
            float64 array of shape (c, M).
        """

    def observed(self) -> np.ndarray:
        """Main score of every model on all items: float64 (M,)."""
        return self.resampled(np.ones((1, self.n_items), dtype=np.int64))[0]

    def signed(self, signs: np.ndarray) -> np.ndarray | None:
        """Per-model sign-flip statistics ``mean(signs * x)``: (c, M); None unless a mean of items."""
        return None

    def randomisable(self) -> np.ndarray:
        """Bool (M, M): the pair's score difference is a mean of paired per-item differences."""
        return np.zeros((self.n_models, self.n_models), dtype=bool)


class MeanOfItems(TaskStatistic):
    """A mean of per-item values (nDCG per query, accuracy per test item, V-measure per draw...).

    Args:
        values: float array of shape (n_items, M); NaN marks an item a model skipped (left out of
            its mean, as ``np.nanmean``; summarization skips texts with constant scores).
    """

    def __init__(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        self.n_items, self.n_models = values.shape
        self._included = np.isfinite(values)
        self._values = np.where(self._included, values, 0.0)
        self._uniform = bool(self._included.all())
        self._n_included = self._included.sum(axis=0)

    def resampled(self, counts: np.ndarray) -> np.ndarray:
        weights = counts.astype(np.float64)
        total = weights @ self._values
        if self._uniform:
            return total / self.n_items
        n = weights @ self._included.astype(np.float64)
        return np.divide(total, n, out=np.zeros_like(total), where=n > 0)

    def signed(self, signs: np.ndarray) -> np.ndarray:
        total = signs @ self._values
        return np.divide(total, self._n_included, out=np.zeros_like(total), where=self._n_included > 0)

    def randomisable(self) -> np.ndarray:
        inc = self._included
        return (inc[:, :, None] == inc[:, None, :]).all(axis=0)


class _Order:
    """One score array sorted once: its order and its groups of tied values.

    Args:
        values: array of shape (n,).
        descending: sort highest first (for average precision) instead of lowest first.
    """

    def __init__(self, values: np.ndarray, descending: bool = False) -> None:
        values = np.asarray(values, dtype=np.float64)
        self.n = len(values)
        self.order = np.argsort(-values if descending else values, kind="stable")
        ordered = values[self.order]
        new = np.r_[True, ordered[1:] != ordered[:-1]]
        self.group_of_position = np.cumsum(new) - 1
        self.ends = np.r_[np.flatnonzero(new)[1:], self.n] - 1  # last position of each group
        self.tied = len(self.ends) < self.n
        self.group = np.empty(self.n, dtype=np.intp)
        self.group[self.order] = self.group_of_position  # group of each item, in item order
        self.key = (self.order.tobytes(), self.ends.tobytes())

    def group_cumsum(self, weights: np.ndarray) -> np.ndarray:
        """(c, G): total weight of the items up to the end of each group, in sorted order."""
        cumulative = np.cumsum(np.take(weights, self.order, axis=1), axis=1)
        return np.take(cumulative, self.ends, axis=1) if self.tied else cumulative


def _plus_previous(x: np.ndarray) -> np.ndarray:
    """x[:, j] + x[:, j - 1] (x[:, -1] counting 0)."""
    out = x.copy()
    out[:, 1:] += x[:, :-1]
    return out


def _minus_previous(x: np.ndarray) -> np.ndarray:
    """x[:, j] - x[:, j - 1] (x[:, -1] counting 0)."""
    out = x.copy()
    out[:, 1:] -= x[:, :-1]
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den where den > 0, else 0.0 (an undefined correlation counts 0)."""
    return np.divide(num, den, out=np.zeros(np.broadcast_shapes(num.shape, den.shape)), where=den > 0)


class Correlation(TaskStatistic):
    """Pearson or Spearman correlation of each model's scores with shared gold scores (STS).

    Spearman works on doubled centred ranks ``2 * rank - (n + 1)`` (integers, so exact in
    int64): on a resample with counts ``w``, tied values and repeated items share their average
    rank, the sum of squares is ``(n^3 - n - sum_g (t_g^3 - t_g)) / 3`` (computed without the ``/ 3``) over tie groups of size
    ``t_g`` (repeats included), and a model's cross product with gold needs one sort order, one
    cumulative sum and one dot product per resample chunk.

    Args:
        gold: float array of shape (n_items,).
        scores: float array of shape (n_items, M).
        method: "pearson" or "spearman".
    """

    def __init__(self, gold: np.ndarray, scores: np.ndarray, method: str) -> None:
        if method not in ("pearson", "spearman"):
            raise ValueError(f"method must be 'pearson' or 'spearman', not {method!r}")
        scores = np.asarray(scores, dtype=np.float64)
        self.n_items, self.n_models = scores.shape
        self.method = method
        if method == "spearman":
            if self.n_items > MAX_RANKED_ITEMS:
                raise ValueError(f"Spearman resampling is exact up to {MAX_RANKED_ITEMS} items, not {self.n_items}")
            self._gold = _Order(gold)
            self._models = [_Order(column) for column in scores.T]
        else:
            # centring first keeps the moment formulas accurate (distances can sit far from 0)
            g = np.asarray(gold, dtype=np.float64) - np.mean(gold)
            s = scores - scores.mean(axis=0)
            self._moments = np.column_stack([g, g * g, s, s * s, g[:, None] * s])
            self._var_gold, self._var_scores = np.mean(g * g), np.mean(s * s, axis=0)

    def resampled(self, counts: np.ndarray) -> np.ndarray:
        return self._spearman(counts) if self.method == "spearman" else self._pearson(counts)

    def _pearson(self, counts: np.ndarray) -> np.ndarray:
        sums = (counts.astype(np.float64) @ self._moments) / self.n_items
        m = self.n_models
        mean_g, sq_g = sums[:, :1], sums[:, 1:2]
        mean_s, sq_s, cross = sums[:, 2 : 2 + m], sums[:, 2 + m : 2 + 2 * m], sums[:, 2 + 2 * m :]
        var_g = sq_g - mean_g**2
        var_s = sq_s - mean_s**2
        # a resample whose gold or scores are constant: its variance is rounding noise
        defined = (var_g > 1e-12 * self._var_gold) & (var_s > 1e-12 * self._var_scores)
        return _ratio(cross - mean_g * mean_s, np.where(defined, np.sqrt(np.abs(var_g * var_s)), 0.0))

    def _spearman(self, counts: np.ndarray) -> np.ndarray:
        n = self.n_items
        full = n**3 - n
        repeats = (counts**3 - counts).sum(axis=1)  # tie term of an order without ties
        gold_upto = self._gold.group_cumsum(counts)
        gold_ranks = np.take(_plus_previous(gold_upto) - n, self._gold.group, axis=1)
        gold_sq = full - ((_minus_previous(gold_upto) ** 3).sum(axis=1) - n if self._gold.tied else repeats)
        weighted = counts * gold_ranks
        total = weighted.sum(axis=1)
        own = np.einsum("ij,ij->i", weighted, counts)
        out = np.empty((counts.shape[0], self.n_models))
        for j, model in enumerate(self._models):
            if model.tied:
                upto = model.group_cumsum(counts)
                cross = np.einsum("ij,ij->i", _minus_previous(model.group_cumsum(weighted)), _plus_previous(upto))
                sq = full - ((_minus_previous(upto) ** 3).sum(axis=1) - n)
            else:  # rank term 2 * cumsum - count - n, item by item in the model's order
                cumulative = np.cumsum(np.take(counts, model.order, axis=1), axis=1)
                cross = 2 * np.einsum("ij,ij->i", np.take(weighted, model.order, axis=1), cumulative) - own
                sq = full - repeats
            # the sums of squares are 3x the squared-rank sums (see class docstring): a factor 3 on top
            out[:, j] = _ratio(3.0 * (cross - n * total), np.sqrt(gold_sq.astype(np.float64) * sq))
        return out


class AveragePrecision(TaskStatistic):
    """Average precision of binary labels, the best over several score functions per model.

    ``max_ap`` (pair classification) is the best AP over the five similarity functions; each
    resample recomputes all of them and takes the maximum again. AP is a sum over positive
    items of their weight times the precision at the end of their group of tied scores,
    divided by the positive weight, so only positive items' columns are touched after one
    cumulative count of all items.

    Args:
        labels: int array of shape (n_items,), 1 = positive.
        scores: one float array per model, shape (n_items, F), higher = more likely positive
            (distances negated by the caller).
    """

    def __init__(self, labels: np.ndarray, scores: Sequence[np.ndarray]) -> None:
        self.n_items, self.n_models = len(labels), len(scores)
        positive = np.asarray(labels) == 1
        self._orders: dict[tuple[bytes, bytes], tuple[_Order, np.ndarray, np.ndarray]] = {}
        self._choices: list[list[tuple[bytes, bytes]]] = []
        for model_scores in scores:
            keys = []
            for column in np.asarray(model_scores, dtype=np.float64).reshape(self.n_items, -1).T:
                order = _Order(column, descending=True)
                keys.append(order.key)
                if order.key not in self._orders:  # AP depends only on order and ties: once each
                    at = np.flatnonzero(positive[order.order])  # sorted positions of positives
                    group = order.group_of_position[at]
                    last = np.flatnonzero(np.r_[group[1:] != group[:-1], True])
                    # for each positive, the last positive of its tie group
                    self._orders[order.key] = (order, at, last[np.searchsorted(last, np.arange(len(at)))])
            self._choices.append(keys)

    def resampled(self, counts: np.ndarray) -> np.ndarray:
        ap = {key: self._ap(counts, *spec) for key, spec in self._orders.items()}
        return np.column_stack([np.max([ap[key] for key in keys], axis=0) for keys in self._choices])

    @staticmethod
    def _ap(counts: np.ndarray, order: _Order, at: np.ndarray, group_last: np.ndarray) -> np.ndarray:
        """sklearn ``average_precision_score`` of each expanded resample: float64 (c,).

        Args:
            at: sorted positions of the positive items; group_last: for each of them, the index
                (into ``at``) of the last positive in its tie group.
        """
        if len(at) == 0:
            return np.zeros(counts.shape[0])
        seen = np.take(np.cumsum(np.take(counts, order.order, axis=1), axis=1), order.ends[order.group_of_position[at]], axis=1)
        drawn = np.take(counts, order.order[at], axis=1)
        hits = np.cumsum(drawn, axis=1)
        if order.tied:
            hits = np.take(hits, group_last, axis=1)
        precision_sum = (drawn * hits / np.maximum(seen, 1)).sum(axis=1)
        return _ratio(precision_sum, hits[:, -1].astype(np.float64))
