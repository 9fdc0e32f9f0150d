"""STS: sentence pairs with a gold similarity; scored by the correlation of model similarity
with gold (``harness/evaluators/sts.py``)."""

from __future__ import annotations

import re

from harness.tasktypes.base import ItemLayout, MtebMapping, TaskTypeDescriptor, UnsupportedScore

# metric prefix -> the item array correlated with gold; the evaluator (harness/evaluators/sts.py)
# stores these arrays and names its metrics so
SCORE_KEYS: dict[str, str] = {
    "": "similarity_scores",
    "cosine_": "cosine_scores",
    "manhattan_": "manhattan_distances",
    "euclidean_": "euclidean_distances",
}


def item_layout(main_score: str) -> ItemLayout:
    """``[cosine_|manhattan_|euclidean_](pearson|spearman)``: correlation with ``gold``."""
    match = re.fullmatch(r"(cosine_|manhattan_|euclidean_|)(pearson|spearman)", main_score)
    if match is None:
        raise UnsupportedScore(f"STS main score {main_score} is not a correlation with gold")
    return ItemLayout("correlation", values=((SCORE_KEYS[match[1]], 1),), shared=("gold",), method=match[2])  # type: ignore[arg-type]


# A Spearman correlation computed from the same float32 embeddings moves by ~1e-5 across BLAS
# builds and torch versions (the shared data README measured 0.82032 vs 0.82032, 0.80600 vs 0.80603).
TASK_TYPE = TaskTypeDescriptor(
    name="sts",
    label="STS",
    color="#ff7f0e",
    columns={"sentence1": "sentence1", "sentence2": "sentence2", "score": "score"},
    evaluator_target="harness.evaluators.sts",
    rows="harness.data.rows:sts",
    tolerance=2e-4,
    items=item_layout,
    mteb=MtebMapping(
        "STS", "AbsTaskSTS", ("min_score", "max_score"), {"sentence1": "column_names[0]", "sentence2": "column_names[1]"}
    ),
    moved_items="harness.rundiff.texts:describe_sts",
    item_texts="sentence1",
)
