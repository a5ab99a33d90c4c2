"""AML ongoing monitoring: toggles of users, businesses and KYB sessions, their jobs on the tenant
clock, their effect on the sessions' AML blocks, billing, isolation and the state file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator

from didit_mock.server import MockServer
from tests.conftest import advance, complete, create_session, new_key
from tests.contract.conformance import _registry, _rewrite_refs, response_schema

USERS = "/v3/users/aml-monitoring/"
BUSINESSES = "/v3/businesses/aml-monitoring/"
JOBS = "/v3/aml-monitoring/jobs/"
UNKNOWN = "5f1f8c9e-0000-4000-8000-00000000c0de"
ORG = "/v3/organization/{organization_id}/application/{application_id}"
NO_OUTCOMES = dict.fromkeys((
    "enabled", "screened_and_enabled", "already_enabled", "disabled", "skipped_no_identity_data",
    "skipped_blocked", "skipped_sandbox", "failed_provider", "failed_insufficient_balance"), 0)


def outcomes(**counts: int) -> dict[str, int]:
    return {**NO_OUTCOMES, **counts}


def org(client: httpx.Client) -> str:
    tenant = client.get("/_mock/tenant").json()
    return f"/v3/organization/{tenant['organization_id']}/application/{tenant['application_id']}"


def aml_block(client: httpx.Client, session_id: str) -> dict[str, Any]:
    return client.get(f"/v3/session/{session_id}/decision/").json()["aml_screenings"][0]


def verified(client: httpx.Client, vendor_data: str) -> str:
    """A user with an approved KYC session (which ran an AML screening); the session id."""
    session = create_session(client, vendor_data=vendor_data)
    complete(client, session["session_id"], "Approved")
    return str(session["session_id"])


def live(server: MockServer, anon: httpx.Client, **options: object) -> httpx.Client:
    made = anon.post("/_mock/tenants", json={"environment": "live", **options})
    assert made.status_code == 201, made.text
    return httpx.Client(base_url=server.url, headers={"x-api-key": made.json()["api_key"]}, timeout=10)


def branch_errors(method: str, path: str, status: int, body: Any, branch: int) -> list[str]:
    """Violations of one branch of a documented `oneOf` (the console's branches overlap, see conftest)."""
    schema = response_schema(method, path, status)
    assert schema is not None
    validator = OAS30Validator(_rewrite_refs(schema["oneOf"][branch]), registry=_registry())
    return [e.message for e in validator.iter_errors(body)]


def test_enabling_a_verified_user_turns_on_its_session_screening(client: httpx.Client) -> None:
    session_id = verified(client, "alice")
    before = aml_block(client, session_id)
    assert before["is_ongoing_monitoring_enabled"] is False and before["next_ongoing_monitoring_bill_date"] is None
    preview = client.post(USERS, json={"is_enabled": True, "estimate_only": True,
                                       "vendor_data_list": ["alice", "ghost"]})
    assert preview.status_code == 200
    assert preview.json() == {
        "users_total": 1, "already_enabled": 0, "with_existing_aml": 1, "needing_screening": 0,
        "skipped_no_identity_data": 0, "skipped_blocked": 0, "estimated_screening_cost_usd": 0.0,
        "estimated_annual_monitoring_cost_usd": 0.07, "balance_sufficient": True, "unmatched": ["ghost"]}
    assert aml_block(client, session_id)["is_ongoing_monitoring_enabled"] is False  # an estimate writes nothing

    done = client.post(USERS, json={"is_enabled": True, "vendor_data_list": ["alice", "ghost"]})
    assert done.status_code == 200
    job = done.json()
    user_id = client.get("/v3/users/alice/").json()["didit_internal_id"]
    assert job["status"] == "COMPLETED" and job["target_type"] == "user" and job["is_enabled"] is True
    assert job["total"] == job["processed"] == 1 and job["outcomes"] == outcomes(enabled=1)
    assert job["results"] == [{"didit_internal_id": user_id, "vendor_data": "alice", "outcome": "enabled"}]
    assert job["unmatched"] == ["ghost"] and job["error"] is None and job["completed_at"] == job["created_at"]
    block = aml_block(client, session_id)
    assert block["is_ongoing_monitoring_enabled"] is True
    today = client.get("/_mock/clock").json()["now"][:4]
    assert block["next_ongoing_monitoring_bill_date"][:4] == str(int(today) + 1)
    assert client.get(f"{JOBS}{job['job_id']}/").json() == job

    again = client.post(USERS, json={"is_enabled": True, "didit_internal_id_list": [user_id]}).json()
    assert again["outcomes"] == outcomes(already_enabled=1)
    off = client.post(USERS, json={"is_enabled": False, "vendor_data_list": ["alice"]}).json()
    assert off["outcomes"] == outcomes(disabled=1) and off["estimate"]["already_enabled"] == 1
    block = aml_block(client, session_id)
    assert block["is_ongoing_monitoring_enabled"] is False and block["next_ongoing_monitoring_bill_date"] is None


def test_one_screening_per_profile_is_monitored(client: httpx.Client) -> None:
    older, newer = verified(client, "bob"), verified(client, "bob")
    client.post(USERS, json={"is_enabled": True, "vendor_data_list": ["bob"]})
    assert aml_block(client, older)["is_ongoing_monitoring_enabled"] is False
    assert aml_block(client, newer)["is_ongoing_monitoring_enabled"] is True
    client.post(USERS, json={"is_enabled": False, "vendor_data_list": ["bob"]})
    assert not any(aml_block(client, s)["is_ongoing_monitoring_enabled"] for s in (older, newer))


def test_each_profile_gets_one_outcome(client: httpx.Client) -> None:
    verified(client, "screened")
    client.post("/v3/users/create/", json={"vendor_data": "named", "full_name": "Ann Lee",
                                           "date_of_birth": "1990-02-03", "issuing_states": ["ESP"]})
    client.post("/v3/users/create/", json={"vendor_data": "bare"})
    verified(client, "blocked")
    client.patch("/v3/users/blocked/update-status/", json={"status": "BLOCKED"})
    chosen = ["screened", "named", "bare", "blocked", "screened"]
    preview = client.post(USERS, json={"is_enabled": True, "estimate_only": True, "vendor_data_list": chosen}).json()
    assert (preview["users_total"], preview["with_existing_aml"], preview["needing_screening"],
            preview["skipped_no_identity_data"], preview["skipped_blocked"]) == (4, 1, 1, 1, 1)
    assert preview["estimated_screening_cost_usd"] == 0.2 and preview["unmatched"] == []
    job = client.post(USERS, json={"is_enabled": True, "vendor_data_list": chosen}).json()
    # A sandbox application creates no new screening.
    assert job["outcomes"] == outcomes(enabled=1, skipped_sandbox=1, skipped_no_identity_data=1, skipped_blocked=1)
    assert [r["vendor_data"] for r in job["results"]] == ["screened", "named", "bare", "blocked"]


def test_businesses_are_toggled_by_name(client: httpx.Client) -> None:
    client.post("/v3/businesses/create/", json={"vendor_data": "acme", "legal_name": "Acme Ltd"})
    client.post("/v3/businesses/create/", json={"vendor_data": "nameless"})
    job = client.post(BUSINESSES, json={"is_enabled": True, "vendor_data_list": ["acme", "nameless", "alice"]})
    assert job.status_code == 200
    body = job.json()
    assert body["target_type"] == "business" and body["unmatched"] == ["alice"]
    assert body["outcomes"] == outcomes(skipped_sandbox=1, skipped_no_identity_data=1)
    assert client.get(f"{JOBS}{body['job_id']}/").json()["target_type"] == "business"


def test_a_live_application_screens_bills_and_refuses_what_it_cannot_pay(
        server: MockServer, anon: httpx.Client) -> None:
    with live(server, anon, credits=0.3) as http:
        http.post("/v3/users/create/", json={"vendor_data": "ann", "full_name": "Ann Lee",
                                             "date_of_birth": "1990-02-03", "issuing_states": ["ESP"]})
        http.post("/v3/users/create/", json={"vendor_data": "ben", "full_name": "Ben Ray",
                                             "date_of_birth": "1980-02-03", "issuing_states": ["FRA"]})
        both = http.post(USERS, json={"is_enabled": True, "vendor_data_list": ["ann", "ben"]})
        assert both.status_code == 403
        assert both.json()["error"].startswith("Insufficient balance") and both.json()["estimate"]["needing_screening"] == 2
        assert both.json()["estimate"]["balance_sufficient"] is False
        assert http.get("/v3/billing/balance/").json()["balance"] == "0.3000"  # a refusal writes nothing
        preview = http.post(USERS, json={"is_enabled": True, "estimate_only": True, "vendor_data_list": ["ann", "ben"]})
        assert preview.status_code == 200 and preview.json()["balance_sufficient"] is False
        one = http.post(USERS, json={"is_enabled": True, "vendor_data_list": ["ann"]}).json()
        assert one["outcomes"] == outcomes(screened_and_enabled=1)
        assert http.get("/v3/billing/balance/").json()["balance"] == "0.0300"
        again = http.post(USERS, json={"is_enabled": True, "vendor_data_list": ["ann"]}).json()
        assert again["outcomes"] == outcomes(already_enabled=1)
        assert http.get("/v3/billing/balance/").json()["balance"] == "0.0300"
        assert http.post(USERS, json={"is_enabled": False, "vendor_data_list": ["ann", "ben"]}).status_code == 200


def test_large_selections_run_as_a_job_on_the_clock(client: httpx.Client) -> None:
    names = [f"p{i:02}" for i in range(30)]
    for name in names:
        verified(client, name)
    started = client.post(USERS, json={"is_enabled": True, "vendor_data_list": names})
    assert started.status_code == 202
    job = started.json()
    assert job["status"] == "PENDING" and job["total"] == 30 and job["processed"] == 0 and job["results"] == []
    assert job["completed_at"] is None and job["estimate"]["with_existing_aml"] == 30
    url = f"{JOBS}{job['job_id']}/"
    assert client.get(url).json()["status"] == "PENDING"  # nothing moves while the clock stands
    advance(client, 1)
    assert (client.get(url).json()["status"], client.get(url).json()["processed"]) == ("PROCESSING", 0)
    advance(client, 1)
    polled = client.get(url).json()
    assert (polled["status"], polled["processed"], len(polled["results"])) == ("PROCESSING", 25, 25)
    assert polled["outcomes"] == outcomes(enabled=25)
    advance(client, 1)
    done = client.get(url).json()
    assert done["status"] == "COMPLETED" and done["processed"] == 30 and done["outcomes"] == outcomes(enabled=30)
    assert done["completed_at"] is not None and done["completed_at"] > done["created_at"]
    users = client.get("/v3/users/", params={"limit": 100}).json()["results"]
    assert {r["vendor_data"] for r in done["results"]} == {u["vendor_data"] for u in users}


def test_validation_and_unknown_jobs(client: httpx.Client, anon: httpx.Client) -> None:
    cases: list[tuple[dict[str, Any], Any]] = [
        ({}, {"is_enabled": ["This field is required."]}),
        ({"is_enabled": True}, ["Provide vendor_data_list or didit_internal_id_list."]),
        ({"is_enabled": True, "vendor_data_list": []}, ["Provide vendor_data_list or didit_internal_id_list."]),
        ({"is_enabled": True, "didit_internal_id_list": [UNKNOWN, "x"]},
         {"didit_internal_id_list": {"1": ["Must be a valid UUID."]}}),
        ({"is_enabled": True, "vendor_data_list": ["a"] * 600, "didit_internal_id_list": [UNKNOWN] * 401},
         ["At most 1000 identifiers are allowed across vendor_data_list and didit_internal_id_list."]),
    ]
    for body, answer in cases:
        for path in (USERS, BUSINESSES):
            refused = client.post(path, json=body)
            assert refused.status_code == 400 and refused.json() == answer, (body, refused.text)
    assert client.get(f"{JOBS}{UNKNOWN}/").json() == {"detail": "Not found."}
    assert client.get(f"{JOBS}{UNKNOWN}/").status_code == 404
    assert anon.post(USERS, json={"is_enabled": True, "vendor_data_list": ["a"]}).status_code == 401
    assert anon.get(f"{JOBS}{UNKNOWN}/").status_code == 401


def test_jobs_and_screenings_are_per_tenant(client: httpx.Client, server: MockServer) -> None:
    session_id = verified(client, "carol")
    job = client.post(USERS, json={"is_enabled": True, "vendor_data_list": ["carol"]}).json()
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}, timeout=10) as other:
        assert other.get(f"{JOBS}{job['job_id']}/").status_code == 404
        theirs = other.post(USERS, json={"is_enabled": False, "vendor_data_list": ["carol"]}).json()
        assert theirs["total"] == 0 and theirs["unmatched"] == ["carol"]
        assert other.patch(f"{org(client)}/vendor-users/toggle-ongoing-monitoring/",
                           json={"is_enabled": False, "update_all": True}).status_code == 404
    assert aml_block(client, session_id)["is_ongoing_monitoring_enabled"] is True


def test_console_toggles_of_users_and_businesses(client: httpx.Client) -> None:
    base = org(client)
    users_url = f"{base}/vendor-users/toggle-ongoing-monitoring/"
    first, second = verified(client, "dora"), verified(client, "eve")
    dora = client.get("/v3/users/dora/").json()["didit_internal_id"]
    preview = client.patch(users_url, json={"is_enabled": True, "estimate_only": True, "update_all": True,
                                            "filter_search": "DOR"})
    assert preview.status_code == 200 and preview.json()["users_total"] == 1 and "unmatched" not in preview.json()
    assert branch_errors("PATCH", f"{ORG}/vendor-users/toggle-ongoing-monitoring/", 200, preview.json(), 0) == []
    done = client.patch(users_url, json={"is_enabled": True, "didit_internal_id_list": [dora]})
    assert done.status_code == 200
    job = done.json()
    assert job["outcomes"] == outcomes(enabled=1) and job["total"] == 1
    assert not {"target_type", "results", "unmatched"} & set(job)
    assert branch_errors("PATCH", f"{ORG}/vendor-users/toggle-ongoing-monitoring/", 200, job, 1) == []
    assert aml_block(client, first)["is_ongoing_monitoring_enabled"] is True
    assert aml_block(client, second)["is_ongoing_monitoring_enabled"] is False
    assert client.get(f"{users_url}{job['job_id']}/").json() == job
    # The API sees a console job with counters only.
    assert client.get(f"{JOBS}{job['job_id']}/").json()["results"] == []
    # A user job is not a business job.
    assert client.get(f"{base}/vendor-businesses/toggle-ongoing-monitoring/{job['job_id']}/").status_code == 404
    everyone = client.patch(users_url, json={"is_enabled": True, "update_all": True,
                                             "filter_status": ["ACTIVE"]}).json()
    assert everyone["outcomes"] == outcomes(enabled=1, already_enabled=1)
    refused = client.patch(users_url, json={"is_enabled": True})
    assert refused.status_code == 400 and refused.json() == ["Provide didit_internal_id_list or set update_all to true."]
    assert client.patch(users_url, json={"update_all": True}).json() == {"is_enabled": ["This field is required."]}

    businesses_url = f"{base}/vendor-businesses/toggle-ongoing-monitoring/"
    client.post("/v3/businesses/create/", json={"vendor_data": "acme", "legal_name": "Acme Ltd"})
    made = client.patch(businesses_url, json={"is_enabled": False, "update_all": True}).json()
    assert made["outcomes"] == outcomes(disabled=1)
    assert client.get(f"{businesses_url}{made['job_id']}/").json() == made
    wrong_app = businesses_url.replace(base.split("/application/")[1], UNKNOWN)
    assert client.patch(wrong_app, json={"is_enabled": False, "update_all": True}).status_code == 404


def test_console_toggle_of_kyb_sessions(client: httpx.Client) -> None:
    url = f"{org(client)}/businesses/toggle-ongoing-monitoring/"
    workflow = client.post("/v3/workflows/", json={"features": [{"feature": "KYB_REGISTRY"}]}).json()["uuid"]
    made = client.post("/v3/session/", json={"workflow_id": workflow, "vendor_data": "kyb-co"}).json()
    verified(client, "not-a-business")
    refused = client.patch(url, json={"is_enabled": True})
    assert refused.status_code == 400 and refused.json() == ["Provide session_numbers or set update_all to true."]
    job = client.patch(url, json={"is_enabled": True, "session_numbers": [str(made["session_number"]), "999"]}).json()
    assert job["total"] == 1 and job["outcomes"] == outcomes(skipped_no_identity_data=1)
    client.patch("/v3/businesses/kyb-co/", json={"legal_name": "KYB Co"})
    legacy = client.patch(url, json={"is_enabled": True, "toggle_all": True, "filter_workflow_id": workflow}).json()
    assert legacy["total"] == 1 and legacy["outcomes"] == outcomes(skipped_sandbox=1)
    assert client.get(f"{url}{legacy['job_id']}/").json() == legacy
    assert client.get(f"{url}{UNKNOWN}/").status_code == 404


def test_jobs_and_flags_survive_a_state_file_restart(tmp_path: Path) -> None:
    state_file, key = tmp_path / "state.json", new_key()
    with MockServer(state_file=str(state_file), freeze_clock=True) as first, \
            httpx.Client(base_url=first.url, headers={"x-api-key": key}, timeout=10) as http:
        names = [f"r{i:02}" for i in range(30)]
        sessions = [verified(http, name) for name in names]
        job = http.post(USERS, json={"is_enabled": True, "vendor_data_list": names}).json()
        advance(http, 2)
        halfway = http.get(f"{JOBS}{job['job_id']}/").json()
        assert halfway["processed"] == 25
    with MockServer(state_file=str(state_file), freeze_clock=True) as second, \
            httpx.Client(base_url=second.url, headers={"x-api-key": key}, timeout=10) as http:
        assert http.get(f"{JOBS}{job['job_id']}/").json() == halfway
        assert aml_block(http, sessions[0])["is_ongoing_monitoring_enabled"] is True
        assert aml_block(http, sessions[-1])["is_ongoing_monitoring_enabled"] is False
        advance(http, 1)  # the job was re-armed on the restored clock
        done = http.get(f"{JOBS}{job['job_id']}/").json()
        assert done["status"] == "COMPLETED" and done["outcomes"] == outcomes(enabled=30)
        assert aml_block(http, sessions[-1])["is_ongoing_monitoring_enabled"] is True
