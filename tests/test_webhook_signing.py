"""Webhook canonical JSON and the three signatures, byte for byte against Didit's test vectors.

The payloads are the ones of the official WordPress plugin's fixture generator (didit-api.md §10.5):
a fixed envelope, varied by metadata and decision, signed with `wh_test_secret_9f2c4b8e1a7d`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from didit_mock.domain.webhooks import (
    USER_AGENT,
    canonical_json,
    hmac_hex,
    shorten_floats,
    signatures,
    signed_request,
    simple_message,
)

SECRET = "wh_test_secret_9f2c4b8e1a7d"
TIMESTAMP = 1774970000
SESSION_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
SIMPLE_APPROVED = "d831dd64f6c1801e214d9c114fe24167baee695a879404771d3d5dbfb10fdf75"

BASIC_BODY = (
    '{"application_id":"11111111-2222-3333-4444-555555555555","created_at":1774969994,"decision":'
    '{"id_verifications":[{"node_id":"id_verification_1","status":"Approved","warnings":[]}],"reviews":[],'
    '"session_id":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","status":"Approved"},"environment":"live",'
    '"event_id":"9c0c8b8a-1111-4222-9333-444444444444","metadata":{"wp_user_id":42},'
    '"session_id":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","status":"Approved","timestamp":1774970000,'
    '"vendor_data":"wp-42","webhook_type":"status.updated","workflow_id":"22222222-3333-4444-5555-666666666666",'
    '"workflow_version":4}'
)


def envelope(**extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event_id": "9c0c8b8a-1111-4222-9333-444444444444",
        "webhook_type": "status.updated",
        "timestamp": TIMESTAMP,
        "created_at": TIMESTAMP - 6,
        "application_id": "11111111-2222-3333-4444-555555555555",
        "environment": "live",
        "session_id": SESSION_ID,
        "status": "Approved",
        "workflow_id": "22222222-3333-4444-5555-666666666666",
        "workflow_version": 4,
        "vendor_data": "wp-42",
    }
    payload.update(extra)
    return payload


def decision(**fields: Any) -> dict[str, Any]:
    return {"session_id": SESSION_ID, "status": "Approved", **fields}


# (payload, X-Signature, X-Signature-V2, X-Signature-Simple)
VECTORS: dict[str, tuple[dict[str, Any], str, str, str]] = {
    "basic_approved": (
        envelope(
            metadata={"wp_user_id": 42},
            decision=decision(
                id_verifications=[{"node_id": "id_verification_1", "status": "Approved", "warnings": []}],
                reviews=[],
            ),
        ),
        "c8abe0c1a9e1e8325e83b789f4d1c398a3c9a5cd727424b642d4a93036be8977",
        "c8abe0c1a9e1e8325e83b789f4d1c398a3c9a5cd727424b642d4a93036be8977",
        SIMPLE_APPROVED,
    ),
    "unicode_names": (
        envelope(
            decision=decision(
                id_verifications=[{
                    "node_id": "id_verification_1",
                    "first_name": "José",
                    "last_name": "Müller-Ünlü",
                    "place_of_birth": "北京",
                    "status": "Approved",
                }],
            ),
        ),
        "b7b49a28ae4118438ef4d0f0fd603c4387cc39adf3ed451da18dc521c1d3e7eb",
        "7e416d66763a1f7e228ab0d94677f87152ad58560f0c71e8db7eb6b16faf7009",
        SIMPLE_APPROVED,
    ),
    "float_scores": (
        envelope(
            decision=decision(
                liveness_checks=[{"node_id": "liveness_1", "score": 95.4, "threshold": 100.0}],
                face_matches=[{"node_id": "face_match_1", "score": 96.15, "threshold": 0.0}],
            ),
        ),
        "44bc5a7be5137ee5ea7f58ed7471724c1fbeb496ea4672c46a898172e710bbfa",
        "44bc5a7be5137ee5ea7f58ed7471724c1fbeb496ea4672c46a898172e710bbfa",
        SIMPLE_APPROVED,
    ),
    "declined": (
        envelope(status="Declined", metadata={"wp_user_id": 42}),
        "1b132d6284727cc34cb259add34355e547fe103c65475a8d6286462edf909b63",
        "1b132d6284727cc34cb259add34355e547fe103c65475a8d6286462edf909b63",
        "ea157dba351b4c0f93fdaacd85059d494fd7696b3993c7a6707c2593d0fb4c74",
    ),
    "empty_objects": (
        envelope(
            metadata={},
            decision=decision(
                risk_view={"countries": {"risk_scores": {}}, "crimes": {"risk_scores": {}}, "custom_list": {}},
                reviews=[],
            ),
        ),
        "413856e88122d544ad3aeebd48d05b2aa322aba01cd057fe40038bbe4417a1ab",
        "413856e88122d544ad3aeebd48d05b2aa322aba01cd057fe40038bbe4417a1ab",
        SIMPLE_APPROVED,
    ),
    "slashes_in_urls": (
        envelope(
            decision=decision(id_verifications=[{
                "node_id": "id_verification_1",
                "front_image": "https://media.didit.me/sessions/abc/front.jpg?sig=a/b+c",
            }]),
        ),
        "f6e69e9b8df6930ca47970e31eb1d9cc499e80acd77253269bef908ac2a07dff",
        "f6e69e9b8df6930ca47970e31eb1d9cc499e80acd77253269bef908ac2a07dff",
        SIMPLE_APPROVED,
    ),
    "numeric_like_keys": (
        envelope(metadata={"9": "nine", "10": "ten", "2": "two", "wp_user_id": 42}),
        "814093217ff957aba2147b407873f704d0b09553e2861dd870f8eb09aafcef19",
        "814093217ff957aba2147b407873f704d0b09553e2861dd870f8eb09aafcef19",
        SIMPLE_APPROVED,
    ),
    "mixed_types": (
        envelope(
            decision=decision(
                reviews=[], warnings=[{"risk": "b"}, {"risk": "a"}], expiration_date=None,
                is_sandbox=False, nfc_available=True,
            ),
        ),
        "7684b0af2983b3bdd613999ecb443f79e0ff99a2438bd5ba53257aec7ac8f303",
        "7684b0af2983b3bdd613999ecb443f79e0ff99a2438bd5ba53257aec7ac8f303",
        SIMPLE_APPROVED,
    ),
}


@pytest.mark.parametrize("name", sorted(VECTORS))
def test_signature_vectors(name: str) -> None:
    payload, raw, v2, simple = VECTORS[name]
    assert signatures(payload, SECRET) == {"X-Signature": raw, "X-Signature-V2": v2, "X-Signature-Simple": simple}


def test_basic_body_is_byte_identical_to_the_fixture() -> None:
    payload = VECTORS["basic_approved"][0]
    body, headers = signed_request(payload, SECRET)
    assert body == BASIC_BODY.encode("ascii")
    assert hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest() == headers["X-Signature"]
    assert headers == {
        "Content-Type": "application/json",
        "User-Agent": "DiditWebhook/2.0 +https://didit.me",
        "X-Timestamp": "1774970000",
        "X-Signature": VECTORS["basic_approved"][1],
        "X-Signature-V2": VECTORS["basic_approved"][2],
        "X-Signature-Simple": SIMPLE_APPROVED,
    }
    assert USER_AGENT == "DiditWebhook/2.0 +https://didit.me"


def test_simple_message_of_the_fixture() -> None:
    payload = VECTORS["basic_approved"][0]
    assert simple_message(payload) == "1774970000:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee:Approved:status.updated"
    assert simple_message({"webhook_type": "data.updated"}) == ":::data.updated"


def test_non_ascii_body_is_escaped_while_v2_signs_utf8() -> None:
    payload = VECTORS["unicode_names"][0]
    body, headers = signed_request(payload, SECRET)
    assert b'"first_name":"Jos\\u00e9"' in body
    assert b'"place_of_birth":"\\u5317\\u4eac"' in body
    assert '"first_name":"José"' in canonical_json(payload, ascii=False)
    # A receiver re-parses the body and recomputes V2 from the unescaped canonical form.
    reparsed = json.loads(body)
    assert hmac_hex(SECRET, canonical_json(reparsed, ascii=False)) == headers["X-Signature-V2"]
    # The timestamp-prefixed variant (an old SKILL.md claim) does not match.
    prefixed = hmac_hex(SECRET, f"{TIMESTAMP}:{canonical_json(payload, ascii=False)}")
    assert prefixed.startswith("094fe6fe") and prefixed != headers["X-Signature-V2"]


def test_shorten_floats() -> None:
    assert shorten_floats({"a": [100.0, 0.0, 96.15, True, None, "1.0"], "b": {"c": -2.0}}) == {
        "a": [100, 0, 96.15, True, None, "1.0"], "b": {"c": -2},
    }
    body = canonical_json(VECTORS["float_scores"][0])
    assert '"threshold":100}' in body and '"threshold":0}' in body and '"score":96.15' in body
