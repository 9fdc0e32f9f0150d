"""Published models ranked as mteb ranks them, and the rank uncertainty across tasks (issue 20,
items 3, 4 and 7; issue 19, item 5).

Oracles: mteb's own ``get_benchmark_result()`` on the same files, mteb's Borda function, scipy's
Wilcoxon test, and an A/A simulation for the calibration of the tiers.
"""

from __future__ import annotations

import csv
import math
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.stats.board import mteb_columns, task_uncertainty, wilcoxon_p

BENCHMARK = "MTEB(eng, v2)"
FIXTURE = Path(__file__).parent / "fixtures" / "mteb_results"  # a committed subset of mteb's results repository


# ---------------------------------------------------------------- mteb's columns, exactly


def test_borda_and_means_equal_mteb_functions_with_ties_and_missing_tasks() -> None:
    """Random boards with ties and holes against mteb's own polars Borda and skipna=False means."""
    pl = pytest.importorskip("polars")
    from mteb.benchmarks._create_table import _borda_rank_from_long

    rng = np.random.default_rng(7)
    for _ in range(20):
        scores = rng.integers(0, 6, size=(9, 7)) / 5.0  # many ties
        scores[rng.random(scores.shape) < 0.2] = np.nan
        scores[0] = np.nan if rng.random() < 0.5 else scores[0]  # sometimes a model without any score
        types = ["A", "B", "A", "C", "B", "A", "C"]
        ours = mteb_columns(scores, types)
        long = [{"model_name": f"m{i}", "task_name": f"t{j}", "score": float(scores[i, j])}
                for i in range(9) for j in range(7) if not math.isnan(scores[i, j])]
        frame = pl.DataFrame(long)
        ranked = ~np.isnan(scores).all(axis=1)
        borda = dict(_borda_rank_from_long(frame, n_models=int(ranked.sum())).iter_rows())
        assert {f"m{i}": int(ours.borda_rank[i]) for i in np.flatnonzero(ranked)} == borda
        np.testing.assert_array_equal(np.isnan(ours.mean_task), np.isnan(scores).any(axis=1))
        complete = ~np.isnan(scores).any(axis=1)
        np.testing.assert_allclose(ours.mean_task[complete], scores[complete].mean(axis=1))
        by_type = {k: scores[:, [j for j, t in enumerate(types) if t == k]].mean(axis=1) for k in "ABC"}
        np.testing.assert_allclose(ours.mean_task_type, np.mean([by_type[k] for k in "ABC"], axis=0))


def test_a_score_only_the_borda_count_ranks() -> None:
    """mteb nulls a task missing a subset for the means, but ranks its partial mean in Borda."""
    scores = np.array([[0.9, np.nan], [0.5, 0.4], [0.1, 0.3]])
    borda = np.array([[0.9, 0.8], [0.5, 0.4], [0.1, 0.3]])
    ours = mteb_columns(scores, ["A", "A"], borda)
    assert ours.borda_rank.tolist() == [1, 2, 3] and math.isnan(ours.mean_task[0])
    assert mteb_columns(scores, ["A", "A"]).borda_rank.tolist() == [2, 1, 3]  # without it: 2, 3 and 1 points


# ---------------------------------------------------------------- uncertainty across tasks


def test_wilcoxon_matrix_equals_scipy() -> None:
    from scipy import stats

    rng = np.random.default_rng(3)
    values = np.round(rng.normal(size=(41, 5)), 1)  # ties and zero differences
    values[:, 4] = values[:, 3]
    p = wilcoxon_p(values)
    for a in range(5):
        for b in range(a + 1, 5):
            d = values[:, a] - values[:, b]
            expected = 1.0 if not d.any() else stats.wilcoxon(values[:, a], values[:, b], method="approx",
                                                               correction=True).pvalue
            assert p[a, b] == pytest.approx(expected, rel=1e-9) and p[b, a] == p[a, b]


@pytest.mark.parametrize(("n_models", "n_runs"), [(2, 600), (6, 300)])
def test_aa_models_from_one_distribution_are_separated_at_most_at_the_nominal_rate(n_models: int, n_runs: int) -> None:
    """A/A over 41 tasks: task difficulty shared, model noise i.i.d.; any tier > 1 is a false separation."""
    rng = np.random.default_rng(11)
    separated = 0
    for run in range(n_runs):
        scores = rng.normal(size=(1, 41)) + 0.2 * rng.standard_t(4, size=(n_models, 41))
        separated += bool((task_uncertainty(scores, n_resamples=10, seed=run).tier > 1).any())
    rate, noise = separated / n_runs, math.sqrt(0.05 * 0.95 / n_runs)
    assert rate <= 0.05 + 2 * noise, f"false separation rate {rate:.3f} at alpha 0.05"


def test_clear_differences_are_separated_and_ranked() -> None:
    rng = np.random.default_rng(5)
    scores = rng.normal(size=(1, 41)) + np.array([[0.0], [1.0], [2.0]]) + 0.05 * rng.normal(size=(3, 41))
    out = task_uncertainty(scores, n_resamples=500)
    assert out.tier.tolist() == [3, 2, 1] and out.rank_ci_low.tolist() == [3, 2, 1] == out.rank_ci_high.tolist()
    assert out.p_first.tolist() == [0.0, 0.0, 1.0]


def test_an_incomplete_model_never_changes_the_complete_models_ranking() -> None:
    rng = np.random.default_rng(2)
    scores = rng.normal(size=(1, 12)) + 0.3 * rng.normal(size=(5, 12))
    alone = task_uncertainty(scores, n_resamples=300, seed=1)
    extra = np.full((1, 12), np.nan)
    extra[0, :3] = 10.0  # best wherever it has a score, but only 3 tasks
    both = task_uncertainty(np.vstack([scores, extra]), n_resamples=300, seed=1)
    for field in ("mean_rank", "rank_ci_low", "rank_ci_high", "p_first", "tier"):
        np.testing.assert_array_equal(getattr(both, field)[:5], getattr(alone, field))
    assert not both.complete[5] and both.tier[5] == 0 and (both.rank_ci_low[5], both.rank_ci_high[5]) == (1, 1)


# ---------------------------------------------------------------- end to end against mteb's table


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture laid out as mteb's ``ResultCache`` reads a clone (``<root>/remote/results/...``)."""
    root = tmp_path_factory.mktemp("published")
    shutil.copytree(FIXTURE, root / "remote")
    return root


@pytest.fixture(scope="module")
def board(source: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from harness import api

    store, out = tmp_path_factory.mktemp("store"), tmp_path_factory.mktemp("out")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api.import_results(source / "remote", store)
    api.report(store, out, benchmark=BENCHMARK)
    with open(out / "leaderboard.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {"rows": rows, "html": (out / "index.html").read_text(encoding="utf-8"), "store": store}


def test_leaderboard_csv_equals_mtebs_own_table(source: Path, board: dict[str, Any]) -> None:
    mteb = pytest.importorskip("mteb")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = mteb.ResultCache(source).load_results(tasks=BENCHMARK, require_model_meta=False).join_revisions()
        reference = table.get_benchmark_result()
    ours = {row["model"]: row for row in board["rows"]}
    assert len(reference) >= 4
    for row in reference.to_dict(orient="records"):
        mine = ours[f"{row['Model']} (published)"]
        assert int(mine["borda_rank"]) == row["Rank (Borda)"], row["Model"]
        expected = row["Mean (Task)"]
        if math.isnan(expected):
            assert mine["mean_task"] == "", row["Model"]
        else:
            assert float(mine["mean_task"]) == pytest.approx(expected, abs=1e-6), row["Model"]
            assert float(mine["mean_task_type"]) == pytest.approx(row["Mean (TaskType)"], abs=1e-6)


def test_leaderboard_csv_contract(board: dict[str, Any]) -> None:
    rows = board["rows"]
    for column in ("model", "borda_rank", "mean_task", "mean_task_type", "rank_ci_low", "rank_ci_high"):
        assert column in rows[0]
    assert len({r["model"] for r in rows}) == len(rows) and all(r["model"].endswith(" (published)") for r in rows)
    assert all(r["rank_ci_low"] and int(r["rank_ci_low"]) <= int(r["rank_ci_high"]) for r in rows)
    assert all(0 <= float(r["mean_task"]) <= 1 for r in rows if r["mean_task"])
    complete = [r for r in rows if r["complete"] == "1"]
    assert complete and rows[: len(complete)] == complete  # incomplete rows below the complete ones
    assert {r["uncertainty"] for r in complete} == {"tasks"} and all(r["tier"] for r in complete)
    assert all(r["uncertainty"] == "placed" and not r["tier"] for r in rows[len(complete):])


def test_the_page_shows_the_benchmark_table(board: dict[str, Any]) -> None:
    html = board["html"]
    assert "Rank<br><small>(Borda)</small>" in html and "Pair Classification" in html and "incomplete" in html
    assert "Leaderboard — MTEB(eng, v2)" in html


def test_an_imported_only_store_renders_without_a_benchmark(board: dict[str, Any], tmp_path: Path) -> None:
    """Issue 20, "what happened" 2: ``report`` of a store of imported results only (KeyError 'task')."""
    from harness import api

    api.report(board["store"], tmp_path)
    with open(tmp_path / "leaderboard.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(r["borda_rank"] and r["rank_ci_low"] for r in rows)


# ---------------------------------------------------------------- own runs and published rows on one board


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The fake store (own runs with per-item data, sweep variants on 4 of 6 tasks, a published row)."""
    import json

    from _fake_store import fake_store

    from harness.leaderboard import render_report
    from harness.store import iter_results

    root, out = fake_store(tmp_path_factory.mktemp("store"), evil=False), tmp_path_factory.mktemp("out")
    render_report(list(iter_results(root)), out, n_resamples=300)
    return json.loads((out / "leaderboard.json").read_text())


def test_own_and_published_rows_share_the_board_with_their_difference(mixed: dict[str, Any]) -> None:
    rows = {m["name"]: m for m in mixed["models"]}
    own, published = rows["acme/strong"], rows["acme/strong (published)"]
    assert published["published"] and published["borda"] is not None and published["rank_ci"] is not None
    assert published["uncertainty"] == "placed" and own["uncertainty"] == "tasks+items"
    expected = own["scores"]["WordSim"]["score"] - 0.5
    assert own["vs_published"]["delta_common"] == pytest.approx(expected) and own["vs_published"]["n_common"] == 1


def test_incomplete_variants_never_shrink_the_task_set_of_the_complete_models(mixed: dict[str, Any]) -> None:
    """Issue 19, item 5: sweep variants with 4 of 6 tasks sit below, the complete models keep all 6."""
    rows = mixed["models"]
    complete = [m for m in rows if m["complete"]]
    assert {m["name"] for m in complete} == {"acme/strong", "acme/middle"}  # acme/weak lacks WebRetrieval
    assert rows[: len(complete)] == complete and all(m["tier"] is not None for m in complete)
    assert all(m["tier"] is None and m["rank_ci"] is not None for m in rows[len(complete):])
    assert rows[0]["name"] == "acme/strong" and rows[0]["rank_ci"] == [1, 1]
