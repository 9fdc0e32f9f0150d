"""The one rule for paths that come from a spec, and the one check before a data file is opened.

A path a spec gives (``data.local``, a split name, a builder's file option, ``include:``) must stay
under its root after *lexical* normalisation (``os.path.normpath``; nothing is resolved), and must
not be absolute (``--allow-absolute-paths`` lifts this for ``data.local`` and split names).
Symlinks inside the root are the user's and are followed: a data root assembled from links, or a
Hugging Face snapshot whose files link into ``blobs/``, loads like any folder. Confinement is
lexical on purpose: ``resolve()`` would refuse exactly those layouts.

Before a data file is opened, :func:`regular_file` stats it (following links): a loop, a dangling
link, a FIFO, a device or a folder is one line, and nothing is opened that could block.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from harness.errors import DataError, HarnessError, brief, where

ALLOW_FLAG = "--allow-absolute-paths"


def leaves_root(relative: str) -> bool:
    """Whether ``relative`` is absolute or, once normalised lexically, climbs above its root."""
    norm = os.path.normpath(relative)
    return os.path.isabs(norm) or norm == os.pardir or norm.startswith(os.pardir + os.sep)


def confined(
    root: Path,
    relative: str,
    field: str,
    source: str,
    allow_absolute: bool = False,
    *,
    root_name: str = "the data root",
    hint: str = f"{ALLOW_FLAG} lifts this",
    error: type[HarnessError] = DataError,
) -> Path:
    """``root / relative``, normalised lexically: the path that is then opened.

    Args:
        root: the folder the path must stay under.
        relative: the path as the spec gives it.
        field: the spec field, for the message (``data.eval_split``).
        source: the spec file, for the message.
        allow_absolute: the user's ``--allow-absolute-paths``: any path is taken as given.
        root_name: what ``root`` is, for the message.
        hint: what the user can do about a refusal ("" for nothing).
        error: the error class to raise.

    Raises:
        error: ``relative`` is empty, holds a NUL byte, is absolute or leaves ``root``.
    """
    if not relative or "\0" in relative:
        raise error(f"{source}: {field}: {brief(relative)} is not a usable path")
    if leaves_root(relative) and not allow_absolute:
        what = "is absolute and escapes" if os.path.isabs(relative) else "escapes"
        more = f"; {hint}" if hint else ""
        raise error(f"{source}: {field}: {brief(relative)} {what} {root_name} {root} (a path from a spec stays under it{more})")
    return Path(os.path.normpath(os.path.join(root, relative)))


def _stat(path: Path, field: str | None, error: type[HarnessError] = DataError) -> os.stat_result:
    """``os.stat(path)`` (links followed), or ``error`` with one line: loop, dangling link, missing."""
    try:
        return os.stat(path)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise error(f"{where(path, field)}: symlink loop") from None
        if err.errno == errno.ENOENT and os.path.islink(path):
            raise error(f"{where(path, field)}: dangling symlink (its target {brief(os.readlink(path))} does not exist)") from None
        if err.errno in (errno.ENOENT, errno.ENOTDIR):
            raise error(f"{where(path, field)}: file not found") from None
        raise error(f"{where(path, field)}: cannot read ({err.strerror})") from None


def found(path: Path, field: str | None = None) -> bool:
    """Whether something is at ``path`` (links followed): False when nothing is; DataError (one
    line) for a symlink loop, a dangling link or an unreadable folder."""
    try:
        os.stat(path)
    except OSError as err:
        if err.errno in (errno.ENOENT, errno.ENOTDIR) and not os.path.islink(path):
            return False
        _stat(path, field)  # raises the line for this error
    return True


def regular_file(path: Path, field: str | None = None, error: type[HarnessError] = DataError) -> Path:
    """``path`` if it is (or links to) a regular file; ``error`` with one line otherwise.

    A FIFO, a device or a folder is refused before anything opens it (opening a FIFO blocks).
    """
    mode = _stat(path, field, error).st_mode
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"
        raise error(f"{where(path, field)}: not a regular file ({kind})")
    return path
