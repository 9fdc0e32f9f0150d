"""Classification by a logistic-regression probe, as mteb 2.x ``AbsTaskClassification``.

mteb's protocol (``abstasks/classification.py``), reproduced exactly:

* ``n_experiments`` runs. The training indices ``0..n_train-1`` are shuffled in place once per
  run with a fresh ``np.random.RandomState(seed)``, *cumulatively* (run i sees the permutation
  applied i + 1 times; mteb passes the shuffled list back in), and the first
  ``samples_per_label`` items of each label in that order are the run's training set.
* Only the union of those indices is embedded (sorted), as mteb 2.x does; :func:`text_groups`
  returns exactly those texts, and :func:`evaluate` redoes the same sampling to pick its rows.
* ``LogisticRegression(max_iter=100, random_state=seed)`` (sklearn defaults otherwise: lbfgs,
  C=1) is fitted on each run's rows in the sampled order and predicts the whole test split.
* Per run: accuracy, macro and weighted F1 / precision / recall; for a binary test split also
  ``ap`` and ``ap_weighted`` (sklearn ``average_precision_score`` of the *hard* predicted labels,
  with ``pos_label=1``; identical for the two averagings). Each metric is the mean over runs.
  Main score: ``accuracy``.

Differences from mteb: none in the numbers. mteb reports ``ap`` = NaN for non-binary tasks; we
leave ``ap``/``ap_weighted`` out there (not applicable, rather than undefined). mteb's AP needs
numeric labels with 1 among the test labels (it passes the predicted label values as scores,
``pos_label=1``; other labels raise in sklearn); otherwise we use the class indices (sorted
label order). Cross-validation tasks (``is_cross_validation``) are not supported.

Items:
    ``correct``: bool (n_experiments, n_test), prediction == gold per run and test item.
    ``predictions``: int64 (n_experiments, n_test), predicted class index.
    ``gold``: int64 (n_test,), gold class index.
    ``classes``: unicode (n_classes,), the labels the indices refer to (sorted unique labels).
The main score on a resample ``idx`` of test items is ``correct[:, idx].mean()``.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from harness.data.types import ClassificationData
from harness.evaluators._metrics import classification_scores, as_floats
from harness.evaluators._similarity import as_matrix, take_rows
from harness.evaluators.base import EvalOutput, Similarity, TextGroup


class Options(BaseModel):
    """Probe settings (mteb ``AbsTaskClassification`` class attributes and ``AbsTask.seed``)."""

    model_config = ConfigDict(extra="forbid")

    n_experiments: int = Field(10, ge=1)
    samples_per_label: int = Field(8, ge=1)
    max_iter: int = Field(100, ge=1)
    seed: int = 42


METRICS: tuple[str, ...] = (
    "accuracy",
    "f1",
    "f1_weighted",
    "precision",
    "precision_weighted",
    "recall",
    "recall_weighted",
    "ap",
    "ap_weighted",
)


def undersample(labels: np.ndarray, options: Options) -> list[np.ndarray]:
    """Training indices of each run, in mteb's sampled order.

    Args:
        labels: array of shape (n_train,), the training labels.
        options: :class:`Options` (n_experiments, samples_per_label, seed).

    Returns:
        ``n_experiments`` int arrays of indices into the training split.
    """
    labels = np.asarray(labels)
    n = len(labels)
    # RandomState(seed).shuffle moves positions the same way whatever the contents, so
    # shuffling mteb's list again equals indexing the current order by this permutation.
    perm = np.random.RandomState(options.seed).permutation(n)
    codes = np.unique(labels, return_inverse=True)[1].ravel()
    order = np.arange(n)
    runs = []
    for _ in range(options.n_experiments):
        order = order[perm]
        ordered = codes[order]
        # occurrence number of each item within its label, in the shuffled order
        by_label = np.argsort(ordered, kind="stable")
        starts = np.r_[0, np.flatnonzero(np.diff(ordered[by_label])) + 1]
        rank_sorted = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        rank = np.empty(n, dtype=np.int64)
        rank[by_label] = rank_sorted
        runs.append(order[rank < options.samples_per_label])
    return runs


def _train_union(data: ClassificationData, options: Options) -> tuple[np.ndarray, list[np.ndarray]]:
    runs = undersample(data.train_labels, options)
    return np.unique(np.concatenate(runs)), runs


def text_groups(data: ClassificationData, options: Options) -> dict[str, TextGroup]:
    """``train``: the union of the sampled training texts (sorted index order); ``test``: all."""
    union, _ = _train_union(data, options)
    return {
        "train": TextGroup([data.train_texts[i] for i in union]),
        "test": TextGroup(list(data.test_texts)),
    }


def evaluate(
    data: ClassificationData,
    embeddings: dict[str, object],
    options: Options,
    similarity: Similarity,
) -> EvalOutput:
    """Fit and score the probe ``n_experiments`` times.

    Args:
        data: train and test texts with labels.
        embeddings: ``train`` of shape (len(text_groups(...)["train"].texts), dim) and ``test``
            of shape (n_test, dim); dense or CSR.
        options: :class:`Options`.
        similarity: unused (the probe sees raw embeddings, as in mteb).

    Returns:
        :data:`METRICS` (means over runs, in [0, 1], higher = better) and the items above.
    """
    from sklearn.linear_model import LogisticRegression  # slow to import: only when scoring

    union, runs = _train_union(data, options)
    train_emb, test_emb = as_matrix(embeddings["train"]), as_matrix(embeddings["test"])
    if train_emb.shape[0] != len(union):
        raise ValueError(f"train embeddings have {train_emb.shape[0]} rows, expected {len(union)}")
    train_labels, test_labels = np.asarray(data.train_labels), np.asarray(data.test_labels)
    classes = np.unique(np.concatenate([train_labels, test_labels]))
    gold = np.searchsorted(classes, test_labels)
    position = np.searchsorted(union, np.concatenate(runs))  # row of each sampled index
    predictions = np.empty((len(runs), len(test_labels)), dtype=np.int64)
    start = 0
    for i, run in enumerate(runs):
        rows = position[start : start + len(run)]
        start += len(run)
        model = LogisticRegression(max_iter=options.max_iter, random_state=options.seed)
        model.fit(take_rows(train_emb, rows), train_labels[run])
        predictions[i] = np.searchsorted(classes, model.predict(test_emb))
    per_run = classification_scores(gold, predictions, len(classes))
    if len(np.unique(gold)) == 2:
        per_run["ap"] = per_run["ap_weighted"] = _average_precision(classes, gold, predictions)
    metrics = {name: float(np.mean(per_run[name])) for name in METRICS if name in per_run}
    items = {
        "correct": predictions == gold,
        "predictions": predictions,
        "gold": gold.astype(np.int64),
        "classes": classes.astype(np.str_),
    }
    return EvalOutput(metrics=as_floats(metrics), items=items)


def _average_precision(classes: np.ndarray, gold: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """mteb's binary AP per run: sklearn AP of the predicted label values, ``pos_label=1``."""
    from sklearn.metrics import average_precision_score

    numeric = np.issubdtype(classes.dtype, np.number)
    values = classes if numeric and 1 in classes[np.unique(gold)] else np.arange(len(classes))
    return np.array([average_precision_score(values[gold], values[p]) for p in predictions])
