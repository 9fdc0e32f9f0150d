"""Our score next to the published one, for each model and task we ran that was also imported.

Reads stored results only (like the report). A published score on another dataset revision is
shown with both revisions and no difference: the two numbers are not about the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.store import StoredResult

COLUMNS = [
    "model",
    "task",
    "main_score_name",
    "ours",
    "published",
    "delta",
    "same_data",
    "our_model_revision",
    "published_model_revision",
    "our_dataset_revision",
    "published_dataset_revision",
    "published_mteb_version",
]
_UNCHECKABLE = ("local", "unknown")  # dataset revisions that name no hub commit


def _same_data(ours: str, published: str | None) -> bool | None:
    """True/False when both dataset revisions are hub commits, None when either is not."""
    if published is None or ours in _UNCHECKABLE or ours.startswith("builder:"):
        return None
    return ours == published


def published_comparison(results: Sequence[StoredResult]) -> Any:
    """One row per (model, task) with a result run here and an imported published one.

    Returns:
        A pandas DataFrame with :data:`COLUMNS`: ``delta`` is ours minus published (higher is
        better for us), NaN when ``same_data`` is False (different dataset revisions);
        ``same_data`` is None when a revision cannot be checked (local or built data).
    """
    import pandas as pd

    ours = {(r.model_name, r.task_name): r for r in results if r.data.harness.status == "run"}
    rows = []
    for result in results:
        harness = result.data.harness
        if harness.status != "imported":
            continue
        imported = harness.imported or {}
        run = ours.get((harness.model.get("published_name"), imported.get("task")))
        if run is None:
            continue
        same = _same_data(run.data.dataset_revision, imported.get("dataset_revision"))
        rows.append(
            {
                "model": run.model_name,
                "task": run.task_name,
                "main_score_name": run.data.harness.main_score_name,
                "ours": run.main_score,
                "published": result.main_score,
                "delta": run.main_score - result.main_score if same is not False else float("nan"),
                "same_data": same,
                "our_model_revision": run.revision,
                "published_model_revision": result.revision,
                "our_dataset_revision": run.data.dataset_revision,
                "published_dataset_revision": imported.get("dataset_revision"),
                "published_mteb_version": imported.get("mteb_version"),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS).sort_values(["task", "model"], ignore_index=True)
