"""Evaluators: one module per task type, each following the contract in ``base.py``.

A type's descriptor (``harness/tasktypes/``) names its evaluator. Modules are imported on first
use, and they import sklearn and scipy only inside the functions that score, so loading specs
(which reads ``Options`` and ``METRICS``) stays cheap.

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

from typing import TYPE_CHECKING

from harness.tasktypes import BUILT_IN, get_task_type

if TYPE_CHECKING:
    from harness.evaluators.base import Evaluator

# The built-in types, each scored by the module of the same name here.
TASK_TYPES: tuple[str, ...] = BUILT_IN


def get_evaluator(task_type: str) -> Evaluator:
    """The evaluator of a task type (as its descriptor names it).

    Args:
        task_type: a registered task type (:func:`harness.tasktypes.task_type_names`).

    Returns:
        The evaluator, exposing ``Options``, ``METRICS``, ``text_groups`` and ``evaluate``.

    Raises:
        TaskTypeError: (a ``ValueError``) for an unknown type, naming close matches.
    """
    return get_task_type(task_type).evaluator


__all__ = ["TASK_TYPES", "get_evaluator"]
