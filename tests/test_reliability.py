"""Crash safety and concurrency: SIGKILL at random moments, two writers on one store."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from harness.store import read_result

REPO = Path(__file__).resolve().parent.parent
TASKS = "WordSim353,LeeDocSimilarity,SimLex999,PangLeePolarity"


def command(results: Path, cache: Path, models: str = "minilm-l3-onnx,bm25") -> list[str]:
    return [sys.executable, str(REPO / "run_benchmark.py"), "run", "--tasks", TASKS, "--models", models,
            "--results", str(results), "--cache-dir", str(cache), "--no-report"]


def assert_store_is_valid(results: Path) -> dict[str, float]:
    """Every file parses and validates; no temporary file is visible as a result."""
    scores = {}
    for path in results.rglob("*"):
        if path.is_dir() or path.name == ".harness.lock" or path.name.endswith(".tmp"):
            continue
        if path.suffix == ".json":
            stored = read_result(path)
            scores[f"{stored.model_name}/{stored.task_name}"] = stored.main_score
        else:
            assert path.name.endswith(".items.npz"), path
            with np.load(path, allow_pickle=False) as archive:
                assert archive.files
    return scores


def test_sigkill_at_random_moments_never_corrupts_and_resumes_exactly(tmp_path: Path) -> None:
    reference = subprocess.run(command(tmp_path / "reference", tmp_path / "cache0"), capture_output=True, text=True, timeout=600)
    assert reference.returncode == 0, reference.stderr
    expected = assert_store_is_valid(tmp_path / "reference")
    assert len(expected) == 8
    results, cache = tmp_path / "killed", tmp_path / "cache"
    rng = random.Random(1234)
    for _ in range(20):
        process = subprocess.Popen(command(results, cache), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(0.5, 6.0))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        assert_store_is_valid(results)
    final = subprocess.run(command(results, cache), capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    assert assert_store_is_valid(results) == expected
    assert not list(results.rglob(".*.tmp"))  # orphans of killed writers are swept


def test_two_processes_on_one_store_lose_nothing(tmp_path: Path) -> None:
    results, cache = tmp_path / "results", tmp_path / "cache"
    first = subprocess.Popen(command(results, cache, "minilm-l3-onnx,bm25"), stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command(results, cache, "bm25,random"), stderr=subprocess.PIPE, text=True)
    assert first.wait(timeout=600) == 0, first.stderr.read()
    assert second.wait(timeout=600) == 0, second.stderr.read()
    scores = assert_store_is_valid(results)
    assert len(scores) == 12  # 3 models x 4 tasks, bm25 written by both
    documents = [json.loads(p.read_text()) for p in results.rglob("*.json")]
    assert all(d["scores"]["test"][0]["main_score"] == d["scores"]["test"][0][d["harness"]["main_score_name"]] for d in documents)
