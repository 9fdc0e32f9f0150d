"""Per-query retrieval metrics as pytrec_eval / mteb 2.x compute them, vectorised over queries.

Definitions (trec_eval's, which mteb reads through ``pytrec_eval``; relevant = grade > 0):

* ``ndcg_at_k``: DCG of the top k (gain = grade if > 0 else 0, discount 1 / log2(rank + 1))
  over the ideal DCG of all judged documents (the ideal counts judged documents missing from
  the corpus too). 0 when nothing is relevant.
* ``map_at_k``: sum of precision at each relevant rank <= k, over the number of relevant docs.
* ``recall_at_k``: relevant docs in the top k over the number of relevant docs.
* ``precision_at_k``: relevant docs in the top k over k (k even when fewer were retrieved).
* ``hit_rate_at_k``: 1 if any relevant doc is in the top k (trec_eval ``success``).
* ``mrr_at_k``: 1 / rank of the first relevant doc if within k, else 0 (mteb's own ``mrr``).

nAUC (``nauc_<metric>_at_<k>_<max|std|diff1>``): mteb's ``evaluate_abstention`` — the
normalised area under the abstention curve of each per-query metric, with three confidence
scores per query (top score, population std of all retrieved scores, top-1 minus top-2). It is
cheap (a sort over queries per metric), so we report it; it is NaN where mteb's is (a constant
per-query metric gives a flat oracle curve).
"""

from __future__ import annotations

import numpy as np

KINDS = ("ndcg", "map", "recall", "precision", "mrr", "hit_rate")
# metrics whose nAUC mteb reports, and in which order (mteb's dict order)
NAUC_KINDS = ("ndcg", "map", "recall", "precision", "mrr")
CONFIDENCES = ("max", "std", "diff1")
_ABSTENTION_RATES = np.linspace(0, 1, 11)[:-1]


def metric_names(k_values: tuple[int, ...]) -> list[str]:
    """Per-query metric names, ``<kind>_at_<k>``, kind-major (columns of :func:`per_query`)."""
    return [f"{kind}_at_{k}" for kind in KINDS for k in k_values]


def per_query(
    grades: np.ndarray,
    ideal: np.ndarray,
    num_rel: np.ndarray,
    k_values: tuple[int, ...],
) -> np.ndarray:
    """All metrics of :func:`metric_names` for a batch of queries.

    Args:
        grades: float64 (n_queries, L), relevance grade of each ranked doc (0 when unjudged
            or padding), rows best first.
        ideal: float64 (n_queries, max(k_values)), each query's grades > 0 sorted descending,
            zero-padded.
        num_rel: (n_queries,) number of judged docs with grade > 0.
        k_values: cutoffs.

    Returns:
        float64 (n_queries, len(metric_names(k_values))), each value in [0, 1].
    """
    n_q, width = grades.shape
    relevant = grades > 0
    gain = np.where(relevant, grades, 0.0)
    discount = 1.0 / np.log2(np.arange(2, max(width, ideal.shape[1]) + 2))
    dcg = np.cumsum(gain * discount[:width], axis=1)
    idcg = np.cumsum(ideal * discount[: ideal.shape[1]], axis=1)
    hits = np.cumsum(relevant, axis=1)
    ranks = np.arange(1, width + 1)
    ap = np.cumsum(np.where(relevant, hits / ranks, 0.0), axis=1)
    first = np.where(relevant.any(axis=1), relevant.argmax(axis=1) + 1, np.inf)
    safe_rel = np.maximum(num_rel, 1)

    def at(cum: np.ndarray, k: int) -> np.ndarray:
        if width == 0:
            return np.zeros(n_q)
        return cum[:, min(k, width) - 1]

    cols: dict[str, list[np.ndarray]] = {kind: [] for kind in KINDS}
    for k in k_values:
        ideal_k = idcg[:, min(k, idcg.shape[1]) - 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            cols["ndcg"].append(np.where(ideal_k > 0, at(dcg, k) / ideal_k, 0.0))
        cols["map"].append(np.where(num_rel > 0, at(ap, k) / safe_rel, 0.0))
        cols["recall"].append(np.where(num_rel > 0, at(hits, k) / safe_rel, 0.0))
        cols["precision"].append(at(hits, k) / k)
        cols["mrr"].append(np.where(first <= k, 1.0 / first, 0.0))
        cols["hit_rate"].append((at(hits, k) > 0).astype(np.float64))
    return np.stack([c for kind in KINDS for c in cols[kind]], axis=1)


def confidences(scores: np.ndarray) -> np.ndarray:
    """mteb's ``confidence_scores`` per query: (max, std, diff1), float64 (n_queries, 3).

    Args:
        scores: float64 (n_queries, L), retrieved scores best first, NaN padding.
    """
    valid = ~np.isnan(scores)
    n = valid.sum(axis=1)
    x = np.where(valid, scores, 0.0)
    top = np.where(n > 0, x[:, 0] if x.shape[1] else 0.0, 0.0)
    mean = x.sum(axis=1) / np.maximum(n, 1)
    std = np.sqrt(np.where(valid, (x - mean[:, None]) ** 2, 0.0).sum(axis=1) / np.maximum(n, 1))
    diff1 = np.where(n > 1, top - (x[:, 1] if x.shape[1] > 1 else 0.0), 0.0)
    return np.stack([top, std, diff1], axis=1)


def _abstention_curve(conf: np.ndarray, metric: np.ndarray) -> np.ndarray:
    order = np.argsort(conf, kind="stable")
    sorted_conf, sorted_metric = conf[order], metric[order]
    # tied confidences share their group's mean metric (mteb #5613)
    start = np.flatnonzero(np.r_[True, sorted_conf[1:] != sorted_conf[:-1]])
    size = np.diff(np.r_[start, len(sorted_conf)])
    sorted_metric = np.repeat(np.add.reduceat(sorted_metric, start) / size, size)
    n = len(conf)
    return np.array(
        [sorted_metric[min(round(rate * n), n - 1) :].mean() for rate in _ABSTENTION_RATES]
    )


def nauc(conf: np.ndarray, metric: np.ndarray) -> float:
    """mteb's ``nauc``: normalised area under the abstention curve (NaN for a flat oracle).

    Args:
        conf: float64 (n_queries,) confidence; metric: float64 (n_queries,) per-query metric.
    """
    if len(conf) == 0:
        return float("nan")
    rates = _ABSTENTION_RATES
    curve = _abstention_curve(conf, metric)
    oracle = _abstention_curve(metric, metric)
    auc, oracle_auc = np.trapezoid(curve, rates), np.trapezoid(oracle, rates)
    flat_auc = oracle[0] * (rates[-1] - rates[0])
    if oracle_auc == flat_auc:
        return float("nan")
    return float((auc - flat_auc) / (oracle_auc - flat_auc))


def naucs(values: np.ndarray, names: list[str], conf: np.ndarray) -> dict[str, float]:
    """nAUC of each per-query metric of :data:`NAUC_KINDS` under each confidence.

    Args:
        values: float64 (n_queries, len(names)); names: column names ``<kind>_at_<k>``.
        conf: float64 (n_queries, 3) from :func:`confidences`.

    Returns:
        ``nauc_<kind>_at_<k>_<confidence>`` -> value (NaN for a flat oracle), mteb's order.
    """
    out: dict[str, float] = {}
    for kind in NAUC_KINDS:
        for j, name in enumerate(names):
            if not name.startswith(f"{kind}_at_"):
                continue
            for c, conf_name in enumerate(CONFIDENCES):
                out[f"nauc_{name}_{conf_name}"] = nauc(conf[:, c], values[:, j])
    return out
