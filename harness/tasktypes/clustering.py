"""Clustering: k-means on the embeddings against gold labels, V-measure over draws
(``harness/evaluators/clustering.py``)."""

from __future__ import annotations

from harness.tasktypes.base import ItemLayout, MtebMapping, TaskTypeDescriptor, UnsupportedScore


def item_layout(main_score: str) -> ItemLayout:
    """``v_measure``: the mean over the stored draws."""
    if main_score != "v_measure":
        raise UnsupportedScore(f"clustering main score {main_score} has no per-draw values stored")
    return ItemLayout("mean", values=(("v_measures", 1),), shared=("sample_indices", "labels"))


TASK_TYPE = TaskTypeDescriptor(
    name="clustering",
    label="Clustering",
    color="#9467bd",
    columns={"text": "sentences", "label": "labels"},
    evaluator_target="harness.evaluators.clustering",
    rows="harness.data.rows:clustering",
    items=item_layout,
    mteb=MtebMapping(
        "Clustering",
        "AbsTaskClustering",
        (
            "max_fraction_of_documents_to_embed",
            "max_document_to_embed",
            "max_documents_per_cluster",
            "n_clusters",
            "k_mean_batch_size",
            "seed",
        ),
        {"text": "input_column_name", "label": "label_column_name"},
        name_suffix="clustering",
    ),
)
