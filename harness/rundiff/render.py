"""A diff for people: the terminal table, and one self-contained HTML page in the leaderboard's style."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.files import atomic_write_bytes

if TYPE_CHECKING:
    from harness.rundiff.result import DiffResult

SHOWN_ITEMS = 3  # per task and direction in the terminal (the page and the JSON show every listed item)
CLIP = 45


def _num(value: float, digits: int = 4, sign: bool = False) -> str:
    return "–" if math.isnan(value) else f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _p(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2g}" if value < 0.001 else f"{value:.3f}"


def rows(result: DiffResult) -> list[dict[str, str]]:
    """The per-task table as display strings (shared by the terminal and the page)."""
    level = f"{1 - result.alpha:.0%}"
    return [{
        "task": r["task"], "type": r["task_type"], "items": str(r["n_items"]), "A": _num(r["score_a"]),
        "B": _num(r["score_b"]), "Δ (B−A)": _num(r["delta"], sign=True),
        f"{level} CI": f"[{_num(r['ci_low'], sign=True)}, {_num(r['ci_high'], sign=True)}]",
        "p": _p(r["p_value"]), "p (Holm)": _p(r["p_holm"]), "verdict": r["verdict"], "MDE": _num(r["mde"]),
    } for r in result.tasks.to_dict("records")]


def headline(result: DiffResult) -> list[str]:
    """What was compared, the test over tasks, and the gate, one line each."""
    across = result.across
    same = across["n_tasks"] - across["better"] - across["worse"]
    gate = f"FAIL ({', '.join(result.regressions)})" if result.failed else "pass"
    return [
        f"B = {result.b} ({result.model_b}) against the baseline A = {result.a} ({result.model_a})",
        (f"across {across['n_tasks']} task{'s' if across['n_tasks'] != 1 else ''}: mean Δ {_num(across['mean_delta'], sign=True)}; "
         f"{across['better']} better, {across['worse']} worse, {same} no change; "
         f"Wilcoxon signed-rank over tasks p = {_p(across['wilcoxon_p'])}"),
        f"regression gate (α = {result.alpha:g} after Holm over tasks, loss > {result.min_delta:g}): {gate}",
    ]


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= CLIP else text[: CLIP - 1] + "…"


def terminal(result: DiffResult) -> str:
    """The diff as plain text: headline, per-task table, then the items that moved."""
    import pandas as pd

    lines = [*headline(result)[:1], "", pd.DataFrame(rows(result)).to_string(index=False), "",
             *headline(result)[1:]]
    for task, moved in result.moved.items():
        lines += ["", f"{task}: items that moved (per-item value: {moved.measure})"]
        lines += [f"  note: {moved.note}"] if moved.note else []
        for label, items in (("loss", moved.losses), ("gain", moved.gains)):
            for item in items[:SHOWN_ITEMS]:
                shown = "  " + " | ".join(_clip(v) for v in list(item.fields.values())[:2]) if item.fields else ""
                lines.append(f"  {label} {item.id}: {item.value_a:.3f} -> {item.value_b:.3f}{shown}")
    return "\n".join(lines)


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import ChoiceLoader, Environment, PackageLoader

    loader = ChoiceLoader([PackageLoader("harness.rundiff", "templates"), PackageLoader("harness.leaderboard", "templates")])
    return Environment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)


def html(result: DiffResult) -> str:
    """The page: headline, per-task table with verdicts, and each task's moved items (each a ``<details>``)."""
    env = _environment()
    css = env.loader.get_source(env, "report.css")[0]  # the leaderboard's stylesheet, inlined
    return env.get_template("diff.html.j2").render(result=result, rows=rows(result), headline=headline(result), css=css)


def write_html(result: DiffResult, out_dir: Path) -> Path:
    """``out_dir/diff.html``, written atomically."""
    path = out_dir / "diff.html"
    atomic_write_bytes(path, html(result).encode("utf-8"))
    return path
