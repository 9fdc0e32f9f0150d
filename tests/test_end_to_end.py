"""End to end through the CLI on real data: the published all-MiniLM-L6-v2 numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "run_benchmark.py"), *args], cwd=cwd, capture_output=True, text=True, timeout=900)


def scores_of(results: Path) -> dict[str, float]:
    return {p.stem: json.loads(p.read_text())["scores"]["test"][0]["main_score"] for p in sorted(results.glob("*/*/*.json"))}


@pytest.mark.slow
def test_stsbenchmark_reproduces_the_published_score_and_is_deterministic(tmp_path: Path, shared_datasets: Path) -> None:
    import mteb

    # Each run encodes into its own empty cache: the second must not read the first one's vectors.
    first = cli("run", "--tasks", "STSBenchmark", "--models", "minilm-l6", "--data-dir", str(shared_datasets),
                "--results", str(tmp_path / "r1"), "--out", str(tmp_path / "report"), "--batch-size", "64",
                "--cache-dir", str(tmp_path / "cache1"), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert " 0 from cache" in first.stderr
    path = tmp_path / "r1" / "sentence-transformers__all-MiniLM-L6-v2" / "8b3219a92973c328a8e22fadcfa821b5dc75636a" / "STSBenchmark.json"
    loaded = mteb.TaskResult.from_disk(path)
    assert loaded.get_score() == pytest.approx(0.82032, abs=2e-4)
    assert (tmp_path / "report" / "index.html").is_file()
    second = cli("run", "--tasks", "STSBenchmark", "--models", "minilm-l6", "--data-dir", str(shared_datasets),
                 "--results", str(tmp_path / "r2"), "--no-report", "--batch-size", "64",
                 "--cache-dir", str(tmp_path / "cache2"), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert " 0 from cache" in second.stderr
    assert scores_of(tmp_path / "r1") == scores_of(tmp_path / "r2")
    assert json.loads(path.read_text())["scores"] == json.loads((tmp_path / "r2" / path.relative_to(tmp_path / "r1")).read_text())["scores"]
    resumed = cli("run", "--tasks", "STSBenchmark", "--models", "minilm-l6", "--data-dir", str(shared_datasets),
                  "--results", str(tmp_path / "r1"), "--no-report", "--cache-dir", str(tmp_path / "cache1"), cwd=tmp_path)
    assert resumed.returncode == 0 and "1 resumed" in resumed.stderr


@pytest.mark.slow
def test_a_spec_written_from_the_contract_runs_from_a_task_dir(tmp_path: Path, shared_datasets: Path) -> None:
    tasks = tmp_path / "mytasks"
    tasks.mkdir()
    (tasks / "sts13.yaml").write_text(
        "name: MySTS13\ntype: sts\ndescription: SemEval-2013 STS\nsuite: [mine]\ndomain: general\nlanguages: [eng]\n"
        "main_score: cosine_spearman\ndata:\n  local: sts13\n  eval_split: test\n"
        "columns: {sentence1: sentence1, sentence2: sentence2, score: score}\n"
    )
    done = cli("run", "--suite", "mine", "--task-dir", str(tasks), "--models", "minilm-l6", "--data-dir", str(shared_datasets),
               "--results", str(tmp_path / "r"), "--batch-size", "64", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert scores_of(tmp_path / "r")["MySTS13"] == pytest.approx(0.80603, abs=2e-4)
    assert (tmp_path / "reports" / "mine" / "index.html").is_file()
