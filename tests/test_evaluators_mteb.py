"""Our evaluators against mteb 2.x's own task code, fed identical embeddings.

Each test builds an mteb task over a local ``datasets`` object (``data_loaded = True``), runs
``task.evaluate`` with a fake encoder that looks texts up in a fixed table, and compares every
metric mteb reports with ours (1e-6; 1e-5 for the retrieval means mteb rounds to 5 decimals).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

mteb = pytest.importorskip("mteb")

from _mteb_helpers import (  # noqa: E402
    ClassificationTask,
    PairsTask,
    SummarizationTask,
    assert_agree,
    clustering_task,
    exact_vector,
    hashed,
    metadata,
    retrieval_task,
    run_mteb,
    run_ours,
)
from datasets import Dataset, DatasetDict  # noqa: E402
from mteb.abstasks.sts import AbsTaskSTS  # noqa: E402

from harness.data import types  # noqa: E402
from harness.evaluators import get_evaluator  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


# ---------------------------------------------------------------- STS


class _STS(AbsTaskSTS):
    metadata = metadata("LocalSTS", "STS", "cosine_spearman")


def _sts_task(s1: list[str], s2: list[str], scores: list[float]) -> _STS:
    task = _STS()
    task.dataset = DatasetDict({"test": Dataset.from_dict({"sentence1": s1, "sentence2": s2, "score": scores})})
    return task


def _stsb(n: int | None = None) -> list[dict[str, Any]]:
    path = SHARED / "stsbenchmark" / "test.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return rows[:n] if n else rows


@pytest.mark.parametrize("similarity", ["cosine", "dot"])
def test_sts_stsbenchmark_matches_mteb(similarity: str) -> None:
    rows = _stsb()
    s1, s2, gold = [r["sentence1"] for r in rows], [r["sentence2"] for r in rows], [r["score"] for r in rows]
    table = {t: hashed(t) for t in s1 + s2}
    ours, _ = run_ours("sts", types.STSData(s1, s2, np.array(gold)), table, similarity)
    theirs = run_mteb(_sts_task(s1, s2, gold), table, similarity)
    assert_agree(ours.metrics, theirs, get_evaluator("sts").METRICS)
    assert ours.metrics["cosine_spearman"] == theirs["main_score"]


def test_sts_ties_match_mteb() -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(-2, 3, size=(6, 8)).astype(np.float32)  # few distinct vectors: many ties
    s1 = [f"a{i}" for i in range(60)]
    s2 = [f"b{i}" for i in range(60)]
    table = {t: base[rng.integers(6)] for t in s1 + s2}
    gold = rng.integers(0, 6, size=60).astype(float).tolist()
    ours, _ = run_ours("sts", types.STSData(s1, s2, np.array(gold)), table, "dot")
    theirs = run_mteb(_sts_task(s1, s2, gold), table, "dot")
    assert_agree(ours.metrics, theirs, get_evaluator("sts").METRICS)


# ---------------------------------------------------------------- pair classification


@pytest.mark.parametrize("similarity", ["cosine", "dot"])
def test_pair_classification_matches_mteb(similarity: str) -> None:
    rows = _stsb(600)
    s1, s2 = [r["sentence1"] for r in rows], [r["sentence2"] for r in rows]
    labels = [int(r["score"] >= 3.0) for r in rows]
    rng = np.random.default_rng(1)
    table = {t: hashed(t, 8) for t in s1 + s2}
    for t in rng.choice(s2, 40, replace=False):  # exact ties between pairs
        table[t] = np.ones(8, np.float32)
    task = PairsTask()
    task.dataset = DatasetDict({"test": Dataset.from_dict({"sentence1": s1, "sentence2": s2, "labels": labels})})
    ours, _ = run_ours("pair_classification", types.PairClassificationData(s1, s2, np.array(labels)), table, similarity)
    theirs = run_mteb(task, table, similarity)
    assert_agree(ours.metrics, theirs, get_evaluator("pair_classification").METRICS)


# ---------------------------------------------------------------- classification


def _classification_case(train: tuple[list[str], list[Any]], test: tuple[list[str], list[Any]], table, **opts):
    task = ClassificationTask()
    for key, value in opts.items():
        setattr(task, key, value)
    task.dataset = DatasetDict(
        {
            "train": Dataset.from_dict({"text": train[0], "label": train[1]}),
            "test": Dataset.from_dict({"text": test[0], "label": test[1]}),
        }
    )
    data = types.ClassificationData(train[0], np.array(train[1]), test[0], np.array(test[1]))
    ours, groups = run_ours("classification", data, table, "cosine", **opts)
    theirs = run_mteb(task, table, "cosine")
    return ours, theirs, groups


def test_classification_phrasebank_matches_mteb() -> None:
    path = SHARED / "financial_phrasebank" / "allagree.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    texts, labels = [r["text"] for r in rows], [r["label_text"] for r in rows]  # string labels
    table = {t: hashed(t, 16) for t in texts}
    ours, theirs, groups = _classification_case((texts[:1600], labels[:1600]), (texts[1600:], labels[1600:]), table)
    assert_agree(ours.metrics, theirs, get_evaluator("classification").METRICS)
    assert "ap" not in ours.metrics  # three classes: mteb reports NaN
    # only the union of the undersampled training texts is embedded
    assert len(groups["train"].texts) < 10 * 8 * 3
    per_run = [s["accuracy"] for s in theirs["scores_per_experiment"]]
    np.testing.assert_allclose(ours.items["correct"].mean(axis=1), per_run, atol=1e-12)


@pytest.mark.parametrize("samples_per_label", [8, 16])
def test_classification_binary_imbalanced_matches_mteb(samples_per_label: int) -> None:
    rng = np.random.default_rng(2)
    n = 400
    labels = (rng.random(n) < 0.15).astype(int).tolist()  # imbalanced
    texts = [f"t{i}" for i in range(n)]
    table = {t: (rng.standard_normal(6) + 1.5 * y).astype(np.float32) for t, y in zip(texts, labels)}
    ours, theirs, _ = _classification_case(
        (texts[:250], labels[:250]), (texts[250:], labels[250:]), table, samples_per_label=samples_per_label
    )
    assert_agree(ours.metrics, theirs, get_evaluator("classification").METRICS)
    assert "ap" in ours.metrics


# ---------------------------------------------------------------- clustering


def _clustering_data(n: int, k: int, seed: int = 3) -> tuple[list[str], list[int], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, size=n).tolist()
    centers = rng.standard_normal((k, 8)) * 3
    texts = [f"doc{i}" for i in range(n)]
    table = {t: (centers[y] + rng.standard_normal(8)).astype(np.float32) for t, y in zip(texts, labels)}
    return texts, labels, table


@pytest.mark.usefixtures("one_openmp_thread")
def test_clustering_default_protocol_matches_mteb_first_run() -> None:
    texts, labels, table = _clustering_data(1000, 6)
    task = clustering_task(texts, labels)
    data = types.ClusteringData(texts, np.array(labels))
    ours, groups = run_ours("clustering", data, table, "cosine")
    theirs = run_mteb(task, table, "cosine")
    assert len(groups["texts"].texts) == 40  # int(0.04 * 1000)
    assert_agree(ours.metrics, theirs, get_evaluator("clustering").METRICS)
    np.testing.assert_allclose(ours.items["v_measures"], theirs["v_measures"]["Level 0"], atol=1e-12)
    # mteb's task-level random.Random is not reset: a second run samples other documents;
    # ours is a pure function of the seed and always equals mteb's first run.
    again = run_mteb(task, table, "cosine")
    assert again["v_measure"] != theirs["v_measure"]
    ours_again, _ = run_ours("clustering", data, table, "cosine")
    assert ours_again.metrics == ours.metrics


@pytest.mark.usefixtures("one_openmp_thread")
def test_clustering_all_documents_and_single_class_match_mteb() -> None:
    texts, labels, table = _clustering_data(300, 4, seed=4)
    opts = dict(max_fraction_of_documents_to_embed=None, max_documents_per_cluster=700, n_clusters=4)
    data = types.ClusteringData(texts, np.array(labels))
    ours, _ = run_ours("clustering", data, table, "cosine", **opts)
    theirs = run_mteb(clustering_task(texts, labels, **opts), table, "cosine")
    assert_agree(ours.metrics, theirs, get_evaluator("clustering").METRICS)
    single = [0] * len(texts)
    ours, _ = run_ours("clustering", types.ClusteringData(texts, np.array(single)), table, "cosine", **opts)
    theirs = run_mteb(clustering_task(texts, single, **opts), table, "cosine")
    assert_agree(ours.metrics, theirs, get_evaluator("clustering").METRICS)
    assert ours.metrics["v_measure"] == 1.0


# ---------------------------------------------------------------- retrieval & reranking


def _tie_heavy_retrieval(seed: int = 5, n_docs: int = 300, n_q: int = 40, id_as_query: bool = False):
    """Vectors with 4 entries of +-1 (norm 2): every cosine and dot is exact, ties abound."""
    rng = np.random.default_rng(seed)
    vec = lambda: exact_vector(rng, 16)  # noqa: E731
    corpus = {f"d{i:03d}": f"doc text {i}" for i in range(n_docs)}
    queries = {(f"d{i:03d}" if id_as_query and i % 2 else f"q{i}"): f"query text {i}" for i in range(n_q)}
    queries["unjudged"] = "a query without qrels"
    table = {t: vec() for t in list(corpus.values()) + list(queries.values())}
    qrels: dict[str, dict[str, int]] = {}
    for j, qid in enumerate(q for q in queries if q != "unjudged"):
        docs = rng.choice(list(corpus), size=int(rng.integers(1, 6)), replace=False)
        qrels[qid] = {d: int(rng.integers(0, 3)) for d in docs}  # graded, some 0
        if j == 0:
            qrels[qid] = {docs[0]: 0}  # only a non-relevant judgement: scores 0
        if j == 1:
            qrels[qid]["not_in_corpus"] = 2  # counts in recall and ideal DCG
        if id_as_query and qid in corpus:
            qrels[qid][qid] = 1
            table[corpus[qid]] = table[queries[qid]]  # the identical-id doc is the top hit
    qrels["empty"] = {}
    return types.RetrievalData(corpus, queries, qrels), table


@pytest.mark.parametrize("similarity", ["cosine", "dot"])
def test_retrieval_ties_graded_match_mteb(similarity: str) -> None:
    data, table = _tie_heavy_retrieval()
    ours, groups = run_ours("retrieval", data, table, similarity)
    theirs = run_mteb(retrieval_task(data), table, similarity)
    assert "unjudged" not in groups["queries"].texts
    assert_agree(ours.metrics, theirs, get_evaluator("retrieval").METRICS, rounded=True)


def test_retrieval_ignore_identical_ids_matches_mteb() -> None:
    data, table = _tie_heavy_retrieval(seed=6, id_as_query=True)
    ours, _ = run_ours("retrieval", data, table, "cosine", ignore_identical_ids=True)
    theirs = run_mteb(retrieval_task(data, ignore_identical_ids=True), table, "cosine")
    assert_agree(ours.metrics, theirs, get_evaluator("retrieval").METRICS, rounded=True)
    kept, _ = run_ours("retrieval", data, table, "cosine")
    assert kept.metrics["ndcg_at_10"] != ours.metrics["ndcg_at_10"]


def test_retrieval_topk_cut_and_skip_first_match_mteb() -> None:
    """Random float vectors (no ties), corpus larger than the run: k < n_docs."""
    rng = np.random.default_rng(7)
    corpus = {f"d{i}": f"doc {i}" for i in range(400)}
    queries = {f"q{i}": f"query {i}" for i in range(30)}
    table = {t: rng.standard_normal(12).astype(np.float32) for t in [*corpus.values(), *queries.values()]}
    qrels = {q: {f"d{j}": int(rng.integers(1, 3)) for j in rng.choice(400, 4, replace=False)} for q in queries}
    data = types.RetrievalData(corpus, queries, qrels)
    attrs = {"k_values": (1, 2, 5, 10, 30), "skip_first_result": True}
    ours, _ = run_ours("retrieval", data, table, "dot", **attrs, max_chunk_scores=1000)
    theirs = run_mteb(retrieval_task(data, **attrs), table, "dot")
    names = get_evaluator("retrieval").reported_metrics(attrs["k_values"])
    assert_agree(ours.metrics, theirs, names, rounded=True)


@pytest.mark.parametrize("similarity", ["cosine", "dot"])
def test_reranking_matches_mteb(similarity: str) -> None:
    data, table = _tie_heavy_retrieval(seed=8, n_docs=200)
    rng = np.random.default_rng(9)
    candidates = {}
    for i, (qid, docs) in enumerate(data.qrels.items()):
        if i == 3 or qid == "empty":
            continue  # a judged query without candidates: empty run
        extra = rng.choice(list(data.corpus), 15, replace=False).tolist()
        candidates[qid] = list(dict.fromkeys([d for d in docs if d in data.corpus] + extra))
    data.candidates = candidates
    ours, groups = run_ours("reranking", data, table, similarity)
    theirs = run_mteb(retrieval_task(data), table, similarity)
    assert len(groups["corpus"].texts) < len(data.corpus)  # only candidates are embedded
    assert_agree(ours.metrics, theirs, get_evaluator("reranking").METRICS, rounded=True)
    assert ours.metrics["map_at_1000"] == pytest.approx(theirs["map_at_1000"], abs=1e-5)


# ---------------------------------------------------------------- summarization


@pytest.mark.parametrize("similarity", ["cosine", "dot"])
def test_summarization_matches_mteb(similarity: str) -> None:
    rng = np.random.default_rng(10)
    human, machine, relevance = [], [], []
    for i in range(24):
        human.append([f"h{i}_{j}" for j in range(int(rng.integers(1, 4)))])
        m = int(rng.choice([5, 8]))
        machine.append([f"m{i}_{j}" for j in range(m)])
        relevance.append(rng.integers(1, 5, size=m).astype(float).tolist())  # ties in gold
    relevance[0] = [3.0] * len(machine[0])  # constant gold: skipped
    table = {t: exact_vector(rng, 8) for g in human + machine for t in g}  # ties, exact cosines
    for t in machine[1]:
        table[t] = table[human[1][0]]  # constant predictions: skipped
    task = SummarizationTask()
    task.dataset = DatasetDict(
        {
            "test": Dataset.from_dict(
                {
                    "text": [f"text {i}" for i in range(24)],
                    "human_summaries": human,
                    "machine_summaries": machine,
                    "relevance": relevance,
                }
            )
        }
    )
    ours, _ = run_ours("summarization", types.SummarizationData(human, machine, relevance), table, similarity)
    theirs = run_mteb(task, table, similarity)
    assert_agree(ours.metrics, theirs, get_evaluator("summarization").METRICS)
    assert not ours.items["included"][:2].any()
