"""The model registry: adapter kinds, ready-made models, and model names resolved.

Adapters register with ``@register_adapter(kind)``; other packages add theirs through the
``harness.models`` entry-point group. Ready-made models are model cards (``models/*.yaml`` and
``--model-dir``: ``harness.models.cards``) and aliases registered from Python
(``register_alias``). Built-in adapters are lazy ``module:attr`` targets, so listing names
imports no adapter and locates no package files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    source: str = ""  # the model card it comes from, for messages


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
        reproduces: the published model whose numbers it reproduces ("": the one it records).
    """

    build: ModelRef | Callable[[], ModelRef] | str
    adapter: str = ""
    description: str = ""
    records: str = ""
    packages: tuple[str, ...] = ()
    install: str = ""
    reproduces: str = ""

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


ALIASES: Registry[Alias] = Registry("model alias", error=ModelError)


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


def model_aliases(model_dirs: Sequence[str | Path] = ()) -> dict[str, Alias]:
    """Every ready-made model, for listing (builds nothing: no package file is located): aliases
    registered from Python, then one entry per model card (under its first alias, else its name).

    Raises:
        SpecError: a malformed model card (``harness.models.cards.discover_cards``).
    """
    from harness.models.cards import discover_cards

    found = {name: ALIASES.get(name) for name in ALIASES.names()}
    for card in {id(card): card for card in discover_cards(model_dirs).values()}.values():  # once each, not per name
        found.setdefault(card.aliases[0] if card.aliases else card.name, card.alias())
    return found


def find_alias(name: str, model_dirs: Sequence[str | Path] = ()) -> Alias | None:
    """The ready-made model ``name`` selects (an alias, a card's name or alias), else None."""
    if name in ALIASES:
        return ALIASES.get(name)
    from harness.models.cards import discover_cards

    card = discover_cards(model_dirs).get(name)
    return card.alias() if card is not None else None


def is_alias(name: str, model_dirs: Sequence[str | Path] = ()) -> bool:
    """Whether ``name`` selects a ready-made model (resolves nothing)."""
    return find_alias(name, model_dirs) is not None


def resolve_model(name: str, model_dirs: Sequence[str | Path] = ()) -> ModelRef:
    """Turn a model name into a ModelRef.

    Accepted: a registered alias or a model card's name or alias (``minilm-l6``; cards under
    ``models/`` and ``model_dirs``), a model card file (``path/card.yaml``), ``KIND:ARG`` for an adapter kind taking one path/id argument
    (``sentence-transformers:org/name``, ``onnx:/path/model.onnx``), a bare adapter kind taking no
    argument (``bm25``, ``random``), a local folder or hub id (sentence-transformers).
    """
    alias = find_alias(name, model_dirs)
    if alias is not None:
        return alias.ref()
    if name.endswith((".yaml", ".yml")) and Path(name).is_file():
        from harness.models.cards import load_card

        return load_card(name).ref()
    kind, sep, arg = name.partition(":")
    if sep and kind in ADAPTERS:
        return ModelRef(kind, {"model": arg})
    if name in ADAPTERS:
        return ModelRef(name)
    if is_folder(name) or name.count("/") == 1:
        return ModelRef("sentence-transformers", {"model": name})
    raise ModelError(f"--models: unknown model {brief(name)}{suggest(name, [*model_aliases(model_dirs), *ADAPTERS.names()])}")


def is_folder(name: str) -> bool:
    """Whether ``name`` is an existing folder; a name no file system accepts (too long, a NUL) is not."""
    try:
        return Path(name).is_dir()
    except (OSError, ValueError):
        return False


def is_billed(name: str, model_dirs: Sequence[str | Path] = ()) -> bool:
    """Whether the model ``name`` resolves to is paid per token (its adapter takes ``max_cost``)."""
    cls = adapter_class(resolve_model(name, model_dirs).adapter)
    return issubclass(cls, Encoder) and cls.billed


def spending_caps(models: Sequence[Any], max_cost: float | None, model_dirs: Sequence[str | Path] = ()) -> list[dict[str, Any]]:
    """``{"max_cost": ...}`` for each model named by a string whose adapter is billed, ``{}`` for the others."""
    if max_cost is None:
        return [{} for _ in models]
    caps = [{"max_cost": max_cost} if isinstance(m, str) and is_billed(m, model_dirs) else {} for m in models]
    if not any(caps):
        raise ModelError("--max-cost: no model of this run is billed per token (e.g. openai:MODEL)")
    return caps
