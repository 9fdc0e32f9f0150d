"""A seeded random control: each text maps to a fixed random unit vector."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from harness.models.base import Encoder, ModelInfo, Role
from harness.models.registry import register_adapter


@register_adapter("random")
class RandomAdapter(Encoder):
    """Vectors drawn from N(0, 1) seeded by (seed, text): identical texts get identical vectors,
    independent of batch or order, so every score it gets is chance level. Never cached
    (computing a vector is cheaper than looking it up).
    """

    def __init__(self, *, dim: int = 384, seed: int = 0) -> None:
        self.dim, self.seed = dim, seed
        self.info = ModelInfo(
            name="harness/random", revision=f"seed{seed}", n_parameters=0, embedding_dim=dim, settings={"dim": dim, "seed": seed}
        )

    def encode(self, texts: list[str], *, role: Role = None, **_: Any) -> np.ndarray:
        """(len(texts), dim) float32 unit vectors."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):  # one generator per text: a vector must not depend on its neighbours
            digest = hashlib.blake2b(f"{self.seed}\x00{text}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
            out[row] = np.random.default_rng(int.from_bytes(digest, "little")).standard_normal(self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)
