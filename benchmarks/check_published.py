"""End-to-end check of the published leaderboard against mteb's own table (issue 20's check).

Copies a subset of mteb's results repository (random models, or named ones) into an empty folder,
runs ``import-results`` and ``report --benchmark BENCH`` through the CLI into an empty store, and
compares ``leaderboard.csv`` with ``mteb.ResultCache(...).load_results(tasks=BENCH).join_revisions()
.get_benchmark_result()`` on the same files: for every model of mteb's table, the Borda rank and
Mean (Task) (to 1e-6); and every row of ours has a rank interval. Exit 0 when all agree.

    python benchmarks/check_published.py --repo /work/mtebres/remote --models 5 --seed 1
    python benchmarks/check_published.py --repo /work/mtebres/remote --names intfloat__e5-small,BAAI__bge-m3
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 1e-6


def _run(*args: str) -> tuple[float, str]:
    """Run the harness CLI; the error text (rc or traceback) fails the check."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "run_benchmark.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0 or "Traceback" in done.stderr:
        raise SystemExit(f"FAIL: {' '.join(args[:1])} rc={done.returncode}\n{done.stderr[-3000:]}")
    return seconds, done.stderr


def _subset(repo: Path, folder: Path, count: int, names: list[str], seed: int) -> list[str]:
    source = repo / "results"
    chosen = names or sorted(random.Random(seed).sample(sorted(p.name for p in source.iterdir() if p.is_dir()), count))
    for name in chosen:
        shutil.copytree(source / name, folder / "remote" / "results" / name)
    return chosen


def _oracle(folder: Path, benchmark: str) -> list[dict[str, object]]:
    import mteb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = mteb.ResultCache(folder).load_results(tasks=benchmark, require_model_meta=False)
        table = loaded.join_revisions().get_benchmark_result()
    if "Model" not in table.columns:  # mteb's "No results" sentinel
        return []
    return table.to_dict(orient="records")


def _number(text: str) -> float:
    return float(text) if text not in ("", None) else math.nan


def check(repo: Path, count: int, names: list[str], seed: int, benchmark: str, keep: Path | None) -> int:
    work = Path(tempfile.mkdtemp(prefix="check_published_")) if keep is None else keep
    chosen = _subset(repo, work / "src", count, names, seed)
    import_s, import_err = _run("import-results", str(work / "src" / "remote"), "--results", str(work / "store"))
    report_s, _ = _run("report", "--results", str(work / "store"), "--out", str(work / "out"), "--benchmark", benchmark)
    with open(work / "out" / "leaderboard.csv", newline="", encoding="utf-8") as handle:
        ours = {row["model"]: row for row in csv.DictReader(handle)}
    problems = [f"{name}: no rank interval" for name, row in ours.items() if not (row["rank_ci_low"] and row["rank_ci_high"])]
    reference = _oracle(work / "src", benchmark)
    for row in reference:
        mine = ours.get(f"{row['Model']} (published)")
        if mine is None:
            problems.append(f"{row['Model']}: missing from leaderboard.csv")
            continue
        if int(mine["borda_rank"]) != int(row["Rank (Borda)"]):
            problems.append(f"{row['Model']}: Borda {mine['borda_rank']} vs mteb {row['Rank (Borda)']}")
        a, b = _number(mine["mean_task"]), float(row["Mean (Task)"])
        if not ((math.isnan(a) and math.isnan(b)) or abs(a - b) <= TOLERANCE):
            problems.append(f"{row['Model']}: Mean (Task) {a} vs mteb {b}")
    print(f"{len(chosen)} model folders, {len(ours)} rows ours, {len(reference)} in mteb's table; "
          f"import {import_s:.1f} s, report {report_s:.1f} s; {import_err.strip().splitlines()[-1] if import_err.strip() else ''}")
    for line in problems:
        print("  MISMATCH", line)
    if keep is None and not problems:
        shutil.rmtree(work)
    elif problems:
        print(f"  kept {work}")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=Path("/work/mtebres/remote"), help="a results-repository clone")
    parser.add_argument("--models", type=int, default=5, help="how many random model folders")
    parser.add_argument("--names", default="", help="comma-separated model folder names instead")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--benchmark", default="MTEB(eng, v2)")
    parser.add_argument("--keep", type=Path, help="work in this (empty) folder and keep it")
    args = parser.parse_args()
    if not (args.repo / "results").is_dir():
        print(f"error: --repo {args.repo}: no results/ folder (clone embeddings-benchmark/results and name the clone)", file=sys.stderr)
        return 2
    names = [n for n in args.names.split(",") if n]
    return check(args.repo, args.models, names, args.seed, args.benchmark, args.keep)


if __name__ == "__main__":
    sys.exit(main())
