"""`compare --json`: exactly the documented field names; minilm beats random on every default task."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIELDS = ["task", "model_a", "model_b", "score_a", "score_b", "delta", "ci_low", "ci_high", "p_value", "p_holm", "significant"]


@pytest.mark.slow
def test_compare_json_fields_and_power(tmp_path: Path) -> None:
    cli = [sys.executable, str(REPO / "run_benchmark.py")]
    done = subprocess.run([*cli, "run", "--models", "minilm-l6,random", "--results", str(tmp_path / "r"), "--no-report"],
                          capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = subprocess.run([*cli, "compare", "--results", str(tmp_path / "r"), "--resamples", "999", "--json"],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    pairs = payload["pairs"]
    assert pairs and all(list(p) == FIELDS for p in pairs)
    assert len({p["task"] for p in pairs}) == 8
    assert all(p["significant"] and p["model_a"] == "sentence-transformers/all-MiniLM-L6-v2" for p in pairs)
