"""Plan (model × task) units, skip finished ones, run the rest, hand results to the store.

A unit is: load the task's data, ask its evaluator which texts it needs, embed them through
``harness.encode``, score, write the result. Units are independent, so an interrupted run resumes
by skipping every unit whose result is already complete in the store.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from harness.batching import EncodeStats, runtime_record
from harness.breakdown import by_length
from harness.cache import EmbeddingCache
from harness.data import load_task_data
from harness.data.types import RetrievalData, TaskData
from harness.encode import encode_groups
from harness.errors import MAX_VALUE, DataUnavailable, HarnessError, one_line
from harness.models.base import usage_between
from harness.progress import RunProgress
from harness.rescore import evaluator_for
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
    bug: bool = False  # failed on an unexpected exception (its traceback is in a log file): exit code 1
    texts: int = 0  # texts the unit embedded (the overall progress line's measure of work)
    undefined: tuple[str, ...] = ()  # metrics undefined on this data, stored as 0.0


@dataclass
class RunSummary:
    outcomes: list[UnitOutcome] = field(default_factory=list)
    interrupted: bool = False

    def count(self, status: Status) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def results(self) -> list[StoredResult]:
        return [o.result for o in self.outcomes if o.result is not None]

    @property
    def bugs(self) -> int:
        """Units that failed on a bug (not on bad input)."""
        return sum(o.bug for o in self.outcomes)

    def line(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("done", "resumed", "skipped", "failed") if self.count(s)]
        failed = [f"{o.model} × {o.task}" for o in self.outcomes if o.status == "failed"]
        if failed:
            more = f", and {len(failed) - 3} more" if len(failed) > 3 else ""
            bugs = f"; {self.bugs} on an internal error" if self.bugs else ""
            parts[-1] += f" ({', '.join(failed[:3])}{more}{bugs})"
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
    model: Encoder, spec: TaskSpec, data: TaskData, *, batch_size: int, cache: EmbeddingCache | None = None,
    max_batch_tokens: int | None = None, replicas: Sequence[tuple[str, EncodeStats]] = (),
) -> tuple[ResultDocument, dict[str, Any]]:
    """Embed and score one unit (``replicas``: what replicas encoded of it before, per replica
    ``(device, stats)``; the shards of ``harness.executors.ray``).

    Returns:
        (the result document for the store, per-item arrays keyed ``<split>.<name>``).
    """
    began = time.perf_counter()
    usage = model.usage()
    evaluator = evaluator_for(model.variant, spec)  # a rescoring sweep variant: two-stage retrieval
    options = spec.evaluator_options()
    groups = evaluator.text_groups(data, options)
    label = f"{model.info.name} · {spec.name}"
    embeddings, stats = encode_groups(model, groups, task=spec, batch_size=batch_size, label=label, cache=cache, max_batch_tokens=max_batch_tokens)
    stats.absorb_replicas(replicas)
    with warnings.catch_warnings():  # said once per run, in our words (UNDEFINED_NOTE)
        warnings.filterwarnings("ignore", message="An input array is constant")
        output = evaluator.evaluate(data, embeddings, options, model.info.similarity)
    metrics, undefined = defined_metrics(output.metrics, spec.main_score)
    info = model.scored_info(next(iter(embeddings.values())).shape[1]).to_dict()
    record = {**info, **usage_between(usage, model.usage()), "throughput_texts_per_s": stats.texts_per_second,
              "runtime": runtime_record(stats, model.base_encoder().runtime())}
    encoded = {
        "texts": stats.texts,
        "unique_texts": stats.unique_texts,
        "from_cache": stats.cached,
        "encoded": stats.encoded,
        "seconds": stats.seconds,
        "batch_size": batch_size,
        "batch": stats.batching,
        "replicas": stats.replicas or None,
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
    allow_absolute_paths: bool = False
    max_batch_tokens: int | None = None
    _cache: EmbeddingCache | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_config(cls, config: RunConfig) -> UnitContext:
        return cls(config.results_dir, config.data_dir, config.batch_size, config.cache_dir, config.use_cache, config.allow_absolute_paths,
                   config.max_batch_tokens)

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


LOG_DIR = ".harness-logs"
_LOGS: dict[Path, Path] = {}  # results folder -> this process's log file in it


def log_traceback(results_dir: Path, label: str, err: BaseException) -> Path:
    """Append ``err``'s traceback to this process's log, ``<results>/.harness-logs/<time>-<pid>.log``
    (the temporary folder if the results folder cannot be written); returns the log's path."""
    stamp = f"{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
    text = f"{dt.datetime.now().isoformat(timespec='seconds')} {label}\n{''.join(traceback.format_exception(err))}\n"
    for folder in (Path(results_dir).absolute() / LOG_DIR, Path(tempfile.gettempdir()) / "harness-logs"):
        path = _LOGS.get(folder) or folder / stamp
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as log:
                log.write(text)
        except OSError:
            continue
        _LOGS[folder] = path
        return path
    return Path(os.devnull)


def failure(model: str, task: str, err: Exception, results_dir: Path) -> UnitOutcome:
    """The outcome of a unit that raised ``err``: "skipped" (data unavailable), "failed" with the
    user error's line, or, for anything else (a bug), "failed" with one line naming the log file
    that holds the traceback. Either way the run goes on with its other units."""
    if isinstance(err, DataUnavailable):
        return UnitOutcome(model, task, "skipped", message=str(err))
    if isinstance(err, HarnessError):
        return UnitOutcome(model, task, "failed", message=str(err))
    log = log_traceback(results_dir, f"{model} × {task}", err)
    message = f"{type(err).__name__}: {one_line(err, MAX_VALUE)} (traceback in {log})"
    return UnitOutcome(model, task, "failed", message=message, bug=True)


def execute_unit(
    model: Encoder, spec: TaskSpec, ctx: UnitContext, data: TaskData | None = None, replicas: Sequence[tuple[str, EncodeStats]] = ()
) -> UnitOutcome:
    """Load (unless given), embed, score and store one unit; any exception becomes its outcome
    (``failure``), so one bad unit never stops the others. ``replicas``: see ``score_unit``.

    The same function runs in the local executor and on a Ray worker.
    """
    try:
        data = data if data is not None else load_task_data(spec, ctx.data_root, allow_absolute=ctx.allow_absolute_paths)
        document, items = score_unit(model, spec, data, batch_size=ctx.batch_size, cache=ctx.cache(), max_batch_tokens=ctx.max_batch_tokens, replicas=replicas)
        stored = write_result(ctx.results_dir, document, items)
    except Exception as err:  # noqa: BLE001 - unit isolation: a bug fails this unit only (logged)
        return failure(model.info.name, spec.name, err, ctx.results_dir)
    encoded = document.harness["encode"]
    message = (
        f"{spec.main_score} = {stored.main_score:.5f} ({stored.data.evaluation_time or 0.0:.1f} s; "
        f"{encoded['encoded']} texts encoded, {encoded['from_cache']} from cache)"
    )
    return UnitOutcome(model.info.name, spec.name, "done", stored.main_score, message, stored, texts=encoded["texts"],
                       undefined=tuple(document.harness["undefined_metrics"]))


DATA_DIR_HINT = "local copies are found under --data-dir DIR (or $HARNESS_DATA_DIR)"
UNDEFINED_NOTE = ("note: {unit}: {metrics} undefined (a correlation with a constant prediction), stored as 0.0; "
                  "this and any later such metric is listed under harness.undefined_metrics in its result")


def brief_list(names: Sequence[str], shown: int = 2) -> str:
    """``a, b and 6 more``."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def describe(outcome: UnitOutcome) -> str:
    """One line for a finished unit; a skipped task's line is the same for every model."""
    if outcome.status == "skipped":
        hint = "" if "--data-dir" in outcome.message else f"; {DATA_DIR_HINT}"
        return f"skipped {outcome.task}: {outcome.message}{hint}"
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
    progress = RunProgress([(m.info.name, s.name) for m, pending in todo for s in pending]) if config.verbose else None
    skipped: set[str] = set()  # tasks whose "skipped" line was said (once, not once per model)
    noted: list[UnitOutcome] = []  # the unit the undefined-metric note named (once per run)

    def record(outcome: UnitOutcome) -> None:
        summary.outcomes.append(outcome)
        if outcome.status != "resumed":
            if progress is not None:
                progress.finished(outcome.model, outcome.task, outcome.texts)
            if outcome.status != "skipped" or outcome.task not in skipped:
                say(describe(outcome))
            if outcome.status == "skipped":
                skipped.add(outcome.task)
            if outcome.undefined and not noted:
                say(UNDEFINED_NOTE.format(unit=f"{outcome.model} × {outcome.task}", metrics=brief_list(outcome.undefined)))
                noted.append(outcome)
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
        if progress is not None:
            progress.close()
    return summary
