"""Published mteb results into the store: files written by mteb itself, plus broken and foreign JSON.

mteb evaluates a fake encoder offline on 60 local STSBenchmark rows and writes its results
folder (``<org>__<model>/<revision>/STSBenchmark.json`` + ``model_meta.json``); we run the same
encoder on the same rows, import mteb's folder, and compare.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

mteb = pytest.importorskip("mteb")

import harness  # noqa: E402
from harness.bridges.mteb_results import import_results  # noqa: E402
from harness.cli import main  # noqa: E402

STSB_REVISION = "b0fddb56ed78048fa8b90373c8a3cfc37b684831"
OTHER_REVISION = "0123456789abcdef0123456789abcdef01234567"


def fake_vector(text: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(12).astype(np.float32)


class FakeEncoder:
    """The same vectors for mteb (batches of dicts) and for the harness (lists of texts)."""

    def __init__(self) -> None:
        from mteb.models.model_meta import ModelMeta

        self.mteb_model_meta = ModelMeta(
            loader=None, name="acme/fake-encoder", revision="r1", release_date=None, languages=None, n_parameters=7,
            memory_usage_mb=None, max_tokens=None, embed_dim=12, license=None, open_weights=None,
            public_training_code=None, public_training_data=None, framework=["NumPy"], similarity_fn_name="cosine",
            use_instructions=False, training_datasets=None,
        )

    def encode(self, inputs: Any, **_: Any) -> np.ndarray:
        texts = inputs if isinstance(inputs, list) else [t for batch in inputs for t in batch["text"]]
        return np.stack([fake_vector(t) for t in texts])

    def similarity(self, a: Any, b: Any) -> Any:
        from mteb.similarity_functions import cos_sim

        return cos_sim(a, b)

    def similarity_pairwise(self, a: Any, b: Any) -> Any:
        from mteb.similarity_functions import pairwise_cos_sim

        return pairwise_cos_sim(a, b)


@pytest.fixture(scope="module")
def published(shared_datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """mteb's results folder, our data folder with the same rows, and a store with our runs."""
    from datasets import Dataset, DatasetDict
    from mteb.cache import ResultCache

    root = tmp_path_factory.mktemp("published")
    rows = [json.loads(line) for line in (shared_datasets / "stsbenchmark" / "test.jsonl").read_text().splitlines()[:60]]
    task = mteb.get_task("STSBenchmark")
    task.dataset = DatasetDict({"test": Dataset.from_list(rows)})
    task.data_loaded = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mteb.evaluate(FakeEncoder(), task, cache=ResultCache(root / "mteb"), show_progress_bar=False)
    clone = root / "mteb" / "results"
    written = clone / "acme__fake-encoder" / "r1"
    assert (written / "STSBenchmark.json").is_file() and (written / "model_meta.json").is_file()

    other = clone / "acme__other-encoder" / "r2"
    other.mkdir(parents=True)
    document = json.loads((written / "STSBenchmark.json").read_text())
    (other / "STSBenchmark.json").write_text(json.dumps({**document, "dataset_revision": OTHER_REVISION}))
    legacy = clone / "acme__legacy" / "v0"
    legacy.mkdir(parents=True)
    (legacy / "STSBenchmark.json").write_text(json.dumps({  # mteb < 1.11, converted by mteb's own code
        "mteb_dataset_name": "STSBenchmark", "mteb_version": "1.0.0", "dataset_revision": STSB_REVISION,
        "test": {"cos_sim": {"spearman": 0.5, "pearson": 0.4}, "evaluation_time": 1.0},
    }))
    (written / "SICK-R.json").write_text("{not json")
    (written / "STS12.json").write_text('["a", "list"]')
    (written / "STS13.json").write_text('{"task_name": "STS13", "dataset_revision": "x"}')
    (written / "NotATaskHere.json").write_text("{}")

    data = root / "data" / "stsbenchmark"
    data.mkdir(parents=True)
    (data / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    store = root / "store"
    harness.evaluate(FakeEncoder(), ["STSBenchmark"], model_name="acme/fake-encoder", data_dir=data.parent, results_dir=store, verbose=False)
    harness.evaluate("random", ["STSBenchmark"], data_dir=data.parent, results_dir=store, verbose=False)
    return {"clone": clone, "store": store}


@pytest.fixture(scope="module")
def imported(published: dict[str, Path]) -> dict[str, Any]:
    """The import into the store with our runs; its summary and warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = import_results(published["clone"], published["store"])
    return {"summary": summary, "warnings": [str(w.message) for w in caught]}


def _by_model(store: Path) -> dict[str, Any]:
    return {r.model_name: r for r in harness.load_results(store)}


def test_each_unreadable_file_warns_once_and_the_rest_imports(published: dict[str, Path], imported: dict[str, Any]) -> None:
    assert len(imported["summary"].written) == 3 and imported["summary"].skipped == {}
    messages = sorted(imported["warnings"])
    assert len(messages) == 4
    assert "NotATaskHere.json: task_name: missing or not a string; skipped" in messages[0]  # foreign JSON
    assert "SICK-R.json: not readable JSON" in messages[1]
    assert "STS12.json: a JSON list, not an mteb result object; skipped" in messages[2]
    assert "STS13.json: scores: missing or not {split: [entries]}; skipped" in messages[3]
    assert set(_by_model(published["store"])) == {
        "acme/fake-encoder", "harness/random",
        "acme/fake-encoder (published)", "acme/other-encoder (published)", "acme/legacy (published)",
    }


def test_an_imported_result_is_marked_and_has_no_items(published: dict[str, Path], imported: dict[str, Any]) -> None:
    result = _by_model(published["store"])["acme/fake-encoder (published)"]
    harness_block = result.data.harness
    assert harness_block.status == "imported" and result.items() == {} and harness_block.items_file is None
    assert result.revision == "r1" and harness_block.model["published_name"] == "acme/fake-encoder"
    assert harness_block.model["n_parameters"] == 7 and harness_block.model["embedding_dim"] == 12  # from model_meta.json
    assert result.task_name == "STSBenchmark" and harness_block.imported["revision_match"] is True
    assert all(isinstance(v, float) for k, v in result.scores().items() if k not in ("hf_subset", "languages"))
    legacy = _by_model(published["store"])["acme/legacy (published)"]
    assert legacy.main_score == 0.5 and legacy.scores()["cosine_pearson"] == 0.4


def test_another_dataset_revision_is_flagged_and_kept_apart_on_request(published: dict[str, Path], imported: dict[str, Any], tmp_path: Path) -> None:
    result = _by_model(published["store"])["acme/other-encoder (published)"]
    assert result.task_name == "STSBenchmark"  # one column per task, as on mteb's leaderboard
    assert result.data.harness.imported == {
        **result.data.harness.imported,
        "task": "STSBenchmark", "dataset_revision": OTHER_REVISION, "spec_revision": STSB_REVISION, "revision_match": False,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import_results(published["clone"], tmp_path, strict_revisions=True)
    stored = harness.load_results(tmp_path)
    assert {r.task_name for r in stored} == {"STSBenchmark", "STSBenchmark@0123456789ab"}
    assert {r.task_name for r in stored if r.model_name == "acme/other-encoder (published)"} == {"STSBenchmark@0123456789ab"}


def test_ours_and_the_published_score_side_by_side(published: dict[str, Path], imported: dict[str, Any]) -> None:
    table = harness.api.published_comparison(published["store"])
    assert len(table) == 1
    row = table.iloc[0]
    assert (row["model"], row["task"], row["same_data"]) == ("acme/fake-encoder", "STSBenchmark", True)
    assert abs(row["delta"]) < 1e-5 and row["ours"] == pytest.approx(row["published"], abs=1e-5)  # mteb rounds to 6 decimals
    assert (row["published_model_revision"], row["published_dataset_revision"]) == ("r1", STSB_REVISION)


def test_statistics_leave_imported_results_out_of_significance_tests(published: dict[str, Path], imported: dict[str, Any]) -> None:
    from harness.stats import compare

    results = [r for r in harness.load_results(published["store"]) if r.task_name == "STSBenchmark"]
    comparison = compare(results, n_resamples=200, seed=0)
    assert any("no per-item data for" in note and "acme/fake-encoder (published)" in note for note in comparison.notes)
    published_rows = comparison.intervals[comparison.intervals["model"].str.endswith("(published)")]
    assert len(published_rows) == 3 and published_rows["ci_low"].isna().all()
    assert not comparison.pairs["model_a"].str.endswith("(published)").any()


def test_a_second_import_replaces_the_first(published: dict[str, Path], imported: dict[str, Any], tmp_path: Path) -> None:
    store = tmp_path / "store"
    shutil.copytree(published["store"], store)
    before = sorted(p.relative_to(store) for p in store.rglob("*.json"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = import_results(published["clone"], store, tasks=["STSBenchmark"], models=["acme/fake-encoder"])
    assert len(summary.written) == 1 and not summary.skipped
    assert sorted(p.relative_to(store) for p in store.rglob("*.json")) == before
    assert not math.isnan(_by_model(store)["acme/fake-encoder (published)"].main_score)


def test_the_command_prints_one_line_per_problem_and_a_summary(
    published: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-results", str(published["clone"]), "--results", str(tmp_path)]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["warning"] * 4 + ["revision mismatch", "import-results"]
    assert lines[-2] == (
        f"revision mismatch: acme/other-encoder × STSBenchmark: published on dataset revision {OTHER_REVISION}, "
        f"ours is {STSB_REVISION}"
    )
    assert lines[-1].startswith("import-results: 3 imported; 1 of them on another dataset revision than ours; 4 unreadable")
    assert main(["import-results", str(tmp_path / "nowhere"), "--results", str(tmp_path)]) == 2
