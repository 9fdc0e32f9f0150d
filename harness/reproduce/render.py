"""The comparison as Markdown and as one self-contained HTML page
(template ``harness/leaderboard/templates/reproduce.html.j2``, beside the leaderboard's)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.reproduce.compare import STATUS_TEXT, exit_code, summary_line
from harness.reproduce.reference import Reference

DEFAULT_OUT_DIR = Path("reports") / "reproduce"
TEMPLATES = Path(__file__).resolve().parent.parent / "leaderboard" / "templates"
HEADER = ["task", "model", "metric", "published", "ours", "Δ", "tolerance", "verdict"]


def _number(value: Any, digits: int = 5) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _delta(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{round(value, 6) + 0.0:+.6f}"  # + 0.0: no "-0.000000"


def _tolerance(value: Any) -> str:
    return "" if value is None else f"{value:g}"


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _verdict(record: Mapping[str, Any]) -> str:
    if record["status"] in ("within", "outside"):
        return record["verdict"]
    return f"{record['verdict']} {STATUS_TEXT[record['status']]}"


def display_rows(table: Any) -> list[dict[str, str]]:
    """The table's rows as display strings (one dict per row, keys as :data:`HEADER` plus ``status``)."""
    return [
        {
            "task": record["task"],
            "model": record["model"],
            "metric": _text(record["metric"]),
            "published": _number(record["published"]),
            "ours": _number(record["ours"]),
            "Δ": _delta(record["delta"]),
            "tolerance": _tolerance(record["tolerance"]),
            "verdict": _verdict(record),
            "status": record["status"],
        }
        for record in table.to_dict("records")
    ]


def _notes(table: Any) -> list[tuple[str, str]]:
    """(task, note) pairs, one per distinct note, in table order."""
    seen: dict[tuple[str, str], None] = {}
    for record in table.to_dict("records"):
        if _text(record["note"]):
            seen.setdefault((record["task"], record["note"]), None)
    return list(seen)


def _messages(table: Any) -> list[tuple[str, str, str]]:
    return [(r["task"], r["model"], r["message"]) for r in table.to_dict("records") if r["status"] == "failed" and _text(r["message"])]


def _sources(table: Any) -> list[str]:
    return list(dict.fromkeys(r["source"] for r in table.to_dict("records")))


def to_markdown(table: Any, reference: Reference) -> str:
    """The comparison as a Markdown document (table, tolerances, notes, sources)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"# Reproducing {reference.name}", "", f"Published numbers: {reference.source}", ""]
    lines.append("| " + " | ".join(HEADER) + " |")
    lines.append("|" + "|".join("---:" if h in ("published", "ours", "Δ", "tolerance") else "---" for h in HEADER) + "|")
    for row in display_rows(table):
        lines.append("| " + " | ".join(cell(row[h]) for h in HEADER) + " |")
    lines += ["", f"Result: {summary_line(table)}.", ""]
    lines.append(
        "Tolerance (largest |ours − published| counted as reproduced), per task type: "
        + ", ".join(f"{kind} {value:g}" for kind, value in reference.tolerance_policy())
        + ". ✔ within, ✘ outside (or the run failed), – not run."
    )
    notes = _notes(table)
    if notes:
        lines += ["", "Notes:", ""] + [f"- {cell(task)}: {cell(note)}" for task, note in notes]
    messages = _messages(table)
    if messages:
        lines += ["", "Failures:", ""] + [f"- {cell(t)} × {cell(m)}: {cell(msg)}" for t, m, msg in messages]
    sources = _sources(table)
    if sources:
        lines += ["", "Sources of the published numbers:", ""] + [f"- {cell(s)}" for s in sources]
    return "\n".join(lines) + "\n"


def to_html(table: Any, reference: Reference) -> str:
    """The comparison as one self-contained HTML page (inline CSS, autoescaped, no network)."""
    from jinja2 import Environment, FileSystemLoader

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template("reproduce.html.j2").render(
        reference=reference,
        summary=summary_line(table),
        header=HEADER,
        rows=display_rows(table),
        tolerances=reference.tolerance_policy(),
        notes=_notes(table),
        messages=_messages(table),
        sources=_sources(table),
    )


def render(table: Any, reference: Reference, out_dir: str | Path = DEFAULT_OUT_DIR) -> tuple[Path, Path]:
    """Write ``<out_dir>/<reference>.md`` and ``<out_dir>/<reference>.html``; return both paths."""
    from harness.store import atomic_write_bytes

    out = Path(out_dir)
    markdown, html = out / f"{reference.name}.md", out / f"{reference.name}.html"
    atomic_write_bytes(markdown, to_markdown(table, reference).encode("utf-8"))
    atomic_write_bytes(html, to_html(table, reference).encode("utf-8"))
    return markdown, html


@dataclass
class Reproduction:
    """The outcome of ``harness.api.reproduce``: the comparison table and where it was written."""

    reference: Reference
    table: Any
    markdown_path: Path
    html_path: Path

    @property
    def exit_code(self) -> int:
        return exit_code(self.table)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def summary(self) -> str:
        return summary_line(self.table)

    def to_markdown(self) -> str:
        return to_markdown(self.table, self.reference)
