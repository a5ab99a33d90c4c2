"""The KYB registry over HTTP: search, select, shareholders, ubo, the business session, and its corrections."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.conftest import advance, twice_from_scratch


def search(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post("/v3/kyb/search/", json={"country_code": "GB", **body})


def first_handle(client: httpx.Client, name: str = "Tesco", **body: object) -> str:
    response = search(client, name=name, **body)
    assert response.status_code == 200, response.text
    return response.json()["kyb_registry"]["companies"][0]["kyb_response_id"]


def select(client: httpx.Client, handle: str, tier: str = "select", **body: object) -> httpx.Response:
    return client.post(f"/v3/kyb/{tier}/", json={"kyb_response_id": handle, **body})


# ---------------------------------------------------------------- search

def test_tesco_finds_didits_example_candidates(client: httpx.Client) -> None:
    body = search(client, name="Tesco", vendor_data="company-1234").json()
    assert set(body) == {"request_id", "kyb_registry", "vendor_data", "metadata", "created_at"}
    registry = body["kyb_registry"]
    assert [(c["name"], c["registration_number"], c["status"], c["type"]) for c in registry["companies"]] == [
        ("Tesco PLC", "00445790", "active", "Public Limited Company"),
        ("E-TESCO LTD", "15168476", "active", "Private Limited Company")]
    assert all(len(c["kyb_response_id"]) == 24 and c["fetch_status"] == "pending" and c["risk_level"] is None
               for c in registry["companies"])
    assert registry["pagination"] == {"total": 2, "page": 1, "per_page": 25}
    assert registry["search_status"] == "resolved" and registry["search_resolved"] is True
    assert body["vendor_data"] == "company-1234" and body["created_at"].endswith("+00:00")


def test_other_names_find_made_up_companies_the_same_on_the_same_seed(server, api_key: str) -> None:
    def search_then_select(http: httpx.Client) -> tuple[str, bytes]:
        found = search(http, name="Acme Widgets", country_code="de").json()
        handle = found["kyb_registry"]["companies"][0]["kyb_response_id"]
        return json.dumps(found), select(http, handle, vendor_data="acme").content

    answers = twice_from_scratch(server, api_key, search_then_select)
    assert answers[0] == answers[1]
    companies = json.loads(answers[0][0])["kyb_registry"]["companies"]
    assert 1 <= len(companies) <= 2 and all("ACME WIDGETS" in c["name"] for c in companies)
    assert all(c["status"] == "active" for c in companies)


def test_a_registration_number_finds_one_company(client: httpx.Client) -> None:
    companies = search(client, registration_number="00445790").json()["kyb_registry"]["companies"]
    assert [c["name"] for c in companies] == ["Tesco PLC"]
    other = search(client, registration_number="12345678").json()["kyb_registry"]["companies"]
    assert [c["registration_number"] for c in other] == ["12345678"]


def test_the_search_type_decides_which_names_match(client: httpx.Client) -> None:
    def names(**query: str) -> list[str]:
        response = search(client, **query)
        assert response.status_code == 200, response.text
        return [c["name"] for c in response.json()["kyb_registry"]["companies"]]

    assert names(name="Tesco") == names(name="Tesco", search_type="contains") == ["Tesco PLC", "E-TESCO LTD"]
    assert names(name="Tesco", search_type="start_with") == ["Tesco PLC"]
    assert names(name="tesco  plc", search_type="start_with") == ["Tesco PLC"]  # spaces as typed
    assert names(name="e-tesco", registration_number="00445790", search_type="start_with") == [
        "Tesco PLC", "E-TESCO LTD"]  # the number finds its company whatever the name matches
    assert names(name="e-tesco", search_type="start_with") == ["E-TESCO LTD"]
    assert names(name="Tesko", search_type="fuzzy") == ["Tesco PLC", "E-TESCO LTD"]
    assert "Tesco PLC" not in names(name="Tesko")  # a misspelling is found by a fuzzy search only
    made = names(name="Acme Widgets", search_type="start_with")
    assert made and all(name.startswith("ACME WIDGETS") for name in made)


def test_search_errors(client: httpx.Client) -> None:
    assert search(client).json() == {"non_field_errors": ["Either 'name' or 'registration_number' is required."]}
    assert search(client, name="x", country_code="GBR").json() == {
        "country_code": ["country_code must be a 2-letter ISO code."]}
    assert search(client, name="x", country_code="US").status_code == 400
    assert search(client, name="x", country_code="us-ca").status_code == 200
    assert search(client, name="x", search_type="exact").json() == {"search_type": ['"exact" is not a valid choice.']}
    assert search(client, name="x", webhook_url="not a url").json() == {"webhook_url": ["Enter a valid URL."]}
    assert client.post("/v3/kyb/search/", json={"name": "x"}).json() == {"country_code": ["This field is required."]}


def test_no_key_is_a_403(anon: httpx.Client) -> None:
    for path in ("search", "select", "shareholders", "ubo"):
        response = anon.post(f"/v3/kyb/{path}/", json={"country_code": "GB", "name": "x", "kyb_response_id": "a"})
        assert response.status_code == 403
        assert response.json() == {"detail": "You do not have permission to perform this action."}


def test_an_unavailable_registry_is_a_502_and_free(client: httpx.Client) -> None:
    client.post("/_mock/standalone/kyb/outcomes", json={"scenario": "registry_unavailable"})
    down = search(client, name="Tesco")
    assert down.status_code == 502
    assert down.json() == {"detail": "The KYB registry provider is temporarily unavailable. Please try again "
                                     "shortly.", "code": "kyb_registry_provider_unavailable"}
    assert search(client, name="Tesco").status_code == 200


def test_credits_a_search_with_no_result_is_free(client: httpx.Client) -> None:
    created = client.post("/_mock/tenants", json={"environment": "live", "credits": 2}).json()
    with httpx.Client(base_url=str(client.base_url), headers={"x-api-key": created["api_key"]}) as live:
        empty = search(live, name="No Match")
        assert empty.json()["kyb_registry"]["companies"] == []
        assert live.get("/_mock/tenant").json()["settings"]["credits"] == 2
        handle = first_handle(live)
        assert live.get("/_mock/tenant").json()["settings"]["credits"] == 1
        assert select(live, handle).status_code == 200
        assert live.get("/_mock/tenant").json()["settings"]["credits"] == 0
        refused = search(live, name="Tesco")
        assert refused.status_code == 403
        assert refused.json() == {"detail": "You don't have enough credits to perform this request.",
                                  "code": "insufficient_credits"}
        refused_select = select(live, handle)
        assert refused_select.status_code == 403
        assert refused_select.json() == {"error": "You don't have enough credits to perform this request. Please "
                                                  "top up at https://business.didit.me"}


# ---------------------------------------------------------------- select, shareholders, ubo

def test_select_tesco_is_the_documented_profile_in_a_business_session(client: httpx.Client) -> None:
    response = select(client, first_handle(client), vendor_data="tesco-co", metadata={"ref": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["registry_tier_requested"] == "basic" and body["registry_tier_delivered"] == "basic"
    company = body["kyb_registry"]
    assert company["company_name"] == "Tesco PLC" and company["status"] == "In Review"
    assert company["registry_status"] == "active" and company["data_resolved"] is True
    assert company["node_id"] == "feature_kyb_registry" and company["fetch_status"] == "resolved"
    assert [o["name"] for o in company["officers"]] == ["CHRISTOPHER JON TAYLOR", "MELISSA BETHELL"]
    assert company["registry_ownership_status"] == "not_requested" and company["beneficial_owners"] == []
    assert body["vendor_data"] == "tesco-co" and body["metadata"] == {"ref": 1}
    session_id = body["request_id"]
    decision = client.get(f"/v3/session/{session_id}/decision/").json()
    assert decision["session_kind"] == "business" and decision["status"] == "In Review"
    in_decision = decision["registry_checks"][0]["company"]
    assert in_decision["uuid"] == company["uuid"] and in_decision["officers"] == company["officers"]
    assert in_decision["risk_level"] == "LOW" and company["risk_level"] == "low risk"
    business = client.get("/v3/sessions/", params={"session_kind": "business"}).json()
    assert [row["session_id"] for row in business["results"]] == [session_id]
    assert client.get("/v3/sessions/").json()["count"] == 0  # not a user's session
    assert client.get("/v3/businesses/tesco-co/").json()["session_count"] == 1
    assert client.get("/v3/users/tesco-co/").status_code == 404


def test_a_business_session_fires_status_updated(client: httpx.Client) -> None:
    client.post("/_mock/webhook", json={"url": "http://127.0.0.1:9/hook", "secret": "s"})
    session_id = select(client, first_handle(client, "Acme")).json()["request_id"]
    sent = client.get("/_mock/webhooks").json()
    assert {(d["session_id"], d["webhook_type"]) for d in sent["results"] + sent["pending"]} == {
        (session_id, "status.updated")}


def test_select_must_be_saved_and_needs_a_known_fresh_handle(client: httpx.Client) -> None:
    handle = first_handle(client)
    for tier in ("select", "shareholders", "ubo"):
        refused = select(client, handle, tier, save_api_request=False)
        assert refused.status_code == 400
        assert refused.json() == {"save_api_request": [
            "KYB registry select must be saved so billing and retrieval can be tracked."]}
    assert select(client, "0123456789abcdef01234567").status_code == 404
    assert select(client, "0123456789abcdef01234567").json() == {"detail": "Not found."}
    assert client.post("/v3/kyb/select/", json={}).json() == {"kyb_response_id": ["This field is required."]}
    advance(client, 3601)
    assert select(client, handle).status_code == 404
    assert client.get("/v3/sessions/", params={"session_kind": "business"}).json()["count"] == 0


def test_shareholders_and_ubo_deliver_owners_or_downgrade(client: httpx.Client) -> None:
    acme = first_handle(client, "Acme")
    owners = select(client, acme, "shareholders").json()
    assert owners["registry_tier_delivered"] == "shareholders"
    assert owners["kyb_registry"]["registry_ownership_status"] == "delivered"
    assert owners["kyb_registry"]["beneficial_owners"][0]["entity_type"] == "person"
    ubo = select(client, acme, "ubo").json()
    assert ubo["registry_tier_requested"] == "ubo" and ubo["registry_tier_delivered"] == "ubo"
    assert ubo["kyb_registry"]["registry_data"]["ubo_resolution"]["status"] == "resolved"
    assert owners["request_id"] != ubo["request_id"]  # each retrieval is a purchase and a session
    tesco = select(client, first_handle(client), "ubo").json()
    assert tesco["registry_tier_delivered"] == "basic"
    assert tesco["kyb_registry"]["registry_ownership_status"] == "unavailable"
    assert "ownership_error" in tesco["kyb_registry"]["registry_data"]
    assert select(client, acme).json()["kyb_registry"]["beneficial_owners"] == []  # select is Lite


def test_a_dissolved_company_declines(client: httpx.Client) -> None:
    companies = search(client, name="Dissolved Traders").json()["kyb_registry"]["companies"]
    assert [c["status"] for c in companies] == ["dissolved"]
    company = select(client, companies[0]["kyb_response_id"]).json()["kyb_registry"]
    assert company["status"] == "Declined" and company["registry_status"] == "dissolved"
    client.post("/_mock/standalone/kyb/outcomes", json={"scenario": "decline_kyb_registry_mismatch"})
    assert select(client, first_handle(client, "Acme")).json()["kyb_registry"]["status"] == "Declined"


def test_an_armed_status_settles_the_next_retrieval(client: httpx.Client) -> None:
    handle = first_handle(client, "Acme")
    client.post("/_mock/standalone/kyb/outcomes", json={"status": "In Review", "vendor_data": "flagged"})
    assert select(client, handle, vendor_data="calm").json()["kyb_registry"]["status"] == "Approved"
    assert select(client, handle, vendor_data="flagged").json()["kyb_registry"]["status"] == "In Review"


def test_a_pending_registry_waits_for_the_admin_resolve(client: httpx.Client) -> None:
    handle = first_handle(client, "Pending Works")
    lite = select(client, handle, vendor_data="slow-co")
    assert lite.status_code == 200
    company = lite.json()["kyb_registry"]
    assert company["status"] == "Not Finished" and company["data_resolved"] is False
    assert company["fetch_status"] == "pending" and company["officers"] == []
    report = select(client, handle, "shareholders")
    assert report.status_code == 202
    assert report.json()["registry_tier_delivered"] is None
    assert report.json()["kyb_registry"]["registry_ownership_status"] == "pending"
    session_id = report.json()["request_id"]
    assert client.get(f"/v3/session/{session_id}/decision/").json()["status"] == "In Progress"
    resolved = client.post(f"/_mock/kyb/{session_id}/resolve")
    assert resolved.status_code == 200, resolved.text
    decision = client.get(f"/v3/session/{session_id}/decision/").json()
    assert decision["status"] == "Approved"
    settled = decision["registry_checks"][0]["company"]
    assert settled["fetch_status"] == "resolved" and settled["registry_tier_delivered"] == "shareholders"
    assert client.post(f"/_mock/kyb/{session_id}/resolve").status_code == 404


class _Catcher(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def catcher() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    handler = type("Catcher", (_Catcher,), {"received": received})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/kyb", received
    httpd.shutdown()
    httpd.server_close()


def _wait_for(client: httpx.Client, received: list, count: int) -> None:
    for _ in range(200):
        if len(received) >= count:
            return
        client.get("/_mock/webhooks")  # each request gives the sender a chance; no sleeping
        threading.Event().wait(0.02)
    raise AssertionError(f"{count} callback(s) expected, {len(received)} received")


def test_webhook_mode_answers_pending_then_posts_an_unsigned_callback(client: httpx.Client, catcher) -> None:
    url, received = catcher
    body = search(client, name="Tesco", webhook_url=url, vendor_data="cb-co", metadata={"source": "onboarding"}).json()
    assert body["kyb_registry"] == {"companies": [], "pagination": {"total": 0, "page": 1, "per_page": 25},
                                    "search_status": "pending", "search_resolved": False}
    _wait_for(client, received, 1)
    headers, raw = received[0]
    assert headers.get("X-Didit-Unsigned-Callback") == "true" and "X-Signature" not in headers
    callback = json.loads(raw)
    assert callback["event_type"] == "kyb.registry_search.resolved"
    assert callback["request_id"] == body["request_id"] and callback["vendor_data"] == "cb-co"
    assert callback["metadata"] == {"source": "onboarding"} and callback["search_resolved"] is True
    assert isinstance(callback["timestamp"], int) and isinstance(callback["created_at"], int)
    handle = callback["kyb_registry"]["companies"][0]["kyb_response_id"]
    assert select(client, handle).json()["kyb_registry"]["company_name"] == "Tesco PLC"


def test_a_pending_search_calls_back_once_resolved(client: httpx.Client, catcher) -> None:
    url, received = catcher
    request_id = search(client, name="Pending Works", webhook_url=url).json()["request_id"]
    client.get("/_mock/webhooks")
    assert received == []
    resolved = client.post(f"/_mock/kyb/{request_id}/resolve").json()
    assert resolved["resolved"] == "search"
    _wait_for(client, received, 1)
    handle = json.loads(received[0][1])["kyb_registry"]["companies"][0]["kyb_response_id"]
    assert select(client, handle).json()["kyb_registry"]["fetch_status"] == "resolved"
    assert client.post("/_mock/kyb/unknown/resolve").status_code == 404


# ---------------------------------------------------------------- session data (§1.26)

def _business(client: httpx.Client) -> tuple[str, dict]:
    body = select(client, first_handle(client, "Acme"), "shareholders", vendor_data="acme-co").json()
    return body["request_id"], body["kyb_registry"]


def test_update_company_data_changes_the_record_and_fires_data_updated(client: httpx.Client) -> None:
    client.post("/_mock/webhook", json={"url": "http://127.0.0.1:9/hook", "secret": "s"})
    session_id, company = _business(client)
    path = f"/v3/session/{session_id}/kyb/{company['uuid']}/update-data/"
    echo = client.patch(path, json={})
    assert echo.status_code == 200 and echo.json() == company
    changed = client.patch(path, json={"company_name": "Acme Renamed Ltd", "country_code": "ie",
                                       "registered_capital_amount": 1000, "registered_capital_currency": "eur",
                                       "legal_address": "1 Main St, Dublin"})
    assert changed.status_code == 200, changed.text
    record = changed.json()
    assert record["company_name"] == "Acme Renamed Ltd" and record["country_code"] == "IE"
    assert record["registered_capital_amount"] == "1000.00" and record["registered_capital_currency"] == "EUR"
    assert record["registered_address"] == "1 Main St, Dublin" and record["last_console_edit_at"]
    assert record["registry_data"]["company_name"] == "Acme Renamed Ltd"
    decision = client.get(f"/v3/session/{session_id}/decision/").json()
    assert decision["registry_checks"][0]["company"]["company_name"] == "Acme Renamed Ltd"
    sent = client.get("/_mock/webhooks").json()
    assert (session_id, "data.updated") in {(d["session_id"], d["webhook_type"])
                                            for d in sent["results"] + sent["pending"]}


def test_update_company_data_errors(client: httpx.Client) -> None:
    session_id, company = _business(client)
    path = f"/v3/session/{session_id}/kyb/{company['uuid']}/update-data/"
    assert client.patch(path, json={"country_code": "1A"}).json() == {
        "country_code": ["country_code must be a 2-letter ISO 3166-1 alpha-2 code."]}
    assert client.patch(path, json={"country_code": "USA"}).json() == {
        "country_code": ["Ensure this field has no more than 2 characters."]}
    assert client.patch(path, json={"registered_capital_currency": "E1R"}).json() == {
        "registered_capital_currency": ["Currency must be a 3-letter ISO 4217 code (e.g. USD, EUR, GBP)."]}
    assert client.patch(path, json={"phone": "call me"}).json() == {"phone": ["Invalid phone number format."]}
    assert client.patch(path, json={"registry_status": "liquidated"}).json() == {
        "registry_status": ['"liquidated" is not a valid choice.']}
    other_session, _ = _business(client)
    wrong = client.patch(f"/v3/session/{other_session}/kyb/{company['uuid']}/update-data/", json={})
    assert wrong.status_code == 404
    assert wrong.json() == {"detail": "KYB company does not belong to the given session."}
    unknown = client.patch(f"/v3/session/{session_id}/kyb/00000000-0000-4000-8000-000000000000/update-data/",
                           json={})
    assert unknown.json() == {"detail": "No KYBCompany matches the given query."}
    gone = client.patch(f"/v3/session/00000000-0000-4000-8000-000000000001/kyb/{company['uuid']}/update-data/",
                        json={})
    assert gone.status_code == 404
    unchanged = client.get(f"/v3/session/{session_id}/decision/").json()["registry_checks"][0]["company"]
    assert unchanged["company_name"] == company["company_name"] and unchanged["last_console_edit_at"] is None


def test_a_party_can_be_skipped(client: httpx.Client) -> None:
    session_id, company = _business(client)
    officer = company["officers"][0]
    path = f"/v3/session/{session_id}/kyb/parties/{officer['uuid']}/"
    skipped = client.patch(path, json={"is_skipped": True})
    assert skipped.status_code == 200, skipped.text
    assert skipped.json() == {"uuid": officer["uuid"], "entity_type": "person", "name": officer["name"],
                              "is_skipped": True, "requires_verification": False, "kyc_session_status": None,
                              "kyc_session_url": None, "kyc_session_deleted": False,
                              "kyb_sub_session_deleted": False}
    assert client.patch(path, json={"is_skipped": False}).json()["requires_verification"] is True
    assert client.patch(path, json={}).json() == {"is_skipped": ["This field is required."]}
    assert client.patch(path, json={"is_skipped": None}).json() == {"is_skipped": ["This field may not be null."]}
    assert client.patch(path, json={"is_skipped": "perhaps"}).json() == {"is_skipped": ["Must be a valid boolean."]}
    stranger = client.patch(f"/v3/session/{session_id}/kyb/parties/00000000-0000-4000-8000-000000000000/",
                            json={"is_skipped": True})
    assert stranger.status_code == 404 and stranger.json() == {"detail": "Party does not belong to the given session."}


def test_the_kyb_state_survives_an_export_and_import(client: httpx.Client) -> None:
    handle = first_handle(client, "Acme")
    session_id, company = _business(client)
    state = client.get("/_mock/state").json()
    client.post("/_mock/reset")
    assert select(client, handle).status_code == 404
    assert client.put("/_mock/state", json=state).status_code in (200, 204)
    assert select(client, handle).status_code == 200
    path = f"/v3/session/{session_id}/kyb/{company['uuid']}/update-data/"
    assert client.patch(path, json={"website": "https://acme.example/"}).json()["website"] == "https://acme.example/"


def test_scenario_rules_steer_kyb_and_document_ai(client: httpx.Client) -> None:
    from tests.test_document_ai import document_ai

    text = ("standalone:\n"
            "  - endpoint: kyb\n    vendor_data: \"down-*\"\n    scenario: registry_unavailable\n"
            "  - endpoint: document-ai\n    vendor_data: \"forged-*\"\n    scenario: tampered\n")
    loaded = client.put("/_mock/scenarios", content=text.encode(), headers={"content-type": "application/yaml"})
    assert loaded.status_code == 200, loaded.text
    assert search(client, name="Tesco", vendor_data="down-1").status_code == 502
    assert search(client, name="Tesco", vendor_data="up-1").status_code == 200
    assert document_ai(client, vendor_data="forged-1").json()["document_ai"]["status"] == "Declined"
    assert document_ai(client, vendor_data="honest-1").json()["document_ai"]["status"] == "Approved"


def test_the_resolve_kyb_helper_settles_a_pending_retrieval(server) -> None:
    from didit_mock.testing import DiditMock, DiditMockError

    with DiditMock.new_tenant(server.url) as mock:
        handle = first_handle(mock.http, "Pending Helper")
        pending = select(mock.http, handle, "ubo")
        assert pending.status_code == 202
        resolved = mock.resolve_kyb(pending.json()["request_id"])
        assert resolved["resolved"] == "retrieval" and resolved["registry_tier_delivered"] == "ubo"
        with pytest.raises(DiditMockError):
            mock.resolve_kyb(pending.json()["request_id"])
