"""The page's figures as inline SVG text (matplotlib, Agg, imported inside the functions).

Text stays text (``svg.fonttype: none``; matplotlib escapes it) and is plain text: labels are data
(a model may be named ``$x$``), so every figure is built and saved with mathtext and TeX off
(:func:`_plain`). Ids are prefixed per figure so that several inline SVGs never share one, and
the XML prologue is dropped for inlining.
"""

from __future__ import annotations

import functools
import io
import math
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

from harness.tasktypes import get_task_type, task_type_names

TYPE_COLORS = {name: get_task_type(name).color for name in task_type_names()}  # from the task types' descriptors
MAX_LABELS = 25  # points labelled in a scatter (the best ones beyond this)
HEATMAP_MODELS = 60  # heatmap rows: the board's first ones (hundreds of published rows took 13 s and were unreadable)
# read when a text artist is created and when it is drawn, so they hold for a figure's whole life
FIGURE_RC = {"svg.hashsalt": "harness", "svg.fonttype": "none", "text.parse_math": False, "text.usetex": False}
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _mpl() -> Any:
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:  # leave an interactive session's backend alone
        matplotlib.use("Agg")
    return matplotlib


def _plain(draw: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run a figure function under :data:`FIGURE_RC` (plain-text labels, reproducible SVG)."""

    @functools.wraps(draw)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with _mpl().rc_context(FIGURE_RC):
            return draw(*args, **kwargs)

    return wrapper


def inline(svg: str, prefix: str) -> str:
    """An SVG document ready to inline in HTML: no prologue, ids prefixed, scalable."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    return svg.replace("<svg ", f'<svg class="figure" role="img" aria-label="{prefix}" ', 1)


def _save(figure: Any, prefix: str, tight: bool = True) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight" if tight else None, metadata={"Date": None})
    return inline(buffer.getvalue(), prefix)


def _figure(width: float, height: float) -> Any:
    _mpl()
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    return figure


def _short(name: str, limit: int = 38) -> str:
    return name if len(name) <= limit else "…" + name[-(limit - 1):]


@_plain
def heatmap(board: dict[str, Any]) -> str | None:
    """Models (rows, leaderboard order, the first :data:`HEATMAP_MODELS`) x tasks (columns, by
    type), coloured within each task."""
    import numpy as np

    models = board["models"][:HEATMAP_MODELS]
    tasks = [t for t in board["tasks"]]
    if not models or not tasks:
        return None
    values = np.full((len(models), len(tasks)), np.nan)
    for i, m in enumerate(models):
        for j, t in enumerate(tasks):
            cell = m["cells"].get(t["name"])
            if cell is not None:
                values[i, j] = cell["score"]
    low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    span = np.where(high > low, high - low, 1.0)
    relative = (values - low) / span
    model_labels = [_short(m["name"].split("/", 1)[-1]) for m in models]
    task_labels = [_short(t["name"], 30) for t in tasks]
    # fixed margins from the label lengths (inches): a tight bounding box would draw it twice
    left, bottom, top, right = 0.25 + 0.058 * max(map(len, model_labels)), 0.3 + 0.05 * max(map(len, task_labels)), 0.45, 0.2
    width, height = 0.28 * len(tasks), 0.22 * len(models)
    figure = _figure(left + width + right, bottom + height + top)
    figure.subplots_adjust(left=left / (left + width + right), right=1 - right / (left + width + right),
                           bottom=bottom / (bottom + height + top), top=1 - top / (bottom + height + top))
    ax = figure.subplots()
    from matplotlib import colormaps

    cmap = colormaps["YlGnBu"].with_extremes(bad="#e5e5e5")
    ax.imshow(np.ma.masked_invalid(relative), cmap=cmap, vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    ax.set_yticks(range(len(models)), model_labels, fontsize=7)
    ax.set_xticks(range(len(tasks)), task_labels, fontsize=7, rotation=60, ha="right", rotation_mode="anchor")
    for label, t in zip(ax.get_xticklabels(), tasks):
        label.set_color(TYPE_COLORS.get(t["type"], "#333"))
    if len(models) * len(tasks) <= 600:
        for i, j in zip(*np.nonzero(~np.isnan(values))):
            ax.text(j, i, f"{100 * values[i, j]:.1f}", ha="center", va="center", fontsize=6,
                    color="white" if relative[i, j] > 0.6 else "#222")
    shown = f"the first {len(models)} of {len(board['models'])} models; " if len(models) < len(board["models"]) else ""
    ax.set_title(f"Main score ×100; {shown}colour = position between the task's worst (light) and best (dark) model; "
                 "grey = missing", fontsize=8, loc="left")
    ax.tick_params(length=0)
    return _save(figure, "heatmap", tight=False)


def _label_points(ax: Any, points: list[tuple[float, float, str]]) -> None:
    ranked = sorted(points, key=lambda p: -p[1])[:MAX_LABELS]
    for x, y, text in ranked:
        ax.annotate(_short(text, 30), (x, y), xytext=(4, 3), textcoords="offset points", fontsize=6.5, color="#333")


@_plain
def throughput_scatter(board: dict[str, Any]) -> str | None:
    """Mean (Task) against measured throughput (texts per second, log scale)."""
    points = [(m["throughput"], m["mean_task"], m["name"], bool(m["variant"])) for m in board["models"]
              if m["throughput"] and m["mean_task"] is not None]
    if not points:
        return None
    figure = _figure(7.5, 4.2)
    ax = figure.subplots()
    for variant, color in ((False, "#1f77b4"), (True, "#bbbbbb")):
        chosen = [p for p in points if p[3] == variant]
        if chosen:
            ax.scatter([p[0] for p in chosen], [100 * p[1] for p in chosen], s=22, color=color, zorder=3,
                       label="sweep variant" if variant else "model")
    _label_points(ax, [(p[0], 100 * p[1], p[2]) for p in points if not p[3]] or [(p[0], 100 * p[1], p[2]) for p in points])
    speeds = [p[0] for p in points]
    if max(speeds) / min(speeds) >= 20:  # a log axis only where it spans decades (else its labels clash)
        ax.set_xscale("log")
    ax.set_xlabel("measured throughput, texts per second (median over tasks"
                  + ("; log scale)" if ax.get_xscale() == "log" else ")"), fontsize=8)
    ax.set_ylabel("Mean (Task) ×100", fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    ax.tick_params(labelsize=7)
    return _save(figure, "throughput")


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both axes (fewer bytes, higher score)."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -math.inf
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


@_plain
def pareto(variants: dict[str, Any], labels: dict[str, str]) -> str | None:
    """Quality vs bytes per vector, overall and per task type, with the Pareto front drawn."""
    points = variants["points"]
    if not variants["groups"] or not points:
        return None
    panels = [(f"All {len(variants['tasks'])} shared tasks", lambda p: p["all"])]
    for key, tasks in variants["types"].items():
        panels.append((f"{labels.get(key, key)} ({len(tasks)})", lambda p, k=key: p["types"][k]))
    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    figure = _figure(3.4 * cols, 2.8 * rows + 0.4)
    axes = figure.subplots(rows, cols, squeeze=False).ravel()
    bases = sorted({p["base"] for p in points})
    from matplotlib import colormaps

    palette = colormaps["tab10"]
    for ax, (title, value) in zip(axes, panels):
        pts = [(p["bytes"], value(p), p) for p in points if value(p)["mean"] is not None]
        for x, v, p in pts:
            color = palette(bases.index(p["base"]) % 10)
            if v["low"] is not None:
                ax.errorbar(x, 100 * v["mean"], yerr=[[100 * (v["mean"] - v["low"])], [100 * (v["high"] - v["mean"])]],
                            color=color, alpha=0.45, linewidth=0.8, capsize=2)
            ax.scatter(x, 100 * v["mean"], s=18, color=color, zorder=3)
        front = [pts[i] for i in pareto_front([(x, v["mean"]) for x, v, _ in pts])]
        if front:
            ax.step([x for x, _, _ in front], [100 * v["mean"] for _, v, _ in front], where="post", color="#d62728",
                    linewidth=1.2, label="Pareto front", zorder=2)
            for x, v, p in front:
                ax.annotate(_short(p["variant"] or "full", 24), (x, 100 * v["mean"]), xytext=(3, -9),
                            textcoords="offset points", fontsize=6, color="#d62728")
        ax.set_xscale("log", base=2)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    axes[0].set_ylabel("score ×100", fontsize=8)
    axes[0].legend(fontsize=7, frameon=False, loc="lower right")
    figure.supxlabel("bytes per vector (log scale)", fontsize=8)
    handles = [_dot(palette(i % 10)) for i in range(len(bases))]
    figure.legend(handles, [_short(b, 40) for b in bases], fontsize=7, frameon=False, loc="upper center",
                  ncols=min(4, len(bases)), bbox_to_anchor=(0.5, 1.0))
    figure.tight_layout(rect=(0, 0, 1, 0.94))
    return _save(figure, "pareto")


def _dot(color: Any) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], marker="o", linestyle="", color=color)


@_plain
def suites_chart(rows: list[dict[str, Any]], suites: Sequence[str], limit: int = 15) -> str | None:
    """Each suite's mean (bootstrap CI over its tasks) per model, one line per model across suites."""
    present = [s for s in suites if any(r["suite"] == s for r in rows)]
    if len(present) < 2:
        return None
    first = sorted((r for r in rows if r["suite"] == present[0]), key=lambda r: r["rank"])
    chosen = [r["model"] for r in first][:limit]
    figure = _figure(2.2 + 2.0 * len(present), 4.5)
    ax = figure.subplots()
    from matplotlib import colormaps

    palette = colormaps["tab20"]
    for i, model in enumerate(chosen):
        mine = {r["suite"]: r for r in rows if r["model"] == model}
        xs = [k for k, s in enumerate(present) if s in mine]
        ys = [100 * mine[present[k]]["mean"] for k in xs]
        color = palette(i % 20)
        ax.plot(xs, ys, color=color, linewidth=1.2, marker="o", markersize=4)
        for k in xs:
            r = mine[present[k]]
            ax.vlines(k + 0.03 * (i - len(chosen) / 2) / max(1, len(chosen)), 100 * r["ci_low"], 100 * r["ci_high"],
                      color=color, alpha=0.35, linewidth=3)
        ax.annotate(f"{_short(model, 34)} (#{mine[present[xs[-1]]]['rank']})", (xs[-1], ys[-1]), xytext=(6, 0),
                    textcoords="offset points", fontsize=6.5, va="center", color=color)
    ax.set_xticks(range(len(present)), present, fontsize=8)
    ax.set_xlim(-0.3, len(present) - 0.4)
    ax.set_ylabel("mean over the suite's tasks ×100 (95% bootstrap CI over tasks)", fontsize=7.5)
    ax.grid(True, axis="y", alpha=0.3)
    ax.tick_params(labelsize=7)
    return _save(figure, "suites")
