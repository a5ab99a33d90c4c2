"""`FailureThrottle`: a few wrong admin tokens per client and minute, then the client waits."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

#: Wrong tokens a client may send per window before it is made to wait.
FAILURES_ALLOWED = 5
#: The window, in seconds: a failure older than this no longer counts.
WINDOW_SECONDS = 60.0
#: Clients remembered at most; past it the ones whose failures are oldest are forgotten first.
MAX_CLIENTS = 10_000


class FailureThrottle:
    """Counts failures per client address over a sliding window (one per app, not per process).

    `retry_after(client)` is 0 while the client may try again, else the whole seconds it must wait
    until its oldest counted failure leaves the window.
    """

    def __init__(
        self,
        limit: int = FAILURES_ALLOWED,
        window: float = WINDOW_SECONDS,
        now: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ):
        self.limit = limit
        self.window = window
        self.now = now
        self.max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str) -> int:
        """Seconds `client` must wait before its next try (0: it may try now)."""
        with self._lock:
            times = self._recent(client, self.now())
            if times is None or len(times) < self.limit:
                return 0
            return max(1, math.ceil(times[0] + self.window - self.now()))

    def failed(self, client: str) -> None:
        """Count one failure of `client` (a wrong token)."""
        with self._lock:
            now = self.now()
            times = self._recent(client, now)
            if times is None:
                if len(self._failures) >= self.max_clients:
                    self._forget_oldest(now)
                times = self._failures[client] = deque(maxlen=self.limit)
            times.append(now)

    def _recent(self, client: str, now: float) -> deque[float] | None:
        """The client's failures still in the window (None when it has none)."""
        times = self._failures.get(client)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times

    def _forget_oldest(self, now: float) -> None:
        """Make room: drop clients with no failure left in the window, else the stalest ones."""
        for client in list(self._failures):
            self._recent(client, now)
        excess = len(self._failures) - self.max_clients + 1
        if excess > 0:
            stalest = sorted(self._failures, key=lambda c: self._failures[c][-1])[:excess]
            for client in stalest:
                del self._failures[client]
