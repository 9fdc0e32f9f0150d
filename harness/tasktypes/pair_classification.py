"""Pair classification: sentence pairs with a binary label; scored by the average precision of
each similarity function (``harness/evaluators/pair_classification.py``)."""

from __future__ import annotations

import re

from harness.tasktypes.base import ItemLayout, MtebMapping, TaskTypeDescriptor, UnsupportedScore

# similarity function -> (item array, sign that makes higher = positive), in mteb's order; the
# evaluator (harness/evaluators/pair_classification.py) stores these arrays and names its metrics so
SCORES: dict[str, tuple[str, int]] = {
    "similarity": ("similarity_scores", 1),
    "cosine": ("cosine_scores", 1),
    "manhattan": ("manhattan_distances", -1),
    "euclidean": ("euclidean_distances", -1),
    "dot": ("dot_scores", 1),
}


def item_layout(main_score: str) -> ItemLayout:
    """``<function>_ap``, or ``max_ap`` (the best of the five functions): average precision."""
    match = re.fullmatch(r"(max|similarity|cosine|manhattan|euclidean|dot)_ap", main_score)
    if match is None:
        raise UnsupportedScore(f"pair-classification main score {main_score} is not an average precision")
    functions = list(SCORES) if match[1] == "max" else [match[1]]
    return ItemLayout("average_precision", values=tuple(SCORES[f] for f in functions), shared=("labels",))


TASK_TYPE = TaskTypeDescriptor(
    name="pair_classification",
    label="Pair classif.",
    color="#8c564b",
    columns={"sentence1": "sentence1", "sentence2": "sentence2", "label": "labels"},
    evaluator_target="harness.evaluators.pair_classification",
    rows="harness.data.rows:pair_classification",
    items=item_layout,
    mteb=MtebMapping(
        "PairClassification",
        "AbsTaskPairClassification",
        columns={"sentence1": "input1_column_name", "sentence2": "input2_column_name", "label": "label_column_name"},
    ),
    moved_items="harness.rundiff.texts:describe_pair_classification",
    item_texts="sentence1",
)
