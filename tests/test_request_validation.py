"""One validation mechanism: bodies and query parameters checked from the spec, the same fault
answered with the same message on every route (docs/architecture.md, "One validation mechanism")."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import KYC_WORKFLOW, complete, create_session

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



# The routes that find the session before they read the body check it the same way.
def session_routes(client: httpx.Client) -> tuple[dict, dict[str, tuple[str, str, dict]]]:
    """A finished session, and those routes by name: (method, path, headers)."""
    session = create_session(client)
    complete(client, session["session_id"], "In Review")
    sid = session["session_id"]
    fresh = create_session(client)
    return session, {
        "update-status": ("PATCH", f"/v3/session/{sid}/update-status/", {}),
        "delete": ("DELETE", f"/v3/session/{sid}/delete/", {}),
        "batch-delete": ("POST", "/v3/sessions/delete/", {}),
        "share": ("POST", f"/v3/session/{sid}/share/", {}),
        "review-note": ("POST", f"/v3/sessions/{sid}/reviews/", {}),
        "arm": ("POST", f"/v3/session/{fresh['session_id']}/sandbox/arm/", {"Session-Token": fresh["session_token"]}),
    }


def test_null_for_a_required_field_is_the_same_message_on_the_session_routes(client: httpx.Client) -> None:
    _, routes = session_routes(client)
    for name, field in (("update-status", "new_status"), ("share", "for_application_id"), ("arm", "scenario")):
        method, path, headers = routes[name]
        response = client.request(method, path, json={field: None}, headers=headers)
        assert response.status_code == 400, name
        assert response.json() == {field: ["This field may not be null."]}, name


def test_a_wrong_type_is_the_same_message_on_the_session_routes(client: httpx.Client) -> None:
    _, routes = session_routes(client)
    faults = {
        "update-status": ({"new_status": "Approved", "send_email": "maybe"}, "send_email", "Must be a valid boolean."),
        "delete": ({"face_retention_days": "soon"}, "face_retention_days", "A valid integer is required."),
        "batch-delete": ({"delete_all": "maybe"}, "delete_all", "Must be a valid boolean."),
        "share": ({"for_application_id": UNKNOWN, "ttl_in_seconds": "soon"}, "ttl_in_seconds",
                  "A valid integer is required."),
        "review-note": ({"comment": ["a"]}, "comment", "Not a valid string."),
        "arm": ({"scenario": {"slug": "x"}}, "scenario", "Not a valid string."),
    }
    for name, (body, field, message) in faults.items():
        method, path, headers = routes[name]
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 400, name
        assert response.json() == {field: [message]}, name
    # The same faults on a route that checks its body before anything else.
    assert client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW, "vendor_data": ["a"]}).json() == {
        "vendor_data": ["Not a valid string."]}
    # Nothing was deleted by the refused deletes.
    assert client.get("/v3/sessions/").json()["count"] == 2


def test_a_body_that_is_not_an_object_is_the_same_message_on_the_session_routes(client: httpx.Client) -> None:
    _, routes = session_routes(client)
    for name, (method, path, headers) in routes.items():
        response = client.request(method, path, json=["x"], headers=headers)
        assert response.status_code == 400, name
        assert response.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}, name


def test_session_routes_read_uuids_and_numbers_as_drf_does(client: httpx.Client) -> None:
    session, routes = session_routes(client)
    method, path, _ = routes["share"]
    bad = client.request(method, path, json={"for_application_id": UNKNOWN[:-1] + "x"})
    assert bad.status_code == 400 and bad.json() == {"for_application_id": ["Must be a valid UUID."]}
    spelled = client.request(method, path, json={"for_application_id": UNKNOWN.upper()})
    assert spelled.json() == {"for_application_id": ["Target application does not exist."]}  # read, then looked up
    method, path, _ = routes["batch-delete"]
    kept = client.request(method, path, json={"session_numbers": [str(session["session_number"] + 100)]})
    assert kept.status_code == 200 and kept.json() == {"results": []}


def test_resubmit_nodes_are_checked_item_by_item(client: httpx.Client) -> None:
    _, routes = session_routes(client)
    method, path, _ = routes["update-status"]
    response = client.request(method, path, json={"new_status": "Resubmitted", "comment": None, "nodes_to_resubmit": [
        {"node_id": "feature_ocr_1", "feature": "POA"}, {"node_id": "x" * 256, "feature": "BOGUS"}, {"feature": "OCR"}]})
    assert response.status_code == 400
    errors = response.json()["nodes_to_resubmit"]
    assert errors[0] == {}
    assert errors[1]["node_id"] == ["Ensure this field has no more than 255 characters."]
    assert errors[1]["feature"][0].startswith('"BOGUS" is not a valid choice. Valid choices are: OCR, ')
    assert errors[2] == {"node_id": ["This field is required."]}


def test_an_unknown_session_is_answered_before_its_body(client: httpx.Client) -> None:
    for method, path in (("PATCH", f"/v3/session/{UNKNOWN}/update-status/"), ("DELETE", f"/v3/session/{UNKNOWN}/delete/"),
                         ("POST", f"/v3/session/{UNKNOWN}/share/"), ("POST", f"/v3/sessions/{UNKNOWN}/reviews/")):
        response = client.request(method, path, json={"new_status": 5, "face_retention_days": "x",
                                                      "for_application_id": None, "comment": []})
        assert response.status_code == 404, path


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
