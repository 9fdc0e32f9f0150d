"""Reading tabular files into lists of row dicts, with errors that name file and line.

JSONL is parsed here line by line (so a bad line is reported by number); CSV/TSV and Parquet go
through pandas.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import DataError

ROW_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL / JSON (list of objects) / CSV / TSV / Parquet file.

    Raises:
        DataError: unreadable file, non-UTF-8 text, malformed line, or no rows.
    """
    suffix = path.suffix.lower()
    if suffix not in ROW_SUFFIXES:
        raise DataError(f"{path}: unsupported file type {suffix!r} (use {', '.join(ROW_SUFFIXES)})")
    if not path.is_file():
        raise DataError(f"{path}: data file not found")
    if suffix in (".jsonl", ".json"):
        rows = _read_json(path, lines=suffix == ".jsonl")
    else:
        rows = _read_with_pandas(path, suffix)
    if not rows:
        raise DataError(f"{path}: empty split (no rows)")
    return rows


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise DataError(f"{path}: line {line}: not UTF-8 text") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read ({err.strerror})") from None


def _read_json(path: Path, *, lines: bool) -> list[dict[str, Any]]:
    text = _read_text(path)
    if not lines:
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}: line {err.lineno}: invalid JSON ({err.msg})") from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise DataError(f"{path}: expected a JSON list of objects")
        return rows
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}: line {number}: invalid JSON ({err.msg})") from None
        if not isinstance(row, dict):
            raise DataError(f"{path}: line {number}: expected a JSON object")
        rows.append(row)
    return rows


def _read_with_pandas(path: Path, suffix: str) -> list[dict[str, Any]]:
    import pandas as pd

    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", encoding="utf-8", keep_default_na=False)
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise DataError(f"{path}: cannot parse ({str(err).splitlines()[0]})") from None
    return frame.to_dict(orient="records")


def find_split_file(folder: Path, split: str) -> Path:
    """``folder/<split>.<ext>`` for the first supported extension present."""
    for suffix in ROW_SUFFIXES:
        candidate = folder / f"{split}{suffix}"
        if candidate.is_file():
            return candidate
    raise DataError(f"{folder}: no file for split {split!r} (expected {split}.jsonl, .csv, .tsv or .parquet)")
