"""Loading task data from the Hugging Face hub at a pinned revision (through ``datasets``).

Offline, or when the hub refuses, this raises ``DataUnavailable`` with one line; the runner
then skips the task and goes on.
"""

from __future__ import annotations

import os
from typing import Any

from harness.errors import DataUnavailable


def load_hub_rows(repo: str, revision: str, split: str, subset: str | None = None) -> list[dict[str, Any]]:
    """Rows of ``repo`` (config ``subset``) at ``revision``, split ``split``."""
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1":
        raise DataUnavailable(f"hub dataset {repo}@{revision[:12]}: not downloaded and the hub is offline (HF_HUB_OFFLINE=1)")
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
