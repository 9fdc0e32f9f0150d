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
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import StoreError

if TYPE_CHECKING:  # numpy only where vectors are read or written: default_cache_dir stays light
    import numpy as np

    from harness.models.base import Encoder

CACHE_DIR_ENV = "HARNESS_CACHE_DIR"
DB_NAME = "embeddings.sqlite3"
_LOOKUP_CHUNK = 500  # SQLite's default limit on host parameters is 999


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


class EmbeddingCache:
    """Vectors by key; persistent in ``directory`` (or in memory for one run when it is None)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._memory: dict[bytes, np.ndarray] = {}
        self._db: sqlite3.Connection | None = None
        if directory is not None:
            try:
                directory.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(directory / DB_NAME, timeout=60, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, model TEXT NOT NULL, data BLOB NOT NULL) WITHOUT ROWID"
                )
                self._db.execute("CREATE TABLE IF NOT EXISTS models (model TEXT PRIMARY KEY, description TEXT NOT NULL)")
            except (OSError, sqlite3.Error) as err:
                raise StoreError(f"{directory}: cannot open the embedding cache ({err})") from None

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The cached vectors among ``keys`` (float32, shape (dim,))."""
        import numpy as np

        found = {k: self._memory[k] for k in keys if k in self._memory}
        if self._db is None:
            return found
        wanted = [k for k in keys if k not in found]
        for start in range(0, len(wanted), _LOOKUP_CHUNK):
            chunk = wanted[start : start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, data in self._db.execute(f"SELECT key, data FROM vectors WHERE key IN ({marks})", chunk):
                found[key] = np.frombuffer(data, dtype=np.float32)
        return found

    def put_many(
        self, identity: str, description: dict[str, Any], keys: Sequence[bytes], vectors: np.ndarray, *, persist: bool = True
    ) -> None:
        """Store rows of ``vectors`` (shape (len(keys), dim)) under ``keys``, in one transaction
        (in memory only, for this process, when ``persist`` is False or the cache has no folder)."""
        import numpy as np

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self._db is None or not persist:
            self._memory.update(zip(keys, vectors))
            return
        rows = [(k, identity, v.tobytes()) for k, v in zip(keys, vectors)]
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT OR IGNORE INTO models VALUES (?, ?)", (identity, json.dumps(description, default=str)))
            self._db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?, ?)", rows)
            self._db.execute("COMMIT")
        except sqlite3.Error as err:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise StoreError(f"{self.directory}: cannot write the embedding cache ({err})") from None

    def info(self) -> list[dict[str, Any]]:
        """Per model: description, number of vectors, bytes."""
        if self._db is None:
            return []
        query = (
            "SELECT m.description, COUNT(*), SUM(LENGTH(v.data)) FROM vectors v JOIN models m ON m.model = v.model GROUP BY v.model"
        )
        return [{"model": json.loads(d), "vectors": n, "bytes": b} for d, n, b in self._db.execute(query)]

    def clear(self) -> int:
        """Delete every vector; returns how many there were."""
        if self._db is None:
            count, self._memory = len(self._memory), {}
            return count
        (count,) = self._db.execute("SELECT COUNT(*) FROM vectors").fetchone()
        self._db.execute("DELETE FROM vectors")
        self._db.execute("DELETE FROM models")
        self._db.execute("VACUUM")
        return int(count)

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
