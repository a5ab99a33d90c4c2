"""One validation mechanism: bodies and query parameters checked from the spec, the same fault
answered with the same message on every route (docs/architecture.md, "One validation mechanism")."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import KYC_WORKFLOW, create_session

UNKNOWN = str(uuid.UUID(int=7))


def decision(client: httpx.Client, session_id: str) -> dict:
    response = client.get(f"/v3/session/{session_id}/decision/")
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- bodies

def test_create_takes_null_for_unset_optional_fields(client: httpx.Client) -> None:
    body = create_session(client, vendor_data=None, callback=None, language=None, portrait_image=None,
                          sandbox_scenario=None, contact_details=None,
                          expected_details={"first_name": None, "gender": None})
    assert body["vendor_data"] is None and body["callback"] is None


def test_create_keeps_only_declared_fields_and_reads_document_types_case_insensitively(client: httpx.Client) -> None:
    session = create_session(client, expected_details={
        "first_name": "Ann", "shoe_size": 41, "nationality": "esp", "expected_document_types": ["p", "ID", "P"]})
    expected = decision(client, session["session_id"])["expected_details"]
    assert expected == {"first_name": "Ann", "nationality": "ESP", "expected_document_types": ["P", "ID"]}


def test_schema_and_rule_problems_are_reported_together(client: httpx.Client) -> None:
    response = client.post("/v3/session/", json={
        "workflow_id": KYC_WORKFLOW, "language": "xx", "vendor_data": "é" * 1001,
        "expected_details": {"first_name": "x" * 256, "nationality": "Spain", "ip_address": "nope"}})
    assert response.status_code == 400
    assert response.json() == {
        "language": ['"xx" is not a valid choice.'],
        "vendor_data": ["Ensure this field has no more than 2000 bytes (UTF-8)."],
        "expected_details": {"first_name": ["Ensure this field has no more than 255 characters."],
                             "nationality": ["Enter a valid ISO 3166-1 alpha-3 country code."],
                             "ip_address": ["Enter a valid IPv4 or IPv6 address."]},
    }
    assert client.get("/v3/sessions/").json()["count"] == 0


# The same fault, the same message, whichever route it is sent to.
NULL_REQUIRED = [
    ("/v3/session/", {"workflow_id": None}, "workflow_id"),
    ("/v3/phone/send/", {"phone_number": None}, "phone_number"),
    ("/v3/email/send/", {"email": None}, "email"),
    ("/v3/blocklist/add/", {"session_id": None, "blocklist_face": True}, "session_id"),
    ("/v3/session/import-shared/", {"share_token": None, "trust_review": True, "workflow_id": KYC_WORKFLOW},
     "share_token"),
]
BAD_UUID = [
    ("/v3/session/", {"workflow_id": "nope"}, "workflow_id"),
    # 32 characters between separators are not a UUID unless they are hexadecimal digits.
    ("/v3/session/", {"workflow_id": KYC_WORKFLOW[:-1] + "g"}, "workflow_id"),
    ("/v3/blocklist/add/", {"session_id": UNKNOWN[:-1] + "x", "blocklist_face": True}, "session_id"),
    ("/v3/blocklist/remove/", {"session_id": "nope", "unblock_face": True}, "session_id"),
    ("/v3/session/import-shared/", {"share_token": "t", "trust_review": True, "workflow_id": "nope"}, "workflow_id"),
]


@pytest.mark.parametrize(("path", "body", "field"), NULL_REQUIRED)
def test_null_for_a_required_field_is_one_message_everywhere(client: httpx.Client, path: str, body: dict,
                                                             field: str) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 400
    assert response.json() == {field: ["This field may not be null."]}


@pytest.mark.parametrize(("path", "body", "field"), BAD_UUID)
def test_a_malformed_uuid_is_one_message_everywhere(client: httpx.Client, path: str, body: dict, field: str) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 400
    assert response.json() == {field: ["Must be a valid UUID."]}


@pytest.mark.parametrize("path", ["/v3/session/", "/v3/phone/check/", "/v3/email/check/", "/v3/blocklist/add/",
                                  "/v3/session/import-shared/"])
def test_a_body_that_is_not_an_object_is_one_message_everywhere(client: httpx.Client, path: str) -> None:
    response = client.post(path, json=["x"])
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_any_uuid_spelling_drf_reads_is_read_canonically(client: httpx.Client) -> None:
    for spelling in (KYC_WORKFLOW.upper(), "{" + KYC_WORKFLOW + "}", KYC_WORKFLOW.replace("-", "")):
        assert create_session(client, workflow_id=spelling)["workflow_id"] == KYC_WORKFLOW


def test_feature_status_takes_its_choices_from_the_spec(client: httpx.Client) -> None:
    session = create_session(client)
    path = f"/v3/session/{session['session_id']}/features/feature_aml_1/update-status/"
    response = client.patch(path, json={"new_status": "Maybe"})
    assert response.status_code == 400 and response.json() == {"new_status": ['"Maybe" is not a valid choice.']}
    response = client.patch(path, json={})
    assert response.status_code == 400 and response.json() == {"new_status": ["This field is required."]}


# ---------------------------------------------------------------- query parameters

def test_list_filters_are_checked_from_the_spec_all_at_once(client: httpx.Client) -> None:
    response = client.get("/v3/sessions/", params={"api_service": "FACE", "didit_internal_id": "nope",
                                                   "date_to": "tomorrow"})
    assert response.status_code == 400
    assert response.json() == {"api_service": ['"FACE" is not a valid choice.'],
                               "didit_internal_id": ["Enter a valid UUID."], "date_to": ["Enter a valid date."]}


def test_what_didit_accepts_in_a_query_still_passes(client: httpx.Client) -> None:
    create_session(client)
    accepted = {"limit": "x", "offset": "-3", "session_kind": "USER", "item": "unknown parameters are ignored",
                "is_kyc_to_be_reviewed": "perhaps", "status": "", "api_service": "FACE_MATCH",
                "date_from": "2000-01-01", "didit_internal_id": UNKNOWN}
    response = client.get("/v3/sessions/", params=accepted)
    assert response.status_code == 200, response.text
    assert client.get("/v3/sessions/", params={"session_kind": "nobody"}).json() == {
        "session_kind": 'Must be "user", "business", or "all".'}


def test_query_problems_of_other_families_use_the_same_words(client: httpx.Client) -> None:
    bad = client.get("/v3/biometric-templates/", params={"status": "gone", "vendor_user_uuid": "x",
                                                         "retained_from": "yesterday"})
    assert bad.status_code == 400
    assert bad.json() == {"status": ['"gone" is not a valid choice.'], "vendor_user_uuid": ["Enter a valid UUID."],
                          "retained_from": ["Enter a valid date/time."]}
    lists = client.get("/v3/lists/", params={"list_type": "grey"})
    assert lists.status_code == 400 and lists.json() == {"list_type": ['"grey" is not a valid choice.']}


def test_an_empty_value_is_no_filter(client: httpx.Client) -> None:
    assert client.get("/v3/blocklist/", params={"item_type": ""}).status_code == 200
    assert client.get("/v3/biometric-templates/", params={"status": "", "retained_to": ""}).status_code == 200


def test_authentication_comes_before_the_query(anon: httpx.Client) -> None:
    response = anon.get("/v3/sessions/", params={"api_service": "FACE"})
    assert response.status_code == 403
