"""Critical-difference diagram (Demšar 2006) as an SVG string.

Models sit at their mean rank over tasks (1 = best, on the left); a bar joins each maximal set
of models no two of which differ significantly. Drawing is scikit-posthocs'
``critical_difference_diagram``; matplotlib and scikit-posthocs are imported here only.
"""

from __future__ import annotations

import io
import sys

import numpy as np
import pandas as pd


def p_matrix(posthoc: pd.DataFrame, column: str) -> pd.DataFrame:
    """Square symmetric matrix of ``posthoc[column]`` p-values (1 on the diagonal)."""
    models = list(dict.fromkeys([*posthoc["model_a"], *posthoc["model_b"]]))
    matrix = pd.DataFrame(np.ones((len(models), len(models))), index=models, columns=models)
    for a, b, p in posthoc[["model_a", "model_b", column]].itertuples(index=False):
        matrix.loc[a, b] = matrix.loc[b, a] = p
    return matrix


def cd_svg(mean_ranks: pd.Series, p_values: pd.DataFrame, *, alpha: float, cd: float | None, title: str) -> str:
    """Draw the diagram.

    Args:
        mean_ranks: mean rank per model (index = model names), 1 = best.
        p_values: square p-value matrix over the same models (adjusted where they should be).
        alpha: pairs with p < alpha are significantly different (no bar joins them).
        cd: Nemenyi's critical difference, drawn as a scale bar, or None.
        title: figure title (should name the test, the number of tasks and alpha).

    Returns:
        The SVG document as text.
    """
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules:  # leave an interactive session's backend alone
        matplotlib.use("Agg")
    import scikit_posthocs as sp
    from matplotlib.figure import Figure

    # the same input gives the same bytes; model names are plain text (no mathtext, no TeX), which
    # text artists read when created, so the settings hold for the whole drawing
    with matplotlib.rc_context({"svg.hashsalt": "harness", "text.parse_math": False, "text.usetex": False}):
        figure = Figure(figsize=(8, 1.2 + 0.35 * len(mean_ranks)))
        ax = figure.subplots()
        sp.critical_difference_diagram(mean_ranks, p_values, alpha=alpha, ax=ax)
        if cd is not None:  # drawn here, above the tick labels (scikit-posthocs draws it across them)
            start = float(mean_ranks.min())
            ax.plot([start, start + cd], [1.6, 1.6], color="k", linewidth=2)
            ax.text(start + cd / 2, 1.75, f"CD = {cd:.2g}", ha="center", va="bottom", fontsize=9)
            ax.set_ylim(top=2.4)
        ax.set_title(f"{title}\nmean rank (1 = best)", fontsize=9, pad=18)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buffer.getvalue()
