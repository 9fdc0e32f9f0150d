"""The worker side of the Ray executor: one ``Replica`` actor holds one model and runs its units.

Nothing here imports Ray at module level; ``harness.executors.ray`` wraps ``Replica`` with
``ray.remote`` on the driver. Every text still reaches the model through ``harness.encode``:

* ``run_unit`` calls ``runner.execute_unit`` (the local executor's unit function);
* ``encode_shard`` embeds a slice of a unit's distinct texts with ``encode_groups`` (which writes
  them into this replica's embedding cache) and returns the vectors;
* before the sharded unit itself runs, ``_seed`` passes the gathered shard vectors through
  ``encode_groups`` once more, with a ``ShardReplay`` standing in for the model: the encode path
  computes the cache keys, finds what this replica's cache lacks, and stores the shard vectors
  under those keys. ``execute_unit`` then finds every sharded text in the cache.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.accelerators import device_kind
from harness.batching import EncodeStats
from harness.data import load_task_data
from harness.encode import distinct_by_role, encode_groups
from harness.evaluators import get_evaluator
from harness.evaluators.base import Role, TextGroup
from harness.models.base import NUM_THREADS_ENV, Encoder, ModelInfo
from harness.runner import UnitContext, UnitOutcome, execute_unit, failure
from harness.specs import TaskSpec


@dataclass
class Shard:
    """Distinct texts ``start:stop`` of ``role`` in a unit; ``vectors`` is a one-element list
    holding the ObjectRef of their vectors once embedded (in a list, so that Ray passes the
    reference instead of resolving it)."""

    role: Role
    start: int
    stop: int
    vectors: list[Any] | None = None


@dataclass
class Finished:
    """A unit ran (or could not): its outcome; ``data_problem`` when its data did not load."""

    node: str
    outcome: UnitOutcome
    data_problem: bool = False


@dataclass
class NeedsShards:
    """The unit was not run: a role has more distinct texts than the shard size."""

    node: str
    sizes: dict[Role, int]


@dataclass
class ShardDone:
    """A shard was embedded on ``device``; its vectors are the call's second return value."""

    node: str
    stats: EncodeStats
    device: str


@dataclass
class Unshared:
    """This node does not see the results folder: the run cannot go on."""

    node: str
    message: str


Answer = Finished | NeedsShards | ShardDone | Unshared


def node_label() -> str:
    """``IP/node-id-prefix``: the IP alone does not tell apart two nodes on one machine."""
    import ray

    return f"{ray.util.get_node_ip_address()}/{ray.get_runtime_context().get_node_id()[:8]}"


def shardable(model: Encoder, spec: TaskSpec) -> bool:
    """Whether a unit may be embedded in shards and gathered through the cache.

    Only cached models without per-task fitting (their vectors do not depend on the other texts),
    and not a task whose long documents are chunked: the encode path caches such a text's windows,
    not the pooled vector a shard returns, so the gather would file pooled vectors under keys that
    mean "the whole text, truncated".
    """
    chunked = spec.long_documents is not None and spec.long_documents.strategy != "truncate" and model.splits_tokens
    return model.cache_identity() is not None and not model.fits_on_corpus and not chunked


def unit_texts(spec: TaskSpec, data: Any) -> dict[Role, list[str]]:
    """A unit's distinct texts per role, in the encode path's first-seen order."""
    groups = get_evaluator(spec.type).text_groups(data, spec.evaluator_options())
    return {role: list(index) for role, index in distinct_by_role(groups).items()}


class ShardReplay(Encoder):
    """Answers ``encode`` with vectors gathered from shards: the encode path fills the cache with them.

    Vectors are fetched from the object store only for the shards whose texts this replica's
    cache lacks (none, when the shards ran on nodes sharing its cache).
    """

    def __init__(self, model: Encoder, texts: dict[Role, list[str]], shards: Sequence[Shard]) -> None:
        self.info: ModelInfo = model.info
        self._model = model
        self._shards = list(shards)
        self._vectors: dict[int, np.ndarray] = {}
        self._where: dict[Role, dict[str, tuple[int, int]]] = {}
        for index, shard in enumerate(self._shards):
            where = self._where.setdefault(shard.role, {})
            for row, text in enumerate(texts[shard.role][shard.start : shard.stop]):
                where[text] = (index, row)

    def cache_identity(self) -> dict[str, Any] | None:
        return self._model.cache_identity()

    def prompt_for(self, role: Role, task: TaskSpec) -> str:
        return self._model.prompt_for(role, task)  # the same prompt, hence the same cache keys

    def encode(self, texts: list[str], *, role: Role, task: TaskSpec, batch_size: int, **_: Any) -> np.ndarray:
        import ray

        rows = [self._where[role][t] for t in texts]
        for index in {i for i, _ in rows} - set(self._vectors):
            self._vectors[index] = ray.get(self._shards[index].vectors[0])
        return np.stack([self._vectors[i][r] for i, r in rows])


class Replica:
    """One model replica: loads its model once (lazily, on the first text) and runs units of it.

    Args:
        model: the model object from ``harness.models.load_model`` (not yet loaded).
        ctx: the run's UnitContext, with absolute paths.
        threads: intra-op threads for the model (its CPU share), unless the worker's environment sets them.
        marker: a file the driver created in the results folder: if this node cannot see it, the
            results folder is not shared and every method answers ``Unshared``.
        device: the ``--devices`` entry this replica stands for (None: the model's own choice).
    """

    def __init__(self, model: Encoder, ctx: UnitContext, threads: int, marker: str, device: str | None = None) -> None:
        os.environ.setdefault(NUM_THREADS_ENV, str(threads))
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        self.device = device
        if device is not None:  # Ray shows a replica only the GPU it was given: its "cuda" is that one
            model.base_encoder().place(device_kind(device))
        self.model = model
        self.ctx = ctx
        self.marker = Path(marker)
        self.node = node_label()
        self._data: OrderedDict[str, tuple[Any, dict[Role, list[str]] | None]] = OrderedDict()

    def where(self) -> str:
        """This replica's node, ``IP/node-id-prefix``."""
        return self.node

    def _unshared(self) -> Unshared | None:
        if self.marker.exists():
            return None
        return Unshared(
            self.node,
            f"node {self.node} does not see the results folder {self.ctx.results_dir}: "
            "--results must be on a file system every node shares",
        )

    def _load(self, spec: TaskSpec) -> Any:
        """Task data, kept for the unit's other calls on this replica (small LRU)."""
        if spec.name not in self._data:
            self._data[spec.name] = (load_task_data(spec, self.ctx.data_root, allow_absolute=self.ctx.allow_absolute_paths), None)
            while len(self._data) > 4:
                self._data.popitem(last=False)
        self._data.move_to_end(spec.name)
        return self._data[spec.name][0]

    def _texts(self, spec: TaskSpec) -> dict[Role, list[str]]:
        data, texts = self._data[spec.name]
        if texts is None:
            texts = unit_texts(spec, data)
            self._data[spec.name] = (data, texts)
        return texts

    def _outcome(self, spec: TaskSpec, err: Exception, *, data_problem: bool) -> Finished:
        """The unit's outcome for ``err`` (a bug's traceback goes to the log in the results folder)."""
        return Finished(self.node, failure(self.model.info.name, spec.name, err, self.ctx.results_dir), data_problem)

    def run_unit(
        self, spec: TaskSpec, shard_size: int | None, shards: Sequence[Shard] | None, replicas: Sequence[tuple[str, EncodeStats]] = ()
    ) -> Answer:
        """Run one unit; or, when a role has more than ``shard_size`` distinct texts, say how many
        (``NeedsShards``: nothing was encoded). ``replicas``: what encoded ``shards``, per replica
        ``(device, stats)``, for the result's record."""
        problem = self._unshared()
        if problem:
            return problem
        try:
            data = self._load(spec)
        except Exception as err:  # noqa: BLE001 - unit isolation, as execute_unit
            return self._outcome(spec, err, data_problem=True)
        try:
            if shards:
                self._seed(spec, shards)
            elif shard_size is not None and shardable(self.model.base_encoder(), spec):
                sizes = {role: len(texts) for role, texts in self._texts(spec).items()}
                if max(sizes.values(), default=0) > shard_size:
                    return NeedsShards(self.node, sizes)
        except Exception as err:  # noqa: BLE001 - unit isolation, as execute_unit
            return self._outcome(spec, err, data_problem=False)
        return Finished(self.node, execute_unit(self.model, spec, self.ctx, data, replicas))

    def encode_shard(self, spec: TaskSpec, role: Role, start: int, stop: int) -> tuple[Answer, np.ndarray | None]:
        """Embed distinct texts ``start:stop`` of ``role`` through the encode path (and the cache).

        Returns:
            (``ShardDone``, or a ``Finished``/``Unshared`` answer on a problem; vectors of shape
            (stop - start, dim) or None).
        """
        problem = self._unshared()
        if problem:
            return problem, None
        try:
            self._load(spec)
            texts = self._texts(spec)[role][start:stop]
            label = f"{self.model.info.name} · {spec.name} [{start}:{stop}]"
            vectors, stats = encode_groups(
                self.model.base_encoder(), {"shard": TextGroup(texts, role)}, task=spec, batch_size=self.ctx.batch_size, label=label,
                cache=self.ctx.cache(), max_batch_tokens=self.ctx.max_batch_tokens,
            )
        except Exception as err:  # noqa: BLE001 - unit isolation, as execute_unit
            return self._outcome(spec, err, data_problem=False), None
        device = self.device or str(self.model.base_encoder().runtime().get("device", ""))
        return ShardDone(self.node, stats, device), vectors["shard"]

    def _seed(self, spec: TaskSpec, shards: Sequence[Shard]) -> None:
        texts = self._texts(spec)
        replay = ShardReplay(self.model.base_encoder(), texts, shards)
        groups = {f"{role}": TextGroup(texts[role], role) for role in {s.role for s in shards}}
        encode_groups(replay, groups, task=spec, batch_size=max(self.ctx.batch_size, 1024), label=f"{spec.name} (gather)", cache=self.ctx.cache())
