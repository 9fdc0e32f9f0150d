"""Our cold run against the installed mteb 2.x, task by task (same model, batch size and data).

Each side is a fresh process with an empty cache, timed whole (imports, model load, data,
encoding, scoring). The two sides run as pairs, alternating which goes first; per task the script
prints the median ratio of CPU time and of wall time over the pairs, with their ranges.
Target: ours <= mteb's on every task type, |delta main score| <= 1e-4.

    python benchmarks/bench_vs_mteb.py [--types sts,retrieval] [--pairs 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

from _common import SHARED_DATASETS, harness_cli, measured, paired, save, shared_data

TASKS = {
    "sts": "STSBenchmark",
    "classification": "FinancialPhraseBankAllAgreeClassification",
    "pair_classification": "TATQAParagraphPairClassification",
    "clustering": "FinancialPhraseBankAllAgreeClustering",
    "retrieval": "TATQAEvidenceRetrieval",
    "reranking": "TATQAEvidenceReranking",
}
BATCH = 32


def compare_task(name: str, pairs: int) -> dict:
    """Paired cold runs of one task on both sides, and both main scores."""
    scores: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        runs = itertools.count()

        def theirs() -> tuple[float, float]:
            wall, cpu, out = measured([sys.executable, str(Path(__file__).with_name("_mteb_side.py")), name, str(SHARED_DATASETS), str(BATCH)])
            scores["mteb"] = json.loads(out.strip().splitlines()[-1])["main_score"]
            return wall, cpu

        def ours() -> tuple[float, float]:
            fresh = Path(tmp, str(next(runs)))  # an empty cache and store each time: a cold run
            wall, cpu, _ = measured(harness_cli("run", "--tasks", name, "--models", "minilm-l6", "--data-dir", str(SHARED_DATASETS),
                                                "--results", f"{fresh}/r", "--cache-dir", f"{fresh}/c", "--batch-size", str(BATCH), "--no-report"))
            scores["ours"] = json.loads(next(Path(fresh, "r").glob("*/*/*.json")).read_text())["scores"]["test"][0]["main_score"]
            return wall, cpu

        summary = paired({"mteb": theirs, "ours": ours}, pairs)
    return {**summary, "mteb_score": scores["mteb"], "our_score": scores["ours"], "delta": scores["ours"] - scores["mteb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--types", default=",".join(TASKS), help="comma-separated task types (default: all six)")
    parser.add_argument("--pairs", type=int, default=1, help="paired runs per task (default 1)")
    args = parser.parse_args()
    shared_data()  # one line and exit 2 without the real data
    rows = []
    for task_type in args.types.split(","):
        name = TASKS[task_type]
        row = {"type": task_type, "task": name, **compare_task(name, args.pairs)}
        rows.append(row)
        print(f"{task_type:<20} {name:<44} ours/mteb cpu {row['cpu_ratio_median']:.2f} "
              f"({row['cpu_ratio_range'][0]:.2f}-{row['cpu_ratio_range'][1]:.2f}), wall {row['wall_ratio_median']:.2f} "
              f"({row['wall_ratio_range'][0]:.2f}-{row['wall_ratio_range'][1]:.2f})  "
              f"score {row['our_score']:.5f} vs {row['mteb_score']:.5f} (delta {row['delta']:+.1e})")
    save("vs_mteb", {"batch_size": BATCH, "model": "all-MiniLM-L6-v2", "pairs": args.pairs, "rows": rows})


if __name__ == "__main__":
    main()
