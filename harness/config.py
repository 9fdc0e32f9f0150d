"""One run's options, validated once: built by the CLI (``RunConfig.from_cli``) or the API
(``RunConfig.create``), then passed down whole to the runner, the executors and reproduce.

lm-eval's ``EvaluatorConfig.from_cli`` is the anchor: one object instead of the same keywords
repeated in every signature.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from harness.accelerators import parse_devices
from harness.errors import HarnessError, brief

DEFAULT_SUITE = "default"
DEFAULT_MODELS = ("minilm-l6", "minilm-l3-onnx", "bm25")
DEFAULT_RESULTS_DIR = Path("results")
EXECUTORS = ("local", "ray")

# CLI flag (argparse dest) -> RunConfig field, for the flags ``run`` shares with the API.
_CLI_FIELDS = {
    "models": "models",
    "tasks": "tasks",
    "suite": "suite",
    "task_dir": "task_dirs",
    "data_dir": "data_dir",
    "results": "results_dir",
    "cache_dir": "cache_dir",
    "batch_size": "batch_size",
    "overwrite": "overwrite",
    "sweep": "sweep",
    "executor": "executor",
    "ray_address": "ray_address",
    "gpus_per_model": "gpus_per_model",
    "cpus_per_unit": "cpus_per_unit",
    "shard_size": "shard_size",
    "max_batch_tokens": "max_batch_tokens",
    "devices": "devices",
    "max_cost": "max_cost",
    "allow_absolute_paths": "allow_absolute_paths",
    "model_dir": "model_dirs",
    "model_option": "model_options",
    "benchmark": "benchmark",
}
_RAY_FLAGS = {"ray_address": "--ray-address", "gpus_per_model": "--gpus-per-model", "cpus_per_unit": "--cpus-per-unit", "shard_size": "--shard-size"}


def _refuse(message: str) -> PydanticCustomError:
    return PydanticCustomError("run_option", message)


class RunConfig(BaseModel):
    """Everything that says what one run does and where it writes.

    Attributes:
        models: aliases, ``kind:arg``, hub ids, folders or encoder objects.
        model_name: the name recorded for an encoder object (only with one model).
        tasks: task names, ``mteb:NAME``, spec paths or TaskSpec objects; None: ``suite`` or the
            default suite.
        suite: run (or restrict ``tasks`` to) the tasks of this suite.
        task_dirs: extra folders of task specs.
        results_dir: the store.
        data_dir: root of relative ``data.local`` paths (None: ``HARNESS_DATA_DIR``).
        cache_dir: the embedding cache (None: ``HARNESS_CACHE_DIR`` or ``~/.cache/harness``).
        use_cache: False keeps vectors in memory for this run only.
        batch_size: texts per model call, at least 1.
        overwrite: recompute units that already have a complete result.
        sweep: ``KEY=V1,V2`` variant axes (``harness.variants``).
        executor: ``"local"``, ``"ray"`` or an object with ``execute``.
        ray_address, gpus_per_model, cpus_per_unit, shard_size: Ray options (only with ``"ray"``;
            None: the Ray executor's defaults).
        max_batch_tokens: batches of at most this many tokens (padding included) instead of
            ``batch_size`` texts, for models that count tokens.
        devices: ``--devices`` (``auto`` or e.g. ``cuda:0,cuda:1``): one replica per device on a
            local Ray instance, sharing each unit's texts (``harness.accelerators``).
        max_cost: USD each billed model may spend in this run.
        allow_absolute_paths: a spec's ``data.local`` and split names may be absolute or leave the
            data root (``harness.paths``); off, such a spec fails with one line.
        model_dirs: extra folders of model cards (``--model-dir``; ``harness.models.cards``).
        model_options: ``--model-option`` values for every model's load (``dtype``,
            ``attn_implementation``, ``device``: ``harness.models.load_options``); given as
            ``KEY=VALUE`` strings or a mapping, checked here.
        verbose: per-unit lines and progress bars on stderr.
        benchmark: an mteb benchmark (``harness.benchmarks``): ``create`` sets ``tasks`` to those of
            its tasks that can run here (a note each for the others).
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    models: list[Any] = Field(default_factory=lambda: list(DEFAULT_MODELS))
    model_name: str | None = None
    tasks: Any = None
    suite: str | None = None
    task_dirs: tuple[str | Path, ...] = ()
    results_dir: Path = DEFAULT_RESULTS_DIR
    data_dir: Path | None = None
    cache_dir: Path | None = None
    use_cache: bool = True
    batch_size: int = 32
    overwrite: bool = False
    sweep: tuple[str, ...] = ()
    executor: Any = "local"
    ray_address: str | None = None
    gpus_per_model: float | None = None
    cpus_per_unit: float | None = None
    shard_size: int | None = None
    max_batch_tokens: int | None = None
    devices: tuple[str, ...] | None = None
    max_cost: float | None = None
    allow_absolute_paths: bool = False
    model_dirs: tuple[str | Path, ...] = ()
    model_options: dict[str, str] = Field(default_factory=dict)
    verbose: bool = True
    benchmark: str | None = None

    @field_validator("model_options", mode="before")
    @classmethod
    def _parse_model_options(cls, value: Any) -> Any:
        from harness.models.load_options import parse_model_options

        if isinstance(value, Mapping):
            value = [f"{key}={option}" for key, option in value.items()]
        return parse_model_options(value)  # a bad option raises ModelError: one line naming --model-option

    @model_validator(mode="after")
    def _check(self) -> RunConfig:
        """The checks a user can fail, in the order the CLI has always reported them."""
        if not self.models:  # e.g. `--models ,`: never fall back to the defaults silently
            raise _refuse("--models: no model given")
        if isinstance(self.tasks, (list, tuple)) and not self.tasks:
            raise _refuse("--tasks: no task given")
        if self.batch_size < 1:
            raise _refuse(f"--batch-size: must be at least 1 (got {self.batch_size})")
        if self.max_batch_tokens is not None and self.max_batch_tokens < 1:
            raise _refuse(f"--max-batch-tokens: must be at least 1 (got {self.max_batch_tokens})")
        if self.devices is not None:
            self._check_devices()
        if self.executor == "ray" or self.devices is not None:
            if self.gpus_per_model is not None and self.gpus_per_model < 0:
                raise _refuse(f"--gpus-per-model: must be 0 or more (got {self.gpus_per_model})")
            if self.cpus_per_unit is not None and self.cpus_per_unit <= 0:
                raise _refuse(f"--cpus-per-unit: must be more than 0 (got {self.cpus_per_unit})")
            if self.shard_size is not None and self.shard_size < 1:
                raise _refuse(f"--shard-size: must be at least 1 (got {self.shard_size})")
            return self
        given = [flag for name, flag in _RAY_FLAGS.items() if getattr(self, name) is not None]
        if given:
            raise _refuse(f"{', '.join(given)}: only with --executor ray")
        if self.executor != "local" and not callable(getattr(self.executor, "execute", None)):
            raise _refuse(f"--executor: unknown executor {brief(self.executor)} (choose from {', '.join(EXECUTORS)})")
        return self

    def _check_devices(self) -> None:
        """``--devices`` runs a local Ray instance itself: no cluster address, no GPU share."""
        try:
            parse_devices(",".join(self.devices or ()))
        except HarnessError as err:
            raise _refuse(str(err)) from None
        if self.executor not in ("local", "ray"):
            raise _refuse("--devices: only with the local or ray executor")
        clash = [flag for name, flag in _RAY_FLAGS.items() if name in ("ray_address", "gpus_per_model") and getattr(self, name) is not None]
        if clash:
            raise _refuse(f"--devices: not with {', '.join(clash)} (--devices names this machine's devices; on a cluster use --gpus-per-model)")

    @classmethod
    def create(cls, **options: Any) -> RunConfig:
        """Validate ``options`` (RunConfig fields); a bad value is a HarnessError (CLI exit 2).

        Raises:
            HarnessError: one line naming the option, e.g. ``--batch-size: must be at least 1 (got 0)``.
        """
        if options.get("benchmark") is not None and not options.get("_benchmark_resolved"):
            options = _benchmark_tasks(options)
        options.pop("_benchmark_resolved", None)
        try:
            return cls(**options)
        except ValidationError as err:
            first = err.errors()[0]
            if first["type"] == "run_option":
                raise HarnessError(first["msg"]) from None
            where = ".".join(str(part) for part in first["loc"])
            raise HarnessError(f"{where}: {first['msg']}") from None

    @classmethod
    def from_cli(cls, args: argparse.Namespace) -> RunConfig:
        """The configuration of ``harness run`` from its parsed arguments."""
        given = vars(args)
        options = {name: given[flag] for flag, name in _CLI_FIELDS.items() if given.get(flag) is not None}
        return cls.create(**options, use_cache=not given.get("no_cache", False))

    def replace(self, **changes: Any) -> RunConfig:
        """A validated copy with ``changes`` (e.g. one model and resolved tasks for reproduce)."""
        return self.create(**{**dict(self), **changes, "_benchmark_resolved": True})


def _benchmark_tasks(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with ``tasks`` = the runnable tasks of ``options["benchmark"]``."""
    import warnings

    from harness.benchmarks.select import benchmark_specs

    if options.get("tasks") is not None or options.get("suite") is not None:
        raise HarnessError("--benchmark: give either --benchmark or --tasks/--suite, not both")
    specs, notes = benchmark_specs(options["benchmark"], options.get("task_dirs", ()))
    for note in notes:
        warnings.warn(note, stacklevel=3)
    return {**options, "tasks": specs}
