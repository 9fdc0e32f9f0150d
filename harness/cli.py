"""Command line: parse arguments, call one API function per subcommand, map user errors to exit 2.

Exit codes: 0 ok; 1 a bug (a traceback, or for a unit of ``run`` one line naming the log file
that holds it); 2 a user error (one line per problem, no traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, one_line

EXIT_BUG = 1
EXIT_USER_ERROR = 2
EXIT_REGRESSION = 1  # diff --fail-on-regression
_MISMATCH_LINES = 5  # "revision mismatch" lines printed by import-results (a whole-repository import has ~40,000)


def _csv_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _add_task_source_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task-dir", action="append", default=[], metavar="DIR", help="add every *.yaml spec under DIR (repeatable)")


def _add_model_source_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model-dir", action="append", default=[], metavar="DIR", help="add every *.yaml model card under DIR (repeatable)")


def _add_benchmark_arg(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--benchmark", metavar="NAME", help=f"{what} (e.g. 'MTEB(eng, v2)'; `list benchmarks` names them)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description="Benchmark text-embedding models on declarative tasks.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run models on tasks, then render the report")
    run.add_argument("--suite", help="run every task of this suite (default: 'default' when --tasks is not given)")
    run.add_argument("--tasks", type=_csv_list, help="comma-separated task names or spec files")
    _add_benchmark_arg(run, "run the tasks of this mteb benchmark that can run here")
    run.add_argument("--models", type=_csv_list, help="comma-separated models (default: minilm-l6,minilm-l3-onnx,bm25)")
    _add_model_source_args(run)
    run.add_argument("--model-option", action="append", default=[], metavar="KEY=VALUE",
                     help="load every model with dtype=float32|bfloat16|float16, attn_implementation=sdpa|flash_attention_2|eager or device=cpu|cuda:N (repeatable; docs/model-cards.md)")
    _add_task_source_args(run)
    run.add_argument("--data-dir", help="root of local task data (default: $HARNESS_DATA_DIR)")
    run.add_argument("--allow-absolute-paths", action="store_true", help="let a spec's data.local and split names be absolute or leave --data-dir (off: such a spec fails)")
    run.add_argument("--results", default="results", help="results directory (default: results)")
    run.add_argument("--out", help="report directory (default: reports/<suite>)")
    run.add_argument("--batch-size", type=int, default=32)
    run.add_argument("--overwrite", action="store_true", help="recompute results that already exist")
    run.add_argument("--cache-dir", help="embedding cache (default: $HARNESS_CACHE_DIR or ~/.cache/harness)")
    run.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    run.add_argument("--sweep", action="append", default=[], metavar="KEY=V1,V2",
                     help="score variants of each model: layer=2,4 | dim=64,128 | quantize=none,float16,int8,uint8,binary,ubinary | "
                          "rescore=0,100 (with quantize=binary|ubinary|int8; docs/sweeps.md) (repeatable)")
    run.add_argument("--no-report", action="store_true", help="do not render the report after the run")
    run.add_argument("--max-cost", type=float, metavar="USD", help="stop each API model (openai:...) before it spends more than USD in this run")
    run.add_argument("--executor", choices=["local", "ray"], default="local", help="run units here (default) or on a Ray cluster (pip install -e .[ray])")
    run.add_argument("--ray-address", metavar="ADDRESS", help="with --executor ray: auto, HOST:PORT or ray://HOST:10001 (default: start a local Ray instance)")
    run.add_argument("--gpus-per-model", type=float, metavar="N", help="with --executor ray: GPUs per model replica (default 0)")
    run.add_argument("--cpus-per-unit", type=float, metavar="N", help="with --executor ray: CPUs per model replica (default 1)")
    run.add_argument("--shard-size", type=int, metavar="N", help="with --executor ray: embed a corpus of more texts in shards over the replicas (default 50000)")
    run.add_argument("--max-batch-tokens", type=int, metavar="N", help="fill each batch up to N tokens (padding included, the model's tokenizer) instead of --batch-size texts")
    run.add_argument("--devices", type=_csv_list, metavar="DEV,DEV|auto", help="one model replica per device (cuda:0,cuda:1; cpu,cpu; auto: every GPU) sharing each task's texts; needs Ray (pip install -e .[ray])")

    listing = sub.add_parser("list", help="list tasks, models or suites")
    listing.add_argument("what", choices=["tasks", "models", "suites", "benchmarks"])
    listing.add_argument("--suite")
    _add_benchmark_arg(listing, "with tasks: the tasks of this mteb benchmark and how each runs here")
    listing.add_argument("--type")
    listing.add_argument("--source", choices=["specs", "mteb"], default="specs",
                         help="task specs (default) or every supported task of the installed mteb (run them as mteb:NAME)")
    _add_task_source_args(listing)
    _add_model_source_args(listing)

    compare = sub.add_parser("compare", help="which differences between models are significant")
    compare.add_argument("--results", default="results")
    compare.add_argument("--models", type=_csv_list)
    compare.add_argument("--tasks", type=_csv_list)
    compare.add_argument("--resamples", type=int, default=10_000)
    compare.add_argument("--seed", type=int, default=0)
    compare.add_argument("--alpha", type=float, default=0.05)
    compare.add_argument("--against", choices=["all", "leader"], default="all")
    compare.add_argument("--json", action="store_true", help="print the pairs and the summary as JSON")

    _add_diff_parser(sub)

    cache = sub.add_parser("cache", help="inspect or clear the embedding cache")
    cache.add_argument("action", choices=["info", "clear"])
    cache.add_argument("--cache-dir", help="default: $HARNESS_CACHE_DIR or ~/.cache/harness")

    imports = sub.add_parser("import-results", help="import published mteb results into the store (marked as published)")
    imports.add_argument("path", help="a clone of mteb's results repository, or any folder of mteb TaskResult JSON files")
    imports.add_argument("--results", default="results", help="results directory (default: results)")
    imports.add_argument("--tasks", type=_csv_list, help="import only these task names")
    imports.add_argument("--models", type=_csv_list, help="import only these published model names (org/name)")
    imports.add_argument("--strict-revisions", action="store_true",
                         help="a result on another dataset revision than ours gets its own column TASK@REVISION (default: one column per task)")
    _add_task_source_args(imports)

    report = sub.add_parser("report", help="render the leaderboard from stored results")
    report.add_argument("--results", default="results")
    report.add_argument("--out", help="output directory (default: reports/<suite> or reports/all)")
    report.add_argument("--suite", action="append", help="only this suite's tasks; repeat to show suites side by side")
    _add_benchmark_arg(report, "the table of this mteb benchmark, ranked as mteb's leaderboard ranks it")
    report.add_argument("--strict-revisions", action="store_true",
                        help="keep results on another dataset revision in their own column TASK@REVISION")
    _add_task_source_args(report)

    reproduce = sub.add_parser("reproduce", help="run a reference table's models on its tasks and compare with the published numbers")
    reproduce.add_argument("--reference", default="mteb_paper_eng", help="a table in references/ (by name) or a YAML file (default: mteb_paper_eng)")
    reproduce.add_argument("--models", type=_csv_list, help="models to run (aliases, hub ids, paths; default: the table's models that have a built-in alias)")
    reproduce.add_argument("--tasks", type=_csv_list, help="only these tasks of the table")
    _add_benchmark_arg(reproduce, "only the table's tasks that are in this mteb benchmark")
    reproduce.add_argument("--data-dir", help="root of local task data (default: $HARNESS_DATA_DIR)")
    reproduce.add_argument("--allow-absolute-paths", action="store_true", help="let a spec's data.local and split names be absolute or leave --data-dir (off: such a spec fails)")
    reproduce.add_argument("--results", default="results", help="results directory (default: results)")
    reproduce.add_argument("--out", default="reports/reproduce", help="where <reference>.md and .html go (default: reports/reproduce)")
    reproduce.add_argument("--batch-size", type=int, default=32)
    _add_task_source_args(reproduce)
    return parser


def _add_diff_parser(sub: Any) -> None:
    diff = sub.add_parser("diff", help="what changed from model A (the baseline) to model B: per-task paired tests, items that moved, a regression gate")
    diff.add_argument("a", help="the baseline: an alias (minilm-l6), a hub id or a stored name (NAME@dim=128 for a sweep variant, NAME#REVISION for a revision)")
    diff.add_argument("b", help="the model compared with it, named as A")
    diff.add_argument("--results", default="results", help="results directory (default: results)")
    diff.add_argument("--tasks", type=_csv_list, help="only these tasks (default: every task both have)")
    diff.add_argument("--data-dir", help="root of local task data, for the items' texts (default: $HARNESS_DATA_DIR)")
    diff.add_argument("--json", action="store_true", help="print the diff as JSON")
    diff.add_argument("--out", help="write DIR/diff.html")
    diff.add_argument("--top", type=int, default=5, help="items listed per task for the largest losses and for the largest gains (0: none)")
    diff.add_argument("--resamples", type=int, default=10_000)
    diff.add_argument("--seed", type=int, default=0)
    diff.add_argument("--alpha", type=float, default=0.05, help="significance level after Holm over the tasks (default 0.05)")
    diff.add_argument("--min-delta", type=float, default=0.005, help="with --fail-on-regression: the smallest loss that fails (default 0.005)")
    diff.add_argument("--fail-on-regression", action="store_true", help="exit 1 when some task is significantly worse by more than --min-delta")


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def cmd_list(args: argparse.Namespace) -> int:
    if args.what == "benchmarks" or args.benchmark:
        from harness.benchmarks.listing import benchmark_table

        rows, header = benchmark_table(None if args.what == "benchmarks" else args.benchmark, args.task_dir)
        print(_table(rows, header))
        return 0
    if args.what == "models":
        from harness.models.registry import adapter_kinds, model_aliases

        rows = []
        for name, alias in model_aliases(args.model_dir).items():
            missing = alias.missing_packages()
            status = f"not installed ({alias.install})" if missing else "installed"
            rows.append([name, alias.adapter, status, alias.records if alias.records != name else "", alias.description])
        rows += [[kind, kind, "", "", "adapter (KIND:ARG for a path or hub id)"] for kind in adapter_kinds()]
        print(_table(rows, ["name", "adapter", "status", "stored as", "description"]))
        return 0
    from harness import api
    from harness.registry import task_source

    tasks = api.get_tasks(suite=args.suite, type=args.type, task_dirs=args.task_dir, source=args.source)
    if args.what == "suites":
        counts: dict[str, int] = {}
        for spec in tasks:
            for suite in spec.suite:
                counts[suite] = counts.get(suite, 0) + 1
        print(_table([[s, str(n)] for s, n in sorted(counts.items())], ["suite", "tasks"]))
        return 0
    prefix = "mteb:" if args.source == "mteb" else ""
    rows = [[prefix + s.name, s.type, s.main_score, ",".join(s.suite), task_source(s)] for s in tasks]
    print(_table(rows, ["name", "type", "main score", "suites", "data"]))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from harness import api
    from harness.config import DEFAULT_SUITE, RunConfig

    config = RunConfig.from_cli(args)
    summary = api.run(config).summary
    print(f"run: {summary.line()}", file=sys.stderr)
    if not args.no_report and summary.results:
        suite = args.suite or (None if args.tasks or args.benchmark else DEFAULT_SUITE)
        out = Path(args.out) if args.out else api.DEFAULT_REPORTS_DIR / (suite or "custom")
        tasks = sorted({o.task for o in summary.outcomes})
        if args.benchmark:
            path = api.report(args.results, args.out, benchmark=args.benchmark)
        else:
            path = api.report(args.results, out, suite=suite, task_dirs=args.task_dir) if suite else _report_tasks(args.results, out, tasks)
        print(f"report: {path}", file=sys.stderr)
    if not summary.results and not summary.count("failed"):
        print(f"error: no task could run ({summary.line()})", file=sys.stderr)
    if summary.bugs:
        return EXIT_BUG
    if summary.count("failed") or not summary.results:
        return EXIT_USER_ERROR
    return 0


def _report_tasks(results: str, out: Path, tasks: list[str]) -> Path:
    from harness.api import load_results
    from harness.leaderboard import render_report

    return render_report(load_results(results, tasks=tasks), out)


def cmd_report(args: argparse.Namespace) -> int:
    from harness import api

    path = api.report(args.results, args.out, suite=args.suite, task_dirs=args.task_dir,
                      benchmark=args.benchmark, strict_revisions=args.strict_revisions)
    print(path)
    return 0


def cmd_import_results(args: argparse.Namespace) -> int:
    from harness import api

    summary = api.import_results(args.path, args.results, task_dirs=args.task_dir, tasks=args.tasks, models=args.models,
                                 strict_revisions=args.strict_revisions)
    for line in summary.mismatched[:_MISMATCH_LINES]:
        print(f"revision mismatch: {line}", file=sys.stderr)
    if len(summary.mismatched) > _MISMATCH_LINES:
        print(f"revision mismatch: … and {len(summary.mismatched) - _MISMATCH_LINES} more (each marked in the report's drill-down)", file=sys.stderr)
    print(f"import-results: {summary.line()}", file=sys.stderr)
    return 0 if summary.written else EXIT_USER_ERROR


def cmd_compare(args: argparse.Namespace) -> int:
    from harness import api

    result = api.compare(args.results, models=args.models, tasks=args.tasks, n_resamples=args.resamples, seed=args.seed,
                         alpha=args.alpha, against=args.against)
    if args.json:
        print(result.to_json())
        return 0
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4f}".format):
        print(result.pairs.iloc[:, :11].to_string(index=False))
        print()
        print(result.summary.to_string(index=False))
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    method = result.method
    print(f"method: {method}", file=sys.stderr)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """Exit 0; 1 with --fail-on-regression when the gate fails; 2 for a user error."""
    from harness.rundiff import diff

    result = diff(args.a, args.b, results_dir=args.results, tasks=args.tasks, n_resamples=args.resamples, seed=args.seed,
                  alpha=args.alpha, min_delta=args.min_delta, top=args.top, data_dir=args.data_dir)
    print(result.to_json() if args.json else result.to_table())
    for line in result.skipped + [f"note: {n}" for n in result.notes]:
        print(line, file=sys.stderr)
    if args.out:
        print(f"diff: {result.write_html(args.out)}", file=sys.stderr)
    return EXIT_REGRESSION if args.fail_on_regression and result.failed else 0


def cmd_cache(args: argparse.Namespace) -> int:
    from harness import api

    if args.action == "clear":
        print(f"deleted {api.cache_clear(args.cache_dir)} cached vectors")
        return 0
    from harness.cache import DB_NAME, default_cache_dir

    entries = api.cache_info(args.cache_dir)
    rows = [[e["model"]["name"], e["model"]["revision"], str(e["vectors"]), f"{e['bytes'] / 2**20:.1f} MiB"] for e in entries]
    print(_table(rows, ["model", "revision", "vectors", "size"]))
    folder = (Path(args.cache_dir) if args.cache_dir else default_cache_dir()).absolute()
    on_disk = sum(p.stat().st_size for p in folder.glob(DB_NAME + "*") if p.is_file())  # the database, its WAL, set-aside copies
    print(f"cache: {folder / DB_NAME}: {sum(e['vectors'] for e in entries)} vectors, {on_disk / 2**20:.1f} MiB on disk")
    return 0


def _reproduce_tasks(reference: str, tasks: list[str] | None, benchmark: str | None) -> list[str] | None:
    """``--tasks``, or with ``--benchmark`` the table's tasks (of ``--tasks``) that are in that benchmark."""
    if benchmark is None:
        return tasks
    from harness.benchmarks import get_benchmark
    from harness.errors import SpecError
    from harness.reproduce.reference import load_reference

    bench = get_benchmark(benchmark)
    chosen = [t for t in dict.fromkeys(row.task for row in load_reference(reference).rows) if t in bench.details and (tasks is None or t in tasks)]
    if not chosen:
        raise SpecError(f"--benchmark {bench.name}: reference {reference!r} has no rows for its tasks" + (" among --tasks" if tasks else ""))
    return chosen


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Exit 0 when every row that ran is within tolerance, 1 otherwise (2: user error)."""
    from harness import api

    result = api.reproduce(
        args.reference,
        models=args.models,
        tasks=_reproduce_tasks(args.reference, args.tasks, args.benchmark),
        data_dir=args.data_dir,
        results_dir=args.results,
        out_dir=args.out,
        task_dirs=args.task_dir,
        batch_size=args.batch_size,
        allow_absolute_paths=args.allow_absolute_paths,
    )
    print(result.to_markdown())
    print(f"reproduce: {result.summary()}; report: {result.markdown_path}, {result.html_path}", file=sys.stderr)
    return result.exit_code


COMMANDS = {"run": cmd_run, "list": cmd_list, "report": cmd_report, "cache": cmd_cache, "import-results": cmd_import_results, "reproduce": cmd_reproduce, "compare": cmd_compare, "diff": cmd_diff}


def _one_line_warning(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
    print(f"warning: {one_line(message)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``run_benchmark.py`` and the ``harness`` console script."""
    args = build_parser().parse_args(argv)
    warnings.showwarning = _one_line_warning
    try:
        return COMMANDS[args.command](args)
    except HarnessError as err:
        for message in err.messages:
            print(f"error: {one_line(message)}", file=sys.stderr)  # bounded again: the last guard before the terminal
        return EXIT_USER_ERROR
    except KeyboardInterrupt as err:
        print(str(err) or "interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `list tasks | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
