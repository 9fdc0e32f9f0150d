"""The one entry point: :func:`compare` a set of stored results, within and across tasks."""

from __future__ import annotations

import difflib
import json
import math
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harness.errors import HarnessError
from harness.stats import across, cd, within
from harness.stats.items import UnpairedItems, UnsupportedScore, task_statistic
from harness.store import StoredResult

PAIR_COLUMNS = ["task", "model_a", "model_b", "score_a", "score_b", "delta", "ci_low", "ci_high", "p_value", "p_holm", "significant"]
INTERVAL_COLUMNS = ["task", "model", "score", "ci_low", "ci_high", "n_items", "tier"]
SUMMARY_COLUMNS = ["model", "mean_task", "mean_task_type", "borda_rank", "mean_rank", "p_first", "rank_ci_low", "rank_ci_high"]
SCORE_TOLERANCE = 1e-6  # items must reproduce the stored main score this closely


class StatsError(HarnessError):
    """The comparison was asked for something the results cannot give (unknown name, clash)."""


@dataclass
class Comparison:
    """Everything :func:`compare` found. Every table records its method in :attr:`method`.

    Attributes:
        pairs: one row per compared pair within a task: ``task, model_a, model_b, score_a,
            score_b, delta, ci_low, ci_high, p_value, p_holm, significant`` then ``test``
            ("sign-flip" / "bootstrap") and ``n_items``. ``model_a`` scores at least
            ``model_b``, so ``delta = score_a - score_b >= 0``.
        intervals: one row per (task, model): ``task, model, score, ci_low, ci_high, n_items,
            tier``; no per-item data: NaN interval, ``n_items`` 0, no tier.
        summary: one row per model across tasks: ``model, mean_task, mean_task_type,
            borda_rank, mean_rank, p_first, rank_ci_low, rank_ci_high, n_tasks``.
        friedman: one row: ``statistic, p, n_tasks, n_models, nemenyi_cd``.
        posthoc: one row per pair of models across tasks (see :func:`across.posthoc`).
        method: method names, resample count, seed, alpha, policies.
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
            test: "wilcoxon" (bars from Holm-adjusted Wilcoxon p-values, Benavoli et al. 2016)
                or "nemenyi" (Nemenyi p-values, with the critical difference drawn).
        """
        if test not in ("wilcoxon", "nemenyi"):
            raise StatsError(f"test must be 'wilcoxon' or 'nemenyi', not {test!r}")
        if self.posthoc.empty:
            raise StatsError("a critical-difference diagram needs two models and one task they all have")
        column = "wilcoxon_p_holm" if test == "wilcoxon" else "nemenyi_p"
        ranks = self.summary.set_index("model")["mean_rank"].dropna()
        friedman = self.friedman.iloc[0]
        title = (f"{'Wilcoxon signed-rank + Holm' if test == 'wilcoxon' else 'Nemenyi'}, alpha = {self.method['alpha']}, "
                 f"{int(friedman['n_tasks'])} tasks; Friedman p = {friedman['p']:.3g}")
        cd_value = float(friedman["nemenyi_cd"]) if test == "nemenyi" else None
        return cd.cd_svg(ranks, cd.p_matrix(self.posthoc, column), alpha=self.method["alpha"], cd=cd_value, title=title)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: method, notes, and each table as a list of row objects (NaN -> None)."""

        def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]

        return {
            "method": self.method,
            "notes": list(self.notes),
            "pairs": rows(self.pairs[PAIR_COLUMNS]),
            "intervals": rows(self.intervals),
            "summary": rows(self.summary),
            "friedman": rows(self.friedman)[0],
            "posthoc": rows(self.posthoc),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text (strict: no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


def _plain(value: Any) -> Any:
    """Python scalar for JSON: numpy scalars unwrapped, NaN/NA -> None."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value


def _select(results: Sequence[StoredResult], names: Sequence[str] | None, what: str, key: Any) -> list[StoredResult]:
    if names is None:
        return list(results)
    known = sorted({key(r) for r in results})
    unknown = [n for n in names if n not in known]
    if unknown:
        hints = [f"{n} (did you mean {', '.join(close)}?)" if (close := difflib.get_close_matches(n, known, 3)) else n for n in unknown]
        raise StatsError(f"unknown {what}: {'; '.join(hints)}; the results have {', '.join(known) or 'none'}")
    return [r for r in results if key(r) in set(names)]


def _by_task(results: Sequence[StoredResult]) -> dict[str, dict[str, StoredResult]]:
    table: dict[str, dict[str, StoredResult]] = {}
    for result in results:
        by_model = table.setdefault(result.task_name, {})
        if result.model_name in by_model:
            paths = sorted(str(r.path) for r in (by_model[result.model_name], result))
            raise StatsError(f"two results for {result.model_name} on {result.task_name} ({' and '.join(paths)}); select one revision")
        by_model[result.model_name] = result
    return {task: dict(sorted(table[task].items())) for task in sorted(table)}


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame(columns=[*PAIR_COLUMNS, "test", "n_items"])


def _task_rng(seed: int, task: str) -> np.random.Generator:
    """The task's own stream: its draws do not depend on which other tasks are compared."""
    return np.random.default_rng([seed, 0, zlib.crc32(task.encode("utf-8"))])


def _compare_task(task: str, by_model: dict[str, StoredResult], options: dict[str, Any], notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairs and intervals rows of one task (see :class:`Comparison`)."""
    items = {model: result.items() for model, result in by_model.items()}
    paired = [m for m in by_model if items[m]]
    intervals = pd.DataFrame({"task": task, "model": list(by_model), "score": [r.main_score for r in by_model.values()],
                              "ci_low": np.nan, "ci_high": np.nan, "n_items": 0, "tier": pd.NA}).set_index("model", drop=False)
    unpaired = [m for m in by_model if m not in paired]
    if unpaired:
        notes.append(f"{task}: no per-item data for {', '.join(unpaired)} (imported); left out of its significance tests")
    empty = _empty_pairs()
    if not paired:
        return empty, intervals
    first = by_model[paired[0]]
    try:
        if len({by_model[m].data.harness.main_score_name for m in paired}) > 1:
            raise UnpairedItems("the models report different main scores")
        stat = task_statistic(str(first.data.harness.task.get("type")), first.data.harness.main_score_name,
                              next(iter(first.data.scores)), [items[m] for m in paired])
    except (UnpairedItems, UnsupportedScore) as err:
        warnings.warn(f"{task}: {err}; no significance tests for this task", stacklevel=3)
        notes.append(f"{task}: {err}; no significance tests for this task")
        return empty, intervals
    pairs, per_model = within.compare_task(stat, _task_rng(options["seed"], task), n_resamples=options["n_resamples"],
                                           alpha=options["alpha"], against=options["against"])
    stored = intervals.loc[paired, "score"].to_numpy()
    if np.abs(per_model["score"] - stored).max() > SCORE_TOLERANCE:
        notes.append(f"{task}: the per-item data reproduce the stored main scores only to {np.abs(per_model['score'] - stored).max():.2g}")
    intervals.loc[paired, ["score", "ci_low", "ci_high"]] = np.column_stack([per_model["score"], per_model["ci_low"], per_model["ci_high"]])
    intervals.loc[paired, "n_items"] = stat.n_items
    intervals.loc[paired, "tier"] = per_model["tier"]
    names, score = np.array(paired), per_model["score"]
    frame = pd.DataFrame({"task": task, "model_a": names[pairs["a"]], "model_b": names[pairs["b"]],
                          "score_a": score[pairs["a"]], "score_b": score[pairs["b"]], "delta": pairs["delta"],
                          "ci_low": pairs["ci_low"], "ci_high": pairs["ci_high"], "p_value": pairs["p_value"],
                          "p_holm": pairs["p_holm"], "significant": pairs["p_holm"] < options["alpha"],
                          "test": pairs["test"], "n_items": stat.n_items})
    return frame, intervals


def compare(
    results: Sequence[StoredResult],
    *,
    models: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    n_resamples: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    against: str = "all",
) -> Comparison:
    """Compare models within each task (paired resampling) and across tasks (ranks).

    Args:
        results: stored results (``harness.store.iter_results``), one per (model, task).
        models, tasks: names to keep (default: all); an unknown name is an error.
        n_resamples: bootstrap resamples and sign-flip draws per task, and task resamples for
            the rank bootstrap (at least 99).
        seed: seeds every draw; each task has its own stream (seed, task name).
        alpha: significance level; intervals are ``1 - alpha`` two-sided.
        against: "all" (every pair of models per task) or "leader" (each model against the
            task's best); the Holm family is the comparisons made within one task.

    Returns:
        A :class:`Comparison`.
    """
    if against not in ("all", "leader"):
        raise StatsError(f"against must be 'all' or 'leader', not {against!r}")
    if not 0 < alpha < 1:
        raise StatsError(f"alpha must be between 0 and 1, not {alpha}")
    if n_resamples < 99:
        raise StatsError(f"n_resamples must be at least 99, not {n_resamples}")
    from threadpoolctl import threadpool_limits

    chosen = _select(_select(results, models, "model", lambda r: r.model_name), tasks, "task", lambda r: r.task_name)
    if not chosen:
        raise StatsError("no results to compare")
    options = {"seed": seed, "n_resamples": n_resamples, "alpha": alpha, "against": against}
    notes: list[str] = []
    pair_frames, interval_frames, scores = [], [], []
    # the resampling matmuls are skinny; threading them in BLAS costs more than it saves
    with threadpool_limits(1, user_api="blas"):
        for task, by_model in _by_task(chosen).items():
            pairs, intervals = _compare_task(task, by_model, options, notes)
            pair_frames.append(pairs)
            interval_frames.append(intervals.reset_index(drop=True))
            task_type = str(next(iter(by_model.values())).data.harness.task.get("type"))
            scores += [{"task": task, "task_type": task_type, "model": m, "score": r.main_score} for m, r in by_model.items()]
        summary, friedman, posthoc = _across(pd.DataFrame(scores), seed, n_resamples, alpha, notes)
    non_empty = [f for f in pair_frames if len(f)]
    pairs = pd.concat(non_empty, ignore_index=True) if non_empty else _empty_pairs()
    intervals = pd.concat(interval_frames, ignore_index=True)[INTERVAL_COLUMNS].astype({"n_items": int, "tier": "Int64"})
    return Comparison(pairs, intervals, summary, friedman, posthoc, _method(options), notes)


def _across(scores: pd.DataFrame, seed: int, n_resamples: int, alpha: float, notes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    matrix, left_out = across.complete_block(scores)
    if left_out:
        notes.append(f"rank statistics use the {len(matrix)} tasks every model has; left out (missing results): {', '.join(left_out)}")
    ranks = across.rank_bootstrap(matrix, np.random.default_rng([seed, 1]), n_resamples, alpha)
    summary = across.mteb_aggregates(scores).merge(ranks, on="model", how="left")
    summary["n_tasks"] = summary["model"].map(scores.groupby("model")["task"].nunique())
    return summary[[*SUMMARY_COLUMNS, "n_tasks"]], across.friedman(matrix, alpha), across.posthoc(matrix, alpha)


def _method(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "n_resamples": options["n_resamples"],
        "seed": options["seed"],
        "alpha": options["alpha"],
        "against": options["against"],
        "interval": "percentile bootstrap over the task's items, paired (same resamples for every model)",
        "pair_test": {
            "sign-flip": "paired sign-flip randomisation test, two-sided (main score a mean of per-item values)",
            "bootstrap": "centred paired bootstrap, two-sided (correlations, average precision)",
        },
        "p_value": "(b + 1) / (R + 1)",
        "multiple_comparisons": f"Holm-Bonferroni within each task over {'all pairs' if options['against'] == 'all' else 'each model vs the leader'}",
        "tiers": "step-down from the leader: not significantly worse (adjusted p >= alpha) than the best remaining model",
        "across": "mteb Mean (Task), Mean (TaskType), Borda; Friedman; Nemenyi; Wilcoxon signed-rank + Holm (Benavoli et al. 2016); "
                  "rank bootstrap over complete tasks",
        "missing": "mean_task / mean_task_type NaN when a task is missing (mteb); Borda counts 0 for it; rank statistics use complete tasks",
    }
