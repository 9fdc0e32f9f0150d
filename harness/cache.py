"""Content-addressed embedding cache (SQLite in WAL mode, float32 blobs, no pickle).

Key of a vector = BLAKE2b(model identity, role, prompt, text), where the model identity is the
hash of its name, revision, every vector-changing setting (max length, pooling, normalisation,
truncation dim, ...) and, for local files, their sizes and modification times. Two models, or
one model with two settings, can therefore never share a vector (mteb's cache key lacks the model
name: mteb #2715-style bugs are impossible by construction). Models without a stable identity
(a lexical model fitted per task, an object under training) are not cached; a user's encoder
object without a revision is cached in memory for the current run only (``"persist": False``).

SQLite gives atomic transactions across processes: a process killed mid-write leaves no partial
entry, and two processes filling the same cache wait on each other (busy timeout) instead of
corrupting it.

Nothing read back is trusted: each entry is the vector's float32 bytes followed by an 8-byte
BLAKE2b checksum of them, and an entry that fails it (damaged bytes, a foreign or older writer) is
a miss, recomputed and replaced (the encode path also drops hits whose dimension differs from the
unit's other vectors). A database SQLite reports as corrupt (``SQLITE_CORRUPT``/``SQLITE_NOTADB``),
whether on opening, reading, writing or in ``cache info``'s integrity check, is moved aside to
``embeddings.sqlite3.corrupt-<time>`` and a new empty cache takes its place, with one warning line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from harness.errors import StoreError

if TYPE_CHECKING:  # numpy only where vectors are read or written: default_cache_dir stays light
    import numpy as np

    from harness.models.base import Encoder

CACHE_DIR_ENV = "HARNESS_CACHE_DIR"
DB_NAME = "embeddings.sqlite3"
_LOOKUP_CHUNK = 500  # SQLite's default limit on host parameters is 999
_CHECKSUM = 8  # bytes of BLAKE2b after each vector's float32 bytes
T = TypeVar("T")


def default_cache_dir() -> Path:
    """``$HARNESS_CACHE_DIR``, else ``$XDG_CACHE_HOME/harness``, else ``~/.cache/harness``."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "harness"


def model_identity(model: Encoder) -> tuple[str, bool] | None:
    """(hex digest of everything about ``model`` that changes its vectors, may persist), or None."""
    described = model.cache_identity()
    if described is None:
        return None
    digest = hashlib.blake2b(json.dumps(described, sort_keys=True, default=str).encode(), digest_size=16).hexdigest()
    return digest, bool(described.get("persist", True))


def text_keys(identity: str, role: str | None, prompt: str, texts: Sequence[str]) -> list[bytes]:
    """One 16-byte key per text."""
    prefix = f"{identity}\x00{role}\x00{prompt}\x00".encode()
    return [hashlib.blake2b(prefix + t.encode("utf-8", "surrogatepass"), digest_size=16).digest() for t in texts]


def _checksum(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=_CHECKSUM).digest()


def _pack(vector: np.ndarray) -> bytes:
    data = vector.tobytes()
    return data + _checksum(data)


def _unpack(blob: object) -> np.ndarray | None:
    """The vector of a stored entry, or None when the entry is damaged (length or checksum)."""
    import numpy as np

    if not isinstance(blob, bytes) or len(blob) <= _CHECKSUM or (len(blob) - _CHECKSUM) % 4:
        return None
    data, digest = blob[:-_CHECKSUM], blob[-_CHECKSUM:]
    return np.frombuffer(data, dtype=np.float32) if _checksum(data) == digest else None


def _description(text: str) -> dict[str, Any]:
    """A model's stored description; a damaged one reads as unknown rather than failing ``info``."""
    try:
        described = json.loads(text)
    except ValueError:
        described = None
    if isinstance(described, dict) and {"name", "revision"} <= set(described):
        return described
    return {"name": "(damaged entry)", "revision": "?"}


def _is_corrupt(err: sqlite3.Error) -> bool:
    """SQLite's corrupt-file errors (SQLITE_CORRUPT, SQLITE_NOTADB) are exactly the plain
    ``DatabaseError``s; busy, I/O, full-disk and permission errors are ``OperationalError``."""
    return type(err) is sqlite3.DatabaseError


class EmbeddingCache:
    """Vectors by key; persistent in ``directory`` (or in memory for one run when it is None)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._memory: dict[bytes, np.ndarray] = {}
        self._db: sqlite3.Connection | None = None
        self._inode = 0
        if directory is not None:
            self._guarded(self._ready)

    @property
    def path(self) -> Path:
        assert self.directory is not None
        return self.directory / DB_NAME

    def _ready(self) -> sqlite3.Connection:
        """The open database (opened, and its tables created, on first use)."""
        if self._db is None:
            self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        assert self.directory is not None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._inode = self.path.stat().st_ino
        except (OSError, sqlite3.OperationalError) as err:
            raise StoreError(f"{self.directory}: cannot open the embedding cache ({err})") from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, model TEXT NOT NULL, data BLOB NOT NULL) WITHOUT ROWID")
            db.execute("CREATE TABLE IF NOT EXISTS models (model TEXT PRIMARY KEY, description TEXT NOT NULL)")
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _guarded(self, action: Callable[[], T], *, what: str = "open") -> T:
        """Run ``action`` (which opens the database with ``_ready``); if SQLite says the file is
        corrupt, move it aside and run ``action`` once more on a new empty cache. Any other SQLite
        error is one StoreError line."""
        try:
            return action()
        except sqlite3.Error as err:
            if not _is_corrupt(err):
                raise StoreError(f"{self.directory}: cannot {what} the embedding cache ({err})") from None
            self._move_aside(str(err))
        try:
            return action()
        except sqlite3.Error as err:
            raise StoreError(f"{self.directory}: cannot {what} the embedding cache, even rebuilt ({err}); "
                             "run `harness cache clear` or delete the folder") from None

    def _move_aside(self, why: str) -> Path:
        """Close and rename the corrupt database (and its WAL) to ``*.corrupt-<time>``; the next
        ``_ready`` starts a new one."""
        self.close()
        aside = self.path.with_name(f"{DB_NAME}.corrupt-{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}")
        try:
            if self.path.stat().st_ino == self._inode:  # not already replaced by another process
                self.path.rename(aside)
                for suffix in ("-wal", "-shm"):
                    sibling = self.path.with_name(DB_NAME + suffix)
                    if sibling.exists():
                        sibling.rename(aside.with_name(aside.name + suffix))
        except OSError as err:
            raise StoreError(f"{self.path}: the embedding cache is corrupt ({why}) and cannot be moved aside ({err}); "
                             "run `harness cache clear` or delete it") from None
        warnings.warn(f"{self.path}: the embedding cache was corrupt ({why}); moved it aside to {aside.name} "
                      "and started an empty one (vectors are recomputed)", stacklevel=2)
        return aside

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The cached vectors among ``keys`` (float32, shape (dim,)); damaged entries are left out."""
        found = {k: self._memory[k] for k in keys if k in self._memory}
        if self.directory is None:
            return found
        wanted = [k for k in keys if k not in found]

        def read() -> dict[bytes, np.ndarray]:
            db = self._ready()
            out: dict[bytes, np.ndarray] = {}
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = wanted[start : start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                for key, blob in db.execute(f"SELECT key, data FROM vectors WHERE key IN ({marks})", chunk):
                    vector = _unpack(blob)
                    if vector is not None:  # a damaged entry is a miss: recomputed and replaced
                        out[key] = vector
            return out

        return {**found, **self._guarded(read, what="read")}

    def put_many(
        self, identity: str, description: dict[str, Any], keys: Sequence[bytes], vectors: np.ndarray, *, persist: bool = True
    ) -> None:
        """Store rows of ``vectors`` (shape (len(keys), dim)) under ``keys``, in one transaction,
        replacing damaged entries (in memory only, for this process, when ``persist`` is False or
        the cache has no folder)."""
        import numpy as np

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self.directory is None or not persist:
            self._memory.update(zip(keys, vectors))
            return
        rows = [(k, identity, _pack(v)) for k, v in zip(keys, vectors)]

        def write() -> None:
            db = self._ready()
            try:
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT OR IGNORE INTO models VALUES (?, ?)", (identity, json.dumps(description, default=str)))
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
                db.execute("COMMIT")
            except sqlite3.Error:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

        self._guarded(write, what="write")

    def info(self) -> list[dict[str, Any]]:
        """Per model: description, number of vectors, bytes. Checks the file's structure first
        (``PRAGMA quick_check``, which reads it whole): a corrupt cache is moved aside and rebuilt."""
        if self.directory is None:
            return []
        (verdict,) = self._guarded(lambda: self._ready().execute("PRAGMA quick_check(1)").fetchone(), what="read")
        if verdict != "ok":
            self._move_aside(f"integrity check: {' '.join(str(verdict).split())[:200]}")
        query = (
            "SELECT m.description, COUNT(*), SUM(LENGTH(v.data)) FROM vectors v JOIN models m ON m.model = v.model GROUP BY v.model"
        )
        rows = self._guarded(lambda: self._ready().execute(query).fetchall(), what="read")
        return [{"model": _description(d), "vectors": n, "bytes": b} for d, n, b in rows]

    def clear(self) -> int:
        """Delete every vector, and the databases earlier moved aside as corrupt; returns how many
        vectors there were in the sound database."""
        if self.directory is None:
            count, self._memory = len(self._memory), {}
            return count

        def delete() -> int:
            db = self._ready()
            (count,) = db.execute("SELECT COUNT(*) FROM vectors").fetchone()
            db.execute("DELETE FROM vectors")
            db.execute("DELETE FROM models")
            db.execute("VACUUM")
            return int(count)

        count = self._guarded(delete, what="clear")
        for aside in self.path.parent.glob(f"{DB_NAME}.corrupt-*"):
            aside.unlink(missing_ok=True)
        return count

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def file_fingerprint(paths: Iterable[Path]) -> list[tuple[str, int, int]]:
    """(name, size, mtime_ns) of every file under ``paths``: changes when weights change."""
    out = []
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            stat = file.stat()
            out.append((str(file.relative_to(path) if path.is_dir() else file.name), stat.st_size, stat.st_mtime_ns))
    return out
