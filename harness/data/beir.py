"""The BEIR on-disk layout: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``.

Optionally ``top_ranked/<split>.jsonl`` (rows ``{"query-id": ..., "corpus-ids": [...]}``, mteb's
name) gives reranking candidates. Documents are ``title + " " + text`` stripped, as mteb joins them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import warnings

from harness.data.files import read_rows
from harness.data.rows import MAX_TEXT_CHARS
from harness.data.types import RetrievalData
from harness.errors import DataError


def _ids_and_texts(path: Path, *, join_title: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for line, row in enumerate(read_rows(path), start=1):
        key = row.get("_id", row.get("id"))
        if key is None or str(key) == "":
            raise DataError(f"{path}: line {line}: missing '_id'")
        key = str(key)
        if key in out:
            raise DataError(f"{path}: line {line}: duplicate id {key!r}")
        text = row.get("text")
        if not isinstance(text, str):
            raise DataError(f"{path}: line {line}: column 'text' must be text")
        if len(text) > MAX_TEXT_CHARS:
            raise DataError(f"{path}: line {line}: 'text' holds {len(text):,} characters (limit {MAX_TEXT_CHARS:,}; a broken file?)")
        title = row.get("title") if join_title else None
        out[key] = f"{title} {text}".strip() if isinstance(title, str) and title else text
        if not join_title and not text.strip():
            raise DataError(f"{path}: line {line}: query {key!r} is an empty text")
    return out


def _qrels(path: Path) -> dict[str, dict[str, int]]:
    if not path.is_file():
        raise DataError(f"{path}: qrels file not found")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        for line, row in enumerate(reader, start=1):
            if line == 1 and row and not row[-1].lstrip("-").isdigit():
                continue  # header: query-id corpus-id score
            if len(row) < 3:
                raise DataError(f"{path}: line {line}: expected query-id, corpus-id and score separated by tabs")
            try:
                score = int(float(row[-1]))
            except ValueError:
                raise DataError(f"{path}: line {line}: score {row[-1]!r} is not a number") from None
            qrels.setdefault(row[0], {})[row[-2]] = score
    return qrels


def load_beir(folder: Path, split: str) -> RetrievalData:
    """Load a BEIR folder; every qrels query and document must exist."""
    corpus = _ids_and_texts(folder / "corpus.jsonl", join_title=True)
    queries = _ids_and_texts(folder / "queries.jsonl", join_title=False)
    qrels_path = folder / "qrels" / f"{split}.tsv"
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
    candidates = None
    top_ranked = folder / "top_ranked" / f"{split}.jsonl"
    if top_ranked.is_file():
        candidates = {str(r["query-id"]): [str(d) for d in r["corpus-ids"]] for r in read_rows(top_ranked)}
    # Only judged queries are evaluated (as mteb and pytrec_eval do); others are not embedded.
    return RetrievalData(corpus, {q: queries[q] for q in qrels}, qrels, candidates)
