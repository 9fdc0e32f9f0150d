"""The shipped benchmark catalogue against the installed mteb, and ``--benchmark`` / ``list benchmarks``."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from harness.benchmarks import (
    benchmark_names,
    catalogue,
    get_benchmark,
    mteb_main_revision,
)
from harness.benchmarks.refresh import main as refresh
from harness.cli import main
from harness.errors import HarnessError


@pytest.fixture(scope="module")
def mteb_benchmarks() -> dict[str, object]:
    mteb = pytest.importorskip("mteb")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {b.name: b for b in mteb.get_benchmarks()}


def test_every_benchmark_matches_the_installed_mteb(mteb_benchmarks: dict[str, object]) -> None:
    from importlib.metadata import version

    assert catalogue()["mteb_version"] == version("mteb"), "stale catalogue: python -m harness.benchmarks.refresh"
    assert sorted(benchmark_names()) == sorted(mteb_benchmarks)
    for name, theirs in mteb_benchmarks.items():
        ours = get_benchmark(name)
        assert ours.tasks == tuple(t.metadata.name for t in theirs.tasks), name
        for task in theirs.tasks:
            detail = ours.details[task.metadata.name]
            assert (detail.task_type, detail.main_score) == (task.metadata.type, task.metadata.main_score)
            assert (detail.eval_splits, detail.hf_subsets) == (tuple(task.eval_splits), tuple(task.hf_subsets)), (name, task.metadata.name)
        assert ours.aliases == tuple(theirs.aliases)


def test_main_revisions_are_mteb_registry_revisions() -> None:
    mteb = pytest.importorskip("mteb")
    for name in ("sentence-transformers/all-MiniLM-L6-v2", "mixedbread-ai/mxbai-embed-large-v1", "intfloat/e5-small"):
        assert mteb_main_revision(name) == mteb.get_model_meta(name).revision
    assert mteb_main_revision("no/such-model") is None


def test_names_types_and_unknown_names() -> None:
    bench = get_benchmark("MTEB(eng, v2)")
    assert len(bench.tasks) == 41 and bench.task_type["ArguAna"] == "Retrieval" and bench.harness_type["ArguAna"] == "retrieval"
    assert bench.details["STS17"].hf_subsets == ("en-en",)  # narrowed by the benchmark
    assert get_benchmark("MTEB(eng)") is bench and get_benchmark("mteb(eng,v2)") is bench  # alias; case and spaces
    with pytest.raises(HarnessError, match=r"unknown benchmark 'BIER' \(did you mean BEIR"):
        get_benchmark("BIER")


def test_list_benchmarks_and_a_benchmarks_tasks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "benchmarks"]) == 0
    out = capsys.readouterr().out
    assert "MTEB(eng, v2)" in out and "NanoBEIR" in out and "RTEB(fin, beta)" in out
    assert main(["list", "tasks", "--benchmark", "MTEB(eng, v2)"]) == 0
    rows = capsys.readouterr().out.splitlines()[2:]
    assert len(rows) == 41 and any(r.split()[-1] == "spec" for r in rows)
    assert main(["list", "tasks", "--benchmark", "No such"]) == 2
    assert "error: --benchmark: unknown benchmark 'No such'" in capsys.readouterr().err


def test_run_with_benchmark_and_tasks_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--benchmark", "BEIR", "--tasks", "STS12", "--no-report"]) == 2
    assert capsys.readouterr().err.strip() == "error: --benchmark: give either --benchmark or --tasks/--suite, not both"


def test_refresh_writes_the_same_catalogue(tmp_path: Path) -> None:
    pytest.importorskip("mteb")
    assert refresh(["--out", str(tmp_path / "catalogue.json")]) == 0
    assert json.loads((tmp_path / "catalogue.json").read_text()) == catalogue()
