"""What happens to texts longer than a model's max tokens: truncate (the model's default), or
split into token windows that are embedded like any text (so cached and deduplicated) and pooled
back into one vector per text by mean or max.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # numpy only where texts are split or pooled: loading specs stays light
    import numpy as np

Spans = list[tuple[int, int]]


class LongDocuments(BaseModel):
    """The ``long_documents`` field of a task spec.

    Attributes:
        strategy: ``truncate`` (the model cuts at its max tokens), ``chunk_mean`` or ``chunk_max``.
        chunk_tokens: tokens per window (default: the model's max tokens minus 2 special tokens).
        overlap: tokens shared by consecutive windows.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    strategy: Literal["truncate", "chunk_mean", "chunk_max"] = "truncate"
    chunk_tokens: int | None = Field(default=None, gt=0)
    overlap: int = Field(default=0, ge=0)


def window_size(config: LongDocuments, max_tokens: int) -> int:
    """Content tokens per window: the configured size, capped by the model's limit."""
    limit = max(1, max_tokens - 2)  # [CLS] and [SEP] count against the model's limit
    return min(config.chunk_tokens or limit, limit)


def split(texts: Sequence[str], spans: Sequence[Spans], size: int, overlap: int) -> tuple[list[str], np.ndarray]:
    """Cut each text into windows of ``size`` tokens (``overlap`` shared), at token boundaries.

    Args:
        texts: n texts; spans: per text, the (start, end) character span of each token.

    Returns:
        (window texts, owner: int64 array, the index of the text each window came from).
    """
    import numpy as np

    if overlap >= size:
        raise ValueError(f"long_documents.overlap ({overlap}) must be smaller than the window ({size} tokens)")
    step = size - overlap
    windows: list[str] = []
    owner: list[int] = []
    for index, (text, token_spans) in enumerate(zip(texts, spans)):
        if len(token_spans) <= size:
            windows.append(text)
            owner.append(index)
            continue
        for start in range(0, len(token_spans) - overlap, step):
            last = token_spans[min(start + size, len(token_spans)) - 1]
            windows.append(text[token_spans[start][0] : last[1]])
            owner.append(index)
    return windows, np.asarray(owner, dtype=np.int64)


def pool(vectors: np.ndarray, owner: np.ndarray, n: int, strategy: str) -> np.ndarray:
    """One vector per text from its windows' vectors (mean or element-wise max), shape (n, dim)."""
    import numpy as np

    if strategy == "chunk_max":
        out = np.full((n, vectors.shape[1]), -np.inf, dtype=np.float32)
        np.maximum.at(out, owner, vectors)
        return out
    sums = np.zeros((n, vectors.shape[1]), dtype=np.float64)
    np.add.at(sums, owner, vectors)
    return (sums / np.bincount(owner, minlength=n)[:, None]).astype(np.float32)


def apply(
    texts: list[str],
    config: LongDocuments,
    token_spans: Callable[[list[str]], list[Spans]],
    max_tokens: int,
    embed: Callable[[list[str]], np.ndarray],
) -> tuple[np.ndarray, dict[str, int]]:
    """Embed ``texts`` under ``config``; returns (vectors (n, dim), counts of long texts)."""
    import numpy as np

    spans = token_spans(texts)
    size = window_size(config, max_tokens)
    n_long = sum(len(s) > size for s in spans)
    if config.strategy == "truncate":
        return embed(texts), {"texts": len(texts), "truncated": n_long, "chunked": 0, "windows": len(texts)}
    windows, owner = split(texts, spans, size, config.overlap)
    vectors = np.asarray(embed(windows), dtype=np.float32)
    return pool(vectors, owner, len(texts), config.strategy), {"texts": len(texts), "truncated": 0, "chunked": n_long, "windows": len(windows)}
