"""Task types: one :class:`TaskTypeDescriptor` per type, in ``harness/tasktypes/<type>.py``.

A descriptor is the one home of a type (columns, loader, evaluator, per-item layout,
reproduction tolerance, label and colour); every other module asks :func:`get_task_type`.
Built-in types are registered as lazy targets (their modules import nothing heavy); other
packages add types through the ``harness.task_types`` entry-point group, and tests through
:func:`register_task_type`. A new type is one new module here, its evaluator and its tests.
"""

from __future__ import annotations

from harness.errors import SpecError
from harness.plugins import Registry
from harness.tasktypes.base import ItemLayout, MtebMapping, TaskTypeDescriptor, UnsupportedScore


class TaskTypeError(SpecError, ValueError):
    """An unknown task type, or a second descriptor for a registered name."""


# Built-in types, in display order (leaderboard columns, plots).
BUILT_IN: tuple[str, ...] = (
    "retrieval",
    "reranking",
    "classification",
    "clustering",
    "pair_classification",
    "sts",
    "summarization",
)


def _check(obj: object) -> None:
    if not isinstance(obj, TaskTypeDescriptor):
        raise TypeError(f"{type(obj).__name__} is not a TaskTypeDescriptor")


_REGISTRY: Registry[TaskTypeDescriptor] = Registry(
    "task type", error=TaskTypeError, entry_point_group="harness.task_types", check=_check
)
for _name in BUILT_IN:
    _REGISTRY.register(_name, f"harness.tasktypes.{_name}:TASK_TYPE")


def get_task_type(name: str) -> TaskTypeDescriptor:
    """The descriptor of task type ``name``.

    Raises:
        TaskTypeError: unknown type, naming close matches.
    """
    return _REGISTRY.get(name)


def task_type_names() -> list[str]:
    """Every task type, in display order (built-in ones first)."""
    return _REGISTRY.names()


def register_task_type(descriptor: TaskTypeDescriptor) -> None:
    """Add a task type (a plugin's, or a test's toy type) under ``descriptor.name``."""
    _REGISTRY.register(descriptor.name, descriptor)


def unregister_task_type(name: str) -> None:
    """Remove a task type registered by :func:`register_task_type`."""
    _REGISTRY.unregister(name)


__all__ = [
    "BUILT_IN",
    "ItemLayout",
    "MtebMapping",
    "TaskTypeDescriptor",
    "TaskTypeError",
    "UnsupportedScore",
    "get_task_type",
    "register_task_type",
    "task_type_names",
    "unregister_task_type",
]
