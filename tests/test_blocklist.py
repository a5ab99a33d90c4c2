"""The session-derived blocklist over HTTP: add, remove, list, auto-decline and the OTP link."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import advance, create_session
from tests.otp_helpers import (
    check_email,
    check_phone,
    email_code,
    phone_code,
    risks,
    send_email,
    send_phone,
)

COMPLETE_KYC = "d1d17000-0000-4000-8000-000000000006"
UNKNOWN = "0b0e5a4c-9d1f-4c0a-8b7e-2f6a1d3c4e5f"
ITEM_KEYS = {"type", "session_id", "session_number", "blocklisted_at", "document_type", "document_number",
             "issuing_state", "face_id", "portrait_image", "phone_number", "email"}


def finished(client: httpx.Client, status: str = "Approved", **fields: object) -> dict:
    """A session created and completed; returns its decision."""
    session = create_session(client, **fields)
    response = client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": status})
    assert response.status_code == 200, response.text
    return client.get(f"/v3/session/{session['session_id']}/decision/").json()


def add(client: httpx.Client, session_id: str, **flags: bool) -> None:
    body = {"session_id": session_id, **{f"blocklist_{k}": v for k, v in flags.items()}}
    response = client.post("/v3/blocklist/add/", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Successfully added to blocklist."}


def remove(client: httpx.Client, session_id: str, **flags: bool) -> None:
    body = {"session_id": session_id, **{f"unblock_{k}": v for k, v in flags.items()}}
    response = client.post("/v3/blocklist/remove/", json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {"message": "Successfully removed from blocklist."}


def listing(client: httpx.Client, query: str = "") -> dict:
    response = client.get(f"/v3/blocklist/{query}")
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize(("path", "body", "errors"), [
    ("add", {}, {"session_id": ["This field is required."]}),
    ("add", {"session_id": "not-a-uuid", "blocklist_face": True}, {"session_id": ["Must be a valid UUID."]}),
    ("add", {"session_id": UNKNOWN}, {"non_field_errors": ["At least one blocklist flag must be true."]}),
    ("add", {"session_id": UNKNOWN, "blocklist_face": False, "blocklist_email": False},
     {"non_field_errors": ["At least one blocklist flag must be true."]}),
    ("add", {"session_id": UNKNOWN, "blocklist_face": "often"}, {"blocklist_face": ["Must be a valid boolean."]}),
    ("remove", {"session_id": 12, "unblock_face": True}, {"session_id": ["Must be a valid UUID."]}),
    ("remove", {"session_id": None, "unblock_face": True}, {"session_id": ["This field may not be null."]}),
    ("remove", {"session_id": UNKNOWN, "blocklist_face": True},
     {"non_field_errors": ["At least one unblock flag must be true."]}),
])
def test_validation_errors(client: httpx.Client, path: str, body: dict, errors: dict) -> None:
    response = client.post(f"/v3/blocklist/{path}/", json=body)
    assert response.status_code == 400
    assert response.json() == errors


@pytest.mark.parametrize("path", ["add", "remove"])
def test_unknown_session_is_404(client: httpx.Client, path: str) -> None:
    flag = "blocklist_face" if path == "add" else "unblock_face"
    response = client.post(f"/v3/blocklist/{path}/", json={"session_id": UNKNOWN, flag: True})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_sessions_of_other_tenants_are_unknown(client: httpx.Client, server) -> None:
    decision = finished(client)
    with httpx.Client(base_url=server.url, headers={"x-api-key": "sk_test_other_blocklist"}) as other:
        response = other.post("/v3/blocklist/add/", json={"session_id": decision["session_id"], "blocklist_face": True})
        assert response.status_code == 404


def test_auth_is_required(anon: httpx.Client) -> None:
    assert anon.get("/v3/blocklist/").status_code == 403
    assert anon.post("/v3/blocklist/add/", json={"session_id": UNKNOWN, "blocklist_face": True}).status_code == 403


def test_bad_item_type_is_400(client: httpx.Client) -> None:
    response = client.get("/v3/blocklist/?item_type=wallet")
    assert response.status_code == 400
    assert response.json() == {"item_type": ['"wallet" is not a valid choice.']}


# ---------------------------------------------------------------- the feed

def test_items_carry_the_record_of_each_type(client: httpx.Client) -> None:
    decision = finished(client, vendor_data="feed-1", workflow_id=COMPLETE_KYC)
    session_id = decision["session_id"]
    add(client, session_id, face=True, document=True, phone=True, email=True)
    body = listing(client)
    assert body["count"] == 4 and body["next"] is None and body["previous"] is None
    by_type = {item["type"]: item for item in body["results"]}
    assert set(by_type) == {"face", "document", "phone", "email"}
    for item in body["results"]:
        assert set(item) == ITEM_KEYS
        assert item["session_id"] == session_id and item["session_number"] == decision["session_number"]
        assert item["blocklisted_at"].endswith("Z")
    document = by_type["document"]
    id_item = decision["id_verifications"][0]
    assert document["document_number"] == id_item["document_number"]
    assert document["document_type"] and document["issuing_state"]
    assert document["face_id"] is None and document["phone_number"] is None and document["email"] is None
    assert by_type["face"]["face_id"] and by_type["face"]["portrait_image"].startswith("http")
    assert by_type["phone"]["phone_number"] == decision["phone_verifications"][0]["full_number"]
    assert by_type["email"]["email"] == decision["email_verifications"][0]["email"]
    assert listing(client, "?item_type=phone")["results"] == [by_type["phone"]]


def test_feed_is_newest_first_and_paginated(client: httpx.Client, server) -> None:
    ids = []
    for n in range(3):
        decision = finished(client, vendor_data=f"page-{n}")
        add(client, decision["session_id"], face=True)
        ids.append(decision["session_id"])
        advance(client, 10)
    add(client, ids[0], face=True)  # already blocklisted: no duplicate entry
    body = listing(client, "?item_type=face&limit=2")
    assert body["count"] == 3
    assert [item["session_id"] for item in body["results"]] == [ids[2], ids[1]]
    assert body["previous"] is None
    assert body["next"] == f"{server.url}/v3/blocklist/?item_type=face&limit=2&offset=2"
    second = httpx.get(body["next"], headers={"x-api-key": client.headers["x-api-key"]}).json()
    assert [item["session_id"] for item in second["results"]] == [ids[0]]
    assert second["next"] is None
    assert second["previous"] == f"{server.url}/v3/blocklist/?item_type=face&limit=2"
    assert listing(client, "?limit=abc&offset=-4")["count"] == 3  # unusable values fall back to defaults


def test_deleted_sessions_leave_the_feed_and_stop_matching(client: httpx.Client) -> None:
    decision = finished(client, vendor_data="gone")
    add(client, decision["session_id"], face=True)
    response = client.delete(f"/v3/session/{decision['session_id']}/delete/")
    assert response.status_code in (200, 204), response.text
    assert listing(client)["count"] == 0
    assert finished(client, vendor_data="gone")["status"] == "Approved"


# ---------------------------------------------------------------- auto-decline of later sessions

def test_blocklisted_face_declines_later_sessions_until_removed(client: httpx.Client) -> None:
    first = finished(client, vendor_data="person-1")
    assert first["status"] == "Approved"
    add(client, first["session_id"], face=True)
    second = finished(client, vendor_data="person-1")
    assert second["status"] == "Declined"
    liveness = second["liveness_checks"][0]
    assert liveness["status"] == "Declined"
    assert {w["risk"]: w["log_type"] for w in liveness["warnings"]} == {"FACE_IN_BLOCKLIST": "error"}
    assert liveness["warnings"][0]["feature"] == "LIVENESS"
    assert finished(client, vendor_data="someone-else")["status"] == "Approved"
    remove(client, first["session_id"], face=True)
    assert listing(client)["count"] == 0
    assert finished(client, vendor_data="person-1")["status"] == "Approved"


def test_blocklisted_document_declines_the_id_verification(client: httpx.Client) -> None:
    first = finished(client, vendor_data="person-2")
    add(client, first["session_id"], document=True)
    second = finished(client, vendor_data="person-2")
    assert second["status"] == "Declined"
    id_item = second["id_verifications"][0]
    assert id_item["status"] == "Declined"
    assert "ID_DOCUMENT_IN_BLOCKLIST" in {w["risk"] for w in id_item["warnings"]}
    assert second["liveness_checks"][0]["status"] == "Approved"
    remove(client, first["session_id"], document=True, face=True)
    assert finished(client, vendor_data="person-2")["status"] == "Approved"


def test_blocklisted_phone_and_email_decline_their_features(client: httpx.Client) -> None:
    first = finished(client, vendor_data="person-3", workflow_id=COMPLETE_KYC)
    add(client, first["session_id"], phone=True, email=True)
    second = finished(client, vendor_data="person-3", workflow_id=COMPLETE_KYC)
    assert second["status"] == "Declined"
    assert "PHONE_NUMBER_IN_BLOCKLIST" in {w["risk"] for w in second["phone_verifications"][0]["warnings"]}
    assert "EMAIL_IN_BLOCKLIST" in {w["risk"] for w in second["email_verifications"][0]["warnings"]}
    assert second["id_verifications"][0]["status"] == "Approved"
    # a workflow without the phone and email features is not affected
    assert finished(client, vendor_data="person-3")["status"] == "Approved"
    remove(client, first["session_id"], phone=True)
    third = finished(client, vendor_data="person-3", workflow_id=COMPLETE_KYC)
    assert third["phone_verifications"][0]["status"] == "Approved"
    assert third["email_verifications"][0]["status"] == "Declined"


# ---------------------------------------------------------------- the OTP link

def test_session_blocklist_blocks_otp_sends_and_checks(client: httpx.Client) -> None:
    number, address = "+14155550123", "kyc.person@example.com"
    decision = finished(client, vendor_data="person-4", workflow_id=COMPLETE_KYC,
                        contact_details={"phone": number, "email": address})
    send_phone(client, number, vendor_data="otp-user")
    send_email(client, address, vendor_data="otp-user")
    add(client, decision["session_id"], phone=True, email=True)

    result = check_phone(client, number, phone_code(client, number)["code"])
    assert result["status"] == "Declined" and result["message"] == "The verification code is correct."
    assert risks(result["phone"]) == {"PHONE_NUMBER_IN_BLOCKLIST": "error"}
    match = result["phone"]["matches"][0]
    assert match["session_id"] == decision["session_id"] and match["is_blocklisted"] is True
    assert match["vendor_data"] == "person-4" and match["api_service"] is None and match["source"] == "session"

    email = check_email(client, address, email_code(client, address)["code"])
    assert email["status"] == "Declined" and risks(email["email"]) == {"EMAIL_IN_BLOCKLIST": "error"}

    blocked = send_phone(client, number)
    assert blocked["status"] == "Blocked" and blocked["reason"] == "suspicious"
    assert check_phone(client, number, "123456")["status"] == "Expired or Not Found"
    blocked_decision = client.get(f"/v3/session/{blocked['request_id']}/decision/").json()
    assert risks(blocked_decision["phone_verifications"][0]) == {"PHONE_NUMBER_IN_BLOCKLIST": "error"}

    remove(client, decision["session_id"], phone=True, email=True)
    assert send_phone(client, number)["status"] == "Success"
    assert check_phone(client, number, phone_code(client, number)["code"])["status"] == "Approved"


def test_verification_request_ids_can_be_blocklisted(client: httpx.Client) -> None:
    number = "+14155550188"
    sent = send_phone(client, number, vendor_data="fraudster")
    check_phone(client, number, phone_code(client, number)["code"])
    add(client, sent["request_id"], phone=True, face=True)
    items = listing(client)["results"]
    assert len(items) == 1  # a phone verification has no face to blocklist
    assert items[0]["type"] == "phone" and items[0]["phone_number"] == number
    assert items[0]["session_id"] == sent["request_id"]
    assert send_phone(client, number)["status"] == "Blocked"

    mail = send_email(client, "spam@example.com")
    add(client, mail["request_id"], email=True)
    send_email(client, "SPAM@example.com")
    result = check_email(client, "spam@example.com", email_code(client, "spam@example.com")["code"])
    assert result["status"] == "Declined"
    assert listing(client, "?item_type=email")["results"][0]["email"] == "spam@example.com"

    remove(client, sent["request_id"], phone=True)
    assert send_phone(client, number)["status"] == "Success"
