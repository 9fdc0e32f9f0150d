"""Parity with mteb 2.x on REAL data with REAL embeddings (all-MiniLM-L6-v2, alias ``minilm-l6``).

For each of the seven task types, real task data from ``../shared/datasets`` (loaded through the
harness's own loaders, specs and builders) is embedded once per module with ``minilm-l6``; the
same vectors go to our evaluator and to mteb's own evaluation (mteb's task classes, evaluate()
with an encoder that looks the vectors up), and every metric both report must agree within 1e-6
(1e-5 for the retrieval means mteb rounds to 5 decimals).

Data: STSBenchmark, STS13, STS15 (sts, with mteb's own task classes); Financial PhraseBank
(classification, clustering in both protocols); TAT-QA (pair classification, retrieval, reranking,
via the finance builders); STS Benchmark pairs grouped into texts with human scores
(summarization). Retrieval is also checked against pytrec_eval directly, per query, with exact
score ties and queries without relevance judgements. Clustering's non-determinism in mteb (its
random.Random is not reset between evaluations) is pinned down in a fresh process.

The synthetic-data comparisons of the same evaluators are in ``test_evaluators_mteb.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

mteb = pytest.importorskip("mteb")
pytrec_eval = pytest.importorskip("pytrec_eval")

from _mteb_helpers import (  # noqa: E402
    ClassificationTask,
    PairsTask,
    SummarizationTask,
    assert_agree,
    clustering_task,
    retrieval_task,
    run_mteb,
    run_ours,
)
from datasets import Dataset, DatasetDict  # noqa: E402

from harness.data import load_task_data, types  # noqa: E402
from harness.evaluators import get_evaluator  # noqa: E402
from harness.registry import discover_specs  # noqa: E402

TESTS = Path(__file__).resolve().parent
STS_TASKS = ("STSBenchmark", "STS13", "STS15")
FINANCE_TASKS = (
    "FinancialPhraseBankAllAgreeClassification",
    "FinancialPhraseBankAllAgreeClustering",
    "TATQAParagraphPairClassification",
    "TATQAEvidenceRetrieval",
    "TATQAEvidenceReranking",
)
LEGACY_SETS = 4  # the PhraseBank sentences cut into this many sets for the legacy protocol
# Pairs used per STS task (None: all). Encoding dominates this module's time (~15k texts in
# all); STS13 and STS15 are cut to their first 500 pairs, the reproduce test scores them whole.
STS_PAIRS = {"STSBenchmark": None, "STS13": 500, "STS15": 500}


@pytest.fixture(scope="module")
def specs() -> dict[str, Any]:
    return discover_specs()


@pytest.fixture(scope="module")
def real(shared_datasets: Path, specs: dict[str, Any]) -> dict[str, Any]:
    """Task data of every case, loaded by the harness from ../shared/datasets."""
    data = {name: load_task_data(specs[name], shared_datasets) for name in (*STS_TASKS, *FINANCE_TASKS)}
    for name, n in STS_PAIRS.items():
        sts = data[name]
        data[name] = types.STSData(sts.sentence1[:n], sts.sentence2[:n], sts.scores[:n])
    return data


def summarization_case(sts: types.STSData, n_texts: int = 40, per_text: int = 8) -> types.SummarizationData:
    """Real text with human scores, as summarization: per "text", the sentence1s of
    ``per_text`` consecutive STS Benchmark pairs are the human summaries and their sentence2s the
    machine summaries, scored by the pairs' gold similarity (ties in gold included).

    A pair whose machine summary is also one of its text's human summaries is left out: its best
    cosine is 1 in exact arithmetic but 1 or 1 - 2**-24 in float32, differently in mteb's torch
    code and in ours, so two of them in one text tie on one side only (a tie of rounding, not of
    the data), which moves that text's Spearman over 8 items by up to 0.1.
    """
    human, machine, relevance = [], [], []
    for i in range(n_texts):
        part = slice(i * per_text, (i + 1) * per_text)
        heads = list(sts.sentence1[part])
        kept = [(b, float(y)) for b, y in zip(sts.sentence2[part], sts.scores[part]) if b not in heads]
        human.append(heads)
        machine.append([b for b, _ in kept])
        relevance.append([y for _, y in kept])
    return types.SummarizationData(human, machine, relevance)


def with_unjudged(data: types.RetrievalData) -> types.RetrievalData:
    """TAT-QA retrieval where one query lost its judgements (mteb drops it: never embedded, not
    in the mean) and one keeps only a grade-0 judgement (kept: scores 0, counts in the mean)."""
    qrels = {q: dict(d) for q, d in data.qrels.items()}
    qids = list(qrels)
    qrels[qids[1]] = {}
    qrels[qids[2]] = {next(iter(qrels[qids[2]])): 0}
    return types.RetrievalData(dict(data.corpus), dict(data.queries), qrels, None)


def with_twins(data: types.RetrievalData, every: int = 5) -> types.RetrievalData:
    """Exact score ties: every ``every``-th judged query's first judged document gets a twin
    (same text, id ``<id>~twin``, which sorts after the original, so trec_eval ranks the twin
    first among equal scores); for every other one of those queries the twin, not the original,
    is the relevant one, so the order of the tie moves that query's metrics."""
    corpus, qrels = dict(data.corpus), {q: dict(d) for q, d in data.qrels.items()}
    for i, (qid, docs) in enumerate(list(qrels.items())):
        if i % every or not docs:
            continue
        doc = next(iter(docs))
        corpus[f"{doc}~twin"] = corpus[doc]
        if i % (2 * every) == 0:
            qrels[qid] = {**{d: g for d, g in docs.items() if d != doc}, f"{doc}~twin": docs[doc]}
    return types.RetrievalData(corpus, dict(data.queries), qrels, None)


def exact(table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The vectors rounded to multiples of 2**-10. all-MiniLM-L6-v2 vectors have unit norm, so
    every partial sum of a dot product is a multiple of 2**-20 below 1 in magnitude: exact in
    float32 whatever the summation order (numpy's or torch's GEMM kernels). Twins then score
    exactly alike; unrounded, a GEMM may give two columns with equal inputs different last bits,
    and which twin comes first would be rounding noise, not tie-breaking."""
    return {t: (np.round(v.astype(np.float64) * 1024) / 1024).astype(np.float32) for t, v in table.items()}


def legacy_rows(data: types.ClusteringData) -> list[dict[str, list[Any]]]:
    """The PhraseBank sentences in mteb's hub layout for legacy clustering: one row per set."""
    bounds = np.linspace(0, len(data.texts), LEGACY_SETS + 1).astype(int)
    return [
        {"sentences": data.texts[a:b], "labels": data.labels[a:b].tolist()} for a, b in zip(bounds[:-1], bounds[1:])
    ]


@pytest.fixture(scope="module")
def table(real: dict[str, Any], specs: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """text -> all-MiniLM-L6-v2 vector for every text any case embeds, encoded once.

    Through the harness's one encode path, into an embedding cache of this module's own: the
    session's cache is left as it was, so no later test depends on this one having run.
    """
    from harness.cache import EmbeddingCache
    from harness.encode import encode_groups
    from harness.evaluators.base import TextGroup
    from harness.models import load_model

    texts: dict[str, None] = {}
    for name, data in real.items():
        spec = specs[name]
        module = get_evaluator(spec.type)
        for group in module.text_groups(data, spec.evaluator_options()).values():
            texts.update(dict.fromkeys(group.texts))
    # the derived cases reuse texts that are already there (twins, sets, summaries)
    model = load_model("minilm-l6")
    cache = EmbeddingCache(tmp_path_factory.mktemp("parity_real_cache"))
    try:
        vectors, _ = encode_groups(model, {"all": TextGroup(list(texts))}, task=specs["STSBenchmark"], batch_size=64, cache=cache)
    finally:
        cache.close()
    return dict(zip(texts, vectors["all"]))


def _options(spec: Any) -> dict[str, Any]:
    return dict(spec.options)


# ---------------------------------------------------------------- sts


@pytest.mark.parametrize("name", STS_TASKS)
def test_sts_real_embeddings_match_mteb_task(name: str, real, specs, table) -> None:
    data = real[name]
    task = mteb.get_task(name)  # mteb's own class: its min/max score and main score
    task.dataset = DatasetDict(
        {"test": Dataset.from_dict({"sentence1": data.sentence1, "sentence2": data.sentence2, "score": data.scores.tolist()})}
    )
    theirs = run_mteb(task, table, "cosine")
    ours, _ = run_ours("sts", data, table, "cosine", **_options(specs[name]))
    assert_agree(ours.metrics, theirs, get_evaluator("sts").METRICS)
    assert ours.metrics[specs[name].main_score] == pytest.approx(theirs["main_score"], abs=1e-6)


# ---------------------------------------------------------------- classification


def test_classification_phrasebank_real_embeddings_match_mteb(real, specs, table) -> None:
    name = "FinancialPhraseBankAllAgreeClassification"
    data, options = real[name], _options(specs[name])
    task = ClassificationTask()
    for key, value in options.items():
        setattr(task, key, value)
    task.dataset = DatasetDict(
        {
            "train": Dataset.from_dict({"text": data.train_texts, "label": data.train_labels.tolist()}),
            "test": Dataset.from_dict({"text": data.test_texts, "label": data.test_labels.tolist()}),
        }
    )
    theirs = run_mteb(task, table, "cosine")
    ours, _ = run_ours("classification", data, table, "cosine", **options)
    assert_agree(ours.metrics, theirs, get_evaluator("classification").METRICS)
    per_run = [s["accuracy"] for s in theirs["scores_per_experiment"]]
    np.testing.assert_allclose(ours.items["correct"].mean(axis=1), per_run, atol=1e-12)  # same seeds, same samples


# ---------------------------------------------------------------- clustering


@pytest.mark.usefixtures("one_openmp_thread")
def test_clustering_phrasebank_real_embeddings_match_mteb(real, specs, table) -> None:
    name = "FinancialPhraseBankAllAgreeClustering"
    data, options = real[name], _options(specs[name])
    theirs = run_mteb(clustering_task(data.texts, data.labels.tolist(), **options), table, "cosine")
    ours, _ = run_ours("clustering", data, table, "cosine", **options)
    assert_agree(ours.metrics, theirs, get_evaluator("clustering").METRICS)
    np.testing.assert_allclose(ours.items["v_measures"], theirs["v_measures"]["Level 0"], atol=1e-12)


_FRESH_PROCESS = r"""
import json, os, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from threadpoolctl import threadpool_limits
from _mteb_helpers import clustering_task, run_mteb
saved = np.load(sys.argv[2])
texts = [str(t) for t in saved["texts"]]
table = dict(zip(texts, saved["vectors"]))
options = json.loads(sys.argv[3])
task = clustering_task(texts, [str(x) for x in saved["labels"]], **options)
with threadpool_limits(1, user_api="openmp"):
    first = run_mteb(task, table, "cosine")["v_measure"]
    second = run_mteb(task, table, "cosine")["v_measure"]
print(json.dumps({"first": first, "second": second}))
"""


@pytest.mark.slow
@pytest.mark.usefixtures("one_openmp_thread")
def test_clustering_equals_mteb_first_run_in_a_fresh_process(real, specs, table, tmp_path: Path) -> None:
    """mteb keeps one random.Random per task object and never resets it: a second evaluation
    with the same task object draws other bootstrap samples. Ours rebuilds the generator from
    the seed on every call, so it equals mteb's FIRST evaluation in a fresh process (no state
    carried over from anything else that ran in this test session)."""
    name = "FinancialPhraseBankAllAgreeClustering"
    data, options = real[name], _options(specs[name])
    saved = tmp_path / "phrasebank.npz"
    np.savez(saved, texts=np.array(data.texts), labels=data.labels.astype(str), vectors=np.stack([table[t] for t in data.texts]))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MTEB_CACHE": str(tmp_path / "mteb_cache"), "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS, str(TESTS), str(saved), json.dumps(options)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    runs = json.loads(done.stdout.strip().splitlines()[-1])
    ours, _ = run_ours("clustering", data, table, "cosine", **options)
    again, _ = run_ours("clustering", data, table, "cosine", **options)
    assert ours.metrics["v_measure"] == pytest.approx(runs["first"], abs=1e-9)
    assert runs["second"] != runs["first"]  # mteb's second run on the same task object differs
    assert again.metrics == ours.metrics  # ours does not


@pytest.mark.usefixtures("one_openmp_thread")
def test_legacy_clustering_real_embeddings_match_mteb_task(real, table) -> None:
    """The legacy protocol (one k-means per hub row) against mteb's TwentyNewsgroupsClustering
    class itself (AbsTaskClusteringLegacy), on PhraseBank sentences cut into sets."""
    from harness.data import rows as row_tasks

    rows = legacy_rows(real["FinancialPhraseBankAllAgreeClustering"])
    task = mteb.get_task("TwentyNewsgroupsClustering")
    task.dataset = DatasetDict({"test": Dataset.from_dict({k: [r[k] for r in rows] for k in ("sentences", "labels")})})
    theirs = run_mteb(task, table, "cosine")
    data = row_tasks.clustering(row_tasks.RowSplits(rows, Path("test.jsonl"), "test", {"text": "sentences", "label": "labels"}))
    ours, _ = run_ours("clustering", data, table, "cosine", protocol="legacy")
    assert set(ours.metrics) == {"v_measure", "v_measure_std"}
    assert_agree(ours.metrics, theirs, get_evaluator("clustering").METRICS)
    np.testing.assert_allclose(ours.items["v_measures"], theirs["v_measures"], atol=1e-12)


# ---------------------------------------------------------------- pair classification


def test_pair_classification_tatqa_real_embeddings_match_mteb(real, table) -> None:
    data = real["TATQAParagraphPairClassification"]
    task = PairsTask()
    task.dataset = DatasetDict(
        {"test": Dataset.from_dict({"sentence1": data.sentence1, "sentence2": data.sentence2, "labels": data.labels.tolist()})}
    )
    theirs = run_mteb(task, table, "cosine")
    ours, _ = run_ours("pair_classification", data, table, "cosine")
    assert_agree(ours.metrics, theirs, get_evaluator("pair_classification").METRICS)


# ---------------------------------------------------------------- retrieval and reranking


def test_retrieval_tatqa_real_embeddings_match_mteb(real, table) -> None:
    data = with_unjudged(real["TATQAEvidenceRetrieval"])
    theirs = run_mteb(retrieval_task(data), table, "cosine")
    ours, groups = run_ours("retrieval", data, table, "cosine")
    assert len(groups["queries"].texts) == len(data.qrels) - 1  # the unjudged query is not embedded
    assert_agree(ours.metrics, theirs, get_evaluator("retrieval").METRICS, rounded=True)


def test_retrieval_ties_match_mteb(real, table) -> None:
    data = with_twins(real["TATQAEvidenceRetrieval"])
    table = exact(table)
    theirs = run_mteb(retrieval_task(data), table, "dot")
    ours, _ = run_ours("retrieval", data, table, "dot")
    assert_agree(ours.metrics, theirs, get_evaluator("retrieval").METRICS, rounded=True)


def _trec_run(data: types.RetrievalData, qids: list[str], table: dict[str, np.ndarray], k: int = 1000) -> dict[str, dict[str, float]]:
    """pytrec_eval's input: each query's top ``k`` documents by dot product, with their scores."""
    doc_ids = list(data.corpus)
    q = np.stack([table[data.queries[x]] for x in qids])
    d = np.stack([table[data.corpus[x]] for x in doc_ids])
    scores = (q.astype(np.float64) @ d.T.astype(np.float64))  # exact for the rounded vectors
    run = {}
    for i, qid in enumerate(qids):
        top = np.argsort(-scores[i], kind="stable")[:k]
        run[qid] = {doc_ids[j]: float(scores[i, j]) for j in top}
    return run


def test_retrieval_tatqa_matches_pytrec_eval_per_query(real, table) -> None:
    """Per query, our metrics equal trec_eval's (pytrec_eval) on a run of the same scores.

    Ties: twins (identical text, exactly equal scores) are ranked by trec_eval by document id,
    descending, and so by us; where one twin is the only relevant document, the query's values
    depend on that order. The run passed to pytrec_eval holds all tied documents, so its order
    is trec_eval's own. Unjudged queries: a query with no judgement is not scored; one with only
    grade-0 judgements is scored 0 and counts in the mean. pytrec_eval returns nothing for a
    query absent from the run, so a mean over its output alone would skip such a query; ours
    averages over every judged query.
    """
    data = with_unjudged(with_twins(real["TATQAEvidenceRetrieval"]))
    table = exact(table)
    ours, _ = run_ours("retrieval", data, table, "dot")
    qids = [str(q) for q in ours.items["query_ids"]]
    judged = [q for q, docs in data.qrels.items() if docs]
    assert sorted(qids) == sorted(judged) and len(qids) == len(data.qrels) - 1
    assert sum(doc.endswith("~twin") for qid in qids for doc in data.qrels[qid]) > 10
    run = _trec_run(data, qids, table)
    measures = {"ndcg_cut.10", "ndcg_cut.100", "map_cut.1000", "recall.100", "P.10", "recip_rank"}
    evaluator = pytrec_eval.RelevanceEvaluator({k: v for k, v in data.qrels.items() if v}, measures)
    trec = evaluator.evaluate(run)
    names = [str(n) for n in ours.items["metric_names"]]
    values = ours.items["values"]
    pairs = {
        "ndcg_cut_10": "ndcg_at_10",
        "ndcg_cut_100": "ndcg_at_100",
        "map_cut_1000": "map_at_1000",
        "recall_100": "recall_at_100",
        "P_10": "precision_at_10",
        "recip_rank": "mrr_at_1000",  # trec_eval's recip_rank has no cutoff; 1000 covers the run
    }
    for i, qid in enumerate(qids):
        for trec_name, our_name in pairs.items():
            assert values[i, names.index(our_name)] == pytest.approx(trec[qid][trec_name], abs=1e-9), (qid, our_name)
    zero = [q for q, docs in data.qrels.items() if docs and max(docs.values()) <= 0]
    assert zero and all(trec[q]["ndcg_cut_10"] == 0.0 for q in zero)
    assert ours.metrics["ndcg_at_10"] == pytest.approx(np.mean([trec[q]["ndcg_cut_10"] for q in qids]), abs=1e-12)
    partial = pytrec_eval.RelevanceEvaluator({k: v for k, v in data.qrels.items() if v}, {"ndcg_cut.10"}).evaluate(
        {k: v for k, v in run.items() if k != qids[0]}
    )
    assert qids[0] not in partial and len(partial) == len(qids) - 1  # omitted, not scored 0


def test_reranking_tatqa_real_embeddings_match_mteb(real, table) -> None:
    data = real["TATQAEvidenceReranking"]
    theirs = run_mteb(retrieval_task(data), table, "cosine")
    ours, _ = run_ours("reranking", data, table, "cosine")
    assert_agree(ours.metrics, theirs, get_evaluator("reranking").METRICS, rounded=True)
    assert ours.metrics["map_at_1000"] == pytest.approx(theirs["map_at_1000"], abs=1e-5)  # the main score of mteb's reranking tasks


# ---------------------------------------------------------------- summarization


def test_summarization_real_text_matches_mteb(real, table) -> None:
    data = summarization_case(real["STSBenchmark"])
    task = SummarizationTask()
    task.dataset = DatasetDict(
        {
            "test": Dataset.from_dict(
                {
                    "text": [f"text {i}" for i in range(len(data.human_summaries))],
                    "human_summaries": data.human_summaries,
                    "machine_summaries": data.machine_summaries,
                    "relevance": data.relevance,
                }
            )
        }
    )
    theirs = run_mteb(task, table, "cosine")
    ours, _ = run_ours("summarization", data, table, "cosine")
    assert ours.items["included"].sum() >= 30
    assert_agree(ours.metrics, theirs, get_evaluator("summarization").METRICS)
