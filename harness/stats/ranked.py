"""Statistics that rank items: correlation with gold (STS) and average precision.

Both are recomputed exactly on each resample from the counts, using each score array's sort
order computed once: on a resample, an item drawn w times is w tied copies, so ranks and
precisions are running sums of counts along that order (one ``take`` and one ``cumsum`` per
model and chunk, no per-resample sort).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.stats.resample import Scratch, TaskStatistic, ratio

# int64 rank sums stay exact below this many items (n^3 < 2^63)
MAX_RANKED_ITEMS = 1_000_000


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

    def cumsum(self, weights: np.ndarray, out: np.ndarray) -> np.ndarray:
        """(c, n) into ``out``: running total of ``weights`` (c, n) along the sorted order."""
        np.take(weights, self.order, axis=1, out=out, mode="clip")  # "clip": no buffered copy
        return np.cumsum(out, axis=1, out=out)

    def group_cumsum(self, weights: np.ndarray, work: Scratch, name: str) -> np.ndarray:
        """(c, G): total weight of the items up to the end of each tie group, in sorted order."""
        cumulative = self.cumsum(weights, work(name, weights.shape))
        if not self.tied:
            return cumulative
        out = work(name + ".ends", (len(weights), len(self.ends)))
        return np.take(cumulative, self.ends, axis=1, out=out, mode="clip")


def _with_previous(x: np.ndarray, sign: int, out: np.ndarray) -> np.ndarray:
    """``x[:, j] + sign * x[:, j - 1]`` (column -1 counting 0), into ``out``."""
    out[:, 0] = x[:, 0]
    (np.add if sign > 0 else np.subtract)(x[:, 1:], x[:, :-1], out=out[:, 1:])
    return out


def _cubes(x: np.ndarray) -> np.ndarray:
    """Row sums of x ** 3 (int64 (c,))."""
    return np.einsum("ij,ij,ij->i", x, x, x)


class Correlation(TaskStatistic):
    """Pearson or Spearman correlation of each model's scores with shared gold scores (STS).

    Spearman works on doubled centred ranks ``2 * rank - (n + 1)`` (integers, so exact in
    int64): on a resample, tied values and repeated items share their average rank; the sum of
    squared doubled ranks is ``(n^3 - n - sum_g (t_g^3 - t_g)) / 3`` over tie groups of size
    ``t_g`` (repeats included); the cross product with gold is a running sum along the model's
    order.

    Args:
        gold: float array of shape (n_items,).
        scores: float array of shape (n_items, M).
        method: "pearson" or "spearman".
    """

    def __init__(self, gold: np.ndarray, scores: np.ndarray, method: str) -> None:
        super().__init__()
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
        weights = self.work("weights", counts.shape, np.float64)
        np.copyto(weights, counts)
        sums = (weights @ self._moments) / self.n_items
        m = self.n_models
        mean_g, sq_g = sums[:, :1], sums[:, 1:2]
        mean_s, sq_s, cross = sums[:, 2 : 2 + m], sums[:, 2 + m : 2 + 2 * m], sums[:, 2 + 2 * m :]
        var_g = sq_g - mean_g**2
        var_s = sq_s - mean_s**2
        # a resample whose gold or scores are constant: its variance is rounding noise
        defined = (var_g > 1e-12 * self._var_gold) & (var_s > 1e-12 * self._var_scores)
        return ratio(cross - mean_g * mean_s, np.where(defined, np.sqrt(np.abs(var_g * var_s)), 0.0))

    def _tie_term(self, upto: np.ndarray, name: str) -> np.ndarray:
        """sum_g (t_g^3 - t_g) per resample, from group running totals (c, G)."""
        return _cubes(_with_previous(upto, -1, self.work(name, upto.shape))) - self.n_items

    def _spearman(self, counts: np.ndarray) -> np.ndarray:
        n, c, work = self.n_items, len(counts), self.work
        full = n**3 - n
        repeats = _cubes(counts) - n  # tie term of an order without ties: repeated items only
        upto = self._gold.group_cumsum(counts, work, "gold")
        group_ranks = _with_previous(upto, 1, work("gold.ranks", upto.shape))
        group_ranks -= n  # before + upto - n = 2 * average rank - (n + 1)
        gold_ranks = np.take(group_ranks, self._gold.group, axis=1, out=work("gold.items", (c, n)), mode="clip")
        gold_sq = full - (self._tie_term(upto, "gold.sizes") if self._gold.tied else repeats)
        # count-weighted centred gold ranks; they sum to 0 over each resample, so the "- n" of the
        # model's doubled centred rank drops out of the cross products below
        weighted = np.multiply(counts, gold_ranks, out=work("weighted", (c, n)))
        own = np.einsum("ij,ij->i", weighted, counts)
        cross_products, sums_sq = np.empty((c, self.n_models)), np.empty((c, self.n_models))
        for j, model in enumerate(self._models):
            if model.tied:
                upto = model.group_cumsum(counts, work, "model")
                gains = _with_previous(model.group_cumsum(weighted, work, "moved"), -1, work("gains", upto.shape))
                cross = np.einsum("ij,ij->i", gains, _with_previous(upto, 1, work("pairs", upto.shape)))
                sq = full - self._tie_term(upto, "sizes")
            else:  # doubled centred rank 2 * cumsum - count - n, item by item along the model's order
                cumulative = model.cumsum(counts, work("model", (c, n)))
                moved = np.take(weighted, model.order, axis=1, out=work("moved", (c, n)), mode="clip")
                cross = 2 * np.einsum("ij,ij->i", moved, cumulative) - own
                sq = full - repeats
            cross_products[:, j], sums_sq[:, j] = cross, sq
        # both sums of squares are 3x the doubled-rank ones: a factor 3 on the cross products
        return ratio(3.0 * cross_products, np.sqrt(gold_sq[:, None] * sums_sq))


class AveragePrecision(TaskStatistic):
    """Average precision of binary labels, the best over several score functions per model.

    ``max_ap`` (pair classification) is the best AP over the five similarity functions; each
    resample recomputes all of them and takes the maximum again. AP (sklearn's, step-wise over
    tied scores) is the sum over positive items of their weight times the precision at the end
    of their tie group, over the positive weight, so after one running count of all items only
    the positives' columns are touched. Score functions with the same order and ties (cosine,
    dot and Euclidean for unit vectors) are computed once.

    Args:
        labels: int array of shape (n_items,), 1 = positive.
        scores: one float array per model, shape (n_items, F), higher = more likely positive
            (distances negated by the caller).
    """

    def __init__(self, labels: np.ndarray, scores: Sequence[np.ndarray]) -> None:
        super().__init__()
        self.n_items, self.n_models = len(labels), len(scores)
        positive = np.asarray(labels) == 1
        self._orders: dict[tuple[bytes, bytes], tuple[_Order, np.ndarray, np.ndarray, np.ndarray]] = {}
        self._choices: list[list[tuple[bytes, bytes]]] = []
        for model_scores in scores:
            keys = []
            for column in np.asarray(model_scores, dtype=np.float64).reshape(self.n_items, -1).T:
                order = _Order(column, descending=True)
                keys.append(order.key)
                if order.key not in self._orders:
                    at = np.flatnonzero(positive[order.order])  # sorted positions of the positives
                    group = order.group_of_position[at]
                    last = np.flatnonzero(np.r_[group[1:] != group[:-1], True])
                    group_last = last[np.searchsorted(last, np.arange(len(at)))]
                    # per positive: its item, its group's end, the last positive of its group
                    self._orders[order.key] = (order, order.order[at], order.ends[group], group_last)
            self._choices.append(keys)

    def resampled(self, counts: np.ndarray) -> np.ndarray:
        ap = {key: self._ap(counts, *spec) for key, spec in self._orders.items()}
        return np.column_stack([np.max([ap[key] for key in keys], axis=0) for keys in self._choices])

    def _ap(self, counts: np.ndarray, order: _Order, items: np.ndarray, ends: np.ndarray,
            group_last: np.ndarray) -> np.ndarray:
        """sklearn ``average_precision_score`` of each expanded resample: float64 (c,).

        Args:
            counts: int64 (c, n_items).
            order: the score function's order; items, ends, group_last: int (P,) per positive
                item (sorted): its item index, its tie group's last position, and the index of
                the last positive in its tie group.
        """
        c, p, work = len(counts), len(items), self.work
        if p == 0:
            return np.zeros(c)
        seen_all = order.cumsum(counts, work("seen.all", counts.shape))
        seen = np.take(seen_all, ends, axis=1, out=work("seen", (c, p)), mode="clip")  # drawn up to group end
        drawn = np.take(counts, items, axis=1, out=work("drawn", (c, p)), mode="clip")
        hits = np.cumsum(drawn, axis=1, out=work("hits", (c, p)))
        if order.tied:
            hits = np.take(hits, group_last, axis=1, out=work("hits.group", (c, p)), mode="clip")
        positives = hits[:, -1].astype(np.float64)
        np.multiply(drawn, hits, out=drawn)
        np.maximum(seen, 1, out=seen)  # seen == 0 only where drawn == 0
        precision = np.divide(drawn, seen, out=work("precision", (c, p), np.float64))
        return ratio(precision.sum(axis=1), positives)
