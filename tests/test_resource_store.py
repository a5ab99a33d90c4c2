"""The generic resource store over HTTP: cases, case notes, blueprints, report templates,
regulatory reports, transaction rules and customization, each with its real state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from didit_mock.server import MockServer
from tests.contract.conformance import assert_conforms

from .conftest import new_key


def console(client: httpx.Client) -> str:
    """The console prefix of the client's application (`/v3/organization/{}/application/{}`)."""
    tenant = client.get("/_mock/tenant").json()
    return f"/v3/organization/{tenant['organization_id']}/application/{tenant['application_id']}"


@pytest.fixture
def org(client: httpx.Client) -> str:
    return console(client)


def test_a_case_lives_through_create_read_list_update_delete(client: httpx.Client, org: str) -> None:
    created = client.post(f"{org}/cases/", json={"title": "Structuring", "priority": "HIGH", "tags": ["kyt"]})
    assert created.status_code == 201, created.text
    case = created.json()
    assert_conforms("POST", "/v3/organization/{organization_id}/application/{application_id}/cases/", 201, case)
    assert (case["title"], case["priority"], case["status"], case["source"], case["case_number"]) == (
        "Structuring", "HIGH", "OPEN", "MANUAL", "CS-0001")
    read = client.get(f"{org}/cases/{case['uuid']}/")
    assert read.status_code == 200 and read.json() == case
    changed = client.patch(f"{org}/cases/{case['uuid']}/", json={"priority": "LOW", "status": "RESOLVED"})
    assert changed.status_code == 200
    assert changed.json()["priority"] == "LOW" and changed.json()["status"] == "OPEN"  # status is not a PATCH field
    assert client.delete(f"{org}/cases/{case['uuid']}/").status_code == 204
    gone = client.get(f"{org}/cases/{case['uuid']}/")
    assert gone.status_code == 404 and gone.json() == {"detail": "Not found."}
    assert client.delete(f"{org}/cases/{case['uuid']}/").status_code == 404


def test_lists_page_with_absolute_links_newest_first_and_filter(client: httpx.Client, org: str) -> None:
    for n in range(5):
        client.post(f"{org}/cases/", json={"title": f"case {n}", "priority": "HIGH" if n % 2 else "LOW"})
    page = client.get(f"{org}/cases/", params={"limit": 2, "offset": 2}).json()
    assert page["count"] == 5
    assert [c["title"] for c in page["results"]] == ["case 2", "case 1"]
    assert page["next"] == f"{client.base_url}{org}/cases/?limit=2&offset=4"
    assert page["previous"] == f"{client.base_url}{org}/cases/?limit=2"
    high = client.get(f"{org}/cases/", params={"priority": "HIGH"}).json()
    assert [c["title"] for c in high["results"]] == ["case 3", "case 1"]
    statuses = client.get(f"{org}/cases/", params={"status__in": "RESOLVED,AWAITING_USER"}).json()
    assert statuses["count"] == 0


def test_case_transitions_follow_the_state_machine(client: httpx.Client, org: str) -> None:
    case = client.post(f"{org}/cases/", json={"title": "Review me"}).json()
    base = f"{org}/cases/{case['uuid']}"
    waiting = client.post(f"{base}/request-info/")
    assert waiting.status_code == 200 and waiting.json()["status"] == "AWAITING_USER"
    resolved = client.post(f"{base}/resolve/", json={"resolution": "FALSE_POSITIVE", "note": "ok"}).json()
    assert (resolved["status"], resolved["resolution"], resolved["resolution_notes"]) == (
        "RESOLVED", "FALSE_POSITIVE", "ok")
    assert resolved["resolved_at"] is not None
    again = client.post(f"{base}/resolve/", json={"resolution": "VALID_THREAT"})
    assert again.status_code == 400 and again.json() == {"detail": "The case is already RESOLVED."}
    missing = client.post(f"{base}/resolve/", json={})
    assert missing.status_code == 400 and missing.json() == {"resolution": ["This field is required."]}
    reopened = client.post(f"{base}/reopen/").json()
    assert (reopened["status"], reopened["resolution"], reopened["resolved_at"]) == ("OPEN", None, None)
    assignee = "7d1e0c52-7a43-4a53-9d1c-0f7f3e1f2a10"
    assigned = client.post(f"{base}/assign/", json={"assignee_user_id": assignee, "assignee_email": "a@b.co"}).json()
    assert assigned["assigned_to"] == {"uuid": assignee, "email": "a@b.co"}  # no name given: none made up
    assert assigned["assigned_at"] is not None
    unassigned = client.post(f"{base}/assign/", json={"assignee_user_id": None}).json()
    assert unassigned["assigned_to"] is None and unassigned["assigned_at"] is None


def test_notes_are_nested_under_their_case_and_go_with_it(client: httpx.Client, org: str) -> None:
    first = client.post(f"{org}/cases/", json={"title": "one"}).json()
    second = client.post(f"{org}/cases/", json={"title": "two"}).json()
    note = client.post(f"{org}/cases/{first['uuid']}/notes/", json={"comment": "looked at it"})
    assert note.status_code == 201 and note.json()["comment"] == "looked at it"
    assert client.get(f"{org}/cases/{first['uuid']}/notes/").json()["count"] == 1
    assert client.get(f"{org}/cases/{second['uuid']}/notes/").json()["count"] == 0
    wrong_parent = client.delete(f"{org}/cases/{second['uuid']}/notes/{note.json()['uuid']}/")
    assert wrong_parent.status_code == 404
    unknown_case = client.get(f"{org}/cases/00000000-0000-4000-8000-000000000000/notes/")
    assert unknown_case.status_code == 404
    client.delete(f"{org}/cases/{first['uuid']}/")
    state = client.get("/_mock/state").json()
    assert "case-notes" not in state["tenants"][0]["extensions"]["resources"]["documents"]


@pytest.mark.parametrize(("path", "body", "errors"), [
    ("/cases/", {"title": ["not", "text"]}, {"title": ["Not a valid string."]}),
    ("/cases/", {}, {"title": ["This field is required."]}),
    ("/cases/", {"title": "x" * 256}, {"title": ["Ensure this field has no more than 255 characters."]}),
    ("/cases/", {"title": "ok", "priority": "URGENT"}, {"priority": ['"URGENT" is not a valid choice.']}),
    ("/report-templates/", {"name": "FinCEN", "jurisdiction": "USA", "report_type": "SAR"},
     {"jurisdiction": ["Ensure this field has no more than 2 characters."]}),
    ("/cases/blueprints/", {"name": "b", "assignee_pool": "everyone"},
     {"assignee_pool": ['Expected a list of items but got type "str".']}),
])
def test_a_schema_violation_is_a_400_naming_the_field(client: httpx.Client, org: str, path: str, body: dict,
                                                      errors: dict) -> None:
    before = client.get(f"{org}{path}").json()["count"]
    refused = client.post(f"{org}{path}", json=body)
    assert refused.status_code == 400 and refused.json() == errors
    assert client.get(f"{org}{path}").json()["count"] == before  # nothing half-made


def test_a_null_or_non_object_body_gets_the_same_message_everywhere(client: httpx.Client, org: str) -> None:
    for path in (f"{org}/cases/", "/v3/transactions/rules/", "/v3/webhook/destinations/", "/v3/session/"):
        refused = client.post(path, content=b"null", headers={"content-type": "application/json"})
        assert refused.status_code == 400, path
        assert refused.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got null."]}, path


def test_tenants_never_see_each_other(server: MockServer, client: httpx.Client, org: str) -> None:
    case = client.post(f"{org}/cases/", json={"title": "mine"}).json()
    rule = client.post("/v3/transactions/rules/", json={"title": "r", "category": "AMOUNT", "mode": "ACTIVE"}).json()
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}, timeout=10) as other:
        theirs = console(other)
        assert other.get(f"{theirs}/cases/").json()["count"] == 0
        assert other.get(f"{theirs}/cases/{case['uuid']}/").status_code == 404
        assert other.get(f"{org}/cases/").status_code == 404  # another application's console path
        assert other.get(f"/v3/transactions/rules/{rule['uuid']}/").status_code == 404
        assert other.get("/v3/transactions/rules/").json()["count"] == 0


def test_regulatory_reports_freeze_once_finalized(client: httpx.Client, org: str) -> None:
    case = client.post(f"{org}/cases/", json={"title": "sar"}).json()
    template = client.post(f"{org}/report-templates/", json={"name": "t", "jurisdiction": "US", "report_type": "SAR"})
    assert template.status_code == 201, template.text
    created = client.post(f"{org}/regulatory-reports/", json={"case": case["uuid"], "template": template.json()["uuid"]})
    assert created.status_code == 201, created.text
    report = created.json()
    assert report["status"] == "DRAFT"
    base = f"{org}/regulatory-reports/{report['uuid']}"
    early = client.post(f"{base}/finalize/")
    assert early.status_code == 400
    assert client.get(f"{org}/regulatory-reports/", params={"status": "DRAFT"}).json()["count"] == 1
    checked = client.post(f"{base}/validate/").json()
    assert checked["status"] == "DRAFT" and checked["is_valid"] is False
    assert {e["field"] for e in checked["errors"]} >= {"rentity_id", "transactions", "submission_date"}
    filled = client.patch(base + "/", json={
        "jurisdiction": "US", "rentity_id": "R-1", "submission_code": "E", "currency_code_local": "USD",
        "action": "Reported", "submission_date": "2026-01-02T00:00:00Z"})
    assert filled.status_code == 200, filled.text
    stored = client.get("/_mock/state").json()["tenants"][0]["extensions"]["resources"]["documents"]
    assert stored["regulatory-reports"][report["uuid"]]["rentity_id"] == "R-1"
    still = client.post(f"{base}/validate/").json()
    assert still["is_valid"] is False and [e["field"] for e in still["errors"]] == ["transactions"]
    complete = client.post(f"{org}/regulatory-reports/", json={
        "case": case["uuid"], "template": template.json()["uuid"], "jurisdiction": "US", "rentity_id": "R-1",
        "submission_code": "E", "currency_code_local": "USD", "action": "Reported",
        "submission_date": "2026-01-02T00:00:00Z", "transactions": [case["uuid"]]}).json()
    final = f"{org}/regulatory-reports/{complete['uuid']}"
    assert client.post(f"{final}/validate/").json() == {"status": "VALIDATED", "is_valid": True, "errors": []}
    finalized = client.post(f"{final}/finalize/")
    assert finalized.status_code == 200 and finalized.json()["status"] == "FINALIZED"
    for refused in (client.patch(final + "/", json={"reason": "late"}), client.delete(final + "/"),
                    client.post(f"{final}/finalize/"), client.post(f"{final}/validate/")):
        assert refused.status_code == 409 and refused.json() == {"detail": "A finalized report cannot be changed."}


def test_transaction_rules_are_a_store_with_filters(client: httpx.Client) -> None:
    made = client.post("/v3/transactions/rules/", json={"title": "Large", "category": "AMOUNT", "mode": "TEST"})
    assert made.status_code == 201, made.text
    rule = made.json()
    assert_conforms("POST", "/v3/transactions/rules/", 201, rule)
    assert rule["source"] == "CUSTOM" and rule["created_at"] == rule["updated_at"]
    client.post("/_mock/clock/advance", json={"seconds": 60})
    changed = client.patch(f"/v3/transactions/rules/{rule['uuid']}/", json={"mode": "ACTIVE"}).json()
    assert changed["mode"] == "ACTIVE" and changed["updated_at"] > rule["updated_at"]
    assert client.get("/v3/transactions/rules/", params={"mode": "TEST"}).json()["count"] == 0
    assert client.get("/v3/transactions/rules/", params={"mode": "ACTIVE"}).json()["count"] == 1


def test_customization_is_one_document_per_application(client: httpx.Client) -> None:
    first = client.get("/v3/customization/")
    assert first.status_code == 200
    assert_conforms("GET", "/v3/customization/", 200, first.json())
    changed = client.patch("/v3/customization/", json={"color_primary": "#101010", "unknown": 1}).json()
    assert changed["color_primary"] == "#101010" and "unknown" not in changed
    assert client.get("/v3/customization/").json() == changed


def test_a_console_route_needs_a_key(anon: httpx.Client, org: str) -> None:
    refused = anon.get(f"{org}/cases/")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "You do not have permission to perform this action."}


@pytest.fixture
def state_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    yield tmp_path / "state.json", new_key()


def test_the_store_survives_a_state_file_restart(state_server: tuple[Path, str]) -> None:
    state_file, key = state_server
    with MockServer(state_file=str(state_file), freeze_clock=True) as first, \
            httpx.Client(base_url=first.url, headers={"x-api-key": key}, timeout=10) as http:
        org = console(http)
        case = http.post(f"{org}/cases/", json={"title": "kept"}).json()
        http.post(f"{org}/cases/{case['uuid']}/notes/", json={"comment": "note"})
        case = http.get(f"{org}/cases/{case['uuid']}/").json()  # with its note and events
        http.patch("/v3/customization/", json={"app_public_name": "Acme"})
    with MockServer(state_file=str(state_file), freeze_clock=True) as second, \
            httpx.Client(base_url=second.url, headers={"x-api-key": key}, timeout=10) as http:
        org = console(http)
        assert http.get(f"{org}/cases/{case['uuid']}/").json() == case
        assert http.get(f"{org}/cases/{case['uuid']}/notes/").json()["count"] == 1
        assert http.get("/v3/customization/").json()["app_public_name"] == "Acme"
        assert http.post(f"{org}/cases/", json={"title": "next"}).json()["case_number"] == "CS-0002"
