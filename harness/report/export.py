"""The same numbers three ways: the page's embedded JSON, ``leaderboard.json`` and ``leaderboard.csv``;
plus the template's formatting filters (display rounding only: the files keep full precision)."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from harness.report.details import DIGITS

TASK_COLUMNS_SHOWN = 12  # more tasks than this: task columns start hidden (the type columns stay)


def pct(value: float | None) -> str:
    """Score x100 with one decimal, or an en dash for a missing value."""
    return "–" if value is None else f"{100 * value:.1f}"


def count(value: Any) -> str:
    if value is None:
        return "–"
    value = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def cell_title(cell: dict[str, Any] | None, tier_of: str = "this task") -> str:
    if cell is None:
        return "no result"
    if cell.get("published"):
        return f"{100 * cell['score']:.2f} · published score: no per-item data, no interval, not ranked"
    parts = [f"{100 * cell['score']:.2f}"]
    if cell.get("low") is not None:
        parts.append(f"95% CI {100 * cell['low']:.2f}–{100 * cell['high']:.2f}")
    if cell.get("n"):
        parts.append(f"{cell['n']} items")
    if cell.get("tier") is not None:
        parts.append(f"tier {cell['tier']} on {tier_of}" + (" (not significantly worse than the best)"
                                                             if cell["tier"] == 1 else ""))
    return " · ".join(parts)


def add_filters(env: Any) -> None:
    env.filters.update(pct=pct, count=count, cell_title=cell_title)


def _r(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, DIGITS)
    return value


def default_hidden(board: dict[str, Any]) -> list[str]:
    return [f"task:{t['name']}" for t in board["tasks"]] if len(board["tasks"]) > TASK_COLUMNS_SHOWN else []


def page_data(page: dict[str, Any]) -> dict[str, Any]:
    """What the page's script needs: filters' task metadata, drill-down data, default columns."""
    board = page["board"]
    tasks = []
    for task in board["tasks"]:
        ci = []
        for m in board["models"]:
            cell = m["cells"].get(task["name"])
            if cell is not None:
                ci.append([m["name"], _r(cell["score"]), _r(cell["low"]), _r(cell["high"]), cell["tier"],
                           int(cell["published"])])
        ci.sort(key=lambda row: -row[1])
        tasks.append({**task, "ci": ci, **page["details"].get(task["name"], {})})
    return {
        "alpha": page["method"].get("alpha", 0.05),
        "types": [{"key": t["key"], "label": t["label"]} for t in board["types"]],
        "tasks": tasks,
        "defaultHidden": default_hidden(board),
    }


def _model_record(m: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "revision", "published", "base", "variant", "position", "tier", "tier_range", "rank_ci",
            "borda", "mean_rank", "p_first", "mean_task", "mean_type", "params", "dim", "max_tokens",
            "throughput", "bytes", "cost_usd", "n_tasks")
    record = {k: m[k] for k in keys}
    record["types"] = m["types"]
    record["scores"] = {t: {"score": c["score"], "ci_low": c["low"], "ci_high": c["high"], "n_items": c["n"],
                            "tier": c["tier"], "status": "imported" if c["published"] else "run"}
                        for t, c in m["cells"].items()}
    return record


def json_text(page: dict[str, Any]) -> str:
    """``leaderboard.json``: full precision; the per-pair tables stay with ``harness compare``."""
    board = page["board"]
    payload = {
        "title": page["title"],
        "provenance": page["provenance"],
        "method": page["method"],
        "notes": board["notes"],
        "types": board["types"],
        "tasks": board["tasks"],
        "suites": board["suites"],
        "models": [_model_record(m) for m in board["models"]],
        "suite_comparison": page["suite_rows"],
        "suite_verdict": page["suite_verdict"],
        "variants": page["variants"],
        "published_comparison": page["published"],
    }
    return json.dumps(payload, indent=1, default=str, allow_nan=False)


def csv_text(page: dict[str, Any]) -> str:
    """One row per model, leaderboard order: rank, tier, means, per-type and per-task scores, metadata."""
    board = page["board"]
    types = [t["key"] for t in board["types"]]
    tasks = [t["name"] for t in board["tasks"]]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["position", "tier", "rank_ci_low", "rank_ci_high", "model", "revision", "status", "borda_rank",
                     "mean_rank", "mean_task", "mean_task_type", *[f"type:{t}" for t in types], *tasks,
                     "n_parameters", "embedding_dim", "max_tokens", "throughput_texts_per_s", "bytes_per_vector"])

    def blank(value: Any) -> Any:
        return "" if value is None else value

    for m in board["models"]:
        rank_ci = m["rank_ci"] or (None, None)
        writer.writerow([m["position"], blank(m["tier"]), blank(rank_ci[0]), blank(rank_ci[1]), m["name"], m["revision"],
                         "imported" if m["published"] else "run", blank(m["borda"]), blank(m["mean_rank"]),
                         blank(m["mean_task"]), blank(m["mean_type"]), *[blank(m["types"][t]["mean"]) for t in types],
                         *[blank(m["cells"][t]["score"]) if t in m["cells"] else "" for t in tasks],
                         blank(m["params"]), blank(m["dim"]), blank(m["max_tokens"]), blank(m["throughput"]),
                         blank(m["bytes"])])
    return buffer.getvalue()
