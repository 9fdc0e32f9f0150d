"""What changed between two runs: per-task paired tests, the items that moved, a regression gate.

Reads the results store only (per-item arrays, and the task data for the items' texts)::

    import harness

    result = harness.diff("minilm-l6", "minilm-l3-onnx", results_dir="results")
    result.tasks         # per task: delta (B - A), CI, p, Holm p over tasks, verdict, MDE
    result.moved         # per task: the items B lost and gained most on
    result.failed        # the gate of ``diff --fail-on-regression``

Modules: ``compute`` (names, tasks, the paired tests via ``harness.stats.compare``), ``items``
(per-item values, the largest changes), ``texts`` (what to show per item), ``gate``,
``result`` (the entry point), ``render`` (terminal table, HTML page).
"""

from harness.rundiff.compute import DiffError
from harness.rundiff.result import DiffResult, diff, diff_results

__all__ = ["DiffError", "DiffResult", "diff", "diff_results"]
