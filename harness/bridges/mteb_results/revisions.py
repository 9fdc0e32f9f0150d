"""Several revision folders of one model: which result of a task is kept, as mteb's
``BenchmarkResults.join_revisions`` keeps it (mteb 2.26; its rules, re-stated here).

For each (model name, task), every candidate gets a priority:

* +1000 when its revision is the model's main revision in mteb's model registry (the catalogue's
  ``model_revisions``);
* +100 when its mteb version parses as a version (a range such as ``2.12.16-2.15.4`` does not);
* +10 when it has a revision at all (not null, ``external`` or ``no_revision_available``).

The highest priority wins, then the newest mteb version; the rest keep their reading order (mteb's
is the file system's; ours is sorted by path, so an exact tie is decided the same way every time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import Version

from harness.benchmarks import mteb_main_revision
from harness.bridges.mteb_results.layout import parse_version
from harness.bridges.mteb_results.meta import NO_REVISION

_NO_REVISION = (None, "external", NO_REVISION)
_OLDEST = Version("0")


@dataclass(frozen=True)
class Candidate:
    """One (model, task) result read from one revision folder."""

    model: str
    revision: str | None
    task: str
    mteb_version: str | None
    path: Path
    payload: Any  # what the caller carries along (the parsed file and the model's facts)

    def priority(self) -> tuple[int, int, Version]:
        main = mteb_main_revision(self.model)
        version = parse_version(self.mteb_version)
        points = 1000 * (main is not None and self.revision == main) + 100 * (version is not None) \
            + 10 * (self.revision not in _NO_REVISION)
        return points, version is not None, version or _OLDEST

    def rule(self) -> str:
        """Why this candidate wins, in words for the page."""
        points = self.priority()[0]
        if points >= 1000:
            return "mteb's main revision of the model"
        return "newest mteb version" if points >= 100 else "a revision with a version or a revision name"


def join_revisions(candidates: Iterable[Candidate]) -> dict[tuple[str, str], tuple[Candidate, list[Candidate]]]:
    """(model, task) -> (the kept candidate, the others), each group in path order first."""
    groups: dict[tuple[str, str], list[Candidate]] = {}
    for candidate in sorted(candidates, key=lambda c: str(c.path)):
        groups.setdefault((candidate.model, candidate.task), []).append(candidate)
    out = {}
    for key, group in groups.items():
        ranked = sorted(group, key=Candidate.priority, reverse=True)  # stable: ties keep path order
        out[key] = (ranked[0], ranked[1:])
    return out


def join_record(kept: Candidate, others: list[Candidate]) -> dict[str, Any]:
    """What the stored result says about the join (``harness.imported.join``)."""
    return {
        "rule": kept.rule() if others else "only one revision",
        "considered": [{"revision": c.revision, "mteb_version": c.mteb_version, "kept": c is kept} for c in [kept, *others]],
    }
