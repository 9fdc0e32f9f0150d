"""The model protocol every encoder follows, and the base class of the built-in adapters.

Only ``harness.encode`` calls ``encode``; nothing else in the harness touches a model.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from harness.specs import TaskSpec

Role = Literal["query", "document"] | None


@runtime_checkable
class EncoderProtocol(Protocol):
    """Anything with this method can be evaluated.

    ``encode(texts, *, role, task, batch_size)`` returns an array of shape (len(texts), dim):
    float32 numpy (or a scipy.sparse matrix for lexical models). ``role`` is "query", "document"
    or None (symmetric tasks); ``task`` is the TaskSpec being run. Extra keyword arguments must be
    tolerated.
    """

    def encode(self, texts: list[str], *, role: Role, task: TaskSpec, batch_size: int, **kwargs: Any) -> Any: ...


@dataclass
class ModelInfo:
    """What the store and the leaderboard record about a model.

    ``settings`` holds every option that changes the vectors (the cache key uses it).
    """

    name: str
    revision: str
    similarity: Literal["cosine", "dot"] = "cosine"
    n_parameters: int | None = None
    embedding_dim: int | None = None
    max_tokens: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


NUM_THREADS_ENV = "HARNESS_NUM_THREADS"


def cpu_threads() -> int:
    """Threads for intra-op parallelism: ``$HARNESS_NUM_THREADS`` if set (a Ray replica sets it to
    its CPU share), else every core this process may use."""
    requested = os.environ.get(NUM_THREADS_ENV, "").strip()
    if requested.isdigit() and int(requested) > 0:
        return int(requested)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class Adapter:
    """Base of the built-in adapters: lazy loading, prompts and Matryoshka truncation.

    Subclasses implement ``_load()`` (import heavy libraries there, never at module level) and
    ``_embed(texts, role) -> np.ndarray``; set ``self.info`` in ``__init__`` without loading.

    Args:
        prompts: role -> prefix prepended to each text (overrides the task spec's prompts).
        dim: keep the first ``dim`` dimensions and re-normalise (Matryoshka truncation).
    """

    info: ModelInfo

    def __init__(self, *, prompts: dict[str, str] | None = None, dim: int | None = None) -> None:
        self._loaded = False
        self.prompts = dict(prompts or {})
        self.dim = dim

    def _vector_settings(self) -> dict[str, Any]:
        return {"prompts": self.prompts, "dim": self.dim}

    cacheable = True

    def _identity_files(self) -> list[Path]:
        """Local files whose content defines the model (their sizes and mtimes enter the cache key)."""
        return []

    def cache_identity(self) -> dict[str, Any] | None:
        """Everything that changes the vectors, for the embedding cache key; None = do not cache."""
        if not self.cacheable:
            return None
        from harness.cache import file_fingerprint

        info = self.info
        return {
            "adapter": type(self).__name__,
            "name": info.name,
            "revision": info.revision,
            "settings": info.settings,
            "files": file_fingerprint(self._identity_files()),
        }

    def load(self) -> None:
        """Load weights once (called by the encode path before the first batch)."""
        if not self._loaded:
            self._load()
            self._loaded = True

    def _load(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _embed(self, texts: list[str], role: Role) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def prompt_for(self, role: Role, task: TaskSpec | None) -> str:
        """The prefix for ``role``: the adapter's own prompt, else the task's, else none."""
        if role is None:
            return ""
        own = self.prompts.get(role)
        if own is not None:
            return own
        return (getattr(task.prompts, role) or "") if task is not None else ""

    def encode(self, texts: list[str], *, role: Role = None, task: TaskSpec | None = None, batch_size: int = 32, **_: Any) -> Any:
        """Embed ``texts``; shape (len(texts), dim)."""
        self.load()
        prefix = self.prompt_for(role, task)
        vectors = self._embed([prefix + t for t in texts] if prefix else texts, role)
        if self.dim is not None:
            vectors = np.asarray(vectors)[:, : self.dim]
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.where(norms == 0, 1, norms)
        return vectors
