"""The Ray driver's loop: queues per model, replicas, calls in flight, retries.

``harness.executors.ray`` describes the policy (scheduling, sharding, faults); this module is
the one execution of it that ``RayExecutor.execute`` starts.
"""

from __future__ import annotations

import math
import sys
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.accelerators import device_kind
from harness.batching import EncodeStats
from harness.errors import HarnessError
from harness.executors._replica import Finished, NeedsShards, Replica, Shard, Unshared
from harness.runner import Todo, UnitContext, UnitOutcome, failure
from harness.specs import TaskSpec
from harness.store import sweep_temp_files

DEFAULT_SHARD_SIZE = 50_000
DEFAULT_MAX_RETRIES = 3


@dataclass(frozen=True)
class ReplicaOptions:
    """How the driver runs a model's replicas.

    Attributes:
        gpus_per_model: GPUs per replica (fractions share a GPU), 0 or more.
        cpus_per_unit: CPUs per replica (also the model's intra-op threads, at least 1), more than 0.
        shard_size: a role with more distinct texts than this is embedded in shards over the
            model's replicas; None never shards.
        max_retries: how many times a unit is re-queued after the replica running it was lost.
        progress: show the driver's lines (shards, retries); the grid's bar is the runner's (``harness.progress``).
        devices: ``--devices``: one replica per entry, each on its device (a CUDA device's
            replicas share its GPU); with two or more, every shardable unit's roles are cut into
            at least one shard per device.
    """

    gpus_per_model: float = 0.0
    cpus_per_unit: float = 1.0
    shard_size: int | None = DEFAULT_SHARD_SIZE
    max_retries: int = DEFAULT_MAX_RETRIES
    progress: bool = True
    devices: tuple[str, ...] = ()

    @property
    def split(self) -> bool:
        """Every unit's texts are shared between devices."""
        return len(self.devices) > 1

    def gpus_of(self, device: str | None) -> float:
        """GPUs a replica on ``device`` asks Ray for: its device's share (``cuda:0,cuda:0``: 0.5 each)."""
        if device is None:
            return self.gpus_per_model
        if device_kind(device) != "cuda":
            return 0.0
        return 1.0 / max(Counter(self.devices).values())


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


@dataclass(eq=False)
class _Unit:
    """Driver-side state of one (model, task) unit."""

    model: int
    spec: TaskSpec
    losses: int = 0  # replicas lost while working on it
    shards: list[Shard] | None = None
    waiting: int = 0  # shards not yet embedded
    finished: bool = False
    replicas: dict[int, tuple[str, EncodeStats]] = field(default_factory=dict)  # per replica: (device, its shards' stats)


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
    device: str | None = None  # its --devices entry


class Run:
    """One execution: queues, replicas, calls in flight."""

    def __init__(self, options: ReplicaOptions, ray: Any, todo: Todo, ctx: UnitContext, record: Callable[[UnitOutcome], None]) -> None:
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
            ref = slot.handle.run_unit.remote(unit.spec, 1 if self.o.split else self.o.shard_size, None)
        elif item.kind == "final":
            ref = slot.handle.run_unit.remote(unit.spec, None, unit.shards or [], list(unit.replicas.values()))
        else:
            shard = (unit.shards or [])[item.shard]
            ref, vectors = slot.handle.encode_shard.options(num_returns=2).remote(unit.spec, shard.role, shard.start, shard.stop)
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
            if not isinstance(err.cause, exceptions.RayError):  # a bug outside execute_unit: this unit fails, as locally
                if not unit.finished:
                    cause = err.cause if isinstance(err.cause, Exception) else err
                    self._finish(unit, failure(self._name(unit), unit.spec.name, cause, self.ctx.results_dir))
                return
            self._lost(slot, item, err.cause)
            return
        except exceptions.RayError as err:
            if isinstance(err, exceptions.RayActorError) and getattr(err, "actor_init_failed", False):
                raise HarnessError(
                    f"model {self._name(unit)}: a Ray replica could not start ({first_line(err)}); "
                    "every node needs the harness and the model's packages installed"
                ) from None
            self._lost(slot, item, err)
            return
        slot.node = answer.node or slot.node
        if isinstance(answer, Unshared):
            raise HarnessError(answer.message)
        if unit.finished:
            return
        if isinstance(answer, Finished):
            if answer.data_problem:
                self.unusable[unit.spec.name] = (answer.outcome.status, answer.outcome.message)
            self._finish(unit, answer.outcome, answer.node)
        elif isinstance(answer, NeedsShards):
            self._plan_shards(unit, answer.sizes)
        else:
            assert unit.shards is not None
            unit.shards[item.shard].vectors = [vectors]
            before = unit.replicas.get(id(slot))
            unit.replicas[id(slot)] = (answer.device, before[1].then(answer.stats) if before else answer.stats)
            unit.waiting -= 1
            if unit.waiting == 0:
                self.queues[unit.model].appendleft(_Item(unit, "final"))

    def _plan_shards(self, unit: _Unit, sizes: dict[Any, int]) -> None:
        """Cut every role above the shard size (with devices: of 2 texts or more; at least one
        shard per device) into equal contiguous shards, queued first."""
        size = self.o.shard_size or 1
        unit.shards, unit.replicas = [], {}
        for role, n in sizes.items():
            count = math.ceil(n / size) if n > size else 1
            if self.o.split:
                count = max(count, min(len(self.o.devices), n))
            if count > 1:
                bounds = [round(k * n / count) for k in range(count + 1)]
                unit.shards += [Shard(role, a, b) for a, b in zip(bounds, bounds[1:])]
        unit.waiting = len(unit.shards)
        if not unit.shards:  # one text per role: nothing to share, run it whole
            self.queues[unit.model].appendleft(_Item(unit, "final"))
            return
        self.queues[unit.model].extendleft(_Item(unit, "shard", k) for k in reversed(range(len(unit.shards))))
        largest = max(shard.stop - shard.start for shard in unit.shards)
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
            message = f"lost its Ray worker {unit.losses} times (last{where}: {first_line(err)})"
            self._finish(unit, UnitOutcome(self._name(unit), unit.spec.name, "failed", message=message))
            return
        if item.kind == "final" and not isinstance(err, self.ray.exceptions.RayActorError):
            unit.shards, unit.waiting, unit.replicas, item = None, 0, {}, _Item(unit, "unit")  # shard vectors lost: start the unit again
        self.queues[unit.model].appendleft(item)
        self._say(
            f"retry   {self._name(unit)} × {unit.spec.name}: worker{where} lost ({first_line(err)}); "
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
        self.record(outcome)  # the runner's overall progress line counts it

    # ---- replicas ----------------------------------------------------------------------------
    def _capacity(self, strict: bool = True) -> int:
        """Replicas that fit the cluster at once (at least 1: Ray queues the rest).

        ``strict``: a cluster without the GPUs one replica asks for is an error (at the start; later
        a lost GPU node may come back).
        """
        resources = self.ray.cluster_resources()
        if self.o.devices:
            need, gpus = sum(self.o.gpus_of(d) for d in self.o.devices), resources.get("GPU", 0)
            if strict and need > gpus + 1e-9:
                raise HarnessError(f"--devices: {need:g} GPUs asked for, the Ray instance has {gpus:g}")
            return len(self.o.devices)
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
                raise HarnessError(f"model {self.models[model].info.name}: cannot be sent to Ray workers ({first_line(err)})") from None
        threads = max(1, int(self.o.cpus_per_unit))
        free = Counter(self.o.devices) - Counter(s.device for s in self.slots)
        device = next(iter(free.elements()), None)
        handle = self.actor.options(num_cpus=self.o.cpus_per_unit, num_gpus=self.o.gpus_of(device), max_restarts=0).remote(
            self.model_refs[model], self.ctx, threads, str(self.marker), device
        )
        slot = _Slot(handle, model, where=handle.where.remote(), device=device)
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

    def _say(self, message: str) -> None:
        if self.o.progress:
            from tqdm.auto import tqdm

            tqdm.write(message, file=sys.stderr)

