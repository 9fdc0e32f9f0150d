"""harness: an MTEB-style benchmark harness for text-embedding models.

The public API is imported lazily so that ``import harness`` stays light (no torch, datasets,
matplotlib or ray until a model or a plot is used).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "evaluate": "harness.api",
    "get_tasks": "harness.api",
    "report": "harness.api",
    "compare": "harness.api",
    "diff": "harness.rundiff",
    "DiffResult": "harness.rundiff",
    "load_results": "harness.api",
    "RunResult": "harness.api",
    "RunConfig": "harness.config",
    "TaskSpec": "harness.specs",
    "EncoderProtocol": "harness.models.base",
    "Encoder": "harness.models.base",
    "ModelInfo": "harness.models.base",
    "HarnessEvaluator": "harness.training",
    "HarnessError": "harness.errors",
    "SpecError": "harness.errors",
    "DataError": "harness.errors",
    "ModelError": "harness.errors",
    "StoreError": "harness.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
