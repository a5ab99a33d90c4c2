"""The phone and email report objects, their matches, and the decision of a verification."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .. import statuses as st
from ..clock import iso, iso_offset
from ..tenant import Tenant
from .engine import by_value_blocked, current_facts, different_user
from .phone_facts import PhoneFacts
from .records import EMAIL, PENDING, PHONE, Verification, book, pairing_key

PHONE_NODE_ID = "feature_phone_1"
EMAIL_NODE_ID = "feature_email_1"
MAX_MATCHES = 5
API_SERVICE = {PHONE: "PHONE_VERIFICATION", EMAIL: "EMAIL_VERIFICATION"}


def _iso(ts: float | None) -> str | None:
    return None if ts is None else iso(datetime.fromtimestamp(ts, tz=timezone.utc))


def _match_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def session_status(verification: Verification) -> str:
    """The session-level status of a verification (pending ones are In Progress)."""
    return st.IN_PROGRESS if verification.status == PENDING else verification.status


def report(tenant: Tenant, verification: Verification, node_id: str | None = None) -> dict[str, Any]:
    """The `phone` / `email` object of a check response (with `node_id` inside a decision)."""
    facts = current_facts(tenant, verification)
    warnings = [dict(w, node_id=node_id) if node_id else dict(w) for w in verification.warnings]
    lifecycle = [
        {
            "type": event.type,
            "timestamp": iso_offset(datetime.fromtimestamp(event.at, tz=timezone.utc)),
            "details": None if event.details is None else dict(event.details),
            "fee": event.fee,
        }
        for event in verification.lifecycle
    ]
    body: dict[str, Any] = {} if node_id is None else {"node_id": node_id}
    body["status"] = verification.status
    if isinstance(facts, PhoneFacts):
        body.update({
            "phone_number_prefix": facts.prefix,
            "phone_number": facts.national_number,
            "full_number": facts.full_number,
            "country_code": facts.country_code,
            "country_name": facts.country_name,
            "carrier": {"name": facts.carrier_name, "type": facts.line_type},
            "is_disposable": facts.is_disposable,
            "is_virtual": facts.is_virtual,
            "verification_method": verification.actual_channel or verification.channel or "sms",
        })
    else:
        body.update({
            "email": verification.target,
            "is_breached": facts.is_breached,
            "breaches": [dict(b) for b in facts.breaches],
            "is_disposable": facts.is_disposable,
            "is_undeliverable": facts.is_undeliverable,
        })
    body.update({
        "verification_attempts": verification.sends,
        "verified_at": _iso(verification.verified_at),
        "warnings": warnings,
        "lifecycle": lifecycle,
        "matches": matches(tenant, verification),
    })
    return body


def matches(tenant: Tenant, verification: Verification) -> list[dict[str, Any]]:
    """Other sessions that used the same number or address for a different vendor_data.

    Sessions of session-derived blocklist entries come first, then the other verifications
    oldest first; five at most. The real API also prepends a synthetic `list_entry` match with
    null ids for by-value list entries, but its own response schema forbids those nulls, so the
    mock leaves that match out (`is_blocklisted` still tells).
    """
    from .. import blocklist

    kind, target = verification.kind, verification.target
    value_key = "phone_number" if kind == PHONE else "email"
    entries = blocklist.find_all(tenant, kind, pairing_key(kind, target))
    listed = by_value_blocked(tenant, kind, target)
    is_blocklisted = listed or bool(entries)
    found: list[dict[str, Any]] = []
    seen = {verification.request_id}
    for entry in entries:
        if entry.session_id in seen or not different_user(entry.vendor_data, verification.vendor_data):
            continue
        seen.add(entry.session_id)
        found.append({
            "session_id": entry.session_id, "session_number": entry.session_number,
            "vendor_data": entry.vendor_data, "verification_date": _match_date(entry.session_created_at),
            value_key: target, "status": blocklist.session_status(tenant, entry.session_id),
            "is_blocklisted": True, "api_service": entry.api_service, "source": "session",
        })
    for other in book(tenant).history(kind, target):
        if other.request_id in seen or not different_user(other.vendor_data, verification.vendor_data):
            continue
        seen.add(other.request_id)
        found.append({
            "session_id": other.request_id, "session_number": other.session_number,
            "vendor_data": other.vendor_data, "verification_date": _match_date(other.created_at),
            value_key: target, "status": session_status(other), "is_blocklisted": is_blocklisted,
            "api_service": API_SERVICE[kind], "source": "session",
        })
    return found[:MAX_MATCHES]


_NULL_FEATURE_BLOCKS = (
    "id_verifications", "nfc_skip_reason", "nfc_verifications", "liveness_checks", "face_matches",
    "phone_verifications", "email_verifications", "poa_verifications", "document_ai_documents",
    "questionnaire_responses", "aml_screenings", "ip_analyses", "database_validations",
)


def decision(tenant: Tenant, verification: Verification) -> dict[str, Any]:
    """The verification as GET /v3/session/{request_id}/decision/ renders it."""
    is_phone = verification.kind == PHONE
    body: dict[str, Any] = {
        "session_id": verification.request_id,
        "session_kind": "user",
        "session_number": verification.session_number,
        "session_url": None,
        "status": session_status(verification),
        "environment": tenant.environment,
        "workflow_id": None,
        "features": ["PHONE"] if is_phone else ["EMAIL_VERIFICATION"],
        "vendor_data": verification.vendor_data,
        "metadata": verification.metadata,
        "expected_details": None,
        "contact_details": None,
        "callback": None,
    }
    body.update({key: None for key in _NULL_FEATURE_BLOCKS})
    item = report(tenant, verification, PHONE_NODE_ID if is_phone else EMAIL_NODE_ID)
    body["phone_verifications" if is_phone else "email_verifications"] = [item]
    body["reviews"] = []
    body["created_at"] = _iso(verification.created_at)
    body["expires_at"] = _iso(verification.expires_at)
    return body


def verification_decision(tenant: Tenant, request_id: str) -> dict[str, Any] | None:
    """The decision of a phone/email verification by its `request_id`, or None if there is none."""
    verification = book(tenant).by_id.get(request_id)
    return None if verification is None else decision(tenant, verification)
