"""Main score of retrieval and reranking tasks broken down by the length of the relevant document.

The length-collapse effect (long documents score worse) made visible: queries are grouped by
their builder-given group (LongEmbed's designed lengths) or else by the word count of their first
relevant document in power-of-two buckets, and the per-query main score is averaged per group.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.data.types import RetrievalData


def _bucket(words: int) -> str:
    upper = 1 << max(0, int(words - 1).bit_length())
    return f"<={upper} words"


def by_length(data: RetrievalData, items: dict[str, np.ndarray], main_score: str) -> dict[str, dict[str, Any]]:
    """group -> {"queries": n, "main_score": mean of the per-query main score}, ordered by length."""
    if "values" not in items or main_score not in list(items["metric_names"]):
        return {}
    column = list(items["metric_names"]).index(main_score)
    values = items["values"][:, column]
    groups = []
    for qid in items["query_ids"]:
        qid = str(qid)
        if data.query_groups is not None:
            groups.append(data.query_groups.get(qid, "other"))
            continue
        relevant = [d for d, grade in data.qrels.get(qid, {}).items() if grade > 0 and d in data.corpus]
        groups.append(_bucket(len(data.corpus[relevant[0]].split())) if relevant else "no relevant document")
    labels = np.asarray(groups)
    order = sorted(set(groups), key=lambda g: (len(g), g))
    return {g: {"queries": int((labels == g).sum()), "main_score": float(values[labels == g].mean())} for g in order}
