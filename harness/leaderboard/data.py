"""Gather the leaderboard from stored results and their comparison: models, tasks, cells, tiers.

Everything here is plain data (dicts, lists, floats or None) that the template, the page's JSON,
``leaderboard.json`` and ``leaderboard.csv`` all read, so the four show the same numbers.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from harness.leaderboard import runtime
from harness.leaderboard import tiers as tiering
from harness.store import StoredResult
from harness.tasktypes import get_task_type, task_type_names

TYPE_ORDER = task_type_names()  # the task types' display order and labels, from their descriptors
TYPE_LABELS = {name: get_task_type(name).label for name in TYPE_ORDER}


def _num(value: Any) -> float | None:
    """float, or None for missing/NaN."""
    if value is None or value is pd.NA:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def main_score(result: StoredResult) -> float:
    """The first split's main score (``StoredResult.main_score`` without a full model dump)."""
    return float(next(iter(result.data.scores.values()))[0].main_score)


def dedupe(results: Sequence[StoredResult]) -> tuple[list[StoredResult], list[str]]:
    """One result per (model, task): the newest (by its ``date``), with a note per clash."""
    chosen: dict[tuple[str, str], StoredResult] = {}
    notes = []
    for result in results:
        key = (result.model_name, result.task_name)
        if key in chosen:
            old = chosen[key]
            newer = max(old, result, key=lambda r: (str(getattr(r.data, "date", "") or ""), str(r.path)))
            notes.append(f"{key[1]}: two results for {key[0]} (revisions {old.revision} and {result.revision}); "
                         f"showing {newer.revision}")
            chosen[key] = newer
        else:
            chosen[key] = result
    return list(chosen.values()), notes


def source_of(task: Mapping[str, Any]) -> str:
    """Where a task's data comes from, in a few words (as ``harness list tasks``)."""
    data = task.get("data") or {}
    if data.get("builder"):
        return f"builder {data['builder']}"
    parts = [f"local {data['local']}"] if data.get("local") else []
    if data.get("hf"):
        parts.append(f"hub {data['hf']}" + (f"@{data['revision'][:12]}" if data.get("revision") else ""))
    return " | ".join(parts) or "unknown"


def task_meta(result: StoredResult) -> dict[str, Any]:
    spec = result.data.harness.task
    return {
        "name": result.task_name,
        "type": str(spec.get("type") or "unknown"),
        "suites": list(spec.get("suite") or []),
        "domain": str(spec.get("domain") or "unknown"),
        "languages": list(spec.get("languages") or []),
        "main_score": result.data.harness.main_score_name,
        "description": spec.get("description") or "",
        "reference": spec.get("reference"),
        "license": spec.get("license"),
        "citation": spec.get("citation"),
        "source": source_of(spec),
        "dataset_revision": result.data.dataset_revision,
        "split": next(iter(result.data.scores)),
    }


def model_meta(result: StoredResult) -> dict[str, Any]:
    info = result.data.harness.model
    settings = info.get("settings") or {}
    name = result.model_name
    base, _, variant = name.partition("@")
    published = result.data.harness.status == "imported"
    dim = info.get("embedding_dim")
    bytes_per_vector = settings.get("bytes_per_vector")
    if bytes_per_vector is None and dim and not published and info.get("n_parameters"):
        bytes_per_vector = 4.0 * dim  # float32 vectors
    return {
        "name": name, "base": base, "variant": variant, "published": published, "revision": result.revision,
        "params": info.get("n_parameters"), "dim": dim, "max_tokens": info.get("max_tokens"),
        "bytes": bytes_per_vector, "cost_usd": None,  # summed over the model's results in gather
        "published_name": info.get("published_name"),
    }


def _types_of(tasks: list[dict[str, Any]]) -> list[str]:
    present = {t["type"] for t in tasks}
    return [t for t in TYPE_ORDER if t in present] + sorted(present - set(TYPE_ORDER))


def gather(results: Sequence[StoredResult], comparison: Any, *, suites: Mapping[str, Sequence[str]] | None = None,
           notes: Sequence[str] = ()) -> dict[str, Any]:
    """The leaderboard as plain data (see the module docstring).

    Args:
        results: one result per (model, task) (:func:`dedupe` first).
        comparison: ``harness.stats.compare`` of the results that were run here (not the
            imported ones), or None when there is nothing to compare.
        suites: suite -> task names (default: from each task's spec).
    """
    metas: dict[str, dict[str, Any]] = {}
    throughput: dict[str, list[float]] = {}
    runs: dict[str, list[Any]] = {}  # model -> each result's runtime record
    tasks: dict[str, dict[str, Any]] = {}
    cells: dict[str, dict[str, dict[str, Any]]] = {}
    for result in sorted(results, key=lambda r: (r.data.harness.status != "run", r.model_name, r.task_name)):
        metas.setdefault(result.model_name, model_meta(result))
        if result.data.harness.status == "run" or result.task_name not in tasks:
            tasks[result.task_name] = task_meta(result)
        speed = result.data.harness.model.get("throughput_texts_per_s")
        runs.setdefault(result.model_name, []).append(result.data.harness.model.get("runtime"))
        if speed:
            throughput.setdefault(result.model_name, []).append(float(speed))
        cost = result.data.harness.model.get("cost_usd")
        if isinstance(cost, (int, float)):
            metas[result.model_name]["cost_usd"] = (metas[result.model_name].get("cost_usd") or 0.0) + float(cost)
        cells.setdefault(result.model_name, {})[result.task_name] = {
            "score": main_score(result), "low": None, "high": None, "n": None, "tier": None,
            "published": result.data.harness.status == "imported"}
    run_tasks = {r.task_name for r in results if r.data.harness.status == "run"} or set(tasks)
    types = _types_of(list(tasks.values()))
    task_list = sorted(tasks.values(), key=lambda t: (types.index(t["type"]), t["name"]))
    for task in task_list:
        task["in_means"] = task["name"] in run_tasks
    if suites is None:
        suites = {}
        for task in task_list:
            for suite in task["suites"]:
                suites.setdefault(suite, []).append(task["name"])
    suites = {s: [t for t in names if t in tasks] for s, names in suites.items()}

    by_type = {ty: [t["name"] for t in task_list if t["type"] == ty and t["in_means"]] for ty in types}
    if comparison is not None:
        for task, model, score, low, high, n, tier in comparison.intervals.itertuples(index=False):
            cell = cells[model][task]
            cell.update(score=float(score), low=_num(low), high=_num(high), n=int(n) or None,
                        tier=None if tier is pd.NA else int(tier))
    models = [_model_row(name, meta, cells[name], throughput.get(name)) for name, meta in metas.items()]
    for m in models:
        m["runtime"] = runtime.describe(runs[m["name"]])
    _add_statistics(models, comparison, by_type)
    _order(models)
    return {
        "types": [{"key": ty, "label": TYPE_LABELS.get(ty, ty), "tasks": by_type[ty]} for ty in types],
        "tasks": task_list,
        "models": models,
        "suites": suites,
        "best_by_type": _best_by_type(models, types, by_type),
        "notes": list(notes) + (list(comparison.notes) if comparison is not None else []),
        "n_run_tasks": len(run_tasks),
        "best": _best_values(models, types, task_list),
        "has_cost": any(m["cost_usd"] is not None for m in models),
    }


def _model_row(name: str, meta: dict[str, Any], cells: dict[str, Any], speeds: list[float] | None) -> dict[str, Any]:
    return {**meta, "cells": cells, "n_tasks": len(cells), "throughput": statistics.median(speeds) if speeds else None}


def _weighted_means(models: list[dict[str, Any]], by_type: Mapping[str, list[str]]) -> None:
    """mteb's Mean (Task) and Mean (TaskType) and the per-type means, None when a task is missing."""
    in_means = [t for names in by_type.values() for t in names]
    for m in models:
        cells = m["cells"]
        m["types"] = {}
        for ty, names in by_type.items():
            values = [cells[t]["score"] for t in names if t in cells]
            m["types"][ty] = {"mean": sum(values) / len(values) if names and len(values) == len(names) else None,
                              "tier": None, "low": None, "high": None}
        values = [cells[t]["score"] for t in in_means if t in cells]
        m["mean_task"] = sum(values) / len(values) if in_means and len(values) == len(in_means) else None
        type_means = [m["types"][ty]["mean"] for ty, names in by_type.items() if names]
        m["mean_type"] = (sum(type_means) / len(type_means) if type_means and None not in type_means else None)


def _add_statistics(models: list[dict[str, Any]], comparison: Any, by_type: Mapping[str, list[str]]) -> None:
    """Means, tiers (rank, per type, per mean column), intervals of the means, Borda and rank CIs."""
    _weighted_means(models, by_type)
    summary = comparison.summary.set_index("model") if comparison is not None else pd.DataFrame()
    for m in models:
        row = summary.loc[m["name"]] if m["name"] in summary.index else None
        m["borda"] = None if row is None else int(row["borda_rank"])
        m["mean_rank"] = None if row is None else _num(row["mean_rank"])
        m["p_first"] = None if row is None else _num(row["p_first"])
        low = None if row is None else _num(row["rank_ci_low"])
        m["rank_ci"] = None if low is None else (int(low), int(row["rank_ci_high"]))
        m["tier"] = m["mean_task_tier"] = m["mean_type_tier"] = None
        m["mean_task_ci"] = None
    if comparison is None:
        return
    overall = tiering.overall_tiers(comparison)
    errors = tiering.ScoreErrors(comparison)
    in_means = [t for names in by_type.values() for t in names]
    present = [ty for ty, names in by_type.items() if names]
    type_weights = [1 / (len(present) * len(by_type[ty])) for ty in present for _ in by_type[ty]]
    type_tasks = [t for ty in present for t in by_type[ty]]
    variances = tiering.PairVariances(comparison)
    task_tier = tiering.combined_tiers(comparison, in_means, variances=variances) if in_means else {}
    type_mean_tier = (tiering.combined_tiers(comparison, type_tasks, type_weights, variances=variances)
                      if type_tasks else {})
    per_type = {ty: tiering.combined_tiers(comparison, names, variances=variances)
                for ty, names in by_type.items() if names}
    for m in models:
        name = m["name"]
        m["tier"] = overall.get(name)
        if m["mean_task"] is not None:
            m["mean_task_tier"] = task_tier.get(name)
            m["mean_task_ci"] = errors.interval(m["mean_task"], name, in_means)
        if m["mean_type"] is not None:
            m["mean_type_tier"] = type_mean_tier.get(name)
        for ty, names in by_type.items():
            entry = m["types"][ty]
            if entry["mean"] is not None:
                entry["tier"] = per_type[ty].get(name)
                interval = errors.interval(entry["mean"], name, names)
                entry["low"], entry["high"] = interval if interval else (None, None)


def _order(models: list[dict[str, Any]]) -> None:
    """Sort in place: tier, mean rank, Borda, name; tiered models get a position and a tier range."""
    inf = math.inf
    models.sort(key=lambda m: (m["published"], m["tier"] or inf, m["mean_rank"] or inf, m["borda"] or inf,
                               -(m["mean_task"] if m["mean_task"] is not None else -inf), m["name"]))
    spans: dict[int, list[int]] = {}
    for position, model in enumerate(models, start=1):
        model["position"] = position
        if model["tier"] is not None:
            spans.setdefault(model["tier"], []).append(position)
    for model in models:
        span = spans.get(model["tier"]) if model["tier"] is not None else None
        model["tier_range"] = (min(span), max(span)) if span else None


def _best_by_type(models: list[dict[str, Any]], types: list[str], by_type: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """Per task type (and overall): the top-tier models, best mean first."""
    cards = []
    overall = [m for m in models if m["mean_task_tier"] == 1 and m["mean_task"] is not None]
    overall.sort(key=lambda m: -m["mean_task"])
    cards.append({"key": "mean_task", "label": "All tasks", "n_tasks": sum(len(v) for v in by_type.values()),
                  "models": [{"name": m["name"], "score": m["mean_task"]} for m in overall]})
    for ty in types:
        top = [m for m in models if m["types"][ty]["tier"] == 1 and m["types"][ty]["mean"] is not None]
        top.sort(key=lambda m: -m["types"][ty]["mean"])
        cards.append({"key": f"type:{ty}", "label": TYPE_LABELS.get(ty, ty), "n_tasks": len(by_type[ty]),
                      "models": [{"name": m["name"], "score": m["types"][ty]["mean"]} for m in top]})
    return cards


def _best_values(models: list[dict[str, Any]], types: list[str], tasks: list[dict[str, Any]]) -> dict[str, float]:
    """Column key -> the best value among the models run here (for the bold marking)."""
    columns: dict[str, list[float]] = {}
    for m in (m for m in models if not m["published"]):
        for key, value in [("mean_task", m["mean_task"]), ("mean_type", m["mean_type"]),
                           *[(f"type:{ty}", m["types"][ty]["mean"]) for ty in types],
                           *[(f"task:{t['name']}", m["cells"].get(t["name"], {}).get("score")) for t in tasks]]:
            if value is not None:
                columns.setdefault(key, []).append(value)
    return {key: max(values) for key, values in columns.items()}
