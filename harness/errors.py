"""Typed user errors. The CLI maps each to exit code 2 and prints its one-line message."""

from __future__ import annotations


class HarnessError(Exception):
    """A user-facing error: bad input, not a bug. ``str(err)`` is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))
        self.messages: list[str] = [str(self)]

    @classmethod
    def many(cls, messages: list[str]) -> HarnessError:
        """One error carrying several one-line messages (``str()`` is the first)."""
        err = cls(messages[0])
        err.messages = [" ".join(m.split()) for m in messages]
        return err


class SpecError(HarnessError):
    """A task spec is malformed (YAML syntax, unknown key, bad value, name clash)."""


class DataError(HarnessError):
    """Task data is missing, unreadable or inconsistent (missing column, empty split, NaN gold)."""


class DataUnavailable(DataError):
    """The data is not here and cannot be fetched (offline hub, no local copy): the task is skipped."""


class ModelError(HarnessError):
    """A model is unknown, cannot be loaded, or returned unusable vectors (NaN, wrong shape)."""


class StoreError(HarnessError):
    """The results directory cannot be written, or a result file is corrupt."""


def where(path: object, field: str | None = None) -> str:
    """Format an error location: ``file`` or ``file: field``."""
    return f"{path}: {field}" if field else f"{path}"
