"""Faults during a run: one bad unit never stops the others, a damaged cache is recovered, a
secret never reaches the terminal, and small CLI slips get one line and exit code 2.

Unit isolation is checked in-process (a toy task type whose evaluator or row loader has a bug);
the cache and the API key through a real subprocess (no traceback, at most 3 lines).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import harness
from harness.cache import DB_NAME, EmbeddingCache
from harness.cli import main
from harness.evaluators import sts
from harness.tasktypes import get_task_type, register_task_type, unregister_task_type

REPO = Path(__file__).resolve().parent.parent
PAIRS = "".join(json.dumps({"sentence1": f"a {i}", "sentence2": f"b {i % 3}", "score": i % 5}) + "\n" for i in range(8))
SPEC = "name: {name}\ntype: {type}\nsuite: [mixed]\nmain_score: cosine_spearman\ndata: {{local: {folder}}}\n"


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    """The CLI in a subprocess: (exit code, stdout + stderr lines); never a traceback."""
    done = subprocess.run([sys.executable, str(REPO / "run_benchmark.py"), *args], cwd=cwd, capture_output=True, text=True, check=False,
                          timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, (done.stdout + done.stderr).splitlines()


# ------------------------------------------------------------------ unit isolation


def _crash(*_: Any, **__: Any) -> Any:
    return 1 / 0


@pytest.fixture
def buggy_type() -> Iterator[None]:
    """Task types ``buggy_eval`` (its evaluator divides by zero) and ``buggy_rows`` (its row loader does)."""
    base = get_task_type("sts")
    evaluator = SimpleNamespace(Options=sts.Options, METRICS=sts.METRICS, text_groups=sts.text_groups, evaluate=_crash)
    register_task_type(replace(base, name="buggy_eval", evaluator_target=evaluator))
    register_task_type(replace(base, name="buggy_rows", rows=_crash))
    yield
    unregister_task_type("buggy_eval")
    unregister_task_type("buggy_rows")


def mixed_tasks(tmp_path: Path, bad_type: str) -> Path:
    """A task folder with a good STS task and a task of ``bad_type`` (data for both)."""
    for name, task_type in (("Good", "sts"), ("Broken", bad_type)):
        (tmp_path / "tasks").mkdir(exist_ok=True)
        (tmp_path / "tasks" / f"{name}.yaml").write_text(SPEC.format(name=name, type=task_type, folder=name.lower()))
        (tmp_path / "data" / name.lower()).mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / name.lower() / "test.jsonl").write_text(PAIRS)
    return tmp_path


def run_mixed(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[str]]:
    os.chdir(tmp_path)
    code = main(["run", "--suite", "mixed", "--task-dir", "tasks", "--data-dir", "data", "--models", "random", "--no-cache", "--no-report", *extra])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


@pytest.mark.parametrize("bad_type", ["buggy_eval", "buggy_rows"])
def test_a_bug_in_one_unit_fails_that_unit_only(tmp_path: Path, capsys: pytest.CaptureFixture[str], buggy_type: None, bad_type: str) -> None:
    code, lines = run_mixed(mixed_tasks(tmp_path, bad_type), capsys)
    assert code == 1, lines  # a bug: exit 1, after every other unit ran
    assert len(lines) <= 3, lines  # one line per unit and the summary
    assert (tmp_path / "results" / "harness__random" / "seed0" / "Good.json").is_file()
    failed = [line for line in lines if line.startswith("failed")]
    assert len(failed) == 1 and "Broken" in failed[0] and "ZeroDivisionError: division by zero (traceback in " in failed[0], lines
    log = Path(failed[0].rsplit("(traceback in ", 1)[1].rstrip(")"))
    assert log.parent == tmp_path / "results" / ".harness-logs"
    assert "Traceback" in log.read_text() and "ZeroDivisionError" in log.read_text()
    summary = lines[-1]
    assert summary.startswith("run: 1 done, 1 failed") and "Broken" in summary and "1 on an internal error" in summary


def test_an_encoder_raising_fails_its_unit_and_the_api_goes_on(tmp_path: Path) -> None:
    class Flaky:
        def encode(self, texts: list[str], *, task: Any, **_: Any) -> np.ndarray:
            if task.name == "SimLex999":
                raise RuntimeError("CUDA error: device-side assert triggered")
            return np.array([[len(t), sum(map(ord, t)) % 13, 1.0] for t in texts], dtype=np.float32)

    run = harness.evaluate(Flaky(), ["WordSim353", "SimLex999"], results_dir=tmp_path, use_cache=False, verbose=False)
    statuses = {o.task: (o.status, o.bug) for o in run.summary.outcomes}
    assert run.summary.count("done") == 1 and run.summary.count("failed") == 1, statuses
    failed = next(o for o in run.summary.outcomes if o.status == "failed")
    assert failed.bug and failed.message.startswith("RuntimeError: CUDA error")


def test_a_good_and_a_bad_task_exits_2_names_the_bad_one_and_stores_the_good_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mixed_tasks(tmp_path, "sts")
    (tmp_path / "data" / "broken" / "test.jsonl").write_text(PAIRS + '{"sentence1": "x"}\n')
    code, lines = run_mixed(tmp_path, capsys)
    assert code == 2 and len(lines) <= 3, lines
    assert any(line.startswith("failed") and "Broken" in line and "line 9" in line for line in lines), lines
    assert (tmp_path / "results" / "harness__random" / "seed0" / "Good.json").is_file()


# ------------------------------------------------------------------ the embedding cache


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """A cache filled by minilm-l3-onnx on WordSim353, and the score of that clean run."""
    root = tmp_path_factory.mktemp("warm")
    code, lines = cli("run", "--tasks", "WordSim353", "--models", "minilm-l3-onnx", "--no-report", "--cache-dir", "cache", "--results", "r", cwd=root)
    assert code == 0, lines
    return root / "cache", stored_score(root / "r")


def stored_score(results: Path) -> float:
    (path,) = results.glob("*/*/WordSim353.json")
    return float(json.loads(path.read_text())["scores"]["test"][0]["main_score"])


def test_a_corrupt_cache_database_is_moved_aside_by_run_and_by_cache_info(tmp_path: Path, warm_cache: tuple[Path, float]) -> None:
    cache, clean = warm_cache
    for command in ("run", "info"):
        copy = tmp_path / command
        copy.mkdir()
        data = bytearray((cache / DB_NAME).read_bytes())
        middle = len(data) // 2 // 4096 * 4096
        data[middle : middle + 8192] = random.Random(0).randbytes(8192)  # two whole pages of garbage
        (copy / DB_NAME).write_bytes(bytes(data))
        if command == "run":  # SQLite notices the damage (moved aside) or the checksums do (entries recomputed)
            code, lines = cli("run", "--tasks", "WordSim353", "--models", "minilm-l3-onnx", "--no-report", "--cache-dir", str(copy),
                              "--results", "r", cwd=tmp_path)
            assert code == 0 and len(lines) <= 3 and stored_score(tmp_path / "r") == clean, lines
            assert "0 texts encoded" not in lines[-2], lines
            continue
        code, lines = cli("cache", "info", "--cache-dir", str(copy), cwd=tmp_path)
        assert code == 0 and len(lines) <= 4 and lines[2].startswith(f"cache: {copy / DB_NAME}: "), lines  # table, path and size, warning
        assert any(line.startswith("warning:") and "corrupt" in line and "moved it aside" in line for line in lines), lines
        assert list(copy.glob(f"{DB_NAME}.corrupt-*"))
        code, lines = cli("cache", "info", "--cache-dir", str(copy), cwd=tmp_path)  # the new, empty cache is sound
        assert code == 0 and len(lines) == 3 and lines[-1].startswith(f"cache: {copy / DB_NAME}: 0 vectors"), lines


def test_a_cache_file_that_is_not_a_database_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / DB_NAME).write_bytes(random.Random(2).randbytes(20_000))
    code, lines = cli("run", "--tasks", "WordSim353", "--models", "bm25", "--no-report", "--cache-dir", "cache", cwd=tmp_path)
    assert code == 0 and len(lines) <= 3, lines
    code, lines = cli("cache", "info", "--cache-dir", "cache", cwd=tmp_path)
    assert code == 0 and len(lines) == 3 and lines[-1].startswith("cache: ") and ": 0 vectors" in lines[-1], lines


def test_cached_vectors_of_the_wrong_length_are_recomputed(tmp_path: Path, warm_cache: tuple[Path, float]) -> None:
    cache, clean = warm_cache
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / DB_NAME).write_bytes((cache / DB_NAME).read_bytes())
    with sqlite3.connect(tmp_path / "raw" / DB_NAME) as db:  # a raw half-length vector, as a foreign writer would leave
        db.execute("UPDATE vectors SET data = substr(data, 1, 768) WHERE key IN (SELECT key FROM vectors LIMIT 5)")
    shortened = harness.evaluate("minilm-l3-onnx", ["WordSim353"], results_dir=tmp_path / "r1", cache_dir=tmp_path / "raw", verbose=False)
    assert shortened.results[0].main_score == clean
    assert shortened.results[0].data.harness.encode["encoded"] == 5

    # A well-formed entry of another dimension (valid checksum) is a miss too.
    copy = EmbeddingCache(tmp_path / "raw")
    identity, = {m for (m,) in copy._ready().execute("SELECT model FROM vectors")}
    keys = [k for (k,) in copy._ready().execute("SELECT key FROM vectors LIMIT 3")]
    copy.put_many(identity, {"name": "x", "revision": "y"}, keys, np.ones((3, 17), dtype=np.float32))
    copy.close()
    foreign = harness.evaluate("minilm-l3-onnx", ["WordSim353"], results_dir=tmp_path / "r2", cache_dir=tmp_path / "raw", verbose=False)
    assert foreign.results[0].main_score == clean
    assert foreign.results[0].data.harness.encode["encoded"] == 3


# ------------------------------------------------------------------ the API key


class _EchoKey(BaseHTTPRequestHandler):
    """Answers 401 with a message quoting the Authorization header, its prefix, and padding that
    pushes the key past the 200th character."""

    def log_message(self, *_: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        auth = self.headers.get("Authorization", "")
        key = auth.removeprefix("Bearer ")
        body = json.dumps({"error": {"message": f"{'x' * 90} invalid key {auth}; prefix {key[:20]}; tail {key[-12:]}"}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoKey)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_401_echoing_the_key_prints_no_piece_of_it(tmp_path: Path, echo_server: str) -> None:
    key = "sk-proj-" + "".join(random.Random(1).choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=156))
    code, lines = cli("run", "--tasks", "WordSim353", "--models", "openai:text-embedding-3-small", "--no-report", "--no-cache",
                      cwd=tmp_path, env={"OPENAI_API_KEY": key, "OPENAI_BASE_URL": echo_server})
    assert code == 2 and len(lines) <= 3 and "HTTP 401" in lines[0], lines
    output = "\n".join(lines)
    assert not any(key[i : i + 8] in output for i in range(len(key) - 7)), output


def test_a_non_ascii_api_key_is_one_line(tmp_path: Path, echo_server: str) -> None:
    code, lines = cli("run", "--tasks", "WordSim353", "--models", "openai:text-embedding-3-small", "--no-report", "--no-cache",
                      cwd=tmp_path, env={"OPENAI_API_KEY": "sk-abc\u2013def0123456789", "OPENAI_BASE_URL": echo_server})
    assert code == 2 and len(lines) <= 3 and "OPENAI_API_KEY: character 7 is not printable ASCII" in lines[0], lines
    assert "def0123456789" not in "\n".join(lines)


# ------------------------------------------------------------------ small slips, one line each


def test_an_empty_model_list_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.chdir(tmp_path)
    assert main(["run", "--tasks", "WordSim353", "--models", ",", "--no-report"]) == 2
    assert capsys.readouterr().err.strip() == "error: --models: no model given"
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("folder", ["typo", "empty"])
def test_report_on_a_missing_or_empty_results_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str], folder: str) -> None:
    os.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    assert main(["report", "--results", folder, "--out", "rep"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: --results {folder}: ") and "\n" not in err
    assert not (tmp_path / "rep").exists()


def test_a_300_character_task_name_is_a_spec_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.chdir(tmp_path)
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "long.yaml").write_text(SPEC.format(name="A" * 300, type="sts", folder="x"))
    assert main(["list", "tasks", "--task-dir", "tasks"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: tasks/long.yaml: name:") and "128" in err and "\n" not in err


def test_task_names_differing_only_in_case_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.chdir(tmp_path)
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "a.yaml").write_text(SPEC.format(name="MyTask", type="sts", folder="x"))
    (tmp_path / "tasks" / "b.yaml").write_text(SPEC.format(name="mytask", type="sts", folder="x"))
    assert main(["list", "tasks", "--task-dir", "tasks"]) == 2
    err = capsys.readouterr().err.strip()
    assert "a.yaml" in err and "b.yaml" in err and "differ only in case" in err and "\n" not in err


def test_a_huge_error_message_is_cut_to_one_short_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.errors import SpecError

    def flood(*_: Any, **__: Any) -> None:
        raise SpecError("x.yaml: name: " + "A" * 10_000_000)

    monkeypatch.setattr("harness.api.get_tasks", flood)
    assert main(["list", "tasks"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: x.yaml: name: AAA") and len(err) < 600 and err.count("\n") == 1


def test_a_successful_one_unit_run_prints_at_most_3_lines(tmp_path: Path) -> None:
    code, lines = cli("run", "--tasks", "WordSim353", "--models", "bm25", "--out", "rep", cwd=tmp_path)
    assert code == 0 and len(lines) <= 3, lines
