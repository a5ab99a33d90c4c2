"""The real API's rate limits: sliding windows per API key on the tenant clock.

A request falls into one or more scopes (`scopes_for`). It is admitted only when every one of
its scopes has room; then, and only then, it is counted in each of them. A refused request
counts nowhere and the first of its scopes that is full answers the 429.

Every window keeps the instants of the requests it admitted inside its span, pruned as the clock
moves, so it never holds more entries than its limit (memory is bounded per scope).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import RateLimited

if TYPE_CHECKING:
    from .tenant import Tenant

MINUTE = 60.0
DAY = 24 * 3600.0

SESSION_CREATE = "session-create"
GENERIC_GET = "generic-get"
GENERIC_WRITE = "generic-write"
INGEST_WRITE = "ingest-write"
DECISION = "decision"
GENERATE_PDF = "generate-pdf"
KYC_DATA_UPDATE = "kyc-data-update"
POA_DATA_UPDATE = "poa-data-update"
SANDBOX_QUOTA = "sandbox-quota"


@dataclass(frozen=True)
class Scope:
    """One limit: its name, the documented limit, the window and the 429 text (`{limit}`)."""

    name: str
    limit: int
    window: float
    message: str
    #: Whether the 429 carries `X-RateLimit-*` headers (the sandbox quota does not).
    rate_headers: bool = True


SCOPES: dict[str, Scope] = {
    s.name: s
    for s in (
        Scope(SESSION_CREATE, 600, MINUTE,
              "Session creation rate limit exceeded. You can make up to {limit} requests per minute."),
        Scope(GENERIC_GET, 600, MINUTE,
              "GET request rate limit exceeded. You can make up to {limit} requests per minute."),
        Scope(GENERIC_WRITE, 300, MINUTE,
              "Write request rate limit exceeded. You can make up to {limit} requests per minute."),
        # UNCONFIRMED text: the docs name the ingest scope but not its message; written like its siblings.
        Scope(INGEST_WRITE, 600, MINUTE,
              "Ingest request rate limit exceeded. You can make up to {limit} requests per minute."),
        # UNCONFIRMED text: only older docs have a dedicated decision limit (100/min), with no message.
        Scope(DECISION, 600, MINUTE,
              "Session decision rate limit exceeded. You can make up to {limit} requests per minute."),
        Scope(GENERATE_PDF, 50, MINUTE,
              "Session PDF generation rate limit exceeded. You can make up to {limit} requests per minute."),
        Scope(KYC_DATA_UPDATE, 10, MINUTE,
              "Session KYC data update rate limit exceeded. You can make up to {limit} requests per minute."),
        Scope(POA_DATA_UPDATE, 10, MINUTE,
              "Session POA data update rate limit exceeded. You can make up to {limit} requests per minute."),
        Scope(SANDBOX_QUOTA, 500, DAY,
              "Sandbox session quota exceeded ({limit} sessions per 24h). Wait for the window to reset. "
              "Expected available in {retry_after} seconds.", rate_headers=False),
    )
}

WRITE_METHODS = frozenset({"POST", "PATCH", "DELETE", "PUT"})
#: Operation scopes counted before the generic scope of their method (the others replace it).
_BEFORE_GENERIC = frozenset({GENERATE_PDF, DECISION, KYC_DATA_UPDATE, POA_DATA_UPDATE})


def scopes_for(method: str, scope: str | None, *, sandbox: bool, decision_limit: int) -> list[str]:
    """The scopes a request counts against, in the order they are checked.

    `scope` is the operation's own scope (from the overlay), None for the generic one of its method.
    """
    method = method.upper()
    if method in ("GET", "HEAD"):
        generic = GENERIC_GET
    elif method in WRITE_METHODS:
        generic = GENERIC_WRITE
    else:
        return []
    if scope is None:
        return [generic]
    if scope == DECISION and decision_limit == SCOPES[GENERIC_GET].limit:
        return [generic]
    if scope == SESSION_CREATE:
        return [SESSION_CREATE, SANDBOX_QUOTA] if sandbox else [SESSION_CREATE]
    if scope in _BEFORE_GENERIC:
        return [scope, generic]
    return [scope]


def scaled(limit: int, scale: float) -> int:
    """A limit multiplied by the tenant's scale, never below 1."""
    return max(1, round(limit * scale))


class Window:
    """The instants admitted in the last `span` seconds, oldest first."""

    def __init__(self, span: float):
        self.span = span
        self._hits: deque[float] = deque()

    def prune(self, now: float) -> None:
        hits = self._hits
        if hits and hits[-1] > now:  # the clock was moved back: the future is forgotten
            hits.clear()
        edge = now - self.span
        while hits and hits[0] <= edge:
            hits.popleft()

    def used(self, now: float) -> int:
        self.prune(now)
        return len(self._hits)

    def add(self, now: float, count: int = 1) -> None:
        self.prune(now)
        self._hits.extend([now] * count)

    def trim(self, limit: int) -> None:
        """Keep at most `limit` entries (the newest): the memory bound when limits shrink."""
        while len(self._hits) > limit:
            self._hits.popleft()

    def reopens_at(self, limit: int, now: float) -> float:
        """When a window holding `limit` or more entries will admit one more request."""
        self.prune(now)
        excess = len(self._hits) - limit
        if excess < 0:
            return now
        return self._hits[excess] + self.span

    def resets_at(self, now: float) -> float:
        """When the oldest entry leaves the window (`now` for an empty window)."""
        self.prune(now)
        return self._hits[0] + self.span if self._hits else now


@dataclass(frozen=True)
class ScopeState:
    name: str
    limit: int
    used: int
    remaining: int
    reset: int

    def as_dict(self) -> dict[str, int | str]:
        return {"limit": self.limit, "used": self.used, "remaining": self.remaining, "reset": self.reset}


class RateLimiter:
    """A tenant's windows (its component), checked and counted under the tenant's lock."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self._windows: dict[str, Window] = {}

    # ---------------------------------------------------------------- configuration

    @property
    def enabled(self) -> bool:
        return self.tenant.config.rate_limits_enabled

    def limit(self, scope: str) -> int:
        base = self.tenant.config.decision_rate_limit if scope == DECISION else SCOPES[scope].limit
        return scaled(base, self.tenant.config.rate_limit_scale)

    def window(self, scope: str) -> Window:
        window = self._windows.get(scope)
        if window is None:
            window = self._windows[scope] = Window(SCOPES[scope].window)
        return window

    # ---------------------------------------------------------------- admission

    def admit(self, method: str, scope: str | None = None) -> list[str]:
        """Count the request in each of its scopes, or raise `RateLimited` and count nothing.

        `scope` is the operation's own scope (see `scopes_for`). Returns the scopes counted in.
        """
        if not self.enabled:
            return []
        scopes = scopes_for(method, scope, sandbox=self.tenant.is_sandbox,
                            decision_limit=self.tenant.config.decision_rate_limit)
        with self.tenant.lock:
            now = self.tenant.clock.timestamp()
            for name in scopes:
                if name == SANDBOX_QUOTA:
                    continue  # counted per created session (see `count_created_session`)
                limit = self.limit(name)
                if self.window(name).used(now) >= limit:
                    raise self.refusal(name, now)
            quota = SANDBOX_QUOTA in scopes
            if quota and self.window(SANDBOX_QUOTA).used(now) >= self.limit(SANDBOX_QUOTA):
                raise self.refusal(SANDBOX_QUOTA, now)
            for name in scopes:
                if name != SANDBOX_QUOTA:
                    window = self.window(name)
                    window.add(now)
                    window.trim(self.limit(name))
        return scopes

    def count_created_session(self) -> None:
        """A sandbox session was created: it takes a place in the 24-hour quota (while limits are on)."""
        if not self.enabled or not self.tenant.is_sandbox:
            return
        with self.tenant.lock:
            window = self.window(SANDBOX_QUOTA)
            window.add(self.tenant.clock.timestamp())
            window.trim(self.limit(SANDBOX_QUOTA))

    def refusal(self, scope: str, now: float) -> RateLimited:
        """The 429 of a full scope, with the documented text and headers."""
        spec = SCOPES[scope]
        limit = self.limit(scope)
        reopens = self.window(scope).reopens_at(limit, now)
        retry_after = max(1, math.ceil(reopens - now))
        message = spec.message.format(limit=limit, retry_after=retry_after)
        headers = {"Retry-After": str(retry_after)}
        if spec.rate_headers:
            headers.update({
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(math.ceil(reopens)),
            })
        return RateLimited(message, headers)

    # ---------------------------------------------------------------- inspection and test support

    def consume(self, scope: str, count: int) -> None:
        """Count `count` requests in `scope` now, as if they had been sent (tests pre-fill this way)."""
        if scope not in SCOPES:
            raise KeyError(scope)
        with self.tenant.lock:
            now = self.tenant.clock.timestamp()
            window = self.window(scope)
            room = max(0, self.limit(scope) - window.used(now))
            window.add(now, min(count, room))

    def clear(self) -> None:
        with self.tenant.lock:
            self._windows.clear()

    def export_windows(self) -> dict[str, list[float]]:
        """The admitted instants of every non-empty window, oldest first (for a state export)."""
        with self.tenant.lock:
            return {name: list(w._hits) for name, w in self._windows.items() if w._hits}

    def restore_windows(self, windows: dict[str, list[float]]) -> None:
        """Replace every window with `windows` (scope name -> instants): a state import."""
        with self.tenant.lock:
            self._windows.clear()
            for name, hits in windows.items():
                self.window(name)._hits.extend(sorted(hits))

    def state(self, scope: str) -> ScopeState:
        now = self.tenant.clock.timestamp()
        limit = self.limit(scope)
        window = self.window(scope)
        used = window.used(now)
        return ScopeState(scope, limit, used, max(0, limit - used), math.ceil(window.resets_at(now)))

    def snapshot(self) -> dict[str, object]:
        config = self.tenant.config
        with self.tenant.lock:
            scopes = {name: self.state(name).as_dict() for name in SCOPES
                      if name != SANDBOX_QUOTA or self.tenant.is_sandbox}
        return {
            "enabled": config.rate_limits_enabled,
            "scale": config.rate_limit_scale,
            "decision_limit": config.decision_rate_limit,
            "scopes": scopes,
        }


def limiter(tenant: Tenant) -> RateLimiter:
    """The tenant's rate limiter."""
    return tenant.component(RateLimiter)


def admit(tenant: Tenant, method: str, scope: str | None) -> None:
    """`RateLimiter.admit` for a request of `tenant`, looked up only while its limits are on."""
    if tenant.config.rate_limits_enabled:
        limiter(tenant).admit(method, scope)


def count_sandbox_session(tenant: Tenant, session: object) -> None:
    if tenant.config.rate_limits_enabled:
        limiter(tenant).count_created_session()
