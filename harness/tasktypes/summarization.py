"""Summarization: machine summaries scored against human ones, correlated per text with human
relevance (``harness/evaluators/summarization.py``)."""

from __future__ import annotations

from harness.tasktypes.base import ItemLayout, MtebMapping, TaskTypeDescriptor, UnsupportedScore

_PER_TEXT = ("pearson", "spearman", "cosine_spearman", "cosine_pearson", "dot_spearman", "dot_pearson")


def item_layout(main_score: str) -> ItemLayout:
    """The six per-text correlations: their NaN-skipping mean over texts."""
    if main_score not in _PER_TEXT:
        raise UnsupportedScore(f"summarization main score {main_score} is not a per-text correlation")
    return ItemLayout("mean", values=((main_score, 1),))


TASK_TYPE = TaskTypeDescriptor(
    name="summarization",
    label="Summarization",
    color="#e377c2",
    columns={"human_summaries": "human_summaries", "machine_summaries": "machine_summaries", "relevance": "relevance"},
    evaluator_target="harness.evaluators.summarization",
    rows="harness.data.rows:summarization",
    items=item_layout,
    mteb=MtebMapping(
        "Summarization",
        "AbsTaskSummarization",
        columns={
            "human_summaries": "human_summaries_column_name",
            "machine_summaries": "machine_summaries_column_name",
            "relevance": "relevancy_column_name",
        },
    ),
)
