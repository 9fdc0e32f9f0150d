"""Classification: a logistic-regression probe fitted on the train split's embeddings, scored on
the eval split (``harness/evaluators/classification.py``)."""

from __future__ import annotations

from harness.tasktypes.base import ItemLayout, MtebMapping, TaskTypeDescriptor, UnsupportedScore


def item_layout(main_score: str) -> ItemLayout:
    """``accuracy``: the mean over test items of each item's correctness over experiments."""
    if main_score != "accuracy":
        raise UnsupportedScore(f"classification main score {main_score} is not a mean over test items")
    return ItemLayout("mean", values=(("correct", 1),), shared=("gold",), over_draws=True)


# Tolerance: 10 logistic-regression fits on 8 samples per label; a few test items flip between
# sklearn versions.
TASK_TYPE = TaskTypeDescriptor(
    name="classification",
    label="Classification",
    color="#2ca02c",
    columns={"text": "text", "label": "label"},
    evaluator_target="harness.evaluators.classification",
    rows="harness.data.rows:classification",
    tolerance=5e-3,
    train_split=True,
    items=item_layout,
    mteb=MtebMapping(
        "Classification",
        "AbsTaskClassification",
        ("n_experiments", "samples_per_label", "seed"),
        {"text": "input_column_name", "label": "label_column_name"},
        logistic_probe=True,
        name_suffix="classification",
    ),
    moved_items="harness.rundiff.texts:describe_classification",
    item_texts="test_texts",
)
