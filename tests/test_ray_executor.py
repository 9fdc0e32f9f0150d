"""The Ray executor on a local Ray instance: same scores as local, sharding, user errors, no Ray installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import harness
from harness import cli

REPO = Path(__file__).resolve().parent.parent
MODEL = "minilm-l3-onnx"
TASKS = ["WordSim353", "MiniNewsgroupsSubjectRetrieval", "PangLeePolarity"]  # sts, retrieval, classification
os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # Ray 2.60 token auth; see docs/cluster.md
ONE_THREAD = {**os.environ, "HARNESS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def require_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("ray is not installed; CI installs it through the test extra")
        pytest.skip("ray is not installed (pip install -e .[ray])")


@pytest.fixture(scope="module")
def ray_local() -> object:
    """A Ray instance in this process with two CPUs (two replicas); shut down after the module."""
    require_ray()
    import logging

    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


def stored(results: Path) -> dict[str, harness.StoredResult]:
    return {f"{r.model_name}/{r.task_name}": r for r in harness.load_results(results)}


def assert_same_results(got: dict[str, harness.StoredResult], expected: dict[str, harness.StoredResult], items_atol: float = 0.0) -> None:
    """Every metric equal; per-item arrays equal (within ``items_atol`` for float arrays)."""
    assert sorted(got) == sorted(expected)
    for key, result in expected.items():
        assert got[key].scores() == result.scores(), key
        items, reference = got[key].items(), result.items()
        assert sorted(items) == sorted(reference), key
        for name, values in reference.items():
            if items_atol and values.dtype.kind == "f":
                np.testing.assert_allclose(items[name], values, rtol=0, atol=items_atol, err_msg=f"{key}: {name}")
            else:
                np.testing.assert_array_equal(items[name], values, err_msg=f"{key}: {name}")


def test_importing_harness_and_help_do_not_import_ray() -> None:
    code = (
        "import sys, harness, harness.cli, harness.executors, harness.executors.ray\n"
        "try:\n    harness.cli.main(['run', '--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'ray' not in sys.modules, 'ray imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--executor {local,ray}" in done.stdout and "--ray-address" in done.stdout


def test_without_ray_exit_2_and_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    code = cli.main(["run", "--tasks", "WordSim353", "--models", MODEL, "--results", str(tmp_path), "--no-report", "--executor", "ray"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith("error: --executor ray needs Ray") and "pip install -e .[ray]" in err


def test_without_ray_in_a_fresh_interpreter(tmp_path: Path) -> None:
    """A meta-path blocker (via sitecustomize) makes `import ray` fail as on a machine without it."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class _NoRay:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'ray' or name.startswith('ray.'):\n"
        "            raise ModuleNotFoundError(\"No module named 'ray'\")\n"
        "sys.meta_path.insert(0, _NoRay())\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, str(REPO / "run_benchmark.py"), "run", "--tasks", "WordSim353", "--models", MODEL,
         "--results", str(tmp_path / "results"), "--no-report", "--executor", "ray"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: --executor ray needs Ray, which cannot be imported (No module named 'ray'): pip install -e .[ray]"
    ]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--ray-address", "auto"], "error: --ray-address: only with --executor ray"),
        (["--shard-size", "10", "--cpus-per-unit", "2"], "error: --cpus-per-unit, --shard-size: only with --executor ray"),
        (["--executor", "ray", "--shard-size", "0"], "error: --shard-size: must be at least 1 (got 0)"),
        (["--executor", "ray", "--cpus-per-unit", "0"], "error: --cpus-per-unit: must be more than 0 (got 0.0)"),
        (["--executor", "ray", "--ray-address", "127.0.0.1:1"],
         "error: --ray-address: nothing answers at 127.0.0.1:1 (Connection refused); is the head node started (ray start --head)?"),
    ],
)
def test_bad_ray_flags_are_user_errors(flags: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    if "--executor" in flags:
        require_ray()
    code = cli.main(["run", "--tasks", "WordSim353", "--models", MODEL, "--results", str(tmp_path), "--no-report", *flags])
    assert code == 2
    assert capsys.readouterr().err.strip() == message


@pytest.mark.slow
def test_two_workers_give_the_local_scores(tmp_path: Path) -> None:
    """The CLI with `--executor ray` (a local Ray instance of 2 CPUs: two replicas) = the local executor.

    Each replica has one thread (its CPU share) for the model and for BLAS; per-item similarities
    depend on BLAS's thread count in the last bit (~1e-7), so the local run gets one thread too,
    and then every bit of every score and per-item array must agree.
    """
    require_ray()
    base = [sys.executable, str(REPO / "run_benchmark.py"), "run", "--tasks", ",".join(TASKS), "--models", MODEL, "--no-report"]
    local = subprocess.run([*base, "--results", str(tmp_path / "local"), "--cache-dir", str(tmp_path / "c1")],
                           capture_output=True, text=True, timeout=300, env=ONE_THREAD)
    assert local.returncode == 0, local.stderr
    remote = subprocess.run([*base, "--results", str(tmp_path / "ray"), "--cache-dir", str(tmp_path / "c2"), "--executor", "ray"],
                            capture_output=True, text=True, timeout=300)
    assert remote.returncode == 0, remote.stderr
    assert_same_results(stored(tmp_path / "ray"), stored(tmp_path / "local"))
    done = [line for line in remote.stderr.splitlines() if line.startswith("done")]
    assert len(done) == 3 and all("[node " in line for line in done), remote.stderr
    assert "run: 3 done" in remote.stderr


@pytest.mark.slow
def test_sharded_encoding_gives_the_same_vectors_and_scores(ray_local: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cache import EmbeddingCache
    from harness.data import load_task_data
    from harness.encode import encode_groups
    from harness.evaluators import get_evaluator
    from harness.models import load_model

    task = "MiniNewsgroupsSubjectRetrieval"  # 200 documents, 76 queries
    whole = harness.evaluate(MODEL, [task], results_dir=tmp_path / "whole", cache_dir=tmp_path / "c0", executor="ray", verbose=False)
    capsys.readouterr()
    sharded = harness.evaluate(MODEL, [task], results_dir=tmp_path / "sharded", cache_dir=tmp_path / "c1", executor="ray", shard_size=64)
    assert "6 shards" in capsys.readouterr().err  # documents 4 × 50, queries 2 × 38
    in_memory = harness.evaluate(MODEL, [task], results_dir=tmp_path / "memory", use_cache=False, executor="ray", shard_size=64, verbose=False)
    # Shards batch other texts together than one pass does: vectors agree to ~1e-7, metrics exactly.
    assert_same_results(stored(tmp_path / "sharded"), stored(tmp_path / "whole"), items_atol=1e-6)
    assert_same_results(stored(tmp_path / "memory"), stored(tmp_path / "sharded"))
    encode = sharded.results[0].data.harness.encode  # every text came from the shards, counted as encoded by them
    assert encode["encoded"] == sum(encode["replicas"]) == whole.results[0].data.harness.encode["encoded"] and encode["from_cache"] == 0
    assert whole.results[0].main_score == in_memory.results[0].main_score

    spec = harness.get_tasks([task])[0]
    groups = get_evaluator(spec.type).text_groups(load_task_data(spec), spec.evaluator_options())
    model = load_model(MODEL)
    plain, _ = encode_groups(model, groups, task=spec, batch_size=32)
    cache = EmbeddingCache(tmp_path / "c1")
    try:
        gathered, stats = encode_groups(model, groups, task=spec, batch_size=32, cache=cache)
    finally:
        cache.close()
    assert stats.encoded == 0
    for name, vectors in plain.items():
        np.testing.assert_allclose(gathered[name], vectors, rtol=0, atol=1e-6, err_msg=name)


BAD_STS = "name: BadRows\ntype: sts\nsuite: [bad]\nmain_score: cosine_spearman\ndata: {local: bad}\n"


@pytest.mark.slow
def test_a_user_error_is_reported_once_and_not_retried(ray_local: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "bad.yaml").write_text(BAD_STS)
    (tmp_path / "data" / "bad").mkdir(parents=True)
    (tmp_path / "data" / "bad" / "test.jsonl").write_text('{"sentence1": "a", "sentence2": "b", "score": 1}\n{"sentence1": "a", "score": 2}\n')
    run = harness.evaluate(
        [MODEL, "random"], ["BadRows", "WordSim353"], task_dirs=[tmp_path / "tasks"], data_dir=tmp_path / "data",
        results_dir=tmp_path / "results", cache_dir=tmp_path / "cache", executor="ray",
    )
    err = capsys.readouterr().err
    assert run.summary.count("failed") == 2 and run.summary.count("done") == 2  # BadRows fails for each model
    lines = [line for line in err.splitlines() if "BadRows" in line]
    assert len(lines) == 2 and all(line.startswith("failed") and "column 'sentence2' not found" in line for line in lines), err
    assert "retry" not in err


def test_which_units_may_be_sharded() -> None:
    """Cached models without fitting, except on tasks that chunk long documents (see _replica.shardable)."""
    from harness.executors._replica import shardable
    from harness.long_documents import LongDocuments
    from harness.models.base import Encoder, ModelInfo

    class Splitting(Encoder):
        splits_tokens = True

        def __init__(self) -> None:
            self.info = ModelInfo("x", "r")

        def encode(self, texts: list[str], **_: object) -> np.ndarray:
            return np.ones((len(texts), 2), dtype=np.float32)

        def cache_identity(self) -> dict:
            return {"name": "x"}

    class Fitted(Splitting):
        fits_on_corpus = True

    class Uncached(Splitting):
        def cache_identity(self) -> None:
            return None

    spec = harness.get_tasks(["MiniNewsgroupsSubjectRetrieval"])[0]
    chunked = spec.model_copy(update={"long_documents": LongDocuments(strategy="chunk_mean")})
    truncated = spec.model_copy(update={"long_documents": LongDocuments(strategy="truncate")})
    assert shardable(Splitting(), spec) and shardable(Splitting(), truncated)
    assert not shardable(Splitting(), chunked)
    assert not shardable(Fitted(), spec) and not shardable(Uncached(), spec)


def test_run_options_reach_the_ray_executor() -> None:
    """One RunConfig: its Ray options (or their defaults) are what the executor runs with."""
    require_ray()
    from harness.config import RunConfig
    from harness.executors import make_executor
    from harness.executors.ray import DEFAULT_SHARD_SIZE, ReplicaOptions

    given = make_executor(RunConfig.create(executor="ray", cpus_per_unit=2, shard_size=10, verbose=False))
    assert given.address is None and given.options == ReplicaOptions(cpus_per_unit=2.0, shard_size=10, progress=False)
    assert make_executor(RunConfig.create(executor="ray")).options.shard_size == DEFAULT_SHARD_SIZE
