"""mteb's benchmarks by name, from a catalogue shipped as data (``catalogue.json``).

The catalogue is generated from the installed mteb (``python -m harness.benchmarks.refresh``), so
an install without mteb still knows every benchmark: its tasks, their mteb type and main score,
the splits and subsets each task is scored on in that benchmark, and mteb's registered model
revisions (the "main revision" of ``join_revisions``). Nothing here imports mteb.

    >>> bench = get_benchmark("MTEB(eng, v2)")
    >>> len(bench.tasks), bench.task_type["ArguAna"], bench.harness_type["ArguAna"]
    (41, 'Retrieval', 'retrieval')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harness.errors import HarnessError
from harness.plugins import suggest

CATALOGUE_FORMAT = 1
CATALOGUE_PATH = Path(__file__).with_name("catalogue.json")


@dataclass(frozen=True)
class BenchmarkTask:
    """One task as a benchmark scores it: mteb's type and main score, the splits and subsets whose
    main scores mteb averages (``validate_and_filter_scores``), the dataset revision it pins."""

    name: str
    task_type: str
    harness_type: str | None
    main_score: str
    eval_splits: tuple[str, ...]
    hf_subsets: tuple[str, ...]
    is_aggregate: bool
    dataset_revision: str | None
    is_public: bool


@dataclass(frozen=True)
class Benchmark:
    """An mteb benchmark.

    Attributes:
        name: mteb's name, e.g. ``"MTEB(eng, v2)"``.
        tasks: task names, in mteb's order.
        task_type: task -> mteb's type name (``"Retrieval"``, ``"STS"``, ...).
        harness_type: task -> our task type (``"retrieval"``, ...), None where none scores it.
        version: the mteb version the catalogue was generated from.
        details: task -> :class:`BenchmarkTask` (splits, subsets, main score, revision).
        aliases, display_name, description, reference: mteb's display fields.
        aggregations: mteb's summary columns for it (``"mean_task"``, ``"mean_task_type"``, ...).
    """

    name: str
    tasks: tuple[str, ...]
    task_type: Mapping[str, str]
    harness_type: Mapping[str, str | None]
    version: str
    details: Mapping[str, BenchmarkTask]
    aliases: tuple[str, ...] = ()
    display_name: str | None = None
    description: str | None = None
    reference: str | None = None
    aggregations: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Any]:
    """The shipped catalogue (see :mod:`harness.benchmarks.refresh` for its shape)."""
    try:
        data = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise HarnessError(f"{CATALOGUE_PATH}: the benchmark catalogue cannot be read ({err}); "
                           "regenerate it with python -m harness.benchmarks.refresh") from None
    if data.get("format") != CATALOGUE_FORMAT:
        raise HarnessError(f"{CATALOGUE_PATH}: catalogue format {data.get('format')!r}, expected {CATALOGUE_FORMAT}; "
                           "regenerate it with python -m harness.benchmarks.refresh")
    return data


def _task(name: str, narrowed: Mapping[str, Any], facts: Mapping[str, Any]) -> BenchmarkTask:
    return BenchmarkTask(
        name=name,
        task_type=facts["type"],
        harness_type=facts["harness_type"],
        main_score=facts["main_score"],
        eval_splits=tuple(narrowed.get("eval_splits") or facts.get("eval_splits", ())),
        hf_subsets=tuple(narrowed.get("hf_subsets") or facts.get("hf_subsets", ())),
        is_aggregate=facts["is_aggregate"],
        dataset_revision=facts["dataset_revision"],
        is_public=facts["is_public"],
    )


@cache
def _benchmarks() -> dict[str, Benchmark]:
    """Every benchmark by its name and by each alias."""
    data = catalogue()
    out: dict[str, Benchmark] = {}
    for entry in data["benchmarks"]:
        details = {name: _task(name, narrowed, data["tasks"][name]) for name, narrowed in entry["tasks"].items()}
        bench = Benchmark(
            name=entry["name"],
            tasks=tuple(details),
            task_type=MappingProxyType({n: t.task_type for n, t in details.items()}),
            harness_type=MappingProxyType({n: t.harness_type for n, t in details.items()}),
            version=data["mteb_version"],
            details=MappingProxyType(details),
            aliases=tuple(entry["aliases"]),
            display_name=entry["display_name"],
            description=entry["description"],
            reference=entry["reference"],
            aggregations=tuple(entry["aggregations"]),
        )
        out[bench.name] = bench
        for alias in bench.aliases:
            out.setdefault(alias, bench)
    return out


def benchmark_names() -> list[str]:
    """mteb's benchmark names (aliases not repeated), in the catalogue's order."""
    return [entry["name"] for entry in catalogue()["benchmarks"]]


def _loose(name: str) -> str:
    return "".join(name.split()).casefold()


def get_benchmark(name: str) -> Benchmark:
    """The benchmark called ``name`` (mteb's name or one of its aliases; case and spaces aside).

    Raises:
        HarnessError: one line, with close names, when the catalogue has no such benchmark.
    """
    known = _benchmarks()
    if name in known:
        return known[name]
    loose = {_loose(k): k for k in known}
    if _loose(name) in loose:  # "mteb(eng,v2)" for "MTEB(eng, v2)": case and spaces do not matter
        return known[loose[_loose(name)]]
    raise HarnessError(f"--benchmark: unknown benchmark {name!r}{suggest(name, known)}; "
                       f"`list benchmarks` prints the {len(benchmark_names())} known ones")


def mteb_main_revision(model_name: str) -> str | None:
    """The revision mteb's model registry pins for ``model_name`` (None: not registered)."""
    return catalogue()["model_revisions"].get(model_name)


def task_facts(task_name: str) -> BenchmarkTask | None:
    """An mteb task's own facts (None: not an mteb task); its splits and subsets (unnarrowed) are
    empty unless some benchmark holds it."""
    facts = catalogue()["tasks"].get(task_name)
    return None if facts is None else _task(task_name, {}, facts)
