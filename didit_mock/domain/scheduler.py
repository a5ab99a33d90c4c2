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
#: What `Scheduler.at` returns, to cancel the job with.
JobId = int


class Scheduler:
    """A priority queue of jobs keyed by due time on one clock; ties run in scheduling order.

    The heap holds `(due, id, job, *args)` tuples, so ordering compares numbers, never objects. A
    job is named by its id: cancelling records the id, and the job is dropped when it comes up, or
    earlier when cancelled jobs are most of the heap (bounded memory). No handle object, and no
    tuple of arguments apart, is made per job: every session keeps an expiry job.
    """

    def __init__(self, clock: Clock):
        self._clock = clock
        self._heap: list[tuple[Any, ...]] = []  # (due, id, job, *args)
        self._ids = itertools.count()
        self._cancelled: set[JobId] = set()

    def at(self, due: float, job: Job, *args: Any) -> JobId:
        """Run `job(*args)` once the clock reaches the Unix time `due`; returns the job's id."""
        job_id = next(self._ids)
        heapq.heappush(self._heap, (due, job_id, job, *args))
        return job_id

    def after(self, seconds: float, job: Job, *args: Any) -> JobId:
        return self.at(self._clock.timestamp() + seconds, job, *args)

    def cancel(self, job_id: JobId) -> None:
        """Make sure the job does not run (a job that already ran is not affected)."""
        cancelled = self._cancelled
        cancelled.add(job_id)
        if len(cancelled) > 64 and len(cancelled) * 2 > len(self._heap):
            self._heap = [item for item in self._heap if item[1] not in cancelled]
            heapq.heapify(self._heap)
            cancelled.clear()  # ids of jobs that already ran go too: they never come up again

    def next_due(self) -> float | None:
        heap, cancelled = self._heap, self._cancelled
        while heap and heap[0][1] in cancelled:
            cancelled.discard(heapq.heappop(heap)[1])
        return heap[0][0] if heap else None

    def has_due(self) -> bool:
        """Whether the earliest job (perhaps a cancelled one) is due on the clock."""
        heap = self._heap
        return bool(heap) and heap[0][0] <= self._clock.timestamp()

    def run_due(self) -> int:
        """Run every job whose time has come, earliest first (jobs may schedule more)."""
        ran = 0
        now = self._clock.timestamp()
        while self._heap and self._heap[0][0] <= now:
            entry = heapq.heappop(self._heap)
            job_id = entry[1]
            if job_id in self._cancelled:
                self._cancelled.discard(job_id)
            else:
                entry[2](*entry[3:])
                ran += 1
        return ran

    def __len__(self) -> int:
        return sum(1 for item in self._heap if item[1] not in self._cancelled)
