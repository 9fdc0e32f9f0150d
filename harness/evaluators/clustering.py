"""Clustering, scored as mteb 2.x ``AbsTaskClustering`` (the fast, bootstrapped protocol).

mteb's protocol (``abstasks/clustering.py``), reproduced exactly:

* A ``random.Random(seed)`` draws ``rng.sample(range(n), k)`` documents to embed, with
  ``k = min(n, int(max_fraction_of_documents_to_embed * n))`` (or ``max_document_to_embed``;
  neither set: all documents, and no draw). :func:`text_groups` returns those texts in draw order.
* The same generator then draws, ``n_clusters`` times, ``max_documents_per_cluster`` indices
  *with replacement* (``rng.choices``) among the embedded documents; each draw is clustered by
  ``MiniBatchKMeans(n_clusters=<distinct gold labels>, batch_size=512, init="k-means++",
  n_init=1, random_state=seed)`` and scored with sklearn ``v_measure_score`` and
  ``adjusted_mutual_info_score``.
* Gold labels equal to the integer -1 are dropped before clustering (mteb uses -1 to mark a
  missing hierarchy level). Only flat labels (one level) are supported.
* Metrics: mean and population std over the draws. Main score: ``v_measure``.
* Tiny sets: a set of 3 documents embeds ``int(0.04 * 3) = 0`` of them, where mteb fails; this
  is refused with one line (``DataError``, before anything is embedded). Embedded documents with a
  single distinct label (one of 30 embeds 1) score V-measure 1.0 whatever the model, as in mteb:
  the score is kept, with a warning line saying it is trivial (so too under the legacy protocol
  when every set holds one label).

Threads: MiniBatchKMeans runs on one OpenMP thread here (mteb uses sklearn's default). Waking
idle OpenMP threads at each mini-batch step dominated the run time on a 2-core machine (30 s
instead of under 1 s for 200 texts); k-means on at most a few thousand sampled points gains
nothing from threads. Its inertia (which drives early stopping) is a threaded sum, so scores could
in principle depend on the thread count; 1 and 2 threads gave identical scores in 12 trials, and
the parity tests compare with mteb on one thread.

Non-determinism in mteb: the ``random.Random`` lives on the task object (``AbsTask.rng_state``,
seeded once in ``__init__``) and is never reset, so a second evaluation with the same task
object (another split, subset or model) samples different documents. We rebuild the generator
from ``seed`` on every call, which reproduces mteb's *first* evaluation in a fresh task object.

Legacy protocol (``protocol: legacy``): mteb 2.x ``AbsTaskClusteringLegacy``, with which mteb
still scores the MTEB-paper clustering tasks that keep their v1 names (TwentyNewsgroupsClustering,
RedditClustering, ...; their ``.v2`` versions use the fast protocol). Each row of the hub data is
one set (``ClusteringData.sets``; data without sets is one set): a set with one distinct label
scores 1.0 without clustering; any other is clustered by ``MiniBatchKMeans(n_clusters=<distinct
labels of the set>, batch_size=500, n_init="auto", random_state=seed)`` (mteb's
``ClusteringEvaluator``) and scored with ``v_measure_score``. Metrics: ``v_measure`` (mean over
sets) and ``v_measure_std`` (population std); mteb reports no AMI there, so ``ami`` is left out.
Every text is embedded; the fast-protocol options are ignored. It is deterministic (mteb too).

Items (fast protocol):
    ``v_measures``, ``ami_scores``: float64 (n_clusters,), one score per draw.
    ``sample_indices``: int32 (n_clusters, max_documents_per_cluster), rows of the embedded
        documents in each draw.
    ``assignments``: int32 (n_clusters, max_documents_per_cluster), k-means cluster per draw.
    ``labels``: int64 (n_embedded,), gold label index of each embedded document (-1: dropped).
The main score on a resample ``idx`` of draws is ``v_measures[idx].mean()``.

Items (legacy protocol):
    ``v_measures``: float64 (n_sets,), one score per set.
    ``set_index``: int32 (n_texts,), the set of each text.
    ``assignments``: int32 (n_texts,), k-means cluster of each text (-1 in single-label sets).
    ``labels``: int64 (n_texts,), gold label index of each text.
The main score on a resample ``idx`` of sets is ``v_measures[idx].mean()``.
"""

from __future__ import annotations

import random
import warnings
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.data.types import ClusteringData
from harness.errors import DataError
from harness.evaluators._metrics import as_floats
from harness.evaluators._similarity import as_matrix, take_rows
from harness.evaluators.base import EvalOutput, Similarity, TextGroup


class Options(BaseModel):
    """Bootstrap settings (mteb ``AbsTaskClustering`` class attributes and ``AbsTask.seed``)."""

    model_config = ConfigDict(extra="forbid")

    max_fraction_of_documents_to_embed: float | None = Field(0.04, gt=0, le=1)
    max_document_to_embed: int | None = Field(None, ge=1)
    max_documents_per_cluster: int = Field(16_384, ge=1)
    n_clusters: int = Field(10, ge=1)
    k_mean_batch_size: int = Field(512, ge=1)
    seed: int = 42
    protocol: Literal["fast", "legacy"] = "fast"

    @model_validator(mode="after")
    def _one_limit(self) -> Options:
        if self.max_fraction_of_documents_to_embed is not None and self.max_document_to_embed is not None:
            raise ValueError(
                "set only one of max_fraction_of_documents_to_embed and max_document_to_embed"
            )
        return self


METRICS: tuple[str, ...] = ("v_measure", "v_measure_std", "ami", "ami_std")


def _embedded_indices(data: ClusteringData, options: Options, rng: random.Random) -> tuple[list[int], str]:
    """Indices of the documents mteb embeds, in its order (advances ``rng`` as mteb does), and
    what they are (for messages).

    Raises:
        DataError: no document with a label is left to cluster.
    """
    n = len(data.texts)
    if options.max_fraction_of_documents_to_embed is not None:
        k: int | None = int(options.max_fraction_of_documents_to_embed * n)
        limit = f"options.max_fraction_of_documents_to_embed = {options.max_fraction_of_documents_to_embed}"
    elif options.max_document_to_embed is not None:
        k, limit = options.max_document_to_embed, f"options.max_document_to_embed = {options.max_document_to_embed}"
    else:
        k, limit = None, "all of them"
    idx = list(range(n)) if k is None else rng.sample(range(n), k=min(n, k))
    what = f"the {len(idx)} of {n} documents embedded ({limit})"
    if _is_missing(np.asarray(data.labels)[idx]).all():
        raise DataError(
            f"clustering: {what} leave nothing to cluster (labels of -1 are dropped); use more documents, or raise "
            "options.max_fraction_of_documents_to_embed or set options.max_document_to_embed"
        )
    return idx, what


def _warn_if_trivial(distinct: int, what: str) -> None:
    """Fewer than two gold labels give V-measure 1.0 whatever the model: mteb's result, kept (for
    parity), with a warning so that the score is never silently meaningless."""
    if distinct < 2:
        warnings.warn(f"clustering: {what} hold a single label: V-measure 1.0 whatever the model", stacklevel=3)


def text_groups(data: ClusteringData, options: Options) -> dict[str, TextGroup]:
    """``texts``: the documents mteb embeds, in its sampling order (symmetric: no role); every
    text, in order, under the legacy protocol."""
    if options.protocol == "legacy":
        return {"texts": TextGroup(list(data.texts))}
    idx, _ = _embedded_indices(data, options, random.Random(options.seed))
    return {"texts": TextGroup([data.texts[i] for i in idx])}


def evaluate(
    data: ClusteringData,
    embeddings: dict[str, object],
    options: Options,
    similarity: Similarity,
) -> EvalOutput:
    """Cluster bootstrap draws of the embedded documents and score them against gold labels.

    Args:
        data: texts and gold labels (n_texts,).
        embeddings: ``texts`` of shape (len(text_groups(...)["texts"].texts), dim), dense or CSR.
        options: :class:`Options`.
        similarity: unused (k-means is Euclidean, as in mteb).

    Returns:
        :data:`METRICS` (V-measure and AMI in [0, 1], higher = better) and the items above.
    """
    from sklearn.cluster import MiniBatchKMeans  # slow to import: only when scoring
    from sklearn.metrics.cluster import adjusted_mutual_info_score, v_measure_score
    from threadpoolctl import threadpool_limits

    if options.protocol == "legacy":
        return _evaluate_legacy(data, as_matrix(embeddings["texts"]), options)
    rng = random.Random(options.seed)
    idx, what = _embedded_indices(data, options, rng)
    emb = as_matrix(embeddings["texts"])
    if emb.shape[0] != len(idx):
        raise ValueError(f"embeddings have {emb.shape[0]} rows, expected {len(idx)}")
    raw = np.asarray(data.labels)[idx]
    valid = ~_is_missing(raw)
    codes = np.full(len(raw), -1, dtype=np.int64)
    codes[valid] = np.unique(raw[valid], return_inverse=True)[1].ravel()
    rows = np.flatnonzero(valid)
    _warn_if_trivial(int(codes.max()) + 1, what)
    kmeans = MiniBatchKMeans(
        n_clusters=int(codes.max()) + 1,
        batch_size=options.k_mean_batch_size,
        init="k-means++",
        n_init=1,
        random_state=options.seed,
    )
    size = options.max_documents_per_cluster
    samples = np.empty((options.n_clusters, size), dtype=np.int32)
    assignments = np.empty((options.n_clusters, size), dtype=np.int32)
    v_measures, amis = np.empty(options.n_clusters), np.empty(options.n_clusters)
    with threadpool_limits(1, user_api="openmp"):
        for i in range(options.n_clusters):
            samples[i] = rows[rng.choices(range(len(rows)), k=size)]
            assignments[i] = kmeans.fit_predict(take_rows(emb, samples[i]))
            gold = codes[samples[i]]
            v_measures[i] = v_measure_score(gold, assignments[i])
            amis[i] = adjusted_mutual_info_score(gold, assignments[i])
    metrics = {
        "v_measure": float(np.mean(v_measures)),
        "v_measure_std": float(np.std(v_measures)),
        "ami": float(np.mean(amis)),
        "ami_std": float(np.std(amis)),
    }
    items = {
        "v_measures": v_measures,
        "ami_scores": amis,
        "sample_indices": samples,
        "assignments": assignments,
        "labels": codes,
    }
    return EvalOutput(metrics=as_floats(metrics), items=items)


LEGACY_BATCH_SIZE = 500  # mteb ClusteringEvaluator's clustering_batch_size (never overridden)


def _evaluate_legacy(data: ClusteringData, emb: object, options: Options) -> EvalOutput:
    """mteb ``AbsTaskClusteringLegacy``: one k-means per set (see the module docstring)."""
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.metrics.cluster import v_measure_score
    from threadpoolctl import threadpool_limits

    n = len(data.texts)
    if emb.shape[0] != n:
        raise ValueError(f"embeddings have {emb.shape[0]} rows, expected {n}")
    sets = np.zeros(n, dtype=np.int64) if data.sets is None else np.asarray(data.sets, dtype=np.int64)
    raw = np.asarray(data.labels)
    codes = np.unique(raw, return_inverse=True)[1].ravel().astype(np.int64)
    n_sets = int(sets.max()) + 1 if n else 0
    v_measures = np.empty(n_sets)
    assignments = np.full(n, -1, dtype=np.int32)
    with threadpool_limits(1, user_api="openmp"):
        for s in range(n_sets):
            rows = np.flatnonzero(sets == s)
            k = len(np.unique(codes[rows]))
            if k <= 1:  # mteb: "v_measure is always 1.0", nothing is clustered
                v_measures[s] = 1.0
                continue
            kmeans = MiniBatchKMeans(
                n_clusters=k, batch_size=LEGACY_BATCH_SIZE, n_init="auto", compute_labels=True, random_state=options.seed
            )
            kmeans.fit(take_rows(emb, rows))
            assignments[rows] = kmeans.labels_
            v_measures[s] = v_measure_score(raw[rows], kmeans.labels_)
    if not (assignments >= 0).any():
        _warn_if_trivial(1, f"all {n_sets} sets (legacy protocol: one k-means per set)")
    metrics = {"v_measure": float(np.mean(v_measures)), "v_measure_std": float(np.std(v_measures))}
    items = {"v_measures": v_measures, "set_index": sets.astype(np.int32), "assignments": assignments, "labels": codes}
    return EvalOutput(metrics=as_floats(metrics), items=items)


def _is_missing(labels: np.ndarray) -> np.ndarray:
    """mteb's ``level_label == -1`` test (numeric labels only; strings never equal -1)."""
    if np.issubdtype(labels.dtype, np.number) or labels.dtype == bool:
        return labels == -1
    return np.zeros(len(labels), dtype=bool)
