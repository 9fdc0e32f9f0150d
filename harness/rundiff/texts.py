"""What to show for a moved item: its texts from the task's data, and what the items files hold.

Per task type (fields are label -> text, in display order):

* retrieval, reranking: the query, its most relevant document, the rank of the first relevant
  document under A and under B (from the stored per-query MRR at the largest cutoff), and B's
  top hit when it is not relevant (stored as ``top_hits`` by runs of this version);
* STS, pair classification: both sentences, the gold score or label, both similarities;
* classification: the text, the gold label, each model's prediction in the first experiment.

Texts need the task's data; when it cannot be loaded the ids and the stored values are still
shown and the note says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from harness.errors import HarnessError, one_line
from harness.rundiff.items import Aligned, Items, MovedItem
from harness.store import StoredResult
from harness.tasktypes import get_task_type, task_type_names

TEXT_LIMIT = 600  # characters of a text shown (the page and the JSON stay readable)
Describer = Callable[[Any, Items, Items, int, int, str, str], dict[str, str]]


def _clip(text: object) -> str:
    text = str(text)
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT] + " …"


def load_data(result: StoredResult, data_dir: Path | None) -> tuple[Any, str | None]:
    """(the task's data, None), or (None, why it cannot be loaded)."""
    from harness.data import load_task_data
    from harness.specs import TaskSpec

    try:
        spec = TaskSpec.model_validate(result.data.harness.task)
        return load_task_data(spec, data_dir), None
    except (HarnessError, ValidationError, OSError) as err:
        return None, f"texts not shown: the task's data cannot be loaded ({one_line(err)}); ids and stored values only"


def _rank(items: Items, split: str, row: int) -> str:
    """Rank of the first relevant document, from the stored MRR at the largest cutoff."""
    names = [str(n) for n in np.asarray(items[f"{split}.metric_names"])]
    cutoffs = {int(n.rsplit("_", 1)[1]): j for j, n in enumerate(names) if n.startswith("mrr_at_")}
    if not cutoffs:
        return "not stored"
    k = max(cutoffs)
    mrr = float(np.asarray(items[f"{split}.values"])[row, cutoffs[k]])
    return str(round(1 / mrr)) if mrr > 0 else f"below {k}"


def describe_retrieval(data: Any, items_a: Items, items_b: Items, row_a: int, row_b: int, split: str, item_id: str) -> dict[str, str]:
    fields = {"rank of the first relevant document under A": _rank(items_a, split, row_a),
              "rank of the first relevant document under B": _rank(items_b, split, row_b)}
    qrels = data.qrels.get(item_id, {}) if data is not None else {}
    hits = items_b.get(f"{split}.top_hits")
    if hits is None:
        fields["B's top hit"] = "not stored (the result predates top hits in the items file; rerun with --overwrite)"
    else:
        hit = str(np.asarray(hits)[row_b])
        relevant = qrels.get(hit, 0) > 0
        text = f": {_clip(data.corpus.get(hit, ''))}" if data is not None and not relevant else ""
        fields["B's top hit"] = "relevant" if relevant else f"{hit or '(none)'}{text}"
    if data is None:
        return fields
    best = sorted(((-g, d) for d, g in qrels.items() if g > 0))
    relevant_doc = f"{best[0][1]}: {_clip(data.corpus.get(best[0][1], ''))}" if best else "(none judged relevant)"
    return {"query": _clip(data.queries.get(item_id, "")), "relevant document": relevant_doc, **fields}


def _pairs(gold_name: str, gold_key: str, data_gold: str) -> Describer:
    """STS (gold score) or pair classification (gold label): the data's gold when it is loaded,
    else the stored one (STS stores it rescaled by the task's score range)."""
    def describe(data: Any, items_a: Items, items_b: Items, row_a: int, row_b: int, split: str, item_id: str) -> dict[str, str]:
        key = next(k for k in ("cosine_scores", "similarity_scores") if f"{split}.{k}" in items_a)
        similarities = {f"similarity under {side}": f"{np.asarray(items[f'{split}.{key}'])[row]:.4f}"
                        for side, items, row in (("A", items_a, row_a), ("B", items_b, row_b))}
        if data is None:
            return {f"{gold_name} (as stored)": f"{np.asarray(items_a[f'{split}.{gold_key}'])[row_a]:g}", **similarities}
        return {"sentence 1": _clip(data.sentence1[row_a]), "sentence 2": _clip(data.sentence2[row_a]),
                gold_name: f"{np.asarray(getattr(data, data_gold))[row_a]:g}", **similarities}
    return describe


def describe_classification(data: Any, items_a: Items, items_b: Items, row_a: int, row_b: int, split: str, item_id: str) -> dict[str, str]:
    classes = np.asarray(items_a[f"{split}.classes"])
    fields = {"gold label": str(classes[np.asarray(items_a[f"{split}.gold"])[row_a]]),
              **{f"prediction of {side} (first experiment)": str(np.asarray(items[f"{split}.classes"])[np.asarray(items[f"{split}.predictions"])[0, row]])
                 for side, items, row in (("A", items_a, row_a), ("B", items_b, row_b))}}
    return fields if data is None else {"text": _clip(data.test_texts[row_a]), **fields}


describe_sts = _pairs("gold score", "gold", "scores")
describe_pair_classification = _pairs("gold label", "labels", "labels")


def describe(result: StoredResult, items_a: Items, items_b: Items, values: Aligned, positions: Sequence[int],
             chosen: Sequence[MovedItem], data_dir: Path | None) -> str | None:
    """Fill each chosen item's ``fields``; returns why texts are missing, or None."""
    task_type = str(result.data.harness.task.get("type"))
    descriptor = get_task_type(task_type) if task_type in task_type_names() else None
    describer = None if descriptor is None else descriptor.moved_item_describer
    if descriptor is None or describer is None:
        return f"{task_type} items are shown by id only (an item is not one text)"
    if not chosen:
        return None
    data, note = load_data(result, data_dir)
    size = None if data is None or descriptor.item_texts is None else len(getattr(data, descriptor.item_texts))
    if size not in (None, len(values.ids)):
        data, note = None, f"texts not shown: the data has {size} items, the stored result {len(values.ids)}"
    split = next(iter(result.data.scores))
    try:
        for item, k in zip(chosen, positions):
            item.fields = describer(data, items_a, items_b, int(values.index_a[k]), int(values.index_b[k]), split, item.id)
    except (KeyError, IndexError, StopIteration) as err:  # a result written by an older harness, or by hand
        for item in chosen:
            item.fields = {}
        return f"ids only: the stored items lack what this view needs ({one_line(err)})"
    return note


def as_dict(item: MovedItem) -> Mapping[str, Any]:
    """JSON form of one item."""
    return {"id": item.id, "value_a": item.value_a, "value_b": item.value_b, "delta": item.delta, "fields": item.fields}
