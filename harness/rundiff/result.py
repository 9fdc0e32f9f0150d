"""``harness.diff`` (package ``harness.rundiff``: ``harness.diff`` names the function): the entry point and its result."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from harness.rundiff import compute, gate
from harness.rundiff.items import MovedItems, moved_items
from harness.rundiff.texts import as_dict

DEFAULT_TOP = 5


@dataclass
class DiffResult:
    """How B compares with A (the baseline), task by task.

    Attributes:
        a, b: the names as given; model_a, model_b: the stored model names they resolved to.
        tasks: one row per task compared, columns :data:`harness.rundiff.compute.TASK_COLUMNS`
            (``delta = score_b - score_a``; ``verdict`` one of better, worse, no change) and the
            gate's ``p_experiments``, ``p_gate``, ``p_gate_holm`` (:mod:`harness.rundiff.gate`).
        across: the test over tasks (mean delta, counts, Wilcoxon signed-rank p).
        moved: task -> its largest per-item losses and gains.
        skipped, notes: one line per task left out, and per remark of the statistics.
    """

    a: str
    b: str
    model_a: str
    model_b: str
    tasks: pd.DataFrame
    across: dict[str, Any]
    moved: dict[str, MovedItems]
    skipped: list[str]
    notes: list[str]
    alpha: float
    min_delta: float
    method: dict[str, Any] = field(default_factory=dict)

    @property
    def regressions(self) -> list[str]:
        """Tasks significantly worse after Holm by more than ``min_delta`` (the gate's failures)."""
        return gate.regressions(self.tasks, self.alpha, self.min_delta)["task"].tolist()

    @property
    def failed(self) -> bool:
        """Whether ``--fail-on-regression`` exits 1."""
        return bool(self.regressions)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN -> None)."""
        tasks = []
        for row in self.tasks.to_dict("records"):
            moved = self.moved.get(row["task"])
            if moved is not None:
                row["items"] = {"measure": moved.measure, "note": moved.note, "losses": [as_dict(i) for i in moved.losses],
                                "gains": [as_dict(i) for i in moved.gains]}
            tasks.append(row)
        return _finite({
            "a": self.a, "b": self.b, "model_a": self.model_a, "model_b": self.model_b, "alpha": self.alpha,
            "min_delta": self.min_delta, "tasks": tasks, "across": self.across, "regressions": self.regressions,
            "failed": self.failed, "skipped": self.skipped, "notes": self.notes, "method": self.method,
        })

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False, default=_plain)

    def to_table(self) -> str:
        from harness.rundiff.render import terminal

        return terminal(self)

    def write_html(self, out_dir: str | Path) -> Path:
        """``<out_dir>/diff.html``, one self-contained page; returns its path."""
        from harness.rundiff.render import write_html

        return write_html(self, Path(out_dir))


def _plain(value: Any) -> Any:
    """numpy scalars -> Python (json's fallback)."""
    return value.item()


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value


def diff_results(results: Sequence[Any], a: str, b: str, *, tasks: Sequence[str] | None = None, n_resamples: int = 10_000,
                 seed: int = 0, alpha: float = 0.05, min_delta: float = gate.DEFAULT_MIN_DELTA, top: int = DEFAULT_TOP,
                 data_dir: str | Path | None = None) -> DiffResult:
    """:func:`diff` on results already read (``harness.store.iter_results``)."""
    if not 0 < alpha < 1:
        raise compute.DiffError(f"--alpha must be between 0 and 1, not {alpha}")
    if min_delta < 0 or top < 0:
        raise compute.DiffError(f"--min-delta and --top must not be negative ({min_delta}, {top})")
    side_a, side_b = compute.select(results, a), compute.select(results, b)
    kept, skipped = compute.common_tasks(side_a, side_b, (a, b), tasks)
    if not kept:
        raise compute.DiffError(f"no task left to compare: {'; '.join(skipped)}")
    frame, across, notes = compute.paired_tasks(side_a, side_b, kept, n_resamples=n_resamples, seed=seed, alpha=alpha)
    if frame.empty:
        raise compute.DiffError(f"no task could be compared: {'; '.join(notes) or 'no paired items'}")
    frame = gate.add_gate_columns(frame, side_a, side_b, seed=seed, n_resamples=n_resamples)
    root = Path(data_dir) if data_dir else None
    moved = {t: moved_items(side_a[t], side_b[t], top=top, data_dir=root) for t in frame["task"]} if top else {}
    method = {
        "n_resamples": n_resamples, "seed": seed, "alpha": alpha, "min_delta": min_delta,
        "per_task": "harness.stats.compare's paired test of the pair (sign-flip for means of items, centred paired "
                    "bootstrap for correlations and AP), same resamples; delta = B - A; percentile interval",
        "p_holm": "Holm-Bonferroni over the tasks compared",
        "verdict": "better / worse where p_holm < alpha, else no change",
        "mde": f"|delta| detected with {compute.POWER:.0%} power at alpha / n_tasks, SE from the interval's width",
        "across": "Wilcoxon signed-rank test of the per-task deltas (harness.stats.compare's post-hoc)",
        "gate": "fails when some task has p_gate_holm < alpha and delta < -min_delta; p_gate is p_value, or for tasks "
                "with repeated experiments (classification) the larger of it and p_experiments, a permutation test of "
                "the per-experiment scores (seed-to-seed variation); Holm over the tasks",
    }
    return DiffResult(a, b, next(iter(side_a.values())).model_name, next(iter(side_b.values())).model_name,
                      frame.reset_index(drop=True), across, moved, skipped, notes, alpha, min_delta, method)


def diff(a: str, b: str, *, results_dir: str | Path = "results", tasks: Sequence[str] | None = None,
         n_resamples: int = 10_000, seed: int = 0, alpha: float = 0.05, min_delta: float = gate.DEFAULT_MIN_DELTA,
         top: int = DEFAULT_TOP, data_dir: str | Path | None = None) -> DiffResult:
    """How model B compares with the baseline A on the tasks both have in ``results_dir``.

    Args:
        a, b: models as ``run`` names them (an alias such as ``minilm-l6``, a hub id, a stored name,
            with a sweep suffix such as ``@quantize=binary``); ``NAME#REVISION`` picks a revision.
        tasks: only these tasks (each must be stored for both).
        n_resamples, seed: resamples of each task's paired test (as ``harness.compare``).
        alpha: significance level after Holm over the tasks, and 1 - the intervals' level.
        min_delta: the smallest loss the gate counts (``result.failed``).
        top: items listed per task for the largest losses and for the largest gains (0: none).
        data_dir: root of the tasks' local data (for the items' texts).

    Returns:
        A :class:`DiffResult`; ``result.failed`` is the gate of ``diff --fail-on-regression``.

    Raises:
        DiffError: an unknown model or task, no task in common, or none with per-item data.
    """
    from harness.store import iter_results

    if not Path(results_dir).is_dir():
        raise compute.DiffError(f"--results: {results_dir} is not a folder")
    return diff_results(list(iter_results(Path(results_dir))), a, b, tasks=tasks, n_resamples=n_resamples, seed=seed,
                        alpha=alpha, min_delta=min_delta, top=top, data_dir=data_dir)
