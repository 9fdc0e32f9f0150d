"""Builders derive a task's data from raw corpora (gensim's test data, TAT-QA, ...).

A spec names one with ``data.builder`` and passes ``data.builder_options``. A builder is a function
``(options: dict, data_root: Path | None) -> TaskData`` registered with ``@register_builder``;
it is deterministic (seeded) and raises ``DataError`` naming the file and field on bad input.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.data.types import TaskData
from harness.errors import DataError

Builder = Callable[[dict[str, Any], "Path | None"], TaskData]

# builder name -> "module:function", imported on first use so listing tasks stays light.
_BUILDERS: dict[str, Builder | str] = {}
_MODULES = ("harness.data.builders.gensim_data", "harness.data.builders.finance", "harness.data.builders.longembed")


def register_builder(name: str) -> Callable[[Builder], Builder]:
    """Decorator: register ``fn`` as the builder ``name`` (duplicates raise)."""

    def decorate(fn: Builder) -> Builder:
        if name in _BUILDERS and _BUILDERS[name] is not fn:
            raise DataError(f"builder {name!r} is already registered")
        _BUILDERS[name] = fn
        return fn

    return decorate


def get_builder(name: str) -> Builder:
    """The builder registered as ``name``; importing the built-in builder modules on demand."""
    if name not in _BUILDERS:
        for module in _MODULES:
            importlib.import_module(module)
    if name not in _BUILDERS:
        known = ", ".join(sorted(_BUILDERS))
        raise DataError(f"data.builder: unknown builder {name!r} (known: {known})")
    return _BUILDERS[name]  # type: ignore[return-value]
