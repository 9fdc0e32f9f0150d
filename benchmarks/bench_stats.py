"""Benchmark of ``harness.stats.compare``: 10 models x 50 tasks x 10,000 paired resamples.

The store is synthetic but real: results written with ``harness.store.write_result`` in each
evaluator's documented per-item layout, so ``compare`` runs exactly as on a real store
(loading, pairing checks, every statistic). The task mix follows MTEB(eng, v2)'s proportions
of task types; sizes are per task (``ITEMS``). Prints wall time and peak memory (Python heap
via tracemalloc, which sees numpy's buffers, and the process's peak RSS) and writes them to
``benchmarks/results/stats.json``.

Usage: ``python benchmarks/bench_stats.py [--resamples 10000] [--models 10]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.stats import compare  # noqa: E402
from harness.stats.items import task_statistic  # noqa: E402
from harness.store import iter_results, write_result  # noqa: E402

# task type -> (number of tasks, items per task): 50 tasks in MTEB(eng, v2)'s type proportions
MIX = {
    "retrieval": (12, 1000),
    "classification": (10, 1000),
    "clustering": (10, 10),
    "sts": (11, 1000),
    "pair_classification": (4, 1000),
    "reranking": (2, 1000),
    "summarization": (1, 100),
}
MAIN_SCORE = {
    "retrieval": "ndcg_at_10",
    "reranking": "map_at_1000",
    "classification": "accuracy",
    "clustering": "v_measure",
    "sts": "cosine_spearman",
    "pair_classification": "max_ap",
    "summarization": "cosine_spearman",
}
SUMMARIZATION = ("cosine_spearman", "cosine_pearson", "dot_spearman", "dot_pearson", "spearman", "pearson")
OUT = Path(__file__).resolve().parent / "results" / "stats.json"


def items_for(task_type: str, n: int, quality: float, rng: np.random.Generator, shared: dict) -> dict[str, np.ndarray]:
    """Per-item arrays of one model in the evaluator's layout; ``quality`` in [0, 1] moves its score."""
    if task_type in ("retrieval", "reranking"):
        return {"test.values": rng.beta(1 + 4 * quality, 2, (n, 3)), "test.query_ids": shared["ids"],
                "test.metric_names": np.array(["ndcg_at_10", "map_at_1000", "recall_at_100"]),
                "test.confidence": rng.random((n, 3))}
    if task_type == "classification":
        correct = rng.random((10, n)) < 0.5 + 0.4 * quality
        return {"test.correct": correct, "test.predictions": correct.astype(np.int64), "test.gold": shared["gold_int"],
                "test.classes": np.array(["a", "b"])}
    if task_type == "clustering":
        return {"test.v_measures": np.clip(quality * 0.6 + rng.normal(0, 0.05, n), 0, 1),
                "test.ami_scores": rng.random(n), "test.sample_indices": shared["draws"],
                "test.assignments": shared["draws"], "test.labels": shared["gold_int"][:200]}
    if task_type == "summarization":
        values = np.clip(quality * 0.4 + rng.normal(0, 0.3, n), -1, 1)
        values[shared["skipped"]] = np.nan
        return {f"test.{name}": values for name in SUMMARIZATION}
    if task_type == "sts":
        cosine = shared["gold"] + rng.normal(0, 3.0 - 2.5 * quality, n)
        return {"test.gold": shared["gold"], "test.cosine_scores": cosine, "test.similarity_scores": cosine,
                "test.manhattan_distances": -np.abs(cosine), "test.euclidean_distances": -np.abs(cosine)}
    # pair classification of unit vectors: similarity = cosine = dot; Euclidean a monotone function of cosine
    cosine = np.tanh(shared["labels"] * (0.2 + quality) + rng.normal(0, 0.6, n))
    euclidean = np.sqrt(2 - 2 * cosine)
    return {"test.labels": shared["labels"], "test.similarity_scores": cosine, "test.cosine_scores": cosine,
            "test.dot_scores": cosine, "test.euclidean_distances": euclidean,
            "test.manhattan_distances": euclidean * (1 + rng.normal(0, 0.2, n)) * 10}


def build_store(root: Path, n_models: int, rng: np.random.Generator) -> None:
    """Write n_models x 50 results under ``root``, each with its items' own main score."""
    qualities = np.linspace(0.2, 0.8, n_models)
    for task_type, (n_tasks, n) in MIX.items():
        for t in range(n_tasks):
            shared = {"ids": np.array([f"q{i}" for i in range(n)]), "gold_int": rng.integers(0, 2, max(n, 200)),
                      "draws": rng.integers(0, 200, (n, 200), dtype=np.int32), "skipped": rng.random(n) < 0.05,
                      "gold": rng.integers(0, 26, n) / 5.0, "labels": rng.integers(0, 2, n)}
            for m, quality in enumerate(qualities):
                items = items_for(task_type, n, quality + rng.normal(0, 0.05), rng, shared)
                score = float(task_statistic(task_type, MAIN_SCORE[task_type], "test", [items]).observed()[0])
                write_result(root, {
                    "dataset_revision": "synthetic", "task_name": f"{task_type}-{t:02d}", "mteb_version": "2.0.0",
                    "evaluation_time": 0.0,
                    "scores": {"test": [{"main_score": score, "hf_subset": "default", "languages": ["eng-Latn"]}]},
                    "harness": {"model": {"name": f"model-{m:02d}", "revision": "r"}, "task": {"type": task_type},
                                "main_score_name": MAIN_SCORE[task_type], "harness_version": "bench"},
                }, items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--models", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        build_store(Path(tmp), args.models, np.random.default_rng(0))
        load = os.getloadavg()[0]  # other processes on the machine inflate the wall time
        began = time.perf_counter()
        results = list(iter_results(Path(tmp)))
        loaded, cpu = time.perf_counter(), time.process_time()
        tracemalloc.start()
        comparison = compare(results, n_resamples=args.resamples, seed=0)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        done, cpu = time.perf_counter(), time.process_time() - cpu
    record = {
        "models": args.models,
        "tasks": sum(n for n, _ in MIX.values()),
        "resamples": args.resamples,
        "mix": {k: {"tasks": t, "items": n} for k, (t, n) in MIX.items()},
        "pairs": len(comparison.pairs),
        "read_store_s": round(loaded - began, 3),
        "compare_s": round(done - loaded, 3),
        "total_s": round(done - began, 3),
        "compare_cpu_s": round(cpu, 3),
        "load_average_1min": round(load, 2),
        "peak_traced_mib": round(peak / 2**20, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, python {platform.python_version()}",
        "notes": comparison.notes,
    }
    print(f"{args.models} models x {record['tasks']} tasks x {args.resamples} resamples: "
          f"compare {record['compare_s']} s wall, {record['compare_cpu_s']} s CPU "
          f"(+ {record['read_store_s']} s reading the store; load average {record['load_average_1min']}), "
          f"peak {record['peak_traced_mib']} MiB traced, {record['peak_rss_mib']} MiB RSS")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
