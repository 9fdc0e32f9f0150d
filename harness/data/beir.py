"""The BEIR on-disk layout: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``.

Optionally ``top_ranked/<split>.jsonl`` (rows ``{"query-id": ..., "corpus-ids": [...]}``, mteb's
name) gives reranking candidates. Documents are ``title + " " + text`` stripped, as mteb joins them.

The row readers (:func:`documents`, :func:`judgements`, :func:`candidates`) also read mteb's hub
layout (``harness.data._hub_retrieval``): both check every value with the primitives of
``rows.py`` (ids, texts, whole-number grades), and name file, line and column on failure.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from harness.data.files import read_rows, read_text
from harness.data.schema import Invalid, check_grade, check_id, check_text, field
from harness.data.types import RetrievalData
from harness.errors import DataError, brief
from harness.paths import found, regular_file


def documents(rows: Iterable[dict[str, Any]], path: Path, *, queries: bool) -> dict[str, str]:
    """id -> text of corpus rows (``_id`` or ``id``, ``text``, optional ``title``) or, with
    ``queries``, of query rows (the text must not be empty). A title is joined as mteb joins it:
    ``(title + " " + text).strip()`` when the title is a non-empty text, else the text as is."""
    out: dict[str, str] = {}
    for line, row in enumerate(rows, start=1):
        key = field(row, "id" if "id" in row and "_id" not in row else "_id", check_id, path, line)
        if key in out:
            raise DataError(f"{path}: line {line}: duplicate id {brief(key)}")
        text = field(row, "text", check_text if queries else _corpus_text, path, line)
        title = None if queries or row.get("title") is None else field(row, "title", _corpus_text, path, line)
        out[key] = f"{title} {text}".strip() if title else text
    return out


def _corpus_text(value: Any) -> str:
    """A document's text or title: a string within the text limit; unlike a query, it may be empty."""
    return value if isinstance(value, str) and not value.strip() else check_text(value)


def judgements(rows: Iterable[tuple[int, dict[str, Any]]], path: Path) -> dict[str, dict[str, int]]:
    """query id -> {document id: grade} from ``(line, row)`` pairs with ``query-id``, ``corpus-id``
    and ``score`` (a whole number: ``1``, ``"1"`` or ``1.0``)."""
    qrels: dict[str, dict[str, int]] = {}
    for line, row in rows:
        qid = field(row, "query-id", check_id, path, line)
        doc = field(row, "corpus-id", check_id, path, line)
        qrels.setdefault(qid, {})[doc] = field(row, "score", check_grade, path, line)
    return qrels


def candidates(rows: Iterable[dict[str, Any]], path: Path) -> dict[str, list[str]]:
    """query id -> the ids of its documents to rerank, from rows ``{"query-id", "corpus-ids"}``."""
    out: dict[str, list[str]] = {}
    for line, row in enumerate(rows, start=1):
        qid = field(row, "query-id", check_id, path, line)
        if qid in out:
            raise DataError(f"{path}: line {line}: duplicate query-id {brief(qid)}")
        out[qid] = field(row, "corpus-ids", _id_list, path, line)
    return out


def _id_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise Invalid(f"must be a list of ids, got {brief(value, 60)}")
    return [check_id(item) for item in value]


_QRELS_COLUMNS = ("query-id", "corpus-id", "score")


def _qrels(path: Path) -> dict[str, dict[str, int]]:
    """``qrels/<split>.tsv``: ``query-id, corpus-id, score`` per line (TREC's four columns, with
    ``0`` second, too); a first line whose score is not a number is the header."""
    if not found(path):
        raise DataError(f"{path}: qrels file not found")
    regular_file(path)
    reader = csv.reader(io.StringIO(read_text(path), newline=""), delimiter="\t")
    records = []
    try:
        for line, row in enumerate(reader, start=1):
            if not row:
                continue
            if len(row) < 3:
                raise DataError(f"{path}: line {line}: expected query-id, corpus-id and score separated by tabs")
            if line == 1 and not _is_number(row[-1]):
                continue  # the header: query-id corpus-id score
            records.append((line, dict(zip(_QRELS_COLUMNS, (row[0], row[-2], row[-1])))))
    except csv.Error as err:
        raise DataError(f"{path}: line {reader.line_num}: cannot parse ({err})") from None
    return judgements(records, path)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def load_beir(folder: Path, split: str, locate: Callable[[str], Path] | None = None) -> RetrievalData:
    """Load a BEIR folder; every qrels query and document must exist.

    ``locate`` gives the path of a file named after the split (``qrels/<split>.tsv``), relative
    to ``folder`` (default ``folder / name``); the caller confines it (``harness.paths``).
    """
    locate = locate or folder.joinpath
    corpus = documents(read_rows(folder / "corpus.jsonl"), folder / "corpus.jsonl", queries=False)
    queries = documents(read_rows(folder / "queries.jsonl"), folder / "queries.jsonl", queries=True)
    qrels_path = locate(f"qrels/{split}.tsv")
    qrels = _qrels(qrels_path)
    for qid, docs in qrels.items():
        if qid not in queries:
            raise DataError(f"{qrels_path}: query {qid!r} is not in queries.jsonl")
        missing = next((d for d in docs if d not in corpus), None)
        if missing is not None:
            raise DataError(f"{qrels_path}: query {qid!r} names document {missing!r}, which is not in corpus.jsonl")
    if not qrels:
        raise DataError(f"{qrels_path}: empty split (no judgements)")
    unanswerable = sorted(q for q, docs in qrels.items() if max(docs.values()) <= 0)
    if unanswerable:
        warnings.warn(
            f"{qrels_path}: {len(unanswerable)} queries (e.g. {unanswerable[0]!r}) have no relevant document; "
            "kept and scored 0, as mteb does",
            stacklevel=2,
        )
    ranked = None
    top_ranked = locate(f"top_ranked/{split}.jsonl")
    if found(top_ranked):
        ranked = candidates(read_rows(top_ranked), top_ranked)
    # Only judged queries are evaluated (as mteb and pytrec_eval do); others are not embedded.
    return RetrievalData(corpus, {q: queries[q] for q in qrels}, qrels, ranked)
