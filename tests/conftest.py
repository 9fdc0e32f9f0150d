"""Shared test setup: offline hub, temporary caches, and the ../shared/datasets fixture."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Test modules import mteb while they are collected, before any fixture runs.
os.environ.setdefault("MTEB_CACHE", tempfile.mkdtemp(prefix="mteb_cache_"))

REPO = Path(__file__).resolve().parent.parent
SHARED_DATASETS = REPO.parent / "shared" / "datasets"


@pytest.fixture(autouse=True, scope="session")
def _isolated_caches(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["MTEB_CACHE"] = str(tmp_path_factory.mktemp("mteb_cache"))
    os.environ["HARNESS_CACHE_DIR"] = str(tmp_path_factory.mktemp("harness_cache"))
    os.environ.pop("HARNESS_DATA_DIR", None)


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """``../shared/datasets``: skipped when absent, but a failure in CI (CI=true)."""
    if not SHARED_DATASETS.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SHARED_DATASETS} is missing; CI must have ../shared beside the clone")
        pytest.skip(f"{SHARED_DATASETS} is absent (real data lives in ../shared/datasets)")
    return SHARED_DATASETS


@pytest.fixture
def one_openmp_thread() -> Iterator[None]:
    """k-means (ours and mteb's) on one OpenMP thread: on small sandboxes, waking idle OpenMP
    threads for each MiniBatchKMeans step costs milliseconds (30 s per test instead of 1 s)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        yield
