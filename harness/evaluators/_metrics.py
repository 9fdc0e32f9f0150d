"""Vectorised metric kernels shared by the evaluators (verified against sklearn in the tests).

All functions take plain numpy arrays and return Python floats or float64 arrays.
"""

from __future__ import annotations

import numpy as np


def _sorted_desc(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores and labels sorted by score, highest first (stable, as Python's ``sorted``)."""
    order = np.argsort(-scores, kind="stable")
    return scores[order], labels[order]


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """sklearn's ``average_precision_score`` for binary labels (1 = positive).

    Tied scores form one threshold (step-wise AP, no interpolation).

    Args:
        labels: array of shape (n,) with values in {0, 1}.
        scores: array of shape (n,), higher = more likely positive.

    Returns:
        AP between 0.0 and 1.0; NaN when there is no positive (sklearn warns and returns NaN
        through 0/0 in recall too).
    """
    s, y = _sorted_desc(np.asarray(scores, dtype=np.float64), np.asarray(labels) == 1)
    n_pos = y.sum()
    if n_pos == 0:
        return float("nan")
    last = np.r_[s[1:] != s[:-1], True]  # last row of each group of tied scores
    tp = np.cumsum(y)[last]
    precision = tp / (np.flatnonzero(last) + 1)
    recall_gain = np.diff(np.r_[0, tp]) / n_pos
    return float(np.sum(recall_gain * precision))


def best_accuracy(scores: np.ndarray, labels: np.ndarray, higher_is_positive: bool) -> float:
    """mteb ``AbsTaskPairClassification._find_best_acc_and_threshold`` (the accuracy).

    Rows sorted by score; a threshold may fall after row i (0 <= i < n - 1) unless rows i and
    i + 1 tie; accuracy counts positives above and negatives below it. The all-positive
    threshold after the last row is never tried, as in mteb; 0.0 when no threshold exists.

    Args:
        scores: array of shape (n,); labels: {0, 1} array of shape (n,).
        higher_is_positive: True for similarities, False for distances.

    Returns:
        The best accuracy in [0, 1].
    """
    s, y = _ordered(scores, labels, higher_is_positive)
    pos = np.cumsum(y == 1)
    remaining_neg = np.sum(y == 0) - np.cumsum(y == 0)
    valid = _split_points(s)
    if not valid.any():
        return 0.0
    acc = (pos + remaining_neg)[valid] / len(y)
    return float(max(acc.max(), 0.0))


def best_f1(
    scores: np.ndarray, labels: np.ndarray, higher_is_positive: bool
) -> tuple[float, float, float]:
    """mteb ``AbsTaskPairClassification._find_best_f1_and_threshold`` (f1, precision, recall).

    Same thresholds as :func:`best_accuracy`; the first threshold (in score order) reaching the
    best F1 gives precision and recall; (0, 0, 0) when no threshold has a positive above it.
    """
    s, y = _ordered(scores, labels, higher_is_positive)
    ncorrect = np.cumsum(y == 1).astype(np.float64)
    total = float(np.sum(y == 1))
    valid = _split_points(s) & (ncorrect > 0)
    if not valid.any():
        return 0.0, 0.0, 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = ncorrect / np.arange(1, len(y) + 1)
        recall = ncorrect / total
        f1 = 2 * precision * recall / (precision + recall)
    f1 = np.where(valid, f1, -np.inf)
    best = int(np.argmax(f1))  # first maximum, as mteb's strict ">" update
    if not f1[best] > 0:
        return 0.0, 0.0, 0.0
    return float(f1[best]), float(precision[best]), float(recall[best])


def _ordered(
    scores: np.ndarray, labels: np.ndarray, higher_is_positive: bool
) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    order = np.argsort(-scores if higher_is_positive else scores, kind="stable")
    return scores[order], labels[order]


def _split_points(sorted_scores: np.ndarray) -> np.ndarray:
    """Bool (n,): a threshold may follow row i (not the last row, no tie with row i + 1)."""
    valid = np.zeros(len(sorted_scores), dtype=bool)
    valid[:-1] = sorted_scores[:-1] != sorted_scores[1:]
    return valid


def classification_scores(
    y_true: np.ndarray, y_pred: np.ndarray, n_classes: int
) -> dict[str, np.ndarray]:
    """sklearn accuracy / macro and weighted precision, recall, F1, for many runs at once.

    Labels are class indices; as sklearn, the averages run over the classes present in
    ``y_true`` or ``y_pred`` of each run, and 0/0 counts as 0 (sklearn's ``zero_division``
    default, which also warns).

    Args:
        y_true: int array of shape (n,), gold class index per item.
        y_pred: int array of shape (n_runs, n), predicted class index per run and item.
        n_classes: number of classes (indices are in [0, n_classes)).

    Returns:
        metric name (mteb's: accuracy, f1, f1_weighted, precision, precision_weighted, recall,
        recall_weighted) -> float64 array of shape (n_runs,).
    """
    y_pred = np.atleast_2d(y_pred)
    n_runs = y_pred.shape[0]
    offset = np.arange(n_runs)[:, None] * n_classes

    def count(idx: np.ndarray) -> np.ndarray:
        flat = np.bincount(idx.ravel(), minlength=n_runs * n_classes)
        return flat.reshape(n_runs, n_classes).astype(np.float64)

    hit = y_pred == y_true
    true_count = count(np.broadcast_to(y_true, y_pred.shape) + offset)
    pred_count = count(y_pred + offset)
    tp = count((y_pred + offset)[hit])
    present = (true_count > 0) | (pred_count > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # sklearn: precision tp/pred, recall tp/true, F1 = 2 tp / (true + pred); 0/0 -> 0
        precision = np.where(pred_count > 0, tp / pred_count, 0.0)
        recall = np.where(true_count > 0, tp / true_count, 0.0)
        f1 = np.where(present, 2 * tp / (true_count + pred_count), 0.0)
    n_present = present.sum(axis=1)
    weights = true_count / true_count.sum(axis=1, keepdims=True)
    out = {"accuracy": hit.mean(axis=1)}
    for name, per_class in (("f1", f1), ("precision", precision), ("recall", recall)):
        out[name] = np.where(present, per_class, 0.0).sum(axis=1) / n_present
        out[f"{name}_weighted"] = (per_class * weights).sum(axis=1)
    return out


def as_floats(metrics: dict[str, float]) -> dict[str, float]:
    """Metrics as Python floats (not numpy scalars), full precision.

    A metric mteb reports as NaN (undefined: a correlation with a constant input, a flat nAUC
    oracle, no text left in summarization) stays NaN here, as in mteb; the runner stores it as
    0.0 and lists it as undefined (``harness.runner.defined_metrics``), keeping results JSON-safe.
    """
    return {name: float(value) for name, value in metrics.items()}
