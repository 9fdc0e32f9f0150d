"""Summarization, scored as mteb 2.x ``AbsTaskSummarization`` + ``SummarizationEvaluator``.

Each machine summary is scored by its best cosine similarity (and best dot product, and best
model similarity) to the human summaries of the same text. Per text, these predicted scores are
correlated with the human relevance scores (scipy ``spearmanr`` / ``pearsonr``: ranks averaged
over ties); the metrics are the means over texts. As mteb, a text is skipped when its relevance
scores, its dot scores or its cosine scores are all equal. Main score: ``cosine_spearman``.

Not an mteb difference: mteb first normalises relevance to ``(x - min) / (max - min)``, which
cannot change a correlation (beyond rounding) or the skip test, so we leave it out. This is the
current ``SummarizationEvaluator``, not ``DeprecatedSummarizationEvaluator`` (SummEval v1, mteb
#1156).

Items (shape (n_texts,), float64, NaN for skipped texts):
    ``included``: bool, the text was scored.
    ``cosine_spearman``, ``cosine_pearson``, ``dot_spearman``, ``dot_pearson``,
    ``spearman``, ``pearson``: the per-text correlations (the last two with the model's
    similarity).
Each metric on a resample ``idx`` of texts is ``np.nanmean(items[name][idx])``. When every
text is skipped the metrics are NaN, as in mteb.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict

from harness.data.types import SummarizationData
from harness.evaluators._metrics import as_floats
from harness.evaluators._similarity import as_matrix, l2_normalize, paired_dot, take_rows
from harness.evaluators.base import EvalOutput, Similarity, TextGroup


class Options(BaseModel):
    """Summarization has no settings that move a score."""

    model_config = ConfigDict(extra="forbid")


METRICS: tuple[str, ...] = (
    "pearson",
    "spearman",
    "cosine_spearman",
    "cosine_pearson",
    "dot_spearman",
    "dot_pearson",
)


def text_groups(data: SummarizationData, options: Options) -> dict[str, TextGroup]:
    """``human`` and ``machine``: every summary, flattened text by text (symmetric: no role)."""
    return {
        "human": TextGroup([s for group in data.human_summaries for s in group]),
        "machine": TextGroup([s for group in data.machine_summaries for s in group]),
    }


def _best_match(machine: object, human: object, data: SummarizationData) -> tuple[np.ndarray, np.ndarray]:
    """Per machine summary, max cosine and max dot over its text's human summaries.

    Returns:
        Two float64 arrays of shape (n_machine_summaries,).
    """
    n_human = np.array([len(g) for g in data.human_summaries])
    n_machine = np.array([len(g) for g in data.machine_summaries])
    if np.any((n_human == 0) & (n_machine > 0)):
        raise ValueError("a text has machine summaries but no human summary")
    h_start = np.r_[0, np.cumsum(n_human)[:-1]]
    text_of_machine = np.repeat(np.arange(len(n_machine)), n_machine)
    pairs_per_machine = n_human[text_of_machine]
    pair_machine = np.repeat(np.arange(len(text_of_machine)), pairs_per_machine)
    pair_offset = np.arange(len(pair_machine)) - np.repeat(
        np.r_[0, np.cumsum(pairs_per_machine)[:-1]], pairs_per_machine
    )
    pair_human = h_start[text_of_machine[pair_machine]] + pair_offset
    first_pair = np.r_[0, np.cumsum(pairs_per_machine)[:-1]]
    best = []
    for left, right in ((l2_normalize(machine), l2_normalize(human)), (machine, human)):
        pair_scores = paired_dot(take_rows(left, pair_machine), take_rows(right, pair_human))
        best.append(np.maximum.reduceat(pair_scores, first_pair) if len(pair_scores) else pair_scores)
    return best[0], best[1]


def _row_corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of x with the same row of y, shape (n_rows,)."""
    xm = x - x.mean(axis=1, keepdims=True)
    ym = y - y.mean(axis=1, keepdims=True)
    xm /= np.linalg.norm(xm, axis=1, keepdims=True)
    ym /= np.linalg.norm(ym, axis=1, keepdims=True)
    return np.clip(np.einsum("ij,ij->i", xm, ym), -1.0, 1.0)


def evaluate(
    data: SummarizationData,
    embeddings: dict[str, object],
    options: Options,
    similarity: Similarity,
) -> EvalOutput:
    """Correlate best-match similarities of machine summaries with human relevance.

    Args:
        data: human and machine summaries with relevance, per text.
        embeddings: ``human`` and ``machine`` (flattened as :func:`text_groups`).
        options: :class:`Options`.
        similarity: the model's similarity ("cosine" or "dot").

    Returns:
        :data:`METRICS` (means of per-text correlations in [-1, 1], higher = better) and the
        items above.
    """
    from scipy.stats import rankdata  # slow to import: only when scoring

    if similarity not in ("cosine", "dot"):
        raise ValueError(f"unknown similarity {similarity!r} (expected 'cosine' or 'dot')")
    cosine, dot = _best_match(as_matrix(embeddings["machine"]), as_matrix(embeddings["human"]), data)
    n_machine = np.array([len(g) for g in data.machine_summaries])
    relevance = np.array([r for group in data.relevance for r in group], dtype=np.float64)
    if len(relevance) != n_machine.sum():
        raise ValueError("relevance must have one score per machine summary")
    starts = np.r_[0, np.cumsum(n_machine)[:-1]]
    n_texts = len(n_machine)
    names = ("cosine_spearman", "cosine_pearson", "dot_spearman", "dot_pearson")
    per_text = {name: np.full(n_texts, np.nan) for name in names}
    included = np.zeros(n_texts, dtype=bool)
    # texts with the same number of machine summaries are scored together, as 2-D rows
    for size in np.unique(n_machine[n_machine > 0]):
        texts = np.flatnonzero(n_machine == size)
        idx = starts[texts][:, None] + np.arange(size)
        gold, cos, dt = relevance[idx], cosine[idx], dot[idx]
        constant = lambda a: (a == a[:, :1]).all(axis=1)  # noqa: E731
        keep = ~(constant(gold) | constant(dt) | constant(cos))
        texts, gold, cos, dt = texts[keep], gold[keep], cos[keep], dt[keep]
        included[texts] = True
        gold_rank = rankdata(gold, axis=1)
        for prefix, pred in (("cosine", cos), ("dot", dt)):
            per_text[f"{prefix}_spearman"][texts] = _row_corr(gold_rank, rankdata(pred, axis=1))
            per_text[f"{prefix}_pearson"][texts] = _row_corr(gold, pred)
    per_text["spearman"] = per_text[f"{similarity}_spearman"].copy()
    per_text["pearson"] = per_text[f"{similarity}_pearson"].copy()
    metrics = {name: float(np.mean(per_text[name][included])) for name in METRICS}
    items: dict[str, np.ndarray] = {"included": included, **per_text}
    return EvalOutput(metrics=as_floats(metrics), items=items)
