"""A user's PDF report (`GET /v3/users/{vendor_data}/generate-pdf/`): the profile and its newest KYC sessions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import statuses as st
from .errors import PermissionDenied
from .reports import open_report

if TYPE_CHECKING:
    from .sessions import Session

#: How many sessions the report lists, newest first.
MAX_SESSIONS = 20
NOTHING_TO_REPORT = "This user has no sessions in review, declined, approved or kyc expired to report."
USER_NOT_FOUND = "User not found."
PROFILE_FIELDS = (
    ("didit_internal_id", "Didit internal ID"), ("vendor_data", "Vendor data"), ("effective_name", "Name"),
    ("date_of_birth", "Date of birth"), ("status", "Status"), ("session_count", "Sessions"),
    ("approved_count", "Approved"), ("declined_count", "Declined"), ("in_review_count", "In review"),
    ("issuing_states", "Issuing states"), ("approved_emails", "Approved e-mails"),
    ("approved_phones", "Approved phones"), ("first_session_at", "First session"), ("last_session_at", "Last session"),
)


def reportable(sessions: list[Session]) -> list[Session]:
    """The newest reportable sessions (Approved, Declined, In Review, Kyc Expired); none is a 403."""
    chosen = [s for s in reversed(sessions) if s.status in st.PDF_ALLOWED][:MAX_SESSIONS]
    if not chosen:
        raise PermissionDenied(NOTHING_TO_REPORT)
    return chosen


def render_user_report(user: dict[str, Any], decisions: list[dict[str, Any]], generated_at: datetime) -> bytes:
    """The PDF bytes of a user's report."""
    pdf, writer = open_report(f"User {user.get('didit_internal_id')}", "User verification report", generated_at)
    writer.heading("User")
    for key, label in PROFILE_FIELDS:
        value = user.get(key)
        writer.row(label, ", ".join(value) if isinstance(value, list) else value)
    writer.heading("Features")
    for item in user.get("features_list") or []:
        writer.row(item["feature"], item["status"])
    for decision in decisions:
        writer.heading(f"Session {decision.get('session_number')} ({decision.get('session_id')})")
        writer.row("Status", decision.get("status"))
        writer.row("Workflow", decision.get("workflow_id"))
        writer.row("Created at", decision.get("created_at"))
        writer.row("Features", ", ".join(decision.get("features") or []))
    return bytes(pdf.output())
