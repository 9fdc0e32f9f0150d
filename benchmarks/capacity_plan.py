"""Capacity plan: predicted wall time of MTEB(eng, v2) × 10 models, one machine vs a cluster.

Inputs:

* Measured throughput: every result JSON under ``--results`` records the texts its model encoded,
  the seconds spent in the model (``harness.encode``) and ``harness.model.throughput_texts_per_s``.
  Texts of different lengths cost differently, so per model the plan fits seconds per character
  (characters capped at ``4 × max_tokens``, ~4 characters per WordPiece token, as the model
  truncates): ``Σ seconds / Σ (texts × capped mean length)`` over its results, with each measured
  task's mean length computed from its data (tasks found by name among the built-in specs).
* Work: the 41 tasks of ``mteb.get_benchmark("MTEB(eng, v2)")`` with their evaluated splits and
  English subsets, from mteb's descriptive statistics (distinct texts and mean length per text
  field; a classification task encodes at most labels × 8 × 10 training texts, mteb's undersampling).
* Models: 10, cycling through the measured models (e.g. 3 measured → 4 + 3 + 3).

Schedules: one machine runs every unit in turn (at the measured throughput). The cluster has
``--nodes`` nodes (default 8), each ``--node-speedup`` times the measured throughput (default 1:
nodes like the measuring machine; run the harness once on a GPU node and pass its results with
``--node-results`` to use its measured throughput instead); units are placed longest first on the
node that frees up first (LPT), plus ``--unit-overhead`` seconds per unit (model load, data), and
also with units split in shards of ``--shard-size`` texts (as ``--executor ray`` does).
Scoring time (exact search over a large corpus) is not modelled.

Usage::

    python run_benchmark.py run --suite default --models minilm-l6,minilm-l3-onnx,minilm-l6-int8 --results results
    python benchmarks/capacity_plan.py --results results [--data-dir DIR] [--nodes 8] [--node-results DIR]

Models with no parameters (``harness/bm25``, ``harness/tfidf``, ``harness/random``) need no plan
and are left out. A measured task whose data needs ``--data-dir`` (or is not here) is one line,
exit 2, as is anything else the plan cannot read.

Prints a Markdown table; writes ``benchmarks/results/ray_capacity_plan.json``.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import fail

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
OUT = REPO / "benchmarks" / "results" / "ray_capacity_plan.json"
CHARS_PER_TOKEN = 4.0
SAMPLES_PER_LABEL, EXPERIMENTS = 8, 10  # mteb's classification undersampling (harness defaults)


@dataclass
class ModelCost:
    name: str
    seconds_per_char: float
    max_chars: float
    texts: int  # measured texts
    texts_per_s: float  # measured, as recorded

    def seconds(self, texts: float, mean_length: float) -> float:
        return texts * min(mean_length, self.max_chars) * self.seconds_per_char


@dataclass
class TaskSize:
    name: str
    type: str
    texts: int
    mean_length: float


def _distinct_texts(spec: Any, data_dir: Path | None) -> list[str]:
    from harness.data import load_task_data
    from harness.evaluators import get_evaluator

    groups = get_evaluator(spec.type).text_groups(load_task_data(spec, data_dir), spec.evaluator_options())
    roles: dict[Any, dict[str, None]] = {}
    for group in groups.values():
        roles.setdefault(group.role, {}).update(dict.fromkeys(group.texts))
    return [t for index in roles.values() for t in index]


def measured_costs(results: Path, data_dir: Path | None = None) -> list[ModelCost]:
    """Seconds per (capped) character of each model in ``results`` that has parameters."""
    import harness

    if not results.is_dir():
        fail(f"{results}: no such folder (the results of a run: --results DIR)")
    specs = {s.name: s for s in harness.get_tasks()}
    lengths: dict[str, float] = {}
    sums: dict[str, list[float]] = {}
    info: dict[str, dict[str, Any]] = {}
    for result in harness.load_results(results):
        encode = result.data.harness.model_extra.get("encode") or {}  # type: ignore[union-attr]
        model = result.data.harness.model
        if not encode.get("encoded") or not encode.get("seconds") or result.task_name not in specs or model.get("n_parameters") == 0:
            continue
        if result.task_name not in lengths:
            texts = _distinct_texts(specs[result.task_name], data_dir)
            lengths[result.task_name] = sum(map(len, texts)) / len(texts)
        max_chars = CHARS_PER_TOKEN * (model.get("max_tokens") or 512)
        seconds, chars, texts = sums.setdefault(model["name"], [0.0, 0.0, 0.0])
        sums[model["name"]] = [seconds + encode["seconds"], chars + encode["encoded"] * min(lengths[result.task_name], max_chars), texts + encode["encoded"]]
        info[model["name"]] = {"max_chars": max_chars}
    costs = []
    for name, (seconds, chars, texts) in sorted(sums.items()):
        costs.append(ModelCost(name, seconds / chars, info[name]["max_chars"], int(texts), texts / seconds))
    if not costs:
        fail(f"{results}: no result of a model with parameters on a built-in task (run the default suite first)")
    return costs


def _field_stats(split: dict[str, Any]) -> list[tuple[int, float]]:
    """(distinct texts, total characters) of every text field of one split's statistics."""
    out = []
    for key, value in split.items():
        if isinstance(value, dict) and "unique_texts" in value and value.get("total_text_length") is not None:
            n = value["unique_texts"]
            mean = value.get("average_text_length") or 0.0
            out.append((int(n), float(mean) * n))
    return out


def _labels(split: dict[str, Any]) -> int | None:
    for key, value in split.items():
        if key.startswith("label") and isinstance(value, dict) and value.get("unique_labels"):
            return int(value["unique_labels"])
    return None


def mteb_eng_sizes() -> list[TaskSize]:
    """Distinct texts and mean length of each MTEB(eng, v2) task, from mteb's descriptive statistics."""
    try:
        import mteb
    except ImportError:
        fail("the capacity plan reads MTEB(eng, v2)'s task sizes from mteb: pip install 'mteb>=2,<3'")
    sizes = []
    for task in mteb.get_benchmark("MTEB(eng, v2)").tasks:
        meta = task.metadata
        stats = meta.descriptive_stats or {}
        subsets = list(getattr(task, "hf_subsets", None) or [])

        def pick(split: str) -> list[dict[str, Any]]:
            data = stats.get(split) or {}
            per_subset = data.get("hf_subset_descriptive_stats")
            if per_subset and subsets and set(subsets) != set(per_subset):
                return [per_subset[s] for s in subsets if s in per_subset]
            return [data] if data else []

        fields: list[tuple[int, float]] = []
        for split in getattr(task, "eval_splits", None) or meta.eval_splits:
            for part in pick(split):
                fields += _field_stats(part)
        if meta.type == "Classification":
            for part in pick("train"):
                labels = _labels(part)
                for n, chars in _field_stats(part):
                    kept = min(n, labels * SAMPLES_PER_LABEL * EXPERIMENTS) if labels else n
                    fields.append((kept, chars * kept / n if n else 0.0))
        texts = sum(n for n, _ in fields)
        sizes.append(TaskSize(meta.name, meta.type, texts, sum(c for _, c in fields) / texts if texts else 0.0))
    return sizes


def lpt(durations: list[float], nodes: int) -> float:
    """Makespan of longest-processing-time-first list scheduling on ``nodes`` identical nodes."""
    free = [0.0] * nodes
    for duration in sorted(durations, reverse=True):
        heapq.heapreplace(free, free[0] + duration)
    return max(free)


def plan(costs: list[ModelCost], sizes: list[TaskSize], *, models: int, nodes: int, speedup: float, overhead: float, shard_size: int,
         node_costs: dict[str, ModelCost]) -> dict[str, Any]:
    chosen = [costs[i % len(costs)] for i in range(models)]
    units, cluster_units, shards = [], [], []
    for cost in chosen:
        remote = node_costs.get(cost.name)
        for task in sizes:
            local_s = cost.seconds(task.texts, task.mean_length) + overhead
            node_s = (remote.seconds(task.texts, task.mean_length) if remote else cost.seconds(task.texts, task.mean_length) / speedup)
            units.append(local_s)
            cluster_units.append(node_s + overhead)
            pieces = max(1, math.ceil(task.texts / shard_size))
            shards += [node_s / pieces + overhead] * pieces
    return {
        "models": [c.name for c in chosen],
        "units": len(units),
        "texts": sum(t.texts for t in sizes) * len(chosen),
        "one_machine_s": sum(units),
        "cluster_lpt_s": lpt(cluster_units, nodes),
        "cluster_lpt_sharded_s": lpt(shards, nodes),
        "cluster_lower_bound_s": max(sum(cluster_units) / nodes, max(cluster_units)),
        "longest_unit_s": max(cluster_units),
    }


def hours(seconds: float) -> str:
    return f"{seconds / 3600:,.1f} h" if seconds >= 360 else f"{seconds / 60:,.1f} min"


def main() -> None:
    parser = argparse.ArgumentParser(description="Predicted wall time of MTEB(eng, v2) x 10 models: one machine vs a cluster.")
    parser.add_argument("--results", default="results", help="results with measured throughput (default: results)")
    parser.add_argument("--data-dir", type=Path, help="root of the measured tasks' local data, as given to `run` (default: $HARNESS_DATA_DIR)")
    parser.add_argument("--node-results", help="results measured on one cluster node (e.g. a GPU node): its throughput per model")
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--nodes", type=int, default=8)
    parser.add_argument("--node-speedup", type=float, default=1.0, help="a node's throughput / the measured one (without --node-results)")
    parser.add_argument("--unit-overhead", type=float, default=5.0, help="seconds per unit besides encoding (default 5)")
    parser.add_argument("--shard-size", type=int, default=50_000)
    args = parser.parse_args()
    from harness.errors import HarnessError, one_line

    try:
        costs = measured_costs(Path(args.results), args.data_dir)
        node_costs = {c.name: c for c in measured_costs(Path(args.node_results), args.data_dir)} if args.node_results else {}
    except HarnessError as err:
        hint = "" if "--data-dir" in str(err) else " (the measured tasks' data: --data-dir DIR)"
        fail(f"{one_line(err)}{hint}")
    sizes = mteb_eng_sizes()
    options = {"nodes": args.nodes, "speedup": args.node_speedup, "overhead": args.unit_overhead, "shard_size": args.shard_size, "node_costs": node_costs}
    rows = [(c.name, plan([c], sizes, models=1, **options)) for c in costs]
    mix = plan(costs, sizes, models=args.models, **options)
    rows.append((f"{args.models} models (cycling the {len(costs)} above)", mix))

    node = f"{args.node_speedup:g}× measured" if not node_costs else f"measured in {args.node_results}"
    print(f"MTEB(eng, v2): {len(sizes)} tasks, {sum(t.texts for t in sizes):,} distinct texts, "
          f"mean {sum(t.texts * t.mean_length for t in sizes) / sum(t.texts for t in sizes):,.0f} characters; "
          f"{args.nodes} nodes at {node} throughput, {args.unit_overhead:g} s per unit, shards of {args.shard_size:,} texts\n")
    print("| models | measured texts/s | units | 1 machine | " f"{args.nodes} nodes, longest first | {args.nodes} nodes, + shards | best speedup |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    rates = {c.name: c.texts_per_s for c in costs}
    for name, row in rows:
        rate = f"{rates[name]:,.0f}" if name in rates else "—"
        best = min(row["cluster_lpt_s"], row["cluster_lpt_sharded_s"])
        print(f"| {name} | {rate} | {row['units']} | {hours(row['one_machine_s'])} | {hours(row['cluster_lpt_s'])} | "
              f"{hours(row['cluster_lpt_sharded_s'])} | {row['one_machine_s'] / best:.1f}× |")
    largest = sorted(sizes, key=lambda t: -t.texts)[:5]
    print("\nLargest tasks (distinct texts): " + ", ".join(f"{t.name} {t.texts:,}" for t in largest))

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "results": args.results, "node_results": args.node_results, "nodes": args.nodes, "node_speedup": args.node_speedup,
        "unit_overhead_s": args.unit_overhead, "shard_size": args.shard_size,
        "measured": [vars(c) for c in costs],
        "tasks": [vars(t) for t in sizes],
        "plans": {name: row for name, row in rows},
    }, indent=2) + "\n")
    print(f"\nwrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
