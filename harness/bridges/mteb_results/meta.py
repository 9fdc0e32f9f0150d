"""Which model a revision folder of the results repository holds, as mteb's ``ResultCache`` reads it.

``results/<org>__<model>/<revision folder>/``: with a ``model_meta.json``, its ``name`` and
``revision`` (which may be null) name the model; without one, the folder names do (``__`` -> ``/``).
A folder whose meta carries ``experiment_kwargs`` holds a variant run that mteb's leaderboard leaves
out; so does this import. ``max_tokens`` is often ``Infinity`` in real files: stored as None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.bridges.mteb_results.layout import Unreadable, load_json

META_FILE = "model_meta.json"
NO_REVISION = "no_revision_available"  # mteb's name for a missing revision (folder or join)


@dataclass(frozen=True)
class ModelIdentity:
    """A published model: ``name`` and ``revision`` as mteb names them (revision None when the
    meta says null), ``facts`` for the page, ``problem`` a warning to give once (bad meta), and
    ``experiment`` True for a variant run."""

    name: str
    revision: str | None
    facts: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    experiment: bool = False


def _int(value: Any) -> int | None:
    """A positive int (``Infinity``, NaN, text and bools -> None)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and value > 0 else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _facts(meta: dict[str, Any]) -> dict[str, Any]:
    framework = meta.get("framework")
    return {
        "n_parameters": _int(meta.get("n_parameters")),
        "embedding_dim": _int(meta.get("embed_dim")),
        "max_tokens": _int(meta.get("max_tokens")),
        "release_date": _text(meta.get("release_date")),
        "framework": [str(f) for f in framework] if isinstance(framework, list) else [],
        "similarity": _text(meta.get("similarity_fn_name")) or "cosine",
    }


@lru_cache(maxsize=4096)
def identify(folder: Path) -> ModelIdentity:
    """The model of revision folder ``folder`` (cached: every task file of a folder shares it)."""
    by_path = folder.parent.name.replace("__", "/")
    meta_path = folder / META_FILE
    if not meta_path.exists():
        return ModelIdentity(by_path, folder.name)
    try:
        meta = load_json(meta_path)
        if not isinstance(meta, dict):
            raise Unreadable(f"a JSON {type(meta).__name__}, not an object")
        name, revision = meta.get("name"), meta.get("revision")
        if not isinstance(name, str) or not name or not (revision is None or isinstance(revision, str)):
            raise Unreadable("name must be a string and revision a string or null")
    except Unreadable as err:
        return ModelIdentity(by_path, folder.name, problem=f"{meta_path}: {err}; the model is named after its folders")
    return ModelIdentity(name, revision, _facts(meta), experiment=bool(meta.get("experiment_kwargs")))
