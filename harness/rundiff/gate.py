"""The regression gate: which tasks make ``diff --fail-on-regression`` exit 1."""

from __future__ import annotations

import pandas as pd

DEFAULT_MIN_DELTA = 0.005


def regressions(tasks: pd.DataFrame, alpha: float, min_delta: float = DEFAULT_MIN_DELTA) -> pd.DataFrame:
    """The rows of ``tasks`` (a diff's per-task table) where B is significantly worse than A after
    Holm over the tasks (``p_holm < alpha``) and by more than ``min_delta`` (``delta < -min_delta``)."""
    return tasks[(tasks["p_holm"] < alpha) & (tasks["delta"] < -min_delta)]
