"""The regression gate: which tasks make ``diff --fail-on-regression`` exit 1.

A task fails when B is significantly worse than A after Holm over the tasks, by more than
``min_delta``. "Significantly" uses the per-task test of ``compare`` (items resampled, the
model's vectors and the evaluator's fits held fixed), and, for a task scored by repeated
experiments (classification: each experiment fits a probe on a different seeded sample of the
training set), also a permutation test over the experiments: the paired item test cannot see
seed-to-seed variation, because one experiment's probe moves many items at once, so two runs
that differ only by the seed failed it at about four times the nominal rate (measured in
``tests/test_diff_calibration.py``). The gate's p-value of such a task is the larger of the
two (an intersection-union test, valid under either null); Holm then runs over the tasks.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from harness.stats.within import TIE_TOLERANCE, holm
from harness.store import StoredResult
from harness.tasktypes import get_task_type

DEFAULT_MIN_DELTA = 0.005


def experiment_scores(result: StoredResult) -> np.ndarray | None:
    """float64 (E,): the main score of each repeated experiment, or None for a task without them."""
    harness = result.data.harness
    layout = get_task_type(str(harness.task.get("type"))).item_layout(harness.main_score_name)
    if not layout.over_draws:
        return None
    name, sign = layout.values[0]
    split = next(iter(result.data.scores))
    return sign * np.asarray(result.items()[f"{split}.{name}"], dtype=np.float64).mean(axis=1)


def experiment_p_value(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, n_resamples: int) -> float:
    """Two-sided permutation test that A's and B's experiments share one distribution.

    Statistic ``|mean(b) - mean(a)|``; null draws relabel the pooled experiments at random;
    ``p = (extreme + 1) / (n_resamples + 1)`` as in ``harness.stats.within``.
    """
    pooled = np.concatenate([a, b])
    observed = abs(b.mean() - a.mean())
    shuffled = rng.permuted(np.broadcast_to(pooled, (n_resamples, len(pooled))), axis=1)
    null = np.abs(shuffled[:, len(a):].mean(axis=1) - shuffled[:, : len(a)].mean(axis=1))
    return float((np.count_nonzero(null >= observed * (1 - TIE_TOLERANCE)) + 1) / (n_resamples + 1))


def add_gate_columns(tasks: pd.DataFrame, a: dict[str, StoredResult], b: dict[str, StoredResult], *, seed: int,
                     n_resamples: int) -> pd.DataFrame:
    """``tasks`` with ``p_experiments`` (NaN without repeated experiments), ``p_gate`` (the larger of
    it and ``p_value``) and ``p_gate_holm`` (Holm over the tasks)."""
    p_experiments = []
    for task in tasks["task"]:
        scores_a, scores_b = experiment_scores(a[task]), experiment_scores(b[task])
        rng = np.random.default_rng([seed, 2, zlib.crc32(task.encode("utf-8"))])  # compare uses [seed, 0 | 1, ...]
        p_experiments.append(experiment_p_value(scores_a, scores_b, rng, n_resamples)
                             if scores_a is not None and scores_b is not None else float("nan"))
    tasks = tasks.assign(p_experiments=p_experiments)
    tasks["p_gate"] = np.fmax(tasks["p_value"], tasks["p_experiments"])
    tasks["p_gate_holm"] = holm(tasks["p_gate"].to_numpy())
    return tasks


def regressions(tasks: pd.DataFrame, alpha: float, min_delta: float = DEFAULT_MIN_DELTA) -> pd.DataFrame:
    """The rows of ``tasks`` (with the gate columns) where B is significantly worse than A after Holm
    over the tasks (``p_gate_holm < alpha``) by more than ``min_delta`` (``delta < -min_delta``)."""
    return tasks[(tasks["p_gate_holm"] < alpha) & (tasks["delta"] < -min_delta)]
