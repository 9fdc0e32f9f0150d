"""``reproduce``: reference tables, their specs, the comparison, its rendering, the CLI.

The comparison and rendering are pure functions over plain data, tested without a model; one
slow test runs ``reproduce --models minilm-l6`` on ../shared/datasets and expects ✔ for the three
STS tasks there and "–" for every other row.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from harness import reproduce
from harness.cli import main
from harness.errors import ModelError, SpecError
from harness.evaluators import get_evaluator
from harness.registry import discover_specs
from harness.reproduce import Outcome, Reference, ReferenceRow
from harness.tasktypes import get_task_type

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MPNET = "sentence-transformers/all-mpnet-base-v2"
# The numbers the issue lists (main scores, test split), MiniLM then MPNet.
LISTED = {
    "STSBenchmark": (0.82032, 0.83422),
    "SICK-R": (0.77582, 0.80585),
    "STS12": (0.72369, 0.72634),
    "STS13": (0.80603, 0.83485),
    "STS14": (0.75589, 0.78000),
    "STS15": (0.85390, 0.85663),
    "STS16": (0.78989, 0.80030),
    "Banking77Classification": (0.7975, 0.8186),
    "TwentyNewsgroupsClustering": (0.4686, 0.49745),
    "SciFact": (0.64508, 0.6557),
    "NFCorpus": (0.31594, 0.33289),
    "AskUbuntuDupQuestions": (0.63477, 0.65852),
    "SprintDuplicateQuestions": (0.94551, 0.90146),
}
# Local folder names the issue prescribes.
FOLDERS = {
    "STSBenchmark": "stsbenchmark",
    "SICK-R": "sickr",
    "STS12": "sts12",
    "STS13": "sts13",
    "STS14": "sts14",
    "STS15": "sts15",
    "STS16": "sts16",
    "Banking77Classification": "banking77",
    "TwentyNewsgroupsClustering": "twentynewsgroups",
    "SciFact": "scifact",
    "NFCorpus": "nfcorpus",
    "AskUbuntuDupQuestions": "askubuntudupquestions",
    "SprintDuplicateQuestions": "sprintduplicatequestions",
}
STS_SHARED = ("STSBenchmark", "STS13", "STS15")


@pytest.fixture(scope="module")
def paper() -> Reference:
    return reproduce.load_reference("mteb_paper_eng")


@pytest.fixture(scope="module")
def specs():
    return discover_specs()


# ---------------------------------------------------------------- the shipped reference table


def test_paper_table_has_every_listed_number_with_a_source(paper: Reference) -> None:
    got = {(r.task, r.model_id): r for r in paper.rows}
    assert len(got) == len(paper.rows) == 2 * len(LISTED)
    for task, (minilm, mpnet) in LISTED.items():
        for model, listed in ((MINILM, minilm), (MPNET, mpnet)):
            row = got[(task, model)]
            digits = len(str(listed).split(".")[1])
            assert round(row.score, digits) == pytest.approx(listed, abs=1e-12), (task, model)
            assert round(row.score * 100, 2) == row.paper, (task, model)  # the result file agrees with the paper
            assert row.source.startswith("mtebpaper@75bf809 results/") and row.split == "test"


def test_paper_rows_name_specs_metrics_and_notes(paper: Reference, specs) -> None:
    for row in paper.rows:
        spec = specs[row.task]
        assert row.metric in get_evaluator(spec.type).METRICS, row
        assert paper.tolerance(row, spec.type) == get_task_type(spec.type).tolerance
    metric = {r.task: r.metric for r in paper.rows}
    assert metric["AskUbuntuDupQuestions"] == "map_at_1000" and metric["SprintDuplicateQuestions"] == "cosine_ap"
    noted = {r.task for r in paper.rows if r.note}
    assert {"TwentyNewsgroupsClustering", "SciFact", "AskUbuntuDupQuestions", "SprintDuplicateQuestions"} <= noted


@pytest.mark.parametrize("task", sorted(LISTED))
def test_spec_pins_mteb_metadata_and_the_local_layout(task: str, specs) -> None:
    """Each spec names mteb 2.x's hub id and revision, main score, split and settings."""
    mteb = pytest.importorskip("mteb")
    spec = specs[task]
    ours_task = mteb.get_task(task)
    meta = ours_task.metadata
    assert spec.data.local == FOLDERS[task]
    assert (spec.data.hf, spec.data.revision) == (meta.dataset["path"], meta.dataset["revision"])
    assert spec.main_score == meta.main_score
    assert spec.data.eval_split in meta.eval_splits
    assert "mteb-eng" in spec.suite
    options = spec.evaluator_options()
    if spec.type == "classification":
        assert (options.n_experiments, options.samples_per_label, options.seed) == (
            ours_task.n_experiments,
            ours_task.samples_per_label,
            ours_task.seed,
        )
    if spec.type in ("retrieval", "reranking"):
        assert options.ignore_identical_ids == ours_task.ignore_identical_ids
        assert options.skip_first_result == ours_task.skip_first_result
        assert options.k_values == tuple(sorted(ours_task.k_values))
    if spec.type == "clustering":
        legacy = type(ours_task).__mro__[1].__name__ == "AbsTaskClusteringLegacy"
        assert options.protocol == ("legacy" if legacy else "fast")


def test_finmteb_table_loads_and_has_no_rows_to_reproduce() -> None:
    fin = reproduce.load_reference("finmteb")
    assert not fin.rows and len(fin.type_averages) == 120
    with pytest.raises(SpecError, match="only per-type averages"):
        reproduce.select_rows(fin, None)


def test_reference_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="did you mean mteb_paper_eng"):
        reproduce.load_reference("mteb_paper")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsource: s\nrows:\n  - {task: T, model: m, score: 0.5, source: s, typo: 1}\n")
    with pytest.raises(SpecError, match=r"bad.yaml: rows.0.typo: unknown field"):
        reproduce.load_reference(bad)


# ---------------------------------------------------------------- models and tasks


def test_models_map_to_aliases_by_recorded_name(paper: Reference) -> None:
    runnable, missing = reproduce.select_models(paper, ["minilm-l6"])
    assert runnable == {MINILM: "minilm-l6"} and missing == []
    assert reproduce.select_models(paper, [MINILM])[0] == {MINILM: "minilm-l6"}  # a hub id runs its alias
    with pytest.raises(ModelError, match="paraphrase-MiniLM-L3-v2.*has no rows"):
        reproduce.select_models(paper, ["minilm-l3-onnx"])


def test_default_models_are_the_aliases_that_record_a_table_model(paper: Reference, monkeypatch) -> None:
    monkeypatch.setattr(reproduce, "builtin_models", lambda wanted=None: {MINILM: "minilm-l6"})
    runnable, missing = reproduce.select_models(paper, None)
    assert runnable == {MINILM: "minilm-l6"} and missing == [MPNET]


def test_unknown_task_is_an_error_with_a_suggestion(paper: Reference) -> None:
    with pytest.raises(SpecError, match="did you mean STSBenchmark"):
        reproduce.select_rows(paper, ["STSBenchmrk"])


# ---------------------------------------------------------------- comparison and rendering (pure)


def _table(**overrides):
    rows = [
        ReferenceRow(task="A", model="org/m", metric="cosine_spearman", score=0.8, source="src A"),
        ReferenceRow(task="B", model="org/m", score=0.5, source="src B", note="protocol <changed> & noted"),
        ReferenceRow(task="C", model="org/m", score=0.5, source="src C"),
        ReferenceRow(task="D", model="org/m", score=0.5, source="src D"),
        ReferenceRow(task="E", model="org/other", score=0.5, source="src E"),
        ReferenceRow(task="F", model="org/m", score=0.5, source="src F"),
        ReferenceRow(task="G", model="org/m", score=0.5, source="src G"),
    ]
    ref = Reference(name="toy", source="toy source", rows=rows)
    from harness.specs import TaskSpec

    def spec(name: str, kind: str, main: str) -> TaskSpec:
        return TaskSpec(name=name, type=kind, main_score=main, data={"local": name.lower()})

    specs = {
        "A": spec("A", "sts", "cosine_spearman"),
        "B": spec("B", "classification", "accuracy"),
        "C": spec("C", "retrieval", "ndcg_at_10"),
        "D": spec("D", "clustering", "v_measure"),
        "E": spec("E", "sts", "cosine_spearman"),
        "G": spec("G", "sts", "cosine_spearman"),
    }
    outcomes = {
        ("org/m", "A"): Outcome("done", {"test": {"cosine_spearman": 0.8 + 2e-4}}),  # exactly at the tolerance
        ("org/m", "B"): Outcome("resumed", {"test": {"accuracy": 0.5 - 0.006}}),  # outside 0.005
        ("org/m", "C"): Outcome("skipped", None, "no local copy"),
        ("org/m", "D"): Outcome("failed", None, "bad <row>"),
        ("org/m", "G"): Outcome("done", {"test": {"spearman": 0.5}}),  # metric missing
    }
    outcomes.update(overrides)
    return ref, reproduce.compare(ref, rows, specs, {"org/m": "alias"}, outcomes)


def test_compare_gives_each_row_its_verdict() -> None:
    _, table = _table()
    status = dict(zip(table["task"], table["status"]))
    assert status == {"A": "within", "B": "outside", "C": "no_data", "D": "failed", "E": "no_model", "F": "no_spec", "G": "failed"}
    a = table.set_index("task").loc["A"]
    assert a["delta"] == pytest.approx(2e-4) and a["tolerance"] == 2e-4 and a["verdict"] == "✔"
    assert table.set_index("task").loc["B", "tolerance"] == 5e-3
    assert list(table.columns) == reproduce.COLUMNS
    assert reproduce.exit_code(table) == 1


def test_exit_code_ignores_rows_that_did_not_run() -> None:
    ref, table = _table()
    only = table[table["status"].isin(["within", "no_data", "no_model", "no_spec"])]
    assert reproduce.exit_code(only) == 0
    assert reproduce.exit_code(table[table["task"] == "C"]) == 0  # nothing ran: nothing failed


def test_render_writes_escaped_self_contained_markdown_and_html(tmp_path: Path) -> None:
    ref, table = _table()
    md, html = reproduce.render(table, ref, tmp_path)
    assert (md.name, html.name) == ("toy.md", "toy.html")
    text = md.read_text()
    assert "| A | org/m | cosine_spearman | 0.80000 | 0.80020 | +0.000200 | 0.0002 | ✔ |" in text
    assert "– data not available" in text and "– model not available" in text and "✘ failed" in text
    assert "sts 0.0002" in text and "classification 0.005" in text
    page = html.read_text()
    assert "<changed>" not in page and "&lt;changed&gt; &amp; noted" in page  # autoescaped
    assert "bad &lt;row&gt;" in page
    assert not re.search(r"<(script|link|img)\b|src=|@import|url\(", page)  # no network, inline CSS
    assert "<style>" in page


# ---------------------------------------------------------------- CLI


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--reference", "nope"], "unknown reference table"),
        (["--reference", "finmteb"], "per-type averages"),
        (["--tasks", "STS99"], "has no rows for task 'STS99'"),
        (["--models", "minilm-l3-onnx"], "has no rows"),
        (["--batch-size", "0"], "--batch-size"),
    ],
)
def test_cli_user_errors_exit_2(argv, message, capsys, tmp_path: Path) -> None:
    code = main(["reproduce", *argv, "--results", str(tmp_path / "r"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert message in capsys.readouterr().err


def test_cli_without_data_shows_dashes_and_exits_0(tmp_path: Path, capsys) -> None:
    """No data root: every row is "–" (nothing to run, no model is loaded), exit 0."""
    code = main(["reproduce", "--models", "minilm-l6", "--data-dir", str(tmp_path), "--results", str(tmp_path / "r"), "--out", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("– data not available") == len(LISTED)
    assert (tmp_path / "o" / "mteb_paper_eng.html").is_file()


# ---------------------------------------------------------------- end to end


@pytest.mark.slow
def test_reproduce_minilm_on_shared_data(shared_datasets: Path, tmp_path_factory, capsys) -> None:
    """``reproduce --models minilm-l6 --data-dir ../shared/datasets``: ✔ for STSBenchmark, STS13
    and STS15 (the data there), "–" for every other row; exit 0. About a minute on 2 cores."""
    work = tmp_path_factory.mktemp("reproduce")
    argv = ["reproduce", "--models", "minilm-l6", "--data-dir", str(shared_datasets), "--results", str(work / "results"), "--out", str(work / "out")]
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    lines = {line.split(" | ")[0].strip("| "): line for line in out.splitlines() if line.startswith("| ") and MINILM in line}
    assert set(lines) == set(LISTED)
    for task, line in lines.items():
        verdict = line.rstrip(" |").rsplit(" | ", 1)[1]
        assert verdict == ("✔" if task in STS_SHARED else "– data not available"), line
    assert MPNET not in out.split("Notes:")[0]  # --models: the other model's rows are left out
    assert (work / "out" / "mteb_paper_eng.md").read_text().count("✔") >= 3
    # a second run resumes the stored results and gives the same table
    assert main(argv) == 0
    assert capsys.readouterr().out == out
