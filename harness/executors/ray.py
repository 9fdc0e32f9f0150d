"""Run units on a Ray cluster: one actor per model replica, the same unit function as ``local``.

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
    only caller of a model and needs no change to it or to ``execute_unit``; the price is that a
    sharded unit's result records its texts as "from cache". Only cacheable models without
    per-task fitting are sharded (BM25's vectors depend on the whole corpus), and not tasks that
    chunk long documents (the cache holds their windows, a shard returns pooled vectors); a sweep
    variant is sharded through its base model and derived after the gather, from the whole unit.

Faults
    A replica that dies (process killed, node lost, out of memory) fails its call with a Ray
    system error: the driver drops that replica, removes temporary files a killed writer left,
    prints one line and queues the item again (a shard, the sharded unit's last step, or the
    unit), at most ``max_retries`` times per unit; after that the unit is reported failed. A
    unit that fails on a user error (bad data or spec) comes back as an outcome with status
    "failed": it is reported once and never retried. A bug raises, as in a local run. A killed
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

import math
import sys
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from harness.errors import HarnessError
from harness.runner import UnitContext, UnitOutcome
from harness.specs import TaskSpec
from harness.store import sweep_temp_files

DEFAULT_SHARD_SIZE = 50_000
DEFAULT_MAX_RETRIES = 3
INSTALL_HINT = "pip install -e .[ray]"


class RayUnavailable(HarnessError):
    """``--executor ray`` was asked for but Ray cannot be imported."""


def require_ray() -> Any:
    """The ``ray`` module, or RayUnavailable with the install command."""
    try:
        import ray
    except ImportError as err:
        raise RayUnavailable(f"--executor ray needs Ray, which cannot be imported ({err}): {INSTALL_HINT}") from None
    return ray


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


@dataclass(eq=False)
class _Unit:
    """Driver-side state of one (model, task) unit."""

    model: int
    spec: TaskSpec
    losses: int = 0  # replicas lost while working on it
    shards: list[list[Any]] | None = None  # [role, start, stop, [vectors ref] or None]
    waiting: int = 0  # shards not yet embedded
    finished: bool = False


@dataclass(eq=False)
class _Item:
    unit: _Unit
    kind: Literal["unit", "shard", "final"]
    shard: int = -1


@dataclass(eq=False)
class _Slot:
    handle: Any
    model: int
    busy: _Item | None = None
    node: str | None = None
    where: Any = None  # ref of the replica's node label, asked for at its start


class RayExecutor:
    """Runs units on replicas of each model spread over a Ray cluster.

    Args:
        address: anything ``ray.init`` accepts (``auto``, ``HOST:PORT``, ``ray://HOST:10001``);
            None starts a local Ray instance (or uses the one this process is connected to).
        gpus_per_model: GPUs per replica (fractions share a GPU).
        cpus_per_unit: CPUs per replica (also the model's intra-op threads, at least 1).
        shard_size: a role with more distinct texts than this is embedded in shards over the
            model's replicas; None never shards.
        max_retries: how many times a unit is re-queued after the replica running it was lost.
        progress: show the grid's progress bar and the per-unit lines' node names.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        gpus_per_model: float = 0.0,
        cpus_per_unit: float = 1.0,
        shard_size: int | None = DEFAULT_SHARD_SIZE,
        max_retries: int = DEFAULT_MAX_RETRIES,
        progress: bool = True,
    ) -> None:
        if not (isinstance(gpus_per_model, (int, float)) and gpus_per_model >= 0):
            raise HarnessError(f"--gpus-per-model: must be 0 or more (got {gpus_per_model})")
        if not (isinstance(cpus_per_unit, (int, float)) and cpus_per_unit > 0):
            raise HarnessError(f"--cpus-per-unit: must be more than 0 (got {cpus_per_unit})")
        if shard_size is not None and not (isinstance(shard_size, int) and shard_size >= 1):
            raise HarnessError(f"--shard-size: must be at least 1 (got {shard_size})")
        if max_retries < 0:
            raise HarnessError(f"max_retries: must be 0 or more (got {max_retries})")
        require_ray()
        self.address = address
        self.gpus_per_model = float(gpus_per_model)
        self.cpus_per_unit = float(cpus_per_unit)
        self.shard_size = shard_size
        self.max_retries = max_retries
        self.progress = progress

    def execute(self, todo: list[tuple[Any, list[TaskSpec]]], ctx: UnitContext, record: Callable[[UnitOutcome], None]) -> None:
        if not any(pending for _, pending in todo):
            return
        ray = require_ray()
        started = self._connect(ray)
        try:
            _Run(self, ray, todo, _absolute(ctx), record).loop()
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
        try:
            ray.init(address=self.address, **options)
        except (ConnectionError, RuntimeError, ValueError) as err:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray instance"
            raise HarnessError(f"--ray-address: cannot connect to {where} ({_first_line(err)})") from None
        return True


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


class _Run:
    """One execution: queues, replicas, calls in flight, the progress bar."""

    def __init__(self, options: RayExecutor, ray: Any, todo: list[tuple[Any, list[TaskSpec]]], ctx: UnitContext, record: Callable[[UnitOutcome], None]) -> None:
        from harness.executors._replica import Replica

        self.o, self.ray, self.ctx, self.record = options, ray, ctx, record
        self.models = [model for model, _ in todo]
        self.queues: list[deque[_Item]] = [deque(_Item(_Unit(i, spec), "unit") for spec in pending) for i, (_, pending) in enumerate(todo)]
        self.remaining = [len(pending) for _, pending in todo]
        self.slots: list[_Slot] = []
        self.in_flight: dict[Any, tuple[_Slot, _Item, Any]] = {}
        self.unusable: dict[str, tuple[str, str]] = {}  # task -> (status, message) of a data problem
        self.cost: dict[str, float] = {}  # task -> seconds one unit of it took (the longest so far)
        self.model_refs: list[Any] = [None] * len(self.models)
        self.actor = ray.remote(Replica)
        self.capacity = self._capacity()
        self.bar = self._bar(sum(self.remaining))

    # ---- the loop ----------------------------------------------------------------------------
    def loop(self) -> None:
        self.ctx.results_dir.mkdir(parents=True, exist_ok=True)
        self.marker = self.ctx.results_dir / f".harness-ray-{uuid.uuid4().hex}.check"
        self.marker.touch()
        try:
            while any(self.remaining):
                self._schedule()
                if not self.in_flight:  # pragma: no cover - a scheduling bug, not a user error
                    raise RuntimeError(f"ray executor: {sum(self.remaining)} units left but nothing is running")
                ready, _ = self.ray.wait(list(self.in_flight), num_returns=1, fetch_local=True)
                for ref in ready:
                    self._collect(ref)
        finally:
            for slot in list(self.slots):
                self._retire(slot)
            self.marker.unlink(missing_ok=True)
            if self.bar is not None:
                self.bar.close()

    def _schedule(self) -> None:
        for slot in list(self.slots):
            if slot.busy is None and self.remaining[slot.model] == 0:
                self._retire(slot)
        for slot in self.slots:
            if slot.busy is None:
                self._dispatch_next(slot)
        while True:
            waiting = [m for m, queue in enumerate(self.queues) if queue]
            if not waiting:
                return
            model = waiting[0]  # models in the grid's order, as a local run; each on as many replicas as are free
            if len(self.slots) >= self.capacity:
                idle = [s for s in self.slots if s.busy is None and s.model != model]
                if not idle:
                    return
                self._retire(idle[0])
            slot = self._start(model)
            self._dispatch_next(slot)

    def _dispatch_next(self, slot: _Slot) -> None:
        queue = self.queues[slot.model]
        while queue and slot.busy is None:
            item = self._pop(queue)
            if item.unit.finished:
                continue
            known = self.unusable.get(item.unit.spec.name)
            if item.kind == "unit" and known:
                self._finish(item.unit, UnitOutcome(self._name(item.unit), item.unit.spec.name, known[0], message=known[1]))  # type: ignore[arg-type]
                continue
            self._dispatch(slot, item)

    def _pop(self, queue: deque[_Item]) -> _Item:
        """Shards and sharded units' last steps first; then units of tasks not timed yet (in the
        grid's order), then the others longest first (timed on an earlier model: LPT)."""
        index = next((i for i, item in enumerate(queue) if item.kind != "unit"), None)
        if index is None:
            index = min(range(len(queue)), key=lambda i: (-self.cost.get(queue[i].unit.spec.name, math.inf), i))
        item = queue[index]
        del queue[index]
        return item

    def _dispatch(self, slot: _Slot, item: _Item) -> None:
        unit, vectors = item.unit, None
        if item.kind == "unit":
            ref = slot.handle.run_unit.remote(unit.spec, self.o.shard_size, None)
        elif item.kind == "final":
            ref = slot.handle.run_unit.remote(unit.spec, None, [tuple(s) for s in unit.shards or []])
        else:
            role, start, stop, _ = (unit.shards or [])[item.shard]
            ref, vectors = slot.handle.encode_shard.options(num_returns=2).remote(unit.spec, role, start, stop)
        slot.busy = item
        self.in_flight[ref] = (slot, item, vectors)

    def _collect(self, ref: Any) -> None:
        slot, item, vectors = self.in_flight.pop(ref)
        slot.busy = None
        unit = item.unit
        exceptions = self.ray.exceptions
        try:
            answer = self.ray.get(ref)
        except exceptions.RayTaskError as err:
            if not isinstance(err.cause, exceptions.RayError):
                raise err.as_instanceof_cause() from None  # a bug: stop, as a local run would
            self._lost(slot, item, err.cause)
            return
        except exceptions.RayError as err:
            if isinstance(err, exceptions.RayActorError) and getattr(err, "actor_init_failed", False):
                raise HarnessError(
                    f"model {self._name(unit)}: a Ray replica could not start ({_first_line(err)}); "
                    "every node needs the harness and the model's packages installed"
                ) from None
            self._lost(slot, item, err)
            return
        slot.node = answer.get("node") or slot.node
        kind = answer["kind"]
        if kind == "unshared":
            raise HarnessError(answer["message"])
        if unit.finished:
            return
        if kind == "outcome":
            outcome = answer["outcome"]
            if answer["data_problem"]:
                self.unusable[unit.spec.name] = (outcome.status, outcome.message)
            self._finish(unit, outcome, answer["node"])
        elif kind == "shard":
            self._plan_shards(unit, answer["sizes"])
        elif kind == "shard_done":
            assert unit.shards is not None
            unit.shards[item.shard][3] = [vectors]
            unit.waiting -= 1
            if unit.waiting == 0:
                self.queues[unit.model].appendleft(_Item(unit, "final"))

    def _plan_shards(self, unit: _Unit, sizes: dict[Any, int]) -> None:
        """Cut every role above the shard size into equal contiguous shards, queued first."""
        size = self.o.shard_size or 1
        unit.shards = []
        for role, n in sizes.items():
            if n > size:
                count = math.ceil(n / size)
                bounds = [round(k * n / count) for k in range(count + 1)]
                unit.shards += [[role, a, b, None] for a, b in zip(bounds, bounds[1:])]
        unit.waiting = len(unit.shards)
        self.queues[unit.model].extendleft(_Item(unit, "shard", k) for k in reversed(range(len(unit.shards))))
        largest = max(stop - start for _, start, stop, _ in unit.shards)
        self._say(f"shard   {self._name(unit)} × {unit.spec.name}: {unit.waiting} shards of at most {largest} texts over the model's replicas")

    def _lost(self, slot: _Slot, item: _Item, err: BaseException) -> None:
        """The replica running ``item`` is gone (or an object it needed is): retry, bounded."""
        self._retire(slot)
        sweep_temp_files(self.ctx.results_dir)  # a writer killed mid-write leaves its temporary file
        self.capacity = self._capacity(strict=False)  # a node may have left
        unit = item.unit
        if unit.finished:
            return
        unit.losses += 1
        node = self._node(slot)
        where = f" on node {node}" if node else ""
        if unit.losses > self.o.max_retries:
            message = f"lost its Ray worker {unit.losses} times (last{where}: {_first_line(err)})"
            self._finish(unit, UnitOutcome(self._name(unit), unit.spec.name, "failed", message=message))
            return
        if item.kind == "final" and not isinstance(err, self.ray.exceptions.RayActorError):
            unit.shards, unit.waiting, item = None, 0, _Item(unit, "unit")  # shard vectors lost: start the unit again
        self.queues[unit.model].appendleft(item)
        self._say(
            f"retry   {self._name(unit)} × {unit.spec.name}: worker{where} lost ({_first_line(err)}); "
            f"retry {unit.losses} of {self.o.max_retries}"
        )

    def _finish(self, unit: _Unit, outcome: UnitOutcome, node: str | None = None) -> None:
        unit.finished, unit.shards = True, None  # drops the shard vectors from the object store
        self.remaining[unit.model] -= 1
        if outcome.result is not None:
            seconds = outcome.result.data.evaluation_time or 0.0
            self.cost[unit.spec.name] = max(self.cost.get(unit.spec.name, 0.0), seconds)
        if node and outcome.status in ("done", "failed"):
            outcome.message = f"{outcome.message} [node {node}]"
        if self.bar is not None:
            self.bar.update(1)
        self.record(outcome)

    # ---- replicas ----------------------------------------------------------------------------
    def _capacity(self, strict: bool = True) -> int:
        """Replicas that fit the cluster at once (at least 1: Ray queues the rest).

        ``strict``: a cluster without the GPUs one replica asks for is an error (at the start; later
        a lost GPU node may come back).
        """
        resources = self.ray.cluster_resources()
        fits = int(resources.get("CPU", 0) // self.o.cpus_per_unit)
        if self.o.gpus_per_model:
            gpus = resources.get("GPU", 0)
            if strict and gpus < self.o.gpus_per_model:
                raise HarnessError(f"--gpus-per-model {self.o.gpus_per_model:g}: the Ray cluster has {gpus:g} GPUs")
            fits = min(fits, int(gpus // self.o.gpus_per_model))
        return max(1, fits)

    def _node(self, slot: _Slot) -> str | None:
        """The replica's node, if it said so before it was lost."""
        if slot.node is None and slot.where is not None:
            try:
                slot.node = self.ray.get(slot.where, timeout=1)
            except Exception:  # noqa: BLE001 - died before answering
                slot.where = None
        return slot.node

    def _replicas(self, model: int) -> int:
        return sum(s.model == model for s in self.slots)

    def _start(self, model: int) -> _Slot:
        if self.model_refs[model] is None:
            try:
                self.model_refs[model] = self.ray.put(self.models[model])
            except Exception as err:  # noqa: BLE001 - any pickling failure
                raise HarnessError(f"model {self.models[model].info.name}: cannot be sent to Ray workers ({_first_line(err)})") from None
        threads = max(1, int(self.o.cpus_per_unit))
        handle = self.actor.options(num_cpus=self.o.cpus_per_unit, num_gpus=self.o.gpus_per_model, max_restarts=0).remote(
            self.model_refs[model], self.ctx, threads, str(self.marker)
        )
        slot = _Slot(handle, model, where=handle.where.remote())
        self.slots.append(slot)
        return slot

    def _retire(self, slot: _Slot) -> None:
        if slot in self.slots:
            self.slots.remove(slot)
        try:
            self.ray.kill(slot.handle, no_restart=True)
        except Exception:  # noqa: BLE001 - already dead
            pass

    # ---- output ------------------------------------------------------------------------------
    def _name(self, unit: _Unit) -> str:
        return str(self.models[unit.model].info.name)

    def _bar(self, total: int) -> Any:
        if not self.o.progress:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=total, desc="units", unit="unit", file=sys.stderr, dynamic_ncols=True, disable=None)

    def _say(self, message: str) -> None:
        if self.o.progress:
            from tqdm.auto import tqdm

            tqdm.write(message, file=sys.stderr)

