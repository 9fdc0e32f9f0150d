"""Sweeps: truncation, quantisation against the library routine, one encode per text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import harness
from harness.errors import HarnessError
from harness.variants import Variant, parse_sweeps

RNG = np.random.default_rng(0)
VECTORS = RNG.standard_normal((6, 16)).astype(np.float32)


def quantize_embeddings(*args, **kwargs):
    from sentence_transformers.util.quantization import quantize_embeddings as reference

    return reference(*args, **kwargs)


def test_truncation_renormalises_by_hand() -> None:
    out = Variant(dim=2).apply(np.array([[3.0, 4.0, 12.0]], dtype=np.float32), np.zeros((1, 3), np.float32))
    np.testing.assert_allclose(out, [[0.6, 0.8]])


@pytest.mark.parametrize("precision", ["int8", "uint8"])
def test_integer_quantisation_is_the_library_routine_calibrated_on_documents(precision: str) -> None:
    calibration = RNG.standard_normal((50, 16)).astype(np.float32)
    ours = Variant(quantize=precision).apply(VECTORS, calibration)
    expected = quantize_embeddings(VECTORS, precision, calibration_embeddings=calibration).astype(np.float32)
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("precision", ["binary", "ubinary"])
def test_binary_unpacks_the_library_bits_and_preserves_hamming_order(precision: str) -> None:
    ours = Variant(quantize=precision).apply(VECTORS, VECTORS)
    bits = np.unpackbits(quantize_embeddings(VECTORS, precision).view(np.uint8), axis=1)
    np.testing.assert_array_equal(ours, 2.0 * bits - 1)
    hamming = (bits[:, None, :] != bits[None, :, :]).sum(-1)
    np.testing.assert_array_equal(ours @ ours.T, 16 - 2 * hamming)


def test_float16_and_bytes_per_vector() -> None:
    np.testing.assert_array_equal(Variant(quantize="float16").apply(VECTORS, VECTORS), VECTORS.astype(np.float16).astype(np.float32))
    assert Variant(quantize="binary").bytes_per_vector(384) == 48
    assert Variant(quantize="none").bytes_per_vector(128) == 512


def test_sweep_parsing_and_names() -> None:
    variants = parse_sweeps(["quantize=none,binary", "dim=64,128"])
    assert [v.suffix for v in variants] == ["@dim=64", "@dim=64,quantize=binary", "@dim=128", "@dim=128,quantize=binary"]
    assert parse_sweeps([]) == []  # no sweep: the models themselves, unwrapped
    for bad in ["dim=0", "colour=red", "quantize=int4", "dim", "layer=0", "rescore=10"]:
        with pytest.raises(HarnessError, match="--sweep"):
            parse_sweeps([bad])


def test_a_layer_sweep_is_refused_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 17: ``layer=N`` was stored as ``@layer=N`` over the final layer's vectors; a model
    without layers (issue 22) is refused."""
    from harness.cli import main

    code = main(["run", "--tasks", "WordSim353", "--models", "random", "--sweep", "layer=3", "--results", str(tmp_path / "r"), "--no-report", "--no-cache"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "--sweep layer: model 'harness/random' cannot expose its layers" in lines[0], lines
    assert not list(tmp_path.rglob("*.json"))


def test_a_variant_is_encoded_through_its_base_and_records_its_size() -> None:
    from harness.models import load_model
    from harness.variants import VariantModel

    base = load_model("random", dim=32)
    variant = VariantModel(base, Variant(dim=8, quantize="binary"))
    assert variant.base_encoder() is base and variant.variant == Variant(dim=8, quantize="binary") and base.variant is None
    scored = variant.scored_info(8)
    assert scored.name == "harness/random@dim=8,quantize=binary" and scored.embedding_dim == 8
    assert scored.settings == {**base.info.settings, "variant": "@dim=8,quantize=binary", "bytes_per_vector": 1.0}
    assert "bytes_per_vector" not in variant.info.settings  # scored_info changes nothing
    assert base.scored_info(32) is base.info


class Counting:
    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts, *, role=None, task=None, batch_size=32):
        self.encoded.extend(texts)
        return np.stack([np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(32) for t in texts]).astype(np.float32)


def test_a_3x3_sweep_encodes_each_text_once(tmp_path: Path) -> None:
    model = Counting()
    run = harness.evaluate(model, ["WordSim353"], model_name="me/counting", results_dir=tmp_path, use_cache=False,
                           sweep=["dim=8,16,32", "quantize=none,int8,binary"], verbose=False)
    frame = run.to_pandas()
    assert len(frame) == 9 and frame["model"].str.startswith("me/counting@dim=").all()
    assert len(model.encoded) == len(set(model.encoded)) == 437
    stored = {r.model_name: r.data.harness.model for r in run.results}
    assert stored["me/counting@dim=8,quantize=binary"]["settings"]["bytes_per_vector"] == 1
    assert stored["me/counting@dim=32"]["embedding_dim"] == 32
