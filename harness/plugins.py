"""One generic registry for every extension point (model adapters, data builders, task types),
and the one "did you mean" of the package.

A :class:`Registry` maps a name to an object or to a lazy ``"module:attr"`` target, imported on
first lookup, so listing names stays cheap. Other packages add entries through an entry-point
group. Duplicates raise, naming both targets; ``freeze()`` closes a registry. Modelled on
lm-eval's ``api/registry.py`` ``Registry[T]`` (lazy entries, duplicates raise, ``freeze``), with
``raise`` where it asserts.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from harness.errors import HarnessError

T = TypeVar("T")


def suggest(name: str, known: Iterable[str], *, cutoff: float = 0.5) -> str:
    """`` (did you mean a, b?)`` for the close matches of ``name`` in ``known``, else ``""``."""
    close = difflib.get_close_matches(str(name), list(known), n=3, cutoff=cutoff)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def import_target(target: str) -> object:
    """The object a ``"module:attr"`` string names."""
    module, _, attr = target.partition(":")
    obj: object = importlib.import_module(module)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


class Registry(Generic[T]):
    """Name -> ``T``, with lazy targets, entry points and suggestions for unknown names.

    Args:
        what: what an entry is, for messages ("model adapter", "builder", "task type").
        error: the :class:`HarnessError` subclass raised for unknown names and clashes.
        entry_point_group: entry points of other packages added on first lookup (None: none).
        check: called on each resolved target; raises ``TypeError`` with a reason to refuse it.
    """

    def __init__(
        self,
        what: str,
        *,
        error: type[HarnessError] = HarnessError,
        entry_point_group: str | None = None,
        check: Callable[[object], None] | None = None,
    ) -> None:
        self.what = what
        self.error = error
        self._group = entry_point_group
        self._check = check
        self._entries: dict[str, T | str] = {}
        self._entry_points_loaded = entry_point_group is None
        self._frozen = False

    def register(self, name: str, target: T | str) -> None:
        """Add ``name``; ``target`` is the object or a lazy ``"module:attr"``. A second, different
        target for one name raises naming both."""
        if self._frozen:
            raise self.error(f"{self.what} {name!r}: the registry is frozen")
        existing = self._entries.get(name)
        if existing is not None and not _same(existing, target):
            raise self.error(f"{self.what} {name!r} is already registered ({_label(existing)}; not {_label(target)})")
        if not isinstance(target, str) and self._check is not None:
            self._checked(name, target)
        self._entries[name] = target

    def decorator(self, name: str) -> Callable[[T], T]:
        """``@registry.decorator(name)``: register the decorated object under ``name``."""

        def decorate(obj: T) -> T:
            self.register(name, obj)
            return obj

        return decorate

    def get(self, name: str, *, field: str | None = None) -> T:
        """The entry ``name``, imported if lazy.

        Raises:
            HarnessError (``error``): unknown name, ``field: unknown <what> 'x' (did you mean …?)``.
        """
        self._load_entry_points()
        if name not in self._entries:
            prefix = f"{field}: " if field else ""
            known = sorted(self._entries)
            hint = suggest(name, known) or f" (known: {', '.join(known) or 'none'})"
            raise self.error(f"{prefix}unknown {self.what} {name!r}{hint}")
        target = self._entries[name]
        if isinstance(target, str):
            try:
                resolved = import_target(target)
            except (ImportError, AttributeError) as err:
                raise self.error(f"{self.what} {name!r}: cannot import {target} ({err})") from None
            self._checked(name, resolved)
            self._entries[name] = resolved  # type: ignore[assignment]
            return resolved  # type: ignore[return-value]
        return target

    def names(self) -> list[str]:
        """Every registered name, in registration order (entry points last)."""
        self._load_entry_points()
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        self._load_entry_points()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def freeze(self) -> None:
        """Refuse further registrations."""
        self._frozen = True

    def unregister(self, name: str) -> None:
        """Remove ``name`` (for tests that register a toy entry)."""
        self._entries.pop(name, None)

    def _checked(self, name: str, obj: object) -> None:
        if self._check is None:
            return
        try:
            self._check(obj)
        except TypeError as err:
            raise self.error(f"{self.what} {name!r}: {err}") from None

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in entry_points(group=self._group or ""):
            self.register(ep.name, ep.value.replace(" ", ""))


def _same(a: object, b: object) -> bool:
    return a is b or _label(a) == _label(b)


def _label(target: object) -> str:
    if isinstance(target, str):
        return target
    name = getattr(target, "__qualname__", None)
    if name is None:  # an instance (a task-type descriptor): only itself is the same
        return f"{type(target).__module__}:{type(target).__qualname__} at {id(target):#x}"
    return f"{target.__module__}:{name}"
