"""An index of task specs, so that finding a task neither re-reads nor re-validates every file.

One JSON file per task directory, under ``<cache dir>/spec-index/`` (``$HARNESS_CACHE_DIR`` or
``~/.cache/harness``). For each spec file it holds the fields its YAML parses to (``include:``
files merged), keyed on the path, ``mtime_ns`` and size of the spec and of every file it
includes, and, for a spec of a built-in task type, its validated fields. Validated fields are
trusted only while the harness source that validated them is unchanged (a fingerprint of the
package's files); otherwise, and for types other packages or tests register, the parsed fields
are validated again. Only specs that validated are stored: a broken spec is re-read, and is an
error, on every call. The index is an optimisation: a missing, corrupt or unwritable index falls
back silently to parsing; it is rewritten atomically, and only when it changed.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
import types
import typing
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ValidationError

from harness.errors import StoreError
from harness.specs import TaskSpec, read_spec_fields, spec_from_dict
from harness.tasktypes import BUILT_IN

FORMAT = 3  # 3: include: confined to the task directory (entries of 2 were parsed without that check)
INDEX_FOLDER = "spec-index"
PACKAGE = Path(__file__).resolve().parent
# A file modified this recently may change again within one mtime tick without changing its
# stamp (git's "racy clean" problem): such an entry is not stored until the file is older.
_RACY_NS = 2_000_000_000

Stamp = tuple[str, int, int]  # (resolved path, st_mtime_ns, st_size)


class _Entry(BaseModel):
    files: list[Stamp]
    fields: dict[str, Any]
    validated: dict[str, Any] | None = None  # TaskSpec.model_dump(exclude_unset=True)


class _IndexFile(BaseModel):
    format: Literal[3]
    directory: str
    code: str
    specs: dict[str, _Entry]


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A digest of every ``*.py`` file of the package (path, mtime, size) and pydantic's version:
    what decides whether a spec is valid and what it validates to."""
    digest = hashlib.blake2b(pydantic.VERSION.encode(), digest_size=16)
    for root, dirs, files in os.walk(PACKAGE):
        dirs.sort()
        for name in sorted(f for f in files if f.endswith(".py")):
            info = os.stat(os.path.join(root, name))
            digest.update(f"{root}/{name}:{info.st_mtime_ns}:{info.st_size};".encode())
    return digest.hexdigest()


def _stamp(path: Path) -> Stamp:
    info = path.stat()
    return (str(path.resolve()), info.st_mtime_ns, info.st_size)


def _fresh(entry: _Entry) -> bool:
    """Whether every file the entry was parsed from is unchanged."""
    try:
        return all(_stamp(Path(name)) == (name, mtime, size) for name, mtime, size in entry.files)
    except OSError:
        return False


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class a field holds (``Model`` or ``Model | None``), else None."""
    options = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else (annotation,)
    return next((o for o in options if isinstance(o, type) and issubclass(o, BaseModel)), None)


def _construct(cls: type[BaseModel], values: dict[str, Any]) -> Any:
    """``cls`` (and its nested models) from the dump of a validated instance, not validated again."""
    built = {}
    for name, value in values.items():
        model = _model_in(cls.model_fields[name].annotation) if name in cls.model_fields else None
        built[name] = _construct(model, value) if model is not None and isinstance(value, dict) else value
    return cls.model_construct(**built)


def _validated(spec: TaskSpec) -> dict[str, Any] | None:
    """What the index keeps of a spec that validated: its fields, when the spec is of a built-in
    type and :func:`_construct` rebuilds exactly this spec from them (else None)."""
    if spec.type not in BUILT_IN:
        return None
    dump = spec.model_dump(exclude_unset=True)
    rebuilt = _construct(TaskSpec, {**dump, "source_file": spec.source_file})
    return dump if rebuilt == spec and rebuilt.model_fields_set == spec.model_fields_set else None


def _storable(entry: _Entry, now_ns: int) -> bool:
    """Whether ``entry`` survives a JSON round trip unchanged (YAML dates, integer keys, NaN
    do not) and no file it came from is recent enough to change within one mtime tick."""
    if any(mtime > now_ns - _RACY_NS for _, mtime, _ in entry.files):
        return False
    try:
        return _Entry.model_validate_json(entry.model_dump_json()) == entry
    except (ValueError, TypeError):
        return False


class SpecIndex:
    """The specs of one task directory: ``load`` each spec, then ``save``.

    Args:
        directory: the task directory (its resolved path names the index file).
        index_path: the index file (None: no index, every spec is parsed and validated).
    """

    def __init__(self, directory: Path, index_path: Path | None) -> None:
        self.directory = directory
        self.index_path = index_path
        self._resolved = str(directory.resolve())
        self._code = code_fingerprint()
        self._old: dict[str, _Entry] = _read(index_path, self._resolved, self._code) if index_path is not None else {}
        self._new: dict[str, _Entry] = {}

    @classmethod
    def open(cls, directory: Path) -> SpecIndex:
        """The index of ``directory`` in the default cache dir."""
        from harness.cache import default_cache_dir

        digest = hashlib.blake2b(str(directory.resolve()).encode(), digest_size=8).hexdigest()
        try:
            return cls(directory, default_cache_dir() / INDEX_FOLDER / f"{digest}.json")
        except RuntimeError:  # no home directory to hold a cache: parse every spec
            return cls(directory, None)

    def load(self, path: Path) -> TaskSpec:
        """The validated spec in ``path`` (a file under the directory), parsed only if it changed.

        Raises:
            SpecError: the spec is malformed (one line naming the file and the field).
        """
        key = path.relative_to(self.directory).as_posix()
        entry = self._old.get(key)
        if entry is None or not _fresh(entry):
            fields, files = read_spec_fields(path, self.directory)
            entry = _Entry(files=[_stamp(f) for f in files], fields=fields)
        elif entry.validated is not None:
            self._new[key] = entry
            return _construct(TaskSpec, {**entry.validated, "source_file": str(path)})
        spec = spec_from_dict(entry.fields, source=str(path))
        entry = _Entry(files=entry.files, fields=entry.fields, validated=_validated(spec))
        if _storable(entry, time.time_ns()):
            self._new[key] = entry
        return spec

    def save(self) -> None:
        """Write the entries ``load`` kept (deleted and broken specs drop out) if they changed."""
        if self.index_path is None or self._new == self._old:
            return
        from harness.store import atomic_write_bytes

        document = _IndexFile(format=FORMAT, directory=self._resolved, code=self._code, specs=self._new)
        try:
            atomic_write_bytes(self.index_path, document.model_dump_json().encode("utf-8"))
        except StoreError:
            pass  # an unwritable cache only costs the next call the parsing
        self._old = dict(self._new)


def _read(index_path: Path, directory: str, code: str) -> dict[str, _Entry]:
    """The entries of the index file of ``directory``: none if it is missing or corrupt, and
    without their validated fields if another version of the code validated them."""
    try:
        document = _IndexFile.model_validate_json(index_path.read_bytes())
    except (OSError, ValidationError):
        return {}
    if document.directory != directory:
        return {}
    if document.code != code:
        return {key: _Entry(files=e.files, fields=e.fields) for key, e in document.specs.items()}
    return document.specs
