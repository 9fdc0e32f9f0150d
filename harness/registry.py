"""Where tasks and models are found.

Tasks: every ``*.yaml`` spec under the built-in ``tasks/`` folder and each ``--task-dir``, found at
call time (no package edit to add one). Files whose name starts with ``_`` are include-only bases.
Models: adapters register with ``@register_adapter``; aliases name ready-made configurations;
other packages add adapters through the ``harness.models`` entry-point group.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from harness.errors import ModelError, SpecError
from harness.specs import TaskSpec, load_spec

BUILTIN_TASK_DIR = Path(__file__).resolve().parent.parent / "tasks"


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else ""


# ---------------------------------------------------------------- tasks


def discover_specs(task_dirs: Sequence[str | Path] = (), *, builtin: bool = True) -> dict[str, TaskSpec]:
    """Load every spec under the built-in task folder and ``task_dirs``.

    Returns:
        task name -> spec, in file order.

    Raises:
        SpecError: a malformed spec, a missing task dir, or two files defining one name (all
            errors are collected; ``err.messages`` holds one line each).
    """
    dirs = ([BUILTIN_TASK_DIR] if builtin and BUILTIN_TASK_DIR.is_dir() else []) + [Path(d) for d in task_dirs]
    specs: dict[str, TaskSpec] = {}
    errors: list[str] = []
    for directory in dirs:
        if not directory.is_dir():
            errors.append(f"{directory}: --task-dir is not a directory")
            continue
        for path in sorted(directory.rglob("*.yaml")):
            if path.name.startswith("_"):
                continue
            try:
                spec = load_spec(path)
            except SpecError as err:
                errors.append(str(err))
                continue
            if spec.name in specs:
                errors.append(f"{path}: name: task {spec.name!r} is already defined in {specs[spec.name].source_file}")
                continue
            specs[spec.name] = spec
    if errors:
        raise SpecError.many(errors)
    return specs


def select_tasks(
    specs: dict[str, TaskSpec],
    names: Sequence[str] | None = None,
    *,
    suite: str | None = None,
    task_type: str | None = None,
    domain: str | None = None,
) -> list[TaskSpec]:
    """Pick tasks by name (in the given order) or by suite/type/domain filters."""
    if names:
        unknown = [n for n in names if n not in specs]
        if unknown:
            raise SpecError(f"--tasks: unknown task {unknown[0]!r}{_suggest(unknown[0], specs)}")
        chosen = [specs[n] for n in names]
    else:
        chosen = list(specs.values())
    if suite is not None:
        suites = {s for spec in specs.values() for s in spec.suite}
        if suite not in suites:
            raise SpecError(f"--suite: unknown suite {suite!r}{_suggest(suite, suites)}")
        chosen = [s for s in chosen if suite in s.suite]
    if task_type is not None:
        chosen = [s for s in chosen if s.type == task_type]
    if domain is not None:
        chosen = [s for s in chosen if s.domain == domain]
    return chosen


# ---------------------------------------------------------------- models


@dataclass(frozen=True)
class ModelRef:
    """A model to build: adapter kind + constructor arguments."""

    adapter: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""


_ADAPTERS: dict[str, type | str] = {
    "sentence-transformers": "harness.models.sentence_transformers:SentenceTransformerAdapter",
    "onnx": "harness.models.onnx:OnnxAdapter",
    "bm25": "harness.models.lexical:BM25Adapter",
    "tfidf": "harness.models.lexical:TfidfAdapter",
    "random": "harness.models.random:RandomAdapter",
    "openai": "harness.models.http:OpenAIAdapter",
}
_ALIASES: dict[str, ModelRef | Callable[[], ModelRef]] = {}
_entry_points_loaded = False


def register_adapter(kind: str) -> Callable[[type], type]:
    """Class decorator: register a model adapter under ``kind`` (duplicates raise)."""

    def decorate(cls: type) -> type:
        existing = _ADAPTERS.get(kind)
        if existing is not None and existing is not cls and existing != f"{cls.__module__}:{cls.__qualname__}":
            raise ModelError(f"adapter {kind!r} is already registered ({existing})")
        if not callable(getattr(cls, "encode", None)):
            raise ModelError(f"adapter {kind!r}: {cls.__qualname__} has no encode method")
        _ADAPTERS[kind] = cls
        return cls

    return decorate


def register_alias(alias: str, ref: ModelRef | Callable[[], ModelRef]) -> None:
    """Name a ready-made model configuration (``ref`` may be a zero-argument factory)."""
    if alias in _ALIASES:
        raise ModelError(f"model alias {alias!r} is already registered")
    _ALIASES[alias] = ref


def _load_entry_points() -> None:
    """Adapters from other packages: entry points ``harness.models`` name -> class."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group="harness.models"):
        if ep.name in _ADAPTERS:
            raise ModelError(f"entry point {ep.value!r}: adapter {ep.name!r} is already registered")
        _ADAPTERS[ep.name] = ep.value.replace(" ", "")


def adapter_class(kind: str) -> type:
    """Resolve a registered adapter kind to its class (importing it lazily)."""
    _load_entry_points()
    target = _ADAPTERS.get(kind)
    if target is None:
        raise ModelError(f"unknown model adapter {kind!r}{_suggest(kind, _ADAPTERS)}")
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        target = getattr(importlib.import_module(module), attr)
        _ADAPTERS[kind] = target
    return target


def model_aliases() -> dict[str, ModelRef]:
    """alias -> resolved ModelRef, for listing."""
    import harness.models.aliases  # noqa: F401  (registers the built-in aliases)

    return {name: (ref() if callable(ref) else ref) for name, ref in _ALIASES.items()}


def resolve_model(name: str) -> ModelRef:
    """Turn a model name into a ModelRef.

    Accepted: a registered alias (``minilm-l6``), ``KIND:ARG`` for an adapter kind taking one
    path/id argument (``sentence-transformers:org/name``, ``onnx:/path/model.onnx``), a bare adapter
    kind taking no argument (``bm25``, ``random``), a local folder or hub id (sentence-transformers).
    """
    import harness.models.aliases  # noqa: F401

    _load_entry_points()
    if name in _ALIASES:
        ref = _ALIASES[name]
        return ref() if callable(ref) else ref
    kind, sep, arg = name.partition(":")
    if sep and kind in _ADAPTERS:
        return ModelRef(kind, {"model": arg})
    if name in _ADAPTERS:
        return ModelRef(name)
    if Path(name).is_dir() or name.count("/") == 1:
        return ModelRef("sentence-transformers", {"model": name})
    raise ModelError(f"--models: unknown model {name!r}{_suggest(name, [*_ALIASES, *_ADAPTERS])}")
