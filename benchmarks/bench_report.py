"""Benchmark of the leaderboard at scale: 100 models x 100 tasks (synthetic, through the real store).

Results are written with ``harness.store.write_result`` in each evaluator's per-item layout (task
types in MTEB(eng, v2)'s proportions; retrieval and reranking results carry mteb's full set of
148 metrics, the others their usual handful), then:

* statistics: ``harness.stats.compare`` once, with ``--resamples`` (default 1,000: the default
  10,000 would take long at 100 x 100 and is not what this measures), timed on its own;
* render: ``render_report`` with that comparison passed in (everything else: gathering, tiers,
  figures, templates, CSV/JSON, atomic writes), timed, and the page size;
* Chromium: the page opened from file://, time to ready, and sorts by clicking headers, each
  measured inside the page with ``performance.now()`` (``window.reportTiming.lastSortMs``).

Usage: ``python benchmarks/bench_report.py [--models 100] [--tasks 100] [--resamples 1000] [--store DIR]``;
prints the numbers and writes ``benchmarks/results/report.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import save  # noqa: E402
from harness.store import iter_results, write_result  # noqa: E402

SHARES = {"retrieval": 0.24, "classification": 0.2, "clustering": 0.2, "sts": 0.22, "pair_classification": 0.08,
          "reranking": 0.04, "summarization": 0.02}
MAIN = {"retrieval": "ndcg_at_10", "reranking": "map_at_1000", "classification": "accuracy", "clustering": "v_measure",
        "sts": "cosine_spearman", "pair_classification": "cosine_ap", "summarization": "cosine_spearman"}
KS = (1, 3, 5, 10, 20, 100, 1000)
RANKING_METRICS = ([f"{m}_at_{k}" for m in ("ndcg", "map", "recall", "precision", "mrr", "hit_rate") for k in KS]
                   + [f"nauc_{m}_at_{k}_{s}" for m in ("ndcg", "map", "recall", "precision", "mrr") for k in KS
                      for s in ("max", "std", "diff1")] + ["accuracy"])
OTHER_METRICS = ["accuracy", "f1", "f1_weighted", "precision", "recall", "v_measure", "cosine_spearman", "cosine_pearson",
                 "manhattan_spearman", "euclidean_spearman", "max_ap", "max_f1"]
CHROMIUM = Path("/usr/bin/chromium")


def task_types(n_tasks: int) -> list[str]:
    counts = {t: max(1, round(share * n_tasks)) for t, share in SHARES.items()}
    counts["retrieval"] += n_tasks - sum(counts.values())
    return [t for t, n in counts.items() for _ in range(n)]


def items_for(task_type: str, n: int, quality: float, rng: np.random.Generator, gold: np.ndarray) -> tuple[dict, float]:
    """Per-item arrays of one model (the layout ``harness.stats.items`` reads) and their main score."""
    from harness.stats.items import task_statistic

    if task_type in ("retrieval", "reranking"):
        items = {"test.values": rng.beta(1 + 4 * quality, 2, (n, 1)), "test.query_ids": np.array([f"q{i}" for i in range(n)]),
                 "test.metric_names": np.array([MAIN[task_type]])}
    elif task_type == "classification":
        items = {"test.correct": rng.random((3, n)) < 0.5 + 0.4 * quality, "test.gold": gold}
    elif task_type == "clustering":
        items = {"test.v_measures": np.clip(quality * 0.6 + rng.normal(0, 0.05, n), 0, 1),
                 "test.sample_indices": np.arange(n)[:, None], "test.labels": gold}
    elif task_type == "summarization":
        items = {"test.cosine_spearman": np.clip(quality * 0.4 + rng.normal(0, 0.3, n), -1, 1)}
    elif task_type == "pair_classification":
        items = {"test.labels": gold, "test.cosine_scores": np.tanh(gold * (0.2 + quality) + rng.normal(0, 0.6, n))}
    else:
        items = {"test.gold": gold, "test.cosine_scores": gold + rng.normal(0, 3.0 - 2.5 * quality, n)}
    score = float(task_statistic(task_type, MAIN[task_type], "test", [items]).observed()[0])
    return items, score


def build_store(root: Path, n_models: int, n_tasks: int, rng: np.random.Generator) -> None:
    qualities = np.linspace(0.2, 0.8, n_models)
    for t, task_type in enumerate(task_types(n_tasks)):
        n = 10 if task_type == "clustering" else 100
        gold = rng.integers(0, 26, n) / 5.0 if task_type == "sts" else rng.integers(0, 2, n)  # labels, gold scores
        names = RANKING_METRICS if task_type in ("retrieval", "reranking") else OTHER_METRICS
        for m, quality in enumerate(qualities):
            items, score = items_for(task_type, n, quality + rng.normal(0, 0.05), rng, gold)
            scores = {name: float(rng.random()) for name in names}
            scores.update({MAIN[task_type]: score, "main_score": score, "hf_subset": "default", "languages": ["eng-Latn"]})
            document = {
                "dataset_revision": "synthetic", "task_name": f"{task_type}-{t:03d}", "mteb_version": "2.0.0",
                "evaluation_time": 0.0, "scores": {"test": [scores]},
                "harness": {"model": {"name": f"org/model-{m:03d}", "revision": "r", "n_parameters": int(1e6 * (m + 1)),
                                      "embedding_dim": 384, "max_tokens": 512,
                                      "throughput_texts_per_s": float(10 ** rng.uniform(1, 4))},
                            "task": {"type": task_type, "suite": ["synthetic"], "domain": "general",
                                     "languages": ["eng"], "description": "synthetic", "data": {"local": "x"}},
                            "main_score_name": MAIN[task_type], "harness_version": "bench"},
            }
            if task_type in ("retrieval", "reranking"):
                document["harness"]["breakdown_by_length"] = {
                    g: {"queries": 25, "main_score": float(score * f)} for g, f in
                    (("<=64 words", 1.1), ("<=256 words", 1.0), ("<=1024 words", 0.8), ("<=4096 words", 0.6))}
            write_result(root, document, items)


def browser_numbers(index: Path) -> dict[str, float]:
    """Page load and sort times in Chromium (medians and maxima over several header clicks)."""
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        began = time.perf_counter()
        page.goto(index.as_uri())
        page.wait_for_function("window.reportReady === true", timeout=60_000)
        ready = time.perf_counter() - began
        sorts = []
        columns = ["mean_task", "model", "type:retrieval", "borda", "meta:speed", "mean_task"]
        for col in columns:
            page.locator(f".view:not([hidden]) th[data-col='{col}']").click()
            sorts.append(page.evaluate("window.reportTiming.lastSortMs"))
        page.locator(".colmenu summary").click()
        page.locator(".colmenu [data-all='task:']").click()  # every task column shown, then sort again
        page.locator(".colmenu summary").click()
        for col in ("task:retrieval-000", "mean_task"):
            page.locator(f".view:not([hidden]) th[data-col='{col}']").click()
            sorts.append(page.evaluate("window.reportTiming.lastSortMs"))
        browser.close()
    return {"load_to_ready_s": round(ready, 2), "sort_ms_median": round(statistics.median(sorts), 1),
            "sort_ms_max": round(max(sorts), 1), "sorts_timed": len(sorts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--store", help="keep the synthetic store here (built when absent) instead of a temporary folder")
    args = parser.parse_args()
    from harness.leaderboard.render import render_report
    from harness.stats import compare

    with tempfile.TemporaryDirectory() as tmp:
        store, out = Path(args.store or Path(tmp) / "store"), Path(tmp) / "report"
        began = time.perf_counter()
        if not store.is_dir():
            build_store(store, args.models, args.tasks, np.random.default_rng(0))
        built = time.perf_counter()
        results = list(iter_results(store))
        loaded = time.perf_counter()
        comparison = compare(results, n_resamples=args.resamples, seed=0)
        compared = time.perf_counter()
        load = os.getloadavg()[0]  # other processes on the machine inflate the wall times
        cpu = time.process_time()
        index = render_report(results, out, comparison=comparison, title="bench")
        rendered, cpu = time.perf_counter(), time.process_time() - cpu
        warm_cpu = time.process_time()
        index = render_report(results, out, comparison=comparison, title="bench")  # warm: imports done
        rendered_warm, warm_cpu = time.perf_counter() - rendered, time.process_time() - warm_cpu
        record = {
            "models": args.models, "tasks": args.tasks, "results": len(results), "resamples": args.resamples,
            "build_store_s": round(built - began, 1), "read_store_s": round(loaded - built, 2),
            "stats_compare_s": round(compared - loaded, 1),
            "render_s": round(rendered - compared, 2), "render_cpu_s": round(cpu, 2),
            "render_warm_s": round(rendered_warm, 2), "render_warm_cpu_s": round(warm_cpu, 2),
            "load_average_1min_before_render": round(load, 2),
            "page_mb": round(index.stat().st_size / 1e6, 2),
            "csv_kb": round((out / "leaderboard.csv").stat().st_size / 1e3, 1),
            "json_mb": round((out / "leaderboard.json").stat().st_size / 1e6, 2),
            "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, python {platform.python_version()}",
        }
        if CHROMIUM.exists():
            record.update(browser_numbers(index))
        else:
            record["browser"] = f"skipped: {CHROMIUM} absent"
    print(f"{args.models} models x {args.tasks} tasks: stats {record['stats_compare_s']} s ({args.resamples} resamples), "
          f"render {record['render_s']} s wall, {record['render_cpu_s']} s CPU (warm {record['render_warm_s']} s, "
          f"{record['render_warm_cpu_s']} s CPU; load average {record['load_average_1min_before_render']}), "
          f"page {record['page_mb']} MB, "
          f"Chromium ready {record.get('load_to_ready_s')} s, sort median {record.get('sort_ms_median')} ms "
          f"(max {record.get('sort_ms_max')} ms)")
    save("report", record)


if __name__ == "__main__":
    main()
