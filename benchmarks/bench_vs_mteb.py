"""Our cold run against the installed mteb 2.x, task by task (same model, batch size and data).

Each side is a fresh process with an empty cache, timed whole (imports, model load, data,
encoding, scoring). Target: ours <= mteb's on every task type, |delta main score| <= 1e-4.

    python benchmarks/bench_vs_mteb.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import SHARED_DATASETS, harness_cli, save

TASKS = {
    "sts": "STSBenchmark",
    "classification": "FinancialPhraseBankAllAgreeClassification",
    "pair_classification": "TATQAParagraphPairClassification",
    "clustering": "FinancialPhraseBankAllAgreeClustering",
    "retrieval": "TATQAEvidenceRetrieval",
    "reranking": "TATQAEvidenceReranking",
}
BATCH = 32


def run(command: list[str]) -> tuple[float, str]:
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - began, done.stdout


def main() -> None:
    rows = []
    for task_type, name in TASKS.items():
        with tempfile.TemporaryDirectory() as tmp:
            theirs_s, out = run([sys.executable, str(Path(__file__).with_name("_mteb_side.py")), name, str(SHARED_DATASETS), str(BATCH)])
            theirs = json.loads(out.strip().splitlines()[-1])["main_score"]
            ours_s, _ = run(harness_cli("run", "--tasks", name, "--models", "minilm-l6", "--data-dir", str(SHARED_DATASETS),
                                        "--results", f"{tmp}/r", "--cache-dir", f"{tmp}/c", "--batch-size", str(BATCH), "--no-report"))
            ours = json.loads(next(Path(tmp, "r").glob("*/*/*.json")).read_text())["scores"]["test"][0]["main_score"]
        rows.append({"type": task_type, "task": name, "mteb_s": theirs_s, "ours_s": ours_s, "ratio": ours_s / theirs_s,
                     "mteb_score": theirs, "our_score": ours, "delta": ours - theirs})
        print(f"{task_type:<20} {name:<44} mteb {theirs_s:6.1f} s  ours {ours_s:6.1f} s  ratio {ours_s / theirs_s:.2f}  "
              f"score {ours:.5f} vs {theirs:.5f} (delta {ours - theirs:+.1e})")
    save("vs_mteb", {"batch_size": BATCH, "model": "all-MiniLM-L6-v2", "rows": rows})


if __name__ == "__main__":
    main()
