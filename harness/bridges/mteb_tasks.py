"""Any installed mteb task as a TaskSpec: ``run --tasks mteb:SICK-R``, ``list tasks --source mteb``.

The spec is read from the task's mteb metadata and class attributes (type, main score, eval
split, languages, dataset id and revision, description, reference, the evaluator settings such
as ``samples_per_label`` or ``k_values``) and scored by OUR evaluators; no mteb code runs.
Supported: English text tasks of our types whose mteb base class is the protocol our evaluator
reproduces (each type's descriptor says how its mteb tasks map: ``TaskTypeDescriptor.mteb``);
any other task gets one line saying why.

Data: ``data.local`` is always the conventional folder name (:func:`local_folder`: ``sickr``,
``banking77``; the BEIR layout for retrieval), used when it exists under the data root; otherwise
the hub at the pinned revision. Tasks whose mteb class prepares its data in code (``load_data``
or ``dataset_transform`` overridden: renamed columns, subsampling, merged configs) get no hub
fallback: the hub rows as stored are not what mteb scores, so they need the local copy and are
skipped without it.

Speed: ``import mteb`` takes about 3.5 s (it imports ``datasets`` and every task module), so it
happens only when the catalog of its tasks is built. The catalog is plain JSON kept in the
harness cache directory, keyed by mteb's version: later listings and ``mteb:`` lookups read that
file and import nothing of mteb. An mteb edited in place without a version change needs the file
deleted.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import warnings
from functools import lru_cache
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from harness.errors import SpecError, StoreError
from harness.specs import TaskSpec
from harness.tasktypes import MtebMapping, TaskTypeDescriptor, get_task_type, task_type_names

PREFIX = "mteb:"
CATALOG_FORMAT = 2  # bump when what an entry holds changes

# Preferred subset when a multilingual task has several English ones (AmazonCounterfactual: en, en-ext).
_PREFERRED_SUBSETS = ("default", "en", "eng", "en-en", "eng-eng")
# Tasks whose mteb dataset_transform our loaders already reproduce: it only renames sent1/sent2,
# which harness.data.rows.pair_classification reads as is.
_TRANSFORMS_REPRODUCED = frozenset({"SprintDuplicateQuestions", "TwitterSemEval2015", "TwitterURLCorpus"})


class _Unsupported(Exception):
    """The harness cannot score this task as mteb does; the message says why."""


def _mapped_types() -> dict[str, tuple[TaskTypeDescriptor, MtebMapping]]:
    """mteb's ``metadata.type`` -> our task type and how its tasks map."""
    descriptors = [get_task_type(name) for name in task_type_names()]
    return {d.mteb.type: (d, d.mteb) for d in descriptors if d.mteb is not None}


def local_folder(name: str) -> str:
    """The folder of a task's local copy: lower case, no punctuation, no trailing type word.

    ``SICK-R`` -> ``sickr``, ``Banking77Classification`` -> ``banking77``,
    ``STSBenchmark`` -> ``stsbenchmark``.
    """
    folder = re.sub(r"[^0-9a-z]", "", name.lower())
    for _, mapping in _mapped_types().values():
        word = mapping.name_suffix
        if word and folder.endswith(word) and folder != word:
            return folder[: -len(word)]
    return folder


# ---------------------------------------------------------------- reading one mteb task


def _abstask_base(cls: type) -> type:
    """The first class in ``cls``'s MRO that mteb defines in ``mteb.abstasks``."""
    return next(c for c in cls.__mro__ if c.__module__.startswith("mteb.abstasks"))


def _is_english(languages: list[str]) -> bool:
    return bool(languages) and all(lang.startswith("eng") for lang in languages)


def _english_subset(eval_langs: list[str] | dict[str, list[str]]) -> tuple[str | None, list[str]]:
    """(hf subset or None for a monolingual task, its languages)."""
    if not isinstance(eval_langs, dict):
        if not _is_english(list(eval_langs)):
            raise _Unsupported(f"not an English task (languages {', '.join(eval_langs)})")
        return None, list(eval_langs)
    english = {subset: list(langs) for subset, langs in eval_langs.items() if _is_english(list(langs))}
    preferred = [s for s in _PREFERRED_SUBSETS if s in english]
    if preferred or len(english) == 1:
        subset = preferred[0] if preferred else next(iter(english))
        return subset, english[subset]
    if not english:
        raise _Unsupported("no English subset")
    raise _Unsupported(f"several English subsets ({', '.join(english)}) and none is preferred")


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _attribute(task: Any, attr: str) -> Any:
    """``task.attr``, or ``task.attr[i]`` for ``"attr[i]"``."""
    match = re.fullmatch(r"(\w+)\[(\d+)\]", attr)
    return getattr(task, match[1])[int(match[2])] if match else getattr(task, attr)


def _columns(task: Any, ours: TaskTypeDescriptor, mapping: MtebMapping) -> dict[str, str]:
    """Column names that differ from our defaults (mteb's own defaults are ours)."""
    named = {column: _attribute(task, attr) for column, attr in mapping.columns.items()}
    if not all(isinstance(v, str) for v in named.values()):
        raise _Unsupported("its inputs are not plain text columns")
    return {k: v for k, v in named.items() if v != ours.columns[k]}


def _options(task: Any, mapping: MtebMapping) -> dict[str, Any]:
    options = {name: _plain(getattr(task, name)) for name in mapping.options}
    if mapping.logistic_probe:
        if getattr(task, "is_cross_validation", False):
            raise _Unsupported("cross-validated classification is not reproduced")
        probe = task.evaluator_model
        if type(probe).__name__ != "LogisticRegression":
            raise _Unsupported(f"its classifier is {type(probe).__name__}; the harness fits mteb's logistic regression")
        options["max_iter"] = int(probe.max_iter)
    return options


def _fields(task: Any) -> dict[str, Any]:
    """TaskSpec fields of an mteb task (``data.local`` is added per lookup)."""
    meta = task.metadata
    mapped = _mapped_types()
    if meta.type not in mapped:
        raise _Unsupported(f"mteb type {meta.type} has no evaluator here (supported: {', '.join(mapped)})")
    ours, mapping = mapped[meta.type]
    if list(meta.modalities) != ["text"]:
        raise _Unsupported(f"modalities {'+'.join(meta.modalities)}; only text tasks are supported")
    base = _abstask_base(type(task)).__name__
    if base != mapping.base:
        raise _Unsupported(f"mteb scores it with {base}, a protocol the harness does not reproduce")
    subset, languages = _english_subset(meta.eval_langs)
    dataset = dict(meta.dataset)
    if subset and dataset.get("name"):
        raise _Unsupported("its dataset names both a config and language subsets")
    splits = list(meta.eval_splits)
    data: dict[str, Any] = {
        "hf": dataset["path"],
        "revision": dataset["revision"],
        "hf_subset": subset or dataset.get("name"),
        "eval_split": "test" if "test" in splits else splits[0],
    }
    if ours.train_split:
        data["train_split"] = task.train_split
    description = " ".join(str(meta.description).split())
    if subset and subset != "default":
        description += f" (English subset {subset!r} only.)"
    return {
        "name": meta.name,
        "type": ours.name,
        "description": description,
        "suite": ["mteb"],
        "languages": languages,
        "main_score": meta.main_score,
        "data": data,
        "columns": _columns(task, ours, mapping),
        "reference": meta.reference,
        "license": meta.license,
        "citation": (meta.bibtex_citation or "").strip() or None,
        "options": _options(task, mapping),
    }


def _prepares_data_in_code(task: Any) -> bool:
    """True when the task class overrides how mteb loads or reshapes the hub data (and our
    loaders do not do the same)."""
    cls, base = type(task), _abstask_base(type(task))
    if task.metadata.name in _TRANSFORMS_REPRODUCED:
        return False
    return cls.load_data is not base.load_data or cls.dataset_transform is not base.dataset_transform


def _entry(task: Any) -> dict[str, Any]:
    """Catalog entry: ``{"fields", "needs_local"}`` for a supported task, ``{"reason"}`` otherwise."""
    name = task.metadata.name
    try:
        fields = _fields(task)
        TaskSpec(**fields, source_file=PREFIX + name)  # our schema and evaluators accept it
    except _Unsupported as err:
        return {"reason": f"{PREFIX}{name}: not supported: {err}"}
    except SpecError as err:
        return {"reason": f"not supported: {err}"}
    return {"fields": fields, "needs_local": _prepares_data_in_code(task)}


# ---------------------------------------------------------------- the catalog


def _mteb_version() -> str:
    try:
        return importlib_metadata.version("mteb")
    except importlib_metadata.PackageNotFoundError:
        raise SpecError("mteb: tasks need the mteb package (pip install mteb)") from None


def _build_catalog() -> dict[str, dict[str, Any]]:
    import mteb  # slow (seconds): only here

    logger = logging.getLogger("mteb")
    level = logger.level
    logger.setLevel(logging.ERROR)  # mteb logs a superseded/beta notice per task; all are listed
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tasks = mteb.get_tasks(exclude_superseded=False, exclude_private=False, exclude_beta=False)
            return {task.metadata.name: _entry(task) for task in tasks}
    finally:
        logger.setLevel(level)


@lru_cache(maxsize=4)
def _load_catalog(path: Path) -> dict[str, dict[str, Any]]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    from harness.store import atomic_write_bytes

    built = _build_catalog()
    try:
        atomic_write_bytes(path, json.dumps(built).encode("utf-8"))
    except StoreError:
        pass  # an unwritable cache only costs the next lookup the mteb import
    return built


def catalog() -> dict[str, dict[str, Any]]:
    """Every installed mteb task by name: supported ones with spec fields, others with a reason."""
    from harness.cache import default_cache_dir

    return _load_catalog(default_cache_dir() / f"mteb-tasks-{_mteb_version()}-v{CATALOG_FORMAT}.json")


def _spec(name: str, entry: dict[str, Any]) -> TaskSpec:
    fields = json.loads(json.dumps(entry["fields"]))  # a private copy of the cached entry
    fields["data"]["local"] = local_folder(name)
    source = PREFIX + name
    if entry["needs_local"]:
        del fields["data"]["hf"]  # keep the revision: the local copy stands for that revision
        source += " (hub copy unusable: mteb reshapes it in code)"
    return TaskSpec(**fields, source_file=source)


def mteb_spec(name: str) -> TaskSpec:
    """The spec of installed mteb task ``name`` (without the ``mteb:`` prefix).

    Raises:
        SpecError: mteb is not installed, the name is unknown (with close matches), or the task
            is not supported here (one line saying why).
    """
    entries = catalog()
    entry = entries.get(name)
    if entry is None:
        lowered = {known.lower(): known for known in entries}
        close = [lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)]
        hint = f" (did you mean {', '.join(PREFIX + c for c in close)}?)" if close else ""
        raise SpecError(f"--tasks: unknown mteb task {name!r}{hint}")
    if "reason" in entry:
        raise SpecError(entry["reason"])
    return _spec(name, entry)


def mteb_specs(task_type: str | None = None) -> list[TaskSpec]:
    """Specs of every supported installed mteb task (of ``task_type``), by name."""
    return [
        _spec(name, entry)
        for name, entry in sorted(catalog().items())
        if "fields" in entry and task_type in (None, entry["fields"]["type"])
    ]
