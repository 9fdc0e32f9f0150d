"""The one encode path: every text any evaluator needs is embedded here, and only here.

For one (model, task) it deduplicates identical texts per role across all text groups, looks
them up in the embedding cache (a hit of another dimension than the others is a miss), sorts the
misses by length (long first, so padding inside a batch is small and an out-of-memory error shows
up in the first batch), calls the model batch by batch (a fixed count, or as many texts as fit a
token budget; an accelerator out-of-memory error halves the batch) with a progress bar, checks every vector (count, dimension, finite values), stores each batch in
the cache as soon as it is computed, and scatters the vectors back to each group's order.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from harness import long_documents
from harness.accelerators import is_out_of_memory, peak_memory_bytes, reset_peak_memory
from harness.batching import Batching, EncodeStats, back_off
from harness.cache import EmbeddingCache, model_identity, text_keys
from harness.errors import ModelError
from harness.evaluators.base import Role, TextGroup
from harness.models.base import Encoder
from harness.specs import TaskSpec

if TYPE_CHECKING:
    from harness.variants import Variant


def _is_sparse(matrix: Any) -> bool:
    return hasattr(matrix, "tocsr") and hasattr(matrix, "nnz")


def _check_batch(vectors: Any, expected_rows: int, model_name: str, task: TaskSpec, dim: int | None) -> Any:
    """Validate one batch of vectors; return it as float32 (dense) or CSR (sparse)."""
    if _is_sparse(vectors):
        vectors = vectors.tocsr().astype(np.float32)
        values = vectors.data
    else:
        vectors = np.asarray(vectors)
        if vectors.dtype.kind not in "fiu":
            raise ModelError(f"model {model_name!r} on task {task.name}: encode returned {vectors.dtype} values, not numbers")
        vectors = vectors.astype(np.float32, copy=False)
        values = vectors
    if vectors.ndim != 2 or vectors.shape[0] != expected_rows:
        raise ModelError(
            f"model {model_name!r} on task {task.name}: encode returned shape {tuple(vectors.shape)} for {expected_rows} texts"
        )
    if dim is not None and vectors.shape[1] != dim:
        raise ModelError(f"model {model_name!r} on task {task.name}: dimension changed from {dim} to {vectors.shape[1]} between batches")
    if not np.isfinite(values).all():
        raise ModelError(f"model {model_name!r} on task {task.name}: encode returned NaN or infinite values")
    return vectors


def _stack(parts: list[Any]) -> Any:
    if parts and _is_sparse(parts[0]):
        import scipy.sparse as sp

        return sp.vstack(parts, format="csr")
    return np.concatenate(parts, axis=0)


def _progress(total: int, label: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=label, unit="text", leave=False, dynamic_ncols=True, disable=None, file=sys.stderr)


def encode_unique(
    model: Encoder,
    texts: list[str],
    *,
    role: Role,
    task: TaskSpec,
    batching: Batching,
    label: str,
    on_batch: Callable[[np.ndarray, Any], None] | None = None,
) -> tuple[Any, float]:
    """Embed distinct ``texts`` in length-sorted batches (long first) of ``batching``'s sizes.

    An accelerator out-of-memory error halves the batch and retries the same texts
    (``batching.cap`` keeps the size that fits). ``on_batch(positions, vectors)`` is called after
    each batch with the positions (in ``texts``) it covered, e.g. to store them in the cache.

    Returns:
        (vectors of shape (len(texts), dim) in the order of ``texts``, seconds spent in the model).

    Raises:
        ModelError: one text alone does not fit in the accelerator's memory.
    """
    name = model.info.name
    if not texts:
        return np.zeros((0, 0), dtype=np.float32), 0.0
    order = np.argsort([-len(t) for t in texts], kind="stable")
    ordered = [texts[i] for i in order]
    tokens = model.count_tokens(ordered, role=role, task=task) if batching.max_tokens is not None else None
    batching.counted = batching.counted and (tokens is not None or batching.max_tokens is None)
    parts: list[Any] = []
    dim: int | None = None
    seconds = 0.0
    start = 0
    with _progress(len(texts), label) as bar:
        while start < len(texts):
            size = batching.size_at(tokens, start)
            batch = ordered[start : start + size]
            began = time.perf_counter()
            try:
                vectors = model.encode(batch, role=role, task=task, batch_size=size)
            except Exception as err:
                if not is_out_of_memory(err):
                    raise
                seconds += time.perf_counter() - began
                back_off(batching, batch, name, task, role)
                continue
            seconds += time.perf_counter() - began
            vectors = _check_batch(vectors, len(batch), name, task, dim)
            dim = vectors.shape[1]
            parts.append(vectors)
            batching.largest = max(batching.largest, size)
            if on_batch is not None:
                on_batch(order[start : start + size], vectors)
            bar.update(size)
            start += size
    sorted_vectors = _stack(parts)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return sorted_vectors[inverse], seconds


def _dimension(vector: Any) -> int:
    return int(vector.shape[-1])


def _one_dimension(hits: dict[bytes, Any]) -> dict[bytes, Any]:
    """The cache hits of the dimension most of them have: a vector of another length (a damaged
    or foreign entry) is a miss, recomputed by the model instead of silently scored."""
    if not hits:
        return hits
    dims = Counter(_dimension(v) for v in hits.values())
    dim = dims.most_common(1)[0][0]
    return hits if len(dims) == 1 else {k: v for k, v in hits.items() if _dimension(v) == dim}


def _store_companion(model: Encoder, texts: list[str], *, role: Role, task: TaskSpec, cache: EmbeddingCache) -> None:
    """Cache ``model``'s vectors of ``texts``, which the batch just encoded also computed (one batch:
    the companion reads that batch's shared forward pass)."""
    described = model_identity(model)
    if described is None:
        return
    identity, persist = described
    vectors = _check_batch(model.encode(texts, role=role, task=task, batch_size=len(texts)), len(texts), model.info.name, task, None)
    keys = text_keys(identity, role, model.prompt_for(role, task), texts)
    cache.put_many(identity, {"name": model.info.name, "revision": model.info.revision}, keys, vectors, persist=persist)


def _encode_role(
    model: Encoder, texts: list[str], *, role: Role, task: TaskSpec, batching: Batching, label: str, cache: EmbeddingCache | None, stats: EncodeStats
) -> Any:
    """Vectors of distinct ``texts`` for one role: cache hits, then the misses through the model."""
    described = model_identity(model) if cache is not None and texts else None
    if described is None:
        vectors, seconds = encode_unique(model, texts, role=role, task=task, batching=batching, label=label)
        stats.seconds += seconds
        stats.encoded += len(texts)
        return vectors
    assert cache is not None
    identity, persist = described
    keys = text_keys(identity, role, model.prompt_for(role, task), texts)
    hits = _one_dimension(cache.get_many(keys))
    missing = [i for i, key in enumerate(keys) if key not in hits]
    description = {"name": model.info.name, "revision": model.info.revision}

    def store(positions: np.ndarray, vectors: Any) -> None:
        cache.put_many(identity, description, [keys[missing[p]] for p in positions], vectors, persist=persist)
        batch = [texts[missing[p]] for p in positions]
        for other in model.companions():
            _store_companion(other, batch, role=role, task=task, cache=cache)

    if missing:
        fresh, seconds = encode_unique(
            model, [texts[i] for i in missing], role=role, task=task, batching=batching, label=label, on_batch=store
        )
        stats.seconds += seconds
        if hits and _dimension(next(iter(hits.values()))) != fresh.shape[1]:  # every hit is stale: recompute them all
            missing = list(range(len(texts)))
            fresh, seconds = encode_unique(model, texts, role=role, task=task, batching=batching, label=label, on_batch=store)
            stats.seconds += seconds
        hits.update(zip((keys[i] for i in missing), fresh))
    stats.encoded += len(missing)
    stats.cached += len(texts) - len(missing)
    return _check_batch(np.stack([hits[k] for k in keys]), len(texts), model.info.name, task, None)


def _derive_variant(variant: Variant, by_role: dict[Role, Any], task: TaskSpec) -> dict[Role, Any]:
    """Apply a sweep variant (truncation, quantisation) to the base model's full vectors."""
    from harness.variants import calibration_rows

    if any(_is_sparse(v) for v in by_role.values()):
        raise ModelError(f"task {task.name}: --sweep needs dense vectors; lexical models have no dims to truncate or quantise")
    calibration = calibration_rows(by_role)
    return {role: variant.apply(vectors, calibration) for role, vectors in by_role.items()}


def distinct_by_role(groups: Mapping[str, TextGroup]) -> dict[Role, dict[str, int]]:
    """Per role, each distinct text -> its position, in first-seen order over the groups (the
    order in which the encode path embeds them)."""
    roles: dict[Role, dict[str, int]] = {}
    for group in groups.values():
        index = roles.setdefault(group.role, {})
        for text in group.texts:
            index.setdefault(text, len(index))
    return roles


def encode_groups(
    model: Encoder,
    groups: Mapping[str, TextGroup],
    *,
    task: TaskSpec,
    batch_size: int = 32,
    label: str = "",
    cache: EmbeddingCache | None = None,
    max_batch_tokens: int | None = None,
) -> tuple[dict[str, Any], EncodeStats]:
    """Embed every group of a unit through one deduplicated pass per role.

    A sweep variant is embedded through its base encoder and derived from the whole unit's
    vectors. Models that fit on the corpus (lexical baselines) are first fitted on the task's
    documents (the texts of role "document", or all texts if the task has none). Models that split
    tokens cut long documents as the task's ``long_documents`` says. Batches hold ``batch_size``
    texts, or with ``max_batch_tokens`` as many as fit that many tokens (``Batching``).

    Returns:
        (group name -> vectors of shape (len(group.texts), dim), statistics).
    """
    stats = EncodeStats(texts=sum(len(g.texts) for g in groups.values()))
    batching = Batching(batch_size, max_batch_tokens)
    reset_peak_memory()
    variant = model.variant
    model = model.base_encoder()
    roles = distinct_by_role(groups)
    if model.fits_on_corpus:
        documents = roles.get("document") or {t: 0 for index in roles.values() for t in index}
        model.fit(list(documents))
    by_role: dict[Role, Any] = {}
    for role, index in roles.items():
        unique = list(index)

        def embed(texts: list[str], role: Role = role) -> Any:
            return _encode_role(model, texts, role=role, task=task, batching=batching, label=label or task.name, cache=cache, stats=stats)

        if task.long_documents is not None and model.splits_tokens:
            model.load()
            by_role[role], counts = long_documents.apply(unique, task.long_documents, model.token_spans, model.info.max_tokens, embed)
            for key, value in counts.items():
                stats.long_documents[key] = stats.long_documents.get(key, 0) + value
        else:
            by_role[role] = embed(unique)
        stats.by_role[str(role)] = len(unique)
    stats.unique_texts = sum(len(index) for index in roles.values())
    stats.batching = batching.record()
    stats.peak_memory_bytes = peak_memory_bytes()
    if variant is not None:
        by_role = _derive_variant(variant, by_role, task)
    dims = {v.shape[1] for v in by_role.values()}
    if len(dims) > 1:
        raise ModelError(f"task {task.name}: query and document vectors have different dimensions {sorted(dims)}")
    out = {}
    for name, group in groups.items():
        index = roles[group.role]
        rows = np.fromiter((index[t] for t in group.texts), dtype=np.int64, count=len(group.texts))
        out[name] = by_role[group.role][rows]
    return out, stats
