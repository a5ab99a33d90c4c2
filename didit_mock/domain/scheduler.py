"""Jobs due at an instant of a tenant clock, run once the clock has passed them.

The scheduler is driven, not threaded: the server runs `run_due()` before each request of the
tenant, after every clock move, and from a background ticker, so a transition happens when the
clock passes its deadline whether or not a request arrives at that moment.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from .clock import Clock

Job = Callable[[], None]


@dataclass(order=True)
class _Entry:
    due: float
    order: int
    job: Job = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class ScheduledJob:
    """A handle that can cancel a job before it runs."""

    def __init__(self, entry: _Entry, scheduler: Scheduler):
        self._entry = entry
        self._scheduler = scheduler

    @property
    def due(self) -> float:
        return self._entry.due

    def cancel(self) -> None:
        if not self._entry.cancelled:
            self._entry.cancelled = True
            self._entry.job = _noop
            self._scheduler._forget_one()


def _noop() -> None:
    return None


class Scheduler:
    """A priority queue of jobs keyed by due time on one clock; ties run in scheduling order."""

    def __init__(self, clock: Clock):
        self._clock = clock
        self._heap: list[_Entry] = []
        self._counter = itertools.count()
        self._cancelled = 0

    def at(self, due: float, job: Job) -> ScheduledJob:
        """Run `job` once the clock reaches the Unix time `due`."""
        entry = _Entry(due, next(self._counter), job)
        heapq.heappush(self._heap, entry)
        return ScheduledJob(entry, self)

    def _forget_one(self) -> None:
        """Count a cancelled job; drop them all once they are most of the queue (bounded memory)."""
        self._cancelled += 1
        if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
            self._heap = [e for e in self._heap if not e.cancelled]
            heapq.heapify(self._heap)
            self._cancelled = 0

    def after(self, seconds: float, job: Job) -> ScheduledJob:
        return self.at(self._clock.timestamp() + seconds, job)

    def next_due(self) -> float | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
            self._cancelled -= 1
        return self._heap[0].due if self._heap else None

    def run_due(self) -> int:
        """Run every job whose time has come, earliest first (jobs may schedule more)."""
        ran = 0
        now = self._clock.timestamp()
        while self._heap and self._heap[0].due <= now:
            entry = heapq.heappop(self._heap)
            if entry.cancelled:
                self._cancelled -= 1
            else:
                entry.cancelled = True  # done: a later cancel() of its handle changes nothing
                entry.job()
                ran += 1
        return ran

    def __len__(self) -> int:
        return sum(1 for e in self._heap if not e.cancelled)
