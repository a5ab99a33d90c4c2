"""Jobs due at an instant of a tenant clock, run once the clock has passed them.

The scheduler is driven, not threaded: the server runs `run_due()` before each request of the
tenant, after every clock move, and from a background ticker, so a transition happens when the
clock passes its deadline whether or not a request arrives at that moment.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any

from .clock import Clock

Job = Callable[..., None]


class ScheduledJob:
    """A job and its arguments in the queue, and the handle that can cancel it before it runs."""

    __slots__ = ("job", "args", "cancelled", "_scheduler")

    def __init__(self, job: Job, args: tuple[Any, ...], scheduler: Scheduler):
        self.job = job
        self.args = args
        self.cancelled = False
        self._scheduler = scheduler

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self.job, self.args = _noop, ()  # what the job would have used can be collected
            self._scheduler._forget_one()


def _noop() -> None:
    return None


class Scheduler:
    """A priority queue of jobs keyed by due time on one clock; ties run in scheduling order.

    The heap holds `(due, order, job)` tuples, so ordering compares numbers, never objects.
    """

    def __init__(self, clock: Clock):
        self._clock = clock
        self._heap: list[tuple[float, int, ScheduledJob]] = []
        self._counter = itertools.count()
        self._cancelled = 0

    def at(self, due: float, job: Job, *args: Any) -> ScheduledJob:
        """Run `job(*args)` once the clock reaches the Unix time `due`.

        Passing the arguments here rather than in a closure or `partial` keeps a job to one object
        (sessions each keep an expiry job).
        """
        handle = ScheduledJob(job, args, self)
        heapq.heappush(self._heap, (due, next(self._counter), handle))
        return handle

    def _forget_one(self) -> None:
        """Count a cancelled job; drop them all once they are most of the queue (bounded memory)."""
        self._cancelled += 1
        if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
            self._heap = [item for item in self._heap if not item[2].cancelled]
            heapq.heapify(self._heap)
            self._cancelled = 0

    def after(self, seconds: float, job: Job, *args: Any) -> ScheduledJob:
        return self.at(self._clock.timestamp() + seconds, job, *args)

    def next_due(self) -> float | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
            self._cancelled -= 1
        return self._heap[0][0] if self._heap else None

    def has_due(self) -> bool:
        """Whether the earliest job (perhaps a cancelled one) is due on the clock."""
        heap = self._heap
        return bool(heap) and heap[0][0] <= self._clock.timestamp()

    def run_due(self) -> int:
        """Run every job whose time has come, earliest first (jobs may schedule more)."""
        ran = 0
        now = self._clock.timestamp()
        while self._heap and self._heap[0][0] <= now:
            entry = heapq.heappop(self._heap)[2]
            if entry.cancelled:
                self._cancelled -= 1
            else:
                entry.cancelled = True  # done: a later cancel() of its handle changes nothing
                entry.job(*entry.args)
                ran += 1
        return ran

    def __len__(self) -> int:
        return sum(1 for item in self._heap if not item[2].cancelled)
