"""Plan (model × task) units, skip finished ones, run the rest, hand results to the store.

A unit is: load the task's data, ask its evaluator which texts it needs, embed them through
``harness.encode``, score, write the result. Units are independent, so an interrupted run resumes
by skipping every unit whose result is already complete in the store.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness import __version__
from harness.cache import EmbeddingCache
from harness.data import load_task_data
from harness.breakdown import by_length
from harness.data.types import RetrievalData, TaskData
from harness.encode import encode_groups
from harness.errors import DataUnavailable, HarnessError
from harness.evaluators import get_evaluator
from harness.specs import TaskSpec
from harness.store import RESULT_FORMAT, StoredResult, find_result, read_result, sweep_temp_files, write_result

Status = Literal["done", "resumed", "skipped", "failed"]


@dataclass
class UnitOutcome:
    """What happened to one (model, task) unit."""

    model: str
    task: str
    status: Status
    main_score: float | None = None
    message: str = ""
    result: StoredResult | None = None


@dataclass
class RunSummary:
    outcomes: list[UnitOutcome] = field(default_factory=list)
    interrupted: bool = False

    def count(self, status: Status) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def results(self) -> list[StoredResult]:
        return [o.result for o in self.outcomes if o.result is not None]

    def line(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("done", "resumed", "skipped", "failed") if self.count(s)]
        if self.interrupted:
            return "interrupted: " + (", ".join(parts) or "no unit finished")
        return ", ".join(parts) or "nothing to run"


def _say(message: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(message, file=sys.stderr)


def defined_metrics(metrics: dict[str, float], main_score: str) -> tuple[dict[str, float], list[str]]:
    """Replace undefined metrics (NaN/inf, or a main score the evaluator left out) by 0.0 and name them.

    The one case in practice is a correlation with a constant prediction (e.g. BM25 on word pairs
    that share no word): it carries no information about the gold order, so it scores 0, and the
    result lists it under ``harness.undefined_metrics`` so a reader can tell.
    """
    undefined = sorted({k for k, v in metrics.items() if not math.isfinite(v)} | ({main_score} - set(metrics)))
    return {**{k: float(v) for k, v in metrics.items()}, **dict.fromkeys(undefined, 0.0)}, undefined


def score_unit(
    model: Any, spec: TaskSpec, data: TaskData, *, batch_size: int, cache: EmbeddingCache | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Embed and score one unit.

    Returns:
        (the result document for the store, per-item arrays keyed ``<split>.<name>``).
    """
    began = time.perf_counter()
    evaluator = get_evaluator(spec.type)
    options = spec.evaluator_options()
    groups = evaluator.text_groups(data, options)
    label = f"{model.info.name} · {spec.name}"
    embeddings, stats = encode_groups(model, groups, task=spec, batch_size=batch_size, label=label, cache=cache)
    output = evaluator.evaluate(data, embeddings, options, model.info.similarity)
    split = spec.data.eval_split
    metrics, undefined = defined_metrics(output.metrics, spec.main_score)
    scores = {**metrics, "main_score": metrics[spec.main_score]}
    scores.update(hf_subset=spec.data.hf_subset or "default", languages=list(spec.languages))
    if callable(getattr(model, "describe", None)):  # a sweep variant: its dim and bytes per vector
        model.describe(next(iter(embeddings.values())).shape[1])
    info = model.info.to_dict()
    info["throughput_texts_per_s"] = stats.texts_per_second
    document = {
        "dataset_revision": spec.data.revision or (f"builder:{spec.data.builder}" if spec.data.builder else "local"),
        "task_name": spec.name,
        "mteb_version": RESULT_FORMAT,
        "evaluation_time": time.perf_counter() - began,
        "kg_co2_emissions": None,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "scores": {split: [scores]},
        "harness": {
            "model": info,
            "task": spec.model_dump(mode="json"),
            "main_score_name": spec.main_score,
            "harness_version": __version__,
            "options": options.model_dump(mode="json"),
            "encode": {
                "texts": stats.texts,
                "unique_texts": stats.unique_texts,
                "from_cache": stats.cached,
                "encoded": stats.encoded,
                "seconds": stats.seconds,
                "batch_size": batch_size,
                "long_documents": stats.long_documents or None,
            },
            "undefined_metrics": undefined,
            "items_file": None,
            "items_sha256": None,
        },
    }
    if isinstance(data, RetrievalData):
        document["harness"]["breakdown_by_length"] = by_length(data, output.items, spec.main_score)
    items = {f"{split}.{key}": value for key, value in output.items.items()}
    return document, items


@dataclass
class UnitContext:
    """Everything a unit needs besides its model and task; picklable (for Ray workers).

    The embedding cache is opened lazily in the process that runs the unit: ``cache_dir`` names
    the persistent cache; ``use_cache=False`` keeps vectors in memory for this process only.
    """

    results_dir: Path
    data_root: Path | None = None
    batch_size: int = 32
    cache_dir: Path | None = None
    use_cache: bool = True
    _cache: EmbeddingCache | None = field(default=None, repr=False, compare=False)

    def cache(self) -> EmbeddingCache:
        if self._cache is None:
            from harness.cache import default_cache_dir

            self._cache = EmbeddingCache((self.cache_dir or default_cache_dir()) if self.use_cache else None)
        return self._cache

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cache": None}


def execute_unit(model: Any, spec: TaskSpec, ctx: UnitContext, data: TaskData | None = None) -> UnitOutcome:
    """Load (unless given), embed, score and store one unit; user errors become outcomes.

    The same function runs in the local executor and on a Ray worker.
    """
    name = model.info.name
    try:
        data = data if data is not None else load_task_data(spec, ctx.data_root)
        document, items = score_unit(model, spec, data, batch_size=ctx.batch_size, cache=ctx.cache())
        stored = read_result(write_result(ctx.results_dir, document, items))
    except DataUnavailable as err:
        return UnitOutcome(name, spec.name, "skipped", message=str(err))
    except HarnessError as err:
        return UnitOutcome(name, spec.name, "failed", message=str(err))
    encoded = document["harness"]["encode"]
    message = (
        f"{spec.main_score} = {stored.main_score:.5f} ({stored.data.evaluation_time or 0.0:.1f} s; "
        f"{encoded['encoded']} texts encoded, {encoded['from_cache']} from cache)"
    )
    return UnitOutcome(name, spec.name, "done", stored.main_score, message, stored)


def describe(outcome: UnitOutcome) -> str:
    """One line for a finished unit."""
    if outcome.status == "skipped":
        return f"skipped {outcome.task}: {outcome.message}"
    return f"{outcome.status:<7} {outcome.model} × {outcome.task}: {outcome.message}"


def plan(models: Sequence[Any], tasks: Sequence[TaskSpec], results_dir: Path, overwrite: bool) -> tuple[list[tuple[Any, list[TaskSpec]]], list[UnitOutcome]]:
    """Split the grid into work to do (per model, in order) and units already complete in the store."""
    todo, resumed = [], []
    for model in models:
        pending = []
        for spec in tasks:
            existing = None if overwrite else find_result(results_dir, model.info.name, model.info.revision, spec.name)
            if existing is None:
                pending.append(spec)
            else:
                resumed.append(UnitOutcome(model.info.name, spec.name, "resumed", existing.main_score, "already in the store", existing))
        todo.append((model, pending))
    return todo, resumed


def run(
    models: Sequence[Any],
    tasks: Sequence[TaskSpec],
    ctx: UnitContext,
    *,
    overwrite: bool = False,
    executor: Any = None,
    on_outcome: Callable[[UnitOutcome], None] | None = None,
    verbose: bool = True,
) -> RunSummary:
    """Run every (model, task) unit not already complete in the store.

    Args:
        models: models from ``harness.models.load_model``, each with ``info``.
        tasks: task specs.
        ctx: results dir, data root, batch size, cache settings.
        overwrite: recompute units that already have a complete result.
        executor: runs the units (default: ``LocalExecutor``, models outermost, each loaded once).

    Returns:
        A RunSummary; a Ctrl-C stops the run (no result is half-written) and sets ``interrupted``.
    """
    from harness.executors.local import LocalExecutor

    say = _say if verbose else (lambda _m: None)
    summary = RunSummary()
    sweep_temp_files(ctx.results_dir)
    todo, resumed = plan(models, tasks, ctx.results_dir, overwrite)

    def record(outcome: UnitOutcome) -> None:
        summary.outcomes.append(outcome)
        if outcome.status != "resumed":
            say(describe(outcome))
        if on_outcome:
            on_outcome(outcome)

    for outcome in resumed:
        record(outcome)
    try:
        (executor or LocalExecutor()).execute(todo, ctx, record)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        ctx.close()
    return summary
