"""Intermediate-layer embeddings of a sentence-transformers model (``--sweep layer=N``).

``layer=N`` embeds with the first N transformer blocks: the hidden states after block N
(``output_hidden_states``; index 0 is the embedding layer) go through the model's own head, the
modules after its transformer (pooling, dense, normalisation), exactly as the last layer does in
``SentenceTransformer.encode``. ``N`` = the model's depth is the plain model.

One forward pass per batch yields every swept layer: the layers of one model share a
:class:`LayerPass`, and each :class:`LayerEncoder` names the others as its ``companions``, so the
encode path stores all of them in the cache with each batch (each under its own identity: the
model's, plus ``layer``). A later unit of another layer then reads them from the cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from harness.errors import ModelError
from harness.models.base import Encoder, Role
from harness.models.sentence_transformers import SentenceTransformerAdapter
from harness.variants import truncate

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from harness.long_documents import Spans
    from harness.specs import TaskSpec


def depth(model: SentenceTransformer, name: str) -> int:
    """Transformer blocks of the model's first module (``num_hidden_layers`` of its config).

    Raises:
        ModelError: the config does not say (not a transformer encoder sentence-transformers knows).
    """
    blocks = getattr(model[0].auto_model.config, "num_hidden_layers", None)  # a library config, not a harness model
    if not isinstance(blocks, int):
        raise ModelError(f"--sweep layer: model {name!r} does not state its number of layers (num_hidden_layers)")
    return blocks


def pooled_layers(model: SentenceTransformer, texts: list[str], layers: Sequence[int], *, normalize: bool) -> dict[int, np.ndarray]:
    """Sentence embeddings of ``texts`` at each of ``layers``, from one forward pass.

    Mirrors one batch of ``SentenceTransformer.encode`` (default prompt, device, the head's
    modules, ``normalize_embeddings``), with the head applied to each layer's hidden states.

    Returns:
        layer -> float32 array of shape (len(texts), dim).
    """
    import torch
    from sentence_transformers.util import batch_to_device

    prompt = model.prompts.get(model.default_prompt_name) if model.default_prompt_name else None
    if hasattr(model, "preprocess"):  # sentence-transformers >= 6
        features = model.preprocess(texts, prompt=prompt)
    else:
        features = model.tokenize([(prompt or "") + t for t in texts])
    features = batch_to_device(features, model.device)
    transformer, head = model[0], list(model)[1:]
    config = transformer.auto_model.config
    model.eval()
    with torch.inference_mode():
        before = config.output_hidden_states
        config.output_hidden_states = True
        try:
            out = transformer(features)
        finally:
            config.output_hidden_states = before
        hidden = out.pop("all_layer_embeddings")
        vectors = {}
        for layer in layers:
            step = {**out, "token_embeddings": hidden[layer]}
            for module in head:
                step = module(step)
            embedding = step["sentence_embedding"]
            if normalize:
                embedding = torch.nn.functional.normalize(embedding, p=2, dim=1)
            vectors[layer] = embedding.float().cpu().numpy()
    return vectors


class LayerPass:
    """The forward passes of one model for a set of layers; remembers the last batch's output so
    that every layer's encoder (``encoders``) reads the same pass."""

    def __init__(self, adapter: SentenceTransformerAdapter, layers: Sequence[int]) -> None:
        self.adapter = adapter
        self.layers = tuple(layers)
        self.encoders: list[LayerEncoder] = []
        self._last: tuple[tuple[str, ...], dict[int, np.ndarray]] | None = None

    def vectors(self, texts: list[str], layer: int) -> np.ndarray:
        """Layer ``layer``'s vectors of ``texts`` (already prefixed), shape (len(texts), dim)."""
        key = tuple(texts)
        if self._last is None or self._last[0] != key:
            model = self.adapter.sentence_transformer
            self._last = (key, pooled_layers(model, texts, self.layers, normalize=self.adapter.normalize))
        return self._last[1][layer]


class LayerEncoder(Encoder):
    """The embeddings of ``adapter`` after its first ``layer`` blocks (see the module docstring)."""

    splits_tokens: ClassVar[bool] = True

    def __init__(self, adapter: SentenceTransformerAdapter, layer: int, depth: int, shared: LayerPass) -> None:
        self.adapter = adapter
        self.layer = layer
        self.depth = depth
        self.shared = shared
        self.info = replace(adapter.info, name=f"{adapter.info.name}@layer={layer}")  # loaded: its fields are known
        shared.encoders.append(self)

    def encode(self, texts: list[str], *, role: Role = None, task: TaskSpec | None = None, batch_size: int = 32, **_: Any) -> np.ndarray:
        """Layer ``layer``'s vectors of ``texts``, truncated to the adapter's ``dim`` if it has one."""
        prefix = self.prompt_for(role, task)
        vectors = self.shared.vectors([prefix + t for t in texts] if prefix else texts, self.layer)
        return truncate(vectors, self.adapter.dim) if self.adapter.dim is not None else vectors

    def load(self) -> None:
        self.adapter.load()

    def cache_identity(self) -> dict[str, Any] | None:
        identity = self.adapter.cache_identity()
        return None if identity is None else {**identity, "layer": self.layer}

    def prompt_for(self, role: Role, task: TaskSpec | None) -> str:
        return self.adapter.prompt_for(role, task)

    def token_spans(self, texts: list[str]) -> list[Spans]:
        return self.adapter.token_spans(texts)

    def companions(self) -> list[Encoder]:
        """The other layers of the same pass."""
        return [other for other in self.shared.encoders if other is not self]


def layer_encoders(model: Encoder, layers: Sequence[int]) -> dict[int, LayerEncoder]:
    """One encoder per layer of ``model``, sharing one forward pass per batch.

    Loads the model to read its depth.

    Raises:
        ModelError: ``model`` is not a sentence-transformers model, or a layer exceeds its depth.
    """
    if not isinstance(model, SentenceTransformerAdapter):
        raise ModelError(
            f"--sweep layer: model {model.info.name!r} cannot expose its layers (layer sweeps need a sentence-transformers model)"
        )
    model.load()
    blocks = depth(model.sentence_transformer, model.info.name)
    if max(layers) > blocks:
        raise ModelError(f"--sweep layer={max(layers)}: model {model.info.name!r} has {blocks} layers (layer=1..{blocks})")
    shared = LayerPass(model, layers)
    return {layer: LayerEncoder(model, layer, blocks, shared) for layer in layers}
