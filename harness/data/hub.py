"""Loading task data from the Hugging Face hub at a pinned revision (through ``datasets``).

Offline, or when the hub refuses, this raises ``DataUnavailable`` with one line; the runner
then skips the task and goes on.
"""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

from harness.errors import DataUnavailable


@lru_cache(maxsize=1)
def hub_unreachable() -> str | None:
    """Why the hub cannot be reached (None if it can); probed once per process, in seconds.

    Without this, ``datasets`` retries each request for ~25 s before giving up, per task.
    """
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=3).close()
    except OSError as err:
        return f"{host} is unreachable ({err.strerror or type(err).__name__})"
    return None


def load_hub_rows(repo: str, revision: str, split: str, subset: str | None = None) -> list[dict[str, Any]]:
    """Rows of ``repo`` (config ``subset``) at ``revision``, split ``split``."""
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1":
        raise DataUnavailable(f"hub dataset {repo}@{revision[:12]}: not downloaded and the hub is offline (HF_HUB_OFFLINE=1)")
    offline = hub_unreachable()
    if offline:
        raise DataUnavailable(f"hub dataset {repo}@{revision[:12]}: no local copy and {offline}")
    try:
        from datasets import load_dataset
    except ImportError:
        raise DataUnavailable(f"hub dataset {repo}: the 'datasets' package is not installed (pip install datasets)") from None
    try:
        dataset = load_dataset(repo, subset, split=split, revision=revision)
    except Exception as err:  # noqa: BLE001 - datasets raises many types; all mean "not available"
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataUnavailable(f"hub dataset {repo}@{revision[:12]} split {split!r}: cannot load ({first[:160]})") from None
    return dataset.to_list()
