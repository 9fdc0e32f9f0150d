"""Render the leaderboard page (jinja2, autoescaped) and its CSV/JSON twins."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.report.table import result_rows
from harness.store import StoredResult, atomic_write_bytes


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def leaderboard(results: Sequence[StoredResult]) -> dict[str, Any]:
    """Models × tasks of main scores, ordered by mean over tasks (models missing a task rank last)."""
    rows = result_rows(results)
    tasks = sorted({(r["type"], r["task"]) for r in rows})
    task_names = [t for _, t in tasks]
    by_model: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = by_model.setdefault(r["model"], {"model": r["model"], "revision": r["revision"], "scores": {}})
        entry["scores"][r["task"]] = r["main_score"]
    for entry in by_model.values():
        present = [entry["scores"][t] for t in task_names if t in entry["scores"]]
        entry["complete"] = len(present) == len(task_names)
        entry["mean"] = _mean(present) if entry["complete"] else None
    ordered = sorted(by_model.values(), key=lambda e: (not e["complete"], -(e["mean"] or -math.inf), e["model"]))
    main_names = {r["task"]: r["main_score_name"] for r in rows}
    types = {r["task"]: r["type"] for r in rows}
    return {
        "tasks": [{"name": t, "type": types[t], "main_score": main_names[t]} for t in task_names],
        "models": ordered,
    }


def _csv(board: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    names = [t["name"] for t in board["tasks"]]
    writer.writerow(["rank", "model", "revision", "mean", *names])
    for rank, entry in enumerate(board["models"], start=1):
        scores = [entry["scores"].get(n, "") for n in names]
        writer.writerow([rank, entry["model"], entry["revision"], "" if entry["mean"] is None else entry["mean"], *scores])
    return buffer.getvalue()


def render_report(results: Sequence[StoredResult], out_dir: Path, *, title: str = "Leaderboard") -> Path:
    """Write ``index.html``, ``leaderboard.csv`` and ``leaderboard.json`` to ``out_dir``.

    Returns:
        The path of ``index.html``.
    """
    from jinja2 import Environment, PackageLoader, select_autoescape

    board = leaderboard(results)
    env = Environment(loader=PackageLoader("harness.report", "templates"), autoescape=select_autoescape(default=True))
    html = env.get_template("index.html.j2").render(board=board, title=title)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out_dir / "leaderboard.csv", _csv(board).encode("utf-8"))
    atomic_write_bytes(out_dir / "leaderboard.json", json.dumps(board, indent=2).encode("utf-8"))
    atomic_write_bytes(out_dir / "index.html", html.encode("utf-8"))
    return out_dir / "index.html"
