"""Reranking: each query's candidates ranked by similarity; scored as retrieval
(``harness/evaluators/reranking.py``). Data is mteb's row layout (query, positives, negatives),
a BEIR folder with ``top_ranked/``, or mteb's hub retrieval layout with ``top_ranked``."""

from __future__ import annotations

from harness.tasktypes.base import MtebMapping, TaskTypeDescriptor
from harness.tasktypes.retrieval import RANKING_COLUMNS, RANKING_OPTIONS, per_query_layout

TASK_TYPE = TaskTypeDescriptor(
    name="reranking",
    label="Reranking",
    color="#17becf",
    columns=RANKING_COLUMNS,
    evaluator_target="harness.evaluators.reranking",
    rows="harness.data.rows:reranking",
    corpus=True,
    hub_candidates=True,
    items=per_query_layout,
    mteb=MtebMapping("Reranking", "AbsTaskRetrieval", RANKING_OPTIONS),
    moved_items="harness.rundiff.texts:describe_retrieval",
)
