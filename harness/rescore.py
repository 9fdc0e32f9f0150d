"""Retrieval over a quantised index with float rescoring (``--sweep quantize=binary --sweep rescore=K``).

As sentence-transformers' quantization guide describes (after Yamada et al. 2021): the index holds
the quantised documents and the query stays float32.

1. First stage: every query's top ``max(K, max(k_values))`` documents by the quantised
   similarity. ``binary``/``ubinary``: Hamming distance between the sign bits
   (``quantize_embeddings(..., "ubinary")``), counted with XOR and a popcount over 64-bit words;
   the similarity is ``(dim - 2 * hamming) / dim``, the cosine of the ±1 vectors. ``int8``:
   the dot product of the int8 codes (ranges calibrated on the task's documents).
2. Rescoring (``K > 0``): the first K are re-ordered by float query · document codes (±1 for
   binary, the int8 values for int8). sentence-transformers unpacks the bits to 0/1 instead;
   ``q · b = (q · s + sum(q)) / 2`` for ±1 codes ``s``, so the order is the same.

The run is the K rescored documents, then the first stage's ranks K+1.. (their scores are NaN:
they were not rescored, so the nAUC confidences use the rescored scores only), cut to
``max(k_values)``. Ties: score descending, then document id descending, as ``_ranking``.
``K = 0`` is the first stage alone. Metrics are scored by ``retrieval.score_runs``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.data.types import RetrievalData
from harness.errors import DataUnavailable
from harness.evaluators import _ranking, get_evaluator, retrieval
from harness.evaluators._similarity import as_matrix, prepare
from harness.evaluators.base import EvalOutput, Similarity
from harness.variants import Variant, library_quantize

if TYPE_CHECKING:
    from harness.evaluators.base import Evaluator
    from harness.specs import TaskSpec

_BYTE_BITS = np.array([i.bit_count() for i in range(256)], dtype=np.uint8)


class NotRescorable(DataUnavailable):
    """A rescoring variant on a task that does not rank a corpus: the unit is skipped."""


def popcount(words: np.ndarray) -> np.ndarray:
    """Set bits of each element of an unsigned integer array (``np.bitwise_count`` on numpy >= 2,
    else a byte lookup table), same shape."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    as_bytes = _BYTE_BITS[words.view(np.uint8)].reshape(*words.shape, words.itemsize)
    return as_bytes.sum(axis=-1, dtype=np.uint16)


def pack_words(packed: np.ndarray) -> np.ndarray:
    """Packed bits (n, bytes) uint8 as (n, words) uint64, zero-padded to whole words."""
    pad = -packed.shape[1] % 8
    return np.ascontiguousarray(np.pad(packed, ((0, 0), (0, pad)))).view(np.uint64)


def hamming(queries: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """Hamming distances, int64 (n_queries, n_docs), between rows of (n, words) uint64 bit words."""
    return popcount(queries[:, None, :] ^ docs[None, :, :]).sum(axis=-1, dtype=np.int64)


class QuantisedIndex:
    """The documents as a quantised index: first-stage similarity and rescoring codes.

    Args:
        docs: float document vectors (n_docs, dim), as the model's similarity prepares them.
        quantize: ``binary``, ``ubinary`` or ``int8``.
    """

    def __init__(self, docs: np.ndarray, quantize: str) -> None:
        self.quantize = quantize
        self.dim = docs.shape[1]
        self._calibration = docs
        if quantize == "int8":
            self.codes = library_quantize()(docs, "int8", calibration_embeddings=docs)
            self._first = self.codes.astype(np.float64)  # int8 dot products are exact in float64
        else:
            packed = library_quantize()(docs, "ubinary")
            self._first = pack_words(packed)
            self.codes = 2 * np.unpackbits(packed, axis=1)[:, : self.dim].astype(np.int8) - 1
        self.width = self._first.shape[1]  # values per document row of the first stage (64-bit words, or dims)

    def first_stage(self, queries: np.ndarray) -> np.ndarray:
        """Quantised similarity of float ``queries`` (n, dim) to every document, (n, n_docs):
        ``dim - 2 * hamming`` (binary) or the int8 dot product; integer-valued int64."""
        quantize_embeddings = library_quantize()
        if self.quantize == "int8":
            codes = quantize_embeddings(queries, "int8", calibration_embeddings=self._calibration).astype(np.float64)
            return np.rint(codes @ self._first.T).astype(np.int64)
        return self.dim - 2 * hamming(pack_words(quantize_embeddings(queries, "ubinary")), self._first)

    def shown(self, similarity: np.ndarray) -> np.ndarray:
        """First-stage scores as reported: the ±1 cosine for binary, the int8 dot product."""
        return similarity / self.dim if self.quantize != "int8" else similarity.astype(np.float64)


def _best(similarity: np.ndarray, id_rank: np.ndarray, depth: int) -> np.ndarray:
    """Each row's top ``depth`` document indices by (similarity, id) descending, (n, depth)."""
    key = similarity * len(id_rank) + id_rank  # unique per row: ties broken by the larger id
    cand = np.argpartition(-key, depth - 1, axis=1)[:, :depth] if depth < key.shape[1] else np.argsort(-key, axis=1)
    order = np.argsort(-np.take_along_axis(key, cand, axis=1), axis=1)
    return np.take_along_axis(cand, order, axis=1)


def ranked_runs(
    queries: np.ndarray, index: QuantisedIndex, id_rank: np.ndarray, k: int, rescore: int, max_chunk_scores: int
) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
    """The two-stage runs of ``queries`` (n, dim), in chunks of queries (``_ranking``'s format).

    Yields:
        ``(rows, docs, scores)`` of shape (len(rows), min(k, n_docs)).
    """
    n_q, n_docs = queries.shape[0], len(id_rank)
    k, rescore = min(k, n_docs), min(rescore, n_docs)
    depth = max(k, rescore)
    chunk = max(1, max_chunk_scores // max(n_docs * index.width, 1))
    for start in range(0, n_q, chunk):
        rows = slice(start, min(start + chunk, n_q))
        similarity = index.first_stage(queries[rows])
        if depth == 0:
            yield rows, np.zeros((similarity.shape[0], 0), np.int64), np.zeros((similarity.shape[0], 0))
            continue
        docs = _best(similarity, id_rank, depth)
        scores = index.shown(np.take_along_axis(similarity, docs, axis=1))
        if rescore:
            n = docs.shape[0]
            head, head_scores = _ranking.rerank(
                queries[rows], index.codes, id_rank, np.repeat(np.arange(n), rescore), docs[:, :rescore].ravel(), rescore, max_chunk_scores
            )
            docs = np.concatenate([head, docs[:, rescore:]], axis=1)
            scores = np.concatenate([head_scores, np.full((n, depth - rescore), np.nan)], axis=1)
        yield rows, docs[:, :k], scores[:, :k]


class RescoredRetrieval:
    """The retrieval evaluator with a quantised first stage and float rescoring (``Evaluator``)."""

    Options = retrieval.Options
    METRICS = retrieval.METRICS

    def __init__(self, quantize: str, rescore: int) -> None:
        self.quantize = quantize
        self.rescore = rescore

    def text_groups(self, data: RetrievalData, options: retrieval.Options) -> Any:
        return retrieval.text_groups(data, options)

    def evaluate(self, data: RetrievalData, embeddings: dict[str, object], options: retrieval.Options, similarity: Similarity) -> EvalOutput:
        """Rank the corpus for each query in two stages and score the runs.

        Args:
            embeddings: float ``queries`` (n_scored_queries, dim) and ``corpus`` (n_docs, dim).
        """
        qids, doc_ids = retrieval.scored_query_ids(data), list(data.corpus)
        queries = prepare(as_matrix(embeddings["queries"]), similarity)
        index = QuantisedIndex(prepare(as_matrix(embeddings["corpus"]), similarity), self.quantize)
        parts = ranked_runs(queries, index, _ranking.id_ranks(doc_ids), max(options.k_values), self.rescore, options.max_chunk_scores)
        return retrieval.score_runs(data, qids, doc_ids, parts, options)


def evaluator_for(variant: Variant | None, spec: TaskSpec) -> Evaluator:
    """The evaluator of ``spec``'s type; for a rescoring variant, the two-stage retrieval.

    Raises:
        NotRescorable: a rescoring variant on a task that is not retrieval (the unit is skipped).
    """
    if variant is None or variant.rescore is None:
        return get_evaluator(spec.type)
    if get_evaluator(spec.type) is not retrieval:  # rescoring replaces the corpus-search evaluator
        raise NotRescorable(f"rescore={variant.rescore} re-ranks a corpus search; task {spec.name} is {spec.type}, not retrieval")
    return RescoredRetrieval(variant.quantize, variant.rescore)
