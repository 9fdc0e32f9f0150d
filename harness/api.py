"""The Python API. The CLI is a thin layer over these functions.

Example::

    import harness
    result = harness.evaluate("minilm-l6", ["STSBenchmark"], data_dir="../shared/datasets")
    print(result.to_pandas()[["model", "task", "main_score"]])
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.config import DEFAULT_RESULTS_DIR, DEFAULT_SUITE, RunConfig
from harness.errors import SpecError, StoreError, brief
from harness.registry import TaskList, discover_specs, select_tasks
from harness.specs import TaskSpec, load_spec

if TYPE_CHECKING:  # the runner and the store import numpy: `list tasks` needs neither
    from harness.reproduce import Reproduction
    from harness.runner import RunSummary
    from harness.store import StoredResult

DEFAULT_REPORTS_DIR = Path("reports")


def get_tasks(
    names: Sequence[str] | None = None,
    *,
    suite: str | None = None,
    type: str | None = None,  # noqa: A002 - mirrors the spec field
    domain: str | None = None,
    task_dirs: Sequence[str | Path] = (),
    source: str = "specs",
) -> TaskList:
    """Task specs, filtered: from the built-in ``tasks/`` folder and ``task_dirs`` (``source="specs"``),
    or every supported task of the installed mteb (``source="mteb"``, see ``harness.bridges.mteb_tasks``).
    """
    if source == "mteb":
        from harness.bridges.mteb_tasks import mteb_specs

        specs = {spec.name: spec for spec in mteb_specs()}
    elif source == "specs":
        specs = discover_specs(task_dirs)
    else:
        raise SpecError(f"--source: must be 'specs' or 'mteb', not {brief(source)}")
    return TaskList(select_tasks(specs, names, suite=suite, task_type=type, domain=domain))


def resolve_tasks(tasks: Any, suite: str | None, task_dirs: Sequence[str | Path]) -> list[TaskSpec]:
    """Names, ``mteb:NAME``, spec paths and TaskSpec objects -> specs (default: the default suite)."""
    if tasks is None:
        return list(get_tasks(suite=suite or DEFAULT_SUITE, task_dirs=task_dirs))
    if isinstance(tasks, (str, TaskSpec, Path)):
        tasks = [tasks]
    resolved: list[TaskSpec] = []
    registry: dict[str, TaskSpec] | None = None
    for task in tasks:
        if isinstance(task, TaskSpec):
            resolved.append(task)
        elif isinstance(task, Path) or str(task).endswith((".yaml", ".yml")):
            resolved.append(load_spec(task))
        elif str(task).startswith("mteb:"):
            from harness.bridges.mteb_tasks import PREFIX, mteb_spec

            resolved.append(mteb_spec(str(task).removeprefix(PREFIX)))
        else:
            registry = registry if registry is not None else discover_specs(task_dirs)
            resolved.extend(select_tasks(registry, [str(task)]))
    if suite is not None:
        resolved = [t for t in resolved if suite in t.suite]
    names = [t.name.casefold() for t in resolved]  # result files are named after tasks: case-insensitive file systems
    duplicate = next((t.name for t, n in zip(resolved, names) if names.count(n) > 1), None)
    if duplicate:
        raise SpecError(f"tasks: {duplicate!r} is given twice (task names may differ only in case)")
    return resolved


@dataclass
class RunResult:
    """The outcome of ``evaluate``: stored results and what happened to each unit."""

    summary: RunSummary

    @property
    def results(self) -> list[StoredResult]:
        return self.summary.results

    def to_pandas(self) -> Any:
        """One row per (model, task, split): model, task, type, main_score and every metric."""
        import pandas as pd

        from harness.leaderboard.table import result_rows

        return pd.DataFrame(result_rows(self.results))


def evaluate(
    model: Any,
    tasks: Any = None,
    *,
    suite: str | None = None,
    task_dirs: Sequence[str | Path] = (),
    data_dir: str | Path | None = None,
    results_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    batch_size: int = 32,
    model_name: str | None = None,
    overwrite: bool = False,
    use_cache: bool = True,
    sweep: Sequence[str] = (),
    executor: Any = "local",
    ray_address: str | None = None,
    gpus_per_model: float | None = None,
    cpus_per_unit: float | None = None,
    shard_size: int | None = None,
    max_batch_tokens: int | None = None,
    devices: Sequence[str] | None = None,
    max_cost: float | None = None,
    allow_absolute_paths: bool = False,
    model_dirs: Sequence[str | Path] = (),
    model_options: Mapping[str, str] | None = None,
    verbose: bool = True,
) -> RunResult:
    """Evaluate one or more models on tasks; results go to the store exactly as the CLI writes them.

    Args:
        model: an alias (``"minilm-l6"``), ``kind:arg``, hub id or local folder, any object with
            an ``encode`` method (``harness.EncoderProtocol``), or a list of these.
        tasks: task names, spec paths or TaskSpec objects (default: ``suite`` or the default suite).
        data_dir: root for relative ``data.local`` paths (default: ``HARNESS_DATA_DIR``).
        results_dir: the store (default ``results/``).
        cache_dir: the embedding cache (default ``HARNESS_CACHE_DIR`` or ``~/.cache/harness``).
        model_name: name recorded for an encoder object.
        use_cache: False keeps vectors only in memory for this call (still shared across its tasks).
        sweep: ``["dim=64,128", "quantize=none,binary"]``: score every combination of each model,
            each a model of its own (``<model>@dim=64,quantize=binary``), derived from one encode;
            also ``layer=2,4`` (sentence-transformers models) and ``rescore=0,100`` (with a binary or
            int8 quantisation; retrieval tasks only). See docs/sweeps.md.
        executor: ``"local"`` (this process), ``"ray"`` (a Ray cluster; ``pip install -e .[ray]``)
            or an object with ``execute``. The next four options need ``"ray"``:
        ray_address: what ``ray.init`` accepts (``auto``, ``HOST:PORT``, ``ray://HOST:10001``);
            None starts a local Ray instance.
        gpus_per_model, cpus_per_unit: resources of each model replica (default 0 and 1).
        shard_size: a corpus with more distinct texts is embedded in shards over the replicas
            (default 50,000).
        max_batch_tokens: fill each batch up to this many tokens (padding included) instead of
            ``batch_size`` texts (models that count tokens; ``harness.batching``).
        devices: ``["cuda:0", "cuda:1"]`` or ``["auto"]``: one replica per device of this machine
            sharing each task's texts (needs Ray; ``docs/accelerators.md``).
        max_cost: USD each model billed per token (``openai:...``) may spend in this call; it
            stops with one error line before going over (``harness.models.http``).
        allow_absolute_paths: let a spec's ``data.local`` and split names be absolute or leave
            ``data_dir`` (off: such a task fails with one line; ``harness.paths``).
        model_dirs: folders of model cards besides ``models/`` (docs/model-cards.md).
        model_options: ``{"dtype": "bfloat16", "attn_implementation": "sdpa", "device": "cuda:0"}``
            for every model's load; dtype and attention make each model one of its own,
            stored as ``<name>@dtype=bfloat16``.
    """
    config = RunConfig.create(
        models=list(model) if isinstance(model, (list, tuple)) else [model],
        model_name=model_name,
        tasks=tasks,
        suite=suite,
        task_dirs=tuple(task_dirs),
        results_dir=results_dir or DEFAULT_RESULTS_DIR,
        data_dir=data_dir,
        cache_dir=cache_dir,
        use_cache=use_cache,
        batch_size=batch_size,
        overwrite=overwrite,
        sweep=tuple(sweep),
        executor=executor,
        ray_address=ray_address,
        gpus_per_model=gpus_per_model,
        cpus_per_unit=cpus_per_unit,
        shard_size=shard_size,
        max_batch_tokens=max_batch_tokens,
        devices=tuple(devices) if devices is not None else None,
        max_cost=max_cost,
        allow_absolute_paths=allow_absolute_paths,
        model_dirs=tuple(model_dirs),
        model_options=dict(model_options or {}),
        verbose=verbose,
    )
    return run(config)


def run(config: RunConfig) -> RunResult:
    """Run ``config``: resolve its tasks, load its models (and sweep variants), run every unit
    not yet in the store. ``evaluate`` and ``harness run`` both end here.

    Raises:
        KeyboardInterrupt: the run was interrupted (its message is the summary line).
    """
    from harness import runner
    from harness.executors import make_executor
    from harness.models import load_model
    from harness.models.registry import spending_caps
    from harness.variants import expand, parse_sweeps

    executor = make_executor(config)
    specs = resolve_tasks(config.tasks, config.suite, config.task_dirs)
    name = config.model_name if len(config.models) == 1 else None
    caps = spending_caps(config.models, config.max_cost, config.model_dirs)
    loads = [load_model(m, name=name, model_dirs=config.model_dirs, load_options=config.model_options, **cap) for m, cap in zip(config.models, caps)]
    models = expand(loads, parse_sweeps(config.sweep))
    summary = runner.run(models, specs, config, executor)
    if summary.interrupted:
        raise KeyboardInterrupt(summary.line())
    return RunResult(summary)


def load_results(results_dir: str | Path = DEFAULT_RESULTS_DIR, *, tasks: Iterable[str] | None = None) -> list[StoredResult]:
    """Every valid result in the store (invalid files warn and are skipped)."""
    wanted = set(tasks) if tasks is not None else None
    from harness.store import iter_results

    bases = {t.partition("@")[0] for t in wanted} if wanted is not None else None
    return [r for r in iter_results(Path(results_dir), bases) if wanted is None or r.task_name in wanted]


def report(
    results_dir: str | Path = DEFAULT_RESULTS_DIR,
    out_dir: str | Path | None = None,
    *,
    suite: str | Sequence[str] | None = None,
    task_dirs: Sequence[str | Path] = (),
    benchmark: str | None = None,
    strict_revisions: bool = False,
) -> Path:
    """Render the leaderboard of the store (restricted to the tasks of ``suite``, one name or several
    shown side by side, if given; or to mteb benchmark ``benchmark``'s table); returns index.html.
    ``strict_revisions`` keeps a result published on another dataset revision in a column of its own."""
    from harness.leaderboard import render_report

    if benchmark is not None:
        from harness.benchmarks import get_benchmark
        from harness.leaderboard.benchmark_view import render_benchmark

        chosen = get_benchmark(benchmark)
        out = Path(out_dir) if out_dir else DEFAULT_REPORTS_DIR / re.sub(r"[^A-Za-z0-9_.-]+", "_", chosen.name).strip("_")
        return render_benchmark(_results_folder(results_dir), out, chosen, strict_revisions)
    suites = [suite] if isinstance(suite, str) else list(suite or [])
    by_suite = {s: [t.name for t in get_tasks(suite=s, task_dirs=task_dirs)] for s in suites}
    tasks = sorted({name for names in by_suite.values() for name in names}) if suites else None
    out = Path(out_dir) if out_dir else DEFAULT_REPORTS_DIR / ("+".join(suites) or "all")
    title = f"Leaderboard — suite{'s' if len(suites) > 1 else ''} {', '.join(suites)}" if suites else "Leaderboard"
    results = _folded(load_results(_results_folder(results_dir), tasks=tasks if strict_revisions else None), strict_revisions, tasks)
    if not results:
        which = f" of suite {', '.join(suites)}" if suites else ""
        raise StoreError(f"--results {results_dir}: holds no valid result{which}; nothing to report")
    return render_report(results, out, title=title, suites=by_suite or None)


def _results_folder(results_dir: str | Path) -> Path:
    if not Path(results_dir).is_dir():
        raise StoreError(f"--results {results_dir}: no such folder")
    return Path(results_dir)


def _folded(results: list[Any], strict_revisions: bool, tasks: Iterable[str] | None) -> list[Any]:
    """Imported ``X@<revision>`` results shown as ``X`` unless ``strict_revisions``; then only ``tasks``."""
    if not strict_revisions:
        from harness.leaderboard.benchmark_view import fold_revisions

        results = fold_revisions(results)
    wanted = set(tasks) if tasks is not None else None
    return [r for r in results if wanted is None or r.task_name in wanted]


def import_results(
    path: str | Path,
    results_dir: str | Path = DEFAULT_RESULTS_DIR,
    *,
    task_dirs: Sequence[str | Path] = (),
    tasks: Iterable[str] | None = None,
    models: Iterable[str] | None = None,
    strict_revisions: bool = False,
) -> Any:
    """Import published mteb results (a clone of mteb's results repository, or any folder with a
    ``results/`` folder inside) into the store as imported results, one per model and task;
    returns an ``ImportSummary`` (see ``harness.bridges.mteb_results``).
    """
    from harness.bridges.mteb_results import import_results as run_import

    return run_import(path, results_dir, task_dirs=task_dirs, tasks=tasks, models=models, strict_revisions=strict_revisions)


def published_comparison(results_dir: str | Path = DEFAULT_RESULTS_DIR) -> Any:
    """Our score, the published one and their difference per (model, task) that has both (DataFrame)."""
    from harness.bridges.published import published_comparison as compare_published

    return compare_published(load_results(results_dir))


def reproduce(
    reference: str | Path = "mteb_paper_eng",
    *,
    models: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    data_dir: str | Path | None = None,
    results_dir: str | Path | None = None,
    out_dir: str | Path | None = None,
    task_dirs: Sequence[str | Path] = (),
    batch_size: int = 32,
    allow_absolute_paths: bool = False,
    verbose: bool = True,
) -> Reproduction:
    """Run a reference table's models (``references/<name>.yaml``) on its tasks whose data is
    available (same store as :func:`evaluate`, resumed), and compare with the published
    numbers. Writes ``<out_dir>/<reference>.md`` and ``.html`` (default ``reports/reproduce``).

    Returns:
        A ``harness.reproduce.Reproduction``: ``.table`` (DataFrame: task, model, metric,
        published, ours, delta, tolerance, status, verdict, ...), ``.exit_code`` (0 when every
        row that ran is within tolerance), ``.markdown_path``, ``.html_path``.

    Raises:
        SpecError / ModelError: unknown reference, task or model (the CLI exits 2).
    """
    from harness import reproduce as rep

    config = RunConfig.create(
        task_dirs=tuple(task_dirs), data_dir=data_dir, results_dir=results_dir or DEFAULT_RESULTS_DIR, batch_size=batch_size,
        allow_absolute_paths=allow_absolute_paths, verbose=verbose,
    )
    table = rep.load_reference(reference)
    rows = rep.select_rows(table, tasks)
    runnable, _ = rep.select_models(table, models)
    if models is not None:  # rows of the table's other models are left out, not "not available"
        rows = [row for row in rows if row.model_id in runnable]
    registry = discover_specs(config.task_dirs)
    specs = {row.task: registry[row.task] for row in rows if row.task in registry}
    available = [name for name, spec in specs.items() if rep.data_available(spec, config.data_dir, allow_absolute=config.allow_absolute_paths)]
    outcomes: dict[tuple[str, str], rep.Outcome] = {}
    for model_id, model in runnable.items():
        wanted = [t for t in available if any(r.task == t and r.model_id == model_id for r in rows)]
        if not wanted:
            continue
        for unit in run(config.replace(models=[model], tasks=[specs[t] for t in wanted])).summary.outcomes:
            stored = unit.result
            scores = None
            if stored is not None and stored.data.harness.status == "run":  # never an imported score
                scores = {split: stored.scores(split) for split in stored.data.scores}
            outcomes[(model_id, unit.task)] = rep.Outcome(unit.status, scores, unit.message or "")
    comparison = rep.compare(table, rows, specs, runnable, outcomes)
    markdown, html = rep.render(comparison, table, out_dir if out_dir is not None else rep.DEFAULT_OUT_DIR)
    return rep.Reproduction(table, comparison, markdown, html)


def compare(
    results_dir: str | Path = DEFAULT_RESULTS_DIR,
    *,
    models: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    n_resamples: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    against: str = "all",
) -> Any:
    """Significance of the differences between stored models (see ``harness.stats.compare``).

    Returns:
        A ``Comparison``: ``.pairs``, ``.intervals``, ``.summary`` DataFrames, ``.cd_svg()``, ``.to_json()``.
    """
    from harness.stats import compare as compare_results

    return compare_results(
        load_results(results_dir), models=models, tasks=tasks, n_resamples=n_resamples, seed=seed, alpha=alpha, against=against
    )


def cache_info(cache_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Per cached model: name/revision, number of vectors, bytes."""
    from harness.cache import EmbeddingCache, default_cache_dir

    cache = EmbeddingCache(Path(cache_dir) if cache_dir else default_cache_dir())
    try:
        return cache.info()
    finally:
        cache.close()


def cache_clear(cache_dir: str | Path | None = None) -> int:
    """Delete every cached vector; returns how many were deleted."""
    from harness.cache import EmbeddingCache, default_cache_dir

    cache = EmbeddingCache(Path(cache_dir) if cache_dir else default_cache_dir())
    try:
        return cache.clear()
    finally:
        cache.close()
