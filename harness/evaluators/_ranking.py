"""Exact top-k search and candidate reranking with deterministic tie-breaking.

Order: score descending, then document id descending (Python string order). This is the order
``pytrec_eval`` (trec_eval sorts by score, then docno, both descending) and mteb's ``mrr`` (sorts
by ``(score, doc_id)`` reversed, mteb #5092) evaluate a run in. It is also what mteb's search
keeps at the top-k boundary: ``chunked_full_corpus_search`` pushes ``(score, corpus_id)`` tuples
through a size-k min-heap, so among tied scores the larger ids survive. (mteb first takes a
``torch.topk(k + 1)`` per corpus chunk of 50,000 documents, whose choice among more than k + 1
tied scores in one chunk is arbitrary; we keep the rule above there too.)

A ranking is a pair of arrays of shape (n_queries, L): ``docs`` (int64 document indices, -1 =
padding) and ``scores`` (float64, NaN = padding); rows are sorted best first and padding is at
the end of each row.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from harness.evaluators._similarity import Matrix, paired_dot, scores, take_rows


def id_ranks(ids: list[str]) -> np.ndarray:
    """Position of each id in ascending string order, int64 of shape (len(ids),)."""
    order = np.argsort(np.array(ids, dtype=np.str_), kind="stable")
    ranks = np.empty(len(ids), dtype=np.int64)
    ranks[order] = np.arange(len(ids))
    return ranks


def _order_rows(s: np.ndarray, cand: np.ndarray, id_rank: np.ndarray) -> np.ndarray:
    """Sort candidate doc indices ``cand`` (rows) by (score, id) descending; ``s`` their scores."""
    order = np.lexsort((-id_rank[cand], -s), axis=-1)
    return np.take_along_axis(cand, order, axis=1)


def top_k(
    queries: Matrix,
    docs: Matrix,
    id_rank: np.ndarray,
    k: int,
    max_chunk_scores: int,
) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
    """Exact top-k documents per query, in chunks of queries.

    Args:
        queries: prepared query embeddings, shape (n_queries, dim) (see ``_similarity.prepare``).
        docs: prepared document embeddings, shape (n_docs, dim).
        id_rank: int64 (n_docs,), rank of each document id in ascending string order.
        k: documents to keep per query.
        max_chunk_scores: at most this many query x document scores are held at once.

    Yields:
        ``(rows, docs, scores)``: the query slice and its ranking, of shape
        (len(rows), min(k, n_docs)).
    """
    n_q, n_docs = queries.shape[0], docs.shape[0]
    chunk = max(1, max_chunk_scores // max(n_docs, 1))
    k = min(k, n_docs)
    for start in range(0, n_q, chunk):
        rows = slice(start, min(start + chunk, n_q))
        s = scores(queries[rows], docs)
        if k == 0:
            yield rows, np.zeros((s.shape[0], 0), np.int64), np.zeros((s.shape[0], 0))
            continue
        if k < n_docs:
            cand = np.argpartition(s, n_docs - k, axis=1)[:, n_docs - k :]
            kth = np.take_along_axis(s, cand, axis=1).min(axis=1, keepdims=True)
            # rows where docs tied with the k-th score straddle the cut: argpartition chose
            # among them arbitrarily; keep all strictly better docs and the largest tied ids.
            straddle = (s == kth).sum(axis=1) > (np.take_along_axis(s, cand, axis=1) == kth).sum(axis=1)
            if straddle.any():
                sub, sub_kth = s[straddle], kth[straddle]
                key = np.where(sub > sub_kth, n_docs, np.where(sub == sub_kth, id_rank, -1))
                cand[straddle] = np.argpartition(key, n_docs - k, axis=1)[:, n_docs - k :]
        else:
            cand = np.broadcast_to(np.arange(n_docs), s.shape)
        cand_scores = np.take_along_axis(s, cand, axis=1)
        ranked = _order_rows(cand_scores, cand, id_rank)
        yield rows, ranked, np.take_along_axis(s, ranked, axis=1).astype(np.float64)


def rerank(
    queries: Matrix,
    docs: Matrix,
    id_rank: np.ndarray,
    pair_query: np.ndarray,
    pair_doc: np.ndarray,
    k: int,
    max_chunk_scores: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Rank each query's candidates, keeping the best ``k``.

    Args:
        queries, docs: prepared embeddings, shapes (n_queries, dim) and (n_docs, dim).
        id_rank: int64 (n_docs,), rank of each document id in ascending string order.
        pair_query, pair_doc: int arrays of shape (n_pairs,), the (query, candidate) pairs,
            no pair repeated.
        k: candidates to keep per query.
        max_chunk_scores: pairs scored at once are at most this divided by dim.

    Returns:
        ``(docs, scores)`` of shape (n_queries, L), L = min(k, most candidates of a query).
    """
    n_q = queries.shape[0]
    n_pairs = len(pair_query)
    pair_scores = np.empty(n_pairs, dtype=np.float64)
    step = max(1, max_chunk_scores // max(queries.shape[1], 1))
    for start in range(0, n_pairs, step):
        part = slice(start, start + step)
        pair_scores[part] = paired_dot(
            take_rows(queries, pair_query[part]), take_rows(docs, pair_doc[part])
        )
    order = np.lexsort((-id_rank[pair_doc], -pair_scores, pair_query))
    q_sorted = pair_query[order]
    counts = np.bincount(pair_query, minlength=n_q)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    rank = np.arange(n_pairs) - starts[q_sorted]
    width = int(min(k, counts.max(initial=0)))
    keep = rank < width
    out_docs = np.full((n_q, width), -1, dtype=np.int64)
    out_scores = np.full((n_q, width), np.nan)
    out_docs[q_sorted[keep], rank[keep]] = pair_doc[order][keep]
    out_scores[q_sorted[keep], rank[keep]] = pair_scores[order][keep]
    return out_docs, out_scores


def drop_docs(docs: np.ndarray, scores: np.ndarray, drop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove the entries where ``drop`` is True, closing the gaps (order kept, padding at end).

    Args:
        docs, scores: a ranking of shape (n_queries, L).
        drop: bool (n_queries, L).

    Returns:
        The compacted ranking, same shape.
    """
    drop = drop | (docs < 0)
    order = np.argsort(drop, axis=1, kind="stable")
    docs = np.where(drop, -1, docs)
    scores = np.where(drop, np.nan, scores)
    return np.take_along_axis(docs, order, axis=1), np.take_along_axis(scores, order, axis=1)
