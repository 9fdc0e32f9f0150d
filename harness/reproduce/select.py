"""What a reproduction runs: the table's rows asked for, a runnable model per table model, and
the tasks whose data is available."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.errors import DataError, ModelError, SpecError
from harness.models.registry import find_alias, model_aliases
from harness.plugins import suggest
from harness.reproduce.reference import Reference, ReferenceRow
from harness.specs import TaskSpec


def select_rows(reference: Reference, tasks: Sequence[str] | None) -> list[ReferenceRow]:
    """The table's rows, restricted to ``tasks`` (``--tasks``; unknown names are errors)."""
    if not reference.rows:
        raise SpecError(
            f"{reference.path or reference.name}: reference {reference.name!r} has no per-task rows to reproduce"
            + (" (it publishes only per-type averages)" if reference.type_averages else "")
        )
    if tasks is None:
        return list(reference.rows)
    known = list(dict.fromkeys(row.task for row in reference.rows))
    unknown = [t for t in tasks if t not in known]
    if unknown:
        raise SpecError(f"--tasks: reference {reference.name!r} has no rows for task {unknown[0]!r}{suggest(unknown[0], known, cutoff=0.6)}")
    return [row for row in reference.rows if row.task in tasks]


def _alias_name(alias: str) -> str | None:
    """The table model a ready-made model (alias or model card) stands for, without building it:
    the published model it reproduces, else the name it records results under (None: not
    installed, or only building tells)."""
    described = find_alias(alias)
    if described is None or described.missing_packages():
        return None
    if described.reproduces or described.records:
        return described.reproduces or described.records
    name = described.ref().kwargs.get("name")
    return str(name) if name else None


def builtin_models(wanted: Iterable[str] | None = None) -> dict[str, str]:
    """Recorded model name -> built-in alias (the first alias recording it wins).

    Args:
        wanted: stop resolving aliases once all these names are found (resolving one can
            unpack its model files).
    """
    wanted = set(wanted) if wanted is not None else None
    found: dict[str, str] = {}
    for alias in model_aliases():
        if wanted is not None and wanted <= found.keys():
            break
        name = _alias_name(alias)
        if name and name not in found:
            found[name] = alias
    return found


def select_models(reference: Reference, models: Sequence[str] | None) -> tuple[dict[str, str], list[str]]:
    """Which model to run for each of the table's models.

    Args:
        reference: the table.
        models: ``--models``: aliases, hub ids or paths; None: every table model with a built-in
            alias.

    Returns:
        (table model id -> model to run, table model ids with nothing to run). With ``models``,
        the second list is empty: the rows of models not asked for are left out.

    Raises:
        HarnessError: a given model records a name the table has no rows for.
    """
    ids = list(dict.fromkeys(row.model_id for row in reference.rows))
    if models is None:
        aliases = builtin_models(ids)
        runnable = {mid: aliases[mid] for mid in ids if mid in aliases}
        return runnable, [mid for mid in ids if mid not in runnable]
    runnable = {}
    for given in models:
        name = _alias_name(given)
        if name in (None, given) and given in ids:  # a table hub id: run the alias recording it, if any
            name, given = given, builtin_models([given]).get(given, given)
        if name is None:
            from harness.models import load_model

            name = load_model(given).info.name
        if name not in ids:
            raise ModelError(
                f"--models: {given!r} records its results as {name!r}, which reference {reference.name!r} "
                f"has no rows for (its models: {', '.join(ids)})"
            )
        runnable[name] = given
    return runnable, []


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1"


def data_available(spec: TaskSpec, data_root: Path | None, *, allow_absolute: bool = False) -> bool:
    """Whether ``spec``'s data may load: a builder, a local copy, or a hub fallback while online.

    A hub fallback is only tried (the runner skips the task when the download fails); a local
    copy that exists is taken as available even if it turns out malformed (the unit then fails).
    """
    from harness.data import default_data_root, resolve_local

    if spec.data.builder:
        return True
    try:
        if resolve_local(spec, data_root if data_root is not None else default_data_root(), allow_absolute=allow_absolute) is not None:
            return True
    except DataError:  # a path that leaves the root, a symlink loop: the unit fails with that line
        return True
    return bool(spec.data.hf) and not hub_offline()
