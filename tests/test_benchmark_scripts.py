"""Every benchmark script runs or exits with one line: `--help` works, and without its data a script
says so in one line (exit 2) instead of a traceback. The capacity plan takes --data-dir and leaves
out models with no parameters."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p.name for p in (REPO / "benchmarks").glob("*.py") if not p.name.startswith("_"))
NEEDS_REAL_DATA = ["bench_overhead.py", "bench_startup.py", "bench_vs_mteb.py", "bench_warm.py"]


def script(name: str, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "benchmarks" / name), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}, check=False)


def assert_one_line(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert all(f in lines[0] for f in fragments), lines[0]


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_has_help(name: str, tmp_path: Path) -> None:
    done = script(name, "--help", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("usage:"), done.stderr


@pytest.mark.parametrize("name", NEEDS_REAL_DATA)
def test_without_the_real_data_a_script_says_so_in_one_line(name: str, tmp_path: Path) -> None:
    assert_one_line(script(name, cwd=tmp_path, env={"HARNESS_DATA_DIR": str(tmp_path / "absent")}), "HARNESS_DATA_DIR")


def test_capacity_plan_needs_data_dir_for_a_task_with_local_data_and_skips_bm25(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert_one_line(script("capacity_plan.py", "--results", "absent", cwd=tmp_path), "absent", "no such folder")
    assert main(["run", "--tasks", "WordSim353", "--models", "bm25,random", "--results", "r", "--no-report", "--no-cache"]) == 0
    assert_one_line(script("capacity_plan.py", "--results", "r", cwd=tmp_path), "no result of a model with parameters")
    # the random model's result, dressed as a model with parameters on a task whose data needs --data-dir
    folder = tmp_path / "r" / "harness__random" / "seed0"
    task = "FinancialPhraseBankAllAgreeClassification"
    document = json.loads((folder / "WordSim353.json").read_text())
    document["task_name"], document["harness"]["items_file"] = task, f"{task}.items.npz"
    document["harness"]["model"]["n_parameters"] = 1000
    (folder / f"{task}.json").write_text(json.dumps(document))
    shutil.copy(folder / "WordSim353.items.npz", folder / f"{task}.items.npz")
    assert_one_line(script("capacity_plan.py", "--results", "r", cwd=tmp_path), task, "--data-dir")
