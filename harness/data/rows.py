"""Turn rows (dicts with mteb's column names, or the spec's ``columns`` mapping) into task data.

One :data:`RowLoader` per row-based task type (its descriptor names it): each takes the
:class:`RowSplits` of a task and returns the type's dataclass. Every check names the file, the column (and the spec field that maps it) and, where one row is at
fault, its line number (1-based, counting data rows).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.data.types import (
    ClassificationData,
    ClusteringData,
    PairClassificationData,
    RetrievalData,
    STSData,
    SummarizationData,
    TaskData,
)
from harness.errors import DataError

Rows = list[dict[str, Any]]


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

# A text longer than this is almost surely a broken file (no line breaks, a binary read as text),
# not a document: models truncate at a few thousand tokens anyway.
MAX_TEXT_CHARS = 1_000_000


def column(rows: Rows, logical: str, columns: dict[str, str], path: Path) -> list[Any]:
    """Values of the data column mapped to ``logical``; DataError if the column is absent."""
    name = columns[logical]
    missing = next((i for i, row in enumerate(rows, start=1) if name not in row), None)
    if missing is not None:
        have = ", ".join(sorted(rows[missing - 1])) or "none"
        raise DataError(f"{path}: line {missing}: column {name!r} not found (spec field columns.{logical}; row has: {have})")
    return [row[name] for row in rows]


def texts(values: list[Any], logical: str, columns: dict[str, str], path: Path) -> list[str]:
    """Check that every value is a non-empty string."""
    for line, value in enumerate(values, start=1):
        if not isinstance(value, str):
            raise DataError(f"{path}: line {line}: column {columns[logical]!r} must be text, got {type(value).__name__}")
        if not value.strip():
            raise DataError(f"{path}: line {line}: column {columns[logical]!r} is an empty text")
        if len(value) > MAX_TEXT_CHARS:
            raise DataError(
                f"{path}: line {line}: column {columns[logical]!r} holds {len(value):,} characters (limit {MAX_TEXT_CHARS:,}; a broken file?)"
            )
    return values


def numbers(values: list[Any], logical: str, columns: dict[str, str], path: Path) -> np.ndarray:
    """Finite floats, or DataError naming the first bad line."""
    out = np.empty(len(values), dtype=np.float64)
    for line, value in enumerate(values, start=1):
        try:
            out[line - 1] = float(value)
        except (TypeError, ValueError):
            raise DataError(f"{path}: line {line}: column {columns[logical]!r} is not a number ({value!r})") from None
        if not math.isfinite(out[line - 1]):
            raise DataError(f"{path}: line {line}: column {columns[logical]!r} is {value} (must be finite)")
    return out


def labels(values: list[Any], logical: str, columns: dict[str, str], path: Path) -> np.ndarray:
    """Class labels (ints or strings, not both), as a numpy array."""
    for line, value in enumerate(values, start=1):
        if value is None or isinstance(value, float) and math.isnan(value) or isinstance(value, (list, dict)):
            raise DataError(f"{path}: line {line}: column {columns[logical]!r} has no usable label ({value!r})")
    if len({type(v) for v in values}) > 1:
        return np.asarray([str(v) for v in values])
    return np.asarray(values)


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
    if rows and isinstance(rows[0].get(columns["sentence1"]), list):
        rows = [
            {columns["sentence1"]: a, columns["sentence2"]: b, columns["label"]: y}
            for row in rows
            for a, b, y in zip(row[columns["sentence1"]], row[columns["sentence2"]], row[columns["label"]])
        ]
    y = numbers(column(rows, "label", columns, path), "label", columns, path)
    bad = np.flatnonzero((y != 0) & (y != 1))
    if bad.size:
        raise DataError(f"{path}: line {bad[0] + 1}: column {columns['label']!r} must be 0 or 1")
    if np.unique(y).size < 2:
        raise DataError(f"{path}: column {columns['label']!r} has a single class; pair classification needs both 0 and 1")
    return PairClassificationData(
        texts(column(rows, "sentence1", columns, path), "sentence1", columns, path),
        texts(column(rows, "sentence2", columns, path), "sentence2", columns, path),
        y.astype(np.int64),
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
    values = column(rows, "text", columns, path)
    gold = column(rows, "label", columns, path)
    sets = None
    if values and isinstance(values[0], list):
        for line, (batch, batch_gold) in enumerate(zip(values, gold), start=1):
            if not isinstance(batch, list) or not isinstance(batch_gold, list) or len(batch) != len(batch_gold):
                raise DataError(
                    f"{path}: line {line}: columns {columns['text']!r} and {columns['label']!r} must be lists of the same length"
                )
            if not batch:
                raise DataError(f"{path}: line {line}: column {columns['text']!r} is an empty set")
        sets = np.repeat(np.arange(len(values)), [len(batch) for batch in values])
        values = [t for batch in values for t in batch]
        gold = [g for batch in gold for g in batch]
    return ClusteringData(texts(values, "text", columns, path), labels(gold, "label", columns, path), sets)


def summarization(source: RowSplits) -> SummarizationData:
    """One row per text: lists of human and machine summaries, one relevance per machine one."""
    rows, columns, path = source.rows, source.columns, source.path
    human = column(rows, "human_summaries", columns, path)
    machine = column(rows, "machine_summaries", columns, path)
    relevance = column(rows, "relevance", columns, path)
    for line, (h, m, r) in enumerate(zip(human, machine, relevance), start=1):
        if not (isinstance(h, list) and isinstance(m, list) and isinstance(r, list)) or len(m) != len(r) or not h:
            raise DataError(f"{path}: line {line}: summaries must be lists, with one relevance score per machine summary")
        numbers(r, "relevance", columns, path)
    return SummarizationData([list(h) for h in human], [list(m) for m in machine], [[float(x) for x in r] for r in relevance])


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
                raise DataError(f"{path}: line {line}: column {columns[logical]!r} must be a list of texts")
            for doc in value:
                if not isinstance(doc, str) or not doc.strip():
                    raise DataError(f"{path}: line {line}: column {columns[logical]!r} holds an empty or non-text entry")
            sides.append(value)
        positives, negatives = sides
        if not positives or not negatives:
            dropped += 1  # mteb filters these out before numbering the queries
            continue
        query = row.get(columns["query"])
        if not isinstance(query, str) or not query.strip():
            raise DataError(f"{path}: line {line}: column {columns['query']!r} must be a non-empty text")
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
