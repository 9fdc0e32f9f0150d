"""The sweep view: per base model and task type, a layer × dim heat grid of the variants' scores
(each cell with its CI and whether it is significantly worse than the full model), and the Pareto
front of quality against cost (bytes per vector, and layers as a proxy for compute).

"Free" compressions: variants not significantly worse than the full model (the base model itself,
no ``@`` suffix) on the type's tasks, from the comparison's paired statistics (``harness.stats``):
with one task, the p-value of that task's paired test of the two; with several, a two-sided z-test
of the mean paired difference over the tasks, its variance the sum of the per-task paired
variances (read from their 95% intervals, as ``tiers.combined_tiers``). Holm over the base's
variants (the comparisons this view makes, not every pair of the task). A variant with no paired
test against the full model is neither free nor worse (None).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from harness.leaderboard import tiers as tiering
from harness.leaderboard.details import parse_variant
from harness.store import StoredResult


def pareto_front(points: Sequence[tuple[float, float, float]]) -> list[int]:
    """Indices of the points (cost1, cost2, quality) that no other point dominates: none has both
    costs lower or equal and a quality higher or equal, with one of the three strictly better."""
    front = []
    for i, (a1, a2, q) in enumerate(points):
        beaten = any(b1 <= a1 and b2 <= a2 and r >= q and (b1 < a1 or b2 < a2 or r > q) for j, (b1, b2, r) in enumerate(points) if j != i)
        if not beaten:
            front.append(i)
    return front


def _paired(comparison: Any) -> dict[tuple[str, str, str], tuple[float, float, float]]:
    """(task, model, other) -> (score difference model - other, its variance, raw p-value)."""
    z = NormalDist().inv_cdf(1 - comparison.method["alpha"] / 2)
    out = {}
    columns = ["task", "model_a", "model_b", "delta", "ci_low", "ci_high", "p_value"]
    for task, a, b, delta, low, high, p_value in comparison.pairs[columns].itertuples(index=False):
        variance = ((high - low) / (2 * z)) ** 2
        out[(task, a, b)] = (float(delta), float(variance), float(p_value))
        out[(task, b, a)] = (-float(delta), float(variance), float(p_value))
    return out


def _worse(variant: str, full: str, tasks: Sequence[str], paired: Mapping[tuple[str, str, str], tuple[float, float, float]]) -> tuple[float | None, float | None]:
    """(mean difference variant - full, raw p of the paired test) or (None, None) when untested."""
    rows = [paired.get((t, variant, full)) for t in tasks]
    if any(r is None for r in rows):
        return None, None
    if len(rows) == 1:
        return rows[0][0], rows[0][2]
    delta = float(np.mean([r[0] for r in rows]))
    spread = float(np.sqrt(sum(r[1] for r in rows))) / len(rows)
    if spread == 0:
        return delta, 1.0 if delta == 0 else 0.0
    return delta, 2 * (1 - NormalDist().cdf(abs(delta) / spread))


def _depths(results: Sequence[StoredResult]) -> dict[str, int]:
    """base model -> its depth, as layer variants record it (else the deepest layer swept)."""
    out: dict[str, int] = {}
    for r in results:
        base, _, variant = r.model_name.partition("@")
        settings = r.data.harness.model.get("settings") or {}
        layer = parse_variant(variant).get("layer")
        depth = settings.get("depth") or (int(layer) if layer else None)
        if depth:
            out[base] = max(out.get(base, 0), int(depth))
    return out


def sweep_view(board: dict[str, Any], comparison: Any, results: Sequence[StoredResult]) -> list[dict[str, Any]]:
    """One entry per base model with sweep variants and a full model run: per task type (the
    full model's tasks of that type, and the variants that have them all), the grid, every
    point, and the Pareto front (see the module docstring).

    Returns:
        ``[{base, depth, types: [{type, label, tasks, full, layers, dims, grid, points, front}]}]``;
        ``grid[i][j]`` is the point at ``layers[i]``, ``dims[j]`` (None where not run); a point is
        ``{name, variant, layer, dim, quantize, rescore, bytes, mean, low, high, delta, free,
        front}``.
    """
    from harness.stats.within import holm

    models = {m["name"]: m for m in board["models"] if not m["published"]}
    kinds = {t["name"]: t["type"] for t in board["tasks"] if t["in_means"]}
    labels = {t["key"]: t["label"] for t in board["types"]}
    errors = tiering.ScoreErrors(comparison) if comparison is not None else None
    paired = _paired(comparison) if comparison is not None else {}
    alpha = comparison.method["alpha"] if comparison is not None else 0.05
    depths = _depths(results)
    out = []
    for base in sorted({m["base"] for m in models.values() if m["variant"]} & set(models)):
        members = [m for m in models.values() if m["base"] == base]
        full = models[base]
        types = []
        for key in [t["key"] for t in board["types"]]:
            tasks = [t for t, kind in kinds.items() if kind == key and t in full["cells"]]
            scored = [m for m in members if all(t in m["cells"] for t in tasks)]  # e.g. rescoring: retrieval only
            if not tasks or len(scored) < 2:
                continue
            points = [_point(m, tasks, depths.get(base), errors) for m in scored]
            variants = [p for p in points if p["variant"]]
            tests = [_worse(p["name"], base, tasks, paired) for p in variants]
            tested = [i for i, (_, p) in enumerate(tests) if p is not None]
            adjusted = holm(np.array([tests[i][1] for i in tested])) if tested else []
            for n, i in enumerate(tested):
                variants[i]["free"] = not (tests[i][0] < 0 and adjusted[n] < alpha)
            costed = [p for p in points if p["bytes"] is not None and p["layer"] is not None]
            for i in pareto_front([(p["bytes"], p["layer"], p["mean"]) for p in costed]):
                costed[i]["front"] = True
            grid_points = [p for p in points if p["quantize"] == "none" and p["rescore"] is None and p["layer"] is not None]
            layers = sorted({p["layer"] for p in grid_points})
            dims = sorted({p["dim"] for p in grid_points if p["dim"] is not None}, reverse=True)
            at = {(p["layer"], p["dim"]): p for p in grid_points if p["variant"]}
            means = [p["mean"] for p in at.values()]
            for p in at.values():
                p["shade"] = shade(p["mean"], min(means), max(means))
            types.append({
                "type": key, "label": labels.get(key, key), "tasks": tasks, "full": next(p for p in points if not p["variant"]),
                "layers": layers, "dims": dims, "grid": [[at.get((layer, dim)) for dim in dims] for layer in layers],
                "points": points, "front": sorted((p for p in costed if p["front"]), key=lambda p: (p["bytes"], p["layer"])),
            })
        if types:
            out.append({"base": base, "depth": depths.get(base), "full_name": full["name"], "types": types})
    return out


def _point(m: dict[str, Any], tasks: Sequence[str], depth: int | None, errors: Any) -> dict[str, Any]:
    parts = parse_variant(m["variant"])
    mean = sum(m["cells"][t]["score"] for t in tasks) / len(tasks)
    interval = errors.interval(mean, m["name"], tasks) if errors is not None else None
    rescore = parts.get("rescore")
    return {
        "name": m["name"], "variant": m["variant"], "layer": int(parts["layer"]) if "layer" in parts else depth,
        "dim": m["dim"], "quantize": parts.get("quantize", "none"), "rescore": int(rescore) if rescore is not None else None,
        "bytes": m["bytes"], "mean": mean, "low": interval and interval[0], "high": interval and interval[1],
        "free": None, "front": False,
    }


def shade(value: float, low: float, high: float) -> str:
    """A light-to-dark blue background for a heat-grid cell (CSS colour)."""
    t = 0.0 if high <= low else (value - low) / (high - low)
    return f"rgba(31, 119, 180, {0.1 + 0.6 * t:.2f})"
