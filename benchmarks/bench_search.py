"""Exact top-k search scaling: synthetic 384-d unit vectors, 1,000 queries, 10k / 100k / 1M documents.

Each size runs in a fresh process (so peak RSS is its own) through the retrieval evaluator's
search (``harness.evaluators._ranking.top_k``, chunked, ``np.argpartition``) with k = 1000, the
largest cut-off mteb scores. Prints time, peak RSS (target <= 2 GB with the 1M x 384 float32
corpus itself taking 1.5 GB) and the fitted log-log slope of time vs corpus size (1 = linear).

    python benchmarks/bench_search.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np

from _common import REPO, save

SIZES = [10_000, 100_000, 1_000_000]
ONE = """
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {repo!r})
from harness.evaluators._ranking import id_ranks, top_k
n_docs = int(sys.argv[1])
rng = np.random.default_rng(0)
docs = rng.standard_normal((n_docs, 384), dtype=np.float32)
for start in range(0, n_docs, 100_000):
    block = docs[start:start + 100_000]
    block /= np.linalg.norm(block, axis=1, keepdims=True)
queries = rng.standard_normal((1000, 384), dtype=np.float32)
queries /= np.linalg.norm(queries, axis=1, keepdims=True)
ranks = id_ranks([str(i) for i in range(n_docs)])
began = time.perf_counter()
for rows, ranked, scores in top_k(queries, docs, ranks, 1000, 2**24):
    pass
seconds = time.perf_counter() - began
print(json.dumps({{"docs": n_docs, "seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    rows = []
    for n in SIZES:
        done = subprocess.run([sys.executable, "-c", ONE.format(repo=str(REPO)), str(n)], capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{n:>9,} docs: {rows[-1]['seconds']:7.2f} s, peak RSS {rows[-1]['peak_rss_mb']:7.0f} MB")
    slope = float(np.polyfit(np.log([r["docs"] for r in rows]), np.log([r["seconds"] for r in rows]), 1)[0])
    print(f"log-log slope of time vs corpus size: {slope:.2f} (1.0 = linear)")
    save("search", {"queries": 1000, "dim": 384, "k": 1000, "runs": rows, "slope": slope})


if __name__ == "__main__":
    main()
