"""How a model's results were computed, in a few words for the leaderboard: dtype, device kind and
count, batch policy, peak accelerator memory (the ``runtime`` block each result records)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any


def batch_text(batch: Mapping[str, Any]) -> str:
    """``count 64`` / ``tokens 8192``, with the batch an out-of-memory error forced."""
    if not batch:
        return ""
    text = f"tokens {batch.get('max_batch_tokens')}" if batch.get("policy") == "tokens" else f"count {batch.get('batch_size')}"
    forced = batch.get("out_of_memory_batch")
    return f"{text} ({forced} after out of memory)" if forced is not None else text


def _gib(n: int) -> str:
    return f"peak {n / 2**30:.1f} GiB"


def describe(records: Sequence[Mapping[str, Any] | None]) -> str | None:
    """One line for a model's runs: its most common (dtype, devices, batch policy) and the peak
    memory over its tasks; None when no result recorded one (imported, or an older harness)."""
    known = [r for r in records if r]
    if not known:
        return None
    settings = Counter(
        (r.get("dtype") or "default dtype", f"{r.get('device') or 'device ?'} × {r.get('device_count', 1)}", batch_text(r.get("batch") or {}))
        for r in known
    )
    (common, _), others = settings.most_common(1)[0], len(settings) - 1
    peaks = [int(r["peak_memory_bytes"]) for r in known if r.get("peak_memory_bytes") is not None]
    parts = [p for p in common if p] + ([_gib(max(peaks))] if peaks else [])
    return " · ".join(parts) + (f" (+{others} other setting{'s' if others > 1 else ''})" if others else "")


METHOD = (
    "Each result records the dtype the model computed in, the device kind and how many replicas "
    "shared its texts (--devices), the batch policy (a count of texts, or a token budget counting "
    "padding, --max-batch-tokens; and the batch an out-of-memory error forced, halved until it fit), "
    "peak accelerator memory (torch CUDA only) and texts per second (texts encoded / seconds in the "
    "model; over several replicas, the slowest replica's seconds). The Runtime column shows the most "
    "common setting of a model's tasks and the largest peak; Texts/s is the median over its tasks."
)
