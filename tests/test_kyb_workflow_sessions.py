"""Sessions of KYB workflows over HTTP: the company a finished session gets, `key_people_checks`, the two
KYB session-data routes on it, and its state across an export/import and a state-file restart."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from didit_mock.server import MockServer
from tests.conftest import complete, create_session, new_key
from tests.contract.conformance import assert_conforms, conformance_errors, response_schema

DECISION = "/v3/session/{sessionId}/decision/"


def kyb_workflow(client: httpx.Client, *features: str) -> str:
    names = features or ("KYB_REGISTRY", "KYB_KEY_PEOPLE")
    made = client.post("/v3/workflows/", json={"features": [{"feature": f} for f in names]})
    assert made.status_code == 201, made.text
    return made.json()["workflow_id"]


def kyb_session(client: httpx.Client, workflow_id: str | None = None, vendor_data: str = "acme-co",
                **fields: object) -> str:
    body = {"workflow_id": workflow_id or kyb_workflow(client), "vendor_data": vendor_data, **fields}
    made = client.post("/v3/session/", json=body)
    assert made.status_code == 201, made.text
    return made.json()["session_id"]


def decision(client: httpx.Client, session_id: str) -> dict:
    response = client.get(f"/v3/session/{session_id}/decision/")
    assert response.status_code == 200, response.text
    body = response.json()
    assert_conforms("GET", DECISION, 200, body)
    return body


def company_of(body: dict) -> dict:
    return body["registry_checks"][0]["company"]


def party_uuids(company: dict) -> list[str]:
    return [p["uuid"] for p in company["officers"] + company["beneficial_owners"]]


def test_a_finished_kyb_workflow_session_has_a_company_and_its_key_people(client: httpx.Client) -> None:
    session_id = kyb_session(client)
    assert decision(client, session_id)["key_people_checks"] is None  # nothing yet: the user has not finished
    complete(client, session_id, "Approved")
    body = decision(client, session_id)
    assert body["session_kind"] == "business" and body["status"] == "Approved"
    assert body["features"] == ["KYB_REGISTRY", "KYB_KEY_PEOPLE"]
    check = body["registry_checks"][0]
    company = check["company"]
    assert check["status"] == "Approved" and check["node_id"] == "feature_kyb_registry_1"
    assert company["company_name"] == "ACME CO LTD" and company["fetch_status"] == "resolved"
    assert company["officers"] and company["beneficial_owners"]

    # key_people_checks: exactly the spec's shape, and the same people as the company
    schema = response_schema("GET", DECISION, 200)
    assert schema is not None
    items = body["key_people_checks"]
    assert isinstance(items, list) and len(items) == 1
    item = items[0]
    item_schema = schema["properties"]["key_people_checks"]["items"]
    assert set(item) == set(item_schema["properties"])
    officer_keys = set(item_schema["properties"]["registry"]["properties"]["officers"]["items"]["properties"])
    owner_keys = set(item_schema["properties"]["registry"]["properties"]["beneficial_owners"]["items"]["properties"])
    party_keys = set(item_schema["properties"]["submitted"]["properties"]["parties"]["items"]["properties"])
    assert all(set(o) == officer_keys for o in item["registry"]["officers"])
    assert all(set(o) == owner_keys for o in item["registry"]["beneficial_owners"])
    assert all(set(p) == party_keys for p in item["submitted"]["parties"])
    assert item["status"] == "Approved" and item["node_id"] == "feature_kyb_key_people_1"
    assert [(o["uuid"], o["name"], o["role"]) for o in item["registry"]["officers"]] == [
        (o["uuid"], o["name"], o["role"]) for o in company["officers"]]
    assert [(o["uuid"], o["name"], o["effective_ownership_percent"]) for o in item["registry"]["beneficial_owners"]] \
        == [(o["uuid"], o["name"], o["effective_ownership_percent"]) for o in company["beneficial_owners"]]
    assert [p["uuid"] for p in item["submitted"]["parties"]] == party_uuids(company)
    assert not any(p["is_skipped"] for p in item["submitted"]["parties"])
    assert item["ubo_kyc_summary"] is None and item["warnings"] == []


def test_the_company_follows_vendor_data_and_expected_details_deterministically(client: httpx.Client) -> None:
    workflow_id = kyb_workflow(client)
    acme = {"company_name": "Acme Co"}
    first = kyb_session(client, workflow_id, vendor_data="buyer-1", expected_details=acme)
    second = kyb_session(client, workflow_id, vendor_data="buyer-2", expected_details=acme)
    tesco = kyb_session(client, workflow_id, vendor_data="someone",
                        expected_details={"company_name": "Tesco PLC", "registry_country": "GB"})
    for session_id in (first, second, tesco):
        complete(client, session_id, "Approved")
    one, two = company_of(decision(client, first)), company_of(decision(client, second))
    assert one["company_name"] == "ACME CO LTD"
    same = ("company_name", "registration_number", "incorporation_date", "registered_address")
    assert {k: one[k] for k in same} == {k: two[k] for k in same}
    assert one["uuid"] != two["uuid"]  # each session has its own company record
    found = company_of(decision(client, tesco))
    assert (found["company_name"], found["registration_number"]) == ("Tesco PLC", "00445790")


def test_a_declined_or_reviewed_kyb_session_says_so_in_its_checks(client: httpx.Client) -> None:
    workflow_id = kyb_workflow(client)
    declined, reviewed = kyb_session(client, workflow_id, "no-1"), kyb_session(client, workflow_id, "maybe-1")
    assert complete(client, declined, "Declined")["status"] == "Declined"
    assert complete(client, reviewed, "In Review")["status"] == "In Review"
    body = decision(client, declined)
    check = body["registry_checks"][0]
    assert check["status"] == check["company"]["status"] == "Declined"
    assert [w["risk"] for w in check["warnings"]] == ["KYB_REGISTRY_MISMATCH"]
    assert body["key_people_checks"][0]["status"] == "Approved"
    assert decision(client, reviewed)["registry_checks"][0]["status"] == "In Review"
    # a reviewer's feature override shows in the registry check
    url = f"/v3/session/{declined}/features/feature_kyb_registry_1/update-status/"
    assert client.patch(url, json={"new_status": "Approved"}).status_code == 200
    assert decision(client, declined)["registry_checks"][0]["status"] == "Approved"


def test_update_data_and_parties_work_on_a_kyb_workflow_session(client: httpx.Client) -> None:
    client.post("/_mock/webhook", json={"url": "http://127.0.0.1:9/hook", "secret": "s"})
    session_id = kyb_session(client)
    complete(client, session_id, "Approved")
    company = company_of(decision(client, session_id))
    path = f"/v3/session/{session_id}/kyb/{company['uuid']}/update-data/"
    changed = client.patch(path, json={"company_name": "Acme Renamed Ltd", "website": "https://acme.example/"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["company_name"] == "Acme Renamed Ltd"
    assert_conforms("PATCH", "/v3/session/{sessionId}/kyb/{companyUuid}/update-data/", 200, changed.json())

    person = company["beneficial_owners"][0]
    skipped = client.patch(f"/v3/session/{session_id}/kyb/parties/{person['uuid']}/", json={"is_skipped": True})
    assert skipped.status_code == 200, skipped.text
    assert skipped.json()["is_skipped"] is True and skipped.json()["name"] == person["name"]

    body = decision(client, session_id)
    assert company_of(body)["company_name"] == "Acme Renamed Ltd"
    assert company_of(body)["website"] == "https://acme.example/" and company_of(body)["last_console_edit_at"]
    parties = {p["uuid"]: p for p in body["key_people_checks"][0]["submitted"]["parties"]}
    assert parties[person["uuid"]]["is_skipped"] is True
    assert parties[person["uuid"]]["requires_verification"] is False
    assert all(not p["is_skipped"] for uuid, p in parties.items() if uuid != person["uuid"])
    sent = client.get("/_mock/webhooks").json()
    kinds = [d["webhook_type"] for d in sent["results"] + sent["pending"] if d["session_id"] == session_id]
    assert kinds.count("data.updated") == 2


def test_the_kyb_session_data_routes_answer_didits_404s(client: httpx.Client) -> None:
    workflow_id = kyb_workflow(client)
    unfinished, mine, other = (kyb_session(client, workflow_id, name) for name in ("later", "mine", "other"))
    complete(client, mine, "Approved")
    complete(client, other, "Approved")
    company, others = company_of(decision(client, mine)), company_of(decision(client, other))
    # a session that has not finished has no company yet
    none = client.patch(f"/v3/session/{unfinished}/kyb/{company['uuid']}/update-data/", json={})
    assert none.status_code == 404
    unknown = client.patch(f"/v3/session/{mine}/kyb/00000000-0000-4000-8000-000000000000/update-data/", json={})
    assert unknown.status_code == 404 and unknown.json() == {"detail": "No KYBCompany matches the given query."}
    wrong = client.patch(f"/v3/session/{mine}/kyb/{others['uuid']}/update-data/", json={})
    assert wrong.status_code == 404
    assert wrong.json() == {"detail": "KYB company does not belong to the given session."}
    stranger = client.patch(f"/v3/session/{mine}/kyb/parties/{others['officers'][0]['uuid']}/",
                            json={"is_skipped": True})
    assert stranger.status_code == 404 and stranger.json() == {"detail": "Party does not belong to the given session."}
    bad = client.patch(f"/v3/session/{mine}/kyb/{company['uuid']}/update-data/", json={"country_code": "1A"})
    assert bad.status_code == 400


def test_sessions_without_kyb_keep_null_kyb_blocks(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="acme-co")
    complete(client, session["session_id"], "Approved")
    body = decision(client, session["session_id"])
    assert body["session_kind"] == "user"
    assert body["registry_checks"] is None and body["key_people_checks"] is None
    assert "KYB_REGISTRY" not in body["features"]


def test_a_registry_retrieval_renders_key_people_of_its_company(client: httpx.Client) -> None:
    found = client.post("/v3/kyb/search/", json={"country_code": "GB", "name": "Acme"}).json()
    handle = found["kyb_registry"]["companies"][0]["kyb_response_id"]
    retrieved = client.post("/v3/kyb/shareholders/", json={"kyb_response_id": handle}).json()
    body = decision(client, retrieved["request_id"])
    people = body["key_people_checks"][0]
    assert [p["uuid"] for p in people["submitted"]["parties"]] == party_uuids(retrieved["kyb_registry"])


def _edit(client: httpx.Client) -> tuple[str, dict]:
    session_id = kyb_session(client)
    complete(client, session_id, "Approved")
    company = company_of(decision(client, session_id))
    client.patch(f"/v3/session/{session_id}/kyb/{company['uuid']}/update-data/", json={"company_name": "Kept Ltd"})
    client.patch(f"/v3/session/{session_id}/kyb/parties/{company['officers'][0]['uuid']}/", json={"is_skipped": True})
    return session_id, decision(client, session_id)


def _still_works(client: httpx.Client, session_id: str, before: dict) -> None:
    after = decision(client, session_id)
    assert after == before
    company = company_of(after)
    renamed = client.patch(f"/v3/session/{session_id}/kyb/{company['uuid']}/update-data/", json={"website": "https://kept.example/"})
    assert renamed.status_code == 200, renamed.text
    party = client.patch(f"/v3/session/{session_id}/kyb/parties/{company['officers'][0]['uuid']}/",
                         json={"is_skipped": False})
    assert party.status_code == 200 and party.json()["is_skipped"] is False


def test_the_company_of_a_kyb_session_survives_an_export_and_import(client: httpx.Client) -> None:
    session_id, before = _edit(client)
    state = client.get("/_mock/state").json()
    client.post("/_mock/reset")
    assert client.get(f"/v3/session/{session_id}/decision/").status_code == 404
    assert client.put("/_mock/state", json=state).status_code in (200, 204)
    _still_works(client, session_id, before)


def test_the_company_of_a_kyb_session_survives_a_state_file_restart(tmp_path: Path) -> None:
    state_file, key = tmp_path / "state.json", new_key()
    with MockServer(state_file=str(state_file), freeze_clock=True) as first, \
            httpx.Client(base_url=first.url, headers={"x-api-key": key}, timeout=10) as http:
        session_id, before = _edit(http)
    with MockServer(state_file=str(state_file), freeze_clock=True) as second, \
            httpx.Client(base_url=second.url, headers={"x-api-key": key}, timeout=10) as http:
        before = json.loads(json.dumps(before).replace(first.url, second.url))  # its links follow the server
        _still_works(http, session_id, before)
        assert not conformance_errors("GET", DECISION, 200, before)


def test_a_resubmitted_kyb_session_keeps_its_company_and_edits(client: httpx.Client) -> None:
    workflow_id = kyb_workflow(client, "KYB_REGISTRY", "OCR")
    session_id = kyb_session(client, workflow_id)
    complete(client, session_id, "Declined")
    body = decision(client, session_id)
    assert body["features"] == ["KYB_REGISTRY", "ID_VERIFICATION"]
    assert body["id_verifications"][0]["status"] == "Declined"  # a KYC step takes a plain decline
    assert body["registry_checks"][0]["status"] == "Approved"
    company = company_of(body)
    client.patch(f"/v3/session/{session_id}/kyb/{company['uuid']}/update-data/", json={"company_name": "Kept Ltd"})
    resubmitted = client.patch(f"/v3/session/{session_id}/update-status/", json={"new_status": "Resubmitted"})
    assert resubmitted.status_code == 200, resubmitted.text
    complete(client, session_id, "Approved")
    again = company_of(decision(client, session_id))
    assert again["uuid"] == company["uuid"] and again["company_name"] == "Kept Ltd"


def test_the_session_list_gives_business_sessions_their_kyb_rows(client: httpx.Client) -> None:
    """`session_kind=business` lists KYB workflows' sessions and registry retrievals as KYB rows; the
    default (user) list leaves them out; `all` appends the KYB page to the KYC one and adds the counts."""
    from tests.test_kyb import first_handle, select

    person = create_session(client, vendor_data="person-1")["session_id"]
    workflow_session = kyb_session(client)
    handle = first_handle(client, "Tesco")
    retrieval = select(client, handle, vendor_data="tesco-co").json()["request_id"]
    users = client.get("/v3/sessions/").json()
    assert [row["session_id"] for row in users["results"]] == [person] and users["count"] == 1
    business = client.get("/v3/sessions/", params={"session_kind": "business"}).json()
    assert_conforms("GET", "/v3/sessions/", 200, business)
    rows = {row["session_id"]: row for row in business["results"]}
    assert [row["session_id"] for row in business["results"]] == [retrieval, workflow_session]  # newest first
    assert {row["session_kind"] for row in rows.values()} == {"business"}
    assert {row["workflow_type"] for row in rows.values()} == {"kyb"}
    assert rows[retrieval]["company_name"] == "Tesco PLC" and rows[retrieval]["registration_number"] == "00445790"
    assert rows[workflow_session]["company_name"] is None  # no company before the user picks one
    complete(client, workflow_session, "Approved")
    finished = client.get("/v3/sessions/", params={"session_kind": "business"}).json()["results"][1]
    assert (finished["company_name"], finished["country"], finished["status"]) == ("ACME CO LTD", "GB", "Approved")
    both = client.get("/v3/sessions/", params={"session_kind": "all", "limit": 1}).json()
    assert_conforms("GET", "/v3/sessions/", 200, both)
    assert both["count"] == 3 and [row["session_kind"] for row in both["results"]] == ["user", "business"]
    assert both["next"] is None  # the KYC side has one row: the pages follow it


# ---------------------------------------------------------------- choosing the outcome of each KYB step

def _steps(client: httpx.Client, session_id: str) -> tuple[str, dict, dict]:
    body = decision(client, session_id)
    return body["status"], body["registry_checks"][0], body["key_people_checks"][0]


def _company_status(client: httpx.Client, session_id: str, check: dict) -> str:
    """The stored company's own status, as update-data answers it (an empty change is a no-op echo)."""
    echoed = client.patch(f"/v3/session/{session_id}/kyb/{check['company']['uuid']}/update-data/", json={})
    assert echoed.status_code == 200, echoed.text
    return echoed.json()["status"]


def test_registry_approved_and_key_people_declined_declines_the_session(client: httpx.Client) -> None:
    session_id = kyb_session(client)
    finished = complete(client, session_id, None, KYB_REGISTRY="Approved", KYB_KEY_PEOPLE="Declined")
    assert finished["status"] == "Declined"
    status, registry, people = _steps(client, session_id)
    assert status == "Declined"
    assert registry["status"] == registry["company"]["status"] == "Approved" and registry["warnings"] == []
    assert people["status"] == "Declined"
    assert [(w["risk"], w["log_type"], w["node_id"]) for w in people["warnings"]] == [
        ("KYB_KEY_PEOPLE_DECLINED", "error", "feature_kyb_key_people_1")]
    assert _company_status(client, session_id, registry) == "Approved"


def test_registry_declined_and_key_people_approved_declines_the_session(client: httpx.Client) -> None:
    session_id = kyb_session(client)
    complete(client, session_id, None, KYB_REGISTRY={"status": "Declined", "risk": "KYB_REGISTRY_MISMATCH"},
             KYB_KEY_PEOPLE="Approved")
    status, registry, people = _steps(client, session_id)
    assert status == "Declined"
    assert registry["status"] == registry["company"]["status"] == "Declined"
    assert [w["risk"] for w in registry["warnings"]] == ["KYB_REGISTRY_MISMATCH"]
    assert people["status"] == "Approved" and people["warnings"] == []
    assert _company_status(client, session_id, registry) == "Declined"
    # In Review on one step, Approved on the other: the session waits for a reviewer
    reviewed = kyb_session(client, vendor_data="maybe-co")
    complete(client, reviewed, None, KYB_KEY_PEOPLE="In Review")
    status, registry, people = _steps(client, reviewed)
    assert (status, registry["status"], people["status"]) == ("In Review", "Approved", "In Review")
    assert [w["risk"] for w in people["warnings"]] == ["KYB_KEY_PEOPLE_IN_REVIEW"]


def test_a_kyb_step_the_workflow_does_not_run_is_refused(client: httpx.Client) -> None:
    session_id = create_session(client)["session_id"]
    refused = client.post(f"/_mock/sessions/{session_id}/complete",
                          json={"status": None, "features": {"KYB_REGISTRY": "Approved"}})
    assert refused.status_code == 400
    assert refused.json() == {"features": {"KYB_REGISTRY": ['"KYB_REGISTRY" is not a step of this workflow.']}}
    registry_only = kyb_session(client, kyb_workflow(client, "KYB_REGISTRY"))
    refused = client.post(f"/_mock/sessions/{registry_only}/complete",
                          json={"status": None, "features": {"KYB_KEY_PEOPLE": "Declined"}})
    assert refused.status_code == 400
    assert refused.json() == {"features": {"KYB_KEY_PEOPLE": ['"KYB_KEY_PEOPLE" is not a step of this workflow.']}}
    wrong_risk = client.post(f"/_mock/sessions/{registry_only}/complete",
                             json={"features": {"KYB_REGISTRY": {"status": "Declined", "risk": "DOCUMENT_EXPIRED"}}})
    assert wrong_risk.status_code == 400 and "KYB_REGISTRY" in wrong_risk.json()["features"]
    assert decision(client, session_id)["status"] == "Not Started"  # nothing happened
    assert decision(client, registry_only)["status"] == "Not Started"


KYB_SCENARIO = """
sessions:
  - name: key people fail
    match: {vendor_data: "kyb-*"}
    outcome:
      features:
        KYB_KEY_PEOPLE: {status: Declined, risks: [KYB_KEY_PEOPLE_DECLINED]}
"""


def test_a_scenario_rule_chooses_a_kyb_step_outcome(client: httpx.Client) -> None:
    from tests.scenario_helpers import advance, put_scenario

    put_scenario(client, KYB_SCENARIO)
    session_id = kyb_session(client, vendor_data="kyb-acme")
    person = create_session(client, vendor_data="kyb-person")["session_id"]  # a KYC session: the choice skips it
    advance(client, 1)
    status, registry, people = _steps(client, session_id)
    assert (status, registry["status"], people["status"]) == ("Declined", "Approved", "Declined")
    assert [w["risk"] for w in people["warnings"]] == ["KYB_KEY_PEOPLE_DECLINED"]
    assert decision(client, person)["status"] == "Approved"


def test_the_hosted_page_lists_the_kyb_steps_and_declines_the_one_chosen(client: httpx.Client,
                                                                          server: MockServer) -> None:
    made = client.post("/v3/session/", json={"workflow_id": kyb_workflow(client), "vendor_data": "acme-co"})
    assert made.status_code == 201, made.text
    session = made.json()
    path = urlsplit(session["url"]).path
    with httpx.Client(base_url=server.url, timeout=10, follow_redirects=False) as browser:
        html = browser.get(path).text
        assert "<strong>Company registry</strong>" in html and "<strong>Key people</strong>" in html
        assert 'value="KYB_KEY_PEOPLE:KYB_KEY_PEOPLE_DECLINED"' in html
        wrong = browser.post(path, data={"outcome": "decline", "feature": "LIVENESS"})
        assert wrong.status_code == 400 and "is not a step of this workflow" in wrong.text
        done = browser.post(path, data={"outcome": "decline", "reason": "KYB_KEY_PEOPLE:KYB_KEY_PEOPLE_DECLINED"})
        assert done.status_code == 200, done.text
    status, registry, people = _steps(client, session["session_id"])
    assert (status, registry["status"], people["status"]) == ("Declined", "Approved", "Declined")


# ---------------------------------------------------------------- the documents step (KYB_DOCUMENTS)

DOCUMENTS_FLOW = ("KYB_REGISTRY", "KYB_DOCUMENTS", "KYB_KEY_PEOPLE")


def _documents(body: dict) -> dict:
    blocks = body["document_verifications"]
    assert isinstance(blocks, list) and len(blocks) == 1
    return blocks[0]


def test_a_kyb_documents_session_has_its_company_documents(client: httpx.Client) -> None:
    session_id = kyb_session(client, kyb_workflow(client, *DOCUMENTS_FLOW))
    assert decision(client, session_id)["document_verifications"] is None  # not finished yet
    complete(client, session_id, "Approved")
    body = decision(client, session_id)
    assert body["features"] == list(DOCUMENTS_FLOW)
    block = _documents(body)
    schema = response_schema("GET", DECISION, 200)
    assert schema is not None
    block_schema = schema["properties"]["document_verifications"]["items"]
    document_keys = set(block_schema["properties"]["items"]["items"]["properties"])
    metadata_keys = set(block_schema["properties"]["items"]["items"]["properties"]["document_metadata"]["properties"])
    assert set(block) == set(block_schema["properties"])
    assert block["status"] == "Approved" and block["node_id"] == "feature_kyb_documents_1" and block["warnings"] == []
    company = company_of(body)
    assert [(d["document_type"], d["document_subtype"]) for d in block["items"]] == [
        ("LEGAL_PRESENCE", "CERTIFICATE_OF_INCORPORATION"), ("COMPANY_DETAILS", "PROOF_OF_ADDRESS")]
    for document in block["items"]:
        assert set(document) == document_keys and set(document["document_metadata"]) == metadata_keys
        assert document["status"] == "Approved" and document["document_group"] == document["document_type"]
        assert document["ocr_data"]["company_name"] == company["company_name"] == "ACME CO LTD"
        assert document["ocr_data"]["registration_number"] == company["registration_number"]
        assert all(c["match"] for c in document["cross_check_result"]["critical"].values())
    assert len({d["uuid"] for d in block["items"]}) == 2
    assert block["required_groups"] == ["LEGAL_PRESENCE", "COMPANY_DETAILS"]
    assert block["groups"]["LEGAL_PRESENCE"]["total"] == block["groups"]["LEGAL_PRESENCE"]["approved"] == 1
    assert decision(client, session_id) == body  # stable across reads
    # a workflow without the documents step keeps the block null
    plain = kyb_session(client)
    complete(client, plain, "Approved")
    assert decision(client, plain)["document_verifications"] is None


def test_the_documents_step_takes_its_chosen_outcome(client: httpx.Client) -> None:
    session_id = kyb_session(client, kyb_workflow(client, *DOCUMENTS_FLOW))
    finished = complete(client, session_id, None, KYB_REGISTRY="Approved", KYB_DOCUMENTS="Declined")
    assert finished["status"] == "Declined"
    body = decision(client, session_id)
    block = _documents(body)
    assert (body["status"], body["registry_checks"][0]["status"], block["status"]) == (
        "Declined", "Approved", "Declined")
    assert [(w["risk"], w["node_id"]) for w in block["warnings"]] == [
        ("KYB_DOCUMENTS_DECLINED", "feature_kyb_documents_1")]
    assert [d["status"] for d in block["items"]] == ["Declined", "Approved"]
    assert block["groups"]["LEGAL_PRESENCE"]["declined"] == 1
    # without a choice for the step, the block follows the session
    reviewed = kyb_session(client, kyb_workflow(client, *DOCUMENTS_FLOW), vendor_data="maybe-co")
    complete(client, reviewed, None, KYB_KEY_PEOPLE="In Review")
    assert _documents(decision(client, reviewed))["status"] == "Approved"  # the step itself got Approved
    # a workflow without the step refuses it
    plain = kyb_session(client)
    refused = client.post(f"/_mock/sessions/{plain}/complete", json={"features": {"KYB_DOCUMENTS": "Declined"}})
    assert refused.status_code == 400
    assert refused.json() == {"features": {"KYB_DOCUMENTS": ['"KYB_DOCUMENTS" is not a step of this workflow.']}}


def test_the_documents_are_the_same_on_two_servers_with_the_same_seed() -> None:
    key, bodies = new_key(), []
    for _ in range(2):
        with MockServer(freeze_clock=True, seed=4321) as running, \
                httpx.Client(base_url=running.url, headers={"x-api-key": key}, timeout=10) as http:
            session_id = kyb_session(http, kyb_workflow(http, *DOCUMENTS_FLOW))
            complete(http, session_id, "Approved")
            block = _documents(decision(http, session_id))
            # the server's address and its (frozen) start time differ between runs; the rest is the seed's
            bodies.append((session_id, [
                (d["uuid"], d["document_subtype"], d["file_size"], urlsplit(d["file_url"]).path, d["ocr_data"],
                 d["cross_check_result"], d["status"]) for d in block["items"]]))
    assert bodies[0] == bodies[1]


def test_a_workflow_turned_kyb_lists_each_session_by_its_own_version(client: httpx.Client) -> None:
    """A workflow's versions may run different steps: each session is a user's or a business's by the
    version it runs, not by the workflow's first session."""
    made = client.post("/v3/workflows/", json={"features": [{"feature": "OCR"}]}).json()
    person = kyb_session(client, made["workflow_id"], vendor_data="person-2")
    newer = client.patch(f"/v3/workflows/{made['uuid']}/", json={"status": "published",
                                                                   "features": [{"feature": "KYB_REGISTRY"}]})
    assert newer.status_code == 200, newer.text
    company = kyb_session(client, made["workflow_id"], vendor_data="acme-co")
    users = client.get("/v3/sessions/").json()["results"]
    business = client.get("/v3/sessions/", params={"session_kind": "business"}).json()["results"]
    assert [row["session_id"] for row in users] == [person]
    assert [(row["session_id"], row["session_kind"]) for row in business] == [(company, "business")]
