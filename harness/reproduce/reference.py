"""Reference tables: published scores, one row per (task, model), each with its source.

A table is a YAML file (``references/<name>.yaml``), validated strictly: an unknown key or a bad
value is one error line naming the file and the field.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import SpecError
from harness.plugins import suggest
from harness.tasktypes import get_task_type, task_type_names
from harness.yaml_safe import read_yaml

REFERENCE_DIR = Path(__file__).resolve().parent.parent.parent / "references"
DEFAULT_REFERENCE = "mteb_paper_eng"


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
        """The tolerance of ``row``: its own, else the table's for the type, else the type's
        (``harness.tasktypes``: largest |ours - published| still called a reproduction)."""
        if row.tolerance is not None:
            return row.tolerance
        if task_type is None:
            return None
        return self.tolerances.get(task_type, get_task_type(task_type).tolerance)

    def tolerance_policy(self) -> list[tuple[str, float]]:
        """(task type, tolerance) for every task type in display order, this table's overrides applied."""
        return [(kind, self.tolerances.get(kind, get_task_type(kind).tolerance)) for kind in task_type_names()]


def reference_names(directory: Path = REFERENCE_DIR) -> list[str]:
    """Names of the shipped reference tables (``references/*.yaml``)."""
    return sorted(p.stem for p in directory.glob("*.yaml")) if directory.is_dir() else []


def load_reference(name: str | Path) -> Reference:
    """A reference table by name (``mteb_paper_eng``) or path.

    Raises:
        SpecError: unknown name (with close matches), unreadable file, or a malformed table
            (one line naming the file and the field).
    """
    path = Path(name)
    if not (path.suffix in (".yaml", ".yml") or path.is_file()):
        path = REFERENCE_DIR / f"{name}.yaml"
        if not path.is_file():
            known = reference_names()
            hint = suggest(str(name), known, cutoff=0.6) or f" (known: {', '.join(known) or 'none'})"
            raise SpecError(f"--reference: unknown reference table {str(name)!r}{hint}")
    raw = read_yaml(path, "reference table")
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a reference table must be a YAML mapping")
    try:
        return Reference(**raw, path=str(path))
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(part) for part in first["loc"])
        message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        raise SpecError(f"{path}: {loc}: {message}") from None
