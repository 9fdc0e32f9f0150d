"""The sweep view (issue 22): layer x dim heat grids per task type, CIs, free compressions from the
paired statistics, and the Pareto front over (bytes, layers, quality)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from harness.leaderboard.render import build, render_report
from harness.leaderboard.sweeps import pareto_front
from harness.store import iter_results
from tests._fake_store import write_fake

TASKS = [("NewsRetrieval", "retrieval"), ("WebRetrieval", "retrieval"), ("WordSim", "sts")]
BASE = "acme/deep"
# variant -> (quality, seed offset or None for the full model's own items, bytes per vector)
VARIANTS = {
    "": (0.8, 0, 1536.0),
    "layer=4,dim=384": (0.8, 0, 1536.0),  # the plain model again: identical items, so free
    "layer=4,dim=64": (0.7, 1, 256.0),
    "layer=2,dim=384": (0.5, 2, 1536.0),
    "layer=2,dim=64": (0.05, 3, 256.0),  # far worse: significantly worse everywhere
    "quantize=binary,rescore=0": (0.6, 4, 48.0),
    "quantize=binary,rescore=100": (0.75, 5, 48.0),
}


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("store")
    for variant, (quality, seed, size) in VARIANTS.items():
        name = f"{BASE}@{variant}" if variant else BASE
        settings = {"variant": "@" + variant, "bytes_per_vector": size, "depth": 4} if variant else {}
        dim = 64 if "dim=64" in variant else 384
        for t_index, (task, kind) in enumerate(TASKS):
            if "rescore" in variant and kind != "retrieval":
                continue  # rescoring variants skip non-retrieval tasks, as the runner does
            write_fake(root, name, task, kind, quality, seed=10 * seed + t_index, n=120, model_info={"embedding_dim": dim, "settings": settings})
    results = list(iter_results(root))
    # 1000 draws: a sign-flip p-value can be small enough to survive Holm over the task's 21 pairs
    return {"page": build(results, n_resamples=1000, seed=0), "results": results, "root": root}


def test_the_grid_holds_each_layer_dim_variant_with_its_ci(page: dict) -> None:
    (group,) = page["page"]["sweeps"]
    assert group["base"] == BASE and group["depth"] == 4
    by_type = {t["type"]: t for t in group["types"]}
    assert set(by_type) == {"retrieval", "sts"} and by_type["retrieval"]["tasks"] == ["NewsRetrieval", "WebRetrieval"]
    retrieval = by_type["retrieval"]
    assert retrieval["layers"] == [2, 4] and retrieval["dims"] == [384, 64]
    names = [[cell["variant"] for cell in row] for row in retrieval["grid"]]
    assert names == [["layer=2,dim=384", "layer=2,dim=64"], ["layer=4,dim=384", "layer=4,dim=64"]]
    for cell in itertools.chain.from_iterable(retrieval["grid"]):
        assert cell["low"] < cell["mean"] < cell["high"]
    means = [r.main_score for r in page["results"] if r.model_name == f"{BASE}@layer=4,dim=64" and r.task_name in retrieval["tasks"]]
    assert retrieval["grid"][1][1]["mean"] == pytest.approx(sum(means) / 2)


def test_free_compressions_follow_the_paired_tests(page: dict) -> None:
    comparison = page["page"]["comparison"]
    for ty in page["page"]["sweeps"][0]["types"]:
        points = {p["variant"]: p for p in ty["points"]}
        assert points["layer=4,dim=384"]["free"] is True  # identical to the full model
        assert points["layer=2,dim=64"]["free"] is False
        assert points[""]["free"] is None  # the full model is not compared with itself
        if len(ty["tasks"]) == 1:  # one task: the task's paired p-values of variant vs full, Holm by hand
            pairs = comparison.pairs[comparison.pairs["task"] == ty["tasks"][0]]
            tests = {}
            for variant, point in points.items():
                row = pairs[((pairs["model_a"] == BASE) & (pairs["model_b"] == point["name"]))
                            | ((pairs["model_b"] == BASE) & (pairs["model_a"] == point["name"]))]
                if variant and len(row):
                    sign = -1 if row["model_a"].iloc[0] == BASE else 1
                    tests[variant] = (sign * row["delta"].iloc[0], row["p_value"].iloc[0])
            order = sorted(tests, key=lambda v: tests[v][1])
            adjusted, running = {}, 0.0
            for rank, variant in enumerate(order):
                running = max(running, min(1.0, (len(order) - rank) * tests[variant][1]))
                adjusted[variant] = running
            for variant, (delta, _) in tests.items():
                assert points[variant]["free"] is (not (delta < 0 and adjusted[variant] < 0.05)), variant


def test_the_pareto_front_is_the_set_of_undominated_points(page: dict) -> None:
    for ty in page["page"]["sweeps"][0]["types"]:
        costed = [p for p in ty["points"] if p["bytes"] is not None]
        brute = set()
        for p in costed:  # brute force: no other point at most as costly on both axes and at least as good
            if not any(q is not p and q["bytes"] <= p["bytes"] and q["layer"] <= p["layer"] and q["mean"] >= p["mean"]
                       and (q["bytes"], q["layer"], q["mean"]) != (p["bytes"], p["layer"], p["mean"]) for q in costed):
                brute.add(p["name"])
        assert {p["name"] for p in ty["front"]} == brute and brute
        rescored = any(p["variant"].startswith("quantize=binary") for p in ty["front"])
        assert rescored is (ty["type"] == "retrieval")  # 48 bytes: the cheapest; on retrieval only


def test_pareto_front_by_hand() -> None:
    points = [(8, 4, 0.5), (8, 4, 0.6), (256, 2, 0.7), (1536, 4, 0.9), (1536, 4, 0.8), (256, 4, 0.7)]
    assert sorted(pareto_front(points)) == [1, 2, 3]


def test_the_page_shows_the_grid(page: dict, tmp_path: Path) -> None:
    html = render_report(page["results"], tmp_path, n_resamples=1000).read_text(encoding="utf-8")
    assert 'id="sweeps"' in html and "sweep-grid" in html and "layer \\ dim" in html
    assert html.count("◆") >= 2 and "free" in html and "worse" in html
    section = html[html.index('id="sweeps"'):]
    assert "quantize=binary,rescore=0</td>" in section and "quantize=binary,rescore=100</td>" in section  # with and without
