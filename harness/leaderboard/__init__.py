"""Leaderboard rendering from the results store (reads the store only)."""

from harness.leaderboard.render import render_report

__all__ = ["render_report"]
