"""Turn rows (dicts with mteb's column names, or the spec's ``columns`` mapping) into task data.

One :data:`RowLoader` per row-based task type (its descriptor names it): each takes the
:class:`RowSplits` of a task and returns the type's dataclass. Every value goes through one of
the checks of ``schema.py`` (text, number, class label), once, at load; a failure is one
DataError naming the file, the line (1-based, counting data rows), the column (and, for mteb's
list layouts, the item) and the value. Lists that pair up (pair-classification and clustering
hub layouts, summaries and their relevance) must have the same length: nothing is cut.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.data.schema import (
    Invalid,
    Rows,
    Where,
    check_label,
    check_number,
    check_text,
    checked,
    describe,
    located,
    require,
)
from harness.data.types import (
    ClassificationData,
    ClusteringData,
    PairClassificationData,
    RetrievalData,
    STSData,
    SummarizationData,
    TaskData,
)
from harness.errors import DataError, brief


@dataclass(frozen=True)
class RowSplits:
    """What a row loader reads.

    Attributes:
        rows: the eval split's rows.
        path: the file they came from (for messages; ``hf://repo/split`` for the hub).
        split: the eval split's name.
        columns: logical column -> data column (the type's defaults, overridden by the spec's).
        mapped: the logical columns the spec maps itself.
        train: the train split's (rows, path) for a type that reads one, else None.
    """

    rows: Rows
    path: Path
    split: str
    columns: dict[str, str]
    mapped: frozenset[str] = frozenset()
    train: tuple[Rows, Path] | None = None


RowLoader = Callable[[RowSplits], TaskData]


def column(rows: Rows, logical: str, columns: dict[str, str], path: Path) -> list[Any]:
    """Values of the data column mapped to ``logical``; DataError if the column is absent."""
    return require(rows, columns[logical], path, f"spec field columns.{logical}; ")


def texts(values: list[Any], logical: str, columns: dict[str, str], path: Path, where: Where | None = None) -> list[str]:
    """Check that every value is a non-empty string."""
    return checked(values, check_text, columns[logical], path, where)


def numbers(values: list[Any], logical: str, columns: dict[str, str], path: Path, where: Where | None = None) -> np.ndarray:
    """Finite floats, or DataError naming the first bad line."""
    return np.asarray(checked(values, check_number, columns[logical], path, where), dtype=np.float64)


def labels(values: list[Any], logical: str, columns: dict[str, str], path: Path, where: Where | None = None) -> np.ndarray:
    """Class labels (:func:`check_label`; ints and texts mixed are all read as texts), as an array."""
    out = checked(values, check_label, columns[logical], path, where)
    if len({type(v) for v in out}) > 1:
        return np.asarray([str(v) for v in out])
    return np.asarray(out)


def flatten(rows: Rows, logicals: Sequence[str], columns: dict[str, str], path: Path) -> tuple[list[list[Any]], list[tuple[int, int]]]:
    """mteb's hub layout, each row holding parallel lists (one per logical column), read flat.

    Returns:
        (the flat values of each logical column, the (line, item) of each value).

    Raises:
        DataError: a row lacks a column, holds a non-list, or lists of different lengths.
    """
    names = [columns[logical] for logical in logicals]
    lists = [column(rows, logical, columns, path) for logical in logicals]
    flat: list[list[Any]] = [[] for _ in logicals]
    where: list[tuple[int, int]] = []
    for line, values in enumerate(zip(*lists), start=1):
        for name, value in zip(names, values):
            if not isinstance(value, list):
                raise DataError(f"{path}: line {line}: column {name!r} must be a list (as on the first line), got {describe(value)}")
        if len({len(value) for value in values}) > 1:
            got = ", ".join(f"{name!r}: {len(value)}" for name, value in zip(names, values))
            raise DataError(f"{path}: line {line}: columns {', '.join(map(repr, names))} must be lists of the same length (got {got})")
        for out, value in zip(flat, values):
            out.extend(value)
        where.extend((line, item) for item in range(1, len(values[0]) + 1))
    return flat, where


def _lists(values: list[Any], check: Callable[[Any], Any], name: str, path: Path) -> list[list[Any]]:
    """One list per row, each element passed through ``check`` (messages name line and item)."""
    out = []
    for line, value in enumerate(values, start=1):
        if not isinstance(value, list):
            raise DataError(f"{path}: line {line}: column {name!r} must be a list, got {describe(value)}")
        out.append(checked(value, check, name, path, [(line, item) for item in range(1, len(value) + 1)]))
    return out


def _is_list_layout(rows: Rows, name: str) -> bool:
    return bool(rows) and isinstance(rows[0].get(name), list)


def _label_columns(rows: Rows, columns: dict[str, str], explicit: bool) -> dict[str, str]:
    """mteb classification data has ``label`` or ``label_text``: take whichever exists."""
    if not explicit and rows and columns["label"] not in rows[0] and "label_text" in rows[0]:
        return {**columns, "label": "label_text"}
    return columns


def sts(source: RowSplits) -> STSData:
    """One row per pair: ``sentence1``, ``sentence2``, a numeric gold ``score``."""
    rows, columns, path = source.rows, source.columns, source.path
    return STSData(
        texts(column(rows, "sentence1", columns, path), "sentence1", columns, path),
        texts(column(rows, "sentence2", columns, path), "sentence2", columns, path),
        numbers(column(rows, "score", columns, path), "score", columns, path),
    )


def pair_classification(source: RowSplits) -> PairClassificationData:
    """Rows are pairs; mteb's hub layout (one row holding lists of pairs) is flattened.

    Older mteb hub data sets name the two sides ``sent1`` / ``sent2`` (mteb renames them in
    ``dataset_transform``, e.g. SprintDuplicateQuestions); they are read when the default
    ``sentence1`` / ``sentence2`` columns are absent.
    """
    rows, columns, path = source.rows, source.columns, source.path
    default = (columns["sentence1"], columns["sentence2"]) == ("sentence1", "sentence2")
    if rows and default and "sentence1" not in rows[0] and "sent1" in rows[0]:
        columns = {**columns, "sentence1": "sent1", "sentence2": "sent2"}
    logicals = ("sentence1", "sentence2", "label")
    where: list[tuple[int, int]] | None = None
    if _is_list_layout(rows, columns["sentence1"]):
        (first, second, gold), where = flatten(rows, logicals, columns, path)
    else:
        first, second, gold = (column(rows, logical, columns, path) for logical in logicals)
    y = numbers(gold, "label", columns, path, where)
    bad = np.flatnonzero((y != 0) & (y != 1))
    if bad.size:
        raise DataError(f"{located(path, columns['label'], int(bad[0]), where)} must be 0 or 1 (got {brief(gold[bad[0]])})")
    if np.unique(y).size < 2:
        raise DataError(f"{path}: column {columns['label']!r} has a single class; pair classification needs both 0 and 1")
    return PairClassificationData(
        texts(first, "sentence1", columns, path, where), texts(second, "sentence2", columns, path, where), y.astype(np.int64)
    )


def classification(source: RowSplits) -> ClassificationData:
    """One row per text (``text``, ``label``) in a train split (the probe's) and the eval split."""
    if source.train is None:
        raise ValueError("classification rows need the train split")
    columns, explicit = source.columns, "label" in source.mapped
    paths = (source.train[1], source.path)
    out = []
    for rows, path in zip((source.train[0], source.rows), paths):
        cols = _label_columns(rows, columns, explicit)
        out.append(
            (
                texts(column(rows, "text", cols, path), "text", cols, path),
                labels(column(rows, "label", cols, path), "label", cols, path),
            )
        )
    (train_texts, train_labels), (test_texts, test_labels) = out
    if np.unique(train_labels).size < 2:
        raise DataError(f"{paths[0]}: column {columns['label']!r} has a single label; classification needs at least two")
    unseen = np.setdiff1d(test_labels, train_labels)
    if unseen.size:
        raise DataError(f"{paths[1]}: label {unseen[0].item()!r} never occurs in the train split {paths[0].name}")
    return ClassificationData(train_texts, train_labels, test_texts, test_labels)


def clustering(source: RowSplits) -> ClusteringData:
    """One row per text; mteb's hub layout (each row one set: lists of texts and labels) is
    flattened, and ``sets`` records each text's row (the legacy protocol clusters each set)."""
    rows, columns, path = source.rows, source.columns, source.path
    if not _is_list_layout(rows, columns["text"]):
        values, gold = column(rows, "text", columns, path), column(rows, "label", columns, path)
        return ClusteringData(texts(values, "text", columns, path), labels(gold, "label", columns, path))
    (values, gold), where = flatten(rows, ("text", "label"), columns, path)
    empty = next((line for line, row in enumerate(rows, start=1) if not row[columns["text"]]), None)
    if empty is not None:
        raise DataError(f"{path}: line {empty}: column {columns['text']!r} is an empty set")
    sets = np.asarray([line - 1 for line, _ in where], dtype=np.int64)
    return ClusteringData(texts(values, "text", columns, path, where), labels(gold, "label", columns, path, where), sets)


def summarization(source: RowSplits) -> SummarizationData:
    """One row per text: lists of human and machine summaries, one relevance per machine one."""
    rows, columns, path = source.rows, source.columns, source.path
    human, machine, relevance = (
        _lists(column(rows, logical, columns, path), check, columns[logical], path)
        for logical, check in (("human_summaries", check_text), ("machine_summaries", check_text), ("relevance", check_number))
    )
    for line, (h, m, r) in enumerate(zip(human, machine, relevance), start=1):
        if not h:
            raise DataError(f"{path}: line {line}: column {columns['human_summaries']!r} is an empty list")
        if len(m) != len(r):
            raise DataError(
                f"{path}: line {line}: columns {columns['machine_summaries']!r} and {columns['relevance']!r} must be lists "
                f"of the same length (one relevance per machine summary; got {len(m)} and {len(r)})"
            )
    return SummarizationData(human, machine, relevance)


def reranking(source: RowSplits) -> RetrievalData:
    """mteb's row layout for reranking: ``query``, ``positive`` (list), ``negative`` (list).

    Converted exactly as mteb 2.x converts it (``AbsTaskReranking.transform_old_dataset_format``):
    rows without a positive or without a negative are dropped (one warning says how many); the
    i-th remaining row becomes query ``{split}_query{i}``; each of its positives becomes its own
    document ``apositive_{qid}_{j:05d}`` (relevance 1) and each negative ``negative_{qid}_{j:05d}``
    (judged, relevance 0), and these are the query's candidates. Texts are not merged: a text
    listed twice is two documents with equal scores, ordered by id as mteb orders them (so in a
    tie a negative ranks above a positive), which is what makes MAP match mteb's. The split
    name in the ids is the eval split's; only the order of ids within one query can move a
    score, and that does not depend on it.
    """
    rows, columns, path, split = source.rows, source.columns, source.path, source.split
    queries: dict[str, str] = {}
    corpus: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    candidates: dict[str, list[str]] = {}
    dropped = 0
    for line, row in enumerate(rows, start=1):
        sides = []
        for logical in ("positive", "negative"):
            value = row.get(columns[logical])
            if value is None and logical == "negative":
                value = []
            if not isinstance(value, list):
                raise DataError(f"{path}: line {line}: column {columns[logical]!r} must be a list of texts, got {describe(value)}")
            sides.append(checked(value, check_text, columns[logical], path, [(line, j) for j in range(1, len(value) + 1)]))
        positives, negatives = sides
        if not positives or not negatives:
            dropped += 1  # mteb filters these out before numbering the queries
            continue
        try:
            query = check_text(row.get(columns["query"]))
        except Invalid as err:
            raise DataError(f"{located(path, columns['query'], line - 1)} {err}") from None
        qid = f"{split}_query{len(queries)}"
        queries[qid] = query
        ids = []
        for prefix, docs, grade in (("apositive", positives, 1), ("negative", negatives, 0)):
            for j, doc in enumerate(docs):
                doc_id = f"{prefix}_{qid}_{j:05d}"
                corpus[doc_id] = doc
                qrels.setdefault(qid, {})[doc_id] = grade
                ids.append(doc_id)
        candidates[qid] = ids
    if not queries:
        raise DataError(f"{path}: no row has both a positive and a negative (column {columns['positive']!r}, {columns['negative']!r})")
    if dropped:
        warnings.warn(f"{path}: {dropped} rows without a positive or without a negative dropped, as mteb does", stacklevel=2)
    return RetrievalData(corpus, queries, qrels, candidates)
