"""The legacy v2 decision: singular feature objects, each the first v3 item without `node_id`."""

from __future__ import annotations

from typing import Any

#: v2 singular key -> the v3 array it is the first item of.
V2_KEYS = {
    "id_verification": "id_verifications", "nfc": "nfc_verifications", "liveness": "liveness_checks",
    "face_match": "face_matches", "phone": "phone_verifications", "email": "email_verifications",
    "poa": "poa_verifications", "aml": "aml_screenings", "ip_analysis": "ip_analyses",
    "database_validation": "database_validations",
}


def _strip_node_ids(item: dict[str, Any]) -> dict[str, Any]:
    stripped = {k: v for k, v in item.items() if k != "node_id"}
    if isinstance(stripped.get("warnings"), list):
        stripped["warnings"] = [{k: v for k, v in w.items() if k != "node_id"} if isinstance(w, dict) else w
                                for w in stripped["warnings"]]
    return stripped


def build_v2(decision: dict[str, Any]) -> dict[str, Any]:
    """The v2 body of a v3 decision (uncached: callers go through `rendering`)."""
    body: dict[str, Any] = {key: decision.get(key) for key in (
        "session_id", "session_number", "session_url", "status", "workflow_id", "features", "vendor_data",
        "metadata", "expected_details", "contact_details", "callback")}
    for singular, plural in V2_KEYS.items():
        items = decision.get(plural)
        body[singular] = _strip_node_ids(items[0]) if items else None
    body["reviews"] = decision.get("reviews", [])
    body["created_at"] = decision.get("created_at")
    body["expires_at"] = decision.get("expires_at")
    if "shared_from_session" in decision:
        body["shared_from_session"] = decision["shared_from_session"]
    return body
