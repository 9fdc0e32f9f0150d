"""Shared plumbing for the benchmark scripts: timing subprocesses, locating data, saving numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED_DATASETS = Path(os.environ.get("HARNESS_DATA_DIR") or REPO.parent / "shared" / "datasets")
RESULTS = Path(__file__).resolve().parent / "results"


def timed(command: list[str], **kwargs: Any) -> float:
    """Wall seconds of a fresh process running ``command`` (fails loudly on a non-zero exit)."""
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return seconds


def harness_cli(*args: str) -> list[str]:
    return [sys.executable, str(REPO / "run_benchmark.py"), *args]


def save(name: str, payload: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` (the README's performance table is made from these)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"date": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), **payload}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {path.relative_to(REPO)}")
    return path
