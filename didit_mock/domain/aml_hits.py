"""Review statuses of AML hits (§1.26): a reviewer marks hits of a session's AML check.

The statuses are kept as corrections of the session (`data_overrides["AML"]["hit_review_status"]`),
applied to the decision's hits, so they survive re-renders and the state file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .decision.rendering import render_decision
from .errors import NotFound
from .events import DATA_UPDATED, DomainEvent
from .sessions import Session, add_review

if TYPE_CHECKING:
    from .tenant import Tenant

REVIEW_STATUSES = ("Unreviewed", "Confirmed Match", "False Positive", "Inconclusive")


def set_hit_statuses(tenant: Tenant, session: Session, updates: dict[str, str],
                     node_id: str | None = None) -> list[str]:
    """Set the review status of hits (all or nothing); returns the hit ids in the order given."""
    checks = render_decision(tenant, session).get("aml_screenings") or []
    if node_id:
        checks = [c for c in checks if c.get("node_id") == node_id]
    if not checks:
        raise NotFound("The session does not have an AML check.")
    known = {hit.get("id") for hit in checks[0].get("hits") or []}
    for hit_id in updates:
        if hit_id not in known:
            raise NotFound(f"Hit with ID '{hit_id}' not found in the AML check.")
    current = dict((session.data_overrides.get("AML") or {}).get("hit_review_status") or {})
    previous = {hit_id: current.get(hit_id) for hit_id in updates}
    current.update(updates)
    session.data_overrides["AML"] = {**(session.data_overrides.get("AML") or {}), "hit_review_status": current}
    add_review(tenant, session, activity_type="AML_HIT_STATUS_UPDATED", new_status=None, previous_status=None,
               comment=None, changed_fields=["review_status"], previous_value=previous, new_value=dict(updates))
    tenant.events.emit(DomainEvent(DATA_UPDATED, "session", session.session_id, session.status,
                                   tenant.clock.timestamp()))
    return list(updates)
