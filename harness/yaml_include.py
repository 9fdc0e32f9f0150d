"""YAML files that ``include:`` a base file: task specs and model cards share these rules.

A file's ``include:`` names another file (relative to it) whose fields it overrides, merged
deeply; after lexical normalisation the included file must stay under a root folder
(``harness.paths``), and a cycle is an error. Every error is one ``SpecError`` line naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.errors import SpecError
from harness.paths import confined


def _read_mapping(path: Path, what: str) -> dict[str, Any]:
    from harness.yaml_safe import read_yaml  # lazy: it imports yaml

    raw = read_yaml(path, what)
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a {what} must be a YAML mapping of fields")
    return raw


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_with_includes(
    path: Path, root: Path, *, what: str, root_name: str, seen: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], tuple[Path, ...]]:
    """Read ``path`` (a ``what``: "task spec", "model card") and merge it over the file its
    ``include:`` names, which must stay under ``root`` (``root_name`` in messages).

    Returns:
        (merged fields, every file read: ``seen``, then ``path``, then the files it includes).

    Raises:
        SpecError: unreadable file, YAML error, not a mapping, bad, missing or cyclic
            ``include:``, an ``include:`` that leaves ``root``.
    """
    if os.path.realpath(path) in {os.path.realpath(p) for p in seen}:
        raise SpecError(f"{path}: include: cycle through {seen[0].name}")
    raw = _read_mapping(path, what)  # read_yaml refuses a FIFO, a device, a loop (harness.paths.regular_file)
    include = raw.pop("include", None)
    if include is None:
        return raw, (*seen, path)
    if not isinstance(include, str):
        raise SpecError(f"{path}: include: must be a file name")
    from_root = include if os.path.isabs(include) or "\0" in include else os.path.relpath(path.parent / include, root)
    base_path = confined(root, from_root, "include", str(path), root_name=root_name, hint="", error=SpecError)
    if not os.path.lexists(base_path):
        raise SpecError(f"{path}: include: no such file {include!r}")
    base, files = read_with_includes(base_path, root, what=what, root_name=root_name, seen=(*seen, path))
    return _deep_merge(base, raw), files
