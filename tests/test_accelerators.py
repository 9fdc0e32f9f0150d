"""Issue 21 items 3-6: token-budget batches, out-of-memory back-off, --devices, what a result records."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import harness
from harness import cli
from harness.accelerators import is_out_of_memory
from harness.encode import encode_groups
from harness.errors import ModelError
from harness.evaluators.base import TextGroup
from harness.models import Encoder, ModelInfo, load_model
from harness.specs import TaskSpec

TASK = TaskSpec(name="T", type="sts", main_score="cosine_spearman", data={"local": "x"})


class Fake(Encoder):
    """Text -> [len, checksum]; a token is a character; out of memory above ``fits`` texts per call
    or on a text longer than ``longest`` characters. Records every call's batch."""

    def __init__(self, *, fits: int = 10**9, longest: int = 10**9, error: type[Exception] = torch.cuda.OutOfMemoryError) -> None:
        self.info = ModelInfo(name="fake/oom", revision="1")
        self.fits, self.longest, self.error = fits, longest, error
        self.calls: list[int] = []

    def count_tokens(self, texts, *, role, task):
        return [len(t) for t in texts]

    def encode(self, texts, *, role=None, task=None, batch_size=32, **_):
        self.calls.append(len(texts))
        if len(texts) > self.fits or max(map(len, texts)) > self.longest:
            raise self.error("CUDA out of memory. Tried to allocate 2.00 GiB")
        return np.array([[len(t), sum(map(ord, t)) % 97, 1.0] for t in texts], dtype=np.float32)


def test_token_budget_fills_batches_by_padded_tokens() -> None:
    """Sorted long first: 5,5 | 3,3,1 under 10 tokens (texts × longest), a text over the budget alone."""
    model = Fake()
    texts = ["e", "ccc", "aaaaa", "ddd", "bbbbb"]
    out, stats = encode_groups(model, {"a": TextGroup(texts)}, task=TASK, batch_size=1, max_batch_tokens=10)
    assert model.calls == [2, 3]
    np.testing.assert_array_equal(out["a"][:, 0], [1, 3, 5, 3, 5])
    assert stats.batching == {"policy": "tokens", "max_batch_tokens": 10, "largest_batch": 3, "out_of_memory_batch": None}
    model = Fake()
    encode_groups(model, {"a": TextGroup(["x" * 30, *texts])}, task=TASK, max_batch_tokens=10)
    assert model.calls == [1, 2, 3]


def test_a_model_that_counts_no_tokens_is_batched_by_count() -> None:
    model = load_model("random")
    _, stats = encode_groups(model, {"a": TextGroup(["a", "b", "c"])}, task=TASK, batch_size=2, max_batch_tokens=10)
    assert stats.batching["policy"] == "count" and stats.batching["largest_batch"] == 2


def test_token_batches_give_the_count_batches_vectors() -> None:
    """A real tokenizer (all-MiniLM-L6-v2): other batches, other padding, the same vectors to float noise."""
    model = load_model("minilm-l6")
    texts = [("word " * n).strip() for n in (1, 3, 40, 7, 50, 2, 15, 30, 9, 4)]
    by_count, _ = encode_groups(model, {"a": TextGroup(texts)}, task=TASK, batch_size=32)
    by_tokens, stats = encode_groups(model, {"a": TextGroup(texts)}, task=TASK, max_batch_tokens=64)
    assert stats.batching["policy"] == "tokens" and 1 < stats.batching["largest_batch"] < len(texts)
    np.testing.assert_allclose(by_tokens["a"], by_count["a"], rtol=0, atol=2e-6)
    tokens = model.count_tokens(["word word"], role=None, task=TASK)
    assert tokens == [4]  # [CLS] word word [SEP]


def test_out_of_memory_halves_the_batch_and_remembers_it() -> None:
    model = Fake(fits=3)
    texts = [f"t{i:02d}" for i in range(20)]
    out, stats = encode_groups(model, {"a": TextGroup(texts)}, task=TASK, batch_size=16)
    assert model.calls == [16, 8, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]  # 16 -> 8 -> 4 fail; 2 fits, then kept
    reference, _ = encode_groups(Fake(), {"a": TextGroup(texts)}, task=TASK, batch_size=16)
    np.testing.assert_array_equal(out["a"], reference["a"])
    assert stats.batching["out_of_memory_batch"] == 2 and stats.batching["largest_batch"] == 2


def test_a_text_that_fails_alone_stops_the_unit_with_one_line() -> None:
    model = Fake(longest=10)
    with pytest.raises(ModelError) as info:
        encode_groups(model, {"a": TextGroup(["short", "a text far too long to fit", "tiny"])}, task=TASK, batch_size=4)
    message = str(info.value)
    assert "\n" not in message and "out of accelerator memory on one input text alone" in message
    assert "'a text far too long to fit'" in message and model.calls == [3, 1]


def test_which_errors_mean_out_of_memory() -> None:
    assert is_out_of_memory(torch.cuda.OutOfMemoryError("x")) and is_out_of_memory(RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"))
    assert not is_out_of_memory(RuntimeError("size mismatch")) and not is_out_of_memory(ValueError("CUDA out of memory"))
    with pytest.raises(ValueError, match="CUDA out of memory"):  # not an accelerator error: no retry, raised as it was
        encode_groups(Fake(fits=1, error=ValueError), {"a": TextGroup(["a", "b"])}, task=TASK)


def test_a_simulated_oom_run_completes_and_records_the_batch(tmp_path: Path) -> None:
    run = harness.evaluate(Fake(fits=5), ["WordSim353"], model_name="fake/oom", results_dir=tmp_path, batch_size=64, verbose=False)
    result = run.results[0]
    runtime = result.data.harness.model["runtime"]
    assert runtime["batch"] == {"policy": "count", "batch_size": 64, "largest_batch": 4, "out_of_memory_batch": 4}
    assert runtime["device_count"] == 1 and runtime["texts_per_s"] > 0 and "peak_memory_bytes" not in runtime
    assert result.data.harness.encode["batch"] == runtime["batch"]
    page = harness.report(tmp_path, tmp_path / "report").read_text(encoding="utf-8")
    assert "count 64 (4 after out of memory)" in page and "peak accelerator memory (torch CUDA only)" in page  # column, How computed


@pytest.mark.parametrize(
    ("flags", "line"),
    [
        (["--devices", "cuda:7"], "error: --devices: device 'cuda:7' does not exist (this machine has no CUDA device)"),
        (["--devices", "gpu0"], "error: --devices: unknown device 'gpu0' (cpu, cuda, cuda:N or mps)"),
        (["--devices", "cpu", "--ray-address", "auto"], "error: --devices: not with --ray-address (--devices names this machine's devices; on a cluster use --gpus-per-model)"),
        (["--max-batch-tokens", "0"], "error: --max-batch-tokens: must be at least 1 (got 0)"),
    ],
)
def test_bad_device_flags_are_one_line(flags: list[str], line: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    code = cli.main(["run", "--tasks", "WordSim353", "--models", "random", "--results", str(tmp_path), "--no-report", *flags])
    assert code == 2 and capsys.readouterr().err.strip() == line


def test_devices_without_ray_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    code = cli.main(["run", "--tasks", "WordSim353", "--models", "random", "--results", str(tmp_path), "--no-report", "--devices", "cpu,cpu"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: --devices needs Ray") and "pip install -e .[ray]" in err
