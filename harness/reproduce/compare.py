"""Ours beside the published number, per reference row: pure functions over plain data.

Verdicts: ``✔`` within tolerance, ``✘`` outside (or the unit failed), ``–`` not run (data not
available, model not available, no task spec). :func:`exit_code` is 0 when every row that ran is
within tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.reproduce.reference import Reference, ReferenceRow
from harness.specs import TaskSpec

VERDICT_MARK = {"within": "✔", "outside": "✘", "failed": "✘", "no_data": "–", "no_model": "–", "no_spec": "–"}
STATUS_TEXT = {
    "within": "within tolerance",
    "outside": "outside tolerance",
    "failed": "failed",
    "no_data": "data not available",
    "no_model": "model not available",
    "no_spec": "no task spec",
}
COLUMNS = ["task", "type", "model", "metric", "published", "ours", "delta", "tolerance", "status", "verdict", "message", "note", "source"]


@dataclass(frozen=True)
class Outcome:
    """What happened to one (model, task) unit: ``status`` is the runner's (done, resumed,
    skipped, failed); ``scores`` split -> stored metrics, for done/resumed."""

    status: str
    scores: Mapping[str, Mapping[str, Any]] | None = None
    message: str = ""


def compare(
    reference: Reference,
    rows: Sequence[ReferenceRow],
    specs: Mapping[str, TaskSpec],
    runnable: Mapping[str, str],
    outcomes: Mapping[tuple[str, str], Outcome],
) -> Any:
    """One row per reference row: published, ours, difference and verdict.

    Args:
        reference: the table (for tolerances).
        rows: the reference rows to show, in order.
        specs: task name -> spec (a task without a spec gets ``no_spec``).
        runnable: table model id -> the model that was run for it (others: ``no_model``).
        outcomes: (table model id, task) -> :class:`Outcome` (absent: ``no_data``).

    Returns:
        A pandas DataFrame with :data:`COLUMNS`; ``delta`` = ours - published; ``status`` one of
        within / outside / failed / no_data / no_model / no_spec, ``verdict`` its mark.
    """
    import pandas as pd

    records = []
    for row in rows:
        spec = specs.get(row.task)
        metric = row.metric or (spec.main_score if spec else None)
        record: dict[str, Any] = {
            "task": row.task,
            "type": spec.type if spec else None,
            "model": row.model_id,
            "metric": metric,
            "published": float(row.score),
            "ours": math.nan,
            "delta": math.nan,
            "tolerance": reference.tolerance(row, spec.type if spec else None),
            "message": "",
            "note": row.note or "",
            "source": row.source,
        }
        outcome = outcomes.get((row.model_id, row.task))
        if spec is None:
            status = "no_spec"
        elif row.model_id not in runnable:
            status = "no_model"
        elif outcome is None or outcome.status == "skipped":
            status = "no_data"
            record["message"] = outcome.message if outcome else ""
        elif outcome.status == "failed" or outcome.scores is None:
            status, record["message"] = "failed", outcome.message or "no result"
        elif metric not in outcome.scores.get(row.split, {}):
            status, record["message"] = "failed", f"the result has no metric {metric!r} on split {row.split!r}"
        else:
            ours = float(outcome.scores[row.split][metric])
            record["ours"], record["delta"] = ours, ours - float(row.score)
            status = "within" if abs(record["delta"]) <= record["tolerance"] + 1e-12 else "outside"
        record["status"], record["verdict"] = status, VERDICT_MARK[status]
        records.append(record)
    return pd.DataFrame.from_records(records, columns=COLUMNS)


def exit_code(table: Any) -> int:
    """0 when every row that ran is within tolerance (rows not run do not count), else 1."""
    return 0 if not table["status"].isin(["outside", "failed"]).any() else 1


def summary_line(table: Any) -> str:
    counts = table["status"].value_counts()
    parts = [f"{counts.get(s, 0)} {STATUS_TEXT[s]}" for s in STATUS_TEXT if counts.get(s, 0)]
    return ", ".join(parts) or "no rows"
