"""The store: mteb-loadable JSON, per-item arrays without pickle, validation on read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.errors import StoreError
from harness.store import find_result, iter_results, read_result, write_result


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
    path = write_result(tmp_path, document(), items)
    assert path == tmp_path / "org__m" / "r1" / "T.json"
    stored = read_result(path)
    assert stored.main_score == 0.5 and stored.model_name == "org/m"
    np.testing.assert_array_equal(stored.items()["test.ids"], items["test.ids"])
    assert mteb.TaskResult.from_disk(path).get_score() == pytest.approx(0.5)


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="object dtype"):
        write_result(tmp_path, document(), {"test.x": np.array([{"a": 1}], dtype=object)})


def test_truncated_or_foreign_files_are_skipped_with_a_warning(tmp_path: Path) -> None:
    good = write_result(tmp_path, document("Good"), {"test.x": np.ones(2)})
    truncated = good.with_name("Bad.json")
    truncated.write_text(good.read_text()[:50])
    foreign = good.with_name("Foreign.json")
    foreign.write_text(json.dumps({"hello": "world"}))
    with pytest.warns(UserWarning) as caught:
        results = list(iter_results(tmp_path))
    assert [r.task_name for r in results] == ["Good"]
    assert {Path(str(w.message).split(":")[0]).name for w in caught} == {"Bad.json", "Foreign.json"}


def test_items_that_do_not_match_make_the_result_incomplete(tmp_path: Path) -> None:
    path = write_result(tmp_path, document(), {"test.x": np.ones(2)})
    np.savez(path.with_name("T.items.npz"), **{"test.x": np.zeros(2)})
    with pytest.raises(StoreError, match="does not match"):
        read_result(path)
    assert find_result(tmp_path, "org/m", "r1", "T") is None
