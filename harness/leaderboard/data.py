"""Gather the leaderboard from stored results and their comparison: models, tasks, cells, tiers.

Everything here is plain data (dicts, lists, floats or None) that the template, the page's JSON,
``leaderboard.json`` and ``leaderboard.csv`` all read, so the four show the same numbers.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from harness.leaderboard import ranking, runtime
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
           notes: Sequence[str] = (), task_types: Mapping[str, str] | None = None,
           scores: Mapping[tuple[str, str], Any] | None = None, seed: int = 0) -> dict[str, Any]:
    """The leaderboard as plain data (see the module docstring).

    Every row, run here or published, is ranked together (:mod:`harness.leaderboard.ranking`).

    Args:
        results: one result per (model, task) (:func:`dedupe` first).
        comparison: ``harness.stats.compare`` of the results that were run here (not the
            imported ones), or None when there is nothing to compare.
        suites: suite -> task names (default: from each task's spec).
        task_types: task -> the type its mean goes to (a benchmark's: mteb's types); default
            each spec's type.
        scores: (model, task) -> ``benchmark_view.CellScore`` (a benchmark's scores as mteb computes
            them); default each result's main score.
        seed: of the bootstrap over tasks.
    """
    metas: dict[str, dict[str, Any]] = {}
    throughput: dict[str, list[float]] = {}
    runs: dict[str, list[Any]] = {}  # model -> each result's runtime record
    tasks: dict[str, dict[str, Any]] = {}
    cells: dict[str, dict[str, dict[str, Any]]] = {}
    borda_only: dict[str, dict[str, float]] = {}
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
        score, borda = main_score(result), None
        if scores is not None:
            given = scores.get((result.model_name, result.task_name))
            score, borda = (given.score, given.borda) if given is not None else (None, None)
        if score is None:  # undefined for the means; mteb's Borda count may still rank it
            if borda is not None:
                borda_only.setdefault(result.model_name, {})[result.task_name] = borda
            continue
        cells.setdefault(result.model_name, {})[result.task_name] = {
            "score": score, "low": None, "high": None, "n": None, "tier": None,
            "published": result.data.harness.status == "imported"}
    if task_types:
        for task in tasks.values():
            task["type"] = task_types.get(task["name"], task["type"])
    types = _types_of(list(tasks.values()))
    task_list = sorted(tasks.values(), key=lambda t: (types.index(t["type"]), t["name"]))
    for task in task_list:
        task["in_means"] = True  # every task of the view counts, whoever has it (mteb's rule)
    if suites is None:
        suites = {}
        for task in task_list:
            for suite in task["suites"]:
                suites.setdefault(suite, []).append(task["name"])
    suites = {s: [t for t in names if t in tasks] for s, names in suites.items()}

    by_type = {ty: [t["name"] for t in task_list if t["type"] == ty] for ty in types}
    if comparison is not None:
        for task, model, score, low, high, n, tier in comparison.intervals.itertuples(index=False):
            cell = cells.get(model, {}).get(task)
            if cell is None:
                continue
            cell.update(score=float(score), low=_num(low), high=_num(high), n=int(n) or None,
                        tier=None if tier is pd.NA else int(tier))
    models = [_model_row(name, meta, cells.get(name, {}), throughput.get(name), types)
              | {"borda_only": borda_only.get(name, {}), "runtime": runtime.describe(runs.get(name, []))}
              for name, meta in metas.items()]
    models = ranking.rank_rows(models, [t["name"] for t in task_list], [t["type"] for t in task_list], seed=seed)
    ranking.pair_published(models)
    _add_statistics(models, comparison, by_type)
    _order(models)
    return {
        "types": [{"key": ty, "label": type_label(ty), "tasks": by_type[ty]} for ty in types],
        "tasks": task_list,
        "models": models,
        "suites": suites,
        "best_by_type": _best_by_type(models, types, by_type),
        "notes": list(notes) + (list(comparison.notes) if comparison is not None else []),
        "ranking": ranking.describe(models, len(task_list)),
        "best": _best_values(models, types, task_list),
        "has_cost": any(m["cost_usd"] is not None for m in models),
    }


def type_label(kind: str) -> str:
    """Our task type's label, or an mteb type split on its capitals (``PairClassification`` ->
    ``Pair Classification``, as mteb's leaderboard shows it)."""
    return TYPE_LABELS.get(kind) or " ".join(re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?=[A-Z]|$)", kind)) or kind


def _model_row(name: str, meta: dict[str, Any], cells: dict[str, Any], speeds: list[float] | None,
               types: Sequence[str]) -> dict[str, Any]:
    return {**meta, "cells": cells, "n_tasks": len(cells), "throughput": statistics.median(speeds) if speeds else None,
            "types": {ty: {"mean": None, "tier": None, "low": None, "high": None} for ty in types}}


def _add_statistics(models: list[dict[str, Any]], comparison: Any, by_type: Mapping[str, list[str]]) -> None:
    """Per-item statistics of the rows run here: tiers and intervals of their mean columns (the
    within-task intervals combined); the rank, tiers and intervals across tasks are ``ranking``'s."""
    for m in models:
        m["mean_task_tier"] = m["mean_type_tier"] = None
        m["mean_task_ci"] = None
    if comparison is None:
        return
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
    """Sort in place: the complete rows by tier, mean rank, Borda, name; then the incomplete ones
    by Borda. Tiered rows get a position and their tier's range of positions."""
    inf = math.inf
    models.sort(key=lambda m: (not m["complete"], m["tier"] or inf, m["mean_rank"] or inf, m["borda"] or inf,
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
    """Per task type (and overall): the top-tier models, best mean first. "All tasks": the rank's
    tier 1 across tasks (every row); a type: its per-item tier 1 (rows run here), else, with no
    per-item tests (published rows only), the best three by the type's mean (``tested`` False)."""
    overall = [m for m in models if m["tier"] == 1 and m["mean_task"] is not None]
    overall.sort(key=lambda m: -m["mean_task"])
    cards = [{"key": "mean_task", "label": "All tasks", "n_tasks": sum(len(v) for v in by_type.values()), "tested": True,
              "models": [{"name": m["name"], "score": m["mean_task"]} for m in overall]}]
    for ty in types:
        top = [m for m in models if m["types"][ty]["tier"] == 1 and m["types"][ty]["mean"] is not None]
        tested = bool(top)
        if not tested:
            top = sorted((m for m in models if m["types"][ty]["mean"] is not None), key=lambda m: -m["types"][ty]["mean"])[:3]
        top.sort(key=lambda m: -m["types"][ty]["mean"])
        cards.append({"key": f"type:{ty}", "label": type_label(ty), "n_tasks": len(by_type[ty]), "tested": tested,
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
