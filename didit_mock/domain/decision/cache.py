"""A tenant's rendered decisions as compact UTF-8 JSON, keyed by session and revision (LRU)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..sessions import Session
    from ..tenant import Tenant

CACHE_SIZE = 2048


@dataclass(slots=True)
class Entry:
    """One session's renderings as compact UTF-8 JSON (decoded into fresh dicts for callers)."""

    fingerprint: tuple[Any, ...]
    body: bytes
    row: bytes | None = None
    v2: bytes | None = None


class DecisionCache:
    """A tenant's rendered decisions, keyed by session and revision (LRU); a tenant component."""

    def __init__(self, tenant: object):
        self.lock = threading.Lock()
        self.entries: OrderedDict[str, Entry] = OrderedDict()

    def get(self, session_id: str, fingerprint: tuple[Any, ...]) -> Entry | None:
        with self.lock:
            entry = self.entries.get(session_id)
            if entry is None or entry.fingerprint != fingerprint:
                return None
            self.entries.move_to_end(session_id)
            return entry

    def put(self, session_id: str, entry: Entry) -> None:
        with self.lock:
            self.entries[session_id] = entry
            self.entries.move_to_end(session_id)
            while len(self.entries) > CACHE_SIZE:
                self.entries.popitem(last=False)


def fingerprint(tenant: Tenant, session: Session) -> tuple[Any, ...]:
    """What a rendering depends on: a cached entry with another fingerprint is stale."""
    return (id(session), session.revision, session.status, session.expires_at, session.finished_at,
            len(session.reviews), session.callback, tenant.environment, tenant.config.public_base_url,
            id(session.outcomes), id(session.imported_decision))
