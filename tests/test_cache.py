"""The embedding cache: keyed on model and settings, exact on hits, safe across processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from harness.cache import EmbeddingCache, model_identity
from harness.encode import encode_groups
from harness.evaluators.base import TextGroup
from harness.models import Encoder, ModelInfo
from harness.specs import TaskSpec

TASK = TaskSpec(name="T", type="sts", main_score="cosine_spearman", data={"local": "x"})
REPO = Path(__file__).resolve().parent.parent


class Counting(Encoder):
    """A cacheable fake model: vector = (len, offset); counts the texts it encodes."""

    def __init__(self, name: str = "org/m", offset: float = 0.0) -> None:
        self.info = ModelInfo(name=name, revision="r1", settings={"offset": offset})
        self.offset = offset
        self.seen: list[str] = []

    def cache_identity(self):
        return {"name": self.info.name, "revision": self.info.revision, "settings": self.info.settings}

    def encode(self, texts, *, role, task, batch_size):
        self.seen.extend(texts)
        return np.array([[len(t), self.offset] for t in texts], dtype=np.float32)


def test_hits_are_exact_and_skip_the_model(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    groups = {"a": TextGroup(["one", "three", "one"]), "q": TextGroup(["one"], role="query")}
    first_model, second_model = Counting(), Counting()
    first, stats1 = encode_groups(first_model, groups, task=TASK, cache=cache)
    second, stats2 = encode_groups(second_model, groups, task=TASK, cache=cache)
    assert stats1.encoded == 3 and stats2.encoded == 0 and stats2.cached == 3 and second_model.seen == []
    for name in groups:
        np.testing.assert_array_equal(first[name], second[name])


def test_model_and_settings_are_part_of_the_key(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    groups = {"a": TextGroup(["same text"])}
    encode_groups(Counting("org/a"), groups, task=TASK, cache=cache)
    other_model, other_setting = Counting("org/b"), Counting("org/a", offset=1.0)
    encode_groups(other_model, groups, task=TASK, cache=cache)
    out, _ = encode_groups(other_setting, groups, task=TASK, cache=cache)
    assert other_model.seen == ["same text"] and other_setting.seen == ["same text"]
    assert out["a"][0, 1] == 1.0
    assert len({model_identity(m)[0] for m in (Counting("org/a"), other_model, other_setting)}) == 3


def test_prompts_change_the_key(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    prompted = TASK.model_copy(update={"prompts": TASK.prompts.model_copy(update={"query": "query: "})})
    model = Counting()
    encode_groups(model, {"q": TextGroup(["x"], role="query")}, task=TASK, cache=cache)
    encode_groups(model, {"q": TextGroup(["x"], role="query")}, task=prompted, cache=cache)
    assert model.seen == ["x", "x"]


def test_training_models_and_plain_objects_are_not_persisted() -> None:
    from harness.models import load_model

    class Plain:
        def encode(self, texts, **_):
            return np.ones((len(texts), 2))

    assert model_identity(load_model(Plain()))[1] is False  # this run only, in memory
    assert model_identity(load_model(Plain(), revision="v2"))[1] is True
    assert model_identity(load_model("bm25")) is None
    assert model_identity(load_model("minilm-l6")) is not None


def test_warm_rerun_imports_no_torch_and_encodes_nothing(tmp_path: Path) -> None:
    args = [sys.executable, str(REPO / "run_benchmark.py"), "run", "--tasks", "WordSim353", "--models", "minilm-l3-onnx",
            "--cache-dir", str(tmp_path / "cache"), "--no-report"]
    cold = subprocess.run([*args, "--results", str(tmp_path / "r1")], capture_output=True, text=True, timeout=300)
    assert cold.returncode == 0, cold.stderr
    probe = (
        "import sys, runpy; sys.argv = " + repr(["run_benchmark.py", *args[2:], "--results", str(tmp_path / "r2")]) + ";\n"
        "try:\n    runpy.run_path(" + repr(str(REPO / "run_benchmark.py")) + ", run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('onnxruntime' in sys.modules, 'torch' in sys.modules)"
    )
    warm = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert "0 texts encoded" in warm.stderr, warm.stderr
    assert warm.stdout.strip().splitlines()[-1] == "False False"


def test_cache_cli_info_and_clear(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    encode_groups(Counting(), {"a": TextGroup(["x", "y"])}, task=TASK, cache=cache)
    cache.close()
    cli = [sys.executable, str(REPO / "run_benchmark.py"), "cache"]
    info = subprocess.run([*cli, "info", "--cache-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert "org/m" in info.stdout and " 2 " in info.stdout
    cleared = subprocess.run([*cli, "clear", "--cache-dir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert "deleted 2" in cleared.stdout
