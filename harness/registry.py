"""Where tasks and models are found.

Tasks: every ``*.yaml`` spec under the built-in ``tasks/`` folder and each ``--task-dir``, found at
call time (no package edit to add one). Files whose name starts with ``_`` are include-only bases.
Models: ``harness.models.registry``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import SpecError
from harness.plugins import suggest
from harness.spec_index import SpecIndex
from harness.specs import TaskSpec

BUILTIN_TASK_DIR = Path(__file__).resolve().parent.parent / "tasks"


def discover_specs(task_dirs: Sequence[str | Path] = (), *, builtin: bool = True) -> dict[str, TaskSpec]:
    """Load every spec under the built-in task folder and ``task_dirs``.

    A file is parsed and validated again only if it (or a file it includes) or the harness code
    changed since the last call (``harness.spec_index``); a broken spec is an error every time.

    Returns:
        task name -> spec, in file order.

    Raises:
        SpecError: a malformed spec, a missing task dir, or two files defining one name (all
            errors are collected; ``err.messages`` holds one line each).
    """
    dirs = ([BUILTIN_TASK_DIR] if builtin and BUILTIN_TASK_DIR.is_dir() else []) + [Path(d) for d in task_dirs]
    specs: dict[str, TaskSpec] = {}
    folded: dict[str, TaskSpec] = {}  # casefolded name -> spec
    errors: list[str] = []
    for directory in dirs:
        if not directory.is_dir():
            errors.append(f"{directory}: --task-dir is not a directory")
            continue
        index = SpecIndex.open(directory)
        for path in sorted(directory.rglob("*.yaml")):
            if path.name.startswith("_"):
                continue
            try:
                spec = index.load(path)
            except SpecError as err:
                errors.append(str(err))
                continue
            clash = folded.get(spec.name.casefold())  # result files are named after tasks: case-insensitive file systems
            if clash is not None:
                same = "" if clash.name == spec.name else f" as {clash.name!r} (names may not differ only in case)"
                errors.append(f"{path}: name: task {spec.name!r} is already defined in {clash.source_file}{same}")
                continue
            specs[spec.name] = folded[spec.name.casefold()] = spec
        index.save()
    if errors:
        raise SpecError.many(errors)
    return specs


def select_tasks(
    specs: dict[str, TaskSpec],
    names: Sequence[str] | None = None,
    *,
    suite: str | None = None,
    task_type: str | None = None,
    domain: str | None = None,
) -> list[TaskSpec]:
    """Pick tasks by name (in the given order) or by suite/type/domain filters."""
    if names:
        unknown = [n for n in names if n not in specs]
        if unknown:
            raise SpecError(f"--tasks: unknown task {unknown[0]!r}{suggest(unknown[0], specs)}")
        chosen = [specs[n] for n in names]
    else:
        chosen = list(specs.values())
    if suite is not None:
        suites = {s for spec in specs.values() for s in spec.suite}
        if suite not in suites:
            raise SpecError(f"--suite: unknown suite {suite!r}{suggest(suite, suites)}")
        chosen = [s for s in chosen if suite in s.suite]
    if task_type is not None:
        chosen = [s for s in chosen if s.type == task_type]
    if domain is not None:
        chosen = [s for s in chosen if s.domain == domain]
    return chosen


class TaskList(list):
    """A list of TaskSpec with a tabular view."""

    def to_pandas(self) -> Any:
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "name": s.name,
                    "type": s.type,
                    "main_score": s.main_score,
                    "suite": ",".join(s.suite),
                    "domain": s.domain,
                    "languages": ",".join(s.languages),
                    "source": task_source(s),
                }
                for s in self
            ]
        )


def task_source(spec: TaskSpec) -> str:
    """Where a task's data comes from, in a few words."""
    if spec.data.builder:
        return f"builder {spec.data.builder}"
    parts = [f"local {spec.data.local}"] if spec.data.local else []
    if spec.data.hf:
        parts.append(f"hub {spec.data.hf}")
    return " | ".join(parts)
