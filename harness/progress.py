"""One overall progress line for a run, on a terminal only: ``unit 7/24, about 2 min left``.

The estimate is texts remaining / measured throughput. A task's size (the texts one unit of it
embeds) is known once one unit of it has finished; a task not run yet counts as the mean of the
known ones. Throughput is measured per model over its finished units of this run (texts / wall
seconds since the previous unit finished); a model with no finished unit yet uses the run's
overall rate. Off a terminal (a log file, CI) nothing is drawn: the runner's one line per
finished unit is the whole output.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO


def about(seconds: float) -> str:
    """``about 2 min left`` and the like, rounded as a person would say it."""
    if seconds < 60:
        return "less than a minute left"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {minutes} min left"
    return f"about {minutes // 60} h {minutes % 60:02d} min left"


class RunProgress:
    """The overall bar of one run.

    Args:
        units: the (model, task) names still to run, in any order.
        stream: where to draw (default stderr); nothing is drawn unless it is a terminal.
        clock: seconds, monotonic (tests pass a fake one).
    """

    def __init__(self, units: Sequence[tuple[str, str]], stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.pending = list(units)
        self.total = len(self.pending)
        self.done = 0
        self.clock = clock
        self.last = clock()
        self.task_texts: dict[str, int] = {}
        self.measured: dict[str, list[float]] = {}  # model -> [texts, seconds]
        stream = stream or sys.stderr
        self.bar: Any = None
        if self.total and stream.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, file=stream, bar_format="{bar:20} {desc}", dynamic_ncols=True, leave=False, position=0)
            self.bar.set_description_str(self.line(), refresh=True)

    def finished(self, model: str, task: str, texts: int) -> None:
        """One unit is over; ``texts``: what it embedded (0 when skipped or failed)."""
        now = self.clock()
        if (model, task) in self.pending:
            self.pending.remove((model, task))
        self.done += 1
        if texts:
            self.task_texts.setdefault(task, texts)
            rate = self.measured.setdefault(model, [0.0, 0.0])
            rate[0] += texts
            rate[1] += max(now - self.last, 1e-6)
        self.last = now
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_description_str(self.line(), refresh=True)

    def seconds_left(self) -> float | None:
        """Texts remaining / throughput, summed per model; None before anything was measured."""
        if not self.measured:
            return None
        known = self.task_texts.values()
        mean = sum(known) / len(known)
        texts = sum(t for t, _ in self.measured.values())
        overall = texts / sum(s for _, s in self.measured.values())
        left = 0.0
        for model, task in self.pending:
            measured = self.measured.get(model)
            rate = measured[0] / measured[1] if measured else overall
            left += self.task_texts.get(task, mean) / rate
        return left

    def line(self) -> str:
        seconds = self.seconds_left()
        eta = about(seconds) if seconds is not None else "time left not known yet"
        return f"unit {self.done}/{self.total}, {eta}"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
