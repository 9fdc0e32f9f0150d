"""``mteb:NAME`` tasks: specs from the installed mteb's metadata, scored by our evaluators."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mteb")

import harness  # noqa: E402
from harness.bridges.mteb_tasks import catalog, local_folder, mteb_spec, mteb_specs  # noqa: E402
from harness.cli import main  # noqa: E402
from harness.errors import SpecError  # noqa: E402
from harness.registry import discover_specs  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", autouse=True)
def _catalog() -> None:
    catalog()  # built once (imports mteb, seconds), then read from the cache directory


@pytest.mark.parametrize(
    ("name", "folder"),
    [("SICK-R", "sickr"), ("Banking77Classification", "banking77"), ("STSBenchmark", "stsbenchmark"),
     ("ArguAna", "arguana"), ("TwentyNewsgroupsClustering", "twentynewsgroups"), ("STS22.v2", "sts22v2")],
)
def test_local_folder_names(name: str, folder: str) -> None:
    assert local_folder(name) == folder


def test_a_spec_carries_mteb_metadata_and_evaluator_settings() -> None:
    sick = mteb_spec("SICK-R")
    ours = discover_specs()["SICK-R"]  # the hand-written built-in spec agrees on everything that moves a score
    assert (sick.type, sick.main_score, sick.data.hf, sick.data.revision, sick.data.local, sick.data.eval_split) == (
        ours.type, ours.main_score, ours.data.hf, ours.data.revision, ours.data.local, ours.data.eval_split)
    assert sick.evaluator_options() == ours.evaluator_options()
    assert sick.source_file == "mteb:SICK-R" and sick.reference and sick.languages == ["eng-Latn"]
    banking = mteb_spec("Banking77Classification")
    assert (banking.type, banking.main_score, banking.data.local) == ("classification", "accuracy", "banking77")
    assert banking.options == {"n_experiments": 10, "samples_per_label": 8, "seed": 42, "max_iter": 100}
    assert mteb_spec("ArguAna").options["ignore_identical_ids"] is True
    assert mteb_spec("STS17").data.hf_subset == "en-en"


def test_tasks_whose_hub_data_mteb_reshapes_in_code_need_a_local_copy() -> None:
    spec = mteb_spec("PubChemSynonymPC")
    assert spec.data.hf is None and spec.data.revision and spec.data.local == "pubchemsynonympc"
    assert "hub copy unusable" in (spec.source_file or "")
    assert mteb_spec("SprintDuplicateQuestions").data.hf  # a rename our loader reproduces


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("TwentyNewsgroupsClustering", r"not supported: mteb scores it with AbsTaskClusteringLegacy, a protocol"),
        ("SICKFr", r"not supported: not an English task \(languages fra-Latn\)"),
        ("BUCC", r"not supported: mteb type BitextMining has no evaluator here"),
        ("SICKR", r"unknown mteb task 'SICKR' \(did you mean .*mteb:SICK-R"),
    ],
)
def test_unsupported_and_unknown_tasks_give_one_line(name: str, reason: str) -> None:
    with pytest.raises(SpecError, match=reason) as err:
        mteb_spec(name)
    assert len(err.value.messages) == 1


def test_listing_filters_by_type_and_imports_neither_mteb_nor_torch() -> None:
    assert {s.type for s in mteb_specs("sts")} == {"sts"}
    assert "STSBenchmark" in {s.name for s in mteb_specs("sts")}
    code = (
        "import sys, time; t = time.perf_counter(); from harness.cli import main; "
        "main(['list', 'tasks', '--source', 'mteb', '--type', 'sts']); "
        "print('SECONDS', time.perf_counter() - t); print('HEAVY', sorted({'mteb', 'torch', 'datasets'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=os.environ, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "mteb:STSBenchmark" in done.stdout and "mteb:Banking77Classification" not in done.stdout
    assert "HEAVY []" in done.stdout
    assert float(done.stdout.split("SECONDS")[1].split()[0]) < 5


def test_a_local_copy_scores_like_the_builtin_spec_and_a_missing_one_is_skipped(
    shared_datasets: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--tasks", "mteb:SICK-R,mteb:STSBenchmark", "--models", "random", "--data-dir", str(shared_datasets),
                 "--results", str(tmp_path / "mteb"), "--no-report"])
    err = capsys.readouterr().err
    assert code == 0
    assert "skipped SICK-R: hub dataset mteb/sickr-sts@20a6d6f312dd: not downloaded and the hub is offline" in err
    assert "1 done, 1 skipped" in err
    builtin = harness.evaluate("random", ["STSBenchmark"], data_dir=shared_datasets, results_dir=tmp_path / "builtin", verbose=False)
    (ours,) = harness.load_results(tmp_path / "mteb")
    assert ours.main_score == builtin.results[0].main_score
    assert ours.data.dataset_revision == "b0fddb56ed78048fa8b90373c8a3cfc37b684831"


def test_a_task_that_needs_its_local_copy_runs_from_it_and_is_skipped_without(tmp_path: Path) -> None:
    rows = [{"sentence1": f"compound {i}", "sentence2": f"synonym {i // 2}", "labels": i % 2} for i in range(40)]
    folder = tmp_path / "data" / "pubchemsynonympc"
    folder.mkdir(parents=True)
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = harness.evaluate("random", ["mteb:PubChemSynonymPC"], data_dir=tmp_path / "data", results_dir=tmp_path / "r", verbose=False)
    assert [o.status for o in run.summary.outcomes] == ["done"]
    assert run.results[0].data.harness.main_score_name == "max_ap"
    missing = harness.evaluate("random", ["mteb:PubChemSynonymPC"], data_dir=tmp_path, results_dir=tmp_path / "r2", verbose=False)
    (outcome,) = missing.summary.outcomes
    assert outcome.status == "skipped" and "hub copy unusable" in outcome.message


def test_an_unsupported_task_stops_the_run_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--tasks", "mteb:TwentyNewsgroupsClustering", "--models", "random", "--results", str(tmp_path), "--no-report"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == [
        "error: mteb:TwentyNewsgroupsClustering: not supported: mteb scores it with AbsTaskClusteringLegacy, "
        "a protocol the harness does not reproduce"
    ]


@pytest.mark.slow
def test_minilm_on_the_local_stsbenchmark_reproduces_the_published_score(shared_datasets: Path, tmp_path: Path) -> None:
    run = harness.evaluate("minilm-l6", ["mteb:STSBenchmark"], data_dir=shared_datasets, results_dir=tmp_path, batch_size=64, verbose=False)
    assert run.results[0].main_score == pytest.approx(0.82032, abs=2e-4)
