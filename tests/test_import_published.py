"""``import-results`` on real files of mteb's results repository, checked against mteb's own loader.

tests/fixtures/mteb_results/results/ holds the MTEB(eng, v2) files of six models, copied as they
are from embeddings-benchmark/results: mteb 2.x files, pre-1.11 flat files (gte-Qwen1.5's
``no_revision_available``, openai's ``1``), NaN metrics, ``"max_tokens": Infinity`` (starse),
``external`` folders, several revisions of one model, a model missing classification tasks
(all-MiniLM-L12-v2), published dataset revisions other than mteb's current ones, and mteb 0.0.2
files that name their own main score (sentence-t5-base: ``ap``, where mteb's metadata now says
``accuracy``).
"""

from __future__ import annotations

import json
import math
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest

from harness.benchmarks import get_benchmark
from harness.bridges.mteb_results import benchmark_rows, import_results
from harness.cli import main
from harness.store import iter_results

FIXTURE = Path(__file__).parent / "fixtures" / "mteb_results"
BENCHMARK = "MTEB(eng, v2)"


def _import(source: Path, store: Path, **options: Any) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = import_results(source, store, **options)
    return summary, [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("published")
    summary, caught = _import(FIXTURE, root / "store")
    results = {(r.data.harness.model["published_name"], r.data.harness.imported["task"]): r for r in iter_results(root / "store")}
    return {"root": root, "summary": summary, "warnings": caught, "results": results}


@pytest.fixture(scope="module")
def mteb_table(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """mteb's own rows for the fixture: revisions joined, scores validated and filtered per task."""
    return _mteb_rows(FIXTURE / "results", tmp_path_factory.mktemp("mteb-cache"))


def _ours(result: Any) -> float:
    """The benchmark score of one stored result: mean of its defined rows (mteb's per-task mean)."""
    task = get_benchmark(BENCHMARK).details[result.data.harness.imported["task"]]
    values = [score for _, _, score in benchmark_rows(result.data.harness.imported, task) if score is not None]
    return sum(values) / len(values) if values else math.nan


def test_every_score_equals_mteb_and_the_same_revision_wins(store: dict[str, Any], mteb_table: Any) -> None:
    expected = mteb_table.groupby(["model_name", "task_name"])["score"].mean()
    revisions = mteb_table.groupby(["model_name", "task_name"])["model_revision"].first()
    compared = 0
    for key, score in expected.items():
        if math.isnan(score):
            assert key not in store["results"] or math.isnan(_ours(store["results"][key]))
            continue
        result = store["results"][key]
        assert _ours(result) == pytest.approx(score, abs=1e-9), key
        assert result.revision == (revisions[key] or "no_revision_available"), key
        compared += 1
    assert store["results"][("sentence-transformers/sentence-t5-base", "AmazonCounterfactualClassification")].data.harness.imported["mteb_version"] == "0.0.2"
    assert compared > 150 and sum(not math.isnan(_ours(r)) for r in store["results"].values()) == compared
    assert store["warnings"] == [] and store["summary"].warned == 0  # every real file mteb reads, we read
    assert {m for m, _ in store["results"]} == set(mteb_table["model_name"])


def _mteb_rows(results: Path, tmp: Path) -> Any:
    """mteb's joined, validated rows for a results folder (the oracle)."""
    mteb = pytest.importorskip("mteb")
    (tmp / "remote").mkdir(parents=True)
    (tmp / "remote" / "results").symlink_to(results.resolve())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = mteb.ResultCache(tmp).load_results(tasks=BENCHMARK, require_model_meta=False)
        return loaded._to_results_df(loaded.benchmark.tasks).to_pandas()


def test_several_revisions_of_a_task_are_joined_as_mteb_joins_them(tmp_path: Path) -> None:
    """The fixture's revision folders hold disjoint tasks (as in the real repository for
    MTEB(eng, v2)); copies of real files with other scores and versions make them overlap."""
    results = tmp_path / "clone" / "results"
    for model in ("BAAI__bge-small-en-v1.5", "Alibaba-NLP__gte-Qwen1.5-7B-instruct", "openai__text-embedding-3-small"):
        shutil.copytree(FIXTURE / "results" / model, results / model)

    def overlap(model: str, source: str, target: str, task: str, version: str | None, score: float) -> None:
        data = json.loads((results / model / source / f"{task}.json").read_text())
        data["mteb_version"] = version
        if "scores" in data:
            data["scores"]["test"][0]["main_score"] = score
        else:  # a pre-1.11 STS file: its main score is cos_sim.spearman
            data["test"]["cos_sim"]["spearman"] = score
        (results / model / target / f"{task}.json").write_text(json.dumps(data))

    overlap("BAAI__bge-small-en-v1.5", "5c38ec7c405ec4b44b94cc5a9bb96e735b38267a", "external", "STS12", "9.9.9", 0.11)  # main revision wins
    overlap("BAAI__bge-small-en-v1.5", "external", "5c38ec7c405ec4b44b94cc5a9bb96e735b38267a", "BIOSSES", "1.0.0", 0.22)
    overlap("openai__text-embedding-3-small", "2", "1", "FEVERHardNegatives", "9.9.9", 0.33)  # no main revision here: newest mteb version
    overlap("openai__text-embedding-3-small", "2", "1", "HotpotQAHardNegatives", "2.0.0-2.1.0", 0.44)  # a version range does not parse
    overlap("Alibaba-NLP__gte-Qwen1.5-7B-instruct", "no_revision_available", "external", "STS12", "1.0.0", 0.0)  # old files: the newer wins
    summary, caught = _import(results.parent, tmp_path / "store")
    ours = {(r.data.harness.model["published_name"], r.task_name): r for r in iter_results(tmp_path / "store")}
    expected = _mteb_rows(results, tmp_path / "mteb")
    by_task = expected.groupby(["model_name", "task_name"])
    for (model, task), score in by_task["score"].mean().items():
        if not math.isnan(score):
            assert _ours(ours[model, task]) == pytest.approx(score, abs=1e-9), (model, task)
            assert ours[model, task].revision == (by_task["model_revision"].first()[model, task] or "no_revision_available")
    joined = ours["BAAI/bge-small-en-v1.5", "STS12"].data.harness.imported["join"]
    assert joined["rule"] == "mteb's main revision of the model" and len(joined["considered"]) == 2
    assert ours["openai/text-embedding-3-small", "FEVERHardNegatives"].revision == "1" and not caught
    assert summary.skipped["another revision folder of the model won (mteb's join_revisions)"] == 5


def test_old_flat_files_are_read_as_mteb_reads_them(store: dict[str, Any]) -> None:
    old = [r for r in store["results"].values() if "/no_revision_available/" in r.data.harness.imported["source"]]
    assert len(old) >= 20 and all(r.revision == "no_revision_available" for r in old)
    scidocs = store["results"][("Alibaba-NLP/gte-Qwen1.5-7B-instruct", "SCIDOCS")]
    assert scidocs.main_score == 0.27694 and scidocs.scores()["ndcg_at_10"] == 0.27694  # "ndcg_at_10" is SCIDOCS' main score
    assert scidocs.data.dataset_revision == "unknown" and scidocs.data.harness.imported["revision_match"] is None  # null in the file


def test_nan_and_infinity_are_stored_as_undefined_in_strict_json(store: dict[str, Any]) -> None:
    def refuse(constant: str) -> None:
        raise AssertionError(f"stored {constant}")

    for result in store["results"].values():
        json.loads(result.path.read_text(), parse_constant=refuse)
    starse = store["results"][("BorisTM/starse", "MassiveIntentClassification")].data.harness
    assert starse.model["max_tokens"] is None  # "max_tokens": Infinity in its model_meta.json
    assert b"NaN" in Path(starse.imported["source"]).read_bytes()  # its "ap" metrics
    assert all(entry["main_score"] is not None for entry in starse.imported["scores"]["test"])


def test_model_meta_and_dataset_revisions_are_recorded(store: dict[str, Any]) -> None:
    result = store["results"][("mixedbread-ai/mxbai-embed-large-v1", "ArguAna")]
    model = result.data.harness.model
    meta = json.loads((Path(result.data.harness.imported["source"]).parent / "model_meta.json").read_text())
    assert model["name"] == "mixedbread-ai/mxbai-embed-large-v1 (published)" and model["revision"] == meta["revision"]
    assert (model["n_parameters"], model["embedding_dim"], model["max_tokens"]) == (meta["n_parameters"], meta["embed_dim"], meta["max_tokens"])
    assert (model["release_date"], model["framework"]) == (meta["release_date"], meta["framework"]) and result.task_name == "ArguAna"
    flags = [r.data.harness.imported["revision_match"] for r in store["results"].values()]
    assert flags.count(False) > 0 and flags.count(True) > 0
    assert all(r.task_name == r.data.harness.imported["task"] for r in store["results"].values())  # one column per task


def test_strict_revisions_keep_split_columns(tmp_path: Path) -> None:
    summary, _ = _import(FIXTURE, tmp_path, strict_revisions=True)
    names = {r.task_name for r in iter_results(tmp_path)}
    assert summary.written and any("@" in n for n in names)
    assert all(r.data.harness.imported["revision_match"] is not False or "@" in r.task_name for r in iter_results(tmp_path))


def _malformed(folder: Path) -> dict[str, bytes]:
    good = json.loads((FIXTURE / "results" / "BorisTM__starse" / "8ae7fd7f139bb1ae7c52af8e9a3df419abe66777"
                       / "MassiveIntentClassification.json").read_text())
    entry = good["scores"]["test"][0]
    return {
        "STS12.json": b'{"task_name": "STS12", "scores": {"test": [{"main_score": 0.5',  # truncated
        "STS13.json": json.dumps({**good, "task_name": "STS13", "scores": [entry]}).encode(),  # wrong type
        "STS14.json": json.dumps({**good, "task_name": "STS14", "scores": {"test": [{**entry, "main_score": "0.7"}]}}).encode(),
        "STS15.json": json.dumps({"name": "left-pad", "version": "1.3.0"}).encode(),  # foreign JSON
        "STS16.json": b"",  # empty
        "STSBenchmark.json": bytes(range(256)) * 4,  # binary
        "SICK-R.json": b'{"task_name": "SICK-R", "dataset_revision": "x", "mteb_version": "2.0.0", "evaluation_time": 1, '
                       b'"scores": {"test": [{"hf_subset": "default", "languages": [], "main_score": ' + b"9" * 5000 + b"}]}}",  # huge number
        "BIOSSES.json": json.dumps({**good, "task_name": "BIOSSES", "scores": {"test": [{k: v for k, v in entry.items() if k != "main_score"}]}}).encode(),
    }


def test_each_malformed_file_warns_once_and_the_others_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "clone"
    shutil.copytree(FIXTURE / "results" / "BorisTM__starse", source / "results" / "BorisTM__starse")
    folder = source / "results" / "BorisTM__starse" / "8ae7fd7f139bb1ae7c52af8e9a3df419abe66777"
    bad = _malformed(folder)
    for name, payload in bad.items():
        (folder / name).write_bytes(payload)
    (source / "README.md").write_text("not a result")  # beside results/: ignored
    (source / "results" / "notes.json").write_text("{}")
    summary, caught = _import(source, tmp_path / "store")
    assert len(caught) == len(bad) and summary.warned == len(bad)
    assert sorted(Path(m.split(":")[0]).name for m in caught) == sorted(bad)
    assert all(m.endswith("; skipped") and "\n" not in m for m in caught)
    assert {r.task_name for r in iter_results(tmp_path / "store")} == {"MassiveIntentClassification", "MassiveScenarioClassification"}

    assert main(["import-results", str(source), "--results", str(tmp_path / "cli")]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len([line for line in err if line.startswith("warning: ")]) == len(bad) and "Traceback" not in "\n".join(err)
    assert err[-1].startswith("import-results: 2 imported") and f"{len(bad)} unreadable files skipped" in err[-1]
    assert main(["import-results", str(tmp_path / "nowhere"), "--results", str(tmp_path / "cli")]) == 2


def test_a_huge_but_finite_json_number_is_undefined_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "results" / "acme__m" / "r1"
    folder.mkdir(parents=True)
    (folder / "STS12.json").write_text(json.dumps({
        "task_name": "STS12", "dataset_revision": "x", "mteb_version": "2.0.0", "evaluation_time": 1e999,
        "scores": {"test": [{"hf_subset": "default", "languages": ["eng-Latn"], "main_score": 0.5, "cosine_spearman": 1e400}]},
    }).replace("Infinity", "1e999"))
    _, caught = _import(tmp_path, tmp_path / "store")
    (result,) = iter_results(tmp_path / "store")
    assert not caught and result.main_score == 0.5 and result.scores()["cosine_spearman"] is None
    assert result.data.evaluation_time is None and result.revision == "r1" and result.model_name == "acme/m (published)"
