"""``import-results PATH``: mteb's published results into the store, one column per task.

PATH is a clone of ``embeddings-benchmark/results`` or any folder with a ``results/`` folder
inside (or the ``results`` folder itself, or mteb's cache folder with ``remote/results``): ``results/<org>__<model>/<revision>/<Task>.json``.
Other files beside it, experiment sub-folders and ``model_meta.json`` files are not results.

Per (published model, task), one stored result: the revision mteb's ``join_revisions`` keeps
(:mod:`.revisions`), stored as ``"<name> (published)"`` under that revision, with the task's
plain name (``--strict-revisions``: ``<Task>@<revision[:12]>`` when the published dataset
revision differs from ours). :mod:`.document` says what the stored file holds.

Every malformed or foreign file gives one warning and is skipped; the import ends with a summary.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from harness.benchmarks import catalogue
from harness.bridges.mteb_results.document import TaskFacts, build_document
from harness.bridges.mteb_results.layout import Published, Unreadable, read_published
from harness.bridges.mteb_results.meta import (
    META_FILE,
    NO_REVISION,
    ModelIdentity,
    identify,
)
from harness.bridges.mteb_results.revisions import (
    Candidate,
    join_record,
    join_revisions,
)
from harness.errors import SpecError, StoreError
from harness.store import ResultDocument, model_folder, read_result, write_results

PUBLISHED_SUFFIX = " (published)"
_PARALLEL_FROM = 2000  # files: below this a process pool costs more than it saves
_UNKNOWN_TASK = "task unknown to mteb and to our specs"


@dataclass
class ImportSummary:
    """What an import did: files written, dataset revision mismatches, and what it left out."""

    written: list[Path] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    warned: int = 0

    def skip(self, reason: str, n: int = 1) -> None:
        if n:
            self.skipped[reason] = self.skipped.get(reason, 0) + n

    def line(self) -> str:
        parts = [f"{len(self.written)} imported"]
        if self.mismatched:
            parts.append(f"{len(self.mismatched)} of them on another dataset revision than ours")
        if self.warned:
            parts.append(f"{self.warned} unreadable files skipped (one warning each)")
        parts += [f"{n} skipped: {reason}" for reason, n in sorted(self.skipped.items())]
        return "; ".join(parts)


def results_folder(source: Path) -> Path:
    """The ``results`` folder of PATH: ``PATH/results``, ``PATH/remote/results`` (mteb's own
    cache folder), or PATH itself when it holds model folders."""
    if not source.is_dir():
        raise SpecError(f"import-results: {source} is not a folder")
    return next((inner for inner in (source / "results", source / "remote" / "results") if inner.is_dir()), source)


def _result_files(root: Path, tasks: set[str] | None, models: set[str] | None) -> list[Path]:
    """``<model>/<revision>/<Task>.json`` under ``root``, filtered as mteb filters paths."""
    folders = {m.replace("/", "__").replace(" ", "_") for m in models} if models is not None else None
    found = []
    for model in _folders(root):
        if folders is None or model.name in folders:
            for revision in _folders(Path(model.path)):
                found += [Path(f.path) for f in os.scandir(revision.path) if f.name.endswith(".json") and f.name != META_FILE
                          and (tasks is None or f.name[:-5] in tasks) and f.is_file()]
    return sorted(found)


def _folders(folder: Path) -> list[os.DirEntry[str]]:
    """Sub-folders of ``folder`` (``os.scandir``: a glob over 100,000 files costs seconds)."""
    with os.scandir(folder) as entries:
        return [e for e in entries if e.is_dir()]


_MAIN_SCORES: dict[str, str] = {}  # task -> main score (mteb's, then our specs'), set before the workers fork


def _read_one(path: Path) -> tuple[Path, Published | str, ModelIdentity]:
    """One file parsed (or why not) and its model; runs in a worker process."""
    try:
        published: Published | str = read_published(path, _MAIN_SCORES, catalogue()["renamed_tasks"])
    except Unreadable as err:
        published = str(err)
    return path, published, identify(path.parent)


def _read_all(files: list[Path]) -> Iterator[tuple[Path, Published | str, ModelIdentity]]:
    """Every file read, on every core this process may use (2 here) when there are many."""
    workers = _cores()
    if len(files) < _PARALLEL_FROM or workers < 2 or "fork" not in _start_methods():
        yield from map(_read_one, files)
        return
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        yield from pool.map(_read_one, files, chunksize=256)


def _cores() -> int:
    """The cores this process may use (at most 8)."""
    return min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8)


def _start_methods() -> list[str]:
    from multiprocessing import get_all_start_methods

    return get_all_start_methods()


def _candidates(files: list[Path], summary: ImportSummary, known: set[str]) -> list[Candidate]:
    """A candidate per readable result of a known task; one warning per unreadable file."""
    out, warned_meta = [], set()
    for path, published, model in _read_all(files):
        if model.problem and model.problem not in warned_meta:
            warned_meta.add(model.problem)
            warnings.warn(model.problem, stacklevel=3)
        if isinstance(published, str):
            warnings.warn(f"{path}: {published}; skipped", stacklevel=3)
            summary.warned += 1
            continue
        if model.experiment:
            summary.skip("a variant run (experiment_kwargs in model_meta.json), left out as mteb's leaderboard does")
        elif published.task_name not in known:
            summary.skip(_UNKNOWN_TASK)
        else:
            out.append(Candidate(model.name, model.revision, published.task_name, published.mteb_version, path, (published, model)))
    return out


def _replace_earlier(results_dir: Path, document: ResultDocument, task: str, stored: set[str]) -> None:
    """Remove earlier imports of this model and task under its other revision folders
    (``stored``: the model folders in the store before this import)."""
    model = document.harness["model"]
    folder = model_folder(model["name"], model["revision"])
    if folder.parent.name not in stored:
        return
    keep = results_dir / folder
    for folder in keep.parent.iterdir():
        if folder == keep or not folder.is_dir():
            continue
        for path in [folder / f"{task}.json", *folder.glob(f"{task}@*.json")]:
            if path.is_file():
                try:
                    earlier = read_result(path, check_items=False)
                except StoreError:
                    continue
                if earlier.data.harness.status == "imported":
                    path.unlink()


def import_results(
    source: str | Path,
    results_dir: str | Path,
    *,
    task_dirs: Sequence[str | Path] = (),
    tasks: Iterable[str] | None = None,
    models: Iterable[str] | None = None,
    strict_revisions: bool = False,
) -> ImportSummary:
    """Import every published result under ``source`` whose task mteb or our specs know.

    Args:
        source: a results-repository clone, a folder with ``results/`` inside, or that folder.
        results_dir: our store.
        task_dirs: extra spec folders (their tasks are imported too, their revisions compared).
        tasks, models: import only these task names / published model names (org/name).
        strict_revisions: a dataset revision other than ours gives its own column ``T@<rev>``.

    Returns:
        An :class:`ImportSummary`; unreadable files were each warned about once.
    """
    from harness.registry import discover_specs

    root, results_dir = results_folder(Path(source)), Path(results_dir)
    identify.cache_clear()  # a model_meta.json may have changed since an earlier import in this process
    specs = discover_specs(task_dirs)
    _MAIN_SCORES.clear()
    _MAIN_SCORES.update({name: spec.main_score for name, spec in specs.items()})
    _MAIN_SCORES.update({name: facts["main_score"] for name, facts in catalogue()["tasks"].items()})
    known = set(catalogue()["tasks"]) | set(specs)
    summary = ImportSummary()
    files = _result_files(root, set(tasks) if tasks is not None else None, set(models) if models is not None else None)
    facts = TaskFacts(specs)
    stored = {entry.name for entry in _folders(results_dir)} if results_dir.is_dir() else set()
    documents = []
    for (model, task), (kept, others) in join_revisions(_candidates(files, summary, known)).items():
        published, identity = kept.payload
        summary.skip("another revision folder of the model won (mteb's join_revisions)", len(others))
        name = model + PUBLISHED_SUFFIX
        record = {"name": name, "published_name": model, "revision": identity.revision or NO_REVISION,
                  **identity.facts, "settings": {}}
        document = build_document(published, facts.of(task), record, kept.path, join_record(kept, others), strict_revisions)
        if document is None:
            summary.skip("no defined main score in the task's splits (NaN or missing)")
            continue
        imported = document.harness["imported"]
        if imported["revision_match"] is False:
            summary.mismatched.append(f"{model} × {task}: published on dataset revision {imported['dataset_revision']}, "
                                      f"ours is {imported['spec_revision']}")
        _replace_earlier(results_dir, document, task, stored)
        documents.append(document)
    summary.written.extend(write_results(results_dir, documents))
    return summary
