"""AML screening and the email, phone and IP risk APIs over HTTP, with their input-driven rules."""

from __future__ import annotations

import json

import httpx
import pytest


def aml(client: httpx.Client, headers: dict[str, str] | None = None, **body: object) -> httpx.Response:
    return client.post("/v3/aml/", json=body, headers=headers or {})


# ---------------------------------------------------------------- AML

def test_a_clean_name_has_no_hits(client: httpx.Client) -> None:
    response = aml(client, full_name="John Test Smith", date_of_birth="1990-01-01", nationality="US",
                   vendor_data="skill-test-suite")
    assert response.status_code == 200, response.text
    body = response.json()
    result = body["aml"]
    assert result["status"] == "Approved" and result["total_hits"] == 0 and result["score"] == 0
    assert result["screened_data"] == {"full_name": "John Test Smith", "date_of_birth": "1990-01-01",
                                       "nationality": "US", "document_number": None}
    decision = client.get(f"/v3/session/{body['request_id']}/decision/").json()
    assert decision["aml_screenings"][0]["total_hits"] == 0


def test_the_pep_of_the_watchlist_is_a_hit_that_still_approves(client: httpx.Client) -> None:
    result = aml(client, full_name="Antonio Ejemplo Modelo", date_of_birth="1972-02-29", nationality="ES").json()["aml"]
    assert result["total_hits"] == 1 and result["score"] == 73 and result["status"] == "Approved"
    hit = result["hits"][0]
    assert hit["match_score"] == 100 and hit["review_status"] == "Unreviewed" and hit["pep_matches"]
    assert result["warnings"] == []


def test_a_sanctioned_name_goes_to_review_and_lower_thresholds_decline(client: httpx.Client) -> None:
    review = aml(client, full_name="Ivan Sanctionov", date_of_birth="1965-07-14").json()["aml"]
    assert review["status"] == "In Review" and review["score"] == 100
    assert [w["risk"] for w in review["warnings"]] == ["POSSIBLE_MATCH_FOUND"]
    declined = aml(client, full_name="Ivan Sanctionov", aml_score_review_threshold=90).json()["aml"]
    assert declined["status"] == "Declined"


def test_a_weak_match_is_a_false_positive(client: httpx.Client) -> None:
    result = aml(client, full_name="Ivan Sanctionov", date_of_birth="1999-01-01", nationality="US").json()["aml"]
    assert result["total_hits"] == 1 and result["hits"][0]["review_status"] == "False Positive"
    assert result["score"] == 0 and result["status"] == "Approved"


def test_aml_validation(client: httpx.Client) -> None:
    assert aml(client).json() == {"full_name": ["This field is required."]}
    assert aml(client, full_name="X").json() == {"full_name": ["Ensure this field has at least 2 characters."]}
    assert aml(client, full_name="Jo Do", nationality="ESP").json() == {
        "nationality": ["Invalid ISO 3166-1 alpha-2 country code."]}
    assert aml(client, full_name="Jo Do", aml_name_weight=50).json() == {
        "error": ["AML weights must sum to 100. Current sum: 90 (name: 50, dob: 25, country: 15)"]}
    assert aml(client, full_name="Jo Do", aml_score_approve_threshold=90, aml_score_review_threshold=80).json() == {
        "error": ["Approve threshold (90.0) cannot be greater than review threshold (80.0)"]}
    assert aml(client, full_name="Jo Do", include_ongoing_monitoring=True, save_api_request=False).json() == {
        "error": ["Ongoing monitoring can only be enabled when the API request is saved."]}


def test_the_idempotency_key_replays_and_refuses_another_body(client: httpx.Client) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = aml(client, headers, full_name="Maria Adversa")
    again = aml(client, headers, full_name="Maria Adversa")
    assert again.status_code == 200 and again.content == first.content
    assert client.get("/v3/sessions/").json()["count"] == 1
    other = aml(client, headers, full_name="Somebody Else")
    assert other.status_code == 409
    assert other.json() == {"detail": "Idempotency-Key has already been used with a different request body."}


def test_sandbox_scenarios_of_aml(client: httpx.Client) -> None:
    declined = aml(client, full_name="Clean Person", sandbox_scenario="decline_aml_hit").json()["aml"]
    assert declined["status"] == "Declined" and declined["total_hits"] == 1
    review = aml(client, full_name="Clean Person", sandbox_scenario="review_aml_possible_match").json()["aml"]
    assert review["status"] == "In Review"


def test_an_unsaved_screening_leaves_nothing(client: httpx.Client) -> None:
    aml(client, full_name="Maria Adversa", save_api_request=False)
    assert client.get("/v3/sessions/").json()["count"] == 0


# ---------------------------------------------------------------- email, phone, IP

@pytest.mark.parametrize(("email", "status", "risks"), [
    ("alice@example.com", "Approved", []),
    ("someone@mailinator.com", "Declined", ["DISPOSABLE_EMAIL_DETECTED"]),
    ("breached.bob@example.org", "In Review", []),
    ("nobody@example.invalid", "Declined", ["UNDELIVERABLE_EMAIL_DETECTED"]),
])
def test_email_risk_rules(client: httpx.Client, email: str, status: str, risks: list[str]) -> None:
    response = client.post("/v3/email/risk/", json={"email": email, "vendor_data": "mail-user"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == status and body["email"]["status"] == status
    assert [w["risk"] for w in body["email"]["warnings"]] == risks
    assert body["email"]["email"] == email and body["email"]["verification_attempts"] == 0
    decision = client.get(f"/v3/session/{body['request_id']}/decision/").json()
    assert decision["email_verifications"][0]["email"] == email and decision["status"] == status


@pytest.mark.parametrize(("number", "status", "virtual"), [
    ("+14155552671", "Approved", False),
    ("+447700900123", "In Review", True),
    ("+15005550006", "In Review", True),
])
def test_phone_risk_rules(client: httpx.Client, number: str, status: str, virtual: bool) -> None:
    body = client.post("/v3/phone/risk/", json={"phone_number": number}).json()
    assert body["status"] == status and body["phone"]["is_virtual"] is virtual
    assert body["phone"]["full_number"] == number


def test_a_disposable_number_declines(client: httpx.Client) -> None:
    body = client.post("/v3/phone/risk/", json={"phone_number": "+61491570006"}).json()
    assert body["status"] == "Declined" and body["phone"]["is_disposable"] is True


@pytest.mark.parametrize(("ip", "claimed", "status", "vpn", "dc", "mismatch"), [
    ("192.0.2.10", "ESP", "Approved", False, False, False),
    ("198.51.100.7", None, "In Review", True, False, None),
    ("203.0.113.9", None, "In Review", False, True, None),
    ("8.8.8.8", "ESP", "In Review", True, True, True),
])
def test_ip_risk_rules(client: httpx.Client, ip: str, claimed: str | None, status: str, vpn: bool, dc: bool,
                       mismatch: bool | None) -> None:
    payload = {"ip_address": ip, **({"claimed_country": claimed} if claimed else {})}
    body = client.post("/v3/ip/risk/", json=payload).json()
    assert body["status"] == status
    assert (body["ip"]["is_vpn_or_tor"], body["ip"]["is_data_center"], body["ip"]["country_mismatch"]) == (
        vpn, dc, mismatch)


def test_a_private_ip_is_best_effort(client: httpx.Client) -> None:
    body = client.post("/v3/ip/risk/", json={"ip_address": "10.0.0.1"}).json()
    assert body["status"] == "Approved" and body["ip"]["ip_address"] is None and body["ip"]["threat"] == {}


def test_risk_validation(client: httpx.Client) -> None:
    assert client.post("/v3/email/risk/", json={"email": "nope"}).json() == {"email": ["Enter a valid email address."]}
    assert client.post("/v3/phone/risk/", json={"phone_number": "12"}).json() == {
        "phone_number": ["Invalid phone number provided."]}
    assert client.post("/v3/ip/risk/", json={"ip_address": "999.1.1.1"}).json() == {
        "ip_address": ["Enter a valid IPv4 or IPv6 address."]}
    assert client.post("/v3/email/risk/", json={"email": "a@example.com", "signals": {"ip": "x"}}).json() == {
        "signals": {"ip": ["Enter a valid IPv4 or IPv6 address."]}}


def test_a_blocklisted_email_declines_its_risk_check(client: httpx.Client) -> None:
    from tests.conftest import create_session

    session = create_session(client, vendor_data="blocked-mail", contact_details={"email": "evil@example.com"})
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    added = client.post("/v3/blocklist/add/", json={"session_id": session["session_id"], "blocklist_email": True})
    assert added.status_code in (200, 201), added.text
    body = client.post("/v3/email/risk/", json={"email": "evil@example.com"}).json()
    assert body["status"] == "Declined"
    assert [w["risk"] for w in body["email"]["warnings"]] == ["EMAIL_IN_BLOCKLIST"]


def test_credits_run_out_with_the_risk_apis_own_words(client: httpx.Client) -> None:
    created = client.post("/_mock/tenants", json={"environment": "live", "credits": 1}).json()
    with httpx.Client(base_url=str(client.base_url), headers={"x-api-key": created["api_key"]}) as live:
        assert live.post("/v3/ip/risk/", json={"ip_address": "192.0.2.1"}).status_code == 200
        refused = live.post("/v3/ip/risk/", json={"ip_address": "192.0.2.1"})
        assert refused.status_code == 403
        assert refused.json() == {"error": "You don't have enough credits to perform this request."}


def test_saved_calls_armed_outcomes_and_idempotency_survive_a_state_file_restart(tmp_path) -> None:
    from didit_mock.server import MockServer
    from tests.test_standalone_faces import PHOTO

    state_file = tmp_path / "state.json"
    key = "sk_test_standalone_state"
    with MockServer(state_file=str(state_file), freeze_clock=True) as first, \
            httpx.Client(base_url=first.url, headers={"x-api-key": key}, timeout=10) as http:
        saved = http.post("/v3/passive-liveness/", files={"user_image": ("s.png", PHOTO, "image/png")},
                          data={"vendor_data": "kept"}).json()
        decision = http.get(f"/v3/session/{saved['request_id']}/decision/").json()
        screened = aml(http, {"Idempotency-Key": "k1"}, full_name="Maria Adversa")
        http.post("/_mock/standalone/face-match/outcomes", json={"status": "Declined"})
    with MockServer(state_file=str(state_file), freeze_clock=True) as second, \
            httpx.Client(base_url=second.url, headers={"x-api-key": key}, timeout=10) as http:
        moved = json.loads(json.dumps(decision).replace(first.url, second.url))  # its links follow the server
        assert http.get(f"/v3/session/{saved['request_id']}/decision/").json() == moved
        assert aml(http, {"Idempotency-Key": "k1"}, full_name="Maria Adversa").content == screened.content
        assert aml(http, {"Idempotency-Key": "k1"}, full_name="Other Name").status_code == 409
        armed = http.get("/_mock/standalone/outcomes").json()
        assert armed["face-match"][0]["status"] == "Declined"


def test_every_saved_variant_has_a_decision_a_pdf_and_can_be_deleted(client: httpx.Client) -> None:
    from tests.test_standalone_faces import PHOTO, TINY

    def upload(path: str, *names: str, image: bytes = PHOTO) -> str:
        files = {n: (f"{n}.png", image, "image/png") for n in names}
        response = client.post(path, files=files)
        assert response.status_code == 200, response.text
        return response.json()["request_id"]

    ids = [
        upload("/v3/passive-liveness/", "user_image", image=TINY),
        upload("/v3/face-match/", "user_image", "ref_image", image=TINY),
        upload("/v3/age-estimation/", "user_image", image=TINY),
        upload("/v3/id-verification/", "front_image", image=TINY),
        upload("/v3/id-verification/", "front_image", "back_image"),
        client.post("/v3/ip/risk/", json={"ip_address": "10.1.2.3"}).json()["request_id"],
        client.post("/v3/phone/risk/", json={"phone_number": "+447700900123"}).json()["request_id"],
        aml(client, full_name="Ivan Sanctionov").json()["request_id"],
    ]
    for request_id in ids:
        assert client.get(f"/v3/session/{request_id}/decision/").status_code == 200
        pdf = client.get(f"/v3/session/{request_id}/generate-pdf/")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get("/v3/sessions/").json()["count"] == len(ids)
    assert client.delete(f"/v3/session/{ids[0]}/delete/").status_code in (200, 204)
    assert client.get(f"/v3/session/{ids[0]}/decision/").status_code == 404


# ---------------------------------------------------------------- database validation

def dbv(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post("/v3/database-validation/", json=body)


@pytest.mark.parametrize(("number", "status", "match_type", "code"), [
    ("12345678901", "Approved", "full_match", "MATCH"),
    ("12345670000", "Declined", "no_match", "NO_MATCH"),
    ("12345671111", "Approved", "partial_match", "PARTIAL_MATCH"),
    ("12345679999", "Declined", "no_match", "DOCUMENT_NOT_FOUND"),
    ("12345675555", "In Review", None, "REGISTRY_UNAVAILABLE"),
])
def test_the_number_decides_the_registry_answer(client: httpx.Client, number: str, status: str,
                                                match_type: str | None, code: str) -> None:
    body = dbv(client, issuing_state="BRA", identification_number=number, first_name="Ana", last_name="Silva",
               vendor_data="dbv-user").json()
    result = body["database_validation"]
    assert (result["status"], result["match_type"]) == (status, match_type)
    assert result["validations"][0]["service_id"] == "bra_cpf" and result["validations"][0]["outcome_code"] == code
    assert "services_used" not in result
    decision = client.get(f"/v3/session/{body['request_id']}/decision/").json()
    assert decision["database_validations"][0]["match_type"] == match_type


def test_database_validation_actions_services_and_unsaved_shape(client: httpx.Client) -> None:
    lenient = dbv(client, issuing_state="BRA", tax_number="12345670000", no_match_action="NO_ACTION").json()
    assert lenient["database_validation"]["status"] == "Approved"
    assert lenient["database_validation"]["warnings"][0]["log_type"] == "information"
    chosen = dbv(client, issuing_state="PER", services=["per_dni"], identification_number="12345678",
                 first_name="Test", save_api_request=False).json()["database_validation"]
    assert chosen["services_used"] == ["per_dni"] and chosen["match_score"] == 1.0
    assert chosen["validations"] == {"first_name": "full_match", "personal_number": "full_match"}


def test_database_validation_errors(client: httpx.Client) -> None:
    assert dbv(client, issuing_state="XXX").json()["error"][0].startswith("Invalid issuing state. Valid options are: ARE")
    assert dbv(client, issuing_state="BRA").json() == {
        "error": ["Missing required fields: tax_number (or use 'identification_number' which maps to 'tax_number' "
                  "for BRA)"], "fields_required_by": {"tax_number": ["bra_cpf"]}}
    assert dbv(client, issuing_state="BRA", tax_number="1234567890").json() == {"tax_number": [
        "Invalid tax number for BRA: Brazilian CPF (exactly 11 digits). Must be exactly 11 characters long (got 10)."]}
    assert dbv(client, issuing_state="PER", services=["bogus_service"], personal_number="12345678").json() == {
        "services": ["Unknown service_id(s): ['bogus_service']"]}
    assert dbv(client, issuing_state="PER", services=["bra_cpf"], personal_number="12345678").json() == {
        "services": ["Services not currently live for PER: ['bra_cpf']. Available services: ['per_dni', "
                     "'per_residential', 'per_tax_registration']"]}
    refused = dbv(client, issuing_state="BRA", tax_number="12345677777")
    assert refused.status_code == 400 and refused.json()["validation_errors"][0]["code"] == "provider_rejected_input"
    empty = dbv(client, issuing_state="BRA", tax_number="12345678888")
    assert empty.status_code == 502 and empty.json()["validation_errors"][0]["code"] == "empty_provider_response"
    assert client.get("/v3/sessions/").json()["count"] == 0


# ---------------------------------------------------------------- AML hit review statuses

def test_a_reviewer_marks_the_hits_of_a_saved_screening(client: httpx.Client) -> None:
    body = aml(client, full_name="Antonio Ejemplo Modelo", date_of_birth="1972-02-29", nationality="ES").json()
    session_id, hit_id = body["request_id"], body["aml"]["hits"][0]["id"]
    path = f"/v3/session/{session_id}/update-aml-hit-status/"
    done = client.patch(path, json={"hit_id": hit_id, "review_status": "False Positive"})
    assert done.status_code == 200, done.text
    assert done.json() == {"message": "Hit status updated successfully", "hit_id": hit_id,
                           "review_status": "False Positive"}
    decision = client.get(f"/v3/session/{session_id}/decision/").json()
    assert decision["aml_screenings"][0]["hits"][0]["review_status"] == "False Positive"
    bulk = client.patch(f"/v3/session/{session_id}/bulk-update-aml-hit-status/",
                        json={"hit_updates": [{"hit_id": hit_id, "review_status": "Confirmed Match"}]})
    assert bulk.json() == {"message": "Updated 1 hit(s) successfully", "updated_hits": [hit_id]}
    assert client.patch(path, json={"hit_id": "nope", "review_status": "Inconclusive"}).json() == {
        "detail": "Hit with ID 'nope' not found in the AML check."}
    assert client.patch(path, json={"hit_id": hit_id, "review_status": "Maybe"}).json() == {
        "review_status": ['"Maybe" is not a valid choice.']}
    assert client.patch(f"/v3/session/{session_id}/bulk-update-aml-hit-status/", json={"hit_updates": []}).json() == {
        "hit_updates": ["hit_updates cannot be empty"]}


def test_hit_statuses_need_an_aml_check_and_api_sessions_keep_their_feature_status(client: httpx.Client) -> None:
    from tests.test_standalone_faces import PHOTO

    saved = client.post("/v3/passive-liveness/", files={"user_image": ("s.png", PHOTO, "image/png")}).json()
    missing = client.patch(f"/v3/session/{saved['request_id']}/update-aml-hit-status/",
                           json={"hit_id": "x", "review_status": "Inconclusive"})
    assert missing.status_code == 404 and missing.json() == {"detail": "The session does not have an AML check."}
    refused = client.patch(f"/v3/session/{saved['request_id']}/features/feature_liveness_1/update-status/",
                           json={"new_status": "Declined"})
    assert refused.status_code == 400
    assert refused.json() == {"detail": "Cannot change feature status for API sessions."}


def test_risk_matches_show_other_users_with_the_same_value(client: httpx.Client) -> None:
    first = client.post("/v3/email/risk/", json={"email": "shared@example.com", "vendor_data": "user-a"}).json()
    again = client.post("/v3/email/risk/", json={"email": "shared@example.com", "vendor_data": "user-a"}).json()
    assert again["email"]["matches"] == []  # the same user is no match
    other = client.post("/v3/email/risk/", json={"email": "Shared@example.com", "vendor_data": "user-b"}).json()
    assert [m["session_id"] for m in other["email"]["matches"]] == [again["request_id"], first["request_id"]]
    assert other["email"]["matches"][0]["api_service"] == "EMAIL_RISK"
    client.post("/v3/phone/risk/", json={"phone_number": "+14155552671", "vendor_data": "user-a"})
    phone = client.post("/v3/phone/risk/", json={"phone_number": "+14155552671", "vendor_data": "user-c"}).json()
    assert phone["phone"]["matches"][0]["vendor_data"] == "user-a"
    decision = client.get(f"/v3/session/{phone['request_id']}/decision/").json()
    assert decision["phone_verifications"][0]["matches"][0]["vendor_data"] == "user-a"
