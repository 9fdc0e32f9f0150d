"""The value schema of task data: one check per kind of value, used by every loader.

Each ``check_*`` takes one value and returns it normalised, or raises :class:`Invalid` saying
what is wrong; :func:`checked` and :func:`field` turn that into one DataError naming the file,
the line (1-based, counting data rows), the column (and, for a list, the item) and the value,
quoted to about 200 characters. The row loaders (``rows.py``), the BEIR reader and mteb's hub
retrieval layout (``beir.py``) check every value here, once, at load.

Class labels: texts, bools and integers; an integral float (``1.0``) is that integer (``1``),
so ``1`` and ``1.0`` are one class; any other float (``2.5``, NaN) is refused. Relevance
grades are whole numbers (``1``, ``"1"``, ``1.0``). Numbers are finite; an integer too large
for a float (400 digits) is refused by its number of digits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any

from harness.errors import DataError, brief

Rows = list[dict[str, Any]]

# A text longer than this is almost surely a broken file (no line breaks, a binary read as text),
# not a document: models truncate at a few thousand tokens anyway.
MAX_TEXT_CHARS = 1_000_000
MAX_ID_CHARS = 10_000  # an id (document, query) longer than this is a broken file too
_INT64 = 2**63  # an integer class label must fit numpy's int64
_GRADE = 2**31  # a relevance grade must fit the C int of pytrec_eval


class Invalid(ValueError):
    """One value fails its check; the caller adds where it is (file, line, column, item)."""


def check_text(value: Any) -> str:
    """A non-empty string of at most ``MAX_TEXT_CHARS`` characters."""
    if not isinstance(value, str):
        raise Invalid(f"must be text, got {describe(value)}")
    if len(value) > MAX_TEXT_CHARS:
        raise Invalid(f"holds {len(value):,} characters (limit {MAX_TEXT_CHARS:,}; a broken file?)")
    if not value.strip():
        raise Invalid("is an empty text")
    return value


def check_number(value: Any) -> float:
    """A finite float (ints, floats and numeric strings; an integer too large for a float is refused)."""
    try:
        out = float(value)
    except OverflowError:
        raise Invalid(f"is {_show(value)}, too large for a float") from None
    except (TypeError, ValueError):
        raise Invalid(f"is not a number ({brief(value)})") from None
    if not math.isfinite(out):
        raise Invalid(f"is {brief(value)} (must be finite)")
    return out


def check_label(value: Any) -> Any:
    """A class label: a text, a bool, or an integer (an integral float such as ``1.0`` becomes the
    int ``1``, so ``1`` and ``1.0`` are one class); any other float is refused."""
    if isinstance(value, (str, bool)):
        return value
    if isinstance(value, Integral):
        if not -_INT64 <= value < _INT64:
            raise Invalid(f"is {_show(value)}: an integer label must fit in 64 bits")
        return int(value)
    if isinstance(value, Real):
        if math.isfinite(value) and float(value).is_integer() and -_INT64 <= value < _INT64:
            return int(value)
        raise Invalid(f"is {brief(value)}: a class label must be an integer (1.0 counts as 1) or a text")
    raise Invalid(f"has no usable label ({brief(value)})")


def check_id(value: Any) -> str:
    """An id: a non-empty string, or an integer (read as its digits)."""
    if isinstance(value, bool) or not isinstance(value, (str, Integral)):
        raise Invalid(f"must be a text or integer id, got {describe(value)}")
    text = str(value)
    if not text:
        raise Invalid("is an empty id")
    if len(text) > MAX_ID_CHARS:
        raise Invalid(f"holds {len(text):,} characters (limit {MAX_ID_CHARS:,} for an id; a broken file?)")
    return text


def check_grade(value: Any) -> int:
    """A relevance grade: a whole number (``1``, ``"1"``, ``1.0``) within 32 bits."""
    number = check_number(value)
    if not number.is_integer() or not -_GRADE <= number < _GRADE:
        raise Invalid(f"is {brief(value)}: a relevance grade must be a whole number (32-bit)")
    return int(number)


def describe(value: Any) -> str:
    """``value``'s type and value, for a message: ``int 5``, ``null``."""
    return "null" if value is None else f"{type(value).__name__} {_show(value, 60)}"


def _show(value: Any, limit: int = 200) -> str:
    """``value`` quoted for a message; a long integer by its number of digits."""
    if isinstance(value, Integral) and not isinstance(value, bool) and abs(value) >= 10**40:
        try:
            return f"an integer of {len(str(abs(value))):,} digits"
        except ValueError:  # beyond sys.get_int_max_str_digits()
            return "an integer of thousands of digits"
    return brief(value, limit)


Where = Sequence[tuple[int, int]]  # (line, 1-based item) of each value of a flattened list layout


def located(path: Path, name: str, index: int, where: Where | None = None) -> str:
    """``<path>: line <n>: column '<name>'`` (and `` item <i>``) for value ``index`` of a column."""
    if where is None:
        return f"{path}: line {index + 1}: column {name!r}"
    line, item = where[index]
    return f"{path}: line {line}: column {name!r} item {item}"


def checked(values: Sequence[Any], check: Callable[[Any], Any], name: str, path: Path, where: Where | None = None) -> list[Any]:
    """``check`` applied to each value; its :class:`Invalid` becomes a DataError naming file, line and column."""
    out = []
    for index, value in enumerate(values):
        try:
            out.append(check(value))
        except Invalid as err:
            raise DataError(f"{located(path, name, index, where)} {err}") from None
    return out


def require(rows: Rows, name: str, path: Path, hint: str = "") -> list[Any]:
    """The values of key ``name`` in every row; DataError naming the first row without it."""
    missing = next((i for i, row in enumerate(rows, start=1) if name not in row), None)
    if missing is not None:
        raise _not_found(rows[missing - 1], name, path, missing, hint)
    return [row[name] for row in rows]


def field(row: dict[str, Any], name: str, check: Callable[[Any], Any], path: Path, line: int) -> Any:
    """``check(row[name])``; a missing key or a failing check is a DataError naming file, line and column."""
    if name not in row:
        raise _not_found(row, name, path, line)
    try:
        return check(row[name])
    except Invalid as err:
        raise DataError(f"{located(path, name, line - 1)} {err}") from None


def _not_found(row: dict[str, Any], name: str, path: Path, line: int, hint: str = "") -> DataError:
    have = ", ".join(brief(k, 40) for k in sorted(map(str, row))[:20]) or "none"
    return DataError(f"{path}: line {line}: column {name!r} not found ({hint}row has: {have})")
