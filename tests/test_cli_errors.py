"""Bad input through the CLI: exit code 2, one line naming file and field, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STS = "name: Bad\ntype: sts\nsuite: [bad]\nmain_score: cosine_spearman\ndata: {local: bad}\n"


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "run_benchmark.py"), *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )


def assert_user_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith(("error:", "failed", "skipped"))]
    assert errors, done.stderr
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr


def run_bad_data(tmp_path: Path, rows: str | bytes, spec: str = STS, filename: str = "test.jsonl") -> subprocess.CompletedProcess:
    (tmp_path / "tasks").mkdir(exist_ok=True)
    (tmp_path / "tasks" / "bad.yaml").write_text(spec)
    (tmp_path / "data" / "bad").mkdir(parents=True, exist_ok=True)
    target = tmp_path / "data" / "bad" / filename
    target.write_bytes(rows if isinstance(rows, bytes) else rows.encode())
    return run_cli(tmp_path, "run", "--suite", "bad", "--task-dir", "tasks", "--data-dir", "data", "--models", "random", "--no-report")


def pair(s1: str = "a b", s2: str = "c d", score: object = 1.0) -> str:
    return json.dumps({"sentence1": s1, "sentence2": s2, "score": score}) + "\n"


def test_unknown_model(tmp_path: Path) -> None:
    assert_user_error(run_cli(tmp_path, "run", "--tasks", "STSBenchmark", "--models", "minilm-l7"), "unknown model 'minilm-l7'", "did you mean")


def test_unknown_task(tmp_path: Path) -> None:
    assert_user_error(run_cli(tmp_path, "run", "--tasks", "STSBenchmrk", "--models", "random"), "unknown task 'STSBenchmrk'", "STSBenchmark")


def test_unknown_suite(tmp_path: Path) -> None:
    assert_user_error(run_cli(tmp_path, "list", "tasks", "--suite", "nope"), "--suite: unknown suite")


def test_malformed_spec_in_task_dir(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "x.yaml").write_text(STS.replace("cosine_spearman", "ndcg_at_10"))
    assert_user_error(run_cli(tmp_path, "list", "tasks", "--task-dir", "tasks"), "x.yaml: main_score")


def test_missing_data_folder(tmp_path: Path) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "bad.yaml").write_text(STS)
    (tmp_path / "data").mkdir()
    done = run_cli(tmp_path, "run", "--suite", "bad", "--task-dir", "tasks", "--data-dir", "data", "--models", "random", "--no-report")
    assert_user_error(done, "bad.yaml: data.local: 'bad' not found")


@pytest.mark.parametrize(
    ("rows", "fragments"),
    [
        (pair() + json.dumps({"sentence1": "a", "score": 1}) + "\n", ("test.jsonl: line 2: column 'sentence2' not found", "columns.sentence2")),
        ("", ("test.jsonl: empty split",)),
        (pair() + pair(score="high"), ("line 2: column 'score' is not a number",)),
        (pair() + pair(score=float("nan")), ("line 2: column 'score' is nan",)),
        (pair() + pair(s1="  "), ("line 2: column 'sentence1' is an empty text",)),
        (pair() + "{not json\n", ("line 2: invalid JSON",)),
        (pair().encode() + b'{"sentence1": "caf\xe9"}\n', ("line 2: not UTF-8",)),
    ],
)
def test_bad_sts_rows(tmp_path: Path, rows: str, fragments: tuple[str, ...]) -> None:
    assert_user_error(run_bad_data(tmp_path, rows), *fragments)


def test_single_label_classification(tmp_path: Path) -> None:
    spec = "name: Bad\ntype: classification\nsuite: [bad]\nmain_score: accuracy\ndata: {local: bad}\n"
    row = json.dumps({"text": "x y", "label": 1}) + "\n"
    (tmp_path / "data" / "bad").mkdir(parents=True)
    (tmp_path / "data" / "bad" / "train.jsonl").write_text(row * 3)
    assert_user_error(run_bad_data(tmp_path, row * 3, spec), "train.jsonl: column 'label' has a single label")


def test_data_path_escaping_the_root(tmp_path: Path) -> None:
    spec = STS.replace("local: bad", "local: ../outside")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "test.jsonl").write_text(pair() * 3)
    assert_user_error(run_bad_data(tmp_path, pair() * 3, spec), "escapes the data root")
