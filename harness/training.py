"""Evaluate harness tasks inside a sentence-transformers training loop.

``HarnessEvaluator`` is a ``SentenceEvaluator``: pass it as ``evaluator=`` to
``SentenceTransformerTrainer``. It scores the model being trained on harness tasks through the
same encode path and evaluators as a run, and returns each task's main score.

Caching: a model in training has no stable revision, so these evaluations never read or write
the embedding cache and never write to the results store (a checkpoint's score is a training
metric, not a result).

Baseline: with ``baseline=`` (a stored model, named as ``harness diff`` names it), each call also
compares the checkpoint with the baseline's stored run, task by task (``harness.diff``: paired
test on the same items, Holm over the tasks), adds ``<Task>_delta``, ``<Task>_delta_ci_low`` and
``<Task>_delta_ci_high`` to the metrics and logs one line per task.
"""

from __future__ import annotations

import logging
import tempfile
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
from harness.store import StoredResult, iter_results, write_result

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)
CHECKPOINT = "in-training"  # the model name a checkpoint's scores carry


class HarnessEvaluator(SentenceEvaluator):
    """Scores a SentenceTransformer on harness tasks.

    Args:
        tasks: task names, spec paths or TaskSpec objects.
        data_dir: root for the tasks' local data.
        task_dirs: extra spec folders.
        batch_size: encoding batch size.
        name: prefix of the returned metric names (``<name>_<Task>_<main_score>``).
        baseline: a stored model to compare each checkpoint with (``minilm-l6``, a hub id or a
            stored name); every task must be in its stored run with per-item data.
        results_dir: the store holding the baseline's run.
        n_resamples, alpha: of the paired tests (``harness.diff``).
    """

    def __init__(
        self,
        tasks: Any,
        *,
        data_dir: str | Path | None = None,
        task_dirs: Sequence[str | Path] = (),
        batch_size: int = 32,
        name: str = "harness",
        baseline: str | None = None,
        results_dir: str | Path = "results",
        n_resamples: int = 2000,
        alpha: float = 0.05,
    ) -> None:
        super().__init__()
        from harness.api import resolve_tasks

        self.specs = resolve_tasks(tasks, None, task_dirs)
        self.data = {spec.name: load_task_data(spec, Path(data_dir) if data_dir else None) for spec in self.specs}
        self.batch_size = batch_size
        self.name = name
        self.primary_metric = "mean_main_score"
        self.baseline, self.n_resamples, self.alpha = baseline, n_resamples, alpha
        self.baseline_results: list[StoredResult] = []
        if baseline is not None:
            from harness.rundiff.compute import select

            chosen = select(iter_results(Path(results_dir)), baseline)  # an unknown baseline fails here, once
            self.baseline_results = [chosen[spec.name] for spec in self.specs if spec.name in chosen]

    def __call__(self, model: SentenceTransformer, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        """Main score of every task plus their mean, as ``{<name>_<metric>: float}``."""
        adapter = SentenceTransformerAdapter.from_instance(model, name="in-training")
        metrics: dict[str, float] = {}
        with tempfile.TemporaryDirectory(prefix="harness-checkpoint-") as scratch:
            scored = []
            for spec in self.specs:
                document, items = score_unit(adapter, spec, self.data[spec.name], batch_size=self.batch_size)
                split = next(iter(document.fields["scores"].values()))[0]
                metrics[f"{spec.name}_{spec.main_score}"] = float(split["main_score"])
                if self.baseline is not None:
                    scored.append(write_result(Path(scratch), document, items))  # a scratch store, never the results
            metrics["mean_main_score"] = sum(metrics.values()) / len(metrics)
            if self.baseline is not None:
                metrics.update(self._deltas(scored))
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def _deltas(self, scored: list[StoredResult]) -> dict[str, float]:
        """Per task the checkpoint's delta against the baseline and its CI; logs one line per task."""
        from harness.rundiff import diff_results

        assert self.baseline is not None
        result = diff_results([*self.baseline_results, *scored], self.baseline, CHECKPOINT, n_resamples=self.n_resamples,
                              alpha=self.alpha, top=0)
        deltas: dict[str, float] = {}
        for row in result.tasks.to_dict("records"):
            task = row["task"]
            deltas.update({f"{task}_delta": row["delta"], f"{task}_delta_ci_low": row["ci_low"],
                           f"{task}_delta_ci_high": row["ci_high"]})
            logger.info("%s: %s vs baseline %s: delta %+.4f [%+.4f, %+.4f], Holm p %.3g, %s", task, CHECKPOINT,
                        self.baseline, row["delta"], row["ci_low"], row["ci_high"], row["p_holm"], row["verdict"])
        for line in result.skipped + result.notes:
            logger.info("baseline %s: %s", self.baseline, line)
        return deltas

