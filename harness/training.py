"""Evaluate harness tasks inside a sentence-transformers training loop.

``HarnessEvaluator`` is a ``SentenceEvaluator``: pass it as ``evaluator=`` to
``SentenceTransformerTrainer``. It scores the model being trained on harness tasks through the
same encode path and evaluators as a run, and returns each task's main score.

Caching: a model in training has no stable revision, so these evaluations never read or write
the embedding cache and never write to the results store (a checkpoint's score is a training
metric, not a result).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    from sentence_transformers.sentence_transformer.evaluation import SentenceEvaluator
except ImportError:  # sentence-transformers < 5.4 keeps it here
    from sentence_transformers.evaluation import SentenceEvaluator

from harness.data import load_task_data
from harness.models.sentence_transformers import SentenceTransformerAdapter
from harness.runner import score_unit

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class HarnessEvaluator(SentenceEvaluator):
    """Scores a SentenceTransformer on harness tasks.

    Args:
        tasks: task names, spec paths or TaskSpec objects.
        data_dir: root for the tasks' local data.
        task_dirs: extra spec folders.
        batch_size: encoding batch size.
        name: prefix of the returned metric names (``<name>_<Task>_<main_score>``).
    """

    def __init__(
        self,
        tasks: Any,
        *,
        data_dir: str | Path | None = None,
        task_dirs: Sequence[str | Path] = (),
        batch_size: int = 32,
        name: str = "harness",
    ) -> None:
        super().__init__()
        from harness.api import resolve_tasks

        self.specs = resolve_tasks(tasks, None, task_dirs)
        self.data = {spec.name: load_task_data(spec, Path(data_dir) if data_dir else None) for spec in self.specs}
        self.batch_size = batch_size
        self.name = name
        self.primary_metric = "mean_main_score"

    def __call__(self, model: SentenceTransformer, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        """Main score of every task plus their mean, as ``{<name>_<metric>: float}``."""
        adapter = SentenceTransformerAdapter.from_instance(model, name="in-training")
        metrics: dict[str, float] = {}
        for spec in self.specs:
            document, _ = score_unit(adapter, spec, self.data[spec.name], batch_size=self.batch_size)
            split = next(iter(document.fields["scores"].values()))[0]
            metrics[f"{spec.name}_{spec.main_score}"] = float(split["main_score"])
        metrics["mean_main_score"] = sum(metrics.values()) / len(metrics)
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics
