"""`diff` on a fake store: agreement with `compare`, Holm over tasks, the items that moved
(recomputed from the .npz files with numpy/scipy), the gate, bad input, JSON and HTML."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from harness.cli import main
from harness.rundiff import DiffError, diff
from harness.stats import compare
from harness.store import iter_results
from tests._fake_store import EVIL_MODEL, fake_store

R = 999
STRONG, MIDDLE = "acme/strong", "acme/middle"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fake_store(tmp_path_factory.mktemp("diff_store"))


@pytest.fixture(scope="module")
def strong_vs_middle(store: Path):
    return diff(STRONG, MIDDLE, results_dir=store, n_resamples=R, seed=3, top=4)


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm by its definition, written out (a loop, not the harness' vectorised one)."""
    m, order, out, running = len(p), np.argsort(p), np.empty(len(p)), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def _items(store: Path, model: str, task: str) -> dict[str, np.ndarray]:
    path = store / model.replace("/", "__") / "r1" / f"{task}.items.npz"
    with np.load(path, allow_pickle=False) as archive:
        return {k: archive[k] for k in archive.files}


def test_agrees_with_compare_per_task(store: Path, strong_vs_middle) -> None:
    pairs = compare(list(iter_results(store)), models=[STRONG, MIDDLE], n_resamples=R, seed=3).pairs.set_index("task")
    tasks = strong_vs_middle.tasks.set_index("task")
    assert sorted(tasks.index) == sorted(pairs.index)  # WordSim: A's published copy is another model name
    for task, row in tasks.iterrows():
        ref = pairs.loc[task]
        orient = -1.0 if ref["model_a"] == STRONG else 1.0  # compare's delta is better - worse
        assert row["delta"] == pytest.approx(orient * ref["delta"], abs=1e-12)
        low, high = sorted([orient * ref["ci_low"], orient * ref["ci_high"]])
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), abs=1e-12)
        assert row["p_value"] == ref["p_value"]
        assert row["score_a"] == pytest.approx(ref["score_a"] if ref["model_a"] == STRONG else ref["score_b"], abs=1e-12)
    np.testing.assert_allclose(tasks["p_holm"], _holm(tasks["p_value"].to_numpy()))
    expected = np.where(tasks["p_holm"] < 0.05, np.where(tasks["delta"] > 0, "better", "worse"), "no change")
    assert list(tasks["verdict"]) == list(expected)
    assert (tasks["verdict"] == "worse").sum() >= 3  # middle is clearly worse than strong on most tasks
    assert strong_vs_middle.failed and set(strong_vs_middle.regressions) <= set(tasks.index[tasks["verdict"] == "worse"])


def test_reversed_pair_mirrors(store: Path, strong_vs_middle) -> None:
    back = diff(MIDDLE, STRONG, results_dir=store, n_resamples=R, seed=3, top=0).tasks.set_index("task")
    ahead = strong_vs_middle.tasks.set_index("task")
    np.testing.assert_allclose(back["delta"], -ahead["delta"], atol=1e-12)
    np.testing.assert_array_equal(back["p_holm"], ahead["p_holm"])
    assert not diff(MIDDLE, STRONG, results_dir=store, n_resamples=R, seed=3, top=0).failed


def test_a_vs_a_never_fails(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for model in (STRONG, "acme/weak", f"{STRONG}@dim=64"):
        for seed in range(3):
            result = diff(model, model, results_dir=store, n_resamples=R, seed=seed, top=2, alpha=0.5, min_delta=0.0)
            assert not result.failed and set(result.tasks["verdict"]) == {"no change"}
            assert (result.tasks["delta"] == 0).all() and not any(result.moved[t].losses for t in result.moved)
    assert main(["diff", STRONG, STRONG, "--results", str(store), "--resamples", "199", "--fail-on-regression"]) == 0
    assert "no change" in capsys.readouterr().out


def test_largest_changes_recomputed_from_items_files(store: Path, strong_vs_middle) -> None:
    moved = strong_vs_middle.moved
    # retrieval: nDCG@10 per query id, from the .npz
    a, b = _items(store, STRONG, "NewsRetrieval"), _items(store, MIDDLE, "NewsRetrieval")
    col = list(a["test.metric_names"]).index("ndcg_at_10")
    value_a = dict(zip(a["test.query_ids"], a["test.values"][:, col]))
    value_b = dict(zip(b["test.query_ids"], b["test.values"][:, col]))
    change = {q: value_b[q] - value_a[q] for q in value_a}
    worst = sorted(change, key=lambda q: (change[q], q))[:4]
    listed = moved["NewsRetrieval"].losses
    assert [i.id for i in listed] == [q for q in worst if change[q] < 0]
    assert [i.delta for i in listed] == pytest.approx([change[q] for q in worst])
    best = sorted(change, key=lambda q: (-change[q], q))[:4]
    assert [i.id for i in moved["NewsRetrieval"].gains] == [q for q in best if change[q] > 0]
    # classification: accuracy over the experiments per test item
    a, b = _items(store, STRONG, "NewsClassification"), _items(store, MIDDLE, "NewsClassification")
    change_c = b["test.correct"].mean(axis=0) - a["test.correct"].mean(axis=0)
    losses = moved["NewsClassification"].losses
    assert [d.delta for d in losses] == pytest.approx(np.sort(change_c)[:4])
    assert all(change_c[int(i.id[1:])] == pytest.approx(i.delta) for i in losses)
    # STS: the terms average to the stored Spearman correlation (scipy), and the listed ones are the extremes
    a, b = _items(store, STRONG, "WordSim"), _items(store, MIDDLE, "WordSim")
    listed = moved["WordSim"].losses + moved["WordSim"].gains
    for item in listed:
        assert item.value_b - item.value_a == pytest.approx(item.delta)
    from harness.rundiff.items import _term

    terms = {m: _term(it["test.gold"], it["test.cosine_scores"], "spearman") for m, it in (("a", a), ("b", b))}
    assert terms["a"].mean() == pytest.approx(spearmanr(a["test.gold"], a["test.cosine_scores"]).statistic, abs=1e-12)
    assert terms["b"].mean() == pytest.approx(spearmanr(b["test.gold"], b["test.cosine_scores"]).statistic, abs=1e-12)
    assert moved["WordSim"].losses[0].delta == pytest.approx((terms["b"] - terms["a"]).min())


def test_texts_missing_says_why(strong_vs_middle) -> None:
    moved = strong_vs_middle.moved["NewsRetrieval"]
    assert moved.note and "cannot be loaded" in moved.note  # the fake tasks have no data on disk
    fields = moved.losses[0].fields  # what the items files hold is still shown
    assert list(fields) == ["rank of the first relevant document under A", "rank of the first relevant document under B",
                            "B's top hit"]
    assert "not stored" in fields["B's top hit"]


def test_json_fields(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", STRONG, "acme/weak", "--results", str(store), "--resamples", "199", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["tasks"]
    for task in payload["tasks"]:
        assert {"task", "delta", "ci_low", "ci_high", "p_value", "p_holm", "verdict"} <= set(task)
        assert task["verdict"] in ("better", "worse", "no change")
    assert "WebRetrieval" not in {t["task"] for t in payload["tasks"]}  # weak lacks it: not in common


def test_gate_exit_codes(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["diff", STRONG, "acme/weak", "--results", str(store), "--resamples", "199", "--top", "0"]
    assert main([*base, "--fail-on-regression"]) == 1
    assert main(base) == 0
    assert main([*base, "--fail-on-regression", "--min-delta", "0.99"]) == 0
    capsys.readouterr()


def test_bad_input_one_line_exit_2(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--results", str(store), "--resamples", "199"]
    cases = [
        (["diff", STRONG, "acme/strongest", *args], "unknown model acme/strongest"),
        (["diff", STRONG, MIDDLE, "--tasks", "Nope", *args], "Nope"),
        (["diff", "acme/weak", MIDDLE, "--tasks", "WebRetrieval", *args], "no result of acme/weak"),
        (["diff", "acme/strong (published)", STRONG, *args], "no task left"),
        (["diff", f"{STRONG}@dim=64", "acme/weak", "--tasks", "FinRetrieval", *args], "FinRetrieval"),
    ]
    for argv, expected in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and expected in err[0] and "Traceback" not in err[0], err


def test_imported_task_skipped_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests._fake_store import write_fake, write_published

    for model, seed in (("x/a", 1), ("x/b", 2)):
        write_fake(tmp_path, model, "NewsRetrieval", "retrieval", 0.5, seed=seed)
    write_fake(tmp_path, "x/a", "WordSim", "sts", 0.5, seed=1)
    write_published(tmp_path, "x/b", "WordSim", "sts", 0.4)  # stored as "x/b (published)"
    assert list(diff("x/a", "x/b", results_dir=tmp_path, n_resamples=199).tasks["task"]) == ["NewsRetrieval"]
    assert main(["diff", "x/a", "x/b (published)", "--results", str(tmp_path), "--tasks", "WordSim"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "WordSim: skipped, no per-item data for x/b (published) (imported result)" in err[0]
    write_fake(tmp_path, "x/c", "NewsClassification", "classification", 0.5)
    with pytest.raises(DiffError, match="no task in common"):
        diff("x/a", "x/c", results_dir=tmp_path)


def test_html_escapes_everything(store: Path, tmp_path: Path) -> None:
    result = diff(EVIL_MODEL, STRONG, results_dir=store, n_resamples=199, top=2)
    page = result.write_html(tmp_path).read_text(encoding="utf-8")
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<details class=\"item\">") == sum(len(m.losses) + len(m.gains) for m in result.moved.values())


def test_pair_share_averages_to_the_auc() -> None:
    from sklearn.metrics import roc_auc_score

    from harness.rundiff.items import _ranking_share

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    scores = np.round(labels * 0.5 + rng.normal(0, 1, 200), 1)  # rounded: ties count half
    share = _ranking_share(labels, scores)
    auc = roc_auc_score(labels, scores)
    assert share[labels == 1].mean() == pytest.approx(auc) and share[labels == 0].mean() == pytest.approx(auc)


def test_public_function() -> None:
    import harness
    import harness.rundiff

    assert harness.diff is diff and harness.DiffResult is harness.rundiff.DiffResult
