"""Warm rerun (cache filled, results removed, fresh process) against the cold run; start-up times.

Targets: warm >= 50x faster than cold; `list tasks` and `--help` under 1 s.

    python benchmarks/bench_warm.py
"""

from __future__ import annotations

import argparse
import shutil
import tempfile

from _common import SHARED_DATASETS, harness_cli, save, shared_data, timed

TASKS = "STSBenchmark,STS13,STS15,TATQAEvidenceRetrieval,FinancialPhraseBankAllAgreeClassification"


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    shared_data()  # one line and exit 2 without the real data
    with tempfile.TemporaryDirectory() as tmp:
        args = ["run", "--tasks", TASKS, "--models", "minilm-l6", "--data-dir", str(SHARED_DATASETS), "--results", f"{tmp}/results",
                "--cache-dir", f"{tmp}/cache", "--no-report"]
        cold = timed(harness_cli(*args))
        shutil.rmtree(f"{tmp}/results")
        warm = timed(harness_cli(*args))
    listing = min(timed(harness_cli("list", "tasks")) for _ in range(3))
    helping = min(timed(harness_cli("--help")) for _ in range(3))
    print(f"cold: {cold:.1f} s\nwarm: {warm:.2f} s\ncold / warm: {cold / warm:.1f}x (target >= 50x)")
    print(f"list tasks: {listing:.2f} s, --help: {helping:.2f} s (target < 1 s)")
    save("warm", {"tasks": TASKS.split(","), "cold_s": cold, "warm_s": warm, "speedup": cold / warm, "list_tasks_s": listing, "help_s": helping})


if __name__ == "__main__":
    main()
