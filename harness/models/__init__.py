"""Model adapters, and ``load_model``: turn a name or any encoder object into an ``Encoder``."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from harness.errors import ModelError, brief
from harness.models.base import Adapter, Encoder, EncoderProtocol, ModelInfo, Role, usage_between
from harness.models.registry import ModelRef, adapter_class, is_billed, register_adapter, resolve_model

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from harness.specs import TaskSpec

__all__ = ["Adapter", "Encoder", "EncoderProtocol", "ModelInfo", "ModelRef", "is_billed", "load_model", "register_adapter", "usage_between"]

Caching = Literal["persist", "run", "never"]


class ObjectEncoder(Encoder):
    """Wraps an object that follows only ``EncoderProtocol`` (a user's object, or an adapter that
    another package registered without subclassing ``Encoder``): gives it ``info`` and calls its
    ``encode`` with the keywords its signature accepts. Its other methods are not used: an
    object that needs the optional members of the contract subclasses ``Encoder``.

    Args:
        obj: the wrapped object.
        info: what results record.
        caching: ``persist`` (an explicit revision names its code), ``run`` (in memory, keyed on
            this very object) or ``never`` (a registered adapter of unknown identity).
    """

    def __init__(self, obj: EncoderProtocol, info: ModelInfo, *, caching: Caching = "run") -> None:
        self.obj = obj
        self.info = info
        self.caching = caching
        params = inspect.signature(obj.encode).parameters
        accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        self._keywords = None if accepts_any else set(params)

    def cache_identity(self) -> dict[str, Any] | None:
        """Persisted only for an object given an explicit revision (its code may change between
        runs); otherwise kept in memory for this run, keyed on this very object."""
        if self.caching == "never":
            return None
        info = self.info
        identity = {"object": f"{type(self.obj).__module__}.{type(self.obj).__qualname__}", "name": info.name, "revision": info.revision}
        return identity if self.caching == "persist" else {**identity, "instance": id(self.obj), "persist": False}

    def encode(self, texts: list[str], *, role: Role = None, task: TaskSpec | None = None, batch_size: int = 32, **_: Any) -> Any:
        """The object's vectors for ``texts``, shape (len(texts), dim)."""
        kwargs = {"role": role, "task": task, "batch_size": batch_size}
        if self._keywords is not None:
            kwargs = {k: v for k, v in kwargs.items() if k in self._keywords}
        return self.obj.encode(texts, **kwargs)


def _object_info(obj: object, name: str | None, revision: str | None) -> ModelInfo:
    """The info of a foreign object: its own ``info`` if that is a ModelInfo and nothing overrides
    it; else the given name/revision, else those of its ``info``/``metadata`` (an object or a dict),
    else its class name and "local"."""
    meta = getattr(obj, "info", None) or getattr(obj, "metadata", None)
    if isinstance(meta, ModelInfo) and not (name or revision):
        return meta
    meta_name = getattr(meta, "name", None) or (meta.get("name") if isinstance(meta, dict) else None)
    meta_revision = getattr(meta, "revision", None) or (meta.get("revision") if isinstance(meta, dict) else None)
    return ModelInfo(
        name=name or meta_name or type(obj).__name__,
        revision=revision or meta_revision or "local",
        similarity=meta.similarity if isinstance(meta, ModelInfo) else "cosine",
    )


def _sentence_transformer_name(model: SentenceTransformer) -> str:
    card = getattr(model, "model_card_data", None)
    for candidate in (getattr(card, "model_id", None), getattr(card, "base_model", None)):
        if candidate:
            return str(candidate)
    path = getattr(getattr(model, "tokenizer", None), "name_or_path", None)
    return Path(path).name if path and Path(path).is_dir() else (path or type(model).__name__)


def _build(ref: ModelRef, given: str) -> Encoder:
    """Construct the adapter of ``ref``; a registered class that is not an ``Encoder`` is wrapped."""
    try:
        built = adapter_class(ref.adapter)(**ref.kwargs)
    except TypeError as err:
        where = ref.source or f"model {given}"
        raise ModelError(f"{where}: bad option for adapter {ref.adapter} ({err})") from None
    return built if isinstance(built, Encoder) else ObjectEncoder(built, _object_info(built, None, None), caching="never")


MAX_NAME_BYTES = 200  # a model's name and revision are folder names in the store (255 bytes at most on most file systems)


def load_model(
    model: str | ModelRef | EncoderProtocol,
    *,
    name: str | None = None,
    revision: str | None = None,
    model_dirs: Sequence[str | Path] = (),
    load_options: Mapping[str, str] | None = None,
    **options: Any,
) -> Encoder:
    """An ``Encoder`` from a name, a ModelRef or an encoder object.

    Args:
        model: alias / model card name / ``kind:arg`` / hub id / local folder, or any object with
            ``encode`` (a ``sentence_transformers.SentenceTransformer`` instance included).
        name, revision: recorded in results (override the object's own metadata).
        model_dirs: folders of model cards besides ``models/`` (``--model-dir``).
        load_options: ``--model-option`` values (``harness.models.load_options``), for names
            only; those that change the vectors and differ from the model's own make it a model
            of its own, ``<name>@dtype=bfloat16``.
        options: adapter options (``dim``, ``prompts``, ...), for names only.

    Raises:
        ModelError: unknown name, bad option, or a name or revision too long to be a folder name.
    """
    if load_options:
        encoder = _with_load_options(model, dict(load_options), name=name, revision=revision, model_dirs=model_dirs, **options)
    else:
        encoder = _encoder(model, name=name, revision=revision, model_dirs=model_dirs, **options)
    for what, value in (("name", encoder.info.name), ("revision", encoder.info.revision)):
        if len(str(value).encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
            raise ModelError(f"model {brief(str(value), 60)}: its {what} is longer than {MAX_NAME_BYTES} bytes (it names a folder in the store)")
    return encoder


def _with_load_options(
    model: object, load_options: dict[str, str], *, name: str | None, revision: str | None, model_dirs: Sequence[str | Path], **options: Any
) -> Encoder:
    """The model named ``model`` loaded with ``--model-option`` values (its adapter must take them)."""
    from harness.models.load_options import FLAG, VECTOR_OPTIONS, name_suffix

    if not isinstance(model, (str, ModelRef)):
        raise ModelError(f"{FLAG}: applies to models given by name, not to {type(model).__name__} objects")
    ref = resolve_model(model, model_dirs) if isinstance(model, str) else model
    cls = adapter_class(ref.adapter)
    taken = cls.load_options if issubclass(cls, Encoder) else frozenset()
    refused = next((key for key in load_options if key not in taken), None)
    if refused is not None:
        raise ModelError(f"{FLAG} {refused}: model {brief(str(model))} (adapter {ref.adapter}) does not take it")
    changed = {key: value for key, value in load_options.items() if key in VECTOR_OPTIONS and ref.kwargs.get(key) != value}
    encoder = _encoder(ModelRef(ref.adapter, {**ref.kwargs, **load_options}, ref.description, ref.source), name=name, revision=revision, **options)
    encoder.info.name += name_suffix(changed)
    return encoder


def _encoder(model: str | ModelRef | EncoderProtocol, *, name: str | None, revision: str | None, model_dirs: Sequence[str | Path] = (), **options: Any) -> Encoder:
    if isinstance(model, (str, ModelRef)):
        ref = resolve_model(model, model_dirs) if isinstance(model, str) else model
        overrides = {key: value for key, value in (("name", name), ("revision", revision)) if value}
        return _build(ModelRef(ref.adapter, {**ref.kwargs, **options, **overrides}, ref.description, ref.source), str(model))
    if isinstance(model, Encoder) and not (name or revision):
        return model
    if not callable(getattr(model, "encode", None)):
        raise ModelError(f"{type(model).__name__} has no encode method (see harness.EncoderProtocol)")
    if type(model).__name__ == "SentenceTransformer":
        from harness.models.sentence_transformers import SentenceTransformerAdapter

        return SentenceTransformerAdapter.from_instance(model, name=name or _sentence_transformer_name(model), revision=revision)
    return ObjectEncoder(model, _object_info(model, name, revision), caching="persist" if revision is not None else "run")
