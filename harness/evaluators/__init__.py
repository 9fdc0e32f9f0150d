"""Evaluators: one module per task type, each following the contract in ``base.py``.

Modules are imported on first use, and they import sklearn and scipy only inside the functions
that score, so loading specs (which reads ``Options`` and ``METRICS``) stays cheap.

Conventions shared by all evaluators:

* Scores are mteb 2.x's, metric for metric (each module says what it reproduces and how).
* ``metrics`` values are Python floats at full precision. A metric mteb reports as NaN
  (undefined: a correlation with a constant input, a flat nAUC oracle) is NaN here too; the
  runner stores it as 0.0 and names it (``harness.runner.defined_metrics``). A metric that does
  not apply (``ap`` of a non-binary classification task) is left out.
* Embeddings may be dense float arrays or scipy CSR matrices; fp16/bf16 is upcast to float32
  and similarities are computed in float32 as mteb does.
* Everything random is seeded from ``Options.seed`` on each call: the same call twice gives the
  same scores.
"""

from __future__ import annotations

import difflib
import importlib
from types import ModuleType

TASK_TYPES: tuple[str, ...] = (
    "sts",
    "classification",
    "pair_classification",
    "clustering",
    "retrieval",
    "reranking",
    "summarization",
)


def get_evaluator(task_type: str) -> ModuleType:
    """The evaluator module of a task type.

    Args:
        task_type: one of :data:`TASK_TYPES`.

    Returns:
        The module, exposing ``Options``, ``METRICS``, ``text_groups`` and ``evaluate``.

    Raises:
        ValueError: for an unknown type, naming close matches.
    """
    if task_type not in TASK_TYPES:
        close = difflib.get_close_matches(task_type, TASK_TYPES, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(
            f"unknown task type {task_type!r} (one of: {', '.join(TASK_TYPES)}){hint}"
        )
    return importlib.import_module(f"{__name__}.{task_type}")


__all__ = ["TASK_TYPES", "get_evaluator"]
