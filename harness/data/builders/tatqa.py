"""Builders that derive finance tasks from TAT-QA (``tasks/finance/local``).

The corpus is read from the data root (``--data-dir``; in this repository's checkout
``../shared/datasets``), never from the package: file names in ``data.builder_options`` are
relative to it. A missing file raises ``DataUnavailable`` (the runner skips the task with one
line); a malformed one raises ``DataError`` naming the file and field.

Input: TAT-QA (Zhu et al. 2021), raw JSON: a list of report contexts, each with a ``table``
(``uid``, ``table``: list of rows of cell strings), ``paragraphs`` (``uid``, ``order``, ``text``)
and ``questions`` (``uid``, ``question``, ``answer_type``, ``answer_from`` in ``table`` /
``text`` / ``table-text``, ``rel_paragraphs``: the ``order`` values, as strings, of the
paragraphs the answer uses).

Registered builders:

* ``tatqa_retrieval`` -> RetrievalData: question -> its evidence (table and/or paragraphs) among
  every context of the split.
* ``tatqa_reranking`` -> RetrievalData with candidates: question -> its own report's contexts.
* ``tatqa_pair_classification`` -> PairClassificationData: (question, paragraph of the same
  report), 1 if the paragraph is annotated as answer evidence, 0 otherwise (hard negatives).
* ``tatqa_answer_type_classification`` -> ClassificationData: question -> ``answer_type``,
  trained on one split's questions and tested on another's, shared question texts dropped.

Shared TAT-QA rules (:func:`tatqa_evidence`, :func:`ambiguous_questions`): a question's evidence
is its report's table when ``answer_from`` is ``table`` or ``table-text``, plus every paragraph in
``rel_paragraphs``. Documents are deduplicated by exact text (a paragraph repeated in two
reports is one document, relevant wherever either copy is). A question whose text (case- and
whitespace-folded) occurs more than once in the split is dropped from the retrieval, reranking
and pair tasks: the same words then ask about different reports, so its gold evidence would be
arbitrary.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from harness.data.builders import register_builder
from harness.data.builders.base import BuilderOptions, FileOptions, root_file
from harness.data.types import ClassificationData, PairClassificationData, RetrievalData
from harness.errors import DataError

TABLE_SOURCES = ("table", "table-text")
ANSWER_FROM = ("table", "text", "table-text")


def fold(text: str) -> str:
    """Case- and whitespace-folded text, the key for "the same question"."""
    return " ".join(text.casefold().split())


# ---------------------------------------------------------------- TAT-QA parsing


@dataclass(frozen=True)
class Question:
    """One TAT-QA question; ``rel_paragraphs`` holds paragraph ``order`` values as strings."""

    uid: str
    text: str
    answer_type: str
    answer_from: str
    rel_paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    """One TAT-QA context: a table (linearised), its paragraphs by order, and its questions."""

    table_uid: str
    table_text: str
    paragraphs: tuple[tuple[str, str, str], ...]  # (order, uid, text), file order
    questions: tuple[Question, ...]


def linearise_table(rows: list[list[Any]]) -> str:
    """A table as text: one line per row, non-empty cells joined by `` | ``; empty rows dropped.

    Example: ``[["", "2019", "2018"], ["Total sales", "$1,496.5", "$1,202.9"]]`` ->
    ``"2019 | 2018\\nTotal sales | $1,496.5 | $1,202.9"``.
    """
    lines = []
    for row in rows:
        cells = [" ".join(str(cell).split()) for cell in row]
        line = " | ".join(cell for cell in cells if cell)
        if line:
            lines.append(line)
    return "\n".join(lines)


def _field(obj: Any, key: str, kind: type, where: str) -> Any:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, kind) or (kind is str and not value.strip()):
        raise DataError(f"{where}: field {key!r} missing or not a {'non-empty ' if kind is str else ''}{kind.__name__}")
    return value


@lru_cache(maxsize=4)
def _load_tatqa(path: Path, mtime_ns: int) -> tuple[Report, ...]:
    """Parse and check a raw TAT-QA split file (cached per file version)."""
    del mtime_ns  # only part of the cache key
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read as UTF-8 text ({err})") from None
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: line {err.lineno}: invalid JSON ({err.msg})") from None
    if not isinstance(raw, list) or not raw:
        raise DataError(f"{path}: expected a non-empty JSON list of report contexts")
    reports = []
    for i, item in enumerate(raw):
        where = f"{path}: [{i}]"
        table = _field(item, "table", dict, where)
        table_rows = _field(table, "table", list, f"{where}.table")
        if not all(isinstance(row, list) for row in table_rows):
            raise DataError(f"{where}.table: field 'table' must be a list of rows (lists of cells)")
        paragraphs = []
        for j, para in enumerate(_field(item, "paragraphs", list, where)):
            pw = f"{where}.paragraphs[{j}]"
            order = para.get("order") if isinstance(para, dict) else None
            if isinstance(order, bool) or not isinstance(order, (int, str)):
                raise DataError(f"{pw}: field 'order' missing or not an int")
            paragraphs.append((str(order), _field(para, "uid", str, pw), " ".join(_field(para, "text", str, pw).split())))
        orders = {order for order, _, _ in paragraphs}
        if len(orders) != len(paragraphs):
            raise DataError(f"{where}.paragraphs: duplicate 'order' values")
        questions = []
        for j, q in enumerate(_field(item, "questions", list, where)):
            qw = f"{where}.questions[{j}]"
            answer_from = _field(q, "answer_from", str, qw)
            if answer_from not in ANSWER_FROM:
                raise DataError(f"{qw}: answer_from {answer_from!r} is not one of {', '.join(ANSWER_FROM)}")
            rel = tuple(str(r) for r in _field(q, "rel_paragraphs", list, qw))
            unknown = [r for r in rel if r not in orders]
            if unknown:
                raise DataError(f"{qw}: rel_paragraphs names paragraph {unknown[0]!r}, which the context does not have")
            questions.append(
                Question(
                    uid=_field(q, "uid", str, qw),
                    text=" ".join(_field(q, "question", str, qw).split()),
                    answer_type=_field(q, "answer_type", str, qw),
                    answer_from=answer_from,
                    rel_paragraphs=rel,
                )
            )
        reports.append(
            Report(
                table_uid=_field(table, "uid", str, f"{where}.table"),
                table_text=linearise_table(table_rows),
                paragraphs=tuple(paragraphs),
                questions=tuple(questions),
            )
        )
    return tuple(reports)


def _tatqa(opts: FileOptions, data_root: Path | None) -> tuple[Path, tuple[Report, ...]]:
    """The file and its reports."""
    path = root_file(opts.file, "file", data_root)
    return path, _load_tatqa(path, path.stat().st_mtime_ns)


# ---------------------------------------------------------------- TAT-QA task construction


def tatqa_evidence(question: Question) -> tuple[bool, tuple[str, ...]]:
    """(is the table evidence, the evidence paragraphs' orders) of a question.

    The table is evidence when the answer comes from it (``answer_from`` ``table`` or
    ``table-text``); the paragraphs are those in ``rel_paragraphs`` (also when ``answer_from`` is
    ``table``: TAT-QA marks a few such paragraphs and they are kept).
    """
    return question.answer_from in TABLE_SOURCES, question.rel_paragraphs


def ambiguous_questions(reports: tuple[Report, ...]) -> set[str]:
    """Folded question texts that occur more than once in the split."""
    counts = Counter(fold(q.text) for r in reports for q in r.questions)
    return {text for text, n in counts.items() if n > 1}


@dataclass
class _Corpus:
    """Documents deduplicated by text, and each report's document ids."""

    docs: dict[str, str]
    table_id: list[str]  # per report
    paragraph_ids: list[dict[str, str]]  # per report: order -> doc id


def _corpus(reports: tuple[Report, ...]) -> _Corpus:
    """Every table (``t:<table uid>``) and paragraph (``p:<paragraph uid>``) of the split.

    A text seen before maps to the earlier document's id, so identical texts are one document.
    """
    docs: dict[str, str] = {}
    by_text: dict[str, str] = {}

    def add(doc_id: str, text: str) -> str:
        if text not in by_text:
            by_text[text] = doc_id
            docs[doc_id] = text
        return by_text[text]

    table_id, paragraph_ids = [], []
    for report in reports:
        table_id.append(add(f"t:{report.table_uid}", report.table_text))
        paragraph_ids.append({order: add(f"p:{uid}", text) for order, uid, text in report.paragraphs})
    return _Corpus(docs, table_id, paragraph_ids)


def _evidence_ids(corpus: _Corpus, index: int, question: Question) -> dict[str, int]:
    table, orders = tatqa_evidence(question)
    ids = [corpus.table_id[index]] if table else []
    ids += [corpus.paragraph_ids[index][o] for o in orders]
    return {doc_id: 1 for doc_id in ids}


def _queries_and_qrels(
    reports: tuple[Report, ...], corpus: _Corpus
) -> tuple[dict[str, str], dict[str, dict[str, int]], list[int]]:
    """Unambiguous questions (``q:<uid>``), their evidence, and each one's report index."""
    drop = ambiguous_questions(reports)
    queries, qrels, owner = {}, {}, []
    for index, report in enumerate(reports):
        for q in report.questions:
            if fold(q.text) in drop:
                continue
            rel = _evidence_ids(corpus, index, q)
            if not rel:  # TAT-QA always names evidence; guard the "no query without a document" rule
                continue
            queries[f"q:{q.uid}"], qrels[f"q:{q.uid}"] = q.text, rel
            owner.append(index)
    return queries, qrels, owner


@register_builder("tatqa_retrieval", options=FileOptions)
def build_tatqa_retrieval(opts: FileOptions, data_root: Path | None) -> RetrievalData:
    """Question -> its evidence, over all tables and paragraphs of the split (:func:`_corpus`).

    Options:
        file (str): a raw TAT-QA split, e.g. ``tatqa/test.json``.

    Returns:
        RetrievalData: corpus ``t:<uid>`` (linearised tables) and ``p:<uid>`` (paragraphs),
        queries ``q:<question uid>``, binary qrels from :func:`tatqa_evidence`.
    """
    path, reports = _tatqa(opts, data_root)
    corpus = _corpus(reports)
    queries, qrels, _ = _queries_and_qrels(reports, corpus)
    if not queries:
        raise DataError(f"{path}: no question with evidence")
    return RetrievalData(corpus=corpus.docs, queries=queries, qrels=qrels)


@register_builder("tatqa_reranking", options=FileOptions)
def build_tatqa_reranking(opts: FileOptions, data_root: Path | None) -> RetrievalData:
    """Question -> rank its own report's table and paragraphs; relevant = its evidence.

    Queries whose every candidate is evidence (nothing to rank) are dropped.

    Returns:
        RetrievalData as :func:`build_tatqa_retrieval`, with ``candidates`` = the report's
        document ids (table first, then paragraphs in file order, duplicates removed).
    """
    path, reports = _tatqa(opts, data_root)
    corpus = _corpus(reports)
    queries, qrels, owner = _queries_and_qrels(reports, corpus)
    candidates: dict[str, list[str]] = {}
    for qid, index in zip(list(queries), owner):
        ids = list(dict.fromkeys([corpus.table_id[index], *corpus.paragraph_ids[index].values()]))
        if all(d in qrels[qid] for d in ids):
            del queries[qid], qrels[qid]
            continue
        candidates[qid] = ids
    if not queries:
        raise DataError(f"{path}: no question with a non-evidence candidate")
    return RetrievalData(corpus=corpus.docs, queries=queries, qrels=qrels, candidates=candidates)


class PairOptions(FileOptions):
    """The TAT-QA file, the seed of the negative draw, and how many negatives per positive."""

    seed: int = Field(ge=0)
    negatives_per_positive: int = Field(default=1, ge=1)


@register_builder("tatqa_pair_classification", options=PairOptions)
def build_tatqa_pair_classification(opts: PairOptions, data_root: Path | None) -> PairClassificationData:
    """(question, paragraph of the same report): 1 = the paragraph is annotated evidence.

    For every unambiguous question with evidence paragraphs: each evidence paragraph is a
    positive pair; ``negatives_per_positive`` x (number of positives) other paragraphs of the same
    report (fewer if the report has fewer) are drawn without replacement with a
    ``numpy.random.default_rng(seed)`` shared across the file, questions in file order. A
    paragraph whose text equals an evidence paragraph's is never a negative.

    Returns:
        PairClassificationData: sentence1 = question, sentence2 = paragraph, labels in {0, 1};
        each question's positives, then its negatives (in report order).
    """
    path, reports = _tatqa(opts, data_root)
    rng = np.random.default_rng(opts.seed)
    drop = ambiguous_questions(reports)
    left, right, labels = [], [], []
    for report in reports:
        text_of = {order: text for order, _, text in report.paragraphs}
        for q in report.questions:
            if fold(q.text) in drop or not q.rel_paragraphs:
                continue
            positives = list(dict.fromkeys(text_of[o] for o in q.rel_paragraphs))
            pool = list(dict.fromkeys(t for _, _, t in report.paragraphs if t not in positives))
            if not pool:
                continue
            k = min(len(pool), opts.negatives_per_positive * len(positives))
            negatives = [pool[i] for i in sorted(rng.choice(len(pool), size=k, replace=False))]
            for text, label in [*((t, 1) for t in positives), *((t, 0) for t in negatives)]:
                left.append(q.text)
                right.append(text)
                labels.append(label)
    if not labels:
        raise DataError(f"{path}: no question with both an evidence paragraph and another paragraph")
    return PairClassificationData(sentence1=left, sentence2=right, labels=np.array(labels, dtype=np.int64))


class TrainTestOptions(BuilderOptions):
    """Two TAT-QA files under the data root: train and test."""

    train_file: str
    test_file: str


@register_builder("tatqa_answer_type_classification", options=TrainTestOptions)
def build_tatqa_answer_type_classification(opts: TrainTestOptions, data_root: Path | None) -> ClassificationData:
    """Question text -> ``answer_type`` (span, multi-span, arithmetic, count).

    Train on every question of ``train_file``, test on every question of ``test_file`` (TAT-QA's
    splits hold different reports); a training question whose folded text also occurs in the
    test file is dropped, so no text is in both.

    Returns:
        ClassificationData with str labels, each split in file order.
    """
    splits = []
    for key, name in (("train_file", opts.train_file), ("test_file", opts.test_file)):
        path = root_file(name, key, data_root)
        splits.append([q for r in _load_tatqa(path, path.stat().st_mtime_ns) for q in r.questions])
    train, test = splits
    test_texts = {fold(q.text) for q in test}
    train = [q for q in train if fold(q.text) not in test_texts]
    return ClassificationData(
        train_texts=[q.text for q in train],
        train_labels=np.array([q.answer_type for q in train]),
        test_texts=[q.text for q in test],
        test_labels=np.array([q.answer_type for q in test]),
    )
