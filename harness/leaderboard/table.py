"""Results as tables: one row per (model, task, split), and the model × task pivot."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness.store import StoredResult


def result_rows(results: Iterable[StoredResult]) -> list[dict[str, Any]]:
    """One dict per (model, task, split): model, revision, task, type, split, main_score, metrics..."""
    rows = []
    for result in results:
        task = result.data.harness.task
        for split, entries in result.data.scores.items():
            scores = entries[0].model_dump()
            scores.pop("hf_subset", None)
            scores.pop("languages", None)
            rows.append(
                {
                    "model": result.model_name,
                    "revision": result.revision,
                    "task": result.task_name,
                    "type": task.get("type"),
                    "split": split,
                    "main_score_name": result.data.harness.main_score_name,
                    **scores,
                }
            )
    return rows
