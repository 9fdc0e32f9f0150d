"""What changed between two runs, task by task: the paired test of ``compare``, Holm over tasks.

A is the baseline; every delta is ``score_B - score_A``. Per task the delta, its interval and
raw p-value are exactly those of :func:`harness.stats.compare` for the same pair (same
resamples: each task's stream is (seed, task name)); this module only orients them (B minus A),
adjusts the p-values with Holm over the tasks compared, and reads a verdict from them.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from harness.errors import HarnessError
from harness.plugins import suggest
from harness.stats import compare
from harness.stats.within import holm
from harness.store import StoredResult

LABELS = ("A", "B")  # the two sides, as the pair is named inside compare()
POWER = 0.8  # the power at which the minimum detectable effect is quoted
TASK_COLUMNS = ["task", "task_type", "n_items", "score_a", "score_b", "delta", "ci_low", "ci_high", "p_value",
                "p_holm", "verdict", "mde", "test"]


class DiffError(HarnessError):
    """A bad diff request: an unknown model or task, or nothing the two runs can be compared on."""


def stored_names(name: str) -> list[str]:
    """The names a model's results may be stored under, for ``name`` as ``run`` accepts it
    (without building the model).

    ``name`` itself (a hub id, a stored name); an alias' record name (``minilm-l6``); ``ARG`` of
    ``KIND:ARG``; ``harness/KIND`` for a bare adapter kind (``bm25``, ``random``). A sweep suffix
    (``@dim=128``) is kept.
    """
    from harness.models.registry import ADAPTERS, find_alias

    base, at, suffix = name.partition("@")
    kind, sep, arg = base.partition(":")
    names = [base]
    alias = find_alias(base)
    if alias is not None and alias.records:
        names.append(alias.records)
    elif sep and kind in ADAPTERS:
        names.append(arg)
    elif base in ADAPTERS:
        names.append(f"harness/{base}")
    return [n + at + suffix for n in names]


def select(results: Iterable[StoredResult], name: str) -> dict[str, StoredResult]:
    """task -> the result of the model ``name`` (``NAME#REVISION`` picks a revision).

    Raises:
        DiffError: no result for it, or two revisions of it on one task and none named.
    """
    model, _, revision = name.partition("#")
    results = list(results)
    wanted = stored_names(model)
    mine = [r for r in results if r.model_name in wanted and (not revision or r.revision == revision)]
    if not mine:
        known = sorted({r.model_name for r in results})
        where = f" revision {revision}" if revision else ""
        raise DiffError(f"unknown model {name}: no stored result of {' or '.join(dict.fromkeys(wanted))}{where}"
                        f"{suggest(model, known) or ' (the results hold ' + (', '.join(known[:8]) or 'nothing') + ')'}")
    by_task: dict[str, list[StoredResult]] = defaultdict(list)
    for result in mine:
        by_task[result.task_name].append(result)
    for task, found in by_task.items():
        if len(found) > 1:
            revisions = ", ".join(sorted(r.revision for r in found))
            raise DiffError(f"{name} has results of several revisions on {task} ({revisions}); name one as {model}#REVISION")
    return {task: found[0] for task, found in sorted(by_task.items())}


def relabel(result: StoredResult, label: str) -> StoredResult:
    """The same result under the model name ``label`` (its files are untouched)."""
    harness = result.data.harness
    block = harness.model_copy(update={"model": {**harness.model, "name": label}})
    return dataclasses.replace(result, data=result.data.model_copy(update={"harness": block}))


def common_tasks(a: dict[str, StoredResult], b: dict[str, StoredResult], names: tuple[str, str],
                 tasks: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """(tasks both have, with per-item data on both sides; one line per task skipped).

    Raises:
        DiffError: an asked-for task that one side lacks, or no task left.
    """
    shared = sorted(set(a) & set(b))
    if tasks is not None:
        missing = [f"{t} (no result of {', '.join(n for n, side in zip(names, (a, b)) if t not in side)})"
                   for t in tasks if t not in shared]
        if missing:
            raise DiffError(f"--tasks: {'; '.join(missing)}")
        shared = [t for t in shared if t in set(tasks)]
    if not shared:
        raise DiffError(f"{names[0]} and {names[1]} have no task in common "
                        f"({names[0]}: {', '.join(a) or 'none'}; {names[1]}: {', '.join(b) or 'none'})")
    lacking = {t: [n for n, side in zip(names, (a, b)) if not side[t].data.harness.items_file] for t in shared}
    skipped = [f"{t}: skipped, no per-item data for {', '.join(who)} (imported result)" for t, who in lacking.items() if who]
    return [t for t in shared if not lacking[t]], skipped


def mde(ci_low: np.ndarray, ci_high: np.ndarray, alpha: float, n_tests: int) -> np.ndarray:
    """The smallest |delta| found with probability :data:`POWER` at the strictest Holm level
    ``alpha / n_tests``, from the standard error the paired interval implies
    (``(ci_high - ci_low) / (2 z_{1 - alpha/2})``, a normal approximation)."""
    se = (np.asarray(ci_high) - np.asarray(ci_low)) / (2 * norm.ppf(1 - alpha / 2))
    return (norm.ppf(1 - alpha / (2 * max(n_tests, 1))) + norm.ppf(POWER)) * se


def verdicts(delta: np.ndarray, p_holm: np.ndarray, alpha: float) -> np.ndarray:
    """``better`` / ``worse`` (B vs A) where the Holm-adjusted p is below ``alpha``, else ``no change``."""
    significant = (np.asarray(p_holm) < alpha) & (np.asarray(delta) != 0)
    return np.where(significant, np.where(np.asarray(delta) > 0, "better", "worse"), "no change")


def paired_tasks(a: dict[str, StoredResult], b: dict[str, StoredResult], tasks: list[str], *, n_resamples: int,
                 seed: int, alpha: float) -> tuple[pd.DataFrame, dict[str, float | int], list[str]]:
    """Per-task table (:data:`TASK_COLUMNS`), the test over tasks, and notes.

    Runs :func:`harness.stats.compare` on the pair (relabelled A and B) and orients its rows.
    """
    chosen = [relabel(a[t], LABELS[0]) for t in tasks] + [relabel(b[t], LABELS[1]) for t in tasks]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # what it warns about is in its notes
        comparison = compare(chosen, n_resamples=n_resamples, seed=seed, alpha=alpha)
    notes = [n for n in comparison.notes if not n.startswith("rank statistics")]
    pairs = comparison.pairs
    flip = (pairs["model_a"] == LABELS[0]).to_numpy()  # compare puts the better model first
    sign = np.where(flip, -1.0, 1.0)
    frame = pd.DataFrame({
        "task": pairs["task"].to_numpy(),
        "score_a": np.where(flip, pairs["score_a"], pairs["score_b"]),
        "score_b": np.where(flip, pairs["score_b"], pairs["score_a"]),
        "delta": sign * pairs["delta"].to_numpy() + 0.0,  # + 0.0: no -0.0 where nothing changed
        "ci_low": np.where(flip, -pairs["ci_high"], pairs["ci_low"]) + 0.0,
        "ci_high": np.where(flip, -pairs["ci_low"], pairs["ci_high"]) + 0.0,
        "p_value": pairs["p_value"].to_numpy(), "test": pairs["test"].to_numpy(), "n_items": pairs["n_items"].to_numpy(),
    })
    frame["task_type"] = [str(a[t].data.harness.task.get("type")) for t in frame["task"]]
    frame["p_holm"] = holm(frame["p_value"].to_numpy())
    frame["verdict"] = verdicts(frame["delta"].to_numpy(), frame["p_holm"].to_numpy(), alpha)
    frame["mde"] = mde(frame["ci_low"].to_numpy(), frame["ci_high"].to_numpy(), alpha, len(frame))
    return frame[TASK_COLUMNS], across_tasks(comparison.posthoc, frame), notes


def across_tasks(posthoc: pd.DataFrame, frame: pd.DataFrame) -> dict[str, float | int]:
    """Mean delta, wins and losses, and ``compare``'s Wilcoxon signed-rank test over the tasks."""
    p = float(posthoc["wilcoxon_p"].iloc[0]) if len(posthoc) else float("nan")
    return {
        "n_tasks": len(frame), "mean_delta": float(frame["delta"].mean()) if len(frame) else float("nan"),
        "better": int((frame["verdict"] == "better").sum()), "worse": int((frame["verdict"] == "worse").sum()),
        "wilcoxon_p": p,
    }
