"""Builders that derive finance tasks from Financial PhraseBank (``tasks/finance/local``).

The corpus is read from the data root (``--data-dir``; in this repository's checkout
``../shared/datasets``), never from the package: file names in ``data.builder_options`` are
relative to it. A missing file raises ``DataUnavailable`` (the runner skips the task with one
line); a malformed one raises ``DataError`` naming the file and field.

Input: Financial PhraseBank v1.0, 100%-agreement subset (Malo et al. 2014), as JSON Lines with
``text`` and ``label_text`` (``positive`` / ``negative`` / ``neutral``).

Registered builders:

* ``phrasebank_classification`` -> ClassificationData: deduplicated sentences, seeded stratified
  train/test split (no sentence in both).
* ``phrasebank_clustering`` -> ClusteringData: deduplicated sentences, gold = sentiment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from harness.data.builders import register_builder
from harness.data.builders.base import FileOptions, SplitFileOptions, root_file, stratified_split
from harness.data.files import read_rows
from harness.data.schema import check_text, field
from harness.data.types import ClassificationData, ClusteringData



@lru_cache(maxsize=4)
def _load_phrasebank(path: Path, mtime_ns: int) -> tuple[tuple[str, str], ...]:
    """(sentence, label) pairs of the file, each distinct sentence once.

    A sentence listed more than once with one label is kept once (first position); one listed
    with different labels is dropped entirely (no gold). Cached per file version.
    """
    del mtime_ns  # only part of the cache key
    rows: list[tuple[str, str]] = []
    for number, row in enumerate(read_rows(path), 1):
        text, label = (field(row, name, check_text, path, number) for name in ("text", "label_text"))
        rows.append((" ".join(text.split()), label))
    labels_of: dict[str, set[str]] = {}
    for text, label in rows:
        labels_of.setdefault(text, set()).add(label)
    seen: set[str] = set()
    kept = []
    for text, label in rows:
        if len(labels_of[text]) == 1 and text not in seen:
            kept.append((text, label))
        seen.add(text)
    return tuple(kept)


def _phrasebank(opts: FileOptions, data_root: Path | None) -> tuple[Path, list[str], np.ndarray]:
    """The file, its distinct sentences and their labels (str array of shape (n,))."""
    path = root_file(opts.file, "file", data_root)
    pairs = _load_phrasebank(path, path.stat().st_mtime_ns)
    return path, [t for t, _ in pairs], np.array([label for _, label in pairs])


@register_builder("phrasebank_classification", options=SplitFileOptions)
def build_phrasebank_classification(opts: SplitFileOptions, data_root: Path | None) -> ClassificationData:
    """Sentence sentiment, split stratified and seeded (``test_size``, ``seed``).

    Duplicated sentences are merged first (:func:`_load_phrasebank`), so no sentence is in both
    splits.

    Returns:
        ClassificationData with str labels; ``ceil(n * test_size)`` test sentences.
    """
    path, texts, labels = _phrasebank(opts, data_root)
    return stratified_split(texts, labels, opts, path)


@register_builder("phrasebank_clustering", options=FileOptions)
def build_phrasebank_clustering(opts: FileOptions, data_root: Path | None) -> ClusteringData:
    """Every distinct sentence, gold cluster = its sentiment label (3 clusters)."""
    _, texts, labels = _phrasebank(opts, data_root)
    return ClusteringData(texts=texts, labels=labels)
