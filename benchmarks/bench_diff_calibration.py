"""Calibration of ``diff --fail-on-regression`` on real tasks: runs that differ only by a seed.

minilm-l6's vectors of the default suite's classification tasks are computed once (through the
embedding cache); the classification probe is then scored with seeds 0 .. 2N-1 (each seed draws
other training samples for its logistic regressions), each score stored as its own model. Pairs
(2k, 2k+1) differ only by the seed, so a calibrated gate fails on at most ``alpha`` of them.
Reported: the gate's failure rate (item test + experiment permutation test, Holm over tasks),
the rate the item test alone would give, and the per-task rejection rate of the item test.
Writes ``benchmarks/results/diff_calibration.json``.

Usage: ``python benchmarks/bench_diff_calibration.py [--pairs 20] [--alpha 0.05]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.api import resolve_tasks
from harness.cache import EmbeddingCache
from harness.data import load_task_data
from harness.encode import encode_groups
from harness.evaluators.base import TextGroup
from harness.models import load_model
from harness.rundiff import diff
from harness.stats.within import holm
from harness.store import ResultDocument, write_result
from harness.tasktypes import get_task_type

TASKS = ["PangLeePolarity", "MiniNewsgroupsClassification"]
RESULTS = Path(__file__).resolve().parent / "results"


def store_seeds(root: Path, seeds: int) -> None:
    """One stored result per (task, seed), the same vectors throughout."""
    model = load_model("minilm-l6")
    cache = EmbeddingCache(None)
    for spec in resolve_tasks(TASKS, None, ()):
        data = load_task_data(spec)
        texts = list(dict.fromkeys([*data.train_texts, *data.test_texts]))
        vectors, _ = encode_groups(model, {"all": TextGroup(texts)}, task=spec, cache=cache)
        row = {t: i for i, t in enumerate(texts)}
        evaluator = get_task_type(spec.type).evaluator
        for seed in range(seeds):
            options = spec.evaluator_options().model_copy(update={"seed": seed})
            groups = evaluator.text_groups(data, options)
            embeddings = {k: vectors["all"][[row[t] for t in g.texts]] for k, g in groups.items()}
            output = evaluator.evaluate(data, embeddings, options, "cosine")
            document = ResultDocument.build(spec, model={"name": f"minilm-l6/seed-{seed}", "revision": "r"},
                                            metrics=output.metrics, evaluation_time=None, details={})
            write_result(root, document, {f"{spec.data.eval_split}.{k}": v for k, v in output.items.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--resamples", type=int, default=2000)
    args = parser.parse_args()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        store_seeds(Path(tmp), 2 * args.pairs)
        gate, item_only, per_task = 0, 0, []
        for k in range(args.pairs):
            result = diff(f"minilm-l6/seed-{2 * k}", f"minilm-l6/seed-{2 * k + 1}", results_dir=tmp, alpha=args.alpha,
                          min_delta=0.0, n_resamples=args.resamples, seed=k, top=0)
            gate += result.failed
            tasks = result.tasks
            item_only += bool(((holm(tasks["p_value"].to_numpy()) < args.alpha) & (tasks["delta"] < 0)).any())
            per_task += list(tasks["p_value"] < args.alpha)
    numbers = {
        "tasks": TASKS, "pairs": args.pairs, "alpha": args.alpha, "resamples": args.resamples,
        "gate_failure_rate": gate / args.pairs, "item_test_only_failure_rate": item_only / args.pairs,
        "item_test_rejection_rate_per_task": float(np.mean(per_task)), "seconds": round(time.perf_counter() - began, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "diff_calibration.json").write_text(json.dumps(numbers, indent=2) + "\n")
    print(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()
