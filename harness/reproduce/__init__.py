"""Reproduce published numbers: a reference table's models on its tasks, ours beside theirs.

A reference table (``references/<name>.yaml``, :mod:`.reference`) holds published scores, one row
per (task, model), each with its source. :mod:`.select` maps the table's models (hub ids) to
runnable harness models and finds the tasks whose data is available; :mod:`.compare` sets our
score of each row's metric beside the published one under a per-task-type tolerance; and
:mod:`.render` writes the comparison as Markdown and HTML. The run loop itself is
:func:`harness.api.reproduce` (results land in the normal store; finished units are resumed).
"""

from harness.reproduce.compare import COLUMNS, Outcome, compare, exit_code, summary_line
from harness.reproduce.reference import DEFAULT_REFERENCE, Reference, ReferenceRow, TypeAverage, load_reference, reference_names
from harness.reproduce.render import DEFAULT_OUT_DIR, Reproduction, render, to_html, to_markdown
from harness.reproduce.select import builtin_models, data_available, select_models, select_rows

__all__ = [
    "COLUMNS",
    "DEFAULT_OUT_DIR",
    "DEFAULT_REFERENCE",
    "Outcome",
    "Reference",
    "ReferenceRow",
    "Reproduction",
    "TypeAverage",
    "builtin_models",
    "compare",
    "data_available",
    "exit_code",
    "load_reference",
    "reference_names",
    "render",
    "select_models",
    "select_rows",
    "summary_line",
    "to_html",
    "to_markdown",
]
