"""The same numbers three ways: the page's embedded JSON, ``leaderboard.json`` and ``leaderboard.csv``;
plus the template's formatting filters (display rounding only: the files keep full precision)."""

from __future__ import annotations

import base64
import csv
import gzip
import io
import json
from typing import Any

from harness.leaderboard.details import DIGITS

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


def cell_title(cell: dict[str, Any] | None, of: str = "") -> str:
    """Hover text of a score: value, 95% interval, items, tier (short: there are many)."""
    if cell is None:
        return "no result"
    if cell.get("published"):
        return f"{100 * cell['score']:.2f} · published: no interval, not ranked"
    parts = [f"{100 * cell['score']:.2f}" + (f" {of}" if of else "")]
    if cell.get("low") is not None:
        parts.append(f"95% CI {100 * cell['low']:.2f}–{100 * cell['high']:.2f}")
    if cell.get("n"):
        parts.append(f"{cell['n']} items")
    if cell.get("tier") is not None:
        parts.append(f"tier {cell['tier']}")
    return " · ".join(parts)


def short(name: str, limit: int = 40) -> str:
    """The part after the organisation (``org/name`` -> ``name``), cut to ``limit`` characters."""
    name = name.rpartition("/")[2] or name
    return name if len(name) <= limit else name[: limit - 1] + "…"


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def add_filters(env: Any) -> None:
    env.filters.update(pct=pct, count=count, cell_title=cell_title, short=short, clip=clip)


def _marks(value: float | None, tier: int | None, best: float | None, published: bool) -> str:
    if value is None:
        return " miss"
    if published:
        return " pub"
    return (" top" if tier == 1 else "") + (" best" if value == best else "")


def score_cells(board: dict[str, Any]) -> None:
    """Each model's score cells in column order, as (class, data-v, title, text): built here in
    Python because 100 x 100 cells through template macros took a second."""
    best = board["best"]
    for m in board["models"]:
        pub = m["published"]
        ci = m["mean_task_ci"] or (None, None)
        cells = [
            ("sc agg" + _marks(m["mean_task"], m["mean_task_tier"], best.get("mean_task"), pub), m["mean_task"],
             cell_title({"score": m["mean_task"], "low": ci[0], "high": ci[1], "tier": m["mean_task_tier"],
                         "published": pub}, "(mean)") if m["mean_task"] is not None else "missing: the model lacks a task"),
            ("sc agg" + _marks(m["mean_type"], m["mean_type_tier"], best.get("mean_type"), pub), m["mean_type"],
             cell_title({"score": m["mean_type"], "tier": m["mean_type_tier"], "published": pub}, "(mean of type means)")
             if m["mean_type"] is not None else "missing: the model lacks a task"),
            ("sc agg", None, ""),  # Mean (shown), filled by the page's script
        ]
        for ty in board["types"]:
            c = m["types"][ty["key"]]
            cells.append((f"sc ty-{ty['key']}" + _marks(c["mean"], c["tier"], best.get("type:" + ty["key"]), pub), c["mean"],
                          cell_title({**c, "score": c["mean"], "published": pub}, f"({ty['label']} mean)")
                          if c["mean"] is not None else "missing: the model lacks a task of this type"))
        for t in board["tasks"]:
            c = m["cells"].get(t["name"])
            cells.append(("sc" + _marks(c and c["score"], c and c["tier"], best.get("task:" + t["name"]), bool(c and pub)),
                          c and c["score"], cell_title(c)))
        m["score_cells"] = [(cls, "" if v is None else v, title, pct(v)) for cls, v, title in cells]


def default_hidden(board: dict[str, Any]) -> list[str]:
    return [f"task:{t['name']}" for t in board["tasks"]] if len(board["tasks"]) > TASK_COLUMNS_SHOWN else []


def pack(payload: Any) -> str:
    """gzip + base64 of compact JSON (the page unpacks it with DecompressionStream on first use)."""
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=3, mtime=0)).decode("ascii")


def page_data(page: dict[str, Any]) -> dict[str, Any]:
    """What the page's script needs: the tasks' metadata (filters) in clear, the drill-down data
    (intervals, every metric, pairwise tests, length breakdown) packed, and the default columns."""
    board = page["board"]
    packed = {}
    for task in board["tasks"]:
        ci = []
        for m in board["models"]:
            cell = m["cells"].get(task["name"])
            if cell is not None:
                low, high = cell["low"], cell["high"]
                ci.append([m["name"], round(cell["score"], DIGITS), None if low is None else round(low, DIGITS),
                           None if high is None else round(high, DIGITS), cell["tier"], int(cell["published"])])
        ci.sort(key=lambda row: -row[1])
        packed[task["name"]] = {"ci": ci, **page["details"].get(task["name"], {})}
    return {
        "alpha": page["method"].get("alpha", 0.05),
        "types": [{"key": t["key"], "label": t["label"]} for t in board["types"]],
        "tasks": board["tasks"],
        "views": [v["key"] for v in page["views"]],
        "defaultHidden": default_hidden(board),
        "packed": pack(packed),
    }


def _model_record(m: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "revision", "published", "base", "variant", "position", "tier", "tier_range", "rank_ci",
            "borda", "mean_rank", "p_first", "complete", "uncertainty", "mean_task", "mean_type", "params", "dim",
            "max_tokens", "throughput", "bytes", "cost_usd", "n_tasks", "vs_published")
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
        "sweeps": page["sweeps"],
        "published_comparison": page["published"],
    }
    return json.dumps(payload, default=str, allow_nan=False)


def csv_text(page: dict[str, Any]) -> str:
    """One row per model, leaderboard order: rank, tier, means, per-type and per-task scores, metadata
    (the contract is docs/leaderboard.md's)."""
    board = page["board"]
    types = [t["key"] for t in board["types"]]
    tasks = [t["name"] for t in board["tasks"]]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["position", "tier", "rank_ci_low", "rank_ci_high", "model", "revision", "status", "borda_rank",
                     "mean_rank", "p_first", "complete", "uncertainty", "mean_task", "mean_task_type", *[f"type:{t}" for t in types], *tasks,
                     "n_parameters", "embedding_dim", "max_tokens", "throughput_texts_per_s", "bytes_per_vector"])

    def blank(value: Any) -> Any:
        return "" if value is None else value

    for m in board["models"]:
        rank_ci = m["rank_ci"] or (None, None)
        writer.writerow([m["position"], blank(m["tier"]), blank(rank_ci[0]), blank(rank_ci[1]), m["name"], m["revision"],
                         "imported" if m["published"] else "run", blank(m["borda"]), blank(m["mean_rank"]),
                         blank(m["p_first"]), int(m["complete"]), m["uncertainty"], blank(m["mean_task"]), blank(m["mean_type"]), *[blank(m["types"][t]["mean"]) for t in types],
                         *[blank(m["cells"][t]["score"]) if t in m["cells"] else "" for t in tasks],
                         blank(m["params"]), blank(m["dim"]), blank(m["max_tokens"]), blank(m["throughput"]),
                         blank(m["bytes"])])
    return buffer.getvalue()
