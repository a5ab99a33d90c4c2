"""Workflows over HTTP: create with ordered features, versions, drafts, the default, and the sessions they drive."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from didit_mock.server import MockServer
from tests.conftest import complete, new_key

KYC_BUILTIN = "d1d17000-0000-4000-8000-000000000001"
ONLY = ("The v3 workflow API only accepts `workflow_label`, `is_default`, `status`, `features`, "
        "`is_white_label_enabled`, `is_desktop_allowed`, `max_retry_attempts`, `retry_window_days`, "
        "`session_expiration_time`, `face_liveness_max_attempts`, `face_match_max_attempts`.")


def create(client: httpx.Client, *features: str, **fields: object) -> dict:
    body = {"features": [{"feature": f} for f in features], **fields}
    response = client.post("/v3/workflows/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def session_on(client: httpx.Client, workflow_id: str, **fields: object) -> httpx.Response:
    return client.post("/v3/session/", json={"workflow_id": workflow_id, **fields})


def test_create_returns_the_published_first_version(client: httpx.Client) -> None:
    made = create(client, "OCR", "LIVENESS", "FACE_MATCH", "AML", workflow_label="Standard KYC")
    assert made["uuid"] == made["workflow_id"]
    assert made["features"] == "OCR + LIVENESS + FACE_MATCH + AML"
    assert (made["version"], made["status"], made["is_editable"]) == (1, "published", False)
    assert made["workflow_label"] == "Standard KYC"
    assert made["workflow_type"] == "kyc"
    assert made["session_expiration_time"] == 604800 and made["max_retry_attempts"] == 3
    assert made["is_ocr_enabled"] and made["is_aml_enabled"] and not made["is_nfc_enabled"]
    assert made["workflow_graph"]["start_node"] == "ocr"
    assert made["workflow_graph"]["nodes"]["aml"]["next"] == "status"
    assert client.get(f"/v3/workflows/{made['uuid']}/").json() == made


@pytest.mark.parametrize(("body", "errors"), [
    ({"features": []}, {"features": ["At least one feature is required."]}),
    ({}, {"features": ["This field is required."]}),
    ({"workflow_type": "kyc", "features": [{"feature": "OCR"}]}, {"workflow_type": [ONLY]}),
    ({"features": [{"feature": "FOO"}]}, {"features": [
        "Invalid feature 'FOO'. Allowed values: AGE_ESTIMATION, AML, DATABASE_VALIDATION, EMAIL_VERIFICATION, "
        "FACE_MATCH, IP_ANALYSIS, KYB_DOCUMENTS, KYB_KEY_PEOPLE, KYB_REGISTRY, LIVENESS, NFC, OCR, "
        "PHONE_VERIFICATION, PROOF_OF_ADDRESS, QUESTIONNAIRE."]}),
    ({"features": [{"feature": "LIVENESS"}, {"feature": "FACE_MATCH"}]},
     {"features": ["Feature 'FACE_MATCH' must appear after one of: OCR."]}),
    ({"features": [{"feature": "AML"}, {"feature": "OCR"}]}, {"features": ["Feature 'AML' cannot be the first step."]}),
    ({"features": [{"feature": "QUESTIONNAIRE", "config": {"questionnaire_uuid": "11111111-2222-3333-4444-555555555555"}}]},
     {"features": "Questionnaire '11111111-2222-3333-4444-555555555555' was not found for this application. "
                  "Create the questionnaire first, then use its questionnaire_id."}),
    ({"features": [{"feature": "OCR"}], "session_expiration_time": 60},
     {"session_expiration_time": ["Ensure this value is greater than or equal to 3600."]}),
    ({"features": [{"feature": "OCR"}], "workflow_label": "x" * 51},
     {"workflow_label": ["Ensure this field has no more than 50 characters."]}),
])
def test_create_refuses_what_didit_refuses(client: httpx.Client, body: dict, errors: object) -> None:
    response = client.post("/v3/workflows/", json=body)
    assert response.status_code == 400
    assert response.json() == errors
    assert client.get("/v3/workflows/").json()["count"] == 6  # nothing was made


def test_the_list_is_a_page_of_versions_with_the_builtins(client: httpx.Client) -> None:
    builtins = client.get("/v3/workflows/").json()
    assert builtins["count"] == 6 and builtins["next"] is None
    assert {r["workflow_id"] for r in builtins["results"]} >= {KYC_BUILTIN}
    assert [r["is_default"] for r in builtins["results"]].count(True) == 1
    first = create(client, "OCR", "LIVENESS")
    second = create(client, "PROOF_OF_ADDRESS", is_default=True)
    page = client.get("/v3/workflows/?limit=1").json()
    assert page["count"] == 8
    assert [r["uuid"] for r in page["results"]] == [second["uuid"]]  # newest first
    assert page["next"].endswith("limit=1&offset=1")
    rows = client.get("/v3/workflows/?limit=50").json()["results"]
    assert [r["uuid"] for r in rows if r["is_default"]] == [second["uuid"]]
    assert rows[1]["uuid"] == first["uuid"] and rows[1]["features"] == "OCR + LIVENESS"


def test_versions_follow_didits_four_rules(client: httpx.Client) -> None:
    made = create(client, "OCR", "LIVENESS")
    in_place = client.patch(f"/v3/workflows/{made['uuid']}/", json={"workflow_label": "Renamed"}).json()
    assert (in_place["uuid"], in_place["version"], in_place["workflow_label"]) == (made["uuid"], 1, "Renamed")

    newer = client.patch(f"/v3/workflows/{made['uuid']}/",
                         json={"status": "published", "features": [{"feature": "OCR"}, {"feature": "AML"}]}).json()
    assert newer["uuid"] != made["uuid"] and newer["workflow_id"] == made["uuid"]
    assert (newer["version"], newer["features"]) == (2, "OCR + AML")
    assert client.get(f"/v3/workflows/{made['uuid']}/").json()["features"] == "OCR + LIVENESS"

    refused = client.patch(f"/v3/workflows/{newer['uuid']}/", json={"status": "draft"})
    assert refused.status_code == 400
    assert refused.json() == {"status": ["Cannot revert a published version to draft."]}

    draft = create(client, "OCR", status="draft")
    assert (draft["status"], draft["is_editable"], draft["published_at"]) == ("draft", True, None)
    kept = client.patch(f"/v3/workflows/{draft['uuid']}/", json={"status": "draft", "workflow_label": "WIP"}).json()
    assert (kept["status"], kept["workflow_label"]) == ("draft", "WIP")
    published = client.patch(f"/v3/workflows/{draft['uuid']}/", json={"max_retry_attempts": 5}).json()
    assert (published["status"], published["max_retry_attempts"], published["version"]) == ("published", 5, 1)


def test_update_and_delete_of_an_unknown_version_are_404(client: httpx.Client) -> None:
    unknown = "0b0e5a4c-9d1f-4c0a-8b7e-2f6a1d3c4e5f"
    for response in (client.get(f"/v3/workflows/{unknown}/"), client.delete(f"/v3/workflows/{unknown}/"),
                     client.patch(f"/v3/workflows/{unknown}/", json={"workflow_label": "x"})):
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_a_workflow_drives_its_sessions(client: httpx.Client) -> None:
    made = create(client, "OCR", "LIVENESS", "FACE_MATCH", "AML", session_expiration_time=3600)
    response = session_on(client, made["workflow_id"], vendor_data="wf-user")
    assert response.status_code == 201, response.text
    session = response.json()
    assert session["workflow_id"] == made["workflow_id"]
    complete(client, session["session_id"])
    decision = client.get(f"/v3/session/{session['session_id']}/decision/").json()
    assert decision["features"] == ["ID_VERIFICATION", "LIVENESS", "FACE_MATCH", "AML"]
    assert decision["status"] == "Approved"

    expiring = session_on(client, made["workflow_id"]).json()
    client.post("/_mock/clock/advance", json={"seconds": 3601})
    assert client.get(f"/v3/session/{expiring['session_id']}/decision/").json()["status"] == "Expired"


def test_sessions_use_the_latest_published_version(client: httpx.Client) -> None:
    made = create(client, "OCR", "LIVENESS")
    client.patch(f"/v3/workflows/{made['uuid']}/", json={"status": "published", "features": [{"feature": "OCR"}]})
    session = session_on(client, made["uuid"]).json()
    assert session["workflow_version"] == 2
    complete(client, session["session_id"])
    decision = client.get(f"/v3/session/{session['session_id']}/decision/").json()
    assert decision["features"] == ["ID_VERIFICATION"]


def test_draft_only_and_deleted_workflows_refuse_sessions(client: httpx.Client) -> None:
    draft = create(client, "OCR", status="draft")
    refused = session_on(client, draft["workflow_id"])
    assert refused.status_code == 400
    assert refused.json() == {"workflow_id": "Invalid workflow_id."}

    made = create(client, "OCR")
    assert session_on(client, made["workflow_id"]).status_code == 201
    deleted = client.delete(f"/v3/workflows/{made['uuid']}/")
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(f"/v3/workflows/{made['uuid']}/").status_code == 404
    assert session_on(client, made["workflow_id"]).json() == {"workflow_id": "Invalid workflow_id."}


def test_workflows_are_per_application(client: httpx.Client, server: MockServer) -> None:
    made = create(client, "OCR")
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}) as other:
        assert other.get(f"/v3/workflows/{made['uuid']}/").status_code == 404
        assert other.get("/v3/workflows/").json()["count"] == 6


def test_workflows_survive_a_state_file_restart(tmp_path: Path) -> None:
    state_file, key = tmp_path / "state.json", new_key()
    with MockServer(state_file=str(state_file), freeze_clock=True) as first, \
            httpx.Client(base_url=first.url, headers={"x-api-key": key}, timeout=10) as http:
        made = create(http, "OCR", "LIVENESS")
        newer = http.patch(f"/v3/workflows/{made['uuid']}/", json={"status": "published"}).json()
        draft = create(http, "OCR", status="draft")
        gone = create(http, "OCR")
        http.delete(f"/v3/workflows/{gone['uuid']}/")
        listing = http.get("/v3/workflows/").json()
    with MockServer(state_file=str(state_file), freeze_clock=True) as second, \
            httpx.Client(base_url=second.url, headers={"x-api-key": key}, timeout=10) as http:
        assert http.get("/v3/workflows/").json() == listing
        assert http.get(f"/v3/workflows/{newer['uuid']}/").json()["version"] == 2
        assert session_on(http, made["workflow_id"]).json()["workflow_version"] == 2
        assert session_on(http, draft["workflow_id"]).status_code == 400
        assert session_on(http, gone["workflow_id"]).status_code == 400


# ---------------------------------------------------------------- compat switch workflow-flat-body

#: The body Didit's smoke suite sends for its KYC flow (flat flags and a flat threshold).
SUITE_BODY = {"workflow_label": "KYC Test Suite", "workflow_type": "kyc", "is_liveness_enabled": True,
              "is_face_match_enabled": True, "face_match_score_decline_threshold": 50, "max_retry_attempts": 3}


def flat_body_on(client: httpx.Client) -> None:
    switched = client.put("/_mock/standalone/compat", json={"switches": ["workflow-flat-body"]})
    assert switched.status_code == 200, switched.text


def test_a_flat_body_gets_the_specs_400_without_the_switch(client: httpx.Client) -> None:
    response = client.post("/v3/workflows/", json=SUITE_BODY)
    assert response.status_code == 400
    assert response.json() == {key: [ONLY] for key in ("workflow_type", "is_liveness_enabled",
                                                       "is_face_match_enabled", "face_match_score_decline_threshold")}
    assert client.get("/v3/workflows/").json()["count"] == 6  # the built-ins only: nothing was made


def test_with_the_switch_a_flat_body_becomes_ordered_features(client: httpx.Client) -> None:
    flat_body_on(client)
    response = client.post("/v3/workflows/", json=SUITE_BODY)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["features"] == "OCR + LIVENESS + FACE_MATCH"  # the kyc type's ID step first
    assert made["features_config"][2] == {"feature": "FACE_MATCH", "config": {"face_match_score_decline_threshold": 50}}
    assert (made["workflow_label"], made["max_retry_attempts"], made["workflow_type"]) == ("KYC Test Suite", 3, "kyc")
    assert made["is_liveness_enabled"] and made["is_face_match_enabled"] and not made["is_aml_enabled"]

    # mcp3's flags, in any order, run in Didit's order; a false flag turns a step off.
    other = client.post("/v3/workflows/", json={
        "workflow_label": "Full", "is_aml_enabled": True, "is_phone_verification_enabled": "true",
        "is_liveness_enabled": True, "is_ocr_enabled": True, "is_face_match_enabled": False,
        "is_poa_enabled": True, "aml_score_review_threshold": 70, "face_match_score_decline_threshold": 40})
    assert other.status_code == 201, other.text
    assert other.json()["features"] == "OCR + LIVENESS + PROOF_OF_ADDRESS + PHONE_VERIFICATION + AML"
    assert other.json()["features_config"][-1]["config"] == {"aml_score_review_threshold": 70}

    # Sessions run the mapped steps.
    session = session_on(client, made["workflow_id"], vendor_data="flat-user").json()
    complete(client, session["session_id"])
    decision = client.get(f"/v3/session/{session['session_id']}/decision/").json()
    assert decision["features"] == ["ID_VERIFICATION", "LIVENESS", "FACE_MATCH"]


def test_with_the_switch_a_flat_update_changes_the_current_steps(client: httpx.Client) -> None:
    flat_body_on(client)
    made = create(client, "OCR", "LIVENESS", "FACE_MATCH")
    updated = client.patch(f"/v3/workflows/{made['uuid']}/", json={"is_aml_enabled": True, "is_liveness_enabled": False})
    assert updated.status_code == 200, updated.text
    assert updated.json()["features"] == "OCR + FACE_MATCH + AML"
    assert updated.json()["version"] == 1  # a published row is updated in place
    relabelled = client.patch(f"/v3/workflows/{made['uuid']}/", json={"workflow_type": "kyc", "workflow_label": "KYC+"})
    assert (relabelled.json()["features"], relabelled.json()["workflow_label"]) == ("OCR + FACE_MATCH + AML", "KYC+")


@pytest.mark.parametrize(("body", "errors"), [
    ({"workflow_type": "kyc", "is_liveness_enabled": True, "is_aml_enabed": True}, {"is_aml_enabed": [ONLY]}),
    ({"is_liveness_enabled": "maybe"}, {"is_liveness_enabled": ["Must be a valid boolean."]}),
    ({"workflow_type": "fraud"}, {"workflow_type": ['"fraud" is not a valid choice.']}),
    ({"workflow_type": "kyc", "is_ocr_enabled": False}, {"features": ["At least one feature is required."]}),
    ({"is_face_match_enabled": True}, {"features": ["Feature 'FACE_MATCH' must appear after one of: OCR."]}),
])
def test_with_the_switch_a_wrong_flat_body_still_gets_a_400(client: httpx.Client, body: dict, errors: dict) -> None:
    flat_body_on(client)
    response = client.post("/v3/workflows/", json=body)
    assert response.status_code == 400
    assert response.json() == errors
    assert client.get("/v3/workflows/").json()["count"] == 6
