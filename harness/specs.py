"""The task spec schema and its YAML loading.

A task is one YAML file (see docs/task-specs.md). Validation is strict (unknown keys are errors)
and every error names the file and the field, on one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.errors import DataError, SpecError, first_error
from harness.long_documents import LongDocuments
from harness.plugins import suggest
from harness.tasktypes import get_task_type, task_type_names
from harness.yaml_include import read_with_includes

_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSpec(_Strict):
    """Where a task's data comes from.

    ``local`` is a file or folder relative to the data root (``--data-dir``), tried first;
    ``hf`` + ``revision`` is the hub fallback; ``builder`` names a registered builder that derives
    the task from raw data (e.g. gensim's test corpora) and takes ``builder_options``.
    """

    local: str | None = None
    hf: str | None = None
    revision: str | None = None
    hf_subset: str | None = None
    eval_split: str = "test"
    train_split: str = "train"
    builder: str | None = None
    builder_options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _has_a_source(self) -> DataSpec:
        if not (self.local or self.hf or self.builder):
            raise ValueError("needs at least one of local, hf or builder")
        if self.hf and not self.revision:
            raise ValueError("hf needs a pinned revision (commit hash) so scores are reproducible")
        if self.builder:  # checked here, when the spec loads, not first when the task runs
            from harness.data.builders import check_builder_options

            try:
                check_builder_options(self.builder, self.builder_options)
            except DataError as err:
                raise ValueError(str(err).removeprefix("data.")) from None
        return self


class Prompts(_Strict):
    """Instruction prefixes per role, passed to models that support prompts."""

    query: str | None = None
    document: str | None = None


class TaskSpec(_Strict):
    """One evaluation task. Field names are the public contract (docs/task-specs.md).

    Built in Python, ``TaskSpec(**fields)`` validates exactly like a YAML file and raises
    ``SpecError`` (one line naming the field) on bad input.
    """

    def __init__(self, **fields: Any) -> None:
        try:
            super().__init__(**fields)
        except ValidationError as err:
            source = fields.get("source_file") or "<python>"
            extra = len(err.errors()) - 1
            more = f" (and {extra} more error{'s' if extra > 1 else ''})" if extra else ""
            raise SpecError(f"{source}: {first_error(err)}{more}") from None

    # The name is a file name in the store (<task>.json, its items file, cache files): 128 keeps
    # it far below every file system's 255-byte limit on one path component.
    name: str = Field(pattern=_NAME_PATTERN, max_length=128)
    type: str
    description: str = ""
    suite: list[str] = Field(default_factory=list)
    domain: str = "general"
    languages: list[str] = Field(default_factory=lambda: ["eng"])
    main_score: str
    data: DataSpec
    columns: dict[str, str] = Field(default_factory=dict)
    reference: str | None = None
    license: str | None = None
    citation: str | None = None
    prompts: Prompts = Field(default_factory=Prompts)
    options: dict[str, Any] = Field(default_factory=dict)
    long_documents: LongDocuments | None = None
    source_file: str | None = Field(default=None, exclude=True)

    @field_validator("suite", "languages", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("type")
    @classmethod
    def _registered_type(cls, value: str) -> str:
        names = task_type_names()
        if value not in names:
            choices = ", ".join(repr(n) for n in names[:-1]) + f" or {names[-1]!r}"
            raise ValueError(f"Input should be {choices}{suggest(value, names)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TaskSpec:
        task_type = get_task_type(self.type)
        allowed = task_type.columns
        unknown = sorted(set(self.columns) - set(allowed))
        if unknown:
            raise ValueError(
                f"columns: unknown key {unknown[0]!r} for type {self.type} (allowed: {', '.join(allowed)})"
            )
        evaluator = task_type.evaluator
        if self.main_score not in evaluator.METRICS:
            raise ValueError(
                f"main_score: {self.main_score!r} is not a {self.type} metric "
                f"(one of: {', '.join(evaluator.METRICS)})"
            )
        try:
            evaluator.Options(**self.options)
        except ValidationError as err:
            raise ValueError(f"options: {first_error(err)}") from None
        return self

    @property
    def column_map(self) -> dict[str, str]:
        """Logical column -> column name in the data (mteb's names unless overridden)."""
        return {**get_task_type(self.type).columns, **self.columns}

    def evaluator_options(self) -> Any:
        """The validated ``Options`` object of this task's evaluator."""
        return get_task_type(self.type).evaluator.Options(**self.options)


def spec_from_dict(raw: dict[str, Any], source: str = "<python>") -> TaskSpec:
    """Validate a mapping as a task spec; raise ``SpecError`` naming ``source`` and the field."""
    return TaskSpec(**{**raw, "source_file": source})


def read_spec_fields(path: Path, root: Path | None = None) -> tuple[dict[str, Any], tuple[Path, ...]]:
    """Parse one YAML task spec with its ``include:`` chain merged, without validating it.

    Args:
        path: the spec file.
        root: the task directory its includes must stay under (default: the spec's folder).

    Returns:
        (the spec's fields, every file read: ``path`` first, then the files it includes).

    Raises:
        SpecError: unreadable file, YAML syntax error, not a mapping, bad or cyclic ``include:``,
            an ``include:`` that leaves the task directory.
    """
    return read_with_includes(path, root if root is not None else path.parent, what="task spec", root_name="the task directory")


def load_spec(path: str | Path, root: Path | None = None) -> TaskSpec:
    """Load and validate one YAML task spec (with ``include:`` resolved under ``root``, by default
    the spec's folder)."""
    path = Path(path)
    return spec_from_dict(read_spec_fields(path, root)[0], source=str(path))
