"""A benchmark's tasks as things the harness can run: our spec of the same name, else the
installed mteb's task (``mteb:NAME``); a task neither can score is named in a note, not run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.benchmarks import Benchmark, get_benchmark
from harness.errors import HarnessError, SpecError


def runnable(benchmark: Benchmark, specs: dict[str, Any]) -> list[tuple[str, str]]:
    """``(task, how)`` per task: ``"spec"`` (ours), ``"mteb:NAME"`` (a type we score, through the
    installed mteb) or ``"no evaluator here for <type>"``. Imports nothing heavy."""
    rows = []
    for name in benchmark.tasks:
        if name in specs:
            rows.append((name, "spec"))
        elif benchmark.harness_type[name] is not None:
            rows.append((name, f"mteb:{name}"))
        else:
            rows.append((name, f"no evaluator here for {benchmark.task_type[name]}"))
    return rows


def benchmark_specs(name: str, task_dirs: Sequence[str | Path] = ()) -> tuple[list[Any], list[str]]:
    """(TaskSpecs of benchmark ``name`` that can run here, one note per task that cannot).

    Raises:
        HarnessError: unknown benchmark (did you mean), or no task of it can run here.
    """
    from harness.registry import discover_specs

    benchmark = get_benchmark(name)
    specs = discover_specs(task_dirs)
    out, notes = [], []
    for task, how in runnable(benchmark, specs):
        if how == "spec":
            out.append(specs[task])
            continue
        if not how.startswith("mteb:"):
            notes.append(f"{benchmark.name}: {task} not run: {how}")
            continue
        from harness.bridges.mteb_tasks import mteb_spec

        try:
            out.append(mteb_spec(task))
        except SpecError as err:
            notes.append(f"{benchmark.name}: {task} not run: {err}")
    if not out:
        raise HarnessError(f"--benchmark {benchmark.name}: none of its {len(benchmark.tasks)} tasks can run here "
                           f"({notes[0] if notes else 'no task'})")
    return out, notes
