"""The tenant clock: real by default, can be frozen, set and advanced.

This module is the only place in the domain that reads the wall clock; every time rule asks a
`Clock` instead, so tests move time rather than sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

WallClock = Callable[[], float]


#: The system's wall clock (the builtin itself: it is read for every request).
_system_time: WallClock = time.time


class Clock:
    """A clock that follows the wall clock plus an offset, or stands frozen at a fixed instant."""

    def __init__(self, wall: WallClock = _system_time, start: float | None = None, frozen: bool = False):
        self._wall = wall
        self._offset = 0.0 if start is None else start - wall()
        self._frozen_at: float | None = None
        self._lock = threading.Lock()
        if frozen:
            self._frozen_at = float(start) if start is not None else wall()

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def timestamp(self) -> float:
        """Seconds since the Unix epoch on this clock."""
        frozen = self._frozen_at
        return frozen if frozen is not None else self._wall() + self._offset

    def now(self) -> datetime:
        """The current instant as an aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp(), tz=timezone.utc)

    def advance(self, seconds: float) -> None:
        """Move the clock forward (frozen or not) by `seconds`."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds

    def freeze(self) -> None:
        """Stop the clock at the current instant."""
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = self._wall() + self._offset

    def set(self, instant: datetime | float) -> None:
        """Jump to `instant` (keeps frozen clocks frozen)."""
        ts = instant.timestamp() if isinstance(instant, datetime) else float(instant)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = ts
            else:
                self._offset = ts - self._wall()

    def real(self) -> None:
        """Follow the wall clock again, with no offset."""
        with self._lock:
            self._frozen_at = None
            self._offset = 0.0

    def snapshot(self) -> dict:
        return {"now": iso(self.now()), "timestamp": self.timestamp(), "frozen": self.frozen}

    def restore(self, snapshot: dict) -> None:
        self.real()
        self.set(float(snapshot["timestamp"]))
        if snapshot.get("frozen"):
            self.freeze()

    def export_state(self) -> dict:
        """The snapshot plus the offset from the wall clock (for a state export)."""
        with self._lock:
            return {**self.snapshot(), "offset": self._offset}

    def import_state(self, state: dict) -> None:
        """Restore `export_state()`: a frozen clock at its instant, a running one at its offset
        (so a running clock keeps following the wall clock across a restart)."""
        with self._lock:
            self._offset = float(state.get("offset", 0.0))
            self._frozen_at = float(state["timestamp"]) if state.get("frozen") else None


def iso(moment: datetime) -> str:
    """ISO-8601 with microseconds and `Z`, the format of Didit's JSON bodies."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def iso_offset(moment: datetime) -> str:
    """ISO-8601 with a `+00:00` offset, the format of OTP `created_at` and lifecycle timestamps."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 instant (a trailing `Z` allowed); naive values are taken as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
