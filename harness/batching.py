"""Batches of the encode path: their sizes (a count, or a token budget), the out-of-memory
back-off, and the statistics a unit records about its encoding (also merged over replicas).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.accelerators import device_kind, release_cached_memory
from harness.errors import ModelError, brief

if TYPE_CHECKING:
    from harness.evaluators.base import Role
    from harness.specs import TaskSpec


@dataclass
class EncodeStats:
    """What the encode path did for one unit: texts asked for, unique texts, seconds spent in the model."""

    texts: int = 0
    unique_texts: int = 0
    cached: int = 0
    encoded: int = 0
    seconds: float = 0.0
    by_role: dict[str, int] = field(default_factory=dict)
    long_documents: dict[str, int] = field(default_factory=dict)
    batching: dict[str, Any] = field(default_factory=dict)
    peak_memory_bytes: int | None = None
    replicas: list[int] = field(default_factory=list)  # texts each replica encoded (shards over devices)
    devices: list[str] = field(default_factory=list)  # the replicas' devices, in the same order

    @property
    def texts_per_second(self) -> float | None:
        return self.encoded / self.seconds if self.seconds > 0 else None

    def then(self, other: EncodeStats) -> EncodeStats:
        """This and ``other`` encoded one after the other (two shards on one replica)."""
        return EncodeStats(
            encoded=self.encoded + other.encoded,
            seconds=self.seconds + other.seconds,
            batching=merge_batching([self.batching, other.batching]),
            peak_memory_bytes=_max(self.peak_memory_bytes, other.peak_memory_bytes),
        )

    def absorb_replicas(self, replicas: Sequence[tuple[str, EncodeStats]]) -> None:
        """Count what replicas encoded for this unit before it ran (its shards; per replica
        ``(device, the sum of its shards)``) as encoded here rather than as cache hits. They ran
        in parallel: the seconds added are the slowest replica's."""
        if not replicas:
            return
        encoded = sum(stats.encoded for _, stats in replicas)
        self.encoded += encoded
        self.cached = max(0, self.cached - encoded)
        self.seconds += max(stats.seconds for _, stats in replicas)
        self.batching = merge_batching([self.batching, *(stats.batching for _, stats in replicas)])
        self.peak_memory_bytes = _max(self.peak_memory_bytes, *(stats.peak_memory_bytes for _, stats in replicas))
        self.replicas = [stats.encoded for _, stats in replicas]
        self.devices = [device for device, _ in replicas]


def _max(*values: int | None) -> int | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def merge_batching(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One batch record for several runs of the same policy: the largest batch that ran, and the
    smallest batch an out-of-memory error forced (None: none did)."""
    records = [r for r in records if r]
    if not records:
        return {}
    forced = [r["out_of_memory_batch"] for r in records if r.get("out_of_memory_batch") is not None]
    return {**records[0], "largest_batch": max(r.get("largest_batch", 0) for r in records), "out_of_memory_batch": min(forced) if forced else None}


@dataclass
class Batching:
    """How one unit's texts are grouped into model calls, and what happened (one per unit).

    Attributes:
        batch_size: texts per call (``--batch-size``); not used when the model counts tokens.
        max_tokens: ``--max-batch-tokens``: a batch holds at most this many tokens counting
            padding (texts × its longest text's tokens); None batches by count.
        cap: texts per call an out-of-memory error forced (halved until a batch fit), kept for
            the rest of the unit; None: none happened.
        counted: False once the model counted no tokens (then ``max_tokens`` is not used).
        largest: the largest batch that ran.
    """

    batch_size: int = 32
    max_tokens: int | None = None
    cap: int | None = None
    counted: bool = True
    largest: int = 0

    def size_at(self, tokens: list[int] | None, start: int) -> int:
        """Texts in the batch that begins at sorted position ``start`` (at least 1); ``tokens``:
        each sorted text's token count, or None to batch by count."""
        limit = self.cap or (len(tokens) if tokens is not None else self.batch_size)
        if tokens is None:
            return limit
        longest, size = 0, 0
        for count in tokens[start : start + limit]:
            longest = max(longest, count)
            if size and (size + 1) * longest > (self.max_tokens or 0):
                break
            size += 1
        return size

    def record(self) -> dict[str, Any]:
        """The batch policy as results record it."""
        policy: dict[str, Any] = {"policy": "tokens", "max_batch_tokens": self.max_tokens} if self.max_tokens and self.counted else {"policy": "count", "batch_size": self.batch_size}
        return {**policy, "largest_batch": self.largest, "out_of_memory_batch": self.cap}


def back_off(batching: Batching, batch: list[str], model_name: str, task: TaskSpec, role: Role) -> None:
    """Halve the batch after an accelerator out-of-memory error on ``batch``.

    Raises:
        ModelError: ``batch`` was one text.
    """
    release_cached_memory()
    if len(batch) == 1:
        text = batch[0]
        raise ModelError(
            f"model {model_name!r} on task {task.name}: out of accelerator memory on one {role or 'input'} text alone "
            f"({len(text)} characters: {brief(text, 80)}); use a shorter max length, a smaller dtype or a larger device"
        ) from None
    batching.cap = max(1, len(batch) // 2)




def runtime_record(stats: EncodeStats, model_runtime: dict[str, Any]) -> dict[str, Any]:
    """What a result records about how its unit was encoded (``harness.model["runtime"]``).

    ``model_runtime``: ``Encoder.runtime()`` of the loaded model (dtype and device; {} unknown).
    The device is the replicas' when the unit was encoded over several devices; peak accelerator
    memory only where measured (CUDA).
    """
    devices = stats.devices or ([str(model_runtime["device"])] if model_runtime.get("device") else [])
    kinds = sorted({device_kind(d) for d in devices})
    record: dict[str, Any] = {
        "dtype": model_runtime.get("dtype"),
        "device": "+".join(kinds) or None,
        "device_count": max(1, len(devices)),
        "devices": devices,
        "batch": stats.batching,
        "texts_per_s": stats.texts_per_second,
    }
    if stats.peak_memory_bytes is not None:
        record["peak_memory_bytes"] = stats.peak_memory_bytes
    return record
