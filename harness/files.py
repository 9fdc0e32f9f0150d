"""Files at the boundary: atomic writes that honour the umask, and reads that trust nothing.

A reader opens only regular files (never a FIFO, a device or a socket), under a size cap, and,
where asked, only inside a given folder after symlinks are resolved. Every refusal is one
:class:`StoreError` line naming the file.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from harness.errors import StoreError, one_line
from harness.paths import regular_file


def atomic_write_bytes(path: Path, payload: bytes, *, sync: bool = True) -> None:
    """Write ``payload`` to ``path`` so that a reader sees the old file or the new one, never half.

    ``sync=False`` leaves flushing to disk to the caller (a batch of many files syncs once:
    :func:`harness.store.write_results`).

    The file gets the mode any file the user creates gets (0666 less the umask; ``mkstemp``'s
    0600 would hide a shared results folder from the team).
    """
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)  # the umask applies
    except OSError as err:
        raise StoreError(f"{path.parent}: cannot write results ({err.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
        if sync:
            fsync_folder(path.parent)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"{path}: cannot write ({err.strerror})") from None


def fsync_folder(folder: Path) -> None:
    """Make the entries of ``folder`` (a rename into it) durable."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextmanager
def open_regular(path: Path, limit: int, *, within: Path | None = None) -> Iterator[BinaryIO]:
    """``path`` opened for reading if it is a regular file of at most ``limit`` bytes.

    With ``within``, ``path`` must also resolve (symlinks followed) inside that folder. A FIFO,
    a device or a socket is refused before it is opened (:func:`harness.paths.regular_file`), and
    the file is opened non-blocking, so one swapped in meanwhile neither blocks nor passes the
    check on the open file.

    Raises:
        StoreError: one line naming ``path`` and why it is not read.
    """
    regular_file(path, error=StoreError)  # a loop, a dangling link, a FIFO, a device: one line, nothing opened
    try:
        if within is not None and not path.resolve(strict=True).is_relative_to(within.resolve()):
            raise StoreError(f"{path}: leads outside {within} (a symlink?); not read")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, RuntimeError) as err:  # changed since the check (RuntimeError: a loop, before 3.13)
        raise StoreError(f"{path}: cannot be read ({one_line(err)})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise StoreError(f"{path}: not a regular file; not read")
        if info.st_size > limit:
            raise StoreError(f"{path}: {info.st_size} bytes, over the {limit}-byte limit; not read")
        yield handle


def read_regular(path: Path, limit: int, *, within: Path | None = None) -> bytes:
    """The bytes of ``path`` under :func:`open_regular`'s rules (a file growing past ``limit`` included)."""
    with open_regular(path, limit, within=within) as handle:
        payload = handle.read(limit + 1)
    if len(payload) > limit:
        raise StoreError(f"{path}: over the {limit}-byte limit; not read")
    return payload
