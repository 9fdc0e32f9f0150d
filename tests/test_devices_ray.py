"""`--devices cpu,cpu`: two replicas share each task's texts through the Ray executor's shards, with
the scores of one process (issue 21 item 5). One run of each: Ray is slow to start on 2 cores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import harness

REPO = Path(__file__).resolve().parent.parent
MODEL = "minilm-l3-onnx"
TASKS = "MiniNewsgroupsSubjectRetrieval"  # queries and documents: 2 shards each, the first two start on both replicas at once
ENV = {**os.environ, "RAY_AUTH_MODE": "disabled", "HARNESS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


@pytest.mark.slow
def test_two_cpu_devices_give_the_scores_of_one(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    base = [sys.executable, str(REPO / "run_benchmark.py"), "run", "--tasks", TASKS, "--models", MODEL, "--no-report"]
    one = subprocess.run([*base, "--results", str(tmp_path / "one"), "--cache-dir", str(tmp_path / "c1")],
                         capture_output=True, text=True, timeout=300, env=ENV)
    assert one.returncode == 0, one.stderr
    two = subprocess.run([*base, "--results", str(tmp_path / "two"), "--cache-dir", str(tmp_path / "c2"), "--devices", "cpu,cpu"],
                         capture_output=True, text=True, timeout=300, env=ENV)
    assert two.returncode == 0, two.stderr
    expected = {r.task_name: r for r in harness.load_results(tmp_path / "one")}
    got = {r.task_name: r for r in harness.load_results(tmp_path / "two")}
    assert sorted(got) == sorted(expected) == sorted(TASKS.split(","))
    for task, result in expected.items():
        assert got[task].scores() == result.scores(), task  # shards batch other texts together: vectors agree to ~1e-7, metrics exactly
        for name, values in result.items().items():
            if values.dtype.kind == "f":
                np.testing.assert_allclose(got[task].items()[name], values, rtol=0, atol=1e-6, err_msg=f"{task}: {name}")
            else:
                np.testing.assert_array_equal(got[task].items()[name], values, err_msg=f"{task}: {name}")
        encode, runtime = got[task].data.harness.encode, got[task].data.harness.model["runtime"]
        assert len(encode["replicas"]) == 2 and min(encode["replicas"]) > 0, encode  # both replicas encoded texts
        assert sum(encode["replicas"]) == encode["encoded"] == result.data.harness.encode["encoded"]
        assert runtime["device"] == "cpu" and runtime["device_count"] == 2 and runtime["devices"] == ["cpu", "cpu"]
        assert runtime["texts_per_s"] > 0 and result.data.harness.model["runtime"]["device_count"] == 1
