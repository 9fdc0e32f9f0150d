"""Executors run (model, task) units: ``local`` here, ``ray`` on a cluster; both call ``runner.execute_unit``."""

from __future__ import annotations

from harness.config import RunConfig
from harness.runner import Executor


def make_executor(config: RunConfig) -> Executor:
    """The executor ``config.executor`` names: ``"local"``, ``"ray"``, or the object itself.

    The options were validated when ``config`` was built (``RunConfig``).

    Raises:
        HarnessError: ``"ray"`` without Ray installed.
    """
    if config.executor == "local":
        from harness.executors.local import LocalExecutor

        return LocalExecutor()
    if config.executor == "ray":
        from harness.executors.ray import RayExecutor

        return RayExecutor.from_config(config)
    return config.executor
