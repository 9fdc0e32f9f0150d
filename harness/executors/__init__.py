"""Executors run (model, task) units: ``local`` here, ``ray`` on a cluster; both call ``runner.execute_unit``."""

from __future__ import annotations

from harness.config import RunConfig
from harness.runner import Executor


def make_executor(config: RunConfig) -> Executor:
    """The executor ``config.executor`` names: ``"local"``, ``"ray"``, or the object itself
    (``--devices``: the Ray executor, one replica per device).

    The options were validated when ``config`` was built (``RunConfig``).

    Raises:
        HarnessError: ``"ray"`` or ``--devices`` without Ray installed; a device that does not exist.
    """
    if config.executor == "ray" or config.devices is not None:
        from harness.executors.ray import RayExecutor

        return RayExecutor.from_config(config)
    if config.executor == "local":
        from harness.executors.local import LocalExecutor

        return LocalExecutor()
    return config.executor
