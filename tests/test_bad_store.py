"""A store that lies: the store and the report read only regular files inside the results folder,
size-capped, with ``items_file`` confined to the result's folder; plot labels are plain text;
written files honour the umask.

Each bad file must give exactly one warning line naming it while the report still renders (exit 0).
``report`` runs in a subprocess with a timeout, so a FIFO or ``/dev/zero`` that hangs or fills
memory fails the test instead of the session.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from harness.cli import main
from harness.errors import StoreError
from harness.leaderboard import render_report
from harness.specs import TaskSpec
from harness.store import ResultDocument, iter_results, read_result, write_result

REPO = Path(__file__).resolve().parent.parent
UNIT = Path("harness__random") / "seed0"  # the folder of `--models random`'s results


@pytest.fixture(scope="module")
def good_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two real results (WordSim353, SimLex999) of the random model."""
    root = tmp_path_factory.mktemp("good")
    code = main(["run", "--tasks", "WordSim353,SimLex999", "--models", "random", "--no-cache", "--no-report",
                 "--results", str(root / "results")])
    assert code == 0
    return root / "results"


@pytest.fixture
def store(good_store: Path, tmp_path: Path) -> Path:
    shutil.copytree(good_store, tmp_path / "results")
    return tmp_path / "results"


def report(store: Path, out: str = "rep") -> tuple[int, list[str]]:
    """``report`` in a subprocess: (exit code, its warning lines); no traceback, at most 3 lines."""
    done = subprocess.run([sys.executable, str(REPO / "run_benchmark.py"), "report", "--results", str(store),
                           "--out", str(store.parent / out)],
                          cwd=store.parent, capture_output=True, text=True, timeout=60)
    lines = (done.stdout + done.stderr).splitlines()
    assert "Traceback" not in done.stderr and len(lines) <= 3, done.stdout + done.stderr
    return done.returncode, [line for line in lines if line.startswith("warning:")]


def copy_result(store: Path, name: str, edit: Callable[[dict], None]) -> Path:
    """A copy of SimLex999's result as task ``name``, with ``edit`` applied to its JSON."""
    document = json.loads((store / UNIT / "SimLex999.json").read_text())
    document["task_name"] = name
    edit(document["harness"])
    path = store / UNIT / f"{name}.json"
    path.write_text(json.dumps(document))
    return path


def assert_skipped(store: Path, name: str) -> None:
    code, warnings = report(store)
    assert code == 0 and len(warnings) == 1 and f"{name}.json" in warnings[0], warnings
    html = (store.parent / "rep" / "index.html").read_text()
    assert "WordSim353" in html and "SimLex999" in html


def test_a_result_symlinked_to_dev_zero_is_skipped(store: Path) -> None:
    (store / UNIT / "Zero.json").symlink_to("/dev/zero")
    assert_skipped(store, "Zero")


def test_a_result_symlinked_outside_the_store_is_skipped(store: Path) -> None:
    outside = store.parent / "elsewhere.json"
    shutil.copy(store / UNIT / "SimLex999.json", outside)
    (store / UNIT / "Elsewhere.json").symlink_to(outside)
    assert_skipped(store, "Elsewhere")


def test_a_fifo_named_like_a_result_does_not_hang_the_report(store: Path) -> None:
    os.mkfifo(store / UNIT / "Fifo.json")
    assert_skipped(store, "Fifo")


@pytest.mark.parametrize("items_file", ["/dev/zero", "../x.items.npz", "../../../etc/passwd", "sub/x.npz", ".."])
def test_items_file_must_name_a_file_in_the_result_folder(store: Path, items_file: str) -> None:
    copy_result(store, "Moved", lambda block: block.update(items_file=items_file))
    assert_skipped(store, "Moved")


def test_an_items_file_symlinked_to_dev_zero_is_skipped(store: Path) -> None:
    (store / UNIT / "Zero.items.npz").symlink_to("/dev/zero")
    copy_result(store, "Zero", lambda block: block.update(items_file="Zero.items.npz"))
    assert_skipped(store, "Zero")


def test_an_items_file_holding_object_arrays_is_skipped(store: Path) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **{"test.gold": np.array([{"a": 1}, None], dtype=object)})
    (store / UNIT / "Objects.items.npz").write_bytes(buffer.getvalue())
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()  # a matching checksum: the content is the problem
    copy_result(store, "Objects", lambda block: block.update(items_file="Objects.items.npz", items_sha256=digest))
    assert_skipped(store, "Objects")


def test_an_oversized_result_file_is_refused_without_reading_it(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("harness.store.MAX_RESULT_BYTES", 1000)
    with pytest.raises(StoreError, match="over the 1000-byte limit"):
        read_result(store / UNIT / "SimLex999.json")


def test_items_that_change_after_the_check_raise_a_store_error(store: Path) -> None:
    result = read_result(store / UNIT / "SimLex999.json")
    (store / UNIT / "SimLex999.items.npz").write_bytes(b"not a zip")
    with pytest.raises(StoreError, match="SimLex999.items.npz cannot be read"):
        result.items()


def svg_texts(html: str) -> list[str]:
    return [text for svg in re.findall(r"<svg.*?</svg>", html, re.S) for text in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)]


def test_mathtext_in_a_model_name_is_plain_text_in_every_report(store: Path) -> None:
    names = {"alpha": "$\\alpha$ model", "broken": "$\\frac{$ x"}  # the second one is not valid mathtext
    for folder, name in names.items():
        shutil.copytree(store / UNIT, store / folder / "seed0")
        for result in (store / folder / "seed0").glob("*.json"):
            document = json.loads(result.read_text())
            document["harness"]["model"]["name"] = name
            result.write_text(json.dumps(document))
    for out in ("first", "second"):
        code, warnings = report(store, out)
        assert code == 0 and warnings == []
        texts = svg_texts((store.parent / out / "index.html").read_text())
        assert all(name in texts for name in names.values()), texts


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_written_files_honour_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        code = main(["run", "--tasks", "WordSim353", "--models", "random", "--no-cache",
                     "--results", str(tmp_path / "results"), "--out", str(tmp_path / "rep")])
    finally:
        os.umask(old)
    assert code == 0
    written = [*(tmp_path / "results" / UNIT).iterdir(), *(tmp_path / "rep").iterdir()]
    assert {p.name for p in written} >= {"WordSim353.json", "WordSim353.items.npz", "index.html", "leaderboard.csv"}
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {p.name: mode for p in written}


def imported(task: str, suite: str, model: str) -> ResultDocument:
    spec = TaskSpec.model_validate({"name": task, "type": "sts", "suite": [suite], "main_score": "cosine_spearman",
                                    "data": {"local": task.lower()}})
    return ResultDocument.build(spec, model={"name": model, "revision": "r1", "published_name": model},
                                metrics={"cosine_spearman": 0.5 if model == "a" else 0.4}, evaluation_time=None,
                                details={"imported": {"task": task}}, status="imported")


def test_a_store_of_imported_results_only_renders_suites_side_by_side(tmp_path: Path) -> None:
    for task, suite in (("T1", "one"), ("T2", "two")):
        for model in ("a", "b"):
            write_result(tmp_path / "results", imported(task, suite, model), {})
    results = list(iter_results(tmp_path / "results"))
    page = render_report(results, tmp_path / "rep", suites={"one": ["T1"], "two": ["T2"]})
    assert "T1" in page.read_text()
