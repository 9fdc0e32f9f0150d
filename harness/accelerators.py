"""Accelerators in one place: which errors mean "out of accelerator memory", which devices this
machine has (``--devices``), and the peak memory a unit used.

Nothing here imports torch at module level: a model that runs on torch has imported it already
(``sys.modules``), and ``resolve_devices`` imports it only when ``--devices`` names a GPU or auto.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from harness.errors import HarnessError

# An out-of-memory error is torch.cuda.OutOfMemoryError (= torch.OutOfMemoryError), or a
# RuntimeError with one of these in its first line (MPS, XLA/TPU, ROCm via HIP, onnxruntime's CUDA
# provider): the libraries raise no dedicated type for them.
OOM_MESSAGES = re.compile(
    r"CUDA out of memory|MPS backend out of memory|HIP out of memory|RESOURCE_EXHAUSTED|Failed to allocate memory|CUBLAS_STATUS_ALLOC_FAILED",
    re.IGNORECASE,
)


def oom_error_types() -> tuple[type[BaseException], ...]:
    """The exception classes that always mean out of accelerator memory (torch's, when loaded)."""
    torch = sys.modules.get("torch")
    return (torch.cuda.OutOfMemoryError,) if torch is not None else ()


def is_out_of_memory(err: BaseException) -> bool:
    """Whether ``err`` is an accelerator out-of-memory error (``oom_error_types`` or a known message)."""
    if isinstance(err, oom_error_types()):
        return True
    first = str(err).strip().splitlines()[:1]
    return isinstance(err, RuntimeError) and bool(first) and OOM_MESSAGES.search(first[0]) is not None


def _cuda() -> Any:
    """torch.cuda when this process has initialised CUDA, else None."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return None
    return torch.cuda


def release_cached_memory() -> None:
    """Give the allocator's cached blocks back after an out-of-memory error (torch CUDA only)."""
    cuda = _cuda()
    if cuda is not None:
        cuda.empty_cache()


def reset_peak_memory() -> None:
    """Start measuring peak accelerator memory (CUDA) for a new unit."""
    cuda = _cuda()
    if cuda is not None:
        cuda.reset_peak_memory_stats()


def peak_memory_bytes() -> int | None:
    """Peak bytes torch allocated on this process's CUDA devices since ``reset_peak_memory``; None
    when no CUDA is in use (CPU, ONNX, API models: not known)."""
    cuda = _cuda()
    if cuda is None:
        return None
    return max(int(cuda.max_memory_allocated(i)) for i in range(cuda.device_count()))


def device_kind(device: str) -> str:
    """``cuda:1`` -> ``cuda``."""
    return device.split(":", 1)[0]


def parse_devices(value: str) -> tuple[str, ...]:
    """``--devices`` as given: ``auto`` or comma-separated device names (checked by ``resolve_devices``).

    Raises:
        HarnessError: no device named.
    """
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    if not names:
        raise HarnessError("--devices: no device given (auto, or e.g. cuda:0,cuda:1)")
    return names


def resolve_devices(names: tuple[str, ...]) -> tuple[str, ...]:
    """The devices of ``parse_devices``, each checked to exist here; ``auto``: every CUDA device, else cpu.

    Raises:
        HarnessError: a name that is no device, or a device this machine does not have
            (``harness.models.load_options.check_device``: ``cuda:7`` on a machine with one GPU).
    """
    from harness.models.load_options import check_device

    if names == ("auto",):
        import torch

        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        return tuple(f"cuda:{i}" for i in range(count)) or ("cpu",)
    for name in names:
        check_device(name, "--devices")
    return names
