"""What a task type is: the :class:`TaskTypeDescriptor` every type module declares.

A descriptor holds everything the harness knows about one type, as data: the logical columns of
its rows, which loader builds its data, its evaluator (named, imported on first use), the
per-item layout statistics recompute its main score from, its reproduction tolerance and its
display label and colour. Nothing here imports an evaluator, a loader or the statistics, so the
stats and report layers may read descriptors without reaching evaluator code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, cast

from harness.plugins import import_target

if TYPE_CHECKING:
    from harness.data.rows import RowLoader
    from harness.evaluators.base import Evaluator


class UnsupportedScore(ValueError):
    """The main score cannot be recomputed from the stored per-item arrays."""


@dataclass(frozen=True)
class ItemLayout:
    """How a main score is recomputed from one split's stored per-item arrays.

    Array names are the evaluator's item keys (without the ``<split>.`` prefix).

    Attributes:
        kind: ``"mean"``: the mean over items of one per-model array (NaN items skipped);
            ``"correlation"``: the correlation of ``shared[0]`` (gold) with one per-model array;
            ``"average_precision"``: the average precision of ``shared[0]`` (binary labels)
            under the best of the per-model arrays.
        values: ``(array name, sign)`` per array a model is scored by; ``sign`` -1 turns a
            distance into a score (higher = closer). ``"mean"`` and ``"correlation"`` take one.
        shared: arrays every model must hold identically: the identity of the items.
        align_by: an id array of shape (n_items,): each model's items are put in id order and
            the ids must then agree (models may store their items in any order).
        column: ``(names array, metric)``: ``values`` has shape (n_items, n_metrics) and the
            column named ``metric`` in the names array is taken.
        over_draws: ``values`` has shape (n_draws, n_items): each item's value is its mean
            over the draws (classification's experiments).
        method: ``"pearson"`` or ``"spearman"`` for a correlation.
    """

    kind: Literal["mean", "correlation", "average_precision"]
    values: tuple[tuple[str, int], ...]
    shared: tuple[str, ...] = ()
    align_by: str | None = None
    column: tuple[str, str] | None = None
    over_draws: bool = False
    method: Literal["pearson", "spearman"] | None = None

    def __post_init__(self) -> None:
        if self.kind != "average_precision" and len(self.values) != 1:
            raise ValueError(f"a {self.kind} item layout takes one value array, not {len(self.values)}")
        if self.kind != "mean" and not self.shared:
            raise ValueError(f"a {self.kind} item layout needs the gold array first in shared")
        if (self.kind == "correlation") != (self.method is not None):
            raise ValueError("method is set for a correlation and only for one")


@dataclass(frozen=True)
class MtebMapping:
    """How an mteb task of this type maps onto it (read by ``harness.bridges.mteb_tasks``).

    Attributes:
        type: mteb's ``metadata.type`` ("STS", "Classification", ...).
        base: the mteb ``AbsTask`` class whose evaluation our evaluator reproduces.
        options: our evaluator options read from the same-named mteb class attributes.
        columns: our logical column -> ``"attribute"`` or ``"attribute[i]"`` of the mteb class
            naming that column.
        logistic_probe: the evaluator fits mteb's logistic-regression probe: a task with another
            classifier, or cross-validated, is refused, and the probe's ``max_iter`` is read.
        name_suffix: the lower-case suffix mteb task names of this type carry, left out of the
            local folder name (``Banking77Classification`` -> ``banking77``).
    """

    type: str
    base: str
    options: tuple[str, ...] = ()
    columns: Mapping[str, str] = field(default_factory=dict)
    logistic_probe: bool = False
    name_suffix: str | None = None


@dataclass(frozen=True)
class TaskTypeDescriptor:
    """One task type, declared once (``harness/tasktypes/<type>.py``).

    Attributes:
        name: the spec's ``type`` value.
        label: display name (leaderboard columns, plots).
        color: hex colour of the type in plots.
        columns: logical column -> data column name (mteb's names), the spec's ``columns``
            defaults; a spec may map only these logical columns.
        evaluator_target: the evaluator (``Options``, ``METRICS``, ``text_groups``,
            ``evaluate``) or its ``"module"`` / ``"module:attr"`` name, imported on first use.
        rows: the row loader (a :data:`harness.data.rows.RowLoader`) or its ``"module:attr"``
            name; None when the type has no row layout.
        tolerance: largest ``|ours - published|`` a reproduction accepts. The default suits
            scores of float32 similarities and k-means, which floating-point order moves by a
            few 1e-4 at most.
        train_split: the loader also reads ``data.train_split`` (a probe is fitted on it).
        corpus: data may also be a BEIR folder (corpus.jsonl, queries.jsonl, qrels/) locally, or
            mteb's hub retrieval layout (configs corpus, queries, default).
        hub_candidates: the hub layout also has ``top_ranked`` (the candidates to rerank).
        items: main score -> its :class:`ItemLayout`; raises :class:`UnsupportedScore` for a main
            score the items cannot recompute. None: no main score is recomputable.
        mteb: how mteb tasks of this type are read; None: none are.
        moved_items: the ``harness.rundiff.texts.Describer`` (or its ``"module:attr"`` name) that
            shows one item that moved between two runs with its texts; None: items shown by id.
        item_texts: the data attribute that holds one text per item (items are positions in it);
            None: items are ids.
    """

    name: str
    label: str
    color: str
    columns: Mapping[str, str]
    evaluator_target: Evaluator | str
    rows: RowLoader | str | None = None
    tolerance: float = 1e-3
    train_split: bool = False
    corpus: bool = False
    hub_candidates: bool = False
    items: Callable[[str], ItemLayout] | None = None
    mteb: MtebMapping | None = None
    moved_items: Callable[..., dict[str, str]] | str | None = None
    item_texts: str | None = None

    @cached_property
    def evaluator(self) -> Evaluator:
        """The evaluator, imported on first use."""
        return cast("Evaluator", _resolve(self.evaluator_target))

    @cached_property
    def row_loader(self) -> RowLoader | None:
        """The row loader, imported on first use (None: the type has no row layout)."""
        return None if self.rows is None else cast("RowLoader", _resolve(self.rows))

    @cached_property
    def moved_item_describer(self) -> Callable[..., dict[str, str]] | None:
        """The describer of moved items, imported on first use (None: items shown by id)."""
        return None if self.moved_items is None else cast("Callable[..., dict[str, str]]", _resolve(self.moved_items))

    def item_layout(self, main_score: str) -> ItemLayout:
        """The per-item layout that recomputes ``main_score``.

        Raises:
            UnsupportedScore: the stored items cannot recompute it.
        """
        if self.items is None:
            raise UnsupportedScore(f"task type {self.name} has no per-item statistic")
        return self.items(main_score)


def _resolve(target: Any) -> object:
    return import_target(target) if isinstance(target, str) else target
