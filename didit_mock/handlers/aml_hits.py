"""`PATCH /v3/session/{id}/update-aml-hit-status/` and its bulk form (§1.26)."""

from __future__ import annotations

from typing import Any

from ..domain.aml_hits import set_hit_statuses
from ..domain.errors import ValidationFailed
from ..web.operations import Call, operation
from .sessions import resolve_then_authenticate


def _node(call: Call, body: dict[str, Any]) -> str | None:
    return call.query.get("node_id") or body.get("node_id")


@operation("patch_v3_session_update_aml_hit_status")
async def update_hit(call: Call) -> dict[str, Any]:
    body = dict(call.body or {})
    tenant, session = resolve_then_authenticate(call)
    with tenant.lock:
        set_hit_statuses(tenant, session, {body["hit_id"]: body["review_status"]}, _node(call, body))
    return {"message": "Hit status updated successfully", "hit_id": body["hit_id"],
            "review_status": body["review_status"]}


@operation("patch_v3_session_bulk_update_aml_hit_status")
async def update_hits(call: Call) -> dict[str, Any]:
    body = dict(call.body or {})
    updates = body.get("hit_updates") or []
    if not updates:
        raise ValidationFailed.field("hit_updates", "hit_updates cannot be empty")
    tenant, session = resolve_then_authenticate(call)
    with tenant.lock:
        updated = set_hit_statuses(tenant, session, {u["hit_id"]: u["review_status"] for u in updates},
                                   _node(call, body))
    return {"message": f"Updated {len(updated)} hit(s) successfully", "updated_hits": updated}
