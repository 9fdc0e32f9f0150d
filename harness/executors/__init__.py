"""Executors run (model, task) units: ``local`` here, ``ray`` on a cluster; both call ``runner.execute_unit``."""

from __future__ import annotations

from typing import Any

from harness.errors import HarnessError

EXECUTORS = ("local", "ray")


def make_executor(
    executor: Any = "local",
    *,
    ray_address: str | None = None,
    gpus_per_model: float | None = None,
    cpus_per_unit: float | None = None,
    shard_size: int | None = None,
    progress: bool = True,
) -> Any:
    """The executor for ``"local"`` (None: the runner's default), ``"ray"``, or an object with ``execute``.

    Raises:
        HarnessError: an unknown name, Ray options without ``"ray"``, or Ray not installed.
    """
    ray_options = {"--ray-address": ray_address, "--gpus-per-model": gpus_per_model, "--cpus-per-unit": cpus_per_unit, "--shard-size": shard_size}
    if executor == "ray":
        from harness.executors.ray import DEFAULT_SHARD_SIZE, RayExecutor

        return RayExecutor(
            ray_address,
            gpus_per_model=0.0 if gpus_per_model is None else gpus_per_model,
            cpus_per_unit=1.0 if cpus_per_unit is None else cpus_per_unit,
            shard_size=DEFAULT_SHARD_SIZE if shard_size is None else shard_size,
            progress=progress,
        )
    given = [flag for flag, value in ray_options.items() if value is not None]
    if given:
        raise HarnessError(f"{', '.join(given)}: only with --executor ray")
    if executor == "local":
        return None
    if callable(getattr(executor, "execute", None)):
        return executor
    raise HarnessError(f"--executor: unknown executor {executor!r} (choose from {', '.join(EXECUTORS)})")
