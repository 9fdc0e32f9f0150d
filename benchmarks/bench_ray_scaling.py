"""Benchmark of the Ray executor on this machine: 2 workers vs 1, and its overhead against local.

Every model runs on one thread (``HARNESS_NUM_THREADS=1`` for onnxruntime/torch, ``OMP_NUM_THREADS=1``
for BLAS), so a worker is one core. Each configuration runs in a fresh Python process with a fresh
results folder and embedding cache (nothing is resumed or cached from an earlier run).

* Scaling: the default suite (8 tasks) × ``minilm-l3-onnx`` and ``minilm-l6-int8`` = 16 units, on
  a local Ray instance of 1 CPU (one replica at a time) and of 2 CPUs (two replicas). Target:
  2 workers ≥ 1.7× faster.
* Overhead: units of ≥ 5 s each (``minilm-l6-int8`` on the three largest default tasks and
  ``minilm-l3-onnx`` on LeeBackgroundLeadRetrieval), local executor vs the Ray executor with one
  worker. Target ≤ 10 %.

The machine may be shared: before each run the script waits (``--patience``) until other
processes use at most ``--max-busy`` of the CPUs, and records how busy they were and the load
average after the run beside each time.

Two times per run: ``evaluate`` (the executor's work, Ray already up, as on a standing cluster)
and ``total`` (also starting and stopping the local Ray instance, as ``--executor ray`` without
``--ray-address`` does). Ratios use the best of ``--repeat`` runs.

Usage: ``python benchmarks/bench_ray_scaling.py [--repeat 1]``; writes ``benchmarks/results/ray_scaling.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "results" / "ray_scaling.json"
SCALING_MODELS = ["minilm-l3-onnx", "minilm-l6-int8"]
SCALING_TASKS = [
    "LeeBackgroundLeadRetrieval", "LeeDocSimilarity", "MiniNewsgroupsClassification", "MiniNewsgroupsClustering",
    "MiniNewsgroupsSubjectRetrieval", "PangLeePolarity", "SimLex999", "WordSim353",
]
OVERHEAD_UNITS: list[tuple[Any, list[str]]] = [
    ("minilm-l6-int8", ["LeeBackgroundLeadRetrieval", "MiniNewsgroupsClassification", "MiniNewsgroupsSubjectRetrieval"]),
    ("minilm-l3-onnx", ["LeeBackgroundLeadRetrieval"]),
]
QUIET = [0.15, 300.0]  # (max busy share of the CPUs before a run, seconds to wait for it)
ONE_THREAD = {"HARNESS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "TOKENIZERS_PARALLELISM": "false", "RAY_AUTH_MODE": "disabled"}


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def own_ticks() -> int:
    """CPU ticks used by this process and every descendant (living, or reaped by one: cutime)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            table[int(entry.name)] = (int(fields[1]), sum(int(x) for x in fields[11:15]))
    tree, frontier = {os.getpid()}, {os.getpid()}
    while frontier:
        frontier = {pid for pid, (parent, _) in table.items() if parent in frontier} - tree
        tree |= frontier
    return sum(table[pid][1] for pid in tree if pid in table)


def one_run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run in a fresh process: ``spec`` = executor, cpus, units [(model, tasks)], folder."""
    import logging

    began = time.perf_counter()
    busy0, total0 = cpu_ticks()
    sys.path.insert(0, str(REPO))
    import harness

    ray = None
    if spec["executor"] == "ray":
        import ray

        ray.init(num_cpus=spec["cpus"], include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    ready = time.perf_counter()
    folder = Path(spec["folder"])
    units = []
    for model, tasks in spec["units"]:
        run = harness.evaluate(model, tasks, results_dir=folder / "results", cache_dir=folder / "cache", executor=spec["executor"], verbose=False)
        expected = len(tasks) * (len(model) if isinstance(model, list) else 1)
        assert run.summary.count("done") == expected, run.summary.line()
        units += [{"model": r.model_name, "task": r.task_name, "seconds": r.data.evaluation_time, "main_score": r.main_score} for r in run.results]
    finished = time.perf_counter()
    busy1, total1 = cpu_ticks()
    others = max(0.0, (busy1 - busy0 - own_ticks()) / (total1 - total0))  # share of all CPUs other processes used
    if ray is not None:
        ray.shutdown()
    return {"evaluate_s": finished - ready, "total_s": time.perf_counter() - began, "others_busy": others, "units": units}


def busy_fraction(seconds: float = 3.0) -> float:
    """Share of all CPUs busy over ``seconds`` (from /proc/stat; 0.0 where it is missing)."""
    def sample() -> tuple[int, int]:
        try:
            values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        except OSError:
            return 0, 0
        return sum(values), values[3] + values[4]  # total, idle + iowait

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 1.0 - (idle1 - idle0) / (total1 - total0) if total1 > total0 else 0.0


def wait_until_quiet(max_busy: float, patience: float) -> float:
    """Wait (up to ``patience`` s) until other processes use at most ``max_busy`` of the CPUs."""
    deadline = time.monotonic() + patience
    busy = busy_fraction()
    while busy > max_busy and time.monotonic() < deadline:
        busy = busy_fraction()
    return busy


def measure(executor: str, cpus: int, units: list[tuple[Any, list[str]]], repeat: int) -> dict[str, Any]:
    """Best of ``repeat`` fresh runs (by evaluate time); every run's times are kept."""
    runs = []
    for _ in range(repeat):
        busy = wait_until_quiet(QUIET[0], QUIET[1])
        with tempfile.TemporaryDirectory(prefix="bench_ray_") as folder:
            spec = {"executor": executor, "cpus": cpus, "units": units, "folder": folder}
            done = subprocess.run(
                [sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True, text=True,
                env={**os.environ, **ONE_THREAD}, timeout=1800,
            )
            if done.returncode != 0:
                raise SystemExit(f"{executor} × {cpus} failed:\n{done.stderr[-3000:]}")
            runs.append({**json.loads(done.stdout.strip().splitlines()[-1]), "busy_before": busy, "load_after": os.getloadavg()[0]})
        print(f"  {executor:5} {cpus} worker(s): evaluate {runs[-1]['evaluate_s']:6.1f} s, total {runs[-1]['total_s']:6.1f} s"
              f"  (other processes: {100 * busy:.0f} % of the CPUs before, {100 * runs[-1]['others_busy']:.0f} % during)", flush=True)
    best = min(runs, key=lambda r: r["evaluate_s"])
    return {"executor": executor, "workers": cpus, "evaluate_s": best["evaluate_s"], "total_s": min(r["total_s"] for r in runs),
            "runs": [{k: r[k] for k in ("evaluate_s", "total_s", "busy_before", "others_busy", "load_after")} for r in runs], "units": best["units"]}


def scores(result: dict[str, Any]) -> dict[str, float]:
    return {f"{u['model']}/{u['task']}": u["main_score"] for u in result["units"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="fresh runs per configuration (the best counts)")
    parser.add_argument("--max-busy", type=float, default=0.15, help="wait before each run until others use at most this share of the CPUs")
    parser.add_argument("--patience", type=float, default=300, help="seconds to wait for that at most, per run")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    QUIET[:] = [args.max_busy, args.patience]
    if args.one:
        print(json.dumps(one_run(json.loads(args.one))))
        return

    print(f"scaling: {len(SCALING_MODELS)} models × {len(SCALING_TASKS)} tasks = {len(SCALING_MODELS) * len(SCALING_TASKS)} units, one thread per worker")
    grid = [(SCALING_MODELS, SCALING_TASKS)]  # one evaluate call: the executor sees the whole grid
    one = measure("ray", 1, grid, args.repeat)
    two = measure("ray", 2, grid, args.repeat)
    assert scores(one) == scores(two), "2 workers changed a score"
    speedup = one["evaluate_s"] / two["evaluate_s"]
    speedup_total = one["total_s"] / two["total_s"]
    print(f"  speedup 2 vs 1 worker: {speedup:.2f}× (evaluate), {speedup_total:.2f}× (with Ray start/stop); target ≥ 1.7×")

    print("overhead: units of ≥ 5 s, one worker, local executor vs Ray executor")
    local = measure("local", 1, OVERHEAD_UNITS, args.repeat)
    remote = measure("ray", 1, OVERHEAD_UNITS, args.repeat)
    assert scores(local) == scores(remote), "the Ray executor changed a score"
    shortest = min(u["seconds"] for u in local["units"])
    overhead = remote["evaluate_s"] / local["evaluate_s"] - 1
    overhead_total = remote["total_s"] / local["total_s"] - 1
    print(f"  shortest unit {shortest:.1f} s; overhead {100 * overhead:+.1f} % (evaluate), {100 * overhead_total:+.1f} % (with Ray start/stop); target ≤ 10 %")

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "quiet": {"max_busy": QUIET[0], "patience_s": QUIET[1]}, "repeat": args.repeat,
        "threads_per_worker": 1,
        "scaling": {"models": SCALING_MODELS, "tasks": SCALING_TASKS, "one_worker": one, "two_workers": two,
                    "speedup_evaluate": speedup, "speedup_total": speedup_total, "target": 1.7},
        "overhead": {"units": [[m, t] for m, t in OVERHEAD_UNITS], "shortest_unit_s": shortest, "local": local, "ray": remote,
                     "overhead_evaluate": overhead, "overhead_total": overhead_total, "target": 0.10},
    }, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
