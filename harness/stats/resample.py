"""Main scores recomputed on paired resamples of a task's items: draws, base class, means.

A resample is given by its *counts*: an int64 array of shape (n_resamples, n_items) saying how
often each item was drawn (a bootstrap draws ``n_items`` items with replacement, so each row sums
to ``n_items``). Every statistic is exactly the main score of the expanded resample
(``items[idx]``), computed from the counts without expanding it: a mean becomes a weighted mean
here; correlations and average precision (``ranked``) become weighted rank sums. The same counts
go to every model of the task, which is what makes the comparison paired.

Undefined values (a constant input to a correlation, no positive label, no included item) count
0.0, the runner's convention for stored metrics (``harness.runner.defined_metrics``).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np


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


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """float64 ``num / den`` where ``den > 0``, else 0.0 (the undefined-counts-0 convention)."""
    shape = np.broadcast_shapes(np.shape(num), np.shape(den))
    return np.divide(num, den, out=np.zeros(shape), where=np.asarray(den) > 0)


class Scratch:
    """Work arrays reused from chunk to chunk, by name.

    Fresh memory costs a page fault per 4 KiB page on first touch; on the 2-core VMs this project
    runs on, allocating each chunk's temporaries anew made the kernels 3-5x slower.
    """

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def __call__(self, name: str, shape: tuple[int, ...], dtype: type = np.int64) -> np.ndarray:
        """An uninitialised array of ``shape``, the same memory on every call with this name."""
        size = math.prod(shape)
        array = self._arrays.get(name)
        if array is None or array.size < size or array.dtype != dtype:
            array = self._arrays[name] = np.empty(size, dtype=dtype)
        return array[:size].reshape(shape)


class TaskStatistic(ABC):
    """The main scores of M models on one task, as functions of shared item counts.

    Attributes:
        n_items: number of items (the resampling unit).
        n_models: number of models M.
    """

    n_items: int
    n_models: int

    def __init__(self) -> None:
        self.work = Scratch()

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
        """Sign-flip statistics ``sum(signs * x) / n`` per model: (c, M); None unless a mean."""
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
        super().__init__()
        values = np.asarray(values, dtype=np.float64)
        self.n_items, self.n_models = values.shape
        self._included = np.isfinite(values)
        self._values = np.where(self._included, values, 0.0)
        self._n_included = self._included.sum(axis=0).astype(np.float64)

    def resampled(self, counts: np.ndarray) -> np.ndarray:
        weights = self.work("weights", counts.shape, np.float64)
        np.copyto(weights, counts)
        if self._included.all():
            return (weights @ self._values) / self.n_items
        return ratio(weights @ self._values, weights @ self._included.astype(np.float64))

    def signed(self, signs: np.ndarray) -> np.ndarray:
        return ratio(signs @ self._values, self._n_included)

    def randomisable(self) -> np.ndarray:
        inc = self._included
        return (inc[:, :, None] == inc[:, None, :]).all(axis=0)
