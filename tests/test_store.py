"""The store: mteb-loadable JSON, per-item arrays without pickle, validation on read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.errors import StoreError
from harness.specs import TaskSpec
from harness.store import ResultDocument, find_result, iter_results, read_result, write_result


def document(task: str = "T", model: str = "org/m") -> dict:
    return {
        "dataset_revision": "local",
        "task_name": task,
        "mteb_version": "2.0.0",
        "evaluation_time": 1.5,
        "scores": {"test": [{"main_score": 0.5, "cosine_spearman": 0.5, "hf_subset": "default", "languages": ["eng-Latn"]}]},
        "harness": {"model": {"name": model, "revision": "r1"}, "task": {"type": "sts"}, "main_score_name": "cosine_spearman", "harness_version": "0"},
    }


def test_round_trip_and_mteb_can_load_it(tmp_path: Path) -> None:
    import mteb

    items = {"test.gold": np.arange(4.0), "test.ids": np.array(["a", "b", "c", "d"])}
    written = write_result(tmp_path, document(), items)
    path = written.path
    assert path == tmp_path / "org__m" / "r1" / "T.json"
    stored = read_result(path)
    assert stored.main_score == 0.5 and stored.model_name == "org/m"
    assert written.data == stored.data  # what write_result returns is what a read gives
    np.testing.assert_array_equal(stored.items()["test.ids"], items["test.ids"])
    assert mteb.TaskResult.from_disk(path).get_score() == pytest.approx(0.5)


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="object dtype"):
        write_result(tmp_path, document(), {"test.x": np.array([{"a": 1}], dtype=object)})


def test_truncated_or_foreign_files_are_skipped_with_a_warning(tmp_path: Path) -> None:
    good = write_result(tmp_path, document("Good"), {"test.x": np.ones(2)}).path
    truncated = good.with_name("Bad.json")
    truncated.write_text(good.read_text()[:50])
    foreign = good.with_name("Foreign.json")
    foreign.write_text(json.dumps({"hello": "world"}))
    with pytest.warns(UserWarning) as caught:
        results = list(iter_results(tmp_path))
    assert [r.task_name for r in results] == ["Good"]
    assert {Path(str(w.message).split(":")[0]).name for w in caught} == {"Bad.json", "Foreign.json"}


def test_items_that_do_not_match_make_the_result_incomplete(tmp_path: Path) -> None:
    path = write_result(tmp_path, document(), {"test.x": np.ones(2)}).path
    np.savez(path.with_name("T.items.npz"), **{"test.x": np.zeros(2)})
    with pytest.raises(StoreError, match="does not match"):
        read_result(path)
    assert find_result(tmp_path, "org/m", "r1", "T") is None


def test_write_result_does_not_touch_its_input(tmp_path: Path) -> None:
    given = document()
    before = json.dumps(given)
    write_result(tmp_path, given, {"test.x": np.ones(2)})
    assert json.dumps(given) == before


SPEC = TaskSpec(name="T", type="sts", main_score="cosine_spearman", languages=["eng-Latn"], data={"local": "t"})


def test_a_run_document_has_the_stored_key_order(tmp_path: Path) -> None:
    """The JSON of a run: mteb's fields, then the harness block, keys in this exact order."""
    document = ResultDocument.build(
        SPEC,
        model={"name": "org/m", "revision": "r1"},
        metrics={"cosine_spearman": 0.5, "cosine_pearson": 0.4},
        evaluation_time=1.0,
        date="2026-01-01T00:00:00+00:00",
        details={"options": {}, "encode": {"texts": 2}, "undefined_metrics": []},
        breakdown_by_length={"bins": []},
    )
    stored = json.loads(write_result(tmp_path, document, {"test.x": np.ones(2)}).path.read_text())
    assert list(stored) == ["dataset_revision", "task_name", "mteb_version", "evaluation_time", "kg_co2_emissions", "date", "scores", "harness"]
    assert list(stored["harness"]) == [
        "model", "task", "main_score_name", "harness_version", "options", "encode", "undefined_metrics",
        "items_file", "items_sha256", "breakdown_by_length",
    ]
    assert stored["scores"] == {"test": [{"cosine_spearman": 0.5, "cosine_pearson": 0.4, "main_score": 0.5, "hf_subset": "default", "languages": ["eng-Latn"]}]}
    assert (stored["dataset_revision"], stored["mteb_version"], stored["harness"]["items_file"]) == ("local", "2.0.0", "T.items.npz")
    assert document.harness["items_file"] is None  # the document itself is not modified


def test_an_imported_document_has_the_stored_key_order(tmp_path: Path) -> None:
    document = ResultDocument.build(
        SPEC,
        model={"name": "org/m (published)", "revision": "r1"},
        metrics={"cosine_spearman": 0.5},
        evaluation_time=None,
        details={"imported": {"source": "x"}},
        status="imported",
        task_name="T@abc",
        dataset_revision="abc",
        mteb_version="1.12.0",
        languages=["fra-Latn"],
    )
    written = write_result(tmp_path, document, {})
    stored = json.loads(written.path.read_text())
    assert list(stored) == ["dataset_revision", "task_name", "mteb_version", "evaluation_time", "kg_co2_emissions", "scores", "harness"]
    assert list(stored["harness"]) == ["model", "task", "main_score_name", "harness_version", "status", "imported", "items_file", "items_sha256"]
    assert written.data.harness.status == "imported" and written.task_name == "T@abc" and written.scores()["languages"] == ["fra-Latn"]
