"""The session core over HTTP: create, decision, list, delete, batch delete and update-status."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.conftest import KYC_WORKFLOW, complete, create_session, new_key
from tests.contract.conformance import assert_conforms

DECISION = "/v3/session/{sessionId}/decision/"
PNG_1PX = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cf"
        "c0f01f0005000201a5f1d8a10000000049454e44ae426082"
    )
).decode()



# ---------------------------------------------------------------- create

def test_create_returns_every_key_and_conforms(client: httpx.Client, server) -> None:
    response = client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW, "vendor_data": "user-1",
                                                 "metadata": {"plan": "pro"}, "callback": "https://app.test/cb"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"session_id", "session_number", "session_token", "url", "vendor_data", "metadata",
                         "status", "callback", "workflow_id", "workflow_version"}
    assert body["status"] == "Not Started"
    assert body["session_number"] == 1
    assert len(body["session_token"]) == 12
    assert body["url"] == f"{server.url}/session/{body['session_token']}"
    assert body["metadata"] == {"plan": "pro"}
    assert_conforms("POST", "/v3/session/", 201, body)


def test_session_numbers_are_sequential_per_tenant(client: httpx.Client, server) -> None:
    numbers = [create_session(client)["session_number"] for _ in range(3)]
    assert numbers == [1, 2, 3]
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}) as other:
        assert create_session(other)["session_number"] == 1


def test_language_goes_into_the_hosted_url(client: httpx.Client, server) -> None:
    body = create_session(client, language="es")
    assert body["url"] == f"{server.url}/es/session/{body['session_token']}"


def test_minimal_create_has_null_optionals(client: httpx.Client) -> None:
    body = create_session(client)
    assert body["vendor_data"] is None and body["metadata"] is None and body["callback"] is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({}, {"workflow_id": ["This field is required."]}),
        ({"workflow_id": "nope"}, {"workflow_id": ["Must be a valid UUID."]}),
        ({"workflow_id": KYC_WORKFLOW, "language": "xx"}, {"language": ['"xx" is not a valid choice.']}),
        ({"workflow_id": KYC_WORKFLOW, "callback_method": "any"}, {"callback_method": ['"any" is not a valid choice.']}),
        ({"workflow_id": KYC_WORKFLOW, "vendor_data": "é" * 1001},
         {"vendor_data": ["Ensure this field has no more than 2000 bytes (UTF-8)."]}),
        ({"workflow_id": KYC_WORKFLOW, "callback": "not a url"}, {"callback": ["Enter a valid URL."]}),
        ({"workflow_id": KYC_WORKFLOW, "contact_details": {"email": "bad"}},
         {"contact_details": {"email": ["Enter a valid email address."]}}),
        ({"workflow_id": KYC_WORKFLOW, "expected_details": {"gender": "X"}},
         {"expected_details": {"gender": ['"X" is not a valid choice.']}}),
        ({"workflow_id": KYC_WORKFLOW, "expected_details": {"expected_document_types": ["P", "ZZ"]}},
         {"expected_details": {"expected_document_types": ['"ZZ" is not a valid choice.']}}),
        ({"workflow_id": KYC_WORKFLOW, "expected_details": {"date_of_birth": "01/02/1990"}},
         {"expected_details": {"date_of_birth": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}}),
        ({"workflow_id": KYC_WORKFLOW, "portrait_image": "!!!"}, {"portrait_image": ["Invalid base64 image."]}),
        ({"workflow_id": KYC_WORKFLOW, "portrait_image": base64.b64encode(b"GIF89a....").decode()},
         {"portrait_image": ["Unsupported image format. Use JPEG, PNG, WebP or TIFF."]}),
        ({"workflow_id": KYC_WORKFLOW, "portrait_image": base64.b64encode(b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024)).decode()},
         {"portrait_image": ["Image size exceeds 2MB."]}),
        ({"workflow_id": KYC_WORKFLOW, "sandbox_scenario": "decline_everything"},
         {"sandbox_scenario": ["Unknown sandbox scenario: 'decline_everything'."]}),
    ],
)
def test_create_validation_errors(client: httpx.Client, payload: dict, expected: dict) -> None:
    response = client.post("/v3/session/", json=payload)
    assert response.status_code == 400
    assert response.json() == expected
    assert_conforms("POST", "/v3/session/", 400, response.json())
    assert client.get("/v3/sessions/").json()["count"] == 0


@pytest.mark.parametrize(("vendor_data", "accepted"), [
    ("a" * 2000, True), ("é" * 1000, True), ("😀" * 500, True),  # 2,000 bytes each
    ("a" * 2001, False), ("😀" * 500 + "a", False),
])
def test_vendor_data_is_limited_in_utf8_bytes(client: httpx.Client, vendor_data: str, accepted: bool) -> None:
    response = client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW, "vendor_data": vendor_data})
    assert response.status_code == (201 if accepted else 400)
    if accepted:
        assert response.json()["vendor_data"] == vendor_data


def test_a_workflow_id_in_another_uuid_spelling_is_read_canonically(client: httpx.Client) -> None:
    spelled = KYC_WORKFLOW.upper().replace("-", "")
    response = client.post("/v3/session/", json={"workflow_id": spelled})
    assert response.status_code == 201 and response.json()["workflow_id"] == KYC_WORKFLOW


def test_address_without_country_is_refused(client: httpx.Client) -> None:
    response = client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW, "expected_details": {"address": "1 Main St"}})
    assert response.status_code == 400
    assert "expected_details" in response.json()


def test_malformed_json_and_wrong_body_type_are_400(client: httpx.Client) -> None:
    response = client.post("/v3/session/", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    response = client.post("/v3/session/", json=[1, 2])
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
    response = client.post("/v3/session/", json={"workflow_id": 5})
    assert response.status_code == 400


def test_portrait_image_accepted_and_required_for_biometric(client: httpx.Client) -> None:
    biometric = "d1d17000-0000-4000-8000-000000000003"
    response = client.post("/v3/session/", json={"workflow_id": biometric})
    assert response.status_code == 400
    assert response.json()["portrait_image"].startswith("A portrait image is required")
    response = client.post("/v3/session/", json={"workflow_id": biometric, "vendor_data": "nobody"})
    assert response.json()["portrait_image"].startswith("No stored face image was found")
    response = client.post("/v3/session/", json={"workflow_id": biometric, "portrait_image": PNG_1PX})
    assert response.status_code == 201


def test_unknown_workflow_is_kyc_unless_strict(server) -> None:
    unknown = "0b6b2a8e-5a0e-4c43-9b7e-3a6f2f0c9d11"
    key = new_key()
    with httpx.Client(base_url=server.url, headers={"x-api-key": key}) as client:
        session = create_session(client, workflow_id=unknown)
        decision = client.get(f"/v3/session/{session['session_id']}/decision/").json()
        assert decision["workflow_id"] == unknown
        assert decision["features"] == ["ID_VERIFICATION", "LIVENESS", "FACE_MATCH", "AML", "IP_ANALYSIS"]
    from didit_mock.server import MockServer

    with MockServer(strict_workflows=True) as strict, httpx.Client(base_url=strict.url, headers={"x-api-key": key}) as c:
        response = c.post("/v3/session/", json={"workflow_id": unknown})
        assert response.status_code == 400
        assert response.json() == {"workflow_id": "Invalid workflow_id."}
        assert_conforms("POST", "/v3/session/", 400, response.json())


# ---------------------------------------------------------------- idempotency

def test_unfinished_session_is_reused_for_the_same_vendor_data(client: httpx.Client) -> None:
    first = create_session(client, vendor_data="u-7", callback="https://a.test/1", metadata={"n": 1})
    again = client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW, "vendor_data": "u-7",
                                               "callback": "https://a.test/2", "metadata": {"n": 2}})
    assert again.status_code == 201
    body = again.json()
    assert body["session_id"] == first["session_id"]
    assert body["callback"] == "https://a.test/2" and body["metadata"] == {"n": 2}
    other_workflow = create_session(client, vendor_data="u-7", workflow_id="d1d17000-0000-4000-8000-000000000004")
    assert other_workflow["session_id"] != first["session_id"]


def test_finished_session_is_not_reused(client: httpx.Client) -> None:
    first = create_session(client, vendor_data="u-8")
    complete(client, first["session_id"], "Approved")
    second = create_session(client, vendor_data="u-8")
    assert second["session_id"] != first["session_id"]
    assert second["session_number"] == first["session_number"] + 1


# ---------------------------------------------------------------- auth and tenants

def test_auth_errors(anon: httpx.Client, server) -> None:
    response = anon.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW})
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert_conforms("POST", "/v3/session/", 403, response.json())
    from didit_mock.server import MockServer

    with MockServer(api_keys=["sk_test_good"]) as locked, httpx.Client(base_url=locked.url) as c:
        bad = c.get("/v3/sessions/", headers={"x-api-key": "sk_test_bad"})
        assert bad.status_code == 401 and bad.json() == {"detail": "Invalid API Key."}
        good = c.get("/v3/sessions/", headers={"x-api-key": "sk_test_good"})
        assert good.status_code == 200
    with MockServer(api_keys=["sk_test_good"], auth_mode="spec") as spec_mode, httpx.Client(base_url=spec_mode.url) as c:
        bad = c.get("/v3/sessions/", headers={"x-api-key": "sk_test_bad"})
        assert bad.status_code == 403


def test_tenants_are_isolated(client: httpx.Client, server) -> None:
    mine = create_session(client, vendor_data="mine")
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}) as other:
        assert other.get("/v3/sessions/").json()["count"] == 0
        response = other.get(f"/v3/session/{mine['session_id']}/decision/")
        assert response.status_code == 404
        assert response.json() == {"detail": "Session not found."}
        assert other.delete(f"/v3/session/{mine['session_id']}/delete/").status_code == 404
    assert client.get(f"/v3/session/{mine['session_id']}/decision/").status_code == 200


def test_live_and_sandbox_environments(server) -> None:
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key("sk_live_")}) as live:
        session = create_session(live)
        assert live.get(f"/v3/session/{session['session_id']}/decision/").json()["environment"] == "live"
        refused = live.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW, "sandbox_scenario": "approve"})
        assert refused.status_code == 400 and "sandbox_scenario" in refused.json()
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key("sk_test_")}) as sandbox:
        session = create_session(sandbox)
        assert sandbox.get(f"/v3/session/{session['session_id']}/decision/").json()["environment"] == "sandbox"


def test_healthcheck_needs_no_auth(anon: httpx.Client) -> None:
    response = anon.get("/system/healthcheck")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert_conforms("GET", "/system/healthcheck", 200, response.json())


# ---------------------------------------------------------------- decision

def test_decision_of_a_new_session_has_null_features(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="d-1")
    response = client.get(f"/v3/session/{session['session_id']}/decision/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "Not Started"
    assert body["id_verifications"] is None and body["liveness_checks"] is None
    assert body["session_url"] == session["url"]
    assert_conforms("GET", DECISION, 200, body)


def test_decision_after_completion_is_full_and_consistent(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="d-2", expected_details={"first_name": "Ada", "last_name": "Lovelace"},
                             contact_details={"email": "ada@example.com"})
    complete(client, session["session_id"], "Approved")
    body = client.get(f"/v3/session/{session['session_id']}/decision/").json()
    assert body["status"] == "Approved"
    ids = body["id_verifications"]
    assert ids[0]["first_name"] == "Ada" and ids[0]["last_name"] == "Lovelace"
    assert ids[0]["node_id"] and ids[0]["status"] == "Approved"
    assert body["expected_details"] == {"first_name": "Ada", "last_name": "Lovelace"}
    assert body["contact_details"]["email"] == "ada@example.com"
    assert_conforms("GET", DECISION, 200, body)


def test_same_vendor_data_is_the_same_person(client: httpx.Client) -> None:
    people = []
    for _ in range(2):
        session = create_session(client, vendor_data="same-person")
        complete(client, session["session_id"], "Approved")
        ids = client.get(f"/v3/session/{session['session_id']}/decision/").json()["id_verifications"][0]
        people.append((ids["full_name"], ids["document_number"], ids["date_of_birth"]))
    other = create_session(client, vendor_data="someone-else")
    complete(client, other["session_id"], "Approved")
    ids = client.get(f"/v3/session/{other['session_id']}/decision/").json()["id_verifications"][0]
    assert people[0] == people[1]
    assert (ids["full_name"], ids["document_number"]) != people[0][:2]


def test_unknown_and_malformed_session_ids(client: httpx.Client, anon: httpx.Client) -> None:
    unknown = "5f1f8c9e-0000-4000-8000-000000000000"
    for http in (client, anon):
        response = http.get(f"/v3/session/{unknown}/decision/")
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    response = client.get("/v3/session/NOT-A-UUID/decision/")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    upper = "5F1F8C9E-0000-4000-8000-000000000000"
    assert client.get(f"/v3/session/{upper}/decision/").headers["content-type"].startswith("text/html")


def test_known_session_without_key_is_403(client: httpx.Client, anon: httpx.Client) -> None:
    session = create_session(client)
    response = anon.get(f"/v3/session/{session['session_id']}/decision/")
    assert response.status_code == 403
    assert_conforms("GET", DECISION, 403, response.json())


# ---------------------------------------------------------------- sandbox scenarios and completion

@pytest.mark.parametrize(
    ("slug", "status", "array", "risk"),
    [
        ("approve", "Approved", None, None),
        ("decline_liveness_attack", "Declined", "liveness_checks", "LIVENESS_FACE_ATTACK"),
        ("decline_document_expired", "Declined", "id_verifications", "DOCUMENT_EXPIRED"),
        ("decline_aml_hit", "Declined", "aml_screenings", "POSSIBLE_MATCH_FOUND"),
        ("review_face_match_borderline", "In Review", "face_matches", "LOW_FACE_MATCH_SIMILARITY"),
        ("review_aml_possible_match", "In Review", "aml_screenings", "POSSIBLE_MATCH_FOUND"),
    ],
)
def test_sandbox_scenario_drives_the_outcome(client: httpx.Client, slug: str, status: str, array: str | None,
                                             risk: str | None) -> None:
    session = create_session(client, sandbox_scenario=slug)
    body = complete(client, session["session_id"], None)
    assert body["status"] == status
    if array:
        item = body[array][0]
        assert item["status"] == status
        assert risk in [w["risk"] for w in item["warnings"]]
    assert_conforms("GET", DECISION, 200, body)


def test_complete_with_feature_outcomes(client: httpx.Client) -> None:
    session = create_session(client)
    body = complete(client, session["session_id"], "Declined", LIVENESS={"status": "Declined", "risk": "LOW_LIVENESS_SCORE"})
    assert body["status"] == "Declined"
    liveness = body["liveness_checks"][0]
    assert liveness["status"] == "Declined"
    assert liveness["warnings"][0]["risk"] == "LOW_LIVENESS_SCORE"
    assert liveness["warnings"][0]["log_type"] == "error"
    assert body["id_verifications"][0]["status"] == "Approved"


def test_complete_refuses_finished_and_bad_input(client: httpx.Client) -> None:
    session = create_session(client)
    bad = client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Maybe"})
    assert bad.status_code == 400
    bad = client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"features": {"NOSE": "Approved"}})
    assert bad.status_code == 400
    assert client.get(f"/v3/session/{session['session_id']}/decision/").json()["status"] == "Not Started"
    complete(client, session["session_id"], "Approved")
    again = client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Declined"})
    assert again.status_code == 400


# ---------------------------------------------------------------- list

def test_list_newest_first_with_pagination(client: httpx.Client, server) -> None:
    ids = [create_session(client, vendor_data=f"p-{i}")["session_id"] for i in range(5)]
    page = client.get("/v3/sessions/", params={"limit": 2}).json()
    assert page["count"] == 5
    assert [r["session_id"] for r in page["results"]] == ids[::-1][:2]
    assert page["previous"] is None
    assert page["next"] == f"{server.url}/v3/sessions/?limit=2&offset=2"
    second = client.get(page["next"]).json()
    assert [r["session_id"] for r in second["results"]] == ids[::-1][2:4]
    assert second["previous"] == f"{server.url}/v3/sessions/?limit=2"
    last = client.get("/v3/sessions/", params={"limit": 2, "offset": 4}).json()
    assert last["next"] is None and len(last["results"]) == 1
    assert_conforms("GET", "/v3/sessions/", 200, page)


def test_list_default_limit_is_50(client: httpx.Client) -> None:
    for i in range(51):
        create_session(client, vendor_data=f"bulk-{i}")
    page = client.get("/v3/sessions/").json()
    assert len(page["results"]) == 50 and page["count"] == 51 and page["next"] is not None


def test_list_filters(client: httpx.Client) -> None:
    a = create_session(client, vendor_data="alice-qzx")
    b = create_session(client, vendor_data="bob")
    complete(client, b["session_id"], "Declined")
    address = create_session(client, vendor_data="carol", workflow_id="d1d17000-0000-4000-8000-000000000004")

    def ids(**params: str) -> list[str]:
        return [r["session_id"] for r in client.get("/v3/sessions/", params=params).json()["results"]]

    assert ids(vendor_data="alice-qzx") == [a["session_id"]]
    assert ids(status="Declined") == [b["session_id"]]
    assert ids(status="Declined,Not Started") == [address["session_id"], b["session_id"], a["session_id"]]
    assert ids(status="declined") == []
    assert ids(workflow_id="d1d17000-0000-4000-8000-000000000004,garbage") == [address["session_id"]]
    assert ids(search="qzx") == [a["session_id"]]
    assert ids(search=a["session_id"]) == [a["session_id"]]
    named = create_session(client, vendor_data="n-1", expected_details={"first_name": "José", "last_name": "Quíxotez"})
    assert ids(search="QUIXOTEZ") == [named["session_id"]]  # names match without case or accents
    assert len(ids(date_from="2000-01-01", date_to="2999-12-31")) == 4
    assert ids(date_to="2000-01-01") == []


def test_list_bad_parameters(client: httpx.Client) -> None:
    response = client.get("/v3/sessions/", params={"date_from": "yesterday"})
    assert response.status_code == 400 and response.json() == {"date_from": ["Enter a valid date."]}
    response = client.get("/v3/sessions/", params={"session_kind": "robot"})
    assert response.status_code == 400
    assert response.json() == {"session_kind": 'Must be "user", "business", or "all".'}
    assert client.get("/v3/sessions/", params={"session_kind": "BUSINESS"}).json()["count"] == 0
    assert client.get("/v3/sessions/", params={"limit": "x"}).status_code == 200


def test_list_without_slash_redirects(client: httpx.Client) -> None:
    response = client.get("/v3/sessions", params={"limit": 3}, follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "/v3/sessions/?limit=3"


# ---------------------------------------------------------------- delete

def test_delete_then_gone(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="gone")
    complete(client, session["session_id"], "Approved")
    response = client.delete(f"/v3/session/{session['session_id']}/delete/")
    assert response.status_code == 200
    body = response.json()
    assert body == {"session_id": session["session_id"], "session_number": session["session_number"],
                    "face_retention_outcome": "deleted", "biometric_template_uuid": None}
    assert_conforms("DELETE", "/v3/session/{sessionId}/delete/", 200, body)
    assert client.get(f"/v3/session/{session['session_id']}/decision/").status_code == 404
    second = client.delete(f"/v3/session/{session['session_id']}/delete/")
    assert second.status_code == 404 and second.json() == {"detail": "Not found."}
    assert client.get("/v3/sessions/").json()["count"] == 0


def test_delete_retention_rules(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="keep-face")
    complete(client, session["session_id"], "Approved")
    url = f"/v3/session/{session['session_id']}/delete/"
    bad = client.request("DELETE", url, json={"retain_face_embeddings": True, "deletion_instruction": "privacy_erasure",
                                              "face_retention_days": 5})
    assert bad.status_code == 400
    assert bad.json() == {"retain_face_embeddings": ["Privacy erasure cannot retain biometric templates."]}
    bad = client.request("DELETE", url, json={"retain_face_embeddings": True})
    assert bad.json() == {"detail": "A finite biometric-template retention duration is required."}
    bad = client.request("DELETE", url, json={"face_retention_days": 0})
    assert bad.status_code == 400
    ok = client.request("DELETE", url, json={"retain_face_embeddings": True, "face_retention_days": 30})
    assert ok.json()["face_retention_outcome"] == "retained_with_user"
    assert ok.json()["biometric_template_uuid"]
    fresh = create_session(client)
    assert client.delete(f"/v3/session/{fresh['session_id']}/delete/").json()["face_retention_outcome"] == "none"


def test_batch_delete(client: httpx.Client) -> None:
    sessions = [create_session(client, vendor_data=f"b-{i}") for i in range(4)]
    response = client.post("/v3/sessions/delete/", json={"session_numbers": ["1", 3, "99"]})
    assert response.status_code == 200
    deleted = [r["session_number"] for r in response.json()["results"]]
    assert deleted == [1, 3]
    assert_conforms("POST", "/v3/sessions/delete/", 200, response.json())
    assert client.post("/v3/sessions/delete/", json={"session_numbers": ["1"]}).json() == {"results": []}
    for payload, expected in [
        ({}, {"session_numbers": ["This field is required unless delete_all is true."]}),
        ({"session_numbers": []}, {"session_numbers": ["This list may not be empty."]}),
        ({"session_numbers": ["1a"]}, {"session_numbers": ["All session_numbers must be numeric."]}),
    ]:
        bad = client.post("/v3/sessions/delete/", json=payload)
        assert bad.status_code == 400 and bad.json() == expected
        assert_conforms("POST", "/v3/sessions/delete/", 400, bad.json())
    everything = client.post("/v3/sessions/delete/", json={"delete_all": True, "session_numbers": ["x"]})
    assert [r["session_id"] for r in everything.json()["results"]] == [sessions[1]["session_id"], sessions[3]["session_id"]]
    assert client.get("/v3/sessions/").json()["count"] == 0


# ---------------------------------------------------------------- update-status

def test_update_status_rules_in_order(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="review-me")
    url = f"/v3/session/{session['session_id']}/update-status/"
    early = client.patch(url, json={"new_status": "Approved"})
    assert early.status_code == 400
    assert early.json() == {"detail": "Only sessions with status Approved, Declined, In Review, Kyc Expired, "
                                      "Abandoned, Resubmitted can be updated. Current status: Not Started"}
    garbage = client.patch(url, json={"new_status": "Bogus"})
    assert garbage.json()["detail"].startswith("Only sessions")  # status rule runs before the body
    complete(client, session["session_id"], "In Review")
    cases = [
        ({}, {"new_status": ["This field is required."]}),
        ({"new_status": "Bogus"}, {"new_status": ['"Bogus" is not a valid choice.']}),
        ({"new_status": "In Review"}, {"new_status": ["You can only update the status to 'Approved', 'Declined', or 'Resubmitted'."]}),
        ({"new_status": "Approved", "send_email": True}, {"email_address": ["Email address is required when send_email is true."]}),
        ({"new_status": "Resubmitted", "nodes_to_resubmit": [{"node_id": "x", "feature": "BOGUS"}]}, None),
    ]
    for payload, expected in cases:
        response = client.patch(url, json=payload)
        assert response.status_code == 400, payload
        if expected is not None:
            assert response.json() == expected
        assert_conforms("PATCH", "/v3/session/{sessionId}/update-status/", 400, response.json())
    feature_error = client.patch(url, json={"new_status": "Resubmitted", "nodes_to_resubmit": [{"node_id": "x", "feature": "BOGUS"}]})
    assert feature_error.json()["nodes_to_resubmit"][0]["feature"][0].startswith('"BOGUS" is not a valid choice.')
    ok = client.patch(url, json={"new_status": "Approved", "comment": "looks fine"})
    assert ok.status_code == 200 and ok.json() == {"session_id": session["session_id"]}
    assert_conforms("PATCH", "/v3/session/{sessionId}/update-status/", 200, ok.json())
    same = client.patch(url, json={"new_status": "Approved"})
    assert same.status_code == 400 and same.json() == ["The new status is the same as the current status."]
    decision = client.get(f"/v3/session/{session['session_id']}/decision/").json()
    assert decision["status"] == "Approved"
    assert decision["reviews"][-1]["user"] == "API Client"
    assert decision["reviews"][-1]["new_status"] == "Approved"
    assert decision["reviews"][-1]["comment"] == "looks fine"
    assert client.patch(url, json={"new_status": "Declined"}).status_code == 200
    assert client.get(f"/v3/session/{session['session_id']}/decision/").json()["status"] == "Declined"


def test_resubmission_auto_selects_failed_features(client: httpx.Client) -> None:
    session = create_session(client)
    complete(client, session["session_id"], "Declined", LIVENESS="Declined")
    url = f"/v3/session/{session['session_id']}/update-status/"
    assert client.patch(url, json={"new_status": "Resubmitted"}).status_code == 200
    decision = client.get(f"/v3/session/{session['session_id']}/decision/").json()
    assert decision["status"] == "Resubmitted"
    assert decision["liveness_checks"][0]["status"] == "Resub Requested"
    approved = create_session(client)
    complete(client, approved["session_id"], "Approved")
    nothing = client.patch(f"/v3/session/{approved['session_id']}/update-status/", json={"new_status": "Resubmitted"})
    assert nothing.json() == {"nodes_to_resubmit": "No features found that need resubmission. All features are already approved."}
    kyb = client.patch(f"/v3/session/{approved['session_id']}/update-status/",
                       json={"new_status": "Resubmitted", "nodes_to_resubmit": [{"node_id": "n", "feature": "KYB_REGISTRY"}]})
    assert kyb.json()["nodes_to_resubmit"].startswith("The following features cannot be resubmitted directly: KYB_REGISTRY.")
    explicit = client.patch(f"/v3/session/{approved['session_id']}/update-status/",
                            json={"new_status": "Resubmitted", "nodes_to_resubmit": [{"node_id": "feature_ocr_1", "feature": "ID_VERIFICATION"}]})
    assert explicit.status_code == 200


def test_update_status_unknown_session(client: httpx.Client, anon: httpx.Client) -> None:
    url = "/v3/session/5f1f8c9e-0000-4000-8000-000000000001/update-status/"
    assert anon.patch(url, json={"new_status": "Approved"}).status_code == 404
    assert client.patch(url, json={"new_status": "Approved"}).json() == {"detail": "Not found."}


# ---------------------------------------------------------------- determinism

def test_same_seed_same_requests_same_bytes() -> None:
    from didit_mock.server import MockServer

    outputs = []
    for _ in range(2):
        with MockServer(seed=42, freeze_clock=True) as running, httpx.Client(
            base_url=running.url, headers={"x-api-key": "sk_test_det"}
        ) as http:
            http.post("/_mock/clock/set", json={"now": "2026-05-01T10:00:00Z"})
            created = http.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW, "vendor_data": "det"})
            session_id = created.json()["session_id"]
            http.post(f"/_mock/sessions/{session_id}/complete", json={"status": "Approved"})
            decision = http.get(f"/v3/session/{session_id}/decision/")
            listing = http.get("/v3/sessions/")
            outputs.append((created.content.replace(running.url.encode(), b"URL"),
                            decision.content.replace(running.url.encode(), b"URL"),
                            listing.content.replace(running.url.encode(), b"URL")))
    assert outputs[0] == outputs[1]


# ---------------------------------------------------------------- per-feature status

def test_feature_status_override_keeps_the_session_decision(client: httpx.Client) -> None:
    session = create_session(client)
    complete(client, session["session_id"], "In Review", AML="In Review")
    url = f"/v3/session/{session['session_id']}/features/feature_aml_1/update-status/"
    response = client.patch(url, json={"new_status": "Approved", "comment": "false positive"})
    assert response.status_code == 200
    assert response.json() == {"session_id": session["session_id"], "node_id": "feature_aml_1",
                               "feature_type": "AML", "new_status": "Approved"}
    path = "/v3/session/{sessionId}/features/{nodeId}/update-status/"
    assert_conforms("PATCH", path, 200, response.json())
    decision = client.get(f"/v3/session/{session['session_id']}/decision/").json()
    assert decision["status"] == "In Review"
    assert decision["aml_screenings"][0]["status"] == "Approved"
    assert decision["reviews"][-1]["comment"] == "false positive"
    same = client.patch(url, json={"new_status": "Approved"})
    assert same.status_code == 400
    assert same.json() == {"new_status": "The new status is the same as the current status."}
    bad = client.patch(url, json={"new_status": "Resubmitted"})
    assert bad.status_code == 400 and bad.json() == {"new_status": ['"Resubmitted" is not a valid choice.']}
    missing = client.patch(f"/v3/session/{session['session_id']}/features/feature_nfc_1/update-status/",
                           json={"new_status": "Approved"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No feature found with node_id 'feature_nfc_1' in this session."}
    for status, body in ((400, same.json()), (404, missing.json())):
        assert_conforms("PATCH", path, status, body)
    unknown = client.patch("/v3/session/5f1f8c9e-0000-4000-8000-000000000009/features/feature_aml_1/update-status/",
                           json={"new_status": "Approved"})
    assert unknown.status_code == 404 and unknown.json() == {"detail": "Session not found."}


def test_feature_status_refuses_api_sessions_and_bad_keys(client: httpx.Client, anon: httpx.Client) -> None:
    sent = client.post("/v3/phone/send/", json={"phone_number": "+34600000001"}).json()
    url = f"/v3/session/{sent['request_id']}/features/feature_phone_1/update-status/"
    response = client.patch(url, json={"new_status": "Approved"})
    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot change feature status for API sessions."}
    assert anon.patch(url, json={"new_status": "Approved"}).status_code == 403


def test_deletes_can_answer_the_older_204() -> None:
    from didit_mock.server import MockServer

    with MockServer(delete_returns_204=True) as old, httpx.Client(base_url=old.url, headers={"x-api-key": new_key()}) as c:
        first, second = create_session(c), create_session(c)
        response = c.delete(f"/v3/session/{first['session_id']}/delete/")
        assert response.status_code == 204 and response.content == b""
        batch = c.post("/v3/sessions/delete/", json={"session_numbers": [second["session_number"]]})
        assert batch.status_code == 204
        assert c.get("/v3/sessions/").json()["count"] == 0
