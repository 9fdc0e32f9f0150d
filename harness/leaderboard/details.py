"""Per-task drill-down data, sweep-variant groups and ours-vs-published rows for the page."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.leaderboard import tiers as tiering
from harness.leaderboard.data import main_score
from harness.store import StoredResult

MATRIX_MODELS = 20  # the pairwise matrix shows at most this many models (the task's best)
DIGITS = 5  # page JSON rounding (leaderboard.json keeps full precision)
METRIC_DIGITS = 4  # the drill-down's metric tables show 4 decimals
TESTS = {"sign-flip": "s", "bootstrap": "b"}  # short codes in the page data


def _r(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, DIGITS)


def _metric(value: Any) -> float | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return None
    return round(float(value), METRIC_DIGITS)


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _extras(result: StoredResult) -> dict[str, Any]:
    """The first split's metrics (mteb stores them as extra fields of the split's entry)."""
    return next(iter(result.data.scores.values()))[0].model_extra or {}


def _metric_rows(extras: list[dict[str, Any]], names: list[str]) -> list[list[float | None]]:
    """Rounded values of ``names`` per result, None where missing or not a finite number."""
    table = [[extra.get(k) for k in names] for extra in extras]
    try:
        values = np.array(table, dtype=float)  # None -> NaN
    except (TypeError, ValueError):  # a non-numeric value somewhere: the slow way
        return [[_metric(v) for v in row] for row in table]
    rounded = np.round(values, METRIC_DIGITS).astype(object)
    rounded[~np.isfinite(values)] = None
    return rounded.tolist()


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
        group.sort(key=lambda r: (-main_score(r), r.model_name))
        main = group[0].data.harness.main_score_name
        extras = [_extras(r) for r in group]
        names = [k for k in dict.fromkeys(itertools.chain.from_iterable(extras)) if k != "main_score"
                 and _numeric(next(e[k] for e in extras if k in e))]
        names.sort(key=lambda k: (k != main, k.startswith("nauc_"), k))
        rows = [[r.model_name, values] for r, values in zip(group, _metric_rows(extras, names))]
        out[task] = {"metrics": names, "rows": rows, "pairs": {"models": [], "cells": []},
                     "breakdown": _breakdown(group), "n_items": None, "revision_note": _revision_note(group)}
    if comparison is not None:
        _add_pairs(out, comparison)
    return out


def _revision_note(group: list[StoredResult], shown: int = 20) -> str | None:
    """Which published results of a task are on another dataset revision than our spec's, or None."""
    other = [(r.model_name, (r.data.harness.imported or {})) for r in group if r.data.harness.status == "imported"]
    other = [(name, imported) for name, imported in other if imported.get("revision_match") is False]
    if not other:
        return None
    names = ", ".join(f"{name} ({str(imported.get('dataset_revision'))[:12]})" for name, imported in other[:shown])
    more = f" and {len(other) - shown} more" if len(other) > shown else ""
    spec = str(other[0][1].get("spec_revision") or "unknown")[:12]
    return f"{len(other)} published result(s) on another dataset revision than {spec}: {names}{more}"


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
    import pandas as pd

    tested = comparison.intervals.dropna(subset=["tier"])
    for task, n in comparison.intervals.groupby("task")["n_items"].max().items():
        if task in out:
            out[task]["n_items"] = int(n) or None
    shown: dict[str, dict[str, int]] = {}
    for task, models in tested.groupby("task", sort=False)["model"]:
        if task in out:
            paired = set(models)
            best = [r[0] for r in out[task]["rows"] if r[0] in paired][:MATRIX_MODELS]
            shown[task] = {m: i for i, m in enumerate(best)}
            out[task]["pairs"] = {"models": best, "cells": [], "of": len(paired)}
    pairs = comparison.pairs
    if pairs.empty or not shown:
        return
    keys = pd.MultiIndex.from_tuples([(t, m) for t, where in shown.items() for m in where])
    mask = (pd.MultiIndex.from_arrays([pairs["task"], pairs["model_a"]]).isin(keys)
            & pd.MultiIndex.from_arrays([pairs["task"], pairs["model_b"]]).isin(keys))
    columns = ["task", "model_a", "model_b", "delta", "ci_low", "ci_high", "p_value", "p_holm", "test"]
    for task, a, b, delta, low, high, p, p_holm, test in pairs.loc[mask, columns].itertuples(index=False):
        where = shown[task]
        out[task]["pairs"]["cells"].append([where[a], where[b], _r(delta), _r(low), _r(high), _r(p), _r(p_holm),
                                            TESTS.get(str(test), str(test))])


def parse_variant(variant: str) -> dict[str, str]:
    """``"dim=128,quantize=binary"`` -> ``{"dim": "128", "quantize": "binary"}``."""
    return dict(part.split("=", 1) for part in variant.split(",") if "=" in part)


def variant_groups(board: dict[str, Any], comparison: Any) -> dict[str, Any]:
    """Sweep variants grouped by base model, scored on the tasks they all share.

    Returns:
        ``tasks`` (every variant, base and other dense model plotted has them), ``types`` (type
        -> its tasks among them), ``points`` (one per model with bytes per vector: name, base,
        variant, bytes, ``all`` and per-type ``{mean, low, high}``) and ``groups`` (base ->
        members, fewest bytes first, with the difference from the full model).
    """
    models = [m for m in board["models"] if not m["published"]]
    bases = sorted({m["base"] for m in models if m["variant"]})
    if not bases:
        return {"tasks": [], "types": {}, "points": [], "groups": []}
    members = [m for m in models if m["base"] in bases]
    common = [t["name"] for t in board["tasks"] if t["in_means"] and all(t["name"] in m["cells"] for m in members)]
    kinds = {t["name"]: t["type"] for t in board["tasks"]}
    types = {ty["key"]: [t for t in common if kinds[t] == ty["key"]] for ty in board["types"]}
    types = {k: v for k, v in types.items() if v}
    errors = tiering.ScoreErrors(comparison) if comparison is not None else None

    def summary(m: dict[str, Any], tasks: list[str]) -> dict[str, Any]:
        if not tasks or any(t not in m["cells"] for t in tasks):
            return {"mean": None, "low": None, "high": None}
        mean = sum(m["cells"][t]["score"] for t in tasks) / len(tasks)
        interval = errors.interval(mean, m["name"], tasks) if errors is not None else None
        return {"mean": mean, "low": interval and interval[0], "high": interval and interval[1]}

    points = []
    for m in models:
        if m["bytes"] is None or not all(t in m["cells"] for t in common):
            continue
        points.append({"name": m["name"], "base": m["base"], "variant": m["variant"], "bytes": m["bytes"],
                       "dim": m["dim"], "quantize": parse_variant(m["variant"]).get("quantize", "none"),
                       "all": summary(m, common), "types": {k: summary(m, v) for k, v in types.items()}})
    groups = []
    for base in bases:
        rows = sorted((p for p in points if p["base"] == base), key=lambda p: (p["bytes"], p["name"]))
        full = next((p for p in rows if not p["variant"]), None)
        for p in rows:
            p["delta"] = (p["all"]["mean"] - full["all"]["mean"]) if full and p["all"]["mean"] is not None else None
        groups.append({"base": base, "members": rows})
    return {"tasks": common, "types": types, "points": points, "groups": groups}


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
