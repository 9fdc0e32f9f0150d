"""The mteb-eng specs load and score their data exactly as mteb 2.x's own task classes do.

For every task of ``tasks/mteb-eng`` (the tasks of ``references/mteb_paper_eng.yaml``), synthetic
rows are written in the task's local layout under a temporary data root, loaded through the spec
(``harness.data.load_task_data``) and scored by our evaluator with the spec's options; the same
rows go to mteb's class for that task (``mteb.get_task(name)``, with its own ``dataset_transform``
or old-format conversion), scored with the same vectors. Every metric must agree.

This pins down the data handling each spec reproduces: STS columns; Banking77's train/test
columns and undersampling; TwentyNewsgroupsClustering's legacy protocol (one k-means per hub
row); SciFact/NFCorpus's BEIR layout (title joining, unjudged queries, graded and grade-0
judgements); AskUbuntuDupQuestions's old row format (dropped rows, one document per candidate,
ids that order ties); SprintDuplicateQuestions's ``sent1``/``sent2`` hub columns.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MTEB_CACHE", tempfile.mkdtemp(prefix="mteb_cache_"))
mteb = pytest.importorskip("mteb")

from datasets import Dataset, DatasetDict  # noqa: E402
from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData  # noqa: E402
from _mteb_helpers import assert_agree, exact_vector, hashed, run_mteb, run_ours  # noqa: E402

from harness.data import load_task_data  # noqa: E402
from harness.errors import DataError  # noqa: E402
from harness.evaluators import get_evaluator  # noqa: E402
from harness.registry import discover_specs  # noqa: E402

STS = ("STSBenchmark", "SICK-R", "STS12", "STS13", "STS14", "STS15", "STS16")


@pytest.fixture(scope="module")
def specs() -> dict[str, Any]:
    return discover_specs()


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def ours_from_spec(spec: Any, root: Path, table: dict[str, np.ndarray], similarity: str = "cosine"):
    data = load_task_data(spec, root)
    out, groups = run_ours(spec.type, data, table, similarity, **spec.options)
    return out, groups, data


# ---------------------------------------------------------------- STS


@pytest.mark.parametrize("name", STS)
def test_sts_specs_match_mteb_tasks(name: str, specs, tmp_path: Path) -> None:
    rng = np.random.default_rng(len(name))
    rows = [{"sentence1": f"{name} left {i}", "sentence2": f"{name} right {i}", "score": float(rng.integers(0, 26)) / 5} for i in range(150)]
    write_jsonl(tmp_path / specs[name].data.local / "test.jsonl", rows)
    table = {t: hashed(t) for r in rows for t in (r["sentence1"], r["sentence2"])}
    ours, _, _ = ours_from_spec(specs[name], tmp_path, table)
    task = mteb.get_task(name)
    task.dataset = DatasetDict({"test": Dataset.from_list(rows)})
    theirs = run_mteb(task, table, "cosine")
    assert_agree(ours.metrics, theirs, get_evaluator("sts").METRICS)
    assert specs[name].main_score == task.metadata.main_score


# ---------------------------------------------------------------- Banking77


def test_banking77_spec_matches_mteb_task(specs, tmp_path: Path) -> None:
    """Columns text / label / label_text as on the hub; mteb reads ``label``. 12 intents,
    imbalanced, so the 8-per-label undersampling and its carried-over shuffles matter."""
    rng = np.random.default_rng(77)
    names = [f"intent_{k}" for k in range(12)]
    centers = rng.standard_normal((12, 16))

    def split(n: int, prefix: str) -> list[dict[str, Any]]:
        labels = rng.choice(12, size=n, p=np.arange(1, 13) / 78)
        return [{"text": f"{prefix} query {i}", "label": int(y), "label_text": names[y]} for i, y in enumerate(labels)]

    train, test = split(600, "train"), split(200, "test")
    spec = specs["Banking77Classification"]
    write_jsonl(tmp_path / "banking77" / "train.jsonl", train)
    write_jsonl(tmp_path / "banking77" / "test.jsonl", test)
    table = {r["text"]: (centers[r["label"]] + 1.5 * hashed(r["text"], 16)).astype(np.float32) for r in train + test}
    ours, groups, _ = ours_from_spec(spec, tmp_path, table)
    task = mteb.get_task("Banking77Classification")
    task.dataset = DatasetDict({"train": Dataset.from_list(train), "test": Dataset.from_list(test)})
    theirs = run_mteb(task, table, "cosine")
    assert_agree(ours.metrics, theirs, get_evaluator("classification").METRICS)
    assert len(groups["train"].texts) < 10 * 8 * 12  # only the union of the samples is embedded


# ---------------------------------------------------------------- TwentyNewsgroupsClustering


@pytest.fixture
def one_openmp_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.mark.usefixtures("one_openmp_thread")
def test_twentynewsgroups_spec_matches_mteb_legacy_task(specs, tmp_path: Path) -> None:
    """mteb 2.x scores TwentyNewsgroupsClustering with AbsTaskClusteringLegacy: one k-means per
    hub row (a set), V-measure averaged over sets; a set with a single label scores 1.0."""
    rng = np.random.default_rng(20)
    rows, table = [], {}
    for s in range(5):
        k = 1 if s == 3 else int(rng.integers(3, 8))
        centers = rng.standard_normal((k, 16)) * 0.7
        labels = rng.integers(0, k, size=int(rng.integers(150, 300))).tolist()
        texts = [f"set {s} subject {i}" for i in range(len(labels))]
        for t, y in zip(texts, labels):
            table[t] = (centers[y] + rng.standard_normal(16)).astype(np.float32)
        rows.append({"sentences": texts, "labels": labels})
    spec = specs["TwentyNewsgroupsClustering"]
    assert spec.evaluator_options().protocol == "legacy"
    write_jsonl(tmp_path / "twentynewsgroups" / "test.jsonl", rows)
    ours, _, data = ours_from_spec(spec, tmp_path, table)
    task = mteb.get_task("TwentyNewsgroupsClustering")
    task.dataset = DatasetDict({"test": Dataset.from_list(rows)})
    theirs = run_mteb(task, table, "cosine")
    assert_agree(ours.metrics, theirs, get_evaluator("clustering").METRICS)
    np.testing.assert_allclose(ours.items["v_measures"], theirs["v_measures"], atol=1e-12)
    assert ours.items["v_measures"][3] == 1.0 and np.unique(data.sets).size == 5


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"sentences": ["a", "b"], "labels": [1]}], "same length"),
        ([{"sentences": ["a"], "labels": [1]}, {"sentences": [], "labels": []}], "empty set"),
    ],
)
def test_clustering_sets_are_checked(rows, message, specs, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "twentynewsgroups" / "test.jsonl", rows)
    with pytest.raises(DataError, match=message):
        load_task_data(specs["TwentyNewsgroupsClustering"], tmp_path)


# ---------------------------------------------------------------- SciFact, NFCorpus (BEIR layout)


def beir_case(tmp: Path, folder: str, seed: int) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A BEIR folder with titles (some empty), graded judgements, a query judged only 0, and
    queries without judgements (in queries.jsonl only: mteb and we ignore them)."""
    rng = np.random.default_rng(seed)
    corpus = [{"_id": f"doc{i}", "title": f"Title {i}" if i % 3 else "", "text": f"body of document {i}"} for i in range(120)]
    queries = [{"_id": f"q{i}", "text": f"question {i}"} for i in range(30)]
    qrels = []
    for i in range(25):  # q25..q29 have no judgement
        for d in rng.choice(120, size=int(rng.integers(1, 5)), replace=False):
            qrels.append((f"q{i}", f"doc{d}", int(rng.integers(1, 3))))
    qrels = [(q, d, 0 if q == "q0" else g) for q, d, g in qrels]  # q0: only grade 0
    write_jsonl(tmp / folder / "corpus.jsonl", corpus)
    write_jsonl(tmp / folder / "queries.jsonl", queries)
    (tmp / folder / "qrels").mkdir()
    (tmp / folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{g}\n" for q, d, g in qrels), encoding="utf-8"
    )
    joined = {(f"{c['title']} {c['text']}".strip()): None for c in corpus}
    table = {t: hashed(t, 12) for t in [*joined, *(q["text"] for q in queries)]}
    relevant: dict[str, dict[str, int]] = {}
    for q, d, g in qrels:
        relevant.setdefault(q, {})[d] = g
    split = RetrievalSplitData(
        corpus=Dataset.from_list([{"id": c["_id"], "title": c["title"], "text": c["text"]} for c in corpus]),
        queries=Dataset.from_list([{"id": q["_id"], "text": q["text"]} for q in queries]),
        relevant_docs=relevant,
        top_ranked=None,
    )
    return table, {"default": {"test": split}}


@pytest.mark.parametrize(("name", "folder"), [("SciFact", "scifact"), ("NFCorpus", "nfcorpus")])
def test_beir_retrieval_specs_match_mteb_tasks(name: str, folder: str, specs, tmp_path: Path) -> None:
    table, dataset = beir_case(tmp_path, folder, seed=len(name))
    ours, groups, _ = ours_from_spec(specs[name], tmp_path, table)
    assert len(groups["queries"].texts) == 25  # queries without judgements are not embedded
    task = mteb.get_task(name)
    task.dataset = dataset
    theirs = run_mteb(task, table, "cosine")  # mteb joins "title text" itself
    assert_agree(ours.metrics, theirs, get_evaluator("retrieval").METRICS, rounded=True)
    assert ours.metrics["ndcg_at_10"] == pytest.approx(theirs["main_score"], abs=1e-5)


# ---------------------------------------------------------------- AskUbuntuDupQuestions (old rows)


def askubuntu_rows(rng: np.random.Generator) -> list[dict[str, Any]]:
    """Rows with the cases mteb's conversion decides: no negative / no positive (dropped), a text
    that is both a positive and a negative, a negative listed twice, and many exact ties."""
    rows = []
    pool = [f"question title {i}" for i in range(60)]
    for i in range(40):
        picks = rng.choice(60, size=12, replace=False)
        rows.append({"query": f"query {i}", "positive": [pool[j] for j in picks[:3]], "negative": [pool[j] for j in picks[3:]]})
    rows[5]["negative"] = []
    rows[9]["positive"] = []
    rows[12]["negative"].append(rows[12]["positive"][0])
    rows[20]["negative"].append(rows[20]["negative"][0])
    return rows


def test_askubuntu_spec_matches_mteb_old_format_conversion(specs, tmp_path: Path, monkeypatch) -> None:
    from mteb.abstasks.text import reranking as old_format
    from mteb.abstasks.text.reranking import AbsTaskReranking

    rng = np.random.default_rng(4)
    rows = askubuntu_rows(rng)
    texts = {t for r in rows for t in [r["query"], *r["positive"], *r["negative"]]}
    table = {t: exact_vector(rng, 8) for t in sorted(texts)}  # exact cosines: ties decided by ids
    spec = specs["AskUbuntuDupQuestions"]
    write_jsonl(tmp_path / "askubuntudupquestions" / "test.jsonl", rows)
    with pytest.warns(UserWarning, match="2 rows without a positive or without a negative"):
        ours, _, data = ours_from_spec(spec, tmp_path, table)

    metadata = mteb.get_task("AskUbuntuDupQuestions").metadata
    monkeypatch.setattr(old_format, "OLD_FORMAT_RERANKING_TASKS", [metadata.name])
    task = type("AskUbuntuOldFormat", (AbsTaskReranking,), {"metadata": metadata})()
    task.transform_old_dataset_format(DatasetDict({"test": Dataset.from_list(rows)}))
    split = task.dataset["default"]["test"]
    assert data.corpus == {r["id"]: r["text"] for r in split["corpus"]}  # same ids, same texts
    assert data.queries == {r["id"]: r["text"] for r in split["queries"]}
    assert data.qrels == {q: dict(d) for q, d in split["relevant_docs"].items()}
    assert data.candidates == {q: list(c) for q, c in split["top_ranked"].items()}
    theirs = run_mteb(task, table, "cosine")
    assert_agree(ours.metrics, theirs, get_evaluator("reranking").METRICS, rounded=True)
    assert ours.metrics["map_at_1000"] == pytest.approx(theirs["main_score"], abs=1e-5)


# ---------------------------------------------------------------- SprintDuplicateQuestions


@pytest.mark.parametrize("sides", [("sent1", "sent2"), ("sentence1", "sentence2")])
def test_sprint_spec_matches_mteb_task(sides: tuple[str, str], specs, tmp_path: Path) -> None:
    """The hub holds one row of lists named sent1 / sent2 / labels (mteb renames the sides in
    dataset_transform); either naming loads."""
    rng = np.random.default_rng(5)
    first = [f"first question {i}" for i in range(20)]
    pairs = [(first[i % 20], f"second question {j}") for j, i in enumerate(rng.integers(0, 20, 300))]
    labels = (rng.random(300) < 0.1).astype(int).tolist()
    table = {t: hashed(t, 8) for p in pairs for t in p}
    for (a, b), y in zip(pairs, labels):
        if y:
            table[b] = (table[a] + 0.5 * hashed(b, 8)).astype(np.float32)
    row = {sides[0]: [a for a, _ in pairs], sides[1]: [b for _, b in pairs], "labels": labels}
    write_jsonl(tmp_path / "sprintduplicatequestions" / "test.jsonl", [row])
    ours, _, _ = ours_from_spec(specs["SprintDuplicateQuestions"], tmp_path, table)
    task = mteb.get_task("SprintDuplicateQuestions")
    task.dataset = DatasetDict({"test": Dataset.from_list([{"sent1": row[sides[0]], "sent2": row[sides[1]], "labels": labels}])})
    task.dataset_transform()
    theirs = run_mteb(task, table, "cosine")
    assert_agree(ours.metrics, theirs, get_evaluator("pair_classification").METRICS)
    assert ours.metrics["max_ap"] == pytest.approx(theirs["main_score"], abs=1e-6)
