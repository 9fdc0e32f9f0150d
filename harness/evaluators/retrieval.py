"""Retrieval, scored as mteb 2.x ``AbsTaskRetrieval`` + ``calculate_retrieval_scores``.

Queries and documents are embedded separately (roles "query" / "document"); each query ranks
the whole corpus by the model's similarity; the top ``max(k_values)`` form its run, which is
scored with trec_eval's definitions (see ``_retrieval_metrics``). Main score: ``ndcg_at_10``.

mteb behaviours reproduced:

* Queries: mteb drops queries whose qrels are empty or missing (``_filter_queries_without_
  positives``: "positives" means any judgement, even grade 0) and never embeds them. A query
  whose judgements are all <= 0 is kept and scores 0 everywhere. A qrels query with no text is
  a data error here (mteb silently skips it).
* Averages run over all kept queries, a query with an empty run counting 0 (pytrec_eval scores
  an empty run as 0, and mteb passes every searched query to it).
* Ties: score descending, then document id descending (see ``_ranking``).
* ``ignore_identical_ids`` drops hits whose document id equals the query id *after* taking the
  top ``max(k_values)``, so such a run holds fewer documents, as in mteb.
* ``skip_first_result`` drops the top hit (after the above). mteb re-sorts by score alone there,
  so which tied top hit it drops depends on heap order; we drop the first in our tie order.
* mteb rounds ndcg/map/recall/precision/hit_rate means (and ``accuracy`` = recall_at_1) to 5
  decimals; we report full precision (so agreement with mteb is at 1e-5 for those).
* Scores are computed in the embeddings' precision (float32), as mteb's torch code does.

Items:
    ``values``: float64 (n_queries, n_metrics), per-query value of every reported metric kind
        at every k (unrounded), columns named by ``metric_names``.
    ``metric_names``: unicode (n_metrics,), ``<kind>_at_<k>``.
    ``query_ids``: unicode (n_queries,).
    ``confidence``: float64 (n_queries, 3), nAUC confidences (max, std, diff1).
    ``top_hits``: unicode (n_queries,), the id of each query's first hit ("" for an empty run);
        for ``harness diff``'s drill-down, never for a score.
Each mean metric on a resample ``idx`` of queries is ``values[idx, j].mean()``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.data.types import RetrievalData
from harness.errors import DataError
from harness.evaluators import _ranking
from harness.evaluators._metrics import as_floats
from harness.evaluators._retrieval_metrics import (
    CONFIDENCES,
    NAUC_KINDS,
    confidences,
    metric_names,
    naucs,
    per_query,
)
from harness.evaluators._similarity import as_matrix, prepare
from harness.evaluators.base import EvalOutput, Similarity, TextGroup


class Options(BaseModel):
    """Retrieval settings (mteb ``AbsTaskRetrieval`` class attributes).

    Attributes:
        k_values: cutoffs; the run keeps the top ``max(k_values)`` documents.
        ignore_identical_ids: drop hits whose document id equals the query id.
        skip_first_result: drop each query's top hit.
        max_chunk_scores: at most this many query x document scores are held in memory at
            once (sets the query chunk size; no effect on scores).
    """

    model_config = ConfigDict(extra="forbid")

    k_values: tuple[int, ...] = (1, 3, 5, 10, 20, 100, 1000)
    ignore_identical_ids: bool = False
    skip_first_result: bool = False
    max_chunk_scores: int = Field(2**24, ge=1)

    @field_validator("k_values")
    @classmethod
    def _positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or min(value) < 1:
            raise ValueError("k_values must be a non-empty list of positive integers")
        return tuple(sorted(set(value)))


def reported_metrics(k_values: tuple[int, ...]) -> tuple[str, ...]:
    """Every metric name :func:`evaluate` may report for ``k_values``, in mteb's order."""
    at = lambda kind: [f"{kind}_at_{k}" for k in k_values]  # noqa: E731
    names = at("ndcg") + at("map") + at("recall") + (["accuracy"] if 1 in k_values else [])
    names += at("precision") + at("mrr")
    names += [f"nauc_{n}_{c}" for kind in NAUC_KINDS for n in at(kind) for c in CONFIDENCES]
    return tuple(names + at("hit_rate"))


METRICS: tuple[str, ...] = reported_metrics(Options().k_values)


def scored_query_ids(data: RetrievalData) -> list[str]:
    """Ids of the queries mteb scores: those with at least one judgement, in ``queries`` order."""
    judged = {qid for qid, docs in data.qrels.items() if docs}
    missing = sorted(judged - data.queries.keys())
    if missing:
        raise DataError(f"qrels name {len(missing)} queries with no text, e.g. {missing[0]!r}")
    if not judged:
        raise DataError("no query has a relevance judgement")
    return [qid for qid in data.queries if qid in judged]


def text_groups(data: RetrievalData, options: Options) -> dict[str, TextGroup]:
    """``queries`` (the scored queries) and ``corpus`` (every document), in dict order."""
    qids = scored_query_ids(data)
    return {
        "queries": TextGroup([data.queries[q] for q in qids], role="query"),
        "corpus": TextGroup(list(data.corpus.values()), role="document"),
    }


def evaluate(
    data: RetrievalData,
    embeddings: dict[str, object],
    options: Options,
    similarity: Similarity,
) -> EvalOutput:
    """Rank the corpus for each query and score the runs.

    Args:
        data: corpus, queries, qrels.
        embeddings: ``queries`` (n_scored_queries, dim) and ``corpus`` (n_docs, dim).
        options: :class:`Options`.
        similarity: the model's similarity ("cosine" or "dot"), used for ranking.

    Returns:
        The metrics of :func:`reported_metrics` (all in [0, 1], higher = better; nAUC may be
        negative) and the items above.
    """
    qids, doc_ids = scored_query_ids(data), list(data.corpus)
    queries = prepare(as_matrix(embeddings["queries"]), similarity)
    docs = prepare(as_matrix(embeddings["corpus"]), similarity)
    id_rank = _ranking.id_ranks(doc_ids)
    k = max(options.k_values)
    parts = _ranking.top_k(queries, docs, id_rank, k, options.max_chunk_scores)
    return score_runs(data, qids, doc_ids, parts, options)


def score_runs(
    data: RetrievalData,
    qids: list[str],
    doc_ids: list[str],
    parts: Iterable[tuple[slice, np.ndarray, np.ndarray]],
    options: Options,
) -> EvalOutput:
    """Metrics and items from rankings given in chunks of queries.

    Args:
        data: the task data (for qrels).
        qids: ids of the ranked queries (n_queries).
        doc_ids: ids of the documents the rankings index (n_docs).
        parts: iterable of ``(rows, docs, scores)`` rankings (see ``_ranking``) covering
            ``range(n_queries)`` in order.
        options: :class:`Options`.
    """
    judged = _Judgements(data.qrels, qids, doc_ids, max(options.k_values))
    doc_of_query = judged.doc_index(qids)
    names = metric_names(options.k_values)
    values, conf, top = [], [], []
    for rows, docs, scores in parts:
        if options.ignore_identical_ids:
            docs, scores = _ranking.drop_docs(docs, scores, docs == doc_of_query[rows, None])
        if options.skip_first_result and docs.shape[1]:
            docs, scores = _ranking.drop_docs(docs, scores, np.arange(docs.shape[1]) == 0)
        grades = judged.grades(np.arange(rows.start, rows.stop), docs)
        values.append(per_query(grades, judged.ideal[rows], judged.num_rel[rows], options.k_values))
        conf.append(confidences(scores))
        top.append(docs[:, 0] if docs.shape[1] else np.full(len(docs), -1))
    values_all = np.concatenate(values) if values else np.zeros((0, len(names)))
    conf_all = np.concatenate(conf) if conf else np.zeros((0, 3))
    means = dict(zip(names, values_all.mean(axis=0).tolist()))
    metrics = {}
    for name in reported_metrics(options.k_values):
        if name == "accuracy":
            metrics[name] = means["recall_at_1"]
        elif name in means:
            metrics[name] = float(means[name])
    metrics.update(naucs(values_all, names, conf_all))
    metrics = {n: metrics[n] for n in reported_metrics(options.k_values) if n in metrics}
    items = {
        "values": values_all,
        "metric_names": np.array(names, dtype=np.str_),
        "query_ids": np.array(qids, dtype=np.str_),
        "confidence": conf_all,
        "top_hits": _top_hit_ids(doc_ids, top),
    }
    return EvalOutput(metrics=as_floats(metrics), items=items)


def _top_hit_ids(doc_ids: list[str], top: list[np.ndarray]) -> np.ndarray:
    """unicode (n_queries,): the document id at each index in ``top`` ("" for -1, an empty run)."""
    index = np.concatenate(top).astype(np.int64) if top else np.zeros(0, np.int64)
    ids = np.array([*doc_ids, ""], dtype=np.str_)
    return ids[np.where(index >= 0, index, len(doc_ids))]


class _Judgements:
    """Qrels as arrays: vectorised grade lookup for (query, doc) index pairs, ideal gains."""

    def __init__(self, qrels: dict[str, dict[str, int]], qids: list[str], doc_ids: list[str], k: int):
        self._doc_pos = {d: i for i, d in enumerate(doc_ids)}
        self._n_docs = len(doc_ids)
        q_of, d_of, grade = [], [], []
        for qi, qid in enumerate(qids):
            for doc, rel in qrels[qid].items():
                q_of.append(qi)
                d_of.append(self._doc_pos.get(doc, -1))
                grade.append(float(rel))
        q_of, d_of, grade = np.array(q_of, np.int64), np.array(d_of, np.int64), np.array(grade)
        positive = grade > 0
        self.num_rel = np.bincount(q_of[positive], minlength=len(qids))
        self.ideal = _top_gains(q_of[positive], grade[positive], len(qids), k)
        in_corpus = d_of >= 0
        keys = q_of[in_corpus] * self._n_docs + d_of[in_corpus]
        order = np.argsort(keys)
        self._keys, self._grades = keys[order], grade[in_corpus][order]

    def doc_index(self, ids: list[str]) -> np.ndarray:
        """Corpus index of each id (-1 when not a document id), int64."""
        return np.array([self._doc_pos.get(i, -1) for i in ids], dtype=np.int64)

    def grades(self, query_rows: np.ndarray, docs: np.ndarray) -> np.ndarray:
        """Grade of each ranked doc (0 when unjudged or padding), float64 like ``docs``."""
        keys = query_rows[:, None] * self._n_docs + docs
        pos = np.clip(np.searchsorted(self._keys, keys), 0, max(len(self._keys) - 1, 0))
        if not len(self._keys):
            return np.zeros(docs.shape)
        found = (self._keys[pos] == keys) & (docs >= 0)
        return np.where(found, self._grades[pos], 0.0)


def _top_gains(q_of: np.ndarray, gains: np.ndarray, n_q: int, k: int) -> np.ndarray:
    """float64 (n_q, k): each query's gains sorted descending, zero-padded."""
    order = np.lexsort((-gains, q_of))
    q_sorted, g_sorted = q_of[order], gains[order]
    starts = np.r_[0, np.cumsum(np.bincount(q_of, minlength=n_q))[:-1]]
    rank = np.arange(len(q_sorted)) - starts[q_sorted]
    keep = rank < k
    out = np.zeros((n_q, k))
    out[q_sorted[keep], rank[keep]] = g_sorted[keep]
    return out
