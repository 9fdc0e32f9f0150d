"""Builders derive a task's data from raw corpora (gensim's test data, TAT-QA, ...).

A spec names one with ``data.builder`` and passes ``data.builder_options``, which the builder's
options schema checks when the spec is loaded. A builder is a :class:`~harness.data.builders.base.Builder`
registered with ``@register_builder(name, options=Schema)`` over a function
``(options, data_root) -> TaskData``; it is deterministic (seeded) and raises ``DataError`` naming
the file and field on bad input. Other packages add builders through the ``harness.builders``
entry-point group (each entry a ``Builder``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from harness.data.builders.base import Builder, BuilderOptions
from harness.errors import DataError
from harness.plugins import Registry

BUILDERS: Registry[Builder[Any]] = Registry("builder", error=DataError, entry_point_group="harness.builders")
_BUILTIN_MODULES = ("harness.data.builders.gensim_data", "harness.data.builders.phrasebank", "harness.data.builders.tatqa", "harness.data.builders.longembed")


def register_builder(name: str, *, options: type[BuilderOptions] = BuilderOptions) -> Callable[[Callable[..., Any]], Builder[Any]]:
    """Decorator: register ``fn(options, data_root) -> TaskData`` as the builder ``name`` whose
    options follow the schema ``options`` (duplicates raise)."""

    def decorate(fn: Callable[..., Any]) -> Builder[Any]:
        builder = Builder(name, options, fn)
        BUILDERS.register(name, builder)
        return builder

    return decorate


def _load_builtin() -> None:
    for module in _BUILTIN_MODULES:  # cheap after the first call; they register on import
        importlib.import_module(module)


def get_builder(name: str) -> Builder[Any]:
    """The builder registered as ``name``; DataError ``data.builder: unknown builder …`` otherwise."""
    _load_builtin()
    return BUILDERS.get(name, field="data.builder")


def check_builder_options(name: str, options: Mapping[str, Any]) -> None:
    """Validate a spec's ``builder`` and ``builder_options`` (DataError with the one-line reason)."""
    get_builder(name).validate(options)


__all__ = ["BUILDERS", "Builder", "BuilderOptions", "check_builder_options", "get_builder", "register_builder"]
