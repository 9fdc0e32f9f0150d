"""How a torch model is loaded: dtype, attention kernel and device (``--model-option KEY=VALUE``
and a model card's ``dtype`` / ``attn_implementation``), validated once, at the boundary.

``dtype`` and ``attn_implementation`` change the vectors, so they enter the model's settings
(its cache key and its record); a model given them on the command line is stored as a model of
its own, ``<name>@attn_implementation=sdpa,dtype=bfloat16`` (keys sorted). ``device`` only says
where the model runs. Similarities are always computed on float32 vectors (the adapters cast).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping, Sequence
from typing import Literal

from harness.errors import ModelError, brief

Dtype = Literal["float32", "bfloat16", "float16"]
Attention = Literal["sdpa", "flash_attention_2", "eager"]
DTYPES: tuple[str, ...] = Dtype.__args__  # type: ignore[attr-defined]
ATTENTIONS: tuple[str, ...] = Attention.__args__  # type: ignore[attr-defined]
CHOICES: dict[str, tuple[str, ...] | None] = {"dtype": DTYPES, "attn_implementation": ATTENTIONS, "device": None}
VECTOR_OPTIONS = ("attn_implementation", "dtype")  # change the vectors: in the cache key and the stored name
FLAG = "--model-option"
_DEVICE = re.compile(r"^(cpu|mps|cuda(:\d+)?)$")


def parse_model_options(pairs: Sequence[str]) -> dict[str, str]:
    """``["dtype=bfloat16", ...]`` -> ``{"dtype": "bfloat16"}``, each key and value checked.

    Raises:
        ModelError: one line naming ``--model-option``: no ``=``, an unknown key or value, a key
            given twice, ``flash_attention_2`` without its package, a device that does not exist.
    """
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise ModelError(f"{FLAG} {brief(pair)}: expected KEY=VALUE (keys: {', '.join(CHOICES)})")
        if key not in CHOICES:
            raise ModelError(f"{FLAG} {brief(key)}: unknown option (one of: {', '.join(CHOICES)})")
        if key in options and options[key] != value:
            raise ModelError(f"{FLAG} {key}: given twice ({options[key]!r} and {brief(value)})")
        check_option(key, value, f"{FLAG} {key}")
        options[key] = value
    return options


def check_option(key: str, value: str, where: str) -> None:
    """Raise ``ModelError`` naming ``where`` if ``value`` is not usable for ``key`` on this machine."""
    choices = CHOICES[key]
    if choices is not None and value not in choices:
        raise ModelError(f"{where}: unknown value {brief(value)} (one of: {', '.join(choices)})")
    if key == "attn_implementation":
        check_attention(value, where)
    elif key == "device":
        check_device(value, where)


def check_attention(value: str, where: str) -> None:
    """``flash_attention_2`` needs the ``flash-attn`` package (looked up, not imported)."""
    if value == "flash_attention_2" and importlib.util.find_spec("flash_attn") is None:
        raise ModelError(f"{where}: flash_attention_2 needs the flash-attn package, which is not installed (pip install flash-attn; or use sdpa)")


def check_device(device: str, where: str) -> None:
    """Raise ``ModelError`` naming ``where`` unless torch can run on ``device`` here (imports torch)."""
    if not _DEVICE.match(device):
        raise ModelError(f"{where}: unknown device {brief(device)} (cpu, cuda, cuda:N or mps)")
    if device == "cpu":
        return
    import torch

    if device == "mps":
        if not torch.backends.mps.is_available():
            raise ModelError(f"{where}: device 'mps' does not exist on this machine")
        return
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    index = int(device.partition(":")[2] or 0)
    if index >= count:
        have = f"{count} CUDA device{'s' if count != 1 else ''}" if count else "no CUDA device"
        raise ModelError(f"{where}: device {device!r} does not exist (this machine has {have})")


def name_suffix(options: Mapping[str, str]) -> str:
    """``@attn_implementation=sdpa,dtype=bfloat16`` for the vector-changing ``options`` ("" if none)."""
    parts = [f"{key}={options[key]}" for key in VECTOR_OPTIONS if options.get(key)]
    return "@" + ",".join(parts) if parts else ""


def transformers_kwargs(dtype: str | None, attn_implementation: str | None) -> dict[str, object]:
    """``model_kwargs`` for ``transformers`` ``from_pretrained`` (imports torch): the dtype as a
    torch dtype (``dtype``, called ``torch_dtype`` before transformers 4.56) and the attention."""
    kwargs: dict[str, object] = {}
    if dtype is not None:
        import torch
        import transformers
        from packaging.version import Version

        key = "dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype"
        kwargs[key] = getattr(torch, dtype)
    if attn_implementation is not None:
        kwargs["attn_implementation"] = attn_implementation
    return kwargs
