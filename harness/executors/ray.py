"""Run units on a Ray cluster: one actor per model replica, the same unit function as ``local``.

The driver's loop is ``_driver.Run``; the replica actor is ``_replica.Replica``; they exchange
the small dataclasses of ``_replica`` (``Shard``, ``Finished``, ``NeedsShards``, ``ShardDone``,
``Unshared``).

Actors
    A ``Replica`` actor (``_replica.py``) holds one model, loads it on its first text and keeps
    it for every unit it runs; it asks Ray for ``cpus_per_unit`` CPUs and ``gpus_per_model``
    GPUs and gives the model as many intra-op threads as it has CPUs (``HARNESS_NUM_THREADS``).
    The driver runs as many replicas at once as the cluster's CPUs (and GPUs) allow. Each model
    has a queue of work; an idle replica takes the next item of its model's queue; a free slot
    goes to the first model (in the grid's order, as a local run) with queued work, so a model
    runs on every free replica and the next one starts as the first replicas run out of work; a
    replica with nothing left to do is retired when another model waits for a slot, and when its
    model is finished. Within a model, units of tasks not yet timed run first, in the grid's
    order, then the others longest first by the time the task took on an earlier model
    (longest-processing-time-first: the tail of the grid is short units, which balance well).

Units
    One (model, task) pair is one unit, run by ``runner.execute_unit`` on a replica: it loads the
    task's data there, embeds through ``harness.encode`` (and that node's embedding cache), scores,
    and writes the result through ``harness.store`` (atomic files, the results-folder lock), so
    resuming, overwriting and the file format are those of a local run.

Sharding
    A unit whose distinct texts of one role outnumber ``shard_size`` (a large corpus) is first
    answered with its sizes instead of being run. The driver cuts that role into equal
    contiguous shards and queues them first; any replica of the model embeds a shard with
    ``encode_groups`` (which also stores it in that node's cache) and returns the vectors to the
    object store. When every shard is in, one replica seeds its cache with the shard vectors
    (through ``encode_groups`` again, with a stand-in model that answers from the shards, so the
    encode path computes the cache keys) and runs the unit: every sharded text is a cache hit and
    scoring is unchanged. Only shards whose texts that cache lacks are fetched from the object
    store (none when the shards ran on nodes sharing its cache). This keeps ``encode.py`` the
    only caller of a model; the driver passes what each replica encoded (``EncodeStats`` per
    replica) to the last step, so the result counts the shards' texts as encoded, with the
    slowest replica's seconds, not as cache hits. Only cacheable models without
    per-task fitting are sharded (BM25's vectors depend on the whole corpus), and not tasks that
    chunk long documents (the cache holds their windows, a shard returns pooled vectors); a sweep
    variant is sharded through its base model and derived after the gather, from the whole unit.

Devices
    ``--devices cuda:0,cuda:1`` (``harness.accelerators``) is this executor on a local Ray
    instance that sees only the named GPUs: one replica per entry, each asking for its share of
    a GPU (Ray then shows it only that GPU, which ``Encoder.place`` loads the model on), and with
    two or more entries every shardable unit is cut into at least one shard per device.

Faults
    A replica that dies (process killed, node lost, out of memory) fails its call with a Ray
    system error: the driver drops that replica, removes temporary files a killed writer left,
    prints one line and queues the item again (a shard, the sharded unit's last step, or the
    unit), at most ``max_retries`` times per unit; after that the unit is reported failed. A
    unit that fails on a user error (bad data or spec) comes back as an outcome with status
    "failed": it is reported once and never retried; so is a bug (an exception that is not a user
    error), its traceback written to the log in the results folder, as in a local run. A killed
    driver takes its replicas with it; the next run resumes from the store.

Progress
    One bar on the driver for the whole grid (units done/total, ETA) and one line per finished
    unit naming the node (``IP/node-id``) that ran it.

What the nodes must share
    The results folder (every replica writes there; the driver checks with a marker file and
    stops with an error if a node cannot see it) and task data under ``--data-dir``, at the same
    absolute paths; the harness and the models' packages installed alike. The embedding cache
    need not be shared: each node uses its own (``--cache-dir``, else ``HARNESS_CACHE_DIR`` or
    ``~/.cache/harness`` on that node), and shard vectors travel through Ray's object store.
    Replicas on one machine share its cache (SQLite serialises them). Across machines, keep the
    cache on local disks: SQLite's WAL mode is not safe on a network file system, and a cache
    key includes the model files' modification times, which differ between installations.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from harness.accelerators import device_kind, parse_devices, resolve_devices
from harness.config import RunConfig
from harness.errors import HarnessError
from harness.executors._driver import DEFAULT_MAX_RETRIES, DEFAULT_SHARD_SIZE, ReplicaOptions, Run, first_line
from harness.models.base import cpu_threads
from harness.runner import Todo, UnitContext, UnitOutcome

__all__ = ["DEFAULT_MAX_RETRIES", "DEFAULT_SHARD_SIZE", "RayExecutor", "RayUnavailable", "ReplicaOptions", "require_ray"]
INSTALL_HINT = "pip install -e .[ray]"
CUDA_VISIBLE = "CUDA_VISIBLE_DEVICES"


class RayUnavailable(HarnessError):
    """``--executor ray`` was asked for but Ray cannot be imported."""


def require_ray(flag: str = "--executor ray") -> Any:
    """The ``ray`` module, or RayUnavailable naming ``flag`` with the install command."""
    try:
        import ray
    except ImportError as err:
        raise RayUnavailable(f"{flag} needs Ray, which cannot be imported ({err}): {INSTALL_HINT}") from None
    return ray


class RayExecutor:
    """Runs units on replicas of each model spread over a Ray cluster.

    Args:
        address: anything ``ray.init`` accepts (``auto``, ``HOST:PORT``, ``ray://HOST:10001``);
            None starts a local Ray instance (or uses the one this process is connected to).
        options: replica resources, shard size, retries and progress (``ReplicaOptions``).

    The user-facing options are validated by ``RunConfig``; use :meth:`from_config`.
    """

    def __init__(self, address: str | None = None, options: ReplicaOptions | None = None) -> None:
        require_ray()
        self.address = address
        self.options = options or ReplicaOptions()

    @classmethod
    def from_config(cls, config: RunConfig) -> RayExecutor:
        """The executor of a run's Ray options (None: the defaults of ``ReplicaOptions``).

        With ``--devices``: one replica per device of this machine, each with an equal share of
        its CPUs unless ``--cpus-per-unit`` says otherwise.

        Raises:
            HarnessError: no Ray; a device this machine does not have.
        """
        devices: tuple[str, ...] = ()
        if config.devices is not None:
            require_ray("--devices")
            devices = resolve_devices(parse_devices(",".join(config.devices)))
        cpus = config.cpus_per_unit or (cpu_threads() / len(devices) if devices else None)
        given = {"gpus_per_model": config.gpus_per_model, "cpus_per_unit": cpus, "shard_size": config.shard_size}
        options = ReplicaOptions(**{k: v for k, v in given.items() if v is not None}, progress=config.verbose, devices=devices)
        return cls(config.ray_address, options)

    def execute(self, todo: Todo, ctx: UnitContext, record: Callable[[UnitOutcome], None]) -> None:
        if not any(pending for _, pending in todo):
            return
        ray = require_ray()
        started = self._connect(ray)
        try:
            Run(self.options, ray, todo, _absolute(ctx), record).loop()
        finally:
            if started:
                ray.shutdown()

    def _connect(self, ray: Any) -> bool:
        """Connect (or start a local instance); True when this call did, so it shuts it down."""
        import logging

        if ray.is_initialized():
            return False
        options: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
        if self.address is None:
            options["include_dashboard"] = False
        _probe(self.address)
        gpus = sorted({d.partition(":")[2] or "0" for d in self.options.devices if device_kind(d) == "cuda"}, key=int)
        if self.options.devices:  # a local instance with this machine's CPUs and only the named GPUs
            options.update(num_cpus=cpu_threads(), num_gpus=len(gpus))
        visible = os.environ.get(CUDA_VISIBLE)
        try:
            if gpus:  # Ray hands out the GPUs it sees: the named ones, each replica's as its "cuda"
                os.environ[CUDA_VISIBLE] = ",".join(_physical(gpus, visible))
            ray.init(address=self.address, **options)
        except (ConnectionError, RuntimeError, ValueError) as err:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray instance"
            raise HarnessError(f"--ray-address: cannot connect to {where} ({first_line(err)})") from None
        finally:
            if gpus and visible is None:
                del os.environ[CUDA_VISIBLE]
            elif gpus:
                os.environ[CUDA_VISIBLE] = visible
        return True


def _physical(indices: list[str], visible: str | None) -> list[str]:
    """CUDA ``indices`` as this process numbers them -> the ids ``CUDA_VISIBLE_DEVICES`` names."""
    if not visible:
        return indices
    ids = [v.strip() for v in visible.split(",")]
    return [ids[int(i)] for i in indices]


def _probe(address: str | None, timeout: float = 10.0) -> None:
    """Fail fast on a ``HOST:PORT`` nobody listens on (``ray.init`` would retry for minutes)."""
    import socket

    if not address or "://" in address or ":" not in address:
        return
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as err:
        raise HarnessError(f"--ray-address: nothing answers at {address} ({err.strerror or err}); is the head node started (ray start --head)?") from None


def _absolute(ctx: UnitContext) -> UnitContext:
    """The context with absolute paths: replicas do not run in the driver's working directory."""
    from harness.data import default_data_root

    data_root = ctx.data_root or default_data_root()
    return replace(
        ctx,
        results_dir=ctx.results_dir.resolve(),
        data_root=data_root.resolve() if data_root else None,
        cache_dir=ctx.cache_dir.resolve() if ctx.cache_dir else None,
        _cache=None,
    )
