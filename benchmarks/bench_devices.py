"""Device check (issue 21): texts/s of fp32 vs bf16, and of 1 vs 2 replicas on one device.

Each configuration is a fresh ``harness run`` process with a fresh results folder and no embedding
cache (``--no-cache``), so every text is encoded; the numbers come from the results it stores
(``harness.model.runtime``: texts/s over the seconds spent in the model, dtype, device, replicas,
peak CUDA memory) and the process's wall time.

* ``fp32``: the model as published, one replica (the local executor).
* ``bf16``: ``--model-option dtype=bfloat16``, one replica.
* ``fp32 ×2``: ``--devices D,D``: two replicas on the same device sharing each task's texts (Ray).

On a CUDA machine ``D`` is ``cuda:0`` (the replicas share the GPU); elsewhere ``cpu`` (two CPU
replicas, each with half the cores). Runs on CPU too; a machine without CUDA-enabled torch says so
in its output (``cuda_available: false``).

Usage: ``python benchmarks/bench_devices.py [--model minilm-l6] [--tasks MiniNewsgroupsClassification]
[--batch-size 64] [--only fp32,bf16,fp32x2]``; writes ``benchmarks/results/devices.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, harness_cli, measured, save

CONFIGS = {"fp32": [], "bf16": ["--model-option", "dtype=bfloat16"], "fp32x2": ["--devices", "{D},{D}"]}


def cuda_info() -> dict[str, Any]:
    """What torch sees on this machine."""
    import torch

    available = torch.cuda.is_available()
    return {"torch": torch.__version__, "cuda_available": available, "gpu": torch.cuda.get_device_name(0) if available else None}


def run_one(name: str, flags: list[str], args: argparse.Namespace, device: str, work: Path) -> dict[str, Any]:
    """One configuration in a fresh process; its stored results' runtime blocks and the wall time."""
    results = work / name
    command = harness_cli(
        "run", "--models", args.model, "--tasks", args.tasks, "--results", str(results), "--no-cache", "--no-report",
        "--batch-size", str(args.batch_size), *[f.format(D=device) for f in flags],
    )
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    wall, cpu, _ = measured(command, env=env, cwd=REPO, timeout=args.timeout)
    units = []
    for path in sorted(results.rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "harness" in data:
            model = data["harness"]["model"]
            units.append({"task": data["task_name"], "model": model["name"], "main_score": next(iter(data["scores"].values()))[0]["main_score"],
                          "encoded": data["harness"]["encode"]["encoded"], **model.get("runtime", {})})
    encoded = sum(u["encoded"] for u in units)
    seconds = sum(u["encoded"] / u["texts_per_s"] for u in units if u.get("texts_per_s"))
    return {"flags": [f.format(D=device) for f in flags], "wall_s": wall, "cpu_s": cpu, "encoded": encoded,
            "texts_per_s": encoded / seconds if seconds else None, "units": units}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm-l6")
    parser.add_argument("--tasks", default="MiniNewsgroupsClassification")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--only", default=",".join(CONFIGS))
    parser.add_argument("--timeout", type=float, default=500.0)
    parser.add_argument("--name", default="devices", help="benchmarks/results/<name>.json")
    args = parser.parse_args()
    info = cuda_info()
    device = "cuda:0" if info["cuda_available"] else "cpu"
    print(f"torch {info['torch']}; CUDA {'available: ' + str(info['gpu']) if info['cuda_available'] else 'not available (CPU only)'}; load {os.getloadavg()}")
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only.split(","):
            runs[name] = run_one(name, CONFIGS[name], args, device, Path(tmp))
            r = runs[name]
            peaks = [u["peak_memory_bytes"] for u in r["units"] if u.get("peak_memory_bytes")]
            peak = f"{max(peaks) / 2**30:.2f} GiB" if peaks else "n/a"
            rate = f"{r['texts_per_s']:.0f}" if r["texts_per_s"] else "n/a"
            print(f"{name:8} {rate:>8} texts/s  wall {r['wall_s']:6.1f} s  peak {peak}  scores {[round(u['main_score'], 5) for u in r['units']]}")
    base = runs.get("fp32", {}).get("texts_per_s")
    ratios = {f"{k}_vs_fp32": v["texts_per_s"] / base for k, v in runs.items() if k != "fp32" and base and v["texts_per_s"]}
    print(json.dumps(ratios))
    save(args.name, {"device": device, **info, "load_before": os.getloadavg(), "model": args.model, "tasks": args.tasks,
                     "batch_size": args.batch_size, "runs": runs, "ratios": ratios})


if __name__ == "__main__":
    main()
