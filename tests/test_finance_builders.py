"""The finance builders (``harness.data.builders.phrasebank`` and ``.tatqa``) on the real data in ../shared/datasets.

Expected counts are computed here from the raw files with separate, plain code (json + Counter),
or were read off the files by hand (``wc -l``, the first TAT-QA dev context), never with the
builders' own helpers.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.data.builders import get_builder
from harness.data.builders.tatqa import linearise_table
from harness.data.types import ClassificationData, ClusteringData, PairClassificationData, RetrievalData
from harness.errors import DataError, DataUnavailable

PHRASEBANK = "financial_phrasebank/allagree.jsonl"
TATQA_TEST, TATQA_DEV = "tatqa/test.json", "tatqa/dev.json"


def build(name: str, options: dict[str, Any], root: Path) -> Any:
    return get_builder(name)(dict(options), root)


def raw_phrasebank(root: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in (root / PHRASEBANK).read_text(encoding="utf-8").splitlines() if line.strip()]


def raw_tatqa(root: Path, name: str) -> list[dict[str, Any]]:
    return json.loads((root / name).read_text(encoding="utf-8"))


def norm(text: str) -> str:
    return " ".join(text.split())


def key(text: str) -> str:
    return " ".join(text.lower().split())


# ---------------------------------------------------------------- Financial PhraseBank


def test_phrasebank_file_is_the_one_described(shared_datasets: Path) -> None:
    rows = raw_phrasebank(shared_datasets)
    assert len(rows) == 2264  # wc -l
    assert Counter(r["label_text"] for r in rows) == {"neutral": 1391, "positive": 570, "negative": 303}


def test_phrasebank_classification_is_a_stratified_held_out_split(shared_datasets: Path) -> None:
    options = {"file": PHRASEBANK, "test_size": 0.3, "seed": 42}
    data = build("phrasebank_classification", options, shared_datasets)
    assert isinstance(data, ClassificationData)
    rows = raw_phrasebank(shared_datasets)
    distinct = {norm(r["text"]): r["label_text"] for r in rows}
    assert len(distinct) == 2259  # 5 repeated sentences, each repeated with the same label
    assert len(data.train_texts) + len(data.test_texts) == 2259
    assert len(data.test_texts) == math.ceil(2259 * 0.3) == 678
    assert not set(data.train_texts) & set(data.test_texts)  # no leakage
    assert len(set(data.train_texts)) == len(data.train_texts)
    for texts, labels in ((data.train_texts, data.train_labels), (data.test_texts, data.test_labels)):
        assert [distinct[t] for t in texts] == labels.tolist()
    totals = Counter(distinct.values())
    for label, n in Counter(data.test_labels.tolist()).items():
        assert abs(n - 0.3 * totals[label]) <= 1  # stratified
    again = build("phrasebank_classification", options, shared_datasets)
    assert again.test_texts == data.test_texts and again.train_texts == data.train_texts  # deterministic
    other = build("phrasebank_classification", {**options, "seed": 7}, shared_datasets)
    assert other.test_texts != data.test_texts  # the seed matters


def test_phrasebank_clustering_keeps_every_distinct_sentence(shared_datasets: Path) -> None:
    data = build("phrasebank_clustering", {"file": PHRASEBANK}, shared_datasets)
    assert isinstance(data, ClusteringData)
    assert len(data.texts) == len(set(data.texts)) == 2259
    assert Counter(data.labels.tolist()) == {"neutral": 1386, "positive": 570, "negative": 303}


def test_phrasebank_drops_sentences_with_conflicting_labels(tmp_path: Path) -> None:
    lines = [
        {"text": "Sales rose .", "label_text": "positive"},
        {"text": "Sales  rose .", "label_text": "positive"},
        {"text": "Profit fell .", "label_text": "negative"},
        {"text": "Profit fell .", "label_text": "neutral"},
        {"text": "The board met .", "label_text": "neutral"},
    ]
    (tmp_path / "fpb.jsonl").write_text("\n".join(json.dumps(r) for r in lines), encoding="utf-8")
    data = build("phrasebank_clustering", {"file": "fpb.jsonl"}, tmp_path)
    assert data.texts == ["Sales rose .", "The board met ."]
    assert data.labels.tolist() == ["positive", "neutral"]


# ---------------------------------------------------------------- TAT-QA shared


def test_linearise_table_one_line_per_row() -> None:
    rows = [["", "", "Years Ended", ""], ["", "2019", "2018"], ["Total  sales", "$1,496.5", " "], ["", "", ""]]
    assert linearise_table(rows) == "Years Ended\n2019 | 2018\nTotal sales | $1,496.5"


def expected_evidence(root: Path, name: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Hand-written: kept questions (text) and their evidence as {kind:uid -> text}."""
    contexts = raw_tatqa(root, name)
    counts = Counter(key(q["question"]) for c in contexts for q in c["questions"])
    queries, evidence = {}, {}
    for c in contexts:
        paragraphs = {str(p["order"]): p for p in c["paragraphs"]}
        for q in c["questions"]:
            if counts[key(q["question"])] > 1:
                continue
            docs = {}
            if q["answer_from"] in ("table", "table-text"):
                docs["table"] = c["table"]["uid"]
            for order in q["rel_paragraphs"]:
                docs[paragraphs[order]["uid"]] = norm(paragraphs[order]["text"])
            queries[q["uid"]] = q["question"]
            evidence[q["uid"]] = docs
    return queries, evidence


def test_tatqa_retrieval_construction(shared_datasets: Path) -> None:
    data = build("tatqa_retrieval", {"file": TATQA_TEST}, shared_datasets)
    assert isinstance(data, RetrievalData) and data.candidates is None
    contexts = raw_tatqa(shared_datasets, TATQA_TEST)
    assert len(contexts) == 277 and sum(len(c["questions"]) for c in contexts) == 1663
    distinct_paragraphs = {norm(p["text"]) for c in contexts for p in c["paragraphs"]}
    assert sum(len(c["paragraphs"]) for c in contexts) == 1279 and len(distinct_paragraphs) == 1248
    assert len(data.corpus) == 277 + 1248
    assert sum(d.startswith("t:") for d in data.corpus) == 277
    assert set(data.corpus.values()) >= distinct_paragraphs

    queries, evidence = expected_evidence(shared_datasets, TATQA_TEST)
    assert len(queries) == 1631  # 32 questions share their text with another question
    assert data.queries == {f"q:{uid}": norm(text) for uid, text in queries.items()}
    for uid, docs in evidence.items():
        got = data.qrels[f"q:{uid}"]
        # each evidence paragraph is present by its text (a repeated text is one document)
        assert sorted(data.corpus[d] for d in got if d.startswith("p:")) == sorted(set(t for k, t in docs.items() if k != "table"))
        tables = [d for d in got if d.startswith("t:")]
        assert tables == ([f"t:{docs['table']}"] if "table" in docs else [])
        assert set(got.values()) == {1}
    assert sum(len(v) for v in data.qrels.values()) == 2203


def test_tatqa_retrieval_no_query_without_relevant_document(shared_datasets: Path) -> None:
    for name in (TATQA_TEST, TATQA_DEV):
        data = build("tatqa_retrieval", {"file": name}, shared_datasets)
        assert set(data.qrels) == set(data.queries)
        assert all(data.qrels[q] for q in data.queries)
        assert {d for docs in data.qrels.values() for d in docs} <= set(data.corpus)
        assert len(set(data.corpus.values())) == len(data.corpus)  # no duplicate documents


def test_tatqa_first_dev_context_by_hand(shared_datasets: Path) -> None:
    """tatqa/dev.json[0]: a sales-by-contract-type table, paragraphs 1-2, questions 1-6."""
    data = build("tatqa_retrieval", {"file": TATQA_DEV}, shared_datasets)
    table, para2 = "t:3ffd9053-a45d-491c-957a-1b2fa0af0570", "p:79e37805-6558-4a8c-b033-32be6bffef48"
    assert data.corpus[table].splitlines()[:2] == ["Years Ended September 30,", "2019 | 2018 | 2017"]
    # "What is the company paid on a cost-plus type contract?": text, rel_paragraphs ["2"]
    assert data.qrels["q:23801627-ff77-4597-8d24-1c99e2452082"] == {para2: 1}
    # "What is the amount of total sales in 2019?": table-text, rel_paragraphs ["2"]
    assert data.qrels["q:4960801d-277d-4f79-8eca-c4d0200fa9d6"] == {table: 1, para2: 1}


def test_tatqa_reranking_candidates_are_the_own_report(shared_datasets: Path) -> None:
    data = build("tatqa_reranking", {"file": TATQA_TEST}, shared_datasets)
    retrieval = build("tatqa_retrieval", {"file": TATQA_TEST}, shared_datasets)
    assert data.candidates is not None and set(data.candidates) == set(data.queries) == set(data.qrels)
    contexts = raw_tatqa(shared_datasets, TATQA_TEST)
    report_texts = {}
    for c in contexts:
        texts = {norm(p["text"]) for p in c["paragraphs"]}
        for q in c["questions"]:
            report_texts[f"q:{q['uid']}"] = (c["table"]["uid"], texts)
    dropped = set(retrieval.queries) - set(data.queries)
    assert len(data.queries) == 1627 and len(dropped) == 4
    for qid in dropped:  # nothing to rank: every document of the report is evidence
        table_uid, texts = report_texts[qid]
        assert len(retrieval.qrels[qid]) == 1 + len(texts)
    for qid, candidates in data.candidates.items():
        table_uid, texts = report_texts[qid]
        assert candidates[0] == f"t:{table_uid}"
        assert {data.corpus[d] for d in candidates[1:]} == texts
        assert set(data.qrels[qid]) <= set(candidates)
        assert any(d not in data.qrels[qid] for d in candidates)
        assert data.qrels[qid] == retrieval.qrels[qid]
    assert sum(len(c) for c in data.candidates.values()) == 9152


def test_tatqa_pair_classification_hard_negatives_from_the_same_report(shared_datasets: Path) -> None:
    options = {"file": TATQA_TEST, "seed": 42, "negatives_per_positive": 1}
    data = build("tatqa_pair_classification", options, shared_datasets)
    assert isinstance(data, PairClassificationData)
    contexts = raw_tatqa(shared_datasets, TATQA_TEST)
    counts = Counter(key(q["question"]) for c in contexts for q in c["questions"])
    expected_positives, relevant, report_of = 0, {}, {}
    for c in contexts:
        texts = [norm(p["text"]) for p in c["paragraphs"]]
        by_order = {str(p["order"]): norm(p["text"]) for p in c["paragraphs"]}
        for q in c["questions"]:
            if counts[key(q["question"])] > 1 or not q["rel_paragraphs"]:
                continue
            positives = {by_order[o] for o in q["rel_paragraphs"]}
            if set(texts) - positives:
                expected_positives += len(positives)
                relevant[norm(q["question"])] = positives
                report_of[norm(q["question"])] = set(texts)
    labels = data.labels.tolist()
    assert labels.count(1) == expected_positives == 927
    assert labels.count(0) == 913
    for question, paragraph, label in zip(data.sentence1, data.sentence2, labels):
        assert paragraph in report_of[question]
        assert (paragraph in relevant[question]) == (label == 1)
    assert len(set(zip(data.sentence1, data.sentence2))) == len(labels)
    again = build("tatqa_pair_classification", options, shared_datasets)
    assert again.sentence2 == data.sentence2 and np.array_equal(again.labels, data.labels)
    other = build("tatqa_pair_classification", {**options, "seed": 1}, shared_datasets)
    assert other.sentence2 != data.sentence2 and other.labels.tolist().count(1) == 927


def test_tatqa_answer_type_classification_has_no_shared_text(shared_datasets: Path) -> None:
    data = build("tatqa_answer_type_classification", {"train_file": TATQA_DEV, "test_file": TATQA_TEST}, shared_datasets)
    dev = [q for c in raw_tatqa(shared_datasets, TATQA_DEV) for q in c["questions"]]
    test = [q for c in raw_tatqa(shared_datasets, TATQA_TEST) for q in c["questions"]]
    test_keys = {key(q["question"]) for q in test}
    kept = [q for q in dev if key(q["question"]) not in test_keys]
    assert len(dev) == 1668 and len(kept) == 1647 and len(test) == 1663
    assert data.train_labels.tolist() == [q["answer_type"] for q in kept]
    assert data.test_labels.tolist() == [q["answer_type"] for q in test]
    assert Counter(data.test_labels.tolist()) == {"span": 714, "arithmetic": 699, "multi-span": 210, "count": 40}
    assert not {key(t) for t in data.train_texts} & {key(t) for t in data.test_texts}


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("phrasebank_clustering", {"file": "nope.jsonl"}),
        ("tatqa_retrieval", {"file": "tatqa/nope.json"}),
        ("tatqa_answer_type_classification", {"train_file": "tatqa/nope.json", "test_file": "tatqa/test.json"}),
    ],
)
def test_missing_file_means_unavailable_not_broken(tmp_path: Path, name: str, options: dict[str, Any]) -> None:
    with pytest.raises(DataUnavailable, match=r"data\.builder_options\.\w+: .*not found"):
        build(name, options, tmp_path)
    with pytest.raises(DataUnavailable, match="needs a data root"):
        get_builder(name)(options, None)


def test_bad_options_and_malformed_files_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"data\.builder_options\.extra: unknown option"):
        build("tatqa_retrieval", {"file": "t.json", "extra": 1}, tmp_path)
    with pytest.raises(DataError, match=r"data\.builder_options\.file: expected a file name"):
        build("tatqa_retrieval", {"file": "../t.json"}, tmp_path)
    with pytest.raises(DataError, match=r"data\.builder_options\.seed: required"):
        build("tatqa_pair_classification", {"file": "t.json"}, tmp_path)
    bad = [{"table": {"uid": "t1", "table": [["a"]]}, "paragraphs": [{"uid": "p1", "order": 1, "text": "x"}],
            "questions": [{"uid": "q1", "question": "Why?", "answer_type": "span", "answer_from": "text", "rel_paragraphs": ["3"]}]}]
    (tmp_path / "t.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(DataError, match=r"t\.json: \[0\]\.questions\[0\]: rel_paragraphs names paragraph '3'"):
        build("tatqa_retrieval", {"file": "t.json"}, tmp_path)
