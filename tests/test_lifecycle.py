"""Session lifecycle over HTTP: expiry on the tenant clock, sandbox arm, the reviews feed, data fixes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from didit_mock.domain.events import DomainEvent
from didit_mock.server import MockServer
from tests.conftest import advance, complete, create_session, new_key
from tests.contract.conformance import assert_conforms

DAY = 24 * 3600
WEEK = 7 * DAY
ADDRESS_WORKFLOW = "d1d17000-0000-4000-8000-000000000004"
ARM = "/v3/session/{sessionId}/sandbox/arm/"
REVIEWS = "/v3/sessions/{session_id}/reviews/"
UPDATE_DATA = "/v3/session/{sessionId}/update-data/"
UPDATE_POA = "/v3/session/{sessionId}/update-poa-data/"


def status_of(client: httpx.Client, session_id: str) -> str:
    response = client.get(f"/v3/session/{session_id}/decision/")
    assert response.status_code == 200, response.text
    return response.json()["status"]



def clock_date(client: httpx.Client) -> datetime:
    return datetime.fromtimestamp(client.get("/_mock/clock").json()["timestamp"], tz=timezone.utc)


@pytest.fixture
def events(server: MockServer, client: httpx.Client, api_key: str) -> list[DomainEvent]:
    """Every domain event of the test's tenant (webhooks are built from these)."""
    client.get("/_mock/tenant")
    tenant = server.registry.get(api_key)
    seen: list[DomainEvent] = []
    tenant.events.subscribe(seen.append)
    return seen


# ---------------------------------------------------------------- expiry on the tenant clock

def test_not_started_session_expires_after_the_workflow_time(client: httpx.Client, events: list) -> None:
    sid = create_session(client)["session_id"]
    advance(client, WEEK - 1)
    assert status_of(client, sid) == "Not Started"
    advance(client, 1)
    assert status_of(client, sid) == "Expired"
    assert [(e.webhook_type, e.status) for e in events if e.session_id == sid] == [("status.updated", "Expired")]
    assert client.get(f"/v3/session/{sid}/generate-pdf/").status_code == 403


def test_started_session_left_unfinished_is_abandoned(client: httpx.Client) -> None:
    created = create_session(client)
    sid = created["session_id"]
    advance(client, 3 * DAY)
    started = client.post(f"/_mock/sessions/{sid}/start")
    assert started.status_code == 200
    assert started.json()["status"] == "In Progress"
    advance(client, WEEK - 1)  # counted from the start, not the creation
    assert status_of(client, sid) == "In Progress"
    advance(client, 1)
    assert status_of(client, sid) == "Abandoned"


def test_finished_session_never_expires(client: httpx.Client) -> None:
    sid = create_session(client)["session_id"]
    complete(client, sid, "Declined")
    advance(client, 4 * WEEK)
    assert status_of(client, sid) == "Declined"


def test_resubmitted_session_is_abandoned_when_not_redone(client: httpx.Client) -> None:
    sid = create_session(client)["session_id"]
    complete(client, sid, "Declined")
    advance(client, DAY)
    resubmit = client.patch(f"/v3/session/{sid}/update-status/", json={"new_status": "Resubmitted"})
    assert resubmit.status_code == 200, resubmit.text
    advance(client, WEEK - 1)
    assert status_of(client, sid) == "Resubmitted"
    advance(client, 1)
    assert status_of(client, sid) == "Abandoned"


def test_approved_session_becomes_kyc_expired_when_its_document_expires(client: httpx.Client) -> None:
    sid = create_session(client)["session_id"]
    expires = (clock_date(client) + timedelta(days=3)).date()
    decision = complete(client, sid, "Approved",
                        ID_VERIFICATION={"status": "Approved", "data": {"expiration_date": expires.isoformat()}})
    assert decision["id_verifications"][0]["expiration_date"] == expires.isoformat()
    advance(client, DAY)
    assert status_of(client, sid) == "Approved"
    advance(client, 3 * DAY)
    assert status_of(client, sid) == "Kyc Expired"
    pdf = client.get(f"/v3/session/{sid}/generate-pdf/")
    assert pdf.status_code == 200


def test_corrected_expiration_date_moves_the_kyc_expiry(client: httpx.Client) -> None:
    sid = create_session(client)["session_id"]
    complete(client, sid, "Approved")
    soon = (clock_date(client) + timedelta(days=2)).date().isoformat()
    later = (clock_date(client) + timedelta(days=10)).date().isoformat()
    assert client.patch(f"/v3/session/{sid}/update-data/", json={"expiration_date": soon}).status_code == 200
    assert client.patch(f"/v3/session/{sid}/update-data/", json={"expiration_date": later}).status_code == 200
    advance(client, 5 * DAY)
    assert status_of(client, sid) == "Approved"  # the first date no longer applies
    advance(client, 6 * DAY)
    assert status_of(client, sid) == "Kyc Expired"


def test_start_route_errors(client: httpx.Client) -> None:
    sid = create_session(client)["session_id"]
    complete(client, sid, "Approved")
    again = client.post(f"/_mock/sessions/{sid}/start")
    assert again.status_code == 400
    assert "Current status: Approved" in again.json()["detail"]
    assert client.post(f"/_mock/sessions/{uuid.uuid4()}/start").status_code == 404


# ---------------------------------------------------------------- sandbox arm

def arm(http: httpx.Client, session: dict, scenario: object = "decline_aml_hit",
        token: str | None = None) -> httpx.Response:
    headers = {"Session-Token": token if token is not None else session["session_token"]}
    return http.post(f"/v3/session/{session['session_id']}/sandbox/arm/", json={"scenario": scenario},
                     headers=headers)


def test_arming_a_scenario_drives_the_outcome(client: httpx.Client, anon: httpx.Client) -> None:
    session = create_session(client)
    response = arm(anon, session, "review_poa_partial_match")
    response = arm(anon, session, "decline_aml_hit")  # re-arming while Not Started swaps the scenario
    assert response.status_code == 200
    body = response.json()
    assert body == {"session_id": session["session_id"], "scenario": "decline_aml_hit", "status": "Not Started"}
    assert_conforms("POST", ARM, 200, body)
    decision = complete(client, session["session_id"], None)
    assert decision["status"] == "Declined"
    assert any(w["risk"] == "POSSIBLE_MATCH_FOUND" for w in decision["aml_screenings"][0]["warnings"])


def test_arm_errors(client: httpx.Client, anon: httpx.Client) -> None:
    session, other = create_session(client), create_session(client)

    unknown = arm(anon, session, "x")
    assert unknown.status_code == 400
    assert unknown.json() == {"scenario": ["Unknown sandbox scenario: 'x'."]}
    assert_conforms("POST", ARM, 400, unknown.json())
    missing = anon.post(f"/v3/session/{session['session_id']}/sandbox/arm/", json={},
                        headers={"Session-Token": session["session_token"]})
    assert missing.status_code == 400 and missing.json() == {"scenario": ["This field is required."]}
    assert_conforms("POST", ARM, 400, missing.json())

    mismatch = arm(anon, session, token=other["session_token"])
    assert mismatch.status_code == 404 and mismatch.json() == {"detail": "Not found."}
    assert_conforms("POST", ARM, 404, mismatch.json())
    assert arm(anon, session, token="nonexistent1").status_code == 404
    assert anon.post(f"/v3/session/{session['session_id']}/sandbox/arm/",
                     json={"scenario": "approve"}).status_code == 403

    client.post(f"/_mock/sessions/{session['session_id']}/start")
    started = arm(anon, session)
    assert started.status_code == 400
    assert started.json() == ["Scenario can only be armed before the verification starts."]
    assert_conforms("POST", ARM, 400, started.json())


def test_arm_is_sandbox_only(server: MockServer, anon: httpx.Client) -> None:
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key("sk_live_")}) as live:
        session = create_session(live)
    response = arm(anon, session, "approve")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


# ---------------------------------------------------------------- reviews feed

def test_reviews_feed_lists_decisions_and_notes(client: httpx.Client, events: list) -> None:
    sid = create_session(client)["session_id"]
    empty = client.get(f"/v3/sessions/{sid}/reviews/")
    assert empty.status_code == 200
    assert empty.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert_conforms("GET", REVIEWS, 200, empty.json())

    complete(client, sid, "In Review")
    assert client.patch(f"/v3/session/{sid}/update-status/",
                        json={"new_status": "Approved", "comment": "docs fine"}).status_code == 200
    advance(client, 5)
    events.clear()
    note = client.post(f"/v3/sessions/{sid}/reviews/", json={"new_status": "Declined", "comment": "second look"})
    assert note.status_code == 201
    body = note.json()
    assert_conforms("POST", REVIEWS, 201, body)
    assert body["user"] == "Unknown" and body["new_status"] == "Declined" and body["comment"] == "second look"
    assert status_of(client, sid) == "Approved"  # a note never changes the session
    assert events == []  # and fires no webhook

    feed = client.get(f"/v3/sessions/{sid}/reviews/")
    assert feed.status_code == 200
    page = feed.json()
    assert_conforms("GET", REVIEWS, 200, (page))
    assert page["count"] == 2
    newest, oldest = page["results"]
    assert newest["comment"] == "second look"
    assert (newest["actor_display"], newest["actor_type"], newest["activity_type"]) == \
        ("Unknown", "CONSOLE_USER", "STATUS_UPDATED")
    assert newest["previous_status"] is None and newest["changed_fields"] == []
    assert oldest["actor_display"] == "API Client" and oldest["actor_type"] == "API_KEY"
    assert oldest["previous_status"] == "In Review" and oldest["new_status"] == "Approved"
    assert oldest["previous_value"] == {"status": "In Review"} and oldest["new_value"] == {"status": "Approved"}
    assert oldest["changed_fields"] == ["status"] and oldest["comment"] == "docs fine"
    assert oldest["mentioned_emails"] == [] and oldest["metadata"] is None and oldest["actor_email"] is None

    ascending = client.get(f"/v3/sessions/{sid}/reviews/?ordering=created_at").json()["results"]
    assert [r["uuid"] for r in ascending] == [oldest["uuid"], newest["uuid"]]
    ignored = client.get(f"/v3/sessions/{sid}/reviews/?ordering=bogus").json()["results"]
    assert [r["uuid"] for r in ignored] == [newest["uuid"], oldest["uuid"]]
    first = client.get(f"/v3/sessions/{sid}/reviews/?limit=1").json()
    assert first["count"] == 2 and len(first["results"]) == 1 and first["previous"] is None
    assert first["next"].endswith(f"/v3/sessions/{sid}/reviews/?limit=1&offset=1")
    second = client.get(first["next"]).json()
    assert second["results"][0]["uuid"] == oldest["uuid"] and second["next"] is None

    decision = client.get(f"/v3/session/{sid}/decision/").json()
    assert [r["user"] for r in decision["reviews"]] == ["API Client", "Unknown"]


def test_notes_with_newest_first_when_the_clock_stands_still(client: httpx.Client) -> None:
    sid = create_session(client)["session_id"]
    for text in ("one", "two", "three"):
        assert client.post(f"/v3/sessions/{sid}/reviews/", json={"comment": text}).status_code == 201
    comments = [r["comment"] for r in client.get(f"/v3/sessions/{sid}/reviews/").json()["results"]]
    assert comments == ["three", "two", "one"]
    empty = client.post(f"/v3/sessions/{sid}/reviews/", json={})
    assert empty.status_code == 201
    assert_conforms("POST", REVIEWS, 201, empty.json())
    assert empty.json()["new_status"] is None and empty.json()["comment"] is None


def test_review_errors(client: httpx.Client, anon: httpx.Client) -> None:
    sid = create_session(client)["session_id"]
    bad = client.post(f"/v3/sessions/{sid}/reviews/", json={"new_status": "approved"})
    assert bad.status_code == 400
    assert bad.json() == {"new_status": ['"approved" is not a valid choice.']}
    assert_conforms("POST", REVIEWS, 400, bad.json())

    unknown = str(uuid.uuid4())
    for method in ("GET", "POST"):
        missing = client.request(method, f"/v3/sessions/{unknown}/reviews/", json={} if method == "POST" else None)
        assert missing.status_code == 404
        assert missing.json() == {"detail": "Session not found."}
        assert_conforms(method, REVIEWS, 404, missing.json())
        unauthenticated = anon.request(method, f"/v3/sessions/{unknown}/reviews/")
        assert unauthenticated.status_code == 403  # authentication comes before the lookup
        assert_conforms(method, REVIEWS, 403, unauthenticated.json())


# ---------------------------------------------------------------- update-data

def test_update_data_corrects_the_kyc_record(client: httpx.Client, events: list) -> None:
    sid = create_session(client)["session_id"]
    complete(client, sid, "Approved")
    events.clear()
    response = client.patch(f"/v3/session/{sid}/update-data/", json={
        "first_name": "Carmen", "last_name": "Espanola Espanola", "date_of_birth": "1980-01-01",
        "issuing_state": "esp", "document_type": "Passport", "gender": "F", "marital_status": "MARRIED",
        "extra_fields": {"blood_group": "O+"},
        "parsed_address": {"street_1": "Avda de Madrid 34", "city": "Madrid", "postal_code": "28013", "country": "es"},
    })
    assert response.status_code == 200, response.text
    record = response.json()
    assert_conforms("PATCH", UPDATE_DATA, 200, record)
    assert set(record) == {"document_type", "document_subtype", "document_number", "personal_number",
                           "date_of_birth", "date_of_issue", "expiration_date", "issuing_state", "first_name",
                           "last_name", "gender", "address", "place_of_birth", "nationality", "marital_status",
                           "extra_fields", "parsed_address"}
    assert record["first_name"] == "Carmen" and record["document_type"] == "P" and record["issuing_state"] == "ESP"
    assert record["marital_status"] == "MARRIED" and record["extra_fields"]["blood_group"] == "O+"
    assert record["parsed_address"]["city"] == "Madrid" and record["parsed_address"]["country"] == "ES"
    assert record["parsed_address"]["formatted_address"].startswith("Avda de Madrid 34, ")
    assert [(e.webhook_type, e.session_id) for e in events] == [("data.updated", sid)]

    item = client.get(f"/v3/session/{sid}/decision/").json()["id_verifications"][0]
    assert item["full_name"] == "Carmen Espanola Espanola"
    assert item["document_type"] == "Passport" and item["date_of_birth"] == "1980-01-01"
    assert item["issuing_state_name"] == "Spain"
    feed = client.get(f"/v3/sessions/{sid}/reviews/").json()["results"]
    assert feed[0]["activity_type"] == "KYC_DATA_UPDATED" and "first_name" in feed[0]["changed_fields"]

    events.clear()
    same = client.patch(f"/v3/session/{sid}/update-data/", json={"first_name": "Carmen"})
    assert same.status_code == 200
    assert len(events) == 1  # the KYC variant fires for any valid field, changed or not
    assert client.get(f"/v3/sessions/{sid}/reviews/").json()["count"] == 1  # but records no new activity
    events.clear()
    assert client.patch(f"/v3/session/{sid}/update-data/", json={}).json() == same.json()
    assert events == []


def test_update_data_merges_and_removes_extra_fields(client: httpx.Client) -> None:
    sid = create_session(client)["session_id"]
    complete(client, sid, "Approved")
    url = f"/v3/session/{sid}/update-data/"
    client.patch(url, json={"extra_fields": {"blood_group": "O+", "height": "180"}})
    removed = client.patch(url, json={"extra_fields": {"blood_group": None}}).json()["extra_fields"]
    assert "blood_group" not in removed and removed["height"] == "180"
    cleared = client.patch(url, json={"extra_fields": None}).json()["extra_fields"]
    assert "height" not in cleared
    address = client.patch(url, json={"parsed_address": {"street_2": "Floor 3"}}).json()["parsed_address"]
    assert address["street_2"] == "Floor 3" and "Floor 3" in address["formatted_address"]


@pytest.mark.parametrize(("payload", "expected"), [
    ({"gender": "X"}, {"gender": ['"X" is not a valid choice.']}),
    ({"document_type": "PASSPORT"}, {"document_type": ['"PASSPORT" is not a valid choice.']}),
    ({"issuing_state": "XXX"}, {"issuing_state": ["Invalid ISO 3166-1 alpha-3 country code for issuing_state."]}),
    ({"marital_status": "ENGAGED"}, {"marital_status": ['"ENGAGED" is not a valid choice.']}),
    ({"date_of_birth": "01/01/1980"},
     {"date_of_birth": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
    ({"parsed_address": {"zipcode": "1"}}, {"parsed_address": {
        "zipcode": "Unsupported key. Allowed keys: address_type, city, region, street_1, street_2, postal_code, country"}}),
    ({"parsed_address": {"country": "ESP"}}, {"parsed_address": {"country": "Invalid ISO 3166-1 alpha-2 country code."}}),
    ({"extra_fields": "x"}, {"extra_fields": ["This field must be a JSON object."]}),
    ({"first_name": "x" * 256}, {"first_name": ["Ensure this field has no more than 255 characters."]}),
])
def test_update_data_validation(client: httpx.Client, payload: dict, expected: dict) -> None:
    sid = create_session(client)["session_id"]
    complete(client, sid, "Approved")
    before = client.get(f"/v3/session/{sid}/decision/").json()
    response = client.patch(f"/v3/session/{sid}/update-data/", json={**payload, "last_name": "Unchanged"})
    assert response.status_code == 400
    assert response.json() == expected
    assert_conforms("PATCH", UPDATE_DATA, 400, response.json())
    assert client.get(f"/v3/session/{sid}/decision/").json() == before  # a failed request changes nothing


def test_update_data_not_found_cases(client: httpx.Client, anon: httpx.Client) -> None:
    unknown = anon.patch(f"/v3/session/{uuid.uuid4()}/update-data/", json={"first_name": "A"})
    assert unknown.status_code == 404 and unknown.json() == {"detail": "Not found."}
    assert_conforms("PATCH", UPDATE_DATA, 404, unknown.json())

    unfinished = create_session(client)["session_id"]
    response = client.patch(f"/v3/session/{unfinished}/update-data/", json={"first_name": "A"})
    assert response.status_code == 404 and response.json() == {"detail": "No Session matches the given query."}
    assert_conforms("PATCH", UPDATE_DATA, 404, response.json())

    address_only = create_session(client, workflow_id=ADDRESS_WORKFLOW)["session_id"]
    complete(client, address_only, "Approved")
    response = client.patch(f"/v3/session/{address_only}/update-data/", json={"first_name": "A"})
    assert response.status_code == 404 and response.json() == {"detail": "The session does not have a KYC."}

    kyc = create_session(client)["session_id"]
    complete(client, kyc, "Approved")
    response = client.patch(f"/v3/session/{kyc}/update-data/?node_id=feature_missing", json={"first_name": "A"})
    assert response.status_code == 404
    assert response.json() == {"detail": "The session does not have a KYC for node 'feature_missing'."}
    assert client.patch(f"/v3/session/{kyc}/update-data/?node_id=feature_ocr_1", json={}).status_code == 200
    unauthenticated = anon.patch(f"/v3/session/{kyc}/update-data/", json={})
    assert unauthenticated.status_code == 403
    assert_conforms("PATCH", UPDATE_DATA, 403, unauthenticated.json())
    not_an_object = client.patch(f"/v3/session/{kyc}/update-data/", json=["first_name"])
    assert not_an_object.status_code == 400
    assert not_an_object.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_update_poa_data(client: httpx.Client, events: list) -> None:
    sid = create_session(client, workflow_id=ADDRESS_WORKFLOW)["session_id"]
    complete(client, sid, "Approved")
    events.clear()
    url = f"/v3/session/{sid}/update-poa-data/"
    response = client.patch(url, json={
        "issuing_state": "ESP", "document_type": "BANK_STATEMENT", "issuer": "Banco Example S.A.",
        "issue_date": "2026-05-02", "name_on_document": "Carmen Espanola",
        "extra_fields": {"bank_iban": "ES9121000418450200051332", "additional_names": ["Carmen E. Espanola"]},
        "poa_parsed_address": {"street_1": "Avda de Madrid 34", "city": "Madrid", "postal_code": "28013",
                               "country": "ES"},
    })
    assert response.status_code == 200, response.text
    record = response.json()
    assert_conforms("PATCH", UPDATE_POA, 200, record)
    assert record["issuing_state"] == "ESP" and record["document_type"] == "BANK_STATEMENT"
    assert record["extra_fields"]["bank_iban"] == "ES9121000418450200051332"
    assert record["extra_fields"]["bank_swift_bic"] is None
    assert record["extra_fields"]["additional_names"] == ["Carmen E. Espanola"]
    assert record["poa_formatted_address"] == record["poa_parsed_address"]["formatted_address"]
    assert len(events) == 1
    item = client.get(f"/v3/session/{sid}/decision/").json()["poa_verifications"][0]
    assert item["issuer"] == "Banco Example S.A." and item["issuing_state"] == "ES"

    events.clear()
    assert client.patch(url, json={"issuer": "Banco Example S.A."}).status_code == 200
    assert events == []  # the POA variant fires only on a real change

    bad = client.patch(url, json={"document_type": "utility_bill", "extra_fields": {"additional_names": "x"}})
    assert bad.status_code == 400
    assert bad.json() == {"document_type": ['"utility_bill" is not a valid choice.'],
                          "extra_fields": {"additional_names": "Must be a list or null."}}
    assert_conforms("PATCH", UPDATE_POA, 400, bad.json())
    kyc = create_session(client)["session_id"]
    complete(client, kyc, "Approved")
    missing = client.patch(f"/v3/session/{kyc}/update-poa-data/", json={"issuer": "x"})
    assert missing.status_code == 404 and missing.json() == {"detail": "The session does not have a POA."}
    assert_conforms("PATCH", UPDATE_POA, 404, missing.json())

