"""Statistics over stored results: paired intervals and tests within a task, ranks across tasks.

Reads the results store only (never models, encoders or evaluators). Entry point::

    from harness.stats import compare
    from harness.store import iter_results

    comparison = compare(list(iter_results("results")), n_resamples=10_000, seed=0)
    comparison.pairs        # within-task pairwise differences, CIs, raw and Holm p-values
    comparison.intervals    # per (task, model) score, CI, rank tier
    comparison.summary      # across tasks: mteb means, Borda, mean rank, rank uncertainty
    comparison.cd_svg()     # critical-difference diagram

Modules: ``resample`` (main scores on resampled items, per kind of statistic), ``items``
(stored arrays -> statistic, per task type), ``within`` (one task), ``across`` (many tasks),
``cd`` (diagram), ``tables`` (the result tables, JSON), ``comparison`` (the entry point).
"""

from harness.stats.comparison import compare
from harness.stats.tables import Comparison, StatsError

__all__ = ["Comparison", "StatsError", "compare"]
