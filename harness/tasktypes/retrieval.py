"""Retrieval: queries against a corpus, ranked by similarity; per-query ranking metrics
(``harness/evaluators/retrieval.py``). Data is a BEIR folder or mteb's hub retrieval layout."""

from __future__ import annotations

from harness.tasktypes.base import ItemLayout, MtebMapping, TaskTypeDescriptor

# The row columns of mteb's older reranking layout; retrieval has no row layout, but a spec may
# name them (the spec schema has always accepted them).
RANKING_COLUMNS = {"query": "query", "positive": "positive", "negative": "negative"}
RANKING_OPTIONS = ("k_values", "ignore_identical_ids", "skip_first_result")


def per_query_layout(main_score: str) -> ItemLayout:
    """Any stored per-query metric: the mean over queries, aligned by query id."""
    return ItemLayout("mean", values=(("values", 1),), align_by="query_ids", column=("metric_names", main_score))


TASK_TYPE = TaskTypeDescriptor(
    name="retrieval",
    label="Retrieval",
    color="#1f77b4",
    columns=RANKING_COLUMNS,
    evaluator_target="harness.evaluators.retrieval",
    corpus=True,
    items=per_query_layout,
    mteb=MtebMapping("Retrieval", "AbsTaskRetrieval", RANKING_OPTIONS, name_suffix="retrieval"),
    moved_items="harness.rundiff.texts:describe_retrieval",
)
