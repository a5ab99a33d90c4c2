"""The request journal: every request a tenant makes, as the client saw it, for tests to assert on.

The gateway (`api/gateway.py`) records each request that names a tenant by `x-api-key` or by a
session token (the `Session-Token` header or a hosted `/session/{token}` path) into that tenant's
`RequestJournal`, a bounded ring of the latest entries. `GET /_mock/requests` reads it.
"""

from __future__ import annotations

import fnmatch
import itertools
import logging
import re
import threading
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from starlette.types import Message, Scope

from .domain.clock import iso

if TYPE_CHECKING:
    from .domain.tenant import Tenant, TenantRegistry
    from .web.request_head import RequestHead

DEFAULT_SIZE = 1000
BODY_LIMIT = 4096
#: The journal's own route is not journaled (reading it would change it).
EXCLUDED_PATHS = frozenset({"/_mock/requests"})
_HOSTED_TOKEN = re.compile(r"^/(?:[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*/)?session/([A-Za-z0-9_-]{6,64})(?:/|$)")
_TEXT_TYPES = ("json", "text/", "xml", "x-www-form-urlencoded", "javascript", "yaml")


class JournalEntry(NamedTuple):
    """One request and its response; bodies are text cut to `BODY_LIMIT` bytes (immutable)."""

    id: int
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    timestamp: float
    request_body: str
    request_truncated: bool
    response_body: str
    response_truncated: bool

    @property
    def at(self) -> str:
        return iso(datetime.fromtimestamp(self.timestamp, tz=timezone.utc))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "duration_ms": self.duration_ms,
            "at": self.at,
            "request_body": self.request_body,
            "request_truncated": self.request_truncated,
            "response_body": self.response_body,
            "response_truncated": self.response_truncated,
        }


class RequestJournal:
    """A tenant's latest requests (its component), oldest first, at most `size` of them.

    A request is kept as a plain tuple of what the gateway saw (`record`), turned into a
    `JournalEntry` when read: recording costs an append.
    """

    def __init__(self, tenant: Tenant):
        self.size = DEFAULT_SIZE
        self._entries: deque[JournalEntry | Recorded] = deque(maxlen=DEFAULT_SIZE)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def resize(self, size: int) -> None:
        """Keep at most `size` entries (at least one), the latest."""
        with self._lock:
            self.size = size
            if max(1, size) != self._entries.maxlen:
                self._entries = deque(self._entries, maxlen=max(1, size))

    def record(self, scope: Scope, response_start: Message | None, duration: float, timestamp: float,
               request_type: str, request_head: bytes, request_size: int, response_head: bytes,
               response_size: int) -> None:
        """Append a finished request, with the next id.

        No lock: the id and the append are each atomic (a request recorded from another thread
        meanwhile could at worst land one place out of id order). A body head of more than twice
        `BODY_LIMIT` (a first chunk taken whole, see `kept`) is cut here. Only strings, bytes and
        numbers are kept (the start message is not): such a tuple leaves the garbage collector's
        lists at its next pass, and holds no more memory than it needs.
        """
        if len(request_head) > 2 * BODY_LIMIT:
            request_head = request_head[:BODY_LIMIT]
        if len(response_head) > 2 * BODY_LIMIT:
            response_head = response_head[:BODY_LIMIT]
        status, response_type = 500, b""  # no response started
        if response_start is not None:
            status = response_start["status"]
            for name, value in response_start.get("headers", ()):
                if name == b"content-type" or name.lower() == b"content-type":
                    response_type = value  # decoded when read
                    break
        self._entries.append((
            next(self._ids), scope["method"], scope["path"], scope.get("query_string", b""), status,
            duration, timestamp, request_type, request_head, request_size, response_type, response_head,
            response_size,
        ))

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            return count

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            kept = list(self._entries)
        return _as_entries(kept)

    def export_state(self) -> tuple[int, list[JournalEntry]]:
        """The id the next entry will get, and the entries (for a state export)."""
        with self._lock:
            upcoming = next(self._ids)
            self._ids = itertools.count(upcoming)
            kept = list(self._entries)
        return upcoming, _as_entries(kept)

    def import_state(self, next_id: int, entries: Iterable[JournalEntry]) -> None:
        """Replace the entries and continue ids at `next_id` (a state import)."""
        with self._lock:
            self._entries.clear()
            self._entries.extend(entries)
            self._ids = itertools.count(next_id)

    def select(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        status: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Entries matching every given filter, oldest first; `limit` keeps the latest ones."""
        status_match = status_matcher(status) if status else None
        methods = {m.strip().upper() for m in method.split(",") if m.strip()} if method else None
        found = [
            e for e in self.entries()
            if (methods is None or e.method in methods)
            and (path is None or path_matches(path, e.path))
            and (status_match is None or status_match(e.status))
            and (since is None or e.timestamp >= since)
            and (until is None or e.timestamp <= until)
        ]
        if limit is not None:
            found = found[-limit:] if limit > 0 else []
        return found


def path_matches(pattern: str, path: str) -> bool:
    """A glob (`*`, `?`, `[...]`) matches the whole path; anything else is a prefix."""
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(path, pattern)
    return path.startswith(pattern)


def status_matcher(spec: str) -> Any:
    """`"429"`, `"4xx"` or a comma list of them, as a predicate on a status code.

    Raises ValueError for anything else.
    """
    exact: set[int] = set()
    classes: set[int] = set()
    for part in (p.strip().lower() for p in spec.split(",")):
        if not part:
            continue
        if len(part) == 3 and part.endswith("xx") and part[0].isdigit():
            classes.add(int(part[0]))
        elif part.isdigit():
            exact.add(int(part))
        else:
            raise ValueError(part)
    return lambda code: code in exact or code // 100 in classes


def journal_of(tenant: Tenant) -> RequestJournal:
    """The tenant's request journal."""
    return tenant.component(RequestJournal)


def tenant_of_request(registry: TenantRegistry, head: RequestHead, path: str) -> Tenant | None:
    """The tenant a request names: its API key, else its session token (header or hosted path).

    A refused key names no tenant, so no journal records it: the server log says why, once per key.
    """
    if head.api_key:
        tenant = head.tenant_of_key(registry)
        if tenant is None and registry.note_refused(head.api_key):
            logging.getLogger("didit_mock.auth").warning(
                "API key %r refused (Didit's 401/403 answer): the server accepts only %s "
                "(--api-key / DIDIT_MOCK_API_KEYS and the scenarios' tenants); "
                "further requests with this key are not logged",
                head.api_key, ", ".join(sorted(registry.allowed_keys)) or "no key")
        return tenant
    token = head.session_token
    if not token:
        match = _HOSTED_TOKEN.match(path)
        token = match.group(1) if match else ""
    return registry.by_token(token) if token else None


def body_text(head: bytes, size: int, content_type: str) -> str:
    """The journal's text of a body of `size` bytes whose first bytes are `head`."""
    if not size:
        return ""
    kind = content_type.split(";")[0].strip().lower()
    if kind and not any(t in kind for t in _TEXT_TYPES):
        return f"<{size} bytes of {kind}>"
    return head[:BODY_LIMIT].decode("utf-8", errors="replace" if size <= BODY_LIMIT else "ignore")


def kept(head: bytes, chunk: bytes) -> bytes:
    """`head` followed by as much of `chunk` as `BODY_LIMIT` leaves room for.

    A first chunk is kept whole, by reference (no copy: cached decision bodies are shared, not
    duplicated); `RequestJournal.record` cuts one of more than twice the limit, and `body_text`
    cuts the rest when the journal is read. Callers skip this call for a first chunk.
    """
    if not head:
        return chunk
    room = BODY_LIMIT - len(head)
    if room <= 0 or not chunk:
        return head
    return head + chunk[:room]


def journal_for(tenant: Tenant | None, path: str, size: int) -> RequestJournal | None:
    """The journal a request of `tenant` on `path` goes into, or None when it is not journaled."""
    if tenant is None or size <= 0 or path in EXCLUDED_PATHS:
        return None
    journal = tenant.component(RequestJournal)
    if journal.size != size:
        journal.resize(size)
    return journal


#: What the journal keeps of a request (`RequestJournal.record`): id, method, path, query, status
#: (500 when no response was started), duration in seconds, timestamp, request content type,
#: request body head and size, response content type (bytes), response body head and size.
Recorded = tuple[int, str, str, bytes, int, float, float, str, bytes, int, bytes, bytes, int]


def _entry(kept: Recorded) -> JournalEntry:
    """A recorded request as a journal entry."""
    (entry_id, method, path, query, status, duration, started, request_type, request_head,
     request_size, response_type, response_head, response_size) = kept
    return JournalEntry(
        id=entry_id,
        method=method,
        path=path,
        query=query.decode("latin-1"),
        status=int(status),
        duration_ms=round(duration * 1000, 3),
        timestamp=started,
        request_body=body_text(request_head, request_size, request_type),
        request_truncated=request_size > BODY_LIMIT,
        response_body=body_text(response_head, response_size, response_type.decode("latin-1")),
        response_truncated=response_size > BODY_LIMIT,
    )


def _as_entries(kept: Iterable[Any]) -> list[JournalEntry]:
    return [e if isinstance(e, JournalEntry) else _entry(e) for e in kept]


def entries_as_dicts(entries: Iterable[JournalEntry]) -> list[dict[str, Any]]:
    return [e.as_dict() for e in entries]
