"""Per-task drill-down data, sweep-variant groups and ours-vs-published rows for the page."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from harness.report import tiers as tiering
from harness.store import StoredResult

MATRIX_MODELS = 20  # the pairwise matrix shows at most this many models (the task's best)
DIGITS = 5  # page JSON rounding (leaderboard.json keeps full precision)


def _r(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, DIGITS)


def task_details(results: Sequence[StoredResult], comparison: Any) -> dict[str, dict[str, Any]]:
    """task -> {metrics, rows, pairs, breakdown, n_items} for the drill-down (built lazily in the page).

    ``rows``: ``[model, [metric values]]`` best main score first; ``pairs``: ``models`` (the
    task's best ``MATRIX_MODELS``) and ``cells`` ``[i, j, delta, ci_low, ci_high, p, p_holm, test]``
    (model i scores at least model j); ``breakdown``: score by length of the relevant document.
    """
    by_task: dict[str, list[StoredResult]] = {}
    for result in results:
        by_task.setdefault(result.task_name, []).append(result)
    out = {}
    for task, group in by_task.items():
        group.sort(key=lambda r: (-r.main_score, r.model_name))
        main = group[0].data.harness.main_score_name
        names: list[str] = []
        for r in group:
            names += [k for k, v in r.scores().items() if k not in names and isinstance(v, (int, float))
                      and not isinstance(v, bool) and k != "main_score"]
        names.sort(key=lambda k: (k != main, k.startswith("nauc_"), k))
        rows = []
        for r in group:
            scores = r.scores()
            rows.append([r.model_name, [_r(scores.get(k)) if isinstance(scores.get(k), (int, float)) else None
                                        for k in names]])
        out[task] = {"metrics": names, "rows": rows, "pairs": {"models": [], "cells": []},
                     "breakdown": _breakdown(group), "n_items": None}
    if comparison is not None:
        _add_pairs(out, comparison)
    return out


def _breakdown(group: list[StoredResult]) -> dict[str, Any] | None:
    series, groups, queries = [], [], {}
    for r in group:
        table = getattr(r.data.harness, "breakdown_by_length", None) or {}
        if not table:
            continue
        for g, entry in table.items():
            if g not in queries:
                groups.append(g)
                queries[g] = entry.get("queries")
        series.append([r.model_name, {g: _r(e.get("main_score")) for g, e in table.items()}])
    if not series:
        return None
    return {"groups": groups, "queries": [queries[g] for g in groups],
            "series": [[name, [values.get(g) for g in groups]] for name, values in series]}


def _add_pairs(out: dict[str, dict[str, Any]], comparison: Any) -> None:
    n_items = comparison.intervals.groupby("task")["n_items"].max()
    for task, n in n_items.items():
        if task in out:
            out[task]["n_items"] = int(n) or None
    for task, frame in comparison.pairs.groupby("task", sort=False):
        if task not in out:
            continue
        ranked = [row[0] for row in out[task]["rows"]]
        paired = set(frame["model_a"]) | set(frame["model_b"])
        models = [m for m in ranked if m in paired][:MATRIX_MODELS]
        where = {m: i for i, m in enumerate(models)}
        cells = []
        for a, b, delta, low, high, p, p_holm, test in frame[
                ["model_a", "model_b", "delta", "ci_low", "ci_high", "p_value", "p_holm", "test"]].itertuples(index=False):
            if a in where and b in where:
                cells.append([where[a], where[b], _r(delta), _r(low), _r(high), _r(p), _r(p_holm), str(test)])
        out[task]["pairs"] = {"models": models, "cells": cells, "of": len(paired)}


def parse_variant(variant: str) -> dict[str, str]:
    """``"dim=128,quantize=binary"`` -> ``{"dim": "128", "quantize": "binary"}``."""
    return dict(part.split("=", 1) for part in variant.split(",") if "=" in part)


def variant_groups(board: dict[str, Any], comparison: Any) -> list[dict[str, Any]]:
    """Each base model that has sweep variants, with the base and its variants (fewest bytes first)."""
    bases = {m["base"] for m in board["models"] if m["variant"] and not m["published"]}
    mean_tasks = [t["name"] for t in board["tasks"] if t["in_means"]]
    groups = []
    for base in sorted(bases):
        members = [m for m in board["models"] if m["base"] == base and not m["published"]]
        base_row = next((m for m in members if not m["variant"]), None)
        rows = []
        for m in members:
            interval = tiering.mean_interval(comparison, m["name"], mean_tasks) if comparison is not None else None
            settings = parse_variant(m["variant"])
            delta = (m["mean_task"] - base_row["mean_task"]) if (
                base_row and m["mean_task"] is not None and base_row["mean_task"] is not None) else None
            rows.append({"name": m["name"], "variant": m["variant"] or "full", "dim": m["dim"],
                         "quantize": settings.get("quantize", "none"), "bytes": m["bytes"],
                         "mean_task": m["mean_task"], "low": interval and interval[0], "high": interval and interval[1],
                         "delta": delta, "types": m["types"], "tier": m["tier"]})
        rows.sort(key=lambda r: (r["bytes"] if r["bytes"] is not None else math.inf, r["name"]))
        groups.append({"base": base, "members": rows})
    return groups


def published_rows(results: Sequence[StoredResult]) -> list[dict[str, Any]]:
    """Ours next to the published score (``harness.bridges.published``), NaN -> None."""
    if not any(r.data.harness.status == "imported" for r in results):
        return []
    from harness.bridges.published import published_comparison

    frame = published_comparison(results)
    rows = []
    for record in frame.to_dict(orient="records"):
        rows.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()})
    return rows
