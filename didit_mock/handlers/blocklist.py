"""The blocklist routes: POST /v3/blocklist/add/, POST /v3/blocklist/remove/, GET /v3/blocklist/."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..domain import blocklist as domain
from ..web.http import json_response
from ..web.operations import Call, operation
from ..web.pagination import page_bounds, page_urls
from ..web.validation import BodyRules

DEFAULT_LIMIT = 50
ADDED = "Successfully added to blocklist."
REMOVED = "Successfully removed from blocklist."
NO_ADD_FLAG = "At least one blocklist flag must be true."
NO_REMOVE_FLAG = "At least one unblock flag must be true."


def _types(body: dict[str, Any], prefix: str) -> list[str]:
    return [kind for kind in domain.ITEM_TYPES if body.get(f"{prefix}_{kind}")]


def _one_flag(prefix: str, message: str) -> Any:
    """A rule of the whole body: at least one of the four per-type flags is true."""

    def check(body: dict[str, Any]) -> dict[str, Any]:
        if not _types(body, prefix):
            raise ValueError(message)
        return body

    return check


ADD = BodyRules({"": _one_flag("blocklist", NO_ADD_FLAG)})
REMOVE = BodyRules({"": _one_flag("unblock", NO_REMOVE_FLAG)})


@operation("blocklist_add", body=ADD)
async def add(call: Call) -> Response:
    tenant = call.tenant
    body: dict[str, Any] = call.body
    with tenant.lock:
        domain.add(tenant, body["session_id"], _types(body, "blocklist"))
    return json_response({"message": ADDED})


@operation("blocklist_remove", body=REMOVE)
async def remove(call: Call) -> Response:
    tenant = call.tenant
    body: dict[str, Any] = call.body
    with tenant.lock:
        domain.remove(tenant, body["session_id"], _types(body, "unblock"))
    return json_response({"message": REMOVED})


@operation("blocklist_list")
async def listing(call: Call) -> Response:
    tenant = call.tenant
    query = call.query
    item_type = query.get("item_type") or None  # a choice of the spec's, checked before the handler
    limit, offset = page_bounds(query, DEFAULT_LIMIT)
    with tenant.lock:
        entries = domain.blocklist(tenant).newest_first(item_type)
        page = [entry.to_dict() for entry in entries[offset:offset + limit]]
    following, preceding = page_urls(call.request, len(entries), limit, offset)
    return json_response({"count": len(entries), "next": following, "previous": preceding, "results": page})

