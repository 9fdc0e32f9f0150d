"""Similarity arithmetic shared by the evaluators, for dense arrays and scipy CSR matrices alike.

mteb scores in float32 (``mteb/similarity_functions.py`` converts to float32 torch tensors and
upcasts fp16/bf16 first, to break ties); we do the same arithmetic in numpy so that tie structure
and rankings match. Every function returns float64 arrays holding the float32 results exactly, as
mteb's ``.tolist()`` does.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from harness.evaluators.base import Similarity

if TYPE_CHECKING:
    import scipy.sparse

Matrix = Union[np.ndarray, "scipy.sparse.spmatrix", "scipy.sparse.sparray"]


def issparse(x: Any) -> bool:
    """scipy's ``issparse`` without importing scipy.sparse (slow) when nothing sparse exists."""
    module = sys.modules.get("scipy.sparse")
    return module is not None and module.issparse(x)


# torch.nn.functional.normalize's default eps: a zero vector stays zero (cosine 0, never NaN).
_NORM_EPS = 1e-12


def as_matrix(x: Matrix) -> Matrix:
    """Return ``x`` as a 2-D float array or CSR matrix, fp16/bf16 upcast to float32.

    Args:
        x: array-like or sparse matrix of shape (n, dim).

    Returns:
        ``np.ndarray`` (float32 or float64) or ``scipy.sparse.csr_matrix`` of shape (n, dim).
    """
    if issparse(x):
        import scipy.sparse as sp

        x = sp.csr_matrix(x)
        if not np.issubdtype(x.dtype, np.floating) or x.dtype.itemsize < 4:
            x = x.astype(np.float32)
        return x
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating) or x.dtype.itemsize < 4:
        x = x.astype(np.float32)
    if x.ndim != 2:
        raise ValueError(f"embeddings must be 2-D (n, dim), got shape {x.shape}")
    return x


def take_rows(x: Matrix, idx: np.ndarray) -> Matrix:
    """Rows ``idx`` of ``x`` (dense or CSR), in that order, repeats allowed."""
    return x[np.asarray(idx, dtype=np.intp)]


def l2_normalize(x: Matrix) -> Matrix:
    """Rows scaled to unit L2 norm as torch's ``normalize(p=2, eps=1e-12)`` does.

    Args:
        x: dense array or CSR matrix of shape (n, dim).

    Returns:
        Same type and dtype as ``x``; zero rows stay zero.
    """
    if issparse(x):
        import scipy.sparse as sp

        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1), dtype=x.dtype).ravel())
        scale = (1.0 / np.maximum(norms, _NORM_EPS)).astype(x.dtype)
        return sp.csr_matrix(sp.diags(scale) @ x)
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    return x / np.maximum(norms, _NORM_EPS).astype(x.dtype)[:, None]


def paired_dot(a: Matrix, b: Matrix) -> np.ndarray:
    """Row-wise dot products ``a[i] . b[i]``.

    Args:
        a, b: dense arrays or CSR matrices of shape (n, dim).

    Returns:
        float64 array of shape (n,) (computed in the inputs' precision).
    """
    if issparse(a) or issparse(b):
        import scipy.sparse as sp

        a = sp.csr_matrix(a)
        out = np.asarray(a.multiply(b).sum(axis=1)).ravel()
        dtype = np.result_type(a.dtype, b.dtype)
        return out.astype(dtype).astype(np.float64)
    return np.einsum("ij,ij->i", a, b).astype(np.float64)


def paired_distances(a: Matrix, b: Matrix) -> dict[str, np.ndarray]:
    """mteb's generic pair scores, via sklearn ``paired_*_distances`` exactly as mteb calls them.

    Args:
        a, b: embeddings of shape (n, dim), dense or CSR.

    Returns:
        float64 arrays of shape (n,): ``cosine`` (1 - cosine distance: a similarity),
        ``manhattan`` and ``euclidean`` (distances, lower = more similar).
    """
    from sklearn.metrics.pairwise import (  # sklearn is slow to import: only when scoring
        paired_cosine_distances,
        paired_euclidean_distances,
        paired_manhattan_distances,
    )

    return {
        "cosine": (1 - paired_cosine_distances(a, b)).astype(np.float64),
        "manhattan": np.asarray(paired_manhattan_distances(a, b), dtype=np.float64),
        "euclidean": np.asarray(paired_euclidean_distances(a, b), dtype=np.float64),
    }


def paired_similarity(a: Matrix, b: Matrix, similarity: Similarity) -> np.ndarray:
    """The model's pairwise similarity (mteb ``pairwise_cos_sim`` / ``pairwise_dot_score``).

    Args:
        a, b: embeddings of shape (n, dim).
        similarity: "cosine" or "dot".

    Returns:
        float64 array of shape (n,), higher = more similar.
    """
    if similarity == "cosine":
        return paired_dot(l2_normalize(a), l2_normalize(b))
    if similarity == "dot":
        return paired_dot(a, b)
    raise ValueError(f"unknown similarity {similarity!r} (expected 'cosine' or 'dot')")


def prepare(x: Matrix, similarity: Similarity) -> Matrix:
    """Embeddings ready for :func:`scores`: normalised for cosine, unchanged for dot."""
    if similarity == "cosine":
        return l2_normalize(x)
    if similarity == "dot":
        return x
    raise ValueError(f"unknown similarity {similarity!r} (expected 'cosine' or 'dot')")


def scores(queries: Matrix, docs: Matrix) -> np.ndarray:
    """Dense score matrix ``queries @ docs.T`` of prepared embeddings (see :func:`prepare`).

    Args:
        queries: shape (n_queries, dim); docs: shape (n_docs, dim); dense or CSR.

    Returns:
        Dense array of shape (n_queries, n_docs) in the inputs' float precision.
    """
    if issparse(queries) or issparse(docs):
        import scipy.sparse as sp

        out = sp.csr_matrix(queries) @ sp.csr_matrix(docs).T
        return np.asarray(out.toarray())
    return queries @ docs.T
