"""Model adapters, and ``load_model``: turn a name or any encoder object into a model with ``info``."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from harness.errors import ModelError
from harness.models.base import Adapter, EncoderProtocol, ModelInfo, Role

__all__ = ["Adapter", "EncoderProtocol", "ModelInfo", "load_model"]


class ObjectEncoder:
    """Wraps a user's encoder object: gives it ``info`` and calls its ``encode`` as the protocol says."""

    def __init__(self, obj: Any, info: ModelInfo, *, cacheable: bool = False) -> None:
        self.obj = obj
        self.info = info
        self.cacheable = cacheable
        params = inspect.signature(obj.encode).parameters
        accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        self._keywords = None if accepts_any else set(params)

    def cache_identity(self) -> dict[str, Any]:
        """Persisted only for an object given an explicit revision (its code may change between
        runs); otherwise kept in memory for this run, keyed on this very object."""
        info = self.info
        identity = {"object": f"{type(self.obj).__module__}.{type(self.obj).__qualname__}", "name": info.name, "revision": info.revision}
        return identity if self.cacheable else {**identity, "instance": id(self.obj), "persist": False}

    def encode(self, texts: list[str], *, role: Role, task: Any, batch_size: int, **_: Any) -> Any:
        kwargs = {"role": role, "task": task, "batch_size": batch_size}
        if self._keywords is not None:
            kwargs = {k: v for k, v in kwargs.items() if k in self._keywords}
        return self.obj.encode(texts, **kwargs)


def _object_info(obj: Any, name: str | None, revision: str | None) -> ModelInfo:
    meta = getattr(obj, "info", None) or getattr(obj, "metadata", None)
    meta_name = getattr(meta, "name", None) or (meta.get("name") if isinstance(meta, dict) else None)
    meta_revision = getattr(meta, "revision", None) or (meta.get("revision") if isinstance(meta, dict) else None)
    return ModelInfo(
        name=name or meta_name or type(obj).__name__,
        revision=revision or meta_revision or "local",
        similarity=getattr(meta, "similarity", "cosine") if isinstance(meta, ModelInfo) else "cosine",
    )


def _sentence_transformer_name(model: Any) -> str:
    card = getattr(model, "model_card_data", None)
    for candidate in (getattr(card, "model_id", None), getattr(card, "base_model", None)):
        if candidate:
            return str(candidate)
    path = getattr(getattr(model, "tokenizer", None), "name_or_path", None)
    return Path(path).name if path and Path(path).is_dir() else (path or type(model).__name__)


def load_model(model: Any, *, name: str | None = None, revision: str | None = None, **options: Any) -> Any:
    """A model with ``info`` and ``encode`` from a name, a ModelRef or an encoder object.

    Args:
        model: alias / ``kind:arg`` / hub id / local folder, or any object with ``encode``
            (a ``sentence_transformers.SentenceTransformer`` instance included).
        name, revision: recorded in results (override the object's own metadata).
        options: adapter options (``dim``, ``prompts``, ...), for names only.
    """
    from harness.registry import ModelRef, adapter_class, resolve_model

    if isinstance(model, (str, ModelRef)):
        ref = resolve_model(model) if isinstance(model, str) else model
        kwargs = {**ref.kwargs, **options}
        if name:
            kwargs["name"] = name
        if revision:
            kwargs["revision"] = revision
        try:
            return adapter_class(ref.adapter)(**kwargs)
        except TypeError as err:
            raise ModelError(f"model {model!s}: bad adapter option ({err})") from None
    if not callable(getattr(model, "encode", None)):
        raise ModelError(f"{type(model).__name__} has no encode method (see harness.EncoderProtocol)")
    if type(model).__name__ == "SentenceTransformer":
        from harness.models.sentence_transformers import SentenceTransformerAdapter

        return SentenceTransformerAdapter.from_instance(model, name=name or _sentence_transformer_name(model), revision=revision)
    if isinstance(getattr(model, "info", None), ModelInfo) and not (name or revision):
        return model
    return ObjectEncoder(model, _object_info(model, name, revision), cacheable=revision is not None)
