"""Reranking, scored as mteb 2.x reranking tasks (``AbsTaskRetrieval`` with ``top_ranked``).

In mteb 2.x a reranking task is a retrieval task whose split carries ``top_ranked`` candidates:
``SearchEncoderWrapper`` scores each query only against its candidates
(``rerank_top_ranked_documents``), keeps the best ``max(k_values)`` of them, and the run is
scored exactly as retrieval (``calculate_retrieval_scores``, same metrics, same tie order, see
``retrieval``). mteb's reranking tasks (AskUbuntuDupQuestions, SciDocsRR, StackOverflowDupQuestions)
use ``map_at_1000`` as main score.

Differences from mteb, none in the numbers: mteb embeds the whole corpus; we embed only the
documents that are some scored query's candidate. A query with no candidate list gets an empty
run and scores 0 (mteb logs a warning and pytrec_eval scores the empty run 0). A candidate
listed twice counts once (mteb's run is a dict). A candidate id missing from the corpus is a
data error (mteb raises ``KeyError``).

Items: as ``retrieval`` (``values``, ``metric_names``, ``query_ids``, ``confidence``, ``top_hits``).
"""

from __future__ import annotations

import numpy as np

from harness.data.types import RetrievalData
from harness.errors import DataError
from harness.evaluators import _ranking
from harness.evaluators._similarity import as_matrix, prepare
from harness.evaluators.base import EvalOutput, Similarity, TextGroup
from harness.evaluators.retrieval import METRICS, Options, score_runs, scored_query_ids

__all__ = ["METRICS", "Options", "evaluate", "text_groups"]


def _candidate_docs(data: RetrievalData, qids: list[str]) -> list[str]:
    """Ids of the documents some scored query may rank, in corpus order."""
    if data.candidates is None:
        raise DataError("reranking needs candidates (top-ranked documents per query)")
    wanted = {d for q in qids for d in data.candidates.get(q, ())}
    missing = sorted(wanted - data.corpus.keys())
    if missing:
        raise DataError(f"{len(missing)} candidate documents are not in the corpus, e.g. {missing[0]!r}")
    return [d for d in data.corpus if d in wanted]


def text_groups(data: RetrievalData, options: Options) -> dict[str, TextGroup]:
    """``queries`` (the scored queries) and ``corpus`` (their candidates), in dict order."""
    qids = scored_query_ids(data)
    docs = _candidate_docs(data, qids)
    return {
        "queries": TextGroup([data.queries[q] for q in qids], role="query"),
        "corpus": TextGroup([data.corpus[d] for d in docs], role="document"),
    }


def evaluate(
    data: RetrievalData,
    embeddings: dict[str, object],
    options: Options,
    similarity: Similarity,
) -> EvalOutput:
    """Rank each query's candidates and score the runs.

    Args:
        data: corpus, queries, qrels and candidates.
        embeddings: ``queries`` (n_scored_queries, dim) and ``corpus`` (n_candidate_docs, dim),
            aligned with :func:`text_groups`.
        options: :class:`retrieval.Options`.
        similarity: the model's similarity ("cosine" or "dot").

    Returns:
        The retrieval metrics (main score for mteb's reranking tasks: ``map_at_1000``) and
        the items above.
    """
    qids = scored_query_ids(data)
    doc_ids = _candidate_docs(data, qids)
    queries = prepare(as_matrix(embeddings["queries"]), similarity)
    docs = prepare(as_matrix(embeddings["corpus"]), similarity)
    doc_pos = {d: i for i, d in enumerate(doc_ids)}
    lists = [list(dict.fromkeys(data.candidates.get(q, ()))) for q in qids]
    pair_query = np.repeat(np.arange(len(qids)), [len(c) for c in lists])
    pair_doc = np.array([doc_pos[d] for c in lists for d in c], dtype=np.int64)
    ranked, scores = _ranking.rerank(
        queries,
        docs,
        _ranking.id_ranks(doc_ids),
        pair_query,
        pair_doc,
        max(options.k_values),
        options.max_chunk_scores,
    )
    parts = [(slice(0, len(qids)), ranked, scores)]
    return score_runs(data, qids, doc_ids, parts, options)
