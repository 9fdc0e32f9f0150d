"""bf16 vs fp32 on CPU (issue 21, item 2): the STSBenchmark gap and the encode speed ratio.

Loads all-MiniLM-L6-v2 (``minilm-l6``) twice through the harness, as float32 and with
``--model-option dtype=bfloat16``'s load option, and embeds every STSBenchmark test sentence with
each (``../shared/datasets/stsbenchmark``): the main score (Spearman of the float32 cosine, scipy)
of each, their gap, and texts/s. Then ``--rounds`` paired, alternating passes over the first
``--speed-texts`` sentences time the ratio again (wall and process CPU seconds: CPU time is what a
loaded machine disturbs least). Writes ``benchmarks/results/dtype_cpu.json``.

Usage: ``python benchmarks/bench_dtype.py [--rounds 2] [--speed-texts 256] [--batch-size 32]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, SHARED_DATASETS, save

sys.path.insert(0, str(REPO))


def embed(model, texts: list[str], batch_size: int) -> tuple[np.ndarray, float, float]:
    """(vectors, wall s, CPU s) of embedding ``texts`` in batches, as the encode path does."""
    wall, cpu = time.perf_counter(), time.process_time()
    parts = [model.encode(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    return np.vstack(parts), time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--speed-texts", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    from scipy.stats import spearmanr

    from harness.models import load_model

    rows = [json.loads(line) for line in (SHARED_DATASETS / "stsbenchmark" / "test.jsonl").read_text().splitlines()]
    texts = [r["sentence1"] for r in rows] + [r["sentence2"] for r in rows]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # length-sorted, as the harness batches
    models = {"float32": load_model("minilm-l6"), "bfloat16": load_model("minilm-l6", load_options={"dtype": "bfloat16"})}
    out: dict = {"model": "minilm-l6", "texts": len(texts), "batch_size": args.batch_size, "torch_threads": None, "full": {}}
    for dtype, model in models.items():
        vectors, wall, cpu = embed(model, [texts[i] for i in order], args.batch_size)
        vectors = vectors[np.argsort(order)].astype(np.float32)
        u, v = vectors[: len(rows)], vectors[len(rows) :]
        cosine = (u * v).sum(1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)
        score = float(spearmanr(cosine, [r["score"] for r in rows]).statistic)
        out["full"][dtype] = {"cosine_spearman": score, "wall_s": wall, "cpu_s": cpu, "texts_per_s": len(texts) / wall,
                              "runtime": model.runtime()}
    import torch

    out["torch_threads"] = torch.get_num_threads()
    out["gap"] = out["full"]["bfloat16"]["cosine_spearman"] - out["full"]["float32"]["cosine_spearman"]
    sample = [texts[i] for i in order[:: max(1, len(order) // args.speed_texts)]][: args.speed_texts]
    runs: dict[str, list[tuple[float, float]]] = {"float32": [], "bfloat16": []}
    for i in range(args.rounds):
        for dtype in ("float32", "bfloat16") if i % 2 == 0 else ("bfloat16", "float32"):
            _, wall, cpu = embed(models[dtype], sample, args.batch_size)
            runs[dtype].append((wall, cpu))
    out["paired"] = {
        "texts": len(sample),
        "runs": runs,
        "bf16_over_fp32_time_wall_median": statistics.median(b[0] / a[0] for a, b in zip(runs["float32"], runs["bfloat16"])),
        "bf16_over_fp32_time_cpu_median": statistics.median(b[1] / a[1] for a, b in zip(runs["float32"], runs["bfloat16"])),
    }
    out["load_average"] = os.getloadavg()
    print(json.dumps({k: out[k] for k in ("gap", "paired", "load_average")}, indent=1, default=str))
    print({d: (round(f["cosine_spearman"], 6), round(f["texts_per_s"], 1)) for d, f in out["full"].items()})
    save("dtype_cpu", out)


if __name__ == "__main__":
    main()
