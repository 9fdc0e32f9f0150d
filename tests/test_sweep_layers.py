"""Layer sweeps (issue 22): first N blocks through the model's own head, one forward pass per
batch for every layer, each layer cached under its own identity, one-line refusals."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import harness
from harness.cache import model_identity
from harness.models import load_model
from harness.models.layers import layer_encoders

TEXTS = ["The cat sat on the mat.", "Quarterly revenue rose 5% year over year, driven by services.", "hi", "A man is playing a guitar."]


@pytest.fixture(scope="module")
def minilm():
    return load_model("minilm-l6")


def test_the_last_layer_is_the_plain_model_and_an_earlier_one_is_transformers_hidden_state(minilm) -> None:
    import torch

    encoders = layer_encoders(minilm, [2, 6])
    np.testing.assert_allclose(encoders[6].encode(TEXTS), minilm.encode(TEXTS), atol=1e-6, rtol=0)
    # oracle: transformers' own hidden_states[2], mean-pooled over the mask and L2-normalised
    # (all-MiniLM-L6-v2's modules.json: Pooling(mean), Normalize)
    model = minilm.sentence_transformer
    tokens = model.tokenizer(TEXTS, padding=True, truncation=True, max_length=model.max_seq_length, return_tensors="pt")
    with torch.no_grad():
        hidden = model[0].auto_model(**tokens, output_hidden_states=True).hidden_states[2]
    mask = tokens["attention_mask"].unsqueeze(-1).float()
    expected = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1).numpy()
    np.testing.assert_allclose(encoders[2].encode(TEXTS), expected, atol=1e-6, rtol=0)
    assert not np.allclose(encoders[2].encode(TEXTS), encoders[6].encode(TEXTS), atol=1e-2)


def test_each_layer_has_its_own_cache_identity(minilm) -> None:
    encoders = layer_encoders(minilm, [2, 4, 6])
    identities = {model_identity(e)[0] for e in encoders.values()} | {model_identity(minilm)[0]}
    assert len(identities) == 4


def _mini_sts(tmp_path: Path, shared_datasets: Path, rows: int = 40) -> harness.TaskSpec:
    folder = tmp_path / "data" / "minists"
    folder.mkdir(parents=True)
    lines = (shared_datasets / "stsbenchmark" / "test.jsonl").read_text(encoding="utf-8").splitlines()[:rows]
    (folder / "test.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return harness.TaskSpec(name="MiniSTS", type="sts", main_score="cosine_spearman", data={"local": "minists"})


def test_a_3x2_grid_runs_one_forward_pass_per_batch_and_layer_6_scores_as_the_plain_model(tmp_path: Path, shared_datasets: Path, minilm) -> None:
    spec = _mini_sts(tmp_path, shared_datasets)
    model = minilm
    calls: list[int] = []
    # sentence-transformers calls the model's ``forward`` directly (no module hooks): count the
    # calls of its embedding layer, which every forward pass goes through once
    hook = model.sentence_transformer[0].auto_model.embeddings.register_forward_hook(lambda module, args, output: calls.append(1))
    options = {"data_dir": tmp_path / "data", "cache_dir": tmp_path / "cache", "batch_size": 16, "verbose": False}
    run = harness.evaluate(model, [spec], results_dir=tmp_path / "r", sweep=["layer=2,4,6", "dim=384,128"], **options)
    texts = {json.loads(line)[key] for line in (tmp_path / "data" / "minists" / "test.jsonl").read_text().splitlines() for key in ("sentence1", "sentence2")}
    assert len(calls) == math.ceil(len(texts) / 16)  # 6 variants, every text through the model once
    scores = {r.model_name.split("@")[1]: r.main_score for r in run.results}
    assert sorted(scores) == sorted(f"layer={n},dim={d}" for n in (2, 4, 6) for d in (384, 128))
    assert len(set(scores.values())) == 6
    stored = {r.model_name: r.data.harness.model for r in run.results}
    assert stored["sentence-transformers/all-MiniLM-L6-v2@layer=2,dim=128"]["settings"]["bytes_per_vector"] == 512
    # a second run reads every layer from the cache: no forward pass
    again = harness.evaluate(model, [spec], results_dir=tmp_path / "r2", sweep=["layer=2,4,6", "dim=384,128"], **options)
    assert len(calls) == math.ceil(len(texts) / 16)
    assert {r.model_name.split("@")[1]: r.main_score for r in again.results} == scores
    hook.remove()
    plain = harness.evaluate(model, [spec], results_dir=tmp_path / "r3", **options)
    assert scores["layer=6,dim=384"] == pytest.approx(plain.results[0].main_score, abs=1e-6)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--models", "minilm-l3-onnx", "--sweep", "layer=2"], "--sweep layer: model 'sentence-transformers/paraphrase-MiniLM-L3-v2' cannot expose its layers"),
        (["--models", "bm25", "--sweep", "layer=2"], "cannot expose its layers"),
        (["--models", "minilm-l6", "--sweep", "layer=2,7"], "--sweep layer=7: model 'sentence-transformers/all-MiniLM-L6-v2' has 6 layers (layer=1..6)"),
        (["--models", "minilm-l6", "--sweep", "rescore=0,100"], "--sweep rescore: re-scores a quantised search"),
        (["--models", "minilm-l6", "--sweep", "quantize=none,binary", "--sweep", "rescore=10"], "(got quantize=none,binary)"),
    ],
)
def test_bad_sweeps_get_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    from harness.cli import main

    code = main(["run", "--tasks", "WordSim353", *argv, "--results", str(tmp_path / "r"), "--no-report", "--no-cache"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip() and "Loading weights" not in line]
    assert code == 2 and len(lines) == 1 and message in lines[0], lines
    assert not list(tmp_path.rglob("*.json"))


def test_an_http_model_cannot_expose_layers() -> None:
    from harness.errors import ModelError
    from harness.variants import expand, parse_sweeps

    model = load_model("openai:text-embedding-3-small")
    with pytest.raises(ModelError, match="cannot expose its layers"):
        expand([model], parse_sweeps(["layer=1"]))
