"""The tables a comparison produces, and their JSON form."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harness.errors import HarnessError
from harness.stats import cd

PAIR_COLUMNS = [
    "task", "model_a", "model_b", "score_a", "score_b", "delta", "ci_low", "ci_high", "p_value", "p_holm",
    "significant",
]
INTERVAL_COLUMNS = ["task", "model", "score", "ci_low", "ci_high", "n_items", "tier"]
SUMMARY_COLUMNS = [
    "model", "mean_task", "mean_task_type", "borda_rank", "mean_rank", "p_first", "rank_ci_low", "rank_ci_high",
]


class StatsError(HarnessError):
    """The comparison was asked for something the results cannot give (unknown name, clash)."""


@dataclass
class Comparison:
    """Everything ``compare`` found. Every table records its method in :attr:`method`.

    Attributes:
        pairs: one row per compared pair within a task: ``task, model_a, model_b, score_a,
            score_b, delta, ci_low, ci_high, p_value, p_holm, significant`` then ``test``
            ("sign-flip" / "bootstrap") and ``n_items``. ``model_a`` scores at least
            ``model_b``, so ``delta = score_a - score_b >= 0``.
        intervals: one row per (task, model): ``task, model, score, ci_low, ci_high, n_items,
            tier``; without per-item data: NaN interval, ``n_items`` 0, no tier.
        summary: one row per model across tasks, best Borda rank first: ``model, mean_task,
            mean_task_type, borda_rank, mean_rank, p_first, rank_ci_low, rank_ci_high, n_tasks``.
        friedman: one row: ``statistic, p, n_tasks, n_models, nemenyi_cd``.
        posthoc: one row per pair of models across tasks (see :func:`across.posthoc`).
        method: method names, resample count, seed, alpha, missing-result policy.
        notes: what was left out and why, one line each.
    """

    pairs: pd.DataFrame
    intervals: pd.DataFrame
    summary: pd.DataFrame
    friedman: pd.DataFrame
    posthoc: pd.DataFrame
    method: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def cd_svg(self, test: str = "wilcoxon") -> str:
        """Critical-difference diagram over the complete tasks, as SVG text.

        Args:
            test: "wilcoxon" (bars join models whose Holm-adjusted Wilcoxon p >= alpha,
                Benavoli et al. 2016) or "nemenyi" (Nemenyi p-values; the critical difference
                is drawn too).
        """
        if test not in ("wilcoxon", "nemenyi"):
            raise StatsError(f"test must be 'wilcoxon' or 'nemenyi', not {test!r}")
        if self.posthoc.empty:
            raise StatsError("a critical-difference diagram needs two models and a task they all have")
        friedman = self.friedman.iloc[0]
        name = "Wilcoxon signed-rank + Holm" if test == "wilcoxon" else "Nemenyi"
        title = (f"{name}, alpha = {self.method['alpha']}, {int(friedman['n_tasks'])} tasks; "
                 f"Friedman p = {friedman['p']:.3g}")
        return cd.cd_svg(
            self.summary.set_index("model")["mean_rank"].dropna(),
            cd.p_matrix(self.posthoc, "wilcoxon_p_holm" if test == "wilcoxon" else "nemenyi_p"),
            alpha=self.method["alpha"],
            cd=float(friedman["nemenyi_cd"]) if test == "nemenyi" else None,
            title=title,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: method, notes, and each table as a list of row objects (NaN -> None).

        ``pairs`` rows carry exactly the :data:`PAIR_COLUMNS` fields.
        """
        return {
            "method": self.method,
            "notes": list(self.notes),
            "pairs": _rows(self.pairs[PAIR_COLUMNS]),
            "intervals": _rows(self.intervals),
            "summary": _rows(self.summary),
            "friedman": _rows(self.friedman)[0],
            "posthoc": _rows(self.posthoc),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (strict: no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    """Python scalar for JSON: numpy scalars unwrapped, NaN/NA -> None."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value
