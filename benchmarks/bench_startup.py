"""Start-up: wall time of the commands a user types most, each a fresh process, median of 5.

`--help`, `list tasks`, `list models`, `list suites`, and a warm `run --no-report` of
STSBenchmark, STS13 and STS15 with minilm-l6: every vector is already in the embedding cache
(one untimed run fills it), results go to a temporary folder and are recomputed (--overwrite),
so the run loads data, looks vectors up and scores, and never needs the model. The default cache
dir ($HARNESS_CACHE_DIR or ~/.cache/harness) is used, with its spec index warmed by one untimed
`list tasks`. CPU time (what a loaded machine disturbs least) is recorded beside the wall time.

Targets: `--help`, `list tasks`, `list models` under 0.3 s; the warm run under 1 s.

    python benchmarks/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

from _common import SHARED_DATASETS, harness_cli, measured, save, shared_data

TASKS = "STSBenchmark,STS13,STS15"
TARGETS_S = {"--help": 0.3, "list tasks": 0.3, "list models": 0.3, "warm run": 1.0}


def median_of(command: list[str], runs: int) -> dict[str, object]:
    """Median wall and CPU seconds of ``runs`` fresh processes running ``command``."""
    samples = [measured(command)[:2] for _ in range(runs)]
    walls, cpus = [w for w, _ in samples], [c for _, c in samples]
    return {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus), "wall_runs": walls}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    shared_data()  # one line and exit 2 without the real data
    commands = {name: harness_cli(*name.split()) for name in ("--help", "list tasks", "list models", "list suites")}
    with tempfile.TemporaryDirectory() as tmp:
        run = harness_cli("run", "--no-report", "--tasks", TASKS, "--models", "minilm-l6", "--data-dir", str(SHARED_DATASETS),
                          "--results", tmp)
        measured(run)  # fills the embedding cache (and the spec index) if they are cold
        measured(commands["list tasks"])
        commands["warm run"] = [*run, "--overwrite"]
        timings = {name: median_of(command, runs) for name, command in commands.items()}
    for name, t in timings.items():
        target = f" (target < {TARGETS_S[name]} s)" if name in TARGETS_S else ""
        print(f"{name:12s} wall {t['wall_s']:.3f} s, CPU {t['cpu_s']:.3f} s{target}")
    save("startup", {"runs": runs, "tasks": TASKS.split(","), "load_average_1min": os.getloadavg()[0],
                     "targets_s": TARGETS_S, "commands": timings})


if __name__ == "__main__":
    main()
