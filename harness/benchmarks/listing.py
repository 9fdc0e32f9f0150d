"""``list benchmarks`` and ``list tasks --benchmark NAME``: rows for the CLI's table."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.benchmarks import _benchmarks, benchmark_names, get_benchmark
from harness.benchmarks.select import runnable


def benchmark_table(name: str | None, task_dirs: Sequence[str | Path] = ()) -> tuple[list[list[str]], list[str]]:
    """(rows, header): every benchmark (``name`` None), or the tasks of benchmark ``name``."""
    if name is None:
        known = _benchmarks()
        rows = []
        for bench in (known[n] for n in benchmark_names()):
            types = sorted(set(bench.task_type.values()))
            shown = ", ".join(types[:4]) + (f", +{len(types) - 4}" if len(types) > 4 else "")
            rows.append([bench.name, str(len(bench.tasks)), shown, ", ".join(bench.aliases)])
        return rows, ["benchmark", "tasks", "types", "aliases"]
    from harness.registry import discover_specs

    bench = get_benchmark(name)
    details = bench.details
    rows = [[task, details[task].task_type, details[task].main_score, how]
            for task, how in runnable(bench, discover_specs(task_dirs))]
    return rows, ["task", "type", "main score", f"runs here as (mteb {bench.version})"]
