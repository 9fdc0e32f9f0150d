"""Reproduce published numbers: run a reference table's models on its tasks, ours beside theirs.

A reference table is a YAML file (``references/<name>.yaml``): published scores, one row per
(task, model), each with the source it was copied from. ``run`` maps the table's models (hub ids)
to runnable harness models (built-in aliases whose recorded name is that hub id, or the models
given), runs them on the tasks whose data is available through :func:`harness.api.evaluate` (so
results land in the normal store and finished ones are resumed), and compares our score of the
row's metric with the published one under a per-task-type tolerance.

The pieces are pure functions over plain data (:func:`compare` returns a DataFrame,
:func:`to_markdown` / :func:`render` write it), so they are tested without running a model.

Verdicts: ``✔`` within tolerance, ``✘`` outside (or the unit failed), ``–`` not run (data not
available, model not available, no task spec). :func:`exit_code` is 0 when every row that ran is
within tolerance.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import HarnessError, ModelError, SpecError
from harness.specs import TaskSpec

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "references"
DEFAULT_REFERENCE = "mteb_paper_eng"
DEFAULT_OUT_DIR = Path("reports") / "reproduce"

# Largest |ours - published| still called a reproduction, per task type. STS: a Spearman
# correlation computed from the same float32 embeddings moves by ~1e-5 across BLAS builds and
# torch versions (the shared data README measured 0.82032 vs 0.82032, 0.80600 vs 0.80603).
# Classification: 10 logistic-regression fits on 8 samples per label, a few test items flip
# between sklearn versions. The others: scores of float32 similarities and k-means, which
# floating-point order moves by a few 1e-4 at most.
TOLERANCES: dict[str, float] = {
    "sts": 2e-4,
    "classification": 5e-3,
    "retrieval": 1e-3,
    "reranking": 1e-3,
    "pair_classification": 1e-3,
    "clustering": 1e-3,
    "summarization": 1e-3,
}

VERDICT_MARK = {"within": "✔", "outside": "✘", "failed": "✘", "no_data": "–", "no_model": "–", "no_spec": "–"}
STATUS_TEXT = {
    "within": "within tolerance",
    "outside": "outside tolerance",
    "failed": "failed",
    "no_data": "data not available",
    "no_model": "model not available",
    "no_spec": "no task spec",
}
COLUMNS = [
    "task",
    "type",
    "model",
    "metric",
    "published",
    "ours",
    "delta",
    "tolerance",
    "status",
    "verdict",
    "message",
    "note",
    "source",
]


# ---------------------------------------------------------------- reference tables


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReferenceRow(_Strict):
    """One published number.

    Attributes:
        task: the task name (a spec of that name must exist).
        model: the model as the source names it; a hub id unless ``hub_id`` is given.
        hub_id: the Hugging Face id, when ``model`` is not one.
        metric: the metric the number is, in mteb 2.x's names (default: the task's main score).
        score: the published value, as a fraction (0.82032, not 82.03).
        split: the evaluation split.
        source: where the number was copied from (file, table, field).
        paper: the value as the paper prints it (percent), when the source is a results file.
        dataset_revision: the hub revision of the data the published run recorded.
        note: what a reader must know to judge the comparison (protocol changes, ...).
        tolerance: overrides the task type's tolerance for this row.
    """

    task: str
    model: str
    hub_id: str | None = None
    metric: str | None = None
    score: float
    split: str = "test"
    source: str
    paper: float | None = None
    dataset_revision: str | None = None
    note: str | None = None
    tolerance: float | None = Field(default=None, gt=0)

    @property
    def model_id(self) -> str:
        return self.hub_id or self.model


class TypeAverage(_Strict):
    """A published mean over the tasks of one type (FinMTEB publishes only these)."""

    model: str
    hub_id: str | None = None
    task_type: str
    n_tasks: int
    score: float
    source: str


class Reference(_Strict):
    """A reference table: a name, its overall source, and the published rows."""

    name: str
    source: str
    description: str | None = None
    tolerances: dict[str, float] = Field(default_factory=dict)
    rows: list[ReferenceRow] = Field(default_factory=list)
    type_averages: list[TypeAverage] = Field(default_factory=list)
    path: str | None = Field(default=None, exclude=True)

    def tolerance(self, row: ReferenceRow, task_type: str | None) -> float | None:
        """The tolerance of ``row``: its own, else the table's for the type, else the default."""
        if row.tolerance is not None:
            return row.tolerance
        if task_type is None:
            return None
        return self.tolerances.get(task_type, TOLERANCES.get(task_type))


def reference_names(directory: Path = REFERENCE_DIR) -> list[str]:
    """Names of the shipped reference tables (``references/*.yaml``)."""
    return sorted(p.stem for p in directory.glob("*.yaml")) if directory.is_dir() else []


def load_reference(name: str | Path) -> Reference:
    """A reference table by name (``mteb_paper_eng``) or path.

    Raises:
        SpecError: unknown name (with close matches), unreadable file, or a malformed table
            (one line naming the file and the field).
    """
    import yaml

    path = Path(name)
    if not (path.suffix in (".yaml", ".yml") or path.is_file()):
        path = REFERENCE_DIR / f"{name}.yaml"
        if not path.is_file():
            known = reference_names()
            close = difflib.get_close_matches(str(name), known, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else f" (known: {', '.join(known) or 'none'})"
            raise SpecError(f"--reference: unknown reference table {str(name)!r}{hint}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise SpecError(f"{path}: cannot read ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: YAML syntax error ({getattr(err, 'problem', None) or err})") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a reference table must be a YAML mapping")
    try:
        return Reference(**raw, path=str(path))
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(part) for part in first["loc"])
        message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        raise SpecError(f"{path}: {loc}: {message}") from None


# ---------------------------------------------------------------- models and tasks


def _alias_name(alias: str) -> str | None:
    """The name a built-in alias records results under, without loading its weights."""
    from harness.registry import resolve_model

    try:
        ref = resolve_model(alias)
    except HarnessError:  # its package is not installed
        return None
    name = ref.kwargs.get("name")
    return str(name) if name else None


def builtin_models(wanted: Iterable[str] | None = None) -> dict[str, str]:
    """Recorded model name -> built-in alias (the first alias recording it wins).

    Args:
        wanted: stop resolving aliases once all these names are found (resolving one can
            unpack its model files).
    """
    import harness.models.aliases  # noqa: F401  (registers the built-in aliases)
    from harness.registry import _ALIASES  # model_aliases() would resolve (and unpack) every alias

    wanted = set(wanted) if wanted is not None else None
    found: dict[str, str] = {}
    for alias in list(_ALIASES):
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
    runnable: dict[str, str] = {}
    for given in models:
        name = _alias_name(given) if _is_alias(given) else None
        if name is None and given in ids:  # a table hub id: run the alias recording it, if any
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


def _is_alias(name: str) -> bool:
    import harness.models.aliases  # noqa: F401  (registers the built-in aliases)
    from harness.registry import _ALIASES

    return name in _ALIASES


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
        close = difflib.get_close_matches(unknown[0], known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise SpecError(f"--tasks: reference {reference.name!r} has no rows for task {unknown[0]!r}{hint}")
    return [row for row in reference.rows if row.task in tasks]


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1"


def data_available(spec: TaskSpec, data_root: Path | None) -> bool:
    """Whether ``spec``'s data may load: a builder, a local copy, or a hub fallback while online.

    A hub fallback is only tried (the runner skips the task when the download fails); a local
    copy that exists is taken as available even if it turns out malformed (the unit then fails).
    """
    from harness.data import default_data_root, resolve_local

    if spec.data.builder:
        return True
    if resolve_local(spec, data_root if data_root is not None else default_data_root()) is not None:
        return True
    return bool(spec.data.hf) and not hub_offline()


# ---------------------------------------------------------------- comparison (pure)


@dataclass(frozen=True)
class Outcome:
    """What happened to one (model, task) unit: ``status`` is the runner's (done, resumed,
    skipped, failed); ``scores`` split -> stored metrics, for done/resumed."""

    status: str
    scores: Mapping[str, Mapping[str, Any]] | None = None
    message: str = ""


def compare(
    reference: Reference,
    rows: Sequence[ReferenceRow],
    specs: Mapping[str, TaskSpec],
    runnable: Mapping[str, str],
    outcomes: Mapping[tuple[str, str], Outcome],
) -> Any:
    """One row per reference row: published, ours, difference and verdict.

    Args:
        reference: the table (for tolerances).
        rows: the reference rows to show, in order.
        specs: task name -> spec (a task without a spec gets ``no_spec``).
        runnable: table model id -> the model that was run for it (others: ``no_model``).
        outcomes: (table model id, task) -> :class:`Outcome` (absent: ``no_data``).

    Returns:
        A pandas DataFrame with :data:`COLUMNS`; ``delta`` = ours - published; ``status`` one of
        within / outside / failed / no_data / no_model / no_spec, ``verdict`` its mark.
    """
    import pandas as pd

    records = []
    for row in rows:
        spec = specs.get(row.task)
        metric = row.metric or (spec.main_score if spec else None)
        record: dict[str, Any] = {
            "task": row.task,
            "type": spec.type if spec else None,
            "model": row.model_id,
            "metric": metric,
            "published": float(row.score),
            "ours": math.nan,
            "delta": math.nan,
            "tolerance": reference.tolerance(row, spec.type if spec else None),
            "message": "",
            "note": row.note or "",
            "source": row.source,
        }
        outcome = outcomes.get((row.model_id, row.task))
        if spec is None:
            status = "no_spec"
        elif row.model_id not in runnable:
            status = "no_model"
        elif outcome is None or outcome.status == "skipped":
            status = "no_data"
            record["message"] = outcome.message if outcome else ""
        elif outcome.status == "failed" or outcome.scores is None:
            status, record["message"] = "failed", outcome.message or "no result"
        elif metric not in outcome.scores.get(row.split, {}):
            status, record["message"] = "failed", f"the result has no metric {metric!r} on split {row.split!r}"
        else:
            ours = float(outcome.scores[row.split][metric])
            record["ours"], record["delta"] = ours, ours - float(row.score)
            status = "within" if abs(record["delta"]) <= record["tolerance"] + 1e-12 else "outside"
        record["status"], record["verdict"] = status, VERDICT_MARK[status]
        records.append(record)
    return pd.DataFrame.from_records(records, columns=COLUMNS)


def exit_code(table: Any) -> int:
    """0 when every row that ran is within tolerance (rows not run do not count), else 1."""
    return 0 if not table["status"].isin(["outside", "failed"]).any() else 1


def summary_line(table: Any) -> str:
    counts = table["status"].value_counts()
    parts = [f"{counts.get(s, 0)} {STATUS_TEXT[s]}" for s in STATUS_TEXT if counts.get(s, 0)]
    return ", ".join(parts) or "no rows"


# ---------------------------------------------------------------- rendering


def _number(value: Any, digits: int = 5) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _delta(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{round(value, 6) + 0.0:+.6f}"  # + 0.0: no "-0.000000"


def _tolerance(value: Any) -> str:
    return "" if value is None else f"{value:g}"


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _verdict(record: Mapping[str, Any]) -> str:
    if record["status"] in ("within", "outside"):
        return record["verdict"]
    return f"{record['verdict']} {STATUS_TEXT[record['status']]}"


def display_rows(table: Any) -> list[dict[str, str]]:
    """The table's rows as display strings (one dict per row, keys as :data:`HEADER`)."""
    out = []
    for record in table.to_dict("records"):
        out.append(
            {
                "task": record["task"],
                "model": record["model"],
                "metric": _text(record["metric"]),
                "published": _number(record["published"]),
                "ours": _number(record["ours"]),
                "Δ": _delta(record["delta"]),
                "tolerance": _tolerance(record["tolerance"]),
                "verdict": _verdict(record),
                "status": record["status"],
            }
        )
    return out


HEADER = ["task", "model", "metric", "published", "ours", "Δ", "tolerance", "verdict"]


def _notes(table: Any) -> list[tuple[str, str]]:
    """(task, note) pairs, one per distinct note, in table order."""
    seen: dict[tuple[str, str], None] = {}
    for record in table.to_dict("records"):
        if _text(record["note"]):
            seen.setdefault((record["task"], record["note"]), None)
    return list(seen)


def _messages(table: Any) -> list[tuple[str, str, str]]:
    return [(r["task"], r["model"], r["message"]) for r in table.to_dict("records") if r["status"] == "failed" and _text(r["message"])]


def tolerance_policy(reference: Reference) -> list[tuple[str, float]]:
    return [(kind, reference.tolerances.get(kind, value)) for kind, value in TOLERANCES.items()]


def to_markdown(table: Any, reference: Reference) -> str:
    """The comparison as a Markdown document (table, tolerances, notes, sources)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"# Reproducing {reference.name}", "", f"Published numbers: {reference.source}", ""]
    lines.append("| " + " | ".join(HEADER) + " |")
    lines.append("|" + "|".join("---:" if h in ("published", "ours", "Δ", "tolerance") else "---" for h in HEADER) + "|")
    for row in display_rows(table):
        lines.append("| " + " | ".join(cell(row[h]) for h in HEADER) + " |")
    lines += ["", f"Result: {summary_line(table)}.", ""]
    lines.append(
        "Tolerance (largest |ours − published| counted as reproduced), per task type: "
        + ", ".join(f"{kind} {value:g}" for kind, value in tolerance_policy(reference))
        + ". ✔ within, ✘ outside (or the run failed), – not run."
    )
    notes = _notes(table)
    if notes:
        lines += ["", "Notes:", ""] + [f"- {cell(task)}: {cell(note)}" for task, note in notes]
    messages = _messages(table)
    if messages:
        lines += ["", "Failures:", ""] + [f"- {cell(t)} × {cell(m)}: {cell(msg)}" for t, m, msg in messages]
    sources = list(dict.fromkeys(r["source"] for r in table.to_dict("records")))
    if sources:
        lines += ["", "Sources of the published numbers:", ""] + [f"- {cell(s)}" for s in sources]
    return "\n".join(lines) + "\n"


_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Reproducing {{ reference.name }}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #1d1d1f; }
h1 { font-size: 1.4rem; margin-bottom: .2rem; }
p.meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .7rem; text-align: left; vertical-align: top; }
th { background: #f4f4f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; font-family: ui-monospace, monospace; }
tr.within td.verdict { color: #137333; font-weight: 600; }
tr.outside td.verdict, tr.failed td.verdict { color: #b3261e; font-weight: 600; }
tr.no_data td, tr.no_model td, tr.no_spec td { color: #777; }
ul { padding-left: 1.2rem; }
li { margin: .25rem 0; }
</style>
</head>
<body>
<h1>Reproducing {{ reference.name }}</h1>
<p class="meta">Published numbers: {{ reference.source }}</p>
<p><strong>Result:</strong> {{ summary }}.</p>
<table>
<thead><tr>{% for h in header %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in rows %}<tr class="{{ row.status }}">
<td>{{ row.task }}</td><td>{{ row.model }}</td><td>{{ row.metric }}</td>
<td class="num">{{ row.published }}</td><td class="num">{{ row.ours }}</td><td class="num">{{ row["Δ"] }}</td>
<td class="num">{{ row.tolerance }}</td><td class="verdict">{{ row.verdict }}</td>
</tr>
{% endfor %}</tbody>
</table>
<p>Tolerance (largest |ours − published| counted as reproduced), per task type:
{% for kind, value in tolerances %}{{ kind }} {{ "%g"|format(value) }}{% if not loop.last %}, {% endif %}{% endfor %}.
✔ within, ✘ outside (or the run failed), – not run.</p>
{% if notes %}<h2>Notes</h2>
<ul>{% for task, note in notes %}<li><strong>{{ task }}</strong>: {{ note }}</li>{% endfor %}</ul>{% endif %}
{% if messages %}<h2>Failures</h2>
<ul>{% for task, model, message in messages %}<li><strong>{{ task }}</strong> × {{ model }}: {{ message }}</li>{% endfor %}</ul>{% endif %}
<h2>Sources</h2>
<ul>{% for source in sources %}<li>{{ source }}</li>{% endfor %}</ul>
</body>
</html>
"""


def to_html(table: Any, reference: Reference) -> str:
    """The comparison as one self-contained HTML page (inline CSS, autoescaped, no network)."""
    from jinja2 import Environment

    env = Environment(autoescape=True)
    return env.from_string(_HTML).render(
        reference=reference,
        summary=summary_line(table),
        header=HEADER,
        rows=display_rows(table),
        tolerances=tolerance_policy(reference),
        notes=_notes(table),
        messages=_messages(table),
        sources=list(dict.fromkeys(r["source"] for r in table.to_dict("records"))),
    )


def render(table: Any, reference: Reference, out_dir: str | Path = DEFAULT_OUT_DIR) -> tuple[Path, Path]:
    """Write ``<out_dir>/<reference>.md`` and ``<out_dir>/<reference>.html``; return both paths."""
    from harness.store import atomic_write_bytes

    out = Path(out_dir)
    markdown, html = out / f"{reference.name}.md", out / f"{reference.name}.html"
    atomic_write_bytes(markdown, to_markdown(table, reference).encode("utf-8"))
    atomic_write_bytes(html, to_html(table, reference).encode("utf-8"))
    return markdown, html


# ---------------------------------------------------------------- the run


@dataclass
class Reproduction:
    """The outcome of :func:`run`: the comparison table and where it was written."""

    reference: Reference
    table: Any
    markdown_path: Path
    html_path: Path

    @property
    def exit_code(self) -> int:
        return exit_code(self.table)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def summary(self) -> str:
        return summary_line(self.table)

    def to_markdown(self) -> str:
        return to_markdown(self.table, self.reference)


def run(
    reference: str | Path = DEFAULT_REFERENCE,
    *,
    models: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    data_dir: str | Path | None = None,
    results_dir: str | Path | None = None,
    out_dir: str | Path | None = None,
    task_dirs: Sequence[str | Path] = (),
    batch_size: int = 32,
    verbose: bool = True,
) -> Reproduction:
    """Run a reference table's models on its available tasks and compare (see module docstring).

    Raises:
        SpecError / ModelError: unknown reference, task or model (the CLI exits 2).
    """
    from harness import api
    from harness.registry import discover_specs

    ref = load_reference(reference)
    rows = select_rows(ref, tasks)
    runnable, _ = select_models(ref, models)
    if models is not None:  # rows of the table's other models are left out, not "not available"
        rows = [row for row in rows if row.model_id in runnable]
    registry = discover_specs(task_dirs)
    specs = {row.task: registry[row.task] for row in rows if row.task in registry}
    data_root = Path(data_dir) if data_dir is not None else None
    available = [name for name, spec in specs.items() if data_available(spec, data_root)]
    outcomes: dict[tuple[str, str], Outcome] = {}
    for model_id, model in runnable.items():
        wanted = [t for t in available if any(r.task == t and r.model_id == model_id for r in rows)]
        if not wanted:
            continue
        result = api.evaluate(
            model,
            [specs[t] for t in wanted],
            data_dir=data_dir,
            results_dir=results_dir,
            batch_size=batch_size,
            verbose=verbose,
        )
        for unit in result.summary.outcomes:
            stored = unit.result
            scores = None
            if stored is not None and stored.data.harness.status == "run":  # never an imported score
                scores = {split: stored.scores(split) for split in stored.data.scores}
            outcomes[(model_id, unit.task)] = Outcome(unit.status, scores, unit.message or "")
    table = compare(ref, rows, specs, runnable, outcomes)
    markdown, html = render(table, ref, out_dir if out_dir is not None else DEFAULT_OUT_DIR)
    return Reproduction(ref, table, markdown, html)
