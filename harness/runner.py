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
from typing import TYPE_CHECKING, Any, Literal, Protocol

from harness.breakdown import by_length
from harness.cache import EmbeddingCache
from harness.data import load_task_data
from harness.data.types import RetrievalData, TaskData
from harness.encode import encode_groups
from harness.errors import DataUnavailable, HarnessError
from harness.evaluators import get_evaluator
from harness.models.base import usage_between
from harness.specs import TaskSpec
from harness.store import ResultDocument, StoredResult, find_result, sweep_temp_files, write_result

if TYPE_CHECKING:
    from harness.config import RunConfig
    from harness.models.base import Encoder

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


def score_unit(model: Encoder, spec: TaskSpec, data: TaskData, *, batch_size: int, cache: EmbeddingCache | None = None) -> tuple[ResultDocument, dict[str, Any]]:
    """Embed and score one unit.

    Returns:
        (the result document for the store, per-item arrays keyed ``<split>.<name>``).
    """
    began = time.perf_counter()
    usage = model.usage()
    evaluator = get_evaluator(spec.type)
    options = spec.evaluator_options()
    groups = evaluator.text_groups(data, options)
    label = f"{model.info.name} · {spec.name}"
    embeddings, stats = encode_groups(model, groups, task=spec, batch_size=batch_size, label=label, cache=cache)
    output = evaluator.evaluate(data, embeddings, options, model.info.similarity)
    metrics, undefined = defined_metrics(output.metrics, spec.main_score)
    info = model.scored_info(next(iter(embeddings.values())).shape[1]).to_dict()
    record = {**info, **usage_between(usage, model.usage()), "throughput_texts_per_s": stats.texts_per_second}
    encoded = {
        "texts": stats.texts,
        "unique_texts": stats.unique_texts,
        "from_cache": stats.cached,
        "encoded": stats.encoded,
        "seconds": stats.seconds,
        "batch_size": batch_size,
        "long_documents": stats.long_documents or None,
    }
    document = ResultDocument.build(
        spec,
        model=record,
        metrics=metrics,
        evaluation_time=time.perf_counter() - began,
        date=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        details={"options": options.model_dump(mode="json"), "encode": encoded, "undefined_metrics": undefined},
        breakdown_by_length=by_length(data, output.items, spec.main_score) if isinstance(data, RetrievalData) else None,
    )
    split = spec.data.eval_split
    return document, {f"{split}.{key}": value for key, value in output.items.items()}


@dataclass
class UnitContext:
    """What a unit needs besides its model and task, derived from the RunConfig; picklable (Ray).

    The embedding cache is opened lazily in the process that runs the unit: ``cache_dir`` names
    the persistent cache; ``use_cache=False`` keeps vectors in memory for this process only.
    """

    results_dir: Path
    data_root: Path | None = None
    batch_size: int = 32
    cache_dir: Path | None = None
    use_cache: bool = True
    _cache: EmbeddingCache | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_config(cls, config: RunConfig) -> UnitContext:
        return cls(config.results_dir, config.data_dir, config.batch_size, config.cache_dir, config.use_cache)

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


def execute_unit(model: Encoder, spec: TaskSpec, ctx: UnitContext, data: TaskData | None = None) -> UnitOutcome:
    """Load (unless given), embed, score and store one unit; user errors become outcomes.

    The same function runs in the local executor and on a Ray worker.
    """
    name = model.info.name
    try:
        data = data if data is not None else load_task_data(spec, ctx.data_root)
        document, items = score_unit(model, spec, data, batch_size=ctx.batch_size, cache=ctx.cache())
        stored = write_result(ctx.results_dir, document, items)
    except DataUnavailable as err:
        return UnitOutcome(name, spec.name, "skipped", message=str(err))
    except HarnessError as err:
        return UnitOutcome(name, spec.name, "failed", message=str(err))
    encoded = document.harness["encode"]
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


Todo = list[tuple["Encoder", list[TaskSpec]]]  # per model, in order: the tasks it still has to run


class Executor(Protocol):
    """Runs the units of ``todo`` and hands each outcome to ``record`` (``harness.executors``)."""

    def execute(self, todo: Todo, ctx: UnitContext, record: Callable[[UnitOutcome], None]) -> None: ...


def plan(models: Sequence[Encoder], tasks: Sequence[TaskSpec], results_dir: Path, overwrite: bool) -> tuple[Todo, list[UnitOutcome]]:
    """Split the grid into work to do (per model, in order) and units already complete in the store."""
    todo: Todo = []
    resumed = []
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
    models: Sequence[Encoder],
    tasks: Sequence[TaskSpec],
    config: RunConfig,
    executor: Executor,
    *,
    on_outcome: Callable[[UnitOutcome], None] | None = None,
) -> RunSummary:
    """Run every (model, task) unit not already complete in the store.

    Args:
        models: models from ``harness.models.load_model`` (sweep variants included).
        tasks: task specs.
        config: the run's options (results folder, overwrite, cache, batch size, verbosity).
        executor: runs the units (``harness.executors.make_executor``).

    Returns:
        A RunSummary; a Ctrl-C stops the run (no result is half-written) and sets ``interrupted``.
    """
    say = _say if config.verbose else (lambda _m: None)
    ctx = UnitContext.from_config(config)
    summary = RunSummary()
    sweep_temp_files(ctx.results_dir)
    todo, resumed = plan(models, tasks, ctx.results_dir, config.overwrite)

    def record(outcome: UnitOutcome) -> None:
        summary.outcomes.append(outcome)
        if outcome.status != "resumed":
            say(describe(outcome))
        if on_outcome:
            on_outcome(outcome)

    for outcome in resumed:
        record(outcome)
    try:
        executor.execute(todo, ctx, record)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        ctx.close()
    return summary
