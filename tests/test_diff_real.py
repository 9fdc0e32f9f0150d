"""`diff` on real runs: the random control against its binary variant (the sweep derives it; the
random model keeps this cheap) on a retrieval, a classification and an STS task of the default
suite (minilm-l6 against its binary variant is measured in docs/diff.md). The texts shown must be
the task's own, and the verdicts those of `compare`'s per-task test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness import api
from harness.config import RunConfig
from harness.rundiff import diff
from harness.stats import compare
from harness.store import iter_results

TASKS = ["LeeBackgroundLeadRetrieval", "PangLeePolarity", "WordSim353"]
BASE, BINARY = "random", "random@quantize=binary"


pytestmark = pytest.mark.slow  # ~10 s of CPU, ~25 s on a loaded 2-core machine


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("diff_real")
    summary = api.run(RunConfig(models=[BASE], tasks=TASKS, sweep=["quantize=none,binary"], results_dir=root,
                                verbose=False)).summary
    assert summary.count("done") == 6, summary.line()
    return root


@pytest.fixture(scope="module")
def result(store: Path):
    return diff(BASE, BINARY, results_dir=store, n_resamples=999, top=5)


def test_verdicts_agree_with_compare(store: Path, result) -> None:
    names = ["harness/random", "harness/random@quantize=binary"]
    pairs = compare(list(iter_results(store)), models=names, n_resamples=999).pairs.set_index("task")
    tasks = result.tasks.set_index("task")
    assert sorted(tasks.index) == sorted(TASKS)
    for task, row in tasks.iterrows():
        assert row["p_value"] == pairs.loc[task, "p_value"] and abs(row["delta"]) == pytest.approx(pairs.loc[task, "delta"])
        if row["verdict"] != "no change":
            assert pairs.loc[task, "significant"]  # Holm over tasks only raises p


def test_items_show_the_tasks_texts(result) -> None:
    from harness.data import load_task_data

    specs = {s.name: s for s in api.resolve_tasks(TASKS, None, ())}
    retrieval = load_task_data(specs["LeeBackgroundLeadRetrieval"])
    moved = result.moved["LeeBackgroundLeadRetrieval"]
    assert moved.note is None and moved.losses
    for item in moved.losses:
        fields = item.fields
        assert fields["query"] == retrieval.queries[item.id][:600]
        rank_b = fields["rank of the first relevant document under B"]
        hit = fields["B's top hit"]
        assert (hit == "relevant") == (rank_b == "1")  # the stored top hit agrees with the stored MRR
        if hit != "relevant":  # B's wrong top hit, with its text
            doc, _, text = hit.partition(": ")
            assert retrieval.qrels[item.id].get(doc, 0) <= 0 and text.startswith(retrieval.corpus[doc][:600])
    classification = load_task_data(specs["PangLeePolarity"])
    for item in result.moved["PangLeePolarity"].losses + result.moved["PangLeePolarity"].gains:
        row = int(item.id[1:])
        assert item.fields["text"] == classification.test_texts[row][:600]
        assert item.fields["gold label"] == str(classification.test_labels[row])
    sts = load_task_data(specs["WordSim353"])
    for item in result.moved["WordSim353"].losses:
        row = int(item.id[1:])
        assert (item.fields["sentence 1"], item.fields["sentence 2"]) == (sts.sentence1[row], sts.sentence2[row])
        assert float(item.fields["gold score"]) == pytest.approx(float(np.asarray(sts.scores)[row]), rel=1e-5)


def test_stored_top_hits_are_the_argmax(store: Path) -> None:
    """The evaluator's new ``top_hits`` item, recomputed from the random model's vectors with numpy."""
    from harness.data import load_task_data
    from harness.models.random import RandomAdapter

    [spec] = api.resolve_tasks(["LeeBackgroundLeadRetrieval"], None, ())
    data = load_task_data(spec)
    [stored] = [r for r in iter_results(store) if r.model_name == "harness/random" and r.task_name == spec.name]
    items = stored.items()
    qids, hits = items["test.query_ids"][:20], items["test.top_hits"][:20]
    model, doc_ids = RandomAdapter(), list(data.corpus)
    queries = model.encode([data.queries[q] for q in qids])
    corpus = model.encode(list(data.corpus.values()))
    best = np.argmax((queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ (corpus / np.linalg.norm(corpus, axis=1, keepdims=True)).T, axis=1)
    assert list(hits) == [doc_ids[i] for i in best]
