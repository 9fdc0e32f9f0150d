"""Significance tiers for the leaderboard's columns, from a :class:`~harness.stats.Comparison`.

Three kinds of column, three sources (all stated on the page):

* **Overall rank**: :mod:`harness.stats.board` (paired bootstrap over tasks, every complete row,
  published ones included; see ``harness.leaderboard.ranking``).
* **Mean columns** of rows run here: the per-task paired intervals combined, as for a type below.
* **One task**: the task's own tiers (paired bootstrap / sign-flip tests, Holm), as computed by
  ``harness.stats``.
* **One task type with several tasks**: the type mean's paired differences, combined from the
  per-task paired intervals: each task's difference is independent of the others' (own items,
  own random stream), so ``var(mean delta) = sum(se_t^2) / T^2`` with ``se_t`` read from the
  task's 95% percentile interval (normal approximation); two-sided z-test, Holm over all pairs,
  then the same step-down as within a task. With one task of the type, the task's tiers.

Also the per-suite means with a bootstrap over the suite's tasks (paired across models).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd


def _z(alpha: float) -> float:
    return NormalDist().inv_cdf(1 - alpha / 2)


def task_tiers(comparison: Any) -> dict[str, dict[str, int]]:
    """task -> model -> tier (models with per-item data only)."""
    out: dict[str, dict[str, int]] = {}
    frame = comparison.intervals.dropna(subset=["tier"])
    for task, model, tier in frame[["task", "model", "tier"]].itertuples(index=False):
        out.setdefault(task, {})[model] = int(tier)
    return out


class PairVariances:
    """Variance of every tested pair's score difference, per task: float (M, M, T), NaN if untested.

    Read from the comparison's paired 95% percentile intervals (normal approximation); built
    once per comparison and shared by every mean column.
    """

    def __init__(self, comparison: Any) -> None:
        self.models = pd.Index(sorted(set(comparison.intervals["model"])))
        self.tasks = pd.Index(list(dict.fromkeys(comparison.intervals["task"])))
        pairs = comparison.pairs
        a, b = self.models.get_indexer(pairs["model_a"]), self.models.get_indexer(pairs["model_b"])
        t = self.tasks.get_indexer(pairs["task"])
        variance = (((pairs["ci_high"] - pairs["ci_low"]) / (2 * _z(comparison.method["alpha"]))) ** 2).to_numpy(float)
        self.values = np.full((len(self.models), len(self.models), len(self.tasks)), np.nan)
        self.values[a, b, t] = variance
        self.values[b, a, t] = variance

    def of(self, models: Sequence[str], tasks: Sequence[str]) -> np.ndarray:
        m, t = self.models.get_indexer(list(models)), self.tasks.get_indexer(list(tasks))
        return self.values[np.ix_(m, m, t)]


def combined_tiers(comparison: Any, tasks: Sequence[str], weights: Sequence[float] | None = None,
                   variances: PairVariances | None = None) -> dict[str, int]:
    """model -> tier of the weighted mean over ``tasks`` (module docstring); models need every task.

    Args:
        weights: one per task (default: equal, the plain mean); Mean (TaskType) weighs each task
            ``1 / (n_types * n_tasks_of_its_type)``.
        variances: :class:`PairVariances` of the comparison (built here when None).
    """
    from harness.stats.within import holm, tiers

    alpha = comparison.method["alpha"]
    if len(tasks) == 1:
        return task_tiers(comparison).get(tasks[0], {})
    w = np.full(len(tasks), 1 / len(tasks)) if weights is None else np.asarray(weights, dtype=float)
    iv = comparison.intervals[comparison.intervals["task"].isin(tasks) & comparison.intervals["tier"].notna()]
    wide = iv.pivot(index="model", columns="task", values="score").reindex(columns=list(tasks)).dropna()
    if len(wide) < 2:
        return {m: 1 for m in wide.index}
    models, k = list(wide.index), len(wide)
    variances = variances or PairVariances(comparison)
    scores = wide.to_numpy() @ w
    delta = scores[:, None] - scores[None, :]
    spread = np.sqrt(np.einsum("ijt,t->ij", variances.of(models, tasks), w ** 2))  # NaN where a pair was not tested
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.abs(delta) / spread
    p_raw = np.where(spread > 0, 2 * (1 - _normal_cdf(stat)), np.where(delta == 0, 1.0, 0.0))
    p_raw = np.where(np.isnan(spread), 1.0, p_raw)  # never separated without a test
    np.fill_diagonal(p_raw, 1.0)
    upper = np.triu_indices(k, 1)
    p_adj = np.ones((k, k))
    p_adj[upper] = holm(p_raw[upper])
    p_adj.T[upper] = p_adj[upper]
    tier = tiers(scores, p_raw, alpha, p_adj)
    return {m: int(t) for m, t in zip(models, tier)}


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return ndtr(np.nan_to_num(x, nan=0.0, posinf=np.inf))


def restrict(comparison: Any, types: Mapping[str, str]) -> Any:
    """The comparison over a subset of its tasks (``types``: task -> type of each kept task).

    Within-task tables are filtered (each task has its own random stream, so they are what a
    comparison of the subset would give); the across-task tables are recomputed on the subset
    with the comparison's resample count and seed, as ``harness.stats.compare`` computes them.
    """
    from harness.stats import across
    from harness.stats.tables import SUMMARY_COLUMNS, Comparison

    keep = comparison.intervals["task"].isin(list(types))
    if keep.all():
        return comparison
    intervals = comparison.intervals[keep].reset_index(drop=True)
    pairs = comparison.pairs[comparison.pairs["task"].isin(list(types))].reset_index(drop=True)
    method = comparison.method
    notes = [n for n in comparison.notes if n.split(":", 1)[0] in types]
    scores = intervals[["task", "model", "score"]].assign(task_type=intervals["task"].map(types))
    matrix, left_out = across.complete_block(scores)
    if left_out:
        notes.append(f"rank statistics use the {len(matrix)} tasks every model has; "
                     f"left out (missing results): {', '.join(left_out)}")
    ranks = across.rank_bootstrap(matrix, np.random.default_rng([method["seed"], 1]), method["n_resamples"],
                                  method["alpha"])
    summary = across.mteb_aggregates(scores).merge(ranks, on="model", how="left")
    summary["n_tasks"] = summary["model"].map(scores.groupby("model")["task"].nunique())
    summary = summary[[*SUMMARY_COLUMNS, "n_tasks"]].sort_values(["borda_rank", "model"], ignore_index=True)
    return Comparison(pairs, intervals, summary, across.friedman(matrix, method["alpha"]),
                      across.posthoc(matrix, method["alpha"]), method, notes)


class ScoreErrors:
    """Standard error of each (model, task) score, from its percentile interval (normal approximation)."""

    def __init__(self, comparison: Any) -> None:
        iv = comparison.intervals
        self.alpha = comparison.method["alpha"]
        self.model = {m: i for i, m in enumerate(dict.fromkeys(iv["model"]))}
        self.task = {t: j for j, t in enumerate(dict.fromkeys(iv["task"]))}
        self.values = np.full((len(self.model), len(self.task)), np.nan)
        rows = [self.model[m] for m in iv["model"]]
        cols = [self.task[t] for t in iv["task"]]
        self.values[rows, cols] = ((iv["ci_high"] - iv["ci_low"]) / (2 * _z(self.alpha))).to_numpy(float)

    def interval(self, mean: float, model: str, tasks: Sequence[str],
                 weights: Sequence[float] | None = None) -> tuple[float, float] | None:
        """Approximate 95% interval of ``model``'s (weighted) mean over ``tasks`` (independent
        tasks); None when a task has no interval."""
        if model not in self.model or any(t not in self.task for t in tasks):
            return None
        values = self.values[self.model[model], [self.task[t] for t in tasks]]
        if np.isnan(values).any():
            return None
        w = np.full(len(tasks), 1 / len(tasks)) if weights is None else np.asarray(weights, dtype=float)
        half = _z(self.alpha) * float(np.sqrt(np.sum((w * values) ** 2)))
        return mean - half, mean + half


def suite_table(scores: pd.DataFrame, suites: Mapping[str, Sequence[str]], *, n_resamples: int = 2000,
                seed: int = 0, alpha: float = 0.05) -> list[dict[str, Any]]:
    """Per (suite, model): mean over the suite's tasks, its bootstrap interval over tasks, rank.

    Args:
        scores: long table (task, model, score) of run results.
        suites: suite -> its task names.

    Returns:
        One dict per (suite, model with every task of the suite): ``suite, model, mean, ci_low,
        ci_high, rank`` (1 = best mean), ``rank_ci_low``, ``rank_ci_high``, ``n_tasks``.
    """
    rows: list[dict[str, Any]] = []
    for s_index, (suite, tasks) in enumerate(suites.items()):
        wide = scores[scores["task"].isin(tasks)].pivot(index="task", columns="model", values="score")
        wide = wide.dropna(axis=1) if len(wide) else wide
        if wide.empty:
            continue
        values = wide.to_numpy()  # (T, M)
        rng = np.random.default_rng([seed, 2, s_index])
        draws = rng.integers(0, len(values), size=(n_resamples, len(values)))
        means = values[draws].mean(axis=1)  # (R, M), the same tasks for every model
        ranks = (-means).argsort(axis=1).argsort(axis=1) + 1
        low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2], axis=0)
        r_low, r_high = np.quantile(ranks, [alpha / 2, 1 - alpha / 2], axis=0, method="inverted_cdf")
        observed = values.mean(axis=0)
        order = (-observed).argsort().argsort() + 1
        for j, model in enumerate(wide.columns):
            rows.append({"suite": suite, "model": model, "mean": float(observed[j]), "ci_low": float(low[j]),
                         "ci_high": float(high[j]), "rank": int(order[j]), "rank_ci_low": int(r_low[j]),
                         "rank_ci_high": int(r_high[j]), "n_tasks": len(values)})
    return rows


def suite_verdict(rows: list[dict[str, Any]], suites: Sequence[str]) -> list[str]:
    """Plain sentences: does the general leader stay on top in the other suites? (rank correlation)"""
    from scipy.stats import spearmanr

    by_suite = {s: {r["model"]: r for r in rows if r["suite"] == s} for s in suites}
    present = [s for s in suites if by_suite[s]]
    if len(present) < 2:
        return []
    first, lines = present[0], []
    leader = min(by_suite[first].values(), key=lambda r: r["rank"])["model"]
    for other in present[1:]:
        common = sorted(set(by_suite[first]) & set(by_suite[other]))
        top = min(by_suite[other].values(), key=lambda r: r["rank"])["model"]
        row = by_suite[other].get(leader)
        where = (f"ranks {row['rank']} of {len(by_suite[other])} there (95% interval {row['rank_ci_low']}–"
                 f"{row['rank_ci_high']})" if row else "has no complete result there")
        text = f"{first} leader {leader} {where}; {other} leader: {top}."
        if len(common) >= 3:
            rho = spearmanr([by_suite[first][m]["mean"] for m in common], [by_suite[other][m]["mean"] for m in common])
            text += f" Rank correlation of the {len(common)} common models: Spearman ρ = {rho.statistic:.2f}."
        moved = [m for m in common if abs(by_suite[first][m]["rank"] - by_suite[other][m]["rank"]) >= 2]
        text += (f" {len(moved)} model(s) move by 2 or more places." if moved else " No model moves by 2 or more places.")
        if top == leader:
            verdict = f"{leader} leads both: no sign that a domain-specific model is needed"
        elif row and row["rank_ci_low"] == 1:
            verdict = (f"the leaders differ, but {leader}'s rank interval in {other} includes 1: "
                       "weak evidence for a domain-specific choice")
        else:
            verdict = f"the {first} leader is not among the best in {other}: choose with the {other} suite"
        lines.append(f"{text} Verdict: {verdict}.")
    return lines
