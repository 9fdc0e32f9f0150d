"""The leaderboard page in a real browser (Chromium through Playwright), opened from file://.

Needs ``/usr/bin/chromium`` (Debian package ``chromium``) and ``pip install playwright``; without
them the tests skip locally and fail in CI (``CI=true``). Screenshots go to
``reports/test-artifacts/`` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _fake_store import EVIL_MODEL, EVIL_TASK, TASKS, fake_store

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "reports" / "test-artifacts"


def _require_browser() -> Any:
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        missing.append("the playwright package (pip install playwright)")
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if missing:
        reason = "browser tests need " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _require_browser()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from harness.leaderboard import render_report
    from harness.store import iter_results

    root = fake_store(tmp_path_factory.mktemp("store"))
    results = list(iter_results(root))
    for result in results:
        if result.task_name == "WordSim":
            result.data.task_name = EVIL_TASK  # no file system path holds this name: renamed in memory
    suites = {"alpha": [t[0] for t in TASKS if "alpha" in t[2]] + [EVIL_TASK], "beta": [t[0] for t in TASKS if "beta" in t[2]]}
    return render_report(results, tmp_path_factory.mktemp("report"), n_resamples=500, suites=suites)


class Page:
    """One tab on the report with everything it logged: console errors, requests, dialogs."""

    def __init__(self, browser: Any, url: str) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.tab.on("console", lambda m: self.errors.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        self.tab.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.tab.on("request", lambda r: self.requests.append(r.url))
        self.tab.on("dialog", self._dialog)
        self.tab.goto(url)
        self.tab.wait_for_function("window.reportReady === true")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def rows(self) -> list[dict[str, Any]]:
        """Visible rows of the visible table: model and every cell's data-v by column key."""
        return self.tab.evaluate("""() => {
            const table = Array.from(document.querySelectorAll('table.board')).find(t => t.offsetParent !== null);
            const cols = Array.from(table.tHead.rows[0].cells).map(th => th.dataset.col);
            return Array.from(table.tBodies[0].rows).filter(tr => tr.offsetParent !== null).map(tr => {
                const row = {model: tr.dataset.model};
                cols.forEach((c, i) => { row[c] = tr.cells[i].dataset.v; });
                return row;
            });
        }""")

    def header(self, col: str) -> Any:
        return self.tab.locator(f".view:not([hidden]) th[data-col='{col}']")


@pytest.fixture
def page(browser: Any, report: Path) -> Iterator[Page]:
    tab = Page(browser, report.as_uri())
    yield tab
    assert not tab.dialogs, f"a dialog fired: {tab.dialogs}"
    tab.tab.close()


def test_loads_from_file_without_errors_or_network(page: Page, report: Path) -> None:
    assert page.errors == []
    assert page.requests == [report.as_uri()]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.tab.screenshot(path=str(ARTIFACTS / "report.png"))
    page.tab.screenshot(path=str(ARTIFACTS / "report-full.png"), full_page=True)


def test_clicking_a_header_sorts_numerically_with_missing_last(page: Page) -> None:
    page.tab.locator(".views button[data-view='all']").click()
    page.header("mean_task").click()
    values = [r["mean_task"] for r in page.rows()]
    present = [float(v) for v in values if v]
    assert present == sorted(present, reverse=True) and values[len(present):] == [""] * (len(values) - len(present))
    assert len(present) < len(values)  # the model with a missing task has no mean
    page.header("mean_task").click()
    values = [r["mean_task"] for r in page.rows()]
    present = [float(v) for v in values if v]
    assert present == sorted(present) and values[-1] == ""
    page.header("model").click()
    names = [r["model"] for r in page.rows()]
    assert names == sorted(names, key=str.lower)
    assert page.tab.evaluate("window.reportTiming.lastSortMs") < 200


def test_filters_and_search_hide_the_right_rows(page: Page) -> None:
    page.tab.locator(".views button[data-view='all']").click()
    everyone = {r["model"] for r in page.rows()}
    page.tab.select_option("#f-domain", "finance")
    shown = {r["model"] for r in page.rows()}
    assert shown == {"acme/strong", "acme/middle", "acme/weak", EVIL_MODEL}  # variants and the published score: no finance task
    visible_tasks = page.tab.eval_on_selector_all(".view:not([hidden]) th[data-col^='task:']",
                                                  "ths => ths.filter(th => th.offsetParent !== null).map(th => th.dataset.col)")
    assert visible_tasks == ["task:FinRetrieval", "task:FinClassification"]
    page.tab.select_option("#f-domain", "")
    page.tab.fill("#q", "WEAK")
    assert [r["model"] for r in page.rows()] == ["acme/weak"]
    page.tab.fill("#q", "")
    page.tab.locator("#f-variants").uncheck()
    assert {r["model"] for r in page.rows()} == {m for m in everyone if "@" not in m}


def test_the_drill_down_opens_with_every_part(page: Page) -> None:
    page.tab.locator(".views button[data-view='all']").click()
    page.tab.locator(".view:not([hidden]) th[data-col='task:NewsRetrieval'] a.drill").click()
    page.tab.wait_for_selector("details.task[open] .task-body[data-state='built']")  # unpacked asynchronously
    body = page.tab.locator("details.task[open]")
    assert body.count() == 1 and body.locator("summary").inner_text().startswith("NewsRetrieval")
    text = body.inner_text()
    for part in ("Scores and 95% intervals", "Pairwise significance", "Score by document length", "Every metric",
                 "CC-BY-4.0", "https://example.org/NewsRetrieval"):
        assert part in text
    assert body.locator("table.matrix tbody tr").count() == 6  # 4 models + 2 variants with items
    assert body.locator("svg.chart polyline").count() >= 2
    assert "task=NewsRetrieval" in page.tab.evaluate("location.hash")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    body.screenshot(path=str(ARTIFACTS / "report-drilldown.png"))


def test_html_in_names_stays_text_and_runs_nothing(page: Page) -> None:
    assert page.tab.evaluate("document.querySelectorAll('img').length") == 0
    assert page.tab.evaluate("document.querySelectorAll('script').length") == 2
    names = page.tab.eval_on_selector_all(".view:not([hidden]) tbody tr", "trs => trs.map(tr => tr.dataset.model)")
    assert EVIL_MODEL in names
    assert EVIL_MODEL in page.tab.inner_text(".view:not([hidden]) table.board")
    page.tab.locator("details.task summary", has_text="alert(1)").click()
    assert EVIL_TASK in page.tab.inner_text("details.task[open] summary")
    page.tab.wait_for_selector("details.task[open] .task-body[data-state='built']")
    assert EVIL_TASK not in page.tab.inner_html("details.task[open]")  # as text: escaped in the markup
    assert page.tab.evaluate("document.querySelectorAll('img').length") == 0


def test_hidden_columns_and_sorting_are_remembered_in_the_url(browser: Any, page: Page, report: Path) -> None:
    page.tab.locator(".colmenu summary").click()
    page.tab.locator(".colmenu input[data-col='meta:params']").uncheck()
    page.header("type:retrieval").click()
    url = page.tab.url
    assert "hide=meta%3Aparams" in url and "sort=type%3Aretrieval" in url
    again = Page(browser, url)
    try:
        assert not again.header("meta:params").is_visible() and again.header("meta:dim").is_visible()
        values = [float(r["type:retrieval"]) for r in again.rows() if r["type:retrieval"]]
        assert values == sorted(values, reverse=True)
        assert again.errors == [] and not again.dialogs
    finally:
        again.tab.close()


def test_screenshots_are_copied_next_to_the_report(report: Path, browser: Any) -> None:
    """Keep the last screenshot beside the rendered page too (for a person reviewing a CI run)."""
    shot = ARTIFACTS / "report.png"
    if not shot.exists():
        Page(browser, report.as_uri()).tab.screenshot(path=str(shot))
    shutil.copy(shot, report.parent / "screenshot.png")
    assert (report.parent / "screenshot.png").stat().st_size > 10_000
