"""Per-feature status overrides: a reviewer changes one step without changing the session decision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .decision.layout import node_id_for
from .errors import NotFound, ValidationFailed
from .events import DATA_UPDATED, DomainEvent
from .sessions import Session, add_review

if TYPE_CHECKING:
    from .tenant import Tenant

#: Decision feature -> the model name Didit reports as `feature_type`.
FEATURE_TYPES = {
    "ID_VERIFICATION": "KYC", "NFC": "NFC", "LIVENESS": "Face", "FACE_MATCH": "FaceMatch",
    "AGE_ESTIMATION": "Face", "POA": "POA", "PHONE": "Phone", "EMAIL_VERIFICATION": "Email",
    "AML": "AML", "IP_ANALYSIS": "IPAnalysis", "DATABASE_VALIDATION": "DatabaseValidation",
    "QUESTIONNAIRE": "Questionnaire",
}
FEATURE_OVERRIDES = ("Approved", "Declined", "In Review")


def feature_for_node(session: Session, node_id: str) -> str:
    """The feature of `session` that ran at `node_id`, or a 404 in Didit's words."""
    for feature in session.outcomes or {}:
        if node_id_for(feature) == node_id:
            return feature
    raise NotFound(f"No feature found with node_id '{node_id}' in this session.")


def update_feature_status(
    tenant: Tenant, session: Session, node_id: str, new_status: str, comment: str | None
) -> dict[str, str]:
    """Set one feature's status; records a review entry and emits `data.updated`."""
    feature = feature_for_node(session, node_id)
    outcome = (session.outcomes or {})[feature]
    if outcome.status == new_status:
        raise ValidationFailed.field("new_status", "The new status is the same as the current status.", as_list=False)
    previous = outcome.status
    outcome.status = new_status
    add_review(
        tenant, session, activity_type="STATUS_UPDATED", new_status=new_status, previous_status=previous,
        comment=comment, changed_fields=["feature_status"], previous_value={"node_id": node_id, "status": previous},
        new_value={"node_id": node_id, "status": new_status},
    )
    tenant.events.emit(DomainEvent(DATA_UPDATED, "session", session.session_id, session.status,
                                   tenant.clock.timestamp()))
    return {"session_id": session.session_id, "node_id": node_id, "feature_type": FEATURE_TYPES.get(feature, feature),
            "new_status": new_status}
