"""Size/quality variants of a model: layers, Matryoshka truncation, quantisation, rescoring.

A variant is derived from the base model's full-precision vectors, which the encode path takes
from the embedding cache: a sweep over dims and precisions costs one encode of each text. Each
variant is a model of its own in the store, named ``<base>@layer=4,dim=128,quantize=binary``
(keys in the fixed order ``layer, dim, quantize, rescore``), with its bytes per vector recorded.

* ``layer=N``: the first N transformer blocks, pooled by the model's own head
  (``harness.models.layers``); every swept layer comes from one forward pass per batch.
* ``rescore=K`` (with ``quantize=binary|ubinary|int8``, retrieval only): the index holds the
  quantised documents, queries stay float; the top K of the quantised search are re-ordered by
  float query · document codes (``harness.rescore``). ``K = 0``: the quantised search alone.

Quantised vectors are scored as float arrays so that every evaluator works unchanged:

* ``float16``: rounded to float16 and back.
* ``int8`` / ``uint8``: ``sentence_transformers.quantization.quantize_embeddings`` with ranges
  calibrated on the task's documents (all texts for symmetric tasks); cosine on the integer codes.
* ``binary`` / ``ubinary``: the sign bit per dimension, as ``quantize_embeddings`` packs it, unpacked
  to ±1. For ±1 vectors, ``dot = dim - 2 * hamming``, so cosine/dot rankings equal Hamming-distance
  rankings exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from harness.errors import HarnessError
from harness.models.base import Encoder, ModelInfo, Role

if TYPE_CHECKING:
    from harness.specs import TaskSpec

Quantize = Literal["none", "float16", "int8", "uint8", "binary", "ubinary"]
QUANTIZE_VALUES: tuple[str, ...] = Quantize.__args__  # type: ignore[attr-defined]
SWEEP_KEYS = ("layer", "dim", "quantize", "rescore")
RESCORABLE = ("binary", "ubinary", "int8")
BITS = {"none": 32, "float16": 16, "int8": 8, "uint8": 8, "binary": 1, "ubinary": 1}


@dataclass(frozen=True)
class Variant:
    """How to derive a variant from full vectors; all None/"none" = the model itself."""

    layer: int | None = None
    dim: int | None = None
    quantize: Quantize = "none"
    rescore: int | None = None

    @property
    def suffix(self) -> str:
        parts = [f"{k}={getattr(self, k)}" for k in SWEEP_KEYS if getattr(self, k) not in (None, "none")]
        return "@" + ",".join(parts) if parts else ""

    def bytes_per_vector(self, dim: int) -> float:
        """Storage of one vector of ``dim`` dimensions at this precision."""
        return dim * BITS[self.quantize] / 8

    def apply(self, vectors: np.ndarray, calibration: np.ndarray) -> np.ndarray:
        """Truncate (and re-normalise), then quantise; shape (n, dim) float32. A rescoring variant
        is only truncated: its search quantises (``harness.rescore``)."""
        if self.dim is not None:
            if self.dim > vectors.shape[1]:
                raise HarnessError(f"--sweep dim={self.dim}: the model's vectors have only {vectors.shape[1]} dimensions")
            vectors, calibration = truncate(vectors, self.dim), truncate(calibration, self.dim)
        if self.quantize == "none" or self.rescore is not None:
            return vectors
        if self.quantize == "float16":
            return vectors.astype(np.float16).astype(np.float32)
        quantize_embeddings = library_quantize()
        if self.quantize in ("int8", "uint8"):
            return quantize_embeddings(vectors, self.quantize, calibration_embeddings=calibration).astype(np.float32)
        packed = quantize_embeddings(vectors, self.quantize)
        bits = np.unpackbits(packed.view(np.uint8), axis=1)[:, : vectors.shape[1]]
        return (2.0 * bits - 1.0).astype(np.float32)


def library_quantize() -> Callable[..., np.ndarray]:
    """sentence-transformers' ``quantize_embeddings`` (the library's definition of each precision)."""
    try:
        from sentence_transformers.util.quantization import quantize_embeddings
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.quantization import quantize_embeddings
    return quantize_embeddings


def truncate(vectors: np.ndarray, dim: int) -> np.ndarray:
    cut = vectors[:, :dim]
    norms = np.linalg.norm(cut, axis=1, keepdims=True)
    return cut / np.where(norms == 0, 1, norms)


def parse_sweeps(sweeps: Iterable[str]) -> list[Variant]:
    """``["dim=64,128", "quantize=none,binary"]`` -> every combination, in a fixed order."""
    axes: dict[str, list[Any]] = {}
    for sweep in sweeps:
        key, sep, values = sweep.partition("=")
        key = key.strip()
        if not sep or key not in SWEEP_KEYS or not values.strip():
            raise HarnessError(f"--sweep {sweep!r}: expected KEY=V1,V2 with KEY one of {', '.join(SWEEP_KEYS)}")
        parsed = []
        for raw in (v.strip() for v in values.split(",")):
            if key == "quantize":
                if raw not in QUANTIZE_VALUES:
                    raise HarnessError(f"--sweep quantize={raw!r}: one of {', '.join(QUANTIZE_VALUES)}")
                parsed.append(raw)
            elif raw.isdigit() and (int(raw) > 0 or key == "rescore"):
                parsed.append(int(raw))
            else:
                raise HarnessError(f"--sweep {key}={raw!r}: must be a {'non-negative' if key == 'rescore' else 'positive'} integer")
        axes[key] = parsed
    if "rescore" in axes and not set(axes.get("quantize", ["none"])) <= set(RESCORABLE):
        given = ",".join(axes.get("quantize", ["none"]))
        raise HarnessError(f"--sweep rescore: re-scores a quantised search; every quantize must be one of {', '.join(RESCORABLE)} (got quantize={given})")
    if not axes:
        return []
    keys = [k for k in SWEEP_KEYS if k in axes]
    return [Variant(**dict(zip(keys, combo))) for combo in itertools.product(*(axes[k] for k in keys))]


class VariantModel(Encoder):
    """A variant of ``base``: the encode path embeds with ``base_encoder()`` (``base`` itself, or
    the encoder of one of its layers) and derives the variant from the whole unit's vectors
    (quantisation ranges are calibrated on its documents)."""

    def __init__(self, base: Encoder, variant: Variant, embedder: Encoder | None = None, depth: int | None = None) -> None:
        self.base = base
        self.variant = variant
        self.embedder = embedder or base
        info = base.info
        layers = {} if depth is None else {"depth": depth}  # the model's layers: the sweep view's compute axis
        self.info = replace(info, name=info.name + variant.suffix, settings={**info.settings, "variant": variant.suffix, **layers})

    def encode(self, texts: list[str], *, role: Role = None, task: TaskSpec | None = None, batch_size: int = 32, **_: Any) -> Any:
        """Not callable per batch: a variant needs the unit's vectors (``harness.encode.encode_groups``)."""
        raise TypeError(f"{self.info.name}: a sweep variant is derived by harness.encode.encode_groups, not encoded by batch")

    def load(self) -> None:
        self.embedder.load()

    def base_encoder(self) -> Encoder:
        return self.embedder

    def scored_info(self, dim: int) -> ModelInfo:
        """The variant's info with its dimension (as scored) and bytes per vector (a rescoring
        variant: per document, and its K)."""
        size = self.variant.bytes_per_vector(dim)
        extra = {} if self.variant.rescore is None else {"rescore": self.variant.rescore, "bytes_per_document": size}
        settings = {**self.info.settings, "bytes_per_vector": size, **extra}
        return replace(self.info, embedding_dim=dim, settings=settings)

    def usage(self) -> dict[str, Any]:
        return self.base.usage()


def expand(models: list[Encoder], variants: list[Variant]) -> list[Encoder]:
    """Every (model, variant) as a model; no sweep -> the models themselves.

    Raises:
        HarnessError: a layer sweep on a model that cannot expose its layers, or above its depth.
    """
    if not variants:
        return models
    layers = sorted({v.layer for v in variants if v.layer is not None})
    out: list[Encoder] = []
    for model in models:
        if not layers:
            out += [VariantModel(model, v) for v in variants]
            continue
        from harness.models.layers import layer_encoders

        by_layer = layer_encoders(model, layers)
        out += [VariantModel(model, v, by_layer[v.layer], by_layer[v.layer].depth) for v in variants if v.layer is not None]
    return out


def calibration_rows(by_role: Mapping[Any, np.ndarray]) -> np.ndarray:
    """The task's documents (all texts for symmetric tasks), for int8/uint8 ranges."""
    if "document" in by_role:
        return by_role["document"]
    return np.concatenate(list(by_role.values()), axis=0)
