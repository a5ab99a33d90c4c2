"""The tenant scheduler: jobs run once the clock passes them, in order; cancelled jobs are dropped."""

from __future__ import annotations

from didit_mock.domain.clock import Clock
from didit_mock.domain.scheduler import Scheduler


def test_jobs_run_in_due_order_once_the_clock_passes_them() -> None:
    clock = Clock(start=1000.0, frozen=True)
    scheduler = Scheduler(clock)
    ran: list[str] = []
    scheduler.at(1010, lambda: ran.append("b"))
    scheduler.at(1005, lambda: ran.append("a"))
    scheduler.at(1010, lambda: ran.append("c"))
    assert scheduler.run_due() == 0
    clock.advance(9)
    assert scheduler.run_due() == 1 and ran == ["a"]
    clock.advance(1)
    assert scheduler.run_due() == 2 and ran == ["a", "b", "c"]
    assert scheduler.run_due() == 0


def test_cancelled_jobs_never_run_and_do_not_pile_up() -> None:
    clock = Clock(start=0.0, frozen=True)
    scheduler = Scheduler(clock)
    ran: list[int] = []
    handles = [scheduler.at(100 + i, lambda i=i: ran.append(i)) for i in range(1000)]
    for handle in handles[:900]:
        scheduler.cancel(handle)
    assert len(scheduler._heap) < 300  # compacted: cancelled jobs do not keep their memory
    assert len(scheduler) == 100
    clock.advance(2000)
    assert scheduler.run_due() == 100
    assert ran == list(range(900, 1000))


def test_cancelling_a_job_that_already_ran_changes_nothing() -> None:
    clock = Clock(start=0.0, frozen=True)
    scheduler = Scheduler(clock)
    ran: list[int] = []
    handle = scheduler.at(1, lambda: ran.append(1))
    clock.advance(1)
    assert scheduler.run_due() == 1
    scheduler.cancel(handle)
    assert scheduler.next_due() is None and len(scheduler) == 0
    later = [scheduler.at(2 + i, lambda i=i: ran.append(2 + i)) for i in range(3)]
    scheduler.cancel(later[1])
    clock.advance(10)
    assert scheduler.run_due() == 2 and ran == [1, 2, 4]
