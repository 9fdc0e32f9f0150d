"""``harness.stats.compare`` end to end on stores written by ``harness.store.write_result``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from harness.stats import StatsError, compare
from harness.stats.across import friedman, mteb_aggregates, posthoc, rank_bootstrap
from harness.stats.tables import PAIR_COLUMNS
from harness.stats.items import task_statistic
from harness.store import StoredResult, iter_results, write_result

N = 60
R = 999
MAIN = {"retrieval": "ndcg_at_10", "reranking": "map_at_1000", "classification": "accuracy", "clustering": "v_measure",
        "sts": "cosine_spearman", "pair_classification": "max_ap", "summarization": "cosine_spearman"}
QUALITY = {"good": 0.9, "fair": 0.5, "random": 0.0}


def items_for(task_type: str, quality: float, rng: np.random.Generator,
              task_rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-item arrays in each evaluator's documented layout; ``task_rng`` draws what models share."""
    gold, labels, ids = task_rng.normal(size=N), task_rng.integers(0, 2, N), np.array([f"q{i:02d}" for i in range(N)])
    noise = rng.normal(size=N)
    if task_type in ("retrieval", "reranking"):
        values = np.clip(quality + 0.2 * rng.normal(size=(N, 2)), 0, 1)
        order = rng.permutation(N)  # stored query order differs by model: aligned by id
        return {"test.values": values[order], "test.metric_names": np.array([MAIN[task_type], "recall_at_10"]),
                "test.query_ids": ids[order], "test.confidence": np.zeros((N, 3))}
    if task_type == "classification":
        correct = rng.random((3, N)) < 0.5 + 0.45 * quality
        return {"test.correct": correct, "test.predictions": correct.astype(np.int64), "test.gold": labels,
                "test.classes": np.array(["n", "y"])}
    if task_type == "clustering":
        draws = task_rng.integers(0, 100, (10, 50), dtype=np.int32)
        return {"test.v_measures": np.clip(quality * 0.8 + 0.02 * noise[:10], 0, 1), "test.ami_scores": np.zeros(10),
                "test.sample_indices": draws, "test.assignments": draws, "test.labels": task_rng.integers(0, 3, 100)}
    if task_type == "summarization":
        values = np.clip(quality * 0.8 + 0.2 * noise, -1, 1)
        values[:3] = np.nan  # texts skipped for constant scores
        names = ("cosine_spearman", "cosine_pearson", "dot_spearman", "dot_pearson", "spearman", "pearson")
        return {f"test.{name}": values for name in names}
    signal = (gold if task_type == "sts" else labels) * 3 * quality + noise
    if task_type == "sts":
        return {"test.gold": gold, "test.cosine_scores": signal, "test.similarity_scores": signal,
                "test.manhattan_distances": -np.abs(signal), "test.euclidean_distances": -signal}
    return {"test.labels": labels, "test.similarity_scores": signal, "test.cosine_scores": signal, "test.dot_scores": signal,
            "test.euclidean_distances": -signal, "test.manhattan_distances": -signal + 0.1 * rng.normal(size=N)}


def store(root: Path, task_type: str, task: str, model: str, items: dict[str, np.ndarray],
          score: float | None = None) -> None:
    """Write one result; its main score is the items' own unless given (imported results)."""
    if score is None:
        score = float(task_statistic(task_type, MAIN[task_type], "test", [items]).observed()[0])
    write_result(root, {
        "dataset_revision": "test", "task_name": task, "mteb_version": "2.0.0", "evaluation_time": 0.0,
        "scores": {"test": [{"main_score": score, "hf_subset": "default", "languages": ["eng-Latn"]}]},
        "harness": {"model": {"name": model, "revision": "r"}, "task": {"type": task_type},
                    "main_score_name": MAIN[task_type], "harness_version": "test"},
    }, items)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> list[StoredResult]:
    """good / fair / random on one task of each type, plus good's twin ("copy") on every task."""
    root = tmp_path_factory.mktemp("store")
    rng = np.random.default_rng(0)
    for t, task_type in enumerate(MAIN):
        for model, quality in QUALITY.items():
            items = items_for(task_type, quality, rng, np.random.default_rng(100 + t))
            store(root, task_type, f"T{t}-{task_type}", model, items)
            if model == "good":
                store(root, task_type, f"T{t}-{task_type}", "copy", items)
    return list(iter_results(root))


@pytest.fixture(scope="module")
def comparison(results: list[StoredResult]):  # noqa: ANN201
    return compare(results, n_resamples=R, seed=3)


def test_tables_have_the_documented_columns_and_json_is_strict(comparison) -> None:  # noqa: ANN001
    assert list(comparison.pairs.columns[: len(PAIR_COLUMNS)]) == PAIR_COLUMNS
    assert list(comparison.intervals.columns) == ["task", "model", "score", "ci_low", "ci_high", "n_items", "tier"]
    assert list(comparison.summary.columns[:8]) == [
        "model", "mean_task", "mean_task_type", "borda_rank", "mean_rank", "p_first", "rank_ci_low", "rank_ci_high"]
    assert list(comparison.friedman.columns[:2]) == ["statistic", "p"]
    document = json.loads(comparison.to_json())
    assert all(list(row) == PAIR_COLUMNS for row in document["pairs"]) and len(document["pairs"]) == 7 * 6
    assert {"n_resamples": R, "seed": 3, "alpha": 0.05}.items() <= document["method"].items()
    assert all(isinstance(row["p_value"], float) and isinstance(row["significant"], bool) for row in document["pairs"])
    assert [row["model"] for row in document["summary"]] == list(comparison.summary["model"])


def test_every_task_type_separates_good_from_random(comparison) -> None:  # noqa: ANN001
    pairs = comparison.pairs.set_index(["task", "model_a", "model_b"])
    for task in comparison.intervals["task"].unique():
        best = "copy" if (task, "copy", "random") in pairs.index else "good"  # good and copy tie: either leads
        row = pairs.loc[(task, best, "random")]
        assert row["significant"] and row["delta"] > 0 and row["ci_low"] > 0, task
        tiers = comparison.intervals[comparison.intervals["task"] == task].set_index("model")["tier"]
        assert tiers["good"] == tiers["copy"] == 1 and tiers["random"] == tiers.max(), task
    assert set(comparison.pairs["test"]) == {"sign-flip", "bootstrap"}


def test_a_a_identical_per_item_data_is_never_significant(comparison) -> None:  # noqa: ANN001
    twins = comparison.pairs[comparison.pairs[["model_a", "model_b"]].apply(set, axis=1) == {"good", "copy"}]
    assert len(twins) == 7
    assert (twins["delta"] == 0).all() and (twins["p_value"] == 1).all() and not twins["significant"].any()
    assert (twins["ci_low"] == 0).all() and (twins["ci_high"] == 0).all()


def test_intervals_contain_the_score_and_match_the_stored_one(comparison, results) -> None:  # noqa: ANN001
    iv = comparison.intervals
    assert ((iv["ci_low"] <= iv["score"]) & (iv["score"] <= iv["ci_high"])).all()
    stored = {(r.task_name, r.model_name): r.main_score for r in results}
    assert np.allclose(iv["score"], [stored[(t, m)] for t, m in zip(iv["task"], iv["model"])], atol=1e-9)
    assert comparison.notes == []


def test_same_seed_same_numbers_and_each_task_has_its_own_stream(results, comparison) -> None:  # noqa: ANN001
    task = "T4-sts"
    alone = compare(results, tasks=[task], n_resamples=R, seed=3)
    expected = comparison.pairs[comparison.pairs["task"] == task].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone.pairs, expected)
    other = compare(results, tasks=[task], n_resamples=R, seed=4)
    assert not np.allclose(other.pairs["ci_low"], expected["ci_low"])


def test_against_leader_compares_each_model_with_the_best(results) -> None:  # noqa: ANN001
    leader = compare(results, n_resamples=R, against="leader", models=["good", "fair", "random"])
    assert len(leader.pairs) == 7 * 2 and set(leader.pairs["model_a"]) == {"good"}
    assert "each model vs the leader" in leader.method["multiple_comparisons"]


def test_imported_results_are_left_out_of_tests_with_a_note(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for model, quality in QUALITY.items():
        store(tmp_path, "sts", "STS", model, items_for("sts", quality, rng, np.random.default_rng(5)))
    store(tmp_path, "sts", "STS", "published", {}, score=0.8)
    comparison = compare(list(iter_results(tmp_path)), n_resamples=R)
    row = comparison.intervals.set_index("model").loc["published"]
    assert row["n_items"] == 0 and np.isnan(row["ci_low"]) and pd.isna(row["tier"]) and row["score"] == 0.8
    assert "published" not in set(comparison.pairs[["model_a", "model_b"]].to_numpy().ravel())
    assert any("no per-item data for published" in note for note in comparison.notes)
    assert comparison.summary.set_index("model").loc["published", "mean_task"] == 0.8  # across tasks it counts


def test_unpaired_items_skip_the_task_with_a_warning(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    store(tmp_path, "sts", "STS", "a", items_for("sts", 0.9, rng, np.random.default_rng(5)))
    store(tmp_path, "sts", "STS", "b", items_for("sts", 0.9, rng, np.random.default_rng(6)))  # other gold
    with pytest.warns(UserWarning, match="not scored on the same items"):
        comparison = compare(list(iter_results(tmp_path)), n_resamples=R)
    assert comparison.pairs.empty and comparison.intervals["ci_low"].isna().all()
    assert any("STS: the models' test.gold differ" in note for note in comparison.notes)


def test_user_errors_name_the_problem(results, tmp_path: Path) -> None:  # noqa: ANN001
    with pytest.raises(StatsError, match="did you mean good"):
        compare(results, models=["god"])
    with pytest.raises(StatsError, match="against"):
        compare(results, against="best")
    twice = [*results, *[r for r in results if r.model_name == "good"][:1]]
    with pytest.raises(StatsError, match="two results for good"):
        compare(twice)


def test_mteb_aggregates_agree_with_mteb_leaderboard_code() -> None:
    pl = pytest.importorskip("polars")
    create = pytest.importorskip("mteb.benchmarks._create_table")._create_summary_table
    models = ["sentence-transformers/all-MiniLM-L6-v2", "BAAI/bge-small-en-v1.5", "intfloat/e5-small-v2"]
    scores = {models[0]: {"STSBenchmark": 0.8, "Banking77Classification": 0.7, "SciFact": 0.6, "SICK-R": 0.75},
              models[1]: {"STSBenchmark": 0.82, "Banking77Classification": 0.65, "SciFact": 0.6},  # SICK-R missing
              models[2]: {"STSBenchmark": 0.5, "Banking77Classification": 0.75, "SciFact": 0.3, "SICK-R": 0.7}}
    types = {"STSBenchmark": "sts", "SICK-R": "sts", "Banking77Classification": "classification", "SciFact": "retrieval"}
    long = pd.DataFrame([{"task": t, "task_type": types[t], "model": m, "score": s}
                         for m, d in scores.items() for t, s in d.items()])
    ours = mteb_aggregates(long).set_index("model")
    rows = [{"model_name": m, "task_name": t, "score": s, "subset": "default", "split": "test"}
            for m, d in scores.items() for t, s in d.items()]
    theirs = create(pl.DataFrame(rows)).df.to_pandas().set_index("Model")
    np.testing.assert_allclose(ours["mean_task"], theirs.loc[models, "Mean (Task)"])
    np.testing.assert_allclose(ours["mean_task_type"], theirs.loc[models, "Mean (TaskType)"])
    assert ours["borda_rank"].tolist() == theirs.loc[models, "Rank (Borda)"].tolist() == [1, 2, 3]
    # by hand: m1 gets 1 + 1 + 1.5 + 2 points (n_models - rank), m2 2 + 0 + 1.5 + 0 (missing counts 0)
    assert np.isnan(ours.loc[models[1], "mean_task"]) and ours.loc[models[0], "mean_task"] == pytest.approx(0.7125)


def block(seed: int = 0, tasks: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    skill = np.array([0.8, 0.75, 0.6, 0.5])
    return pd.DataFrame(skill + rng.normal(0, 0.05, (tasks, 4)), columns=["a", "b", "c", "d"],
                        index=[f"t{i}" for i in range(tasks)])


def test_friedman_nemenyi_and_wilcoxon_match_their_references() -> None:
    matrix = block()
    table = friedman(matrix, 0.05).iloc[0]
    reference = stats.friedmanchisquare(*matrix.to_numpy().T)
    assert table["statistic"] == pytest.approx(reference.statistic) and table["p"] == pytest.approx(reference.pvalue)
    tests = posthoc(matrix, 0.05).set_index(["model_a", "model_b"])
    raw = [stats.wilcoxon(matrix[a], matrix[b]).pvalue for a, b in tests.index]
    np.testing.assert_allclose(tests["wilcoxon_p"], raw)
    holm = np.minimum(1, np.maximum.accumulate(np.sort(raw) * np.arange(6, 0, -1)))  # 6 pairs, step-down
    np.testing.assert_allclose(tests["wilcoxon_p_holm"], holm[np.argsort(np.argsort(raw))])
    sp = pytest.importorskip("scikit_posthocs")
    nemenyi = sp.posthoc_nemenyi_friedman(matrix.to_numpy())
    expected = [nemenyi.iloc[list(matrix.columns).index(a), list(matrix.columns).index(b)] for a, b in tests.index]
    np.testing.assert_allclose(tests["nemenyi_p"], expected, rtol=1e-6)


def test_rank_bootstrap_gives_first_place_probabilities_and_intervals() -> None:
    matrix = block()
    matrix["b"] = matrix["a"]  # a and b tie on every task: they share first place
    ranks = rank_bootstrap(matrix, np.random.default_rng(0), 2000, 0.05).set_index("model")
    assert ranks["p_first"].sum() == pytest.approx(1.0)
    assert ranks.loc["a", "p_first"] == ranks.loc["b", "p_first"] == pytest.approx(0.5)
    assert ranks.loc["a", "rank_ci_low"] == ranks.loc["a", "rank_ci_high"] == 1
    assert ranks.loc["d", "rank_ci_low"] == 4 and ranks.loc["a", "mean_rank"] == 1.5


def test_critical_difference_diagram_is_svg_naming_every_model(comparison) -> None:  # noqa: ANN001
    pytest.importorskip("scikit_posthocs")
    for test in ("wilcoxon", "nemenyi"):
        svg = comparison.cd_svg(test)
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert all(model in svg for model in comparison.summary["model"])


def test_stats_reads_the_store_only_and_imports_nothing_heavy() -> None:
    code = ("import sys, harness.stats; "
            "heavy = ('torch', 'matplotlib', 'scikit_posthocs', 'sentence_transformers'); "
            "bad = [m for m in sys.modules if m.split('.')[0] in heavy "
            "or m in ('harness.models', 'harness.encode', 'harness.evaluators', 'harness.cli', 'harness.runner')]; "
            "print(bad); sys.exit(bool(bad))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stdout + done.stderr
