"""Reading tabular files into lists of row dicts, with errors that name file and line.

JSONL is parsed here line by line (so a bad line is reported by number); CSV/TSV and Parquet go
through pandas.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import DataError
from harness.paths import found, regular_file

ROW_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")
MAX_INT_DIGITS = 4_300  # Python's default limit on int <-> str conversion


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL / JSON (list of objects) / CSV / TSV / Parquet file.

    Raises:
        DataError: unreadable file, non-UTF-8 text, malformed line, or no rows.
    """
    suffix = path.suffix.lower()
    if suffix not in ROW_SUFFIXES:
        raise DataError(f"{path}: unsupported file type {suffix!r} (use {', '.join(ROW_SUFFIXES)})")
    regular_file(path)  # never open a FIFO or device: it could block or never end
    if suffix in (".jsonl", ".json"):
        rows = _read_json(path, lines=suffix == ".jsonl")
    else:
        rows = _read_with_pandas(path, suffix)
    if not rows:
        raise DataError(f"{path}: empty split (no rows)")
    return rows


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path`` (a leading byte-order mark, as Windows tools write, is dropped);
    DataError naming the line of the first byte that is not UTF-8."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise DataError(f"{path}: line {line}: not UTF-8 text") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror})") from None


def _parse_int(digits: str) -> int | float:
    """A JSON integer; one longer than Python converts (``sys.get_int_max_str_digits``) is read as
    the float it rounds to (±inf), which every number check then refuses by line and column."""
    return int(digits) if len(digits) <= MAX_INT_DIGITS else float(digits)


def _loads(text: str, path: Path, line: int) -> Any:
    """``json.loads`` with errors as one DataError line (``line``: where ``text`` starts)."""
    try:
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: line {line + err.lineno - 1}: invalid JSON ({err.msg})") from None
    except RecursionError:
        raise DataError(f"{path}: line {line}: invalid JSON (nested too deeply)") from None


def _read_json(path: Path, *, lines: bool) -> list[dict[str, Any]]:
    text = read_text(path)
    if not lines:
        rows = _loads(text, path, 1)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise DataError(f"{path}: expected a JSON list of objects")
        return rows
    rows = []
    # "\n" only: str.splitlines() also breaks at U+2028, U+0085 and others, which JSON strings may hold
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        row = _loads(line, path, number)
        if not isinstance(row, dict):
            raise DataError(f"{path}: line {number}: expected a JSON object")
        rows.append(row)
    return rows


def _read_with_pandas(path: Path, suffix: str) -> list[dict[str, Any]]:
    import pandas as pd

    try:
        if suffix == ".parquet":
            return _read_parquet(path)
        frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", encoding="utf-8-sig", keep_default_na=False)
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None
    except (ValueError, OSError, NotImplementedError, pd.errors.ParserError) as err:
        raise DataError(f"{path}: cannot parse ({str(err).strip() or type(err).__name__})") from None
    return frame.to_dict(orient="records")


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    """Rows as the hub's are read (``datasets`` is Arrow too): a list column stays a list (pandas
    would give numpy arrays), a null is None, an integer column stays integers."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from None
    return pq.read_table(path).to_pylist()


def find_split_file(folder: Path, split: str, field: str = "data.eval_split") -> Path:
    """``folder/<split>.<ext>`` for the first supported extension present (a regular file or a
    link to one; anything else at that name is a DataError naming ``field``)."""
    for suffix in ROW_SUFFIXES:
        candidate = folder / f"{split}{suffix}"
        if found(candidate, field):
            return regular_file(candidate, field)
    raise DataError(f"{folder}: no file for split {split!r} ({field}; expected {split}.jsonl, .csv, .tsv or .parquet)")
