"""What a run prints: one overall progress line on a terminal only, a skipped task said once with
the --data-dir hint, scipy's constant-input warning replaced by one note of ours, no report line
before "no task could run", `cache info` with its path and size; report files honour the umask."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from harness.progress import RunProgress, about

REPO = Path(__file__).resolve().parent.parent


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_overall_line_counts_units_and_estimates_from_texts_and_throughput() -> None:
    clock = [0.0]
    stream = Terminal()
    progress = RunProgress([("m", "a"), ("m", "b"), ("n", "a"), ("n", "b")], stream=stream, clock=lambda: clock[0])
    assert progress.line() == "unit 0/4, time left not known yet"
    clock[0] = 60.0
    progress.finished("m", "a", 600)  # m: 10 texts/s; b unknown -> mean 600 texts; n unmeasured -> the overall 10/s
    assert progress.seconds_left() == pytest.approx(60 + 60 + 60)
    assert progress.line() == "unit 1/4, about 3 min left"
    clock[0] = 120.0
    progress.finished("m", "b", 1200)  # m: 1800 texts in 120 s = 15/s; n: a 600 + b 1200 texts at 15/s
    assert progress.seconds_left() == pytest.approx(1800 / 15)
    progress.finished("n", "a", 0)  # skipped: counted, nothing measured
    assert progress.line() == "unit 3/4, about 1 min left"
    progress.close()
    drawn = stream.getvalue()
    assert "unit 2/4, about 2 min left" in drawn and "\r" in drawn


def test_off_a_terminal_nothing_is_drawn() -> None:
    stream = io.StringIO()
    progress = RunProgress([("m", "a")], stream=stream)
    progress.finished("m", "a", 10)
    progress.close()
    assert stream.getvalue() == ""


def test_time_left_is_said_as_a_person_would() -> None:
    assert [about(s) for s in (5, 100, 3600, 3 * 3600 + 600)] == [
        "less than a minute left", "about 2 min left", "about 60 min left", "about 3 h 10 min left"]


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, str(REPO / "run_benchmark.py"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_skipped_once_with_the_hint_and_one_note_for_undefined_metrics(tmp_path: Path) -> None:
    """Two lexical models on SimLex999 (constant predictions: undefined correlations) and on a hub
    task that is not here (offline): one "skipped" line, one note, no raw scipy warning, one line
    per finished unit and no progress bar (stderr is not a terminal)."""
    done = _cli(tmp_path, "run", "--tasks", "STSBenchmark,SimLex999", "--models", "bm25,tfidf", "--results", "r", "--out", "o")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    skipped = [line for line in lines if line.startswith("skipped")]
    assert len(skipped) == 1 and "STSBenchmark" in skipped[0] and "--data-dir" in skipped[0], lines
    notes = [line for line in lines if line.startswith("note:")]
    assert len(notes) == 1 and "undefined" in notes[0] and "0.0" in notes[0], lines
    assert "An input array is constant" not in done.stderr and "Warning" not in done.stderr
    assert len([line for line in lines if line.startswith("done")]) == 2
    assert "\r" not in done.stderr and "unit 0/" not in done.stderr


def test_no_report_line_before_no_task_could_run(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--tasks", "STSBenchmark", "--models", "bm25", "--results", "r", "--out", "o"])
    err = capsys.readouterr().err
    assert code == 2 and "error: no task could run" in err and "report:" not in err, err
    assert not (tmp_path / "o").exists()


def test_cache_info_names_the_path_and_the_size(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from harness.cache import EmbeddingCache

    monkeypatch.chdir(tmp_path)
    cache = EmbeddingCache(tmp_path / "c")
    cache.put_many("id", {"name": "org/m", "revision": "r1"}, [b"k1", b"k2", b"k3"], np.ones((3, 8)))
    cache.close()
    assert main(["cache", "info", "--cache-dir", "c"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    on_disk = sum(p.stat().st_size for p in (tmp_path / "c").glob("embeddings.sqlite3*"))
    assert on_disk > 0
    assert last == f"cache: {tmp_path / 'c' / 'embeddings.sqlite3'}: 3 vectors, {on_disk / 2**20:.1f} MiB on disk", last


def test_reproduce_report_files_honour_the_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The leaderboard's files are checked in test_bad_inputs; these are reproduce's."""
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o027)
    try:
        code = main(["reproduce", "--tasks", "STSBenchmark", "--models", "minilm-l6", "--results", "r", "--out", "o"])
    finally:
        os.umask(old)
    files = sorted((tmp_path / "o").iterdir())
    assert code == 0 and [p.name for p in files] == ["mteb_paper_eng.html", "mteb_paper_eng.md"]
    assert all(p.stat().st_mode & 0o777 == 0o640 for p in files), [oct(p.stat().st_mode) for p in files]
