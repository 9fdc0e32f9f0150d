"""Run units in this process, one model at a time (each model loads once)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

from harness.data import load_task_data
from harness.runner import Todo, UnitContext, UnitOutcome, execute_unit, failure


class LocalExecutor:
    """Models outermost; a task's data is loaded once and kept for the next models (small LRU)."""

    def execute(self, todo: Todo, ctx: UnitContext, record: Callable[[UnitOutcome], None]) -> None:
        specs = {spec.name: spec for _, pending in todo for spec in pending}
        load = lru_cache(maxsize=8)(lambda name: load_task_data(specs[name], ctx.data_root, allow_absolute=ctx.allow_absolute_paths))
        unusable: dict[str, UnitOutcome] = {}  # task -> the outcome its data gave, repeated for later models
        for model, pending in todo:
            for spec in pending:
                if spec.name not in unusable:
                    try:
                        data = load(spec.name)
                    except Exception as err:  # noqa: BLE001 - unit isolation (runner.failure logs a bug)
                        unusable[spec.name] = failure(model.info.name, spec.name, err, ctx.results_dir)
                if spec.name in unusable:
                    record(replace(unusable[spec.name], model=model.info.name))
                    continue
                record(execute_unit(model, spec, ctx, data))
