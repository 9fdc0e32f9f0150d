"""Bag-of-words baselines: BM25 and TF-IDF, as sparse vectors.

Both are fitted on the task's documents (``fit``) and return ``scipy.sparse`` CSR matrices, so
they flow through the same encode path and evaluators as dense models. BM25 is written out here
because the libraries that implement it (``bm25s``, ``rank_bm25``) score queries against a corpus
but do not export document vectors, which the one-encode-path design needs; the tests check our
scores against the formula computed by hand.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from harness.errors import ModelError
from harness.models.base import Encoder, ModelInfo, Role
from harness.models.registry import register_adapter


TOKEN_PATTERN = r"(?u)\b\w+\b"  # every word, one-letter words too (sklearn's default drops them)


class _FittedLexical(Encoder):
    """Shared plumbing: a CountVectorizer vocabulary fitted on the task's documents (never cached:
    the vectors depend on the corpus)."""

    kind = ""
    fits_on_corpus = True

    def __init__(self, *, lowercase: bool = True, stop_words: str | None = None, **settings: Any) -> None:
        self.lowercase = lowercase
        self.stop_words = stop_words
        self._vectorizer: Any = None
        self.fingerprint = ""
        self.info = ModelInfo(
            name=f"harness/{self.kind}",
            revision="v1",
            similarity=self.similarity,
            n_parameters=0,
            settings={"lowercase": lowercase, "stop_words": stop_words, **settings},
        )

    similarity = "cosine"

    def fit(self, documents: list[str]) -> None:
        """Learn vocabulary and document statistics from ``documents``."""
        from sklearn.feature_extraction.text import CountVectorizer

        if not documents:
            raise ModelError(f"{self.kind}: nothing to fit on (the task has no texts)")
        self._vectorizer = CountVectorizer(
            lowercase=self.lowercase, stop_words=self.stop_words, token_pattern=TOKEN_PATTERN, dtype=np.float32
        )
        try:
            counts = self._vectorizer.fit_transform(documents)
        except ValueError:  # every document is empty or stop words only
            raise ModelError(f"{self.kind}: the task's texts contain no words") from None
        self._fit_statistics(counts)
        self.info.embedding_dim = counts.shape[1]
        digest = hashlib.blake2b(digest_size=16)
        for doc in documents:
            digest.update(doc.encode("utf-8", "surrogatepass") + b"\x00")
        self.fingerprint = digest.hexdigest()

    def _fit_statistics(self, counts: Any) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _counts(self, texts: list[str]) -> Any:
        if self._vectorizer is None:
            raise ModelError(f"{self.kind}: encode called before fit")
        return self._vectorizer.transform(texts)


@register_adapter("bm25")
class BM25Adapter(_FittedLexical):
    """Okapi BM25 (Lucene's idf ``log(1 + (N - df + 0.5) / (df + 0.5))``).

    Documents (role "document" or None) become BM25 term weights; queries become raw term
    counts, so ``query · document`` is the BM25 score (similarity ``dot``).
    """

    kind = "bm25"
    similarity = "dot"

    def __init__(self, *, k1: float = 1.5, b: float = 0.75, **options: Any) -> None:
        self.k1, self.b = k1, b
        super().__init__(k1=k1, b=b, **options)

    def _fit_statistics(self, counts: Any) -> None:
        n_docs = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        self._idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        self._avgdl = float(counts.sum()) / n_docs

    def encode(self, texts: list[str], *, role: Role = None, **_: Any) -> Any:
        """(len(texts), vocab) CSR: counts for queries, BM25 weights otherwise."""
        counts = self._counts(texts).tocsr()
        if role == "query":
            return counts
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        row_of_entry = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        tf = counts.data
        norm = self.k1 * (1 - self.b + self.b * lengths[row_of_entry] / self._avgdl)
        counts.data = (self._idf[counts.indices] * tf * (self.k1 + 1) / (tf + norm)).astype(np.float32)
        return counts


@register_adapter("tfidf")
class TfidfAdapter(_FittedLexical):
    """TF-IDF with sklearn's smoothed idf and L2-normalised rows (similarity ``cosine``)."""

    kind = "tfidf"

    def __init__(self, *, sublinear_tf: bool = True, **options: Any) -> None:
        self.sublinear_tf = sublinear_tf
        super().__init__(sublinear_tf=sublinear_tf, **options)

    def _fit_statistics(self, counts: Any) -> None:
        from sklearn.feature_extraction.text import TfidfTransformer

        self._tfidf = TfidfTransformer(sublinear_tf=self.sublinear_tf).fit(counts)

    def encode(self, texts: list[str], *, role: Role = None, **_: Any) -> Any:
        """(len(texts), vocab) CSR of L2-normalised TF-IDF weights."""
        return self._tfidf.transform(self._counts(texts)).astype(np.float32)
