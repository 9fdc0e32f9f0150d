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
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from harness import __version__
from harness.cache import EmbeddingCache
from harness.data import load_task_data
from harness.data.types import TaskData
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
        return ("interrupted: " if self.interrupted else "") + (", ".join(parts) or "nothing to run")


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
            },
            "undefined_metrics": undefined,
            "items_file": None,
            "items_sha256": None,
        },
    }
    items = {f"{split}.{key}": value for key, value in output.items.items()}
    return document, items


def run(
    models: Sequence[Any],
    tasks: Sequence[TaskSpec],
    *,
    results_dir: Path,
    data_root: Path | None = None,
    batch_size: int = 32,
    overwrite: bool = False,
    cache: EmbeddingCache | None = None,
    on_outcome: Callable[[UnitOutcome], None] | None = None,
    verbose: bool = True,
) -> RunSummary:
    """Run every (model, task) unit, models outermost so each model loads once.

    Args:
        models: loaded models (``harness.models.load_model`` output), each with ``info``.
        tasks: task specs.
        results_dir: the store's root.
        overwrite: recompute units that already have a complete result.
        cache: the embedding cache (None: no cache at all).

    Returns:
        A RunSummary; a Ctrl-C stops after the current unit's cleanup and sets ``interrupted``.
    """
    say = _say if verbose else (lambda _m: None)
    summary = RunSummary()
    sweep_temp_files(results_dir)
    by_name = {spec.name: spec for spec in tasks}
    load = lru_cache(maxsize=8)(lambda name: load_task_data(by_name[name], data_root))
    unavailable: dict[str, str] = {}

    def record(outcome: UnitOutcome) -> None:
        summary.outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)

    try:
        for model in models:
            name, revision = model.info.name, model.info.revision
            for spec in tasks:
                existing = None if overwrite else find_result(results_dir, name, revision, spec.name)
                if existing is not None:
                    record(UnitOutcome(name, spec.name, "resumed", existing.main_score, "already in the store", existing))
                    continue
                if spec.name in unavailable:
                    record(UnitOutcome(name, spec.name, "skipped", message=unavailable[spec.name]))
                    continue
                try:
                    data = load(spec.name)
                    document, items = score_unit(model, spec, data, batch_size=batch_size, cache=cache)
                    stored = read_result(write_result(results_dir, document, items))
                except DataUnavailable as err:
                    unavailable[spec.name] = str(err)
                    say(f"skipped {spec.name}: {err}")
                    record(UnitOutcome(name, spec.name, "skipped", message=str(err)))
                    continue
                except HarnessError as err:
                    say(f"failed  {name} × {spec.name}: {err}")
                    record(UnitOutcome(name, spec.name, "failed", message=str(err)))
                    continue
                seconds = stored.data.evaluation_time or 0.0
                encoded = document["harness"]["encode"]
                say(
                    f"done    {name} × {spec.name}: {spec.main_score} = {stored.main_score:.5f} "
                    f"({seconds:.1f} s; {encoded['encoded']} texts encoded, {encoded['from_cache']} from cache)"
                )
                record(UnitOutcome(name, spec.name, "done", stored.main_score, result=stored))
    except KeyboardInterrupt:
        summary.interrupted = True
    return summary
