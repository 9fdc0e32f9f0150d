"""The model contract: the minimal protocol a user's object follows, the full ``Encoder`` base
class every model the harness handles is, and the base of the built-in adapters.

Only ``harness.encode`` calls ``encode``; nothing else in the harness touches a model, and
nothing probes one for optional methods: every member it may use is declared on ``Encoder``
(anchors: mteb ``models/models_protocols.py`` for the protocol, ``abs_encoder.py`` for the
base class behind it).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable


from harness.errors import MAX_VALUE, ModelError, brief, one_line

if TYPE_CHECKING:
    from harness.long_documents import Spans
    from harness.specs import TaskSpec
    from harness.variants import Variant

Role = Literal["query", "document"] | None


@runtime_checkable
class EncoderProtocol(Protocol):
    """Anything with this method can be evaluated (``harness.models.load_model`` wraps it).

    ``encode(texts, *, role, task, batch_size)`` returns an array of shape (len(texts), dim):
    float32 numpy (or a scipy.sparse matrix for lexical models). ``role`` is "query", "document"
    or None (symmetric tasks); ``task`` is the TaskSpec being run. Extra keyword arguments must be
    tolerated, or the wrapper passes only the ones the signature names.
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
        """The record, as plain JSON-able values (no side effect)."""
        return asdict(self)


class Encoder(ABC):
    """Every model the harness handles (``load_model`` always returns one).

    Required: ``info`` (set in ``__init__``, without loading weights) and ``encode``. The other
    members have defaults here; an encoder overrides those it needs.

    Attributes:
        info: what results record about the model.
        billed: the model is paid per token; it accepts ``max_cost`` (``--max-cost``).
        fits_on_corpus: ``fit`` must see the task's documents before ``encode`` (lexical models).
        splits_tokens: ``token_spans`` works, so long documents can be cut into token windows.
        load_options: the ``--model-option`` keys its constructor takes (``dtype``, ...:
            ``harness.models.load_options``).
        variant: the sweep variant this encoder stands for (None: the model itself).
    """

    info: ModelInfo
    billed: ClassVar[bool] = False
    fits_on_corpus: ClassVar[bool] = False
    splits_tokens: ClassVar[bool] = False
    load_options: ClassVar[frozenset[str]] = frozenset()
    variant: Variant | None = None

    @abstractmethod
    def encode(self, texts: list[str], *, role: Role = None, task: TaskSpec | None = None, batch_size: int = 32, **kwargs: Any) -> Any:
        """Embed ``texts``: float32 array or scipy.sparse matrix of shape (len(texts), dim)."""

    def load(self) -> None:
        """Load weights once; the encode path calls it before it needs the model's tokenizer."""

    def cache_identity(self) -> dict[str, Any] | None:
        """Everything that changes the vectors, for the embedding cache key; None = do not cache.

        ``"persist": False`` in it keeps the vectors in memory for this process only.
        """
        return None

    def prompt_for(self, role: Role, task: TaskSpec | None) -> str:
        """The prefix the model puts before a text of ``role`` (part of the cache key): the task's."""
        if role is None or task is None:
            return ""
        return (task.prompts.query if role == "query" else task.prompts.document) or ""

    def fit(self, documents: list[str]) -> None:
        """Learn from the task's documents (called only when ``fits_on_corpus``)."""

    def token_spans(self, texts: list[str]) -> list[Spans]:
        """Character (start, end) span of every content token of each text (only when ``splits_tokens``)."""
        raise NotImplementedError(f"{type(self).__name__} does not split texts into tokens")

    def count_tokens(self, texts: list[str], *, role: Role, task: TaskSpec | None) -> list[int] | None:
        """Tokens the model reads for each text (its prompt and special tokens included, at most
        ``info.max_tokens``), for ``--max-batch-tokens``; None: this model counts no tokens (the
        encode path then batches by count)."""
        return None

    def place(self, device: str) -> None:
        """Run on torch ``device`` (``cpu``, ``cuda``, ``cuda:1``) from the next load; a model that
        runs on no torch device ignores it (``--devices`` then only splits its texts)."""

    def runtime(self) -> dict[str, Any]:
        """How the loaded model computes (call after ``load``): ``{"dtype": "bfloat16", "device":
        "cpu", "attn_implementation": "sdpa"}`` for a torch model; ``{}`` when unknown."""
        return {}

    def base_encoder(self) -> Encoder:
        """The encoder whose vectors the encode path computes: itself (a sweep variant: its base)."""
        return self

    def companions(self) -> list[Encoder]:
        """Encoders whose vectors each ``encode`` call of this one also computes (the other layers
        of one forward pass, ``harness.models.layers``): the encode path caches theirs with each
        batch, reading them through their own ``encode`` for the same texts."""
        return []

    def scored_info(self, dim: int) -> ModelInfo:
        """The info to record for vectors of ``dim`` dimensions as scored."""
        return self.info

    def usage(self) -> dict[str, Any]:
        """Cumulative API usage (``tokens``, ``requests``, ``estimated_tokens``, ``cost_usd``,
        ``price_per_million``), read without side effects; ``{}`` for a local model."""
        return {}


USAGE_COUNTERS = ("tokens", "requests", "estimated_tokens")


def usd(tokens: int, price_per_million: float) -> float:
    """Dollars for ``tokens`` at ``price_per_million`` USD per 1M tokens."""
    return tokens * price_per_million / 1e6


def usage_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The usage between two readings of ``Encoder.usage()`` (before and after one unit).

    Counters are subtracted; the cost is priced from the unit's tokens (not a difference of two
    rounded sums). ``{}`` for a local model.
    """
    if not after:
        return {}
    unit = {key: after[key] - before.get(key, 0) for key in USAGE_COUNTERS}
    price = after["price_per_million"]
    return {**unit, "cost_usd": usd(unit["tokens"], price) if price is not None else None, "price_per_million": price}


def load_error(source: object, err: BaseException, expected: str = "a model") -> ModelError:
    """One line for weights (or a tokenizer) that cannot be loaded: names the path or hub id and
    the library's first line, never its traceback."""
    return ModelError(f"model {brief(str(source))}: cannot load it as {expected} ({type(err).__name__}: {one_line(err, MAX_VALUE)})")


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


class Adapter(Encoder):
    """Base of the built-in neural adapters: lazy loading, prompts and Matryoshka truncation.

    Subclasses implement ``_load()`` (import heavy libraries there, never at module level) and
    ``_embed(texts, role) -> np.ndarray``; set ``self.info`` in ``__init__`` without loading.

    Args:
        prompts: role (``query``, ``document``, ``symmetric`` for texts without a role) -> prefix
            prepended to each text, overriding the task spec's prompts; ``types`` and ``tasks``
            map a task type or name to such a mapping, which wins over the defaults
            (a model card's ``prompts``: ``harness.models.cards.CardPrompts``).
        dim: keep the first ``dim`` dimensions and re-normalise (Matryoshka truncation).
    """

    cacheable = True

    def __init__(self, *, prompts: dict[str, str] | None = None, dim: int | None = None) -> None:
        self._loaded = False
        self.prompts = dict(prompts or {})
        self.dim = dim

    def _vector_settings(self) -> dict[str, Any]:
        return {"prompts": self.prompts, "dim": self.dim}

    def _identity_files(self) -> list[Path]:
        """Local files whose content defines the model (their sizes and mtimes enter the cache key)."""
        return []

    def cache_identity(self) -> dict[str, Any] | None:
        """Adapter, name, revision, vector settings and model files; None once weights may change."""
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
        """The prefix for ``role``: the adapter's own prompt for the task's name, else for its
        type, else its default, else the task's own prompt, else none."""
        key = role or "symmetric"
        levels = [self.prompts.get("tasks", {}).get(task.name), self.prompts.get("types", {}).get(task.type)] if task is not None else []
        for level in [*levels, self.prompts]:
            if level and level.get(key) is not None:
                return level[key]
        return super().prompt_for(role, task)

    def encode(self, texts: list[str], *, role: Role = None, task: TaskSpec | None = None, batch_size: int = 32, **_: Any) -> Any:
        """Embed ``texts``; shape (len(texts), dim)."""
        self.load()
        prefix = self.prompt_for(role, task)
        vectors = self._embed([prefix + t for t in texts] if prefix else texts, role)
        if self.dim is not None:
            import numpy as np  # here, so that listing models never imports numpy

            vectors = np.asarray(vectors)[:, : self.dim]
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.where(norms == 0, 1, norms)
        return vectors
