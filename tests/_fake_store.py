"""A fake results store for the leaderboard tests: real result files and per-item data in the
evaluators' layout, written through ``harness.store.write_result`` (no models), so
``harness.stats.compare`` runs on it exactly as on a real store."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from harness.store import write_result

EVIL_MODEL = "<img src=x onerror=alert(1)>"
EVIL_TASK = "</script><script>alert(1)</script>"
MAIN = {"retrieval": "ndcg_at_10", "classification": "accuracy", "sts": "cosine_spearman"}


def _items(task_type: str, n: int, quality: float, rng: np.random.Generator, shared: dict[str, Any]) -> tuple[dict, float]:
    """Per-item arrays in the evaluator's layout and the main score they give."""
    if task_type == "retrieval":
        values = np.clip(rng.beta(1 + 6 * quality, 2, (n, 2)), 0, 1)
        return ({"test.values": values, "test.query_ids": shared["ids"],
                 "test.metric_names": np.array(["ndcg_at_10", "recall_at_10"])}, float(values[:, 0].mean()))
    if task_type == "classification":
        correct = rng.random((3, n)) < 0.4 + 0.5 * quality
        return {"test.correct": correct, "test.gold": shared["gold"]}, float(correct.mean(axis=0).mean())
    cosine = shared["sts_gold"] + rng.normal(0, 3.2 - 3 * quality, n)
    return ({"test.gold": shared["sts_gold"], "test.cosine_scores": cosine},
            float(spearmanr(shared["sts_gold"], cosine).statistic))


def write_fake(root: Path, model: str, task: str, task_type: str, quality: float, *, seed: int = 0, n: int = 80,
               suites: tuple[str, ...] = ("alpha",), domain: str = "news", languages: tuple[str, ...] = ("eng",),
               model_info: dict[str, Any] | None = None) -> None:
    """One run result; the task's items depend on the task name only (models share them)."""
    shared_rng = np.random.default_rng(zlib.crc32(task.encode()))
    shared = {"ids": np.array([f"q{i}" for i in range(n)]), "gold": shared_rng.integers(0, 3, n),
              "sts_gold": shared_rng.integers(0, 26, n) / 5.0}
    items, score = _items(task_type, n, quality, np.random.default_rng(seed), shared)
    scores = {"main_score": score, MAIN[task_type]: score, "hf_subset": "default", "languages": list(languages)}
    if task_type == "retrieval":
        scores["recall_at_10"] = float(items["test.values"][:, 1].mean())
    info = {"name": model, "revision": "r1", "n_parameters": 22_700_000, "embedding_dim": 384, "max_tokens": 256,
            "settings": {}, "throughput_texts_per_s": 100.0 + 50 * quality, **(model_info or {})}
    document = {
        "dataset_revision": "local", "task_name": task, "mteb_version": "2.0.0", "evaluation_time": 1.0,
        "scores": {"test": [scores]},
        "harness": {"model": info, "main_score_name": MAIN[task_type], "harness_version": "test",
                    "task": {"name": task, "type": task_type, "suite": list(suites), "domain": domain,
                             "languages": list(languages), "main_score": MAIN[task_type],
                             "description": f"{task} for tests", "license": "CC-BY-4.0",
                             "reference": "https://example.org/" + task, "data": {"local": task.lower()}}},
    }
    if task_type == "retrieval":
        document["harness"]["breakdown_by_length"] = {
            "<=64 words": {"queries": n // 2, "main_score": score + 0.05},
            "<=512 words": {"queries": n - n // 2, "main_score": max(0.0, score - 0.1)}}
    write_result(root, document, items)


def write_published(root: Path, published_name: str, task: str, task_type: str, score: float) -> None:
    """An imported (published) score: no per-item data."""
    write_result(root, {
        "dataset_revision": "local", "task_name": task, "mteb_version": "1.12.0", "evaluation_time": None,
        "scores": {"test": [{"main_score": score, MAIN[task_type]: score, "hf_subset": "default", "languages": ["eng"]}]},
        "harness": {"model": {"name": f"{published_name} (published)", "revision": "pub", "published_name": published_name},
                    "main_score_name": MAIN[task_type], "harness_version": "test", "status": "imported",
                    "imported": {"task": task, "dataset_revision": "local", "mteb_version": "1.12.0"},
                    "task": {"name": task, "type": task_type, "suite": ["alpha"], "domain": "news", "languages": ["eng"],
                             "main_score": MAIN[task_type], "data": {}}},
    }, {})


TASKS = [("NewsRetrieval", "retrieval", ("alpha",), "news"), ("WebRetrieval", "retrieval", ("alpha",), "web"),
         ("NewsClassification", "classification", ("alpha",), "news"), ("WordSim", "sts", ("alpha",), "general"),
         ("FinRetrieval", "retrieval", ("beta",), "finance"), ("FinClassification", "classification", ("beta",), "finance")]
MODELS = {"acme/strong": 0.9, "acme/middle": 0.55, "acme/weak": 0.15, EVIL_MODEL: 0.5}


def fake_store(root: Path, *, evil: bool = True, published: bool = True, variants: bool = True) -> Path:
    """Four models (one with an HTML name) x six tasks in two suites, one missing result, sweep
    variants of the strong model on suite alpha, and a published score."""
    for m_index, (model, quality) in enumerate(MODELS.items()):
        if model == EVIL_MODEL and not evil:
            continue
        for t_index, (task, task_type, suites, domain) in enumerate(TASKS):
            if model == "acme/weak" and task == "WebRetrieval":
                continue  # a missing result
            write_fake(root, model, task, task_type, quality, seed=10 * m_index + t_index, suites=suites, domain=domain,
                       model_info={"cost_usd": 0.01} if model == "acme/middle" else None)  # an API model's bill
    if variants:
        for v_index, (variant, loss, size) in enumerate([("dim=64", 0.1, 256.0), ("dim=64,quantize=binary", 0.3, 8.0)]):
            for t_index, (task, task_type, suites, domain) in enumerate(TASKS[:4]):
                write_fake(root, f"acme/strong@{variant}", task, task_type, 0.9 - loss, seed=100 + 10 * v_index + t_index,
                           suites=suites, domain=domain,
                           model_info={"embedding_dim": 64, "settings": {"variant": "@" + variant, "bytes_per_vector": size}})
    if published:
        write_published(root, "acme/strong", "WordSim", "sts", 0.5)
    return root
