"""Render the leaderboard: one self-contained ``index.html`` plus ``leaderboard.csv`` and ``.json``.

Reads stored results and ``harness.stats`` only. The page inlines its CSS, JS, SVG figures and
data (JSON in a ``<script type="application/json">`` with ``<``, ``>``, ``&`` escaped), so it
works from ``file://`` and requests nothing from any network.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import platform
import shlex
import subprocess
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.leaderboard import benchmark_view, details, export, plots, runtime, sweeps, tiers
from harness.leaderboard.data import dedupe, gather
from harness.store import StoredResult, atomic_write_bytes

SUITE_RESAMPLES = 2000
CD_MODELS = 30  # the critical-difference diagram shows at most this many models


def _git_commit() -> str | None:
    """The checkout's commit (``+ uncommitted changes`` when the tree differs), or None outside git."""
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if done.returncode != 0 or not done.stdout.strip():
            return None
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "."], cwd=here.parent.parent, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() + (" + uncommitted changes" if dirty.returncode == 1 else "")


def provenance(command: str | None) -> dict[str, Any]:
    from harness import __version__

    return {
        "harness_version": __version__,
        "git_commit": _git_commit(),
        "command": command if command is not None else shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
    }


def compare_runs(results: Sequence[StoredResult], *, n_resamples: int, seed: int, notes: list[str]) -> Any:
    """``harness.stats.compare`` of the results run here (imported ones are left out), or None."""
    from harness.stats import StatsError, compare

    run = [r for r in results if r.data.harness.status == "run"]
    if any(r.data.harness.status != "run" for r in results):
        notes.append("published (imported) results have no per-item data: ranked across tasks like every row, "
                     "without within-task intervals or tests")
    if not run:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # everything it warns about is also in its notes
            return compare(run, n_resamples=n_resamples, seed=seed)
    except StatsError as err:
        notes.append(f"no statistics: {err}")
        return None


def _join_notes(results: Sequence[StoredResult]) -> list[str]:
    """One line on which revision folder won where a published model has several (mteb's
    ``join_revisions``: the registered main revision, else the newest mteb version)."""
    rules: dict[str, int] = {}
    for r in results:
        join = (r.data.harness.imported or {}).get("join") if r.data.harness.status == "imported" else None
        if join and len(join.get("considered") or ()) > 1:
            rules[str(join.get("rule"))] = rules.get(str(join.get("rule")), 0) + 1
    if not rules:
        return []
    counts = ", ".join(f"{n} by {rule!r}" for rule, n in sorted(rules.items()))
    return [(f"published results found in several revision folders of a model: one kept per task as mteb's "
             f"join_revisions keeps it (the model's registered main revision, else the newest mteb version): {counts}")]


def _side_by_side(board: dict[str, Any], explicit: bool) -> list[str]:
    """Suites to compare: the ones asked for, else the distinct task sets of 2+ tasks among the results."""
    suites = board["suites"]
    if explicit:
        return [s for s, names in suites.items() if names]
    seen, chosen = set(), []
    for suite, names in sorted(suites.items(), key=lambda kv: -len(kv[1])):
        key = frozenset(names)
        if len(names) >= 2 and key not in seen:
            seen.add(key)
            chosen.append(suite)
    return chosen if len(chosen) >= 2 else []


def _views(board: dict[str, Any], explicit: bool) -> list[tuple[str, str, list[str]]]:
    """(key, label, tasks) of each leaderboard view: the suites asked for (then all tasks), or all
    tasks then each suite with a task set of its own."""
    everything = [t["name"] for t in board["tasks"]]
    suites = [(s, names) for s, names in board["suites"].items() if names]
    views = [(s, s, names) for s, names in suites] if explicit else []
    if not views or len(views) > 1:
        views.append(("all", "all tasks", everything))
    if not explicit:
        views.insert(0, views.pop())
        seen = {frozenset(everything)}
        for suite, names in sorted(suites):
            if frozenset(names) not in seen:
                seen.add(frozenset(names))
                views.append((suite, suite, names))
    return views


def build(results: Sequence[StoredResult], *, title: str = "Leaderboard",
          suites: Mapping[str, Sequence[str]] | None = None, n_resamples: int = 10_000, seed: int = 0,
          comparison: Any = "compute", command: str | None = None, benchmark: Any = None) -> dict[str, Any]:
    """Everything the page shows, as data (``comparison`` may be passed in to skip the statistics).

    With ``benchmark`` (``harness.benchmarks.get_benchmark``): one view, its tasks that the results
    have, its types and mteb's scores (:mod:`harness.leaderboard.benchmark_view`).
    """
    results, notes = dedupe(results)
    notes += _join_notes(results)
    task_types = scores = None
    if benchmark is not None:
        results = [r for r in results if r.task_name in benchmark.details]
        task_types, scores = dict(benchmark.task_type), benchmark_view.cell_scores(results, benchmark)
        present = {r.task_name for r in results}
        suites = {benchmark.name: [t for t in benchmark.tasks if t in present]}
    if isinstance(comparison, str):
        comparison = compare_runs(results, n_resamples=n_resamples, seed=seed, notes=notes)
    board = gather(results, comparison, suites=suites, notes=notes, task_types=task_types, scores=scores, seed=seed)
    views = []
    for key, label, names in _views(board, suites is not None):
        if len(names) == len(board["tasks"]):
            views.append({"key": key, "label": label, "board": board})
            continue
        chosen = set(names)
        types = {t["name"]: t["type"] for t in board["tasks"] if t["name"] in chosen}
        subset = tiers.restrict(comparison, types) if comparison is not None else None
        views.append({"key": key, "label": label, "board": gather(
            [r for r in results if r.task_name in chosen], subset, suites=board["suites"], seed=seed)})
    for view in views:
        export.score_cells(view["board"])
    compared = _side_by_side(board, suites is not None)
    suite_rows: list[dict[str, Any]] = []
    if len(compared) >= 2:
        import pandas as pd

        long = pd.DataFrame([{"task": t, "model": m["name"], "score": c["score"]} for m in board["models"]
                             if not m["published"] for t, c in m["cells"].items()], columns=["task", "model", "score"])
        suite_rows = tiers.suite_table(long, {s: board["suites"][s] for s in compared}, n_resamples=SUITE_RESAMPLES,
                                       seed=seed)
    return {
        "title": title,
        "board": board,
        "views": views,
        "comparison": comparison,
        "details": details.task_details(results, comparison),
        "variants": details.variant_groups(board, comparison),
        "sweeps": sweeps.sweep_view(board, comparison, results),
        "published": details.published_rows(results),
        "suites_compared": compared,
        "suite_rows": suite_rows,
        "suite_verdict": tiers.suite_verdict(suite_rows, compared),
        "method": dict(comparison.method) if comparison is not None else {},
        "suite_resamples": SUITE_RESAMPLES,
        "provenance": provenance(command),
    }


def figures(page: dict[str, Any]) -> dict[str, str | None]:
    """Inline SVG of every figure (None when it has nothing to show)."""
    comparison, board = page["comparison"], page["board"]
    cd, cd_note = None, ""
    if comparison is not None and not comparison.posthoc.empty:
        ranked = comparison.summary.dropna(subset=["mean_rank"]).sort_values("mean_rank")
        if len(ranked) > CD_MODELS:  # more is unreadable (and slow to lay out)
            keep = set(ranked["model"].iloc[:CD_MODELS])
            posthoc = comparison.posthoc
            comparison = dataclasses.replace(
                comparison, summary=comparison.summary[comparison.summary["model"].isin(keep)],
                posthoc=posthoc[posthoc["model_a"].isin(keep) & posthoc["model_b"].isin(keep)])
            cd_note = f"The best {CD_MODELS} of {len(ranked)} models by mean rank (ranks and tests over all of them)."
        try:
            cd = plots.inline(comparison.cd_svg(), "cd")
        except Exception as err:  # noqa: BLE001 - a figure must never sink the report
            board["notes"].append(f"critical-difference diagram not drawn: {err}")
    return {
        "cd": cd,
        "cd_note": cd_note,
        "heatmap": plots.heatmap(board),
        "throughput": plots.throughput_scatter(board),
        "pareto": plots.pareto(page["variants"], {t["key"]: t["label"] for t in board["types"]}),
        "suites": plots.suites_chart(page["suite_rows"], page["suites_compared"]),
    }


def script_json(payload: Any) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>``, no HTML specials)."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader

    env = Environment(loader=PackageLoader("harness.leaderboard", "templates"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    export.add_filters(env)
    return env


def render_html(page: dict[str, Any], svgs: Mapping[str, str | None]) -> str:
    env = _environment()
    source = env.loader.get_source
    assets = {name: source(env, name)[0] for name in ("report.css", "drilldown.js", "report.js")}
    return env.get_template("index.html.j2").render(
        page=page, board=page["board"], svgs=svgs, css=assets["report.css"], js=assets["drilldown.js"] + "\n" + assets["report.js"],
        task_index={t["name"]: i for i, t in enumerate(page["board"]["tasks"])}, runtime_method=runtime.METHOD,
        type_labels={t["key"]: t["label"] for t in page["board"]["types"]},
        data_json=script_json(export.page_data(page)))


def render_report(results: Sequence[StoredResult], out_dir: Path, *, title: str = "Leaderboard",
                  suites: Mapping[str, Sequence[str]] | None = None, n_resamples: int = 10_000, seed: int = 0,
                  comparison: Any = "compute", command: str | None = None, benchmark: Any = None) -> Path:
    """Write ``index.html``, ``leaderboard.csv`` and ``leaderboard.json`` to ``out_dir``.

    Args:
        results: stored results (run and imported); two for one (model, task) keep the newest.
        suites: suite -> task names, to show suites side by side (default: each task's spec).
        n_resamples, seed: of ``harness.stats.compare`` (paired bootstrap and sign-flip draws).
        comparison: a precomputed ``Comparison`` of the run results (or None for none).
        command: the command line recorded on the page (default: this process's).
        benchmark: show this mteb benchmark's table (``harness.benchmarks.get_benchmark``).

    Returns:
        The path of ``index.html``.
    """
    page = build(results, title=title, suites=suites, n_resamples=n_resamples, seed=seed, comparison=comparison,
                 command=command, benchmark=benchmark)
    html = render_html(page, figures(page))
    out_dir = Path(out_dir)
    atomic_write_bytes(out_dir / "leaderboard.csv", export.csv_text(page).encode("utf-8"))
    atomic_write_bytes(out_dir / "leaderboard.json", export.json_text(page).encode("utf-8"))
    atomic_write_bytes(out_dir / "index.html", html.encode("utf-8"))
    return out_dir / "index.html"
