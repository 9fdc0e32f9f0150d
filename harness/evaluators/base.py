"""The contract every evaluator module follows.

An evaluator (one module per task type, named by its descriptor in ``harness/tasktypes/``)
exposes, as the :class:`Evaluator` protocol writes down:

* ``Options``: a pydantic model (``extra="forbid"``) of the type's settings, defaults = mteb's.
* ``METRICS``: the metric names it reports (mteb's names); a spec's ``main_score`` must be one.
* ``text_groups(data, options) -> dict[str, TextGroup]``: the texts the runner must embed.
* ``evaluate(data, embeddings, options, similarity) -> EvalOutput``: pure scoring. ``embeddings``
  maps each group name to an array of shape (len(group.texts), dim): dense float32 ``np.ndarray``
  or, for lexical models, a ``scipy.sparse`` CSR matrix.

Evaluators never call a model, the encode path, the cache or the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
from pydantic import BaseModel

Role = Literal["query", "document"] | None
Similarity = Literal["cosine", "dot"]


@dataclass(frozen=True)
class TextGroup:
    """Texts to embed under one role (query / document / None for symmetric tasks)."""

    texts: list[str]
    role: Role = None


@dataclass
class EvalOutput:
    """What an evaluator returns for one split.

    Attributes:
        metrics: metric name -> Python float (mteb's names; JSON-safe).
        items: per-item arrays (no object dtype) sufficient to recompute the main score on any
            resample of the items; documented per evaluator module.
    """

    metrics: dict[str, float]
    items: dict[str, np.ndarray] = field(default_factory=dict)


class Evaluator(Protocol):
    """The written contract of an evaluator (a module, or any object with these members)."""

    Options: type[BaseModel]
    METRICS: tuple[str, ...]

    def text_groups(self, data: Any, options: Any) -> Mapping[str, TextGroup]:
        """Group name -> the texts to embed under one role."""
        ...

    def evaluate(self, data: Any, embeddings: Mapping[str, Any], options: Any, similarity: Similarity) -> EvalOutput:
        """Score ``data`` from one array of shape (len(group.texts), dim) per group."""
        ...
