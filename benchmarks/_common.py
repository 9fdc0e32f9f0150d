"""Shared plumbing for the benchmark scripts: timing subprocesses, locating data, saving numbers."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED_DATASETS = Path(os.environ.get("HARNESS_DATA_DIR") or REPO.parent / "shared" / "datasets")
RESULTS = Path(__file__).resolve().parent / "results"


def timed(command: list[str], **kwargs: Any) -> float:
    """Wall seconds of a fresh process running ``command`` (fails loudly on a non-zero exit)."""
    return measured(command, **kwargs)[0]


def measured(command: list[str], **kwargs: Any) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the child and its children, stdout) of a fresh process running
    ``command``; fails loudly on a non-zero exit. CPU time is what a loaded machine disturbs least."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def paired(sides: Mapping[str, Any], pairs: int) -> dict[str, Any]:
    """Run two sides ``pairs`` times, alternating which goes first, and summarise their ratio.

    Args:
        sides: exactly two entries, name -> zero-argument callable returning (wall s, CPU s);
            the ratio is second / first.
        pairs: number of paired runs.

    Returns:
        per side the list of (wall, cpu) runs, and for "wall" and "cpu" the median ratio with its
        range over the pairs.
    """
    (first, run_first), (second, run_second) = sides.items()
    runs: dict[str, list[tuple[float, float]]] = {first: [], second: []}
    for i in range(pairs):
        order = [(first, run_first), (second, run_second)]
        for name, run in order if i % 2 == 0 else order[::-1]:
            runs[name].append(run())
    summary: dict[str, Any] = {"pairs": pairs, "runs": runs}
    for axis, index in (("wall", 0), ("cpu", 1)):
        ratios = [b[index] / a[index] for a, b in zip(runs[first], runs[second])]
        summary[f"{axis}_ratio_median"] = statistics.median(ratios)
        summary[f"{axis}_ratio_range"] = [min(ratios), max(ratios)]
    return summary


def fail(message: str) -> None:
    """One line on stderr and exit 2: a benchmark that cannot run says why, without a traceback."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def shared_data() -> Path:
    """The real data root (``$HARNESS_DATA_DIR``, else ``../shared/datasets`` beside the clone)."""
    if not SHARED_DATASETS.is_dir():
        fail(f"{SHARED_DATASETS}: no such folder; this benchmark runs on the real MTEB data (set HARNESS_DATA_DIR to its folder)")
    return SHARED_DATASETS


def harness_cli(*args: str) -> list[str]:
    return [sys.executable, str(REPO / "run_benchmark.py"), *args]


def save(name: str, payload: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` (docs/performance.md's table is made from these)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), **payload}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {path.relative_to(REPO)}")
    return path
