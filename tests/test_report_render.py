"""The leaderboard without a browser: files, numbers, missing values, published results, escaping.

Stores come from ``_fake_store.fake_store`` (result files with per-item data, no models), which
the browser tests (``test_report_browser.py``) share.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _fake_store import EVIL_MODEL, EVIL_TASK, MAIN, TASKS, fake_store

from harness.store import iter_results


def render(root: Path, out: Path, **kwargs: Any) -> str:
    from harness.leaderboard import render_report

    results = list(iter_results(root))
    return render_report(results, out, n_resamples=500, **kwargs).read_text()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = fake_store(tmp_path_factory.mktemp("store"))
    out = tmp_path_factory.mktemp("report")
    html = render(root, out, suites={"alpha": [t[0] for t in TASKS if "alpha" in t[2]],
                                     "beta": [t[0] for t in TASKS if "beta" in t[2]]})
    board = json.loads((out / "leaderboard.json").read_text())
    rows = list(csv.DictReader(io.StringIO((out / "leaderboard.csv").read_text())))
    return {"html": html, "json": board, "csv": rows, "out": out}


def test_three_files_one_self_contained_page(page: dict[str, Any]) -> None:
    html = page["html"]
    assert {p.name for p in page["out"].iterdir()} == {"index.html", "leaderboard.csv", "leaderboard.json"}
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no external resource"
    assert "<link" not in html and "@import" not in html
    assert html.count('<script type="application/json" id="report-data">') == 1


def test_the_csv_the_json_and_the_page_give_the_same_numbers(page: dict[str, Any]) -> None:
    by_name = {m["name"]: m for m in page["json"]["models"]}
    for row in page["csv"]:
        model = by_name[row["model"]]
        assert (float(row["mean_task"]) if row["mean_task"] else None) == model["mean_task"]
        for task, cell in model["scores"].items():
            assert float(row[task]) == cell["score"]
    strong = by_name["acme/strong"]
    assert f'data-v="{strong["scores"]["NewsRetrieval"]["score"]}"' in page["html"]
    assert f'{100 * strong["scores"]["NewsRetrieval"]["score"]:.1f}' in page["html"]


def test_a_missing_result_is_shown_missing_never_zero(page: dict[str, Any]) -> None:
    weak = next(m for m in page["json"]["models"] if m["name"] == "acme/weak")
    assert "WebRetrieval" not in weak["scores"] and weak["mean_task"] is None and weak["types"]["retrieval"]["mean"] is None
    row = next(r for r in page["csv"] if r["model"] == "acme/weak")
    assert row["WebRetrieval"] == "" and row["mean_task"] == ""
    assert "Missing results" in page["html"] and "never as 0" in page["html"]


def test_the_strong_model_is_alone_in_the_top_tier(page: dict[str, Any]) -> None:
    models = page["json"]["models"]
    assert models[0]["name"] == "acme/strong" and models[0]["position"] == 1
    strong = models[0]
    assert strong["types"]["retrieval"]["tier"] == 1 and strong["scores"]["NewsRetrieval"]["tier"] == 1
    weak = next(m for m in models if m["name"] == "acme/weak")
    assert weak["scores"]["NewsRetrieval"]["tier"] > 1
    assert weak["scores"]["NewsRetrieval"]["ci_low"] < weak["scores"]["NewsRetrieval"]["score"] < weak["scores"]["NewsRetrieval"]["ci_high"]


def test_model_metadata_and_cost(page: dict[str, Any]) -> None:
    middle = next(m for m in page["json"]["models"] if m["name"] == "acme/middle")
    assert middle["cost_usd"] == pytest.approx(0.06) and middle["params"] == 22_700_000 and middle["dim"] == 384
    assert middle["throughput"] == pytest.approx(127.5) and middle["max_tokens"] == 256
    assert 'data-col="meta:cost"' in page["html"]


def test_published_results_are_marked_ranked_and_compared(page: dict[str, Any]) -> None:
    published = next(m for m in page["json"]["models"] if m["published"])
    assert published["borda"] is not None and published["rank_ci"] is not None  # ranked like every row (issue 20)
    assert published["scores"]["WordSim"]["ci_low"] is None and published["scores"]["WordSim"]["status"] == "imported"
    assert 'badge pub">published' in page["html"] and "ranked across tasks like every row" in page["html"]
    (row,) = page["json"]["published_comparison"]
    assert row["model"] == "acme/strong" and row["delta"] == pytest.approx(row["ours"] - 0.5)


def test_suites_side_by_side_with_rank_changes(page: dict[str, Any]) -> None:
    rows = page["json"]["suite_comparison"]
    assert {r["suite"] for r in rows} == {"alpha", "beta"}
    assert all(r["ci_low"] <= r["mean"] <= r["ci_high"] for r in rows)
    assert page["json"]["suite_verdict"] and "Verdict" in page["json"]["suite_verdict"][0]
    assert 'id="suite-table"' in page["html"] and 'data-view="beta"' in page["html"]


def test_variants_are_grouped_with_their_bytes(page: dict[str, Any]) -> None:
    (group,) = page["json"]["variants"]["groups"]
    assert group["base"] == "acme/strong"
    assert [m["bytes"] for m in group["members"]] == [8.0, 256.0, 4.0 * 384]
    assert group["members"][-1]["delta"] == 0.0 and group["members"][0]["delta"] < 0
    assert 'id="variants"' in page["html"] and "Pareto front" in page["html"]


def test_html_in_names_is_escaped(tmp_path: Path) -> None:
    root = fake_store(tmp_path / "store", published=False, variants=False)
    from harness.leaderboard import render_report

    results = list(iter_results(root))
    for result in results:
        if result.task_name == "WordSim":
            result.data.task_name = EVIL_TASK  # a name no file system path could hold
    html = render_report(results, tmp_path / "out", n_resamples=200).read_text()
    assert EVIL_MODEL not in html and EVIL_TASK not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    data = html.split('id="report-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data and json.loads(data)["tasks"]
    assert html.count("<script") == 2  # the data block and the page's own script


def test_pareto_front() -> None:
    from harness.leaderboard.plots import pareto_front

    points = [(8, 0.4), (16, 0.35), (32, 0.5), (64, 0.5), (128, 0.6)]
    assert pareto_front(points) == [0, 2, 4]


def test_importing_the_report_loads_no_plotting_library() -> None:
    code = "import sys, harness.leaderboard; assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).returncode == 0


def test_cli_report_with_two_suites(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    for task, task_type, suites, domain in TASKS:
        (specs / f"{task}.yaml").write_text(
            f"name: {task}\ntype: {task_type}\nsuite: [{', '.join(suites)}]\ndomain: {domain}\n"
            f"main_score: {MAIN[task_type]}\ndata:\n  local: {task.lower()}\n")
    fake_store(tmp_path / "results", evil=False, published=False)
    from harness.cli import main

    code = main(["report", "--results", str(tmp_path / "results"), "--suite", "alpha", "--suite", "beta",
                 "--task-dir", str(specs), "--out", str(tmp_path / "rep")])
    html = (tmp_path / "rep" / "index.html").read_text()
    assert code == 0 and "Leaderboard — suites alpha, beta" in html and 'id="suites"' in html
