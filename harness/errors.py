"""Typed user errors. The CLI maps each to exit code 2 and prints its one-line message."""

from __future__ import annotations

import reprlib
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError

MAX_LINE = 500  # characters of one message line: a value quoted in it can never flood the terminal
MAX_VALUE = 200  # characters of a value's repr inside a message


def one_line(message: object, limit: int = MAX_LINE) -> str:
    """``message`` on one line (runs of whitespace become one space), cut to ``limit`` characters.

    Only a bounded prefix is ever split, so a 250 MB message costs no more than a short one.
    """
    text = " ".join(str(message)[: limit * 4].split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = MAX_VALUE
_REPR.maxlevel = 3


def brief(value: object, limit: int = MAX_VALUE) -> str:
    """``repr(value)`` for a message, at most about ``limit`` characters (reprlib bounds containers,
    strings and the digits of huge integers without building their full repr)."""
    try:
        text = _REPR.repr(value)
    except ValueError:  # an int beyond sys.get_int_max_str_digits()
        text = f"<an integer of more than {sys.get_int_max_str_digits()} digits>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_error(err: ValidationError) -> str:
    """One line for the first pydantic error: ``field.path: message``."""
    first = err.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "missing":
        message = "required field is missing"
    return f"{loc}: {message}" if loc else message


SECRET_PIECE = 8  # characters: a run of a secret this long (or longer) never appears in a message


def scrub(text: str, secret: str) -> str:
    """``text`` with every run of at least ``SECRET_PIECE`` characters that also occurs in
    ``secret`` (the whole key, or any prefix, suffix or middle of it) replaced by ``***``.
    Scrub first, then cut a message to length: a cut can leave a prefix of the key behind."""
    if len(secret) < SECRET_PIECE:
        return text.replace(secret, "***") if secret else text
    pieces = {secret[i : i + SECRET_PIECE] for i in range(len(secret) - SECRET_PIECE + 1)}
    hidden = [False] * len(text)
    for start in range(len(text) - SECRET_PIECE + 1):
        if text[start : start + SECRET_PIECE] in pieces:
            hidden[start : start + SECRET_PIECE] = [True] * SECRET_PIECE
    return "".join("***" if hide else char for i, (char, hide) in enumerate(zip(text, hidden)) if not (hide and i and hidden[i - 1]))


class HarnessError(Exception):
    """A user-facing error: bad input, not a bug. ``str(err)`` is one line of at most ``MAX_LINE``
    characters."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))
        self.messages: list[str] = [str(self)]

    @classmethod
    def many(cls, messages: list[str]) -> HarnessError:
        """One error carrying several one-line messages (``str()`` is the first)."""
        err = cls(messages[0])
        err.messages = [one_line(m) for m in messages]
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
