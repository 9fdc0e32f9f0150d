"""Run units in this process, one model at a time (each model loads once)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from harness.data import load_task_data
from harness.errors import DataUnavailable, HarnessError
from harness.runner import Todo, UnitContext, UnitOutcome, execute_unit


class LocalExecutor:
    """Models outermost; a task's data is loaded once and kept for the next models (small LRU)."""

    def execute(self, todo: Todo, ctx: UnitContext, record: Callable[[UnitOutcome], None]) -> None:
        specs = {spec.name: spec for _, pending in todo for spec in pending}
        load = lru_cache(maxsize=8)(lambda name: load_task_data(specs[name], ctx.data_root))
        unusable: dict[str, tuple[str, str]] = {}  # task -> (status, message), remembered for later models
        for model, pending in todo:
            for spec in pending:
                if spec.name not in unusable:
                    try:
                        data = load(spec.name)
                    except HarnessError as err:
                        unusable[spec.name] = ("skipped" if isinstance(err, DataUnavailable) else "failed", str(err))
                if spec.name in unusable:
                    status, message = unusable[spec.name]
                    record(UnitOutcome(model.info.name, spec.name, status, message=message))  # type: ignore[arg-type]
                    continue
                record(execute_unit(model, spec, ctx, data))
