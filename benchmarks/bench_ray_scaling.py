"""Benchmark of the Ray executor on this machine: 2 workers vs 1, and its overhead against local.

Every model runs on one thread (``HARNESS_NUM_THREADS=1`` for onnxruntime/torch, ``OMP_NUM_THREADS=1``
for BLAS), so a worker is one core. Each run is a fresh Python process with a fresh results folder
and embedding cache (nothing is resumed or cached from an earlier run).

* ``scaling``: ``minilm-l3-onnx`` and ``minilm-l6-int8`` × 6 default-suite tasks whose texts do not
  overlap = 12 units, on a local Ray instance of 1 CPU (one replica at a time) vs 2 CPUs (two
  replicas). Target: 2 workers ≥ 1.7× faster.
* ``scaling_default_suite``: the same on all 8 default tasks (16 units), two pairs of which share
  texts: run concurrently, such units cannot reuse each other's cached vectors.
* ``overhead``: units of ≥ 5 s each (``minilm-l6-int8`` on the three largest default tasks, ~9 to
  13 s each), local executor vs the Ray executor with one worker. Target ≤ 10 %.

Ray's workers run at nice 0 here (``RAY_worker_niceness=0``; Ray's default, 15, would yield the CPU
to any other process on a shared machine, which a local run does not). The machine may be shared:
before each run the script waits (``--patience``) until other
processes use at most ``--max-busy`` of the CPUs, and records the share of the CPUs other
processes used before and during each run. The two sides of a comparison run alternately.

Two times per run: ``evaluate`` (the executor's work, Ray already up, as on a standing cluster)
and ``total`` (also starting and stopping the local Ray instance, as ``--executor ray`` without
``--ray-address`` does). Ratios use the best of ``--repeat`` runs of each side (and per pair).

Usage: ``python benchmarks/bench_ray_scaling.py [--repeat 2] [--only scaling]``; writes
``benchmarks/results/ray_scaling.json``.
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
# Tasks whose texts do not overlap: concurrent units cannot reuse each other's cached vectors
# (MiniNewsgroupsClustering embeds the posts MiniNewsgroupsClassification does; WordSim353's words are
# SimLex999's), so on the whole default suite two workers also redo some work; measured apart.
SCALING_TASKS = [
    "LeeBackgroundLeadRetrieval", "LeeDocSimilarity", "MiniNewsgroupsClassification",
    "MiniNewsgroupsSubjectRetrieval", "PangLeePolarity", "SimLex999",
]
DEFAULT_SUITE = [
    "LeeBackgroundLeadRetrieval", "LeeDocSimilarity", "MiniNewsgroupsClassification", "MiniNewsgroupsClustering",
    "MiniNewsgroupsSubjectRetrieval", "PangLeePolarity", "SimLex999", "WordSim353",
]
OVERHEAD_UNITS: list[tuple[Any, list[str]]] = [
    ("minilm-l6-int8", ["LeeBackgroundLeadRetrieval", "MiniNewsgroupsClassification", "MiniNewsgroupsSubjectRetrieval"]),
]
QUIET = [0.15, 300.0]  # (max busy share of the CPUs before a run, seconds to wait for it)
# RAY_worker_niceness=0: Ray starts its workers at nice 15 by default, which on a shared machine
# hands the CPU to everything else (a local run is at nice 0); the comparison wants equal footing.
ONE_THREAD = {"HARNESS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "TOKENIZERS_PARALLELISM": "false", "RAY_AUTH_MODE": "disabled", "RAY_worker_niceness": "0"}


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
    own = own_ticks()
    others = max(0.0, (busy1 - busy0 - own) / (total1 - total0))  # share of all CPUs other processes used
    if ray is not None:
        ray.shutdown()
    return {"evaluate_s": finished - ready, "total_s": time.perf_counter() - began, "others_busy": others,
            "own_cpu_s": own / os.sysconf("SC_CLK_TCK"), "units": units}


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


def measure_once(executor: str, cpus: int, units: list[tuple[Any, list[str]]]) -> dict[str, Any]:
    """One fresh run in its own process (after waiting for a quiet machine)."""
    busy = wait_until_quiet(QUIET[0], QUIET[1])
    with tempfile.TemporaryDirectory(prefix="bench_ray_") as folder:
        spec = {"executor": executor, "cpus": cpus, "units": units, "folder": folder}
        done = subprocess.run(
            [sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True, text=True,
            env={**os.environ, **ONE_THREAD}, timeout=1800,
        )
        if done.returncode != 0:
            raise SystemExit(f"{executor} × {cpus} failed:\n{done.stderr[-3000:]}")
        run = {**json.loads(done.stdout.strip().splitlines()[-1]), "busy_before": busy}
    print(f"  {executor:5} {cpus} worker(s): evaluate {run['evaluate_s']:6.1f} s, total {run['total_s']:6.1f} s"
          f"  (other processes: {100 * busy:.0f} % of the CPUs before, {100 * run['others_busy']:.0f} % during)", flush=True)
    return run


def compare(name: str, base: tuple[str, int], other: tuple[str, int], units: list[tuple[Any, list[str]]], repeat: int) -> dict[str, Any]:
    """Runs ``base`` and ``other`` alternately ``repeat`` times; ratios of the best times and per pair."""
    pairs = [(measure_once(*base, units), measure_once(*other, units)) for _ in range(repeat)]
    for a, b in pairs:
        if scores(a) != scores(b):
            raise SystemExit(f"{name}: {other} changed a score")

    def best(side: int, key: str) -> float:
        return min(pair[side][key] for pair in pairs)

    def summary(side: int) -> dict[str, Any]:
        fastest = min((pair[side] for pair in pairs), key=lambda r: r["evaluate_s"])
        return {"executor": (base, other)[side][0], "workers": (base, other)[side][1], "evaluate_s": best(side, "evaluate_s"),
                "total_s": best(side, "total_s"), "units": fastest["units"],
                "runs": [{k: pair[side].get(k) for k in ("evaluate_s", "total_s", "busy_before", "others_busy", "own_cpu_s")} for pair in pairs]}

    return {"base": summary(0), "other": summary(1),
            "ratio_evaluate": best(0, "evaluate_s") / best(1, "evaluate_s"), "ratio_total": best(0, "total_s") / best(1, "total_s"),
            "pair_ratios_evaluate": [a["evaluate_s"] / b["evaluate_s"] for a, b in pairs]}


def scores(result: dict[str, Any]) -> dict[str, float]:
    return {f"{u['model']}/{u['task']}": u["main_score"] for u in result["units"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="fresh runs per configuration (the best counts)")
    parser.add_argument("--max-busy", type=float, default=0.15, help="wait before each run until others use at most this share of the CPUs")
    parser.add_argument("--patience", type=float, default=300, help="seconds to wait for that at most, per run")
    parser.add_argument("--only", choices=["scaling", "scaling_default_suite", "overhead"], action="append",
                        help="run only these parts (repeatable); the others stay as in the JSON")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    QUIET[:] = [args.max_busy, args.patience]
    if args.one:
        print(json.dumps(one_run(json.loads(args.one))))
        return
    parts = args.only or ["scaling", "scaling_default_suite", "overhead"]
    report = json.loads(OUT.read_text()) if args.only and OUT.exists() else {}
    report.update({
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "threads_per_worker": 1, "quiet": {"max_busy": QUIET[0], "patience_s": QUIET[1]},
    })
    for part in parts:
        if part.startswith("scaling"):
            tasks = SCALING_TASKS if part == "scaling" else DEFAULT_SUITE
            grid = [(SCALING_MODELS, tasks)]  # one evaluate call: the executor sees the whole grid
            print(f"{part}: {len(SCALING_MODELS)} models × {len(tasks)} tasks = {len(SCALING_MODELS) * len(tasks)} units, one thread per worker")
            result = compare(part, ("ray", 1), ("ray", 2), grid, args.repeat)
            print(f"  speedup 2 vs 1 worker: {result['ratio_evaluate']:.2f}× (evaluate), {result['ratio_total']:.2f}× "
                  f"(with Ray start/stop); per pair {', '.join(f'{r:.2f}' for r in result['pair_ratios_evaluate'])}; target ≥ 1.7×")
            report[part] = {"models": SCALING_MODELS, "tasks": tasks, "one_worker": result["base"], "two_workers": result["other"],
                            "speedup_evaluate": result["ratio_evaluate"], "speedup_total": result["ratio_total"],
                            "speedup_per_pair": result["pair_ratios_evaluate"], "target": 1.7}
        else:
            print("overhead: units of ≥ 5 s, one worker, local executor vs Ray executor")
            result = compare(part, ("local", 1), ("ray", 1), OVERHEAD_UNITS, args.repeat)
            shortest = min(u["seconds"] for u in result["base"]["units"])
            overhead, overhead_total = 1 / result["ratio_evaluate"] - 1, 1 / result["ratio_total"] - 1
            pairs = ", ".join(f"{100 * (1 / r - 1):+.1f} %" for r in result["pair_ratios_evaluate"])
            print(f"  shortest unit {shortest:.1f} s; overhead {100 * overhead:+.1f} % (evaluate), {100 * overhead_total:+.1f} % "
                  f"(with Ray start/stop); per pair {pairs}; target ≤ 10 %")
            report[part] = {"units": [[m, t] for m, t in OVERHEAD_UNITS], "shortest_unit_s": shortest, "local": result["base"],
                            "ray": result["other"], "overhead_evaluate": overhead, "overhead_total": overhead_total,
                            "overhead_per_pair": [1 / r - 1 for r in result["pair_ratios_evaluate"]], "target": 0.10}
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
