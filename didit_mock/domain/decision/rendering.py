"""The renderings callers get: the v3 decision, the legacy v2 one and the list row of a session.

Each is rendered once per session revision and kept as JSON (`cache`): the `*_json` functions
return the cached bytes, the others fresh dicts (decoded from them) that callers may mutate.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .assembly import build_decision
from .cache import DecisionCache, Entry, fingerprint
from .rows import build_row
from .v2 import build_v2

if TYPE_CHECKING:
    from ..sessions import Session
    from ..tenant import Tenant


def _entry(tenant: Tenant, session: Session) -> Entry:
    cache = tenant.component(DecisionCache)
    mark = fingerprint(tenant, session)
    entry = cache.get(session.session_id, mark)
    if entry is None:
        entry = Entry(mark, _dumps(build_decision(tenant, session)))
        cache.put(session.session_id, entry)
    return entry


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render_decision(tenant: Tenant, session: Session) -> dict[str, Any]:
    """The v3 decision of a session (§6), as a fresh dict the caller may mutate or serialise.

    Cached per session revision: a repeated call only decodes the cached JSON (no Faker work).
    """
    return json.loads(_entry(tenant, session).body)


def decision_json(tenant: Tenant, session: Session) -> bytes:
    """The v3 decision already serialised (compact UTF-8 JSON), straight from the cache."""
    return _entry(tenant, session).body


def render_decision_v2(tenant: Tenant, session: Session) -> dict[str, Any]:
    """The legacy v2 decision: singular feature objects (first v3 item without `node_id`)."""
    entry = _entry(tenant, session)
    if entry.v2 is None:
        entry.v2 = _dumps(build_v2(json.loads(entry.body)))
    return json.loads(entry.v2)


def list_row(tenant: Tenant, session: Session) -> dict[str, Any]:
    """The KYC row of GET /v3/sessions/ (§5.3), every key present; a fresh dict."""
    return json.loads(list_row_json(tenant, session))


def list_row_json(tenant: Tenant, session: Session) -> bytes:
    """The list row already serialised (compact UTF-8 JSON), straight from the cache."""
    entry = _entry(tenant, session)
    if entry.row is None:
        entry.row = _dumps(build_row(tenant, session, json.loads(entry.body)))
    return entry.row
