"""What every builder shares: its options schema, the ``Builder`` record, and the helpers that read
raw files and split them.

A builder's options are a pydantic model (``extra="forbid"``, strict types: a float option also
takes an int, a bool is never an int), checked once when its spec is loaded and again when it is
called from Python, with one line naming ``data.builder_options.<key>``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.errors import DataError, DataUnavailable, brief
from harness.paths import found, leaves_root, regular_file

if TYPE_CHECKING:
    import numpy as np

    from harness.data.types import ClassificationData, TaskData

OPTIONS_FIELD = "data.builder_options"
_TYPE_NAMES = {"int": "int", "float": "float", "string": "str", "bool": "bool", "list": "list", "dict": "dict"}


class BuilderOptions(BaseModel):
    """Base of every builder's options (no options: this class itself)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class SplitOptions(BuilderOptions):
    """Options of builders that split one file into train and test, stratified by label.

    Attributes:
        test_size: fraction of each class that goes to the test split, in (0, 1).
        seed: ``random_state`` of the shuffle, >= 0.
    """

    test_size: float
    seed: int = Field(ge=0)

    @field_validator("test_size")
    @classmethod
    def _fraction(cls, value: float) -> float:
        if not 0.0 < value < 1.0:
            raise ValueError(f"must be in (0, 1), got {value}")
        return value


class FileOptions(BuilderOptions):
    """One data file."""

    file: str


class SplitFileOptions(FileOptions, SplitOptions):
    """One data file and the train/test split."""


def options_error(err: ValidationError, builder: str, known: list[str]) -> str:
    """One line for the first error: ``data.builder_options.<key>: <what is wrong>``."""
    first = err.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        message = f"unknown option for builder {builder} (known: {', '.join(known) or 'none'})"
    elif kind == "missing":
        message = f"required by builder {builder}"
    elif kind.endswith("_type") and kind.removesuffix("_type") in _TYPE_NAMES:
        message = f"expected {_TYPE_NAMES[kind.removesuffix('_type')]}, got {brief(first['input'])}"
    else:
        message = first["msg"].removeprefix("Value error, ")
    return f"{OPTIONS_FIELD}.{key}: {message}" if key else f"{OPTIONS_FIELD}: {message}"


O = TypeVar("O", bound=BuilderOptions)


@dataclass(frozen=True)
class Builder(Generic[O]):
    """A registered builder: its options schema and the function that derives the task's data.

    Calling it with a raw options mapping validates them first, so a builder function only ever
    sees valid options.
    """

    name: str
    options: type[O]
    build: Callable[[O, Path | None], TaskData]

    def validate(self, raw: Mapping[str, Any]) -> O:
        """The options as the schema reads them; DataError naming ``data.builder_options.<key>``."""
        if not isinstance(raw, Mapping):
            raise DataError(f"{OPTIONS_FIELD}: must be a mapping of option names to values")
        try:
            return self.options.model_validate(dict(raw))
        except ValidationError as err:
            raise DataError(options_error(err, self.name, list(self.options.model_fields))) from None

    def __call__(self, raw: Mapping[str, Any], data_root: Path | None) -> TaskData:
        return self.build(self.validate(raw), data_root)


def relative_file(name: str, key: str, *, expected: str = "relative file name") -> str:
    """``name`` normalised lexically, if it stays inside its folder (``harness.paths``), or
    DataError naming option ``key`` (``expected`` says what a good value is)."""
    if not name or "\0" in name or leaves_root(name):
        raise DataError(f"{OPTIONS_FIELD}.{key}: expected a {expected}, got {brief(name)}")
    return os.path.normpath(name)


def root_file(name: str, key: str, data_root: Path | None) -> Path:
    """``data_root / name`` for option ``key``; DataUnavailable when it is not there, DataError when
    it is not a regular file (a loop, a FIFO, a folder)."""
    relative = relative_file(name, key, expected="file name relative to the data root")
    if data_root is None:
        raise DataUnavailable(f"{OPTIONS_FIELD}.{key}: {name!r} needs a data root (--data-dir or HARNESS_DATA_DIR)")
    field = f"{OPTIONS_FIELD}.{key}"
    path = data_root / relative
    if not found(path, field):
        raise DataUnavailable(f"{OPTIONS_FIELD}.{key}: {name!r} not found under the data root {data_root}")
    return regular_file(path, field)


def read_lines(path: Path, encoding: str, *, comment: str | None = None) -> list[str]:
    """One entry per line of ``path`` (``\\n``-separated; a final newline is optional).

    Only ``\\n`` separates lines: ``str.splitlines`` would also split on ``\\x85`` and friends,
    which latin-1 / cp1252 text can contain. Lines starting with ``comment`` are skipped; a blank
    line raises, because line numbers align with other files (e.g. the Lee rating matrix).
    """
    try:
        text = path.read_bytes().decode(encoding)
    except (OSError, LookupError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read as {encoding} ({err})") from None
    lines = text.replace("\r\n", "\n").removesuffix("\n").split("\n")
    kept = []
    for number, line in enumerate(lines, 1):
        if comment is not None and line.startswith(comment):
            continue
        if not line.strip():
            raise DataError(f"{path}: line {number}: blank line")
        kept.append(line.strip())
    return kept


def stratified_split(texts: list[str], labels: np.ndarray, split: SplitOptions, source: Path) -> ClassificationData:
    """Seeded stratified train/test split (sklearn ``train_test_split(stratify=labels)``).

    Args:
        texts: n texts.
        labels: array of shape (n,).
        split: ``test_size`` (fraction of each class that goes to the test split) and ``seed``.
        source: the data file, for error messages.

    Returns:
        ClassificationData with ``ceil(n * test_size)`` test texts, class proportions kept, each
        split in file order.
    """
    import numpy as np
    from sklearn.model_selection import train_test_split  # lazy: sklearn import costs ~0.8 s

    from harness.data.types import ClassificationData

    if len(texts) != len(labels):
        raise DataError(f"{source}: {len(texts)} texts but {len(labels)} labels")
    index = np.arange(len(texts))
    try:
        train_idx, test_idx = train_test_split(index, test_size=split.test_size, random_state=split.seed, stratify=labels)
    except ValueError as err:  # e.g. a class with a single member
        raise DataError(f"{source}: cannot split stratified ({err})") from None
    # Sorted so each split keeps file order (the shuffle only decides membership).
    train_idx, test_idx = np.sort(train_idx), np.sort(test_idx)
    return ClassificationData(
        train_texts=[texts[i] for i in train_idx],
        train_labels=labels[train_idx],
        test_texts=[texts[i] for i in test_idx],
        test_labels=labels[test_idx],
    )
