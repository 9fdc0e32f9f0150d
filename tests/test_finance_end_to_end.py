"""The finance suite through the CLI with bm25: local tasks score, hub-only tasks skip (offline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.registry import discover_specs

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # about 13 s
def test_finance_suite_runs_offline_with_bm25(tmp_path: Path, shared_datasets: Path) -> None:
    specs = [s for s in discover_specs().values() if "finance" in s.suite]
    local = {s.name for s in specs if s.data.builder}
    hub_only = {s.name for s in specs if not s.data.builder}
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, str(REPO / "run_benchmark.py"), "run", "--suite", "finance", "--models", "bm25",
         "--data-dir", str(shared_datasets), "--results", str(tmp_path / "results"), "--no-report"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    skipped = [line.split(":")[0].removeprefix("skipped ") for line in output.splitlines() if line.startswith("skipped ")]
    assert sorted(skipped) == sorted(hub_only)  # one line per hub-only task
    results = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "results").glob("*/*/*.json")}
    assert set(results) == local
    for name, doc in results.items():
        split = next(iter(doc["scores"]))
        score = doc["scores"][split][0]["main_score"]
        assert 0.0 < score <= 1.0, (name, score)
