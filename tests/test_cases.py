"""A case's life over HTTP: its declared transitions (escalate, transfer, the four-eyes approve and
reject), the event log that records each step in order, the checklist copied from its blueprint,
actions on its subject, its AML hits, and the files it hands out at URLs the mock serves."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from didit_mock.server import MockServer
from tests.conftest import complete, create_session, new_key
from tests.contract.conformance import assert_conforms
from tests.test_resource_store import console

ORG = "/v3/organization/{organization_id}/application/{application_id}"
CASE = ORG + "/cases/{case_uuid}"
CHECKER = {"X-Didit-Mock-Actor": "checker@example.com"}
POOL = ["7d1e0c52-7a43-4a53-9d1c-0f7f3e1f2a10"]
OTHER = "0b6f1f1e-3c1d-4d8e-9a57-2f4b1c9d8e21"


@pytest.fixture
def org(client: httpx.Client) -> str:
    return console(client)


def blueprint(client: httpx.Client, org: str, **fields: object) -> dict:
    made = client.post(f"{org}/cases/blueprints/", json={"name": "bp", "assignee_pool": POOL, **fields})
    assert made.status_code == 201, made.text
    return made.json()


def new_case(client: httpx.Client, org: str, **fields: object) -> dict:
    made = client.post(f"{org}/cases/", json={"title": "case", **fields})
    assert made.status_code == 201, made.text
    return made.json()


def events(client: httpx.Client, org: str, case: dict) -> list[str]:
    """The case's event types, oldest first."""
    page = client.get(f"{org}/cases/{case['uuid']}/events/")
    assert page.status_code == 200
    assert_conforms("GET", CASE + "/events/", 200, page.json())
    return [e["event_type"] for e in reversed(page.json()["results"])]


def test_escalate_moves_the_case_to_the_escalation_blueprint(client: httpx.Client, org: str) -> None:
    senior = blueprint(client, org, name="senior")
    first = blueprint(client, org, name="first line", escalation_enabled=True, escalation_blueprint=senior["uuid"])
    case = new_case(client, org, blueprint=first["uuid"])
    assert case["blueprint"]["uuid"] == first["uuid"]
    escalated = client.post(f"{org}/cases/{case['uuid']}/escalate/")
    assert escalated.status_code == 200, escalated.text
    assert_conforms("POST", CASE + "/escalate/", 200, escalated.json())
    assert escalated.json()["blueprint"]["uuid"] == senior["uuid"]
    assert client.get(f"{org}/cases/", params={"blueprint": senior["uuid"]}).json()["count"] == 1
    again = client.post(f"{org}/cases/{case['uuid']}/escalate/")  # the senior blueprint escalates nowhere
    assert again.status_code == 400
    assert again.json() == {"detail": "Escalation is not enabled on this case's blueprint."}
    assert events(client, org, case) == ["CREATED", "ESCALATED"]


def test_a_resolved_case_is_neither_escalated_nor_transferred(client: httpx.Client, org: str) -> None:
    other = blueprint(client, org)
    both = blueprint(client, org, escalation_enabled=True, escalation_blueprint=other["uuid"], transfer_enabled=True)
    case = new_case(client, org, blueprint=both["uuid"])
    client.post(f"{org}/cases/{case['uuid']}/resolve/", json={"resolution": "FALSE_POSITIVE"})
    escalated = client.post(f"{org}/cases/{case['uuid']}/escalate/")
    assert escalated.status_code == 400 and escalated.json() == {"detail": "A RESOLVED case cannot be escalated."}
    moved = client.post(f"{org}/cases/{case['uuid']}/transfer/", json={"target_blueprint": other["uuid"]})
    assert moved.status_code == 400 and moved.json() == {"detail": "A RESOLVED case cannot be transferred."}
    assert client.get(f"{org}/cases/{case['uuid']}/").json()["blueprint"]["uuid"] == both["uuid"]


def test_transfer_needs_the_blueprint_flag_and_a_known_target(client: httpx.Client, org: str) -> None:
    target = blueprint(client, org, name="target")
    closed = new_case(client, org, blueprint=blueprint(client, org)["uuid"])
    refused = client.post(f"{org}/cases/{closed['uuid']}/transfer/", json={"target_blueprint": target["uuid"]})
    assert refused.status_code == 400
    assert refused.json() == {"detail": "Transfers are not enabled on this case's blueprint."}
    case = new_case(client, org, blueprint=blueprint(client, org, transfer_enabled=True)["uuid"])
    unknown = "5f1f8c9e-0000-4000-8000-00000000c0de"
    missing = client.post(f"{org}/cases/{case['uuid']}/transfer/", json={"target_blueprint": unknown})
    assert missing.status_code == 400
    assert missing.json() == {"target_blueprint": [f'Invalid pk "{unknown}" - object does not exist.']}
    moved = client.post(f"{org}/cases/{case['uuid']}/transfer/", json={"target_blueprint": target["uuid"]})
    assert moved.status_code == 200 and moved.json()["blueprint"]["name"] == "target"
    assert_conforms("POST", CASE + "/transfer/", 200, moved.json())
    log = client.get(f"{org}/cases/{case['uuid']}/events/").json()["results"]
    assert log[0]["event_type"] == "TRANSFERRED" and log[0]["metadata"]["to_blueprint"] == target["uuid"]


def test_four_eyes_stage_then_a_different_officer_approves(client: httpx.Client, org: str) -> None:
    checker = blueprint(client, org, name="checker")
    maker = blueprint(client, org, name="maker", four_eyes_checker_blueprint=checker["uuid"])
    case = new_case(client, org, blueprint=maker["uuid"])
    base = f"{org}/cases/{case['uuid']}"
    nothing = client.post(f"{base}/approve/", headers=CHECKER)
    assert nothing.status_code == 409 and nothing.json() == {"detail": "This case has no resolution pending approval."}
    staged = client.post(f"{base}/resolve/", json={"resolution": "VALID_THREAT", "note": "fraud ring"}).json()
    assert staged["status"] == "OPEN" and staged["blueprint"]["uuid"] == checker["uuid"]
    pending = staged["pending_resolution"]
    assert (pending["resolution"], pending["resolution_notes"], pending["maker_email"],
            pending["maker_blueprint_id"]) == ("VALID_THREAT", "fraud ring", "api@didit-mock.local", maker["uuid"])
    twice = client.post(f"{base}/resolve/", json={"resolution": "FALSE_POSITIVE"})
    assert twice.status_code == 400
    assert twice.json() == {"detail": "A resolution is already pending approval on this case."}
    own = client.post(f"{base}/approve/")  # the maker (the API key) cannot check its own resolution
    assert own.status_code == 403
    assert own.json() == {"detail": "A different officer must review this resolution: you submitted it."}
    approved = client.post(f"{base}/approve/", headers=CHECKER)
    assert approved.status_code == 200, approved.text
    assert_conforms("POST", CASE + "/approve/", 200, approved.json())
    body = approved.json()
    assert (body["status"], body["resolution"], body["resolution_notes"], body["resolved_by_email"],
            body["pending_resolution"]) == ("RESOLVED", "VALID_THREAT", "fraud ring", "checker@example.com", None)
    assert events(client, org, case) == ["CREATED", "SUBMITTED_FOR_APPROVAL", "APPROVAL_GRANTED"]
    granted = client.get(f"{base}/events/").json()["results"][0]
    assert (granted["actor_email"], granted["previous_status"], granted["new_status"]) == (
        "checker@example.com", "OPEN", "RESOLVED")


def test_four_eyes_reject_returns_the_case_to_the_maker(client: httpx.Client, org: str) -> None:
    checker = blueprint(client, org, name="checker")
    maker = blueprint(client, org, name="maker", four_eyes_checker_blueprint=checker["uuid"])
    case = new_case(client, org, blueprint=maker["uuid"])
    base = f"{org}/cases/{case['uuid']}"
    client.post(f"{base}/resolve/", json={"resolution": "FALSE_POSITIVE"}, headers={"X-Didit-Mock-Actor": "m@x.io"})
    assert client.post(f"{base}/reject-approval/", json={"notes": "no"},
                       headers={"X-Didit-Mock-Actor": "m@x.io"}).status_code == 403
    rejected = client.post(f"{base}/reject-approval/", json={"notes": "look again"})
    assert rejected.status_code == 200, rejected.text
    assert_conforms("POST", CASE + "/reject-approval/", 200, rejected.json())
    body = rejected.json()
    assert (body["status"], body["pending_resolution"], body["blueprint"]["uuid"]) == ("OPEN", None, maker["uuid"])
    again = client.post(f"{base}/reject-approval/")
    assert again.status_code == 409
    log = client.get(f"{base}/events/").json()["results"]
    assert [e["event_type"] for e in log[:2]] == ["APPROVAL_REJECTED", "SUBMITTED_FOR_APPROVAL"]
    assert log[0]["metadata"]["notes"] == "look again" and log[1]["actor_email"] == "m@x.io"


def test_the_event_log_records_every_action_in_order(client: httpx.Client, org: str) -> None:
    case = new_case(client, org, priority="LOW", tags=["kyt"])
    base = f"{org}/cases/{case['uuid']}"
    session = create_session(client)
    client.patch(f"{base}/", json={"priority": "HIGH", "tags": ["kyt", "sar"]})
    client.post(f"{base}/assign/", json={"assignee_user_id": POOL[0], "assignee_email": "a@b.co"})
    client.post(f"{base}/notes/", json={"comment": "looked"})
    link = client.post(f"{base}/links/", json={"entity_type": "session", "entity_uuid": session["session_id"]}).json()
    client.delete(f"{base}/links/{link['uuid']}/")
    client.post(f"{base}/request-info/")
    client.post(f"{base}/resolve/", json={"resolution": "FALSE_POSITIVE"})
    client.post(f"{base}/reopen/")
    client.post(f"{base}/assign/", json={"assignee_user_id": None})
    assert events(client, org, case) == [
        "CREATED", "PRIORITY_CHANGED", "TAG_ADDED", "ASSIGNED", "NOTE_ADDED", "LINK_ADDED", "LINK_REMOVED",
        "STATUS_CHANGED", "RESOLVED", "REOPENED", "UNASSIGNED"]
    log = client.get(f"{base}/events/").json()["results"]
    resolved = next(e for e in log if e["event_type"] == "RESOLVED")
    assert (resolved["previous_status"], resolved["new_status"]) == ("AWAITING_USER", "RESOLVED")
    detail = client.get(f"{base}/").json()
    assert [e["uuid"] for e in detail["events"]] == [e["uuid"] for e in log]  # newest first, as the list
    assert detail["notes_count"] == 1 and detail["links_count"] == 0
    assert client.get(f"{base}/events/", params={"limit": 2}).json()["next"].endswith("limit=2&offset=2")


def test_a_refused_action_changes_nothing_and_logs_nothing(client: httpx.Client, org: str) -> None:
    case = new_case(client, org)
    base = f"{org}/cases/{case['uuid']}"
    assert client.post(f"{base}/reopen/").status_code == 400
    assert client.post(f"{base}/escalate/").status_code == 400
    assert events(client, org, case) == ["CREATED"]
    assert client.get(f"{base}/").json()["updated_at"] == case["updated_at"]


def test_the_checklist_comes_from_the_blueprint_and_gates_resolution(client: httpx.Client, org: str) -> None:
    steps = blueprint(client, org, require_resolution_note=True, content_config={"checklist": {
        "enabled": True, "items": [{"label": "Check sanctions", "order": 2}, {"label": "Check ID", "order": 1}]}})
    case = new_case(client, org, blueprint=steps["uuid"])
    base = f"{org}/cases/{case['uuid']}"
    items = client.get(f"{base}/checklist/")
    assert items.status_code == 200
    assert_conforms("GET", CASE + "/checklist/", 200, items.json())
    assert [(i["label"], i["is_completed"]) for i in items.json()] == [("Check ID", False), ("Check sanctions", False)]
    blocked = client.post(f"{base}/resolve/", json={"resolution": "FALSE_POSITIVE", "note": "fine"})
    assert blocked.status_code == 400
    assert blocked.json() == {"detail": "Complete the checklist before resolving the case (2 items left)."}
    for item in items.json():
        ticked = client.patch(f"{base}/checklist/{item['uuid']}/", json={"is_completed": True},
                              headers={"X-Didit-Mock-Actor": "officer@example.com"})
        assert ticked.status_code == 200
        assert_conforms("PATCH", CASE + "/checklist/{item_uuid}/", 200, ticked.json())
        assert ticked.json()["completed_by"] == "officer@example.com" and ticked.json()["completed_at"]
    assert all(i["is_completed"] for i in client.get(f"{base}/checklist/").json())  # the toggle persisted
    no_note = client.post(f"{base}/resolve/", json={"resolution": "FALSE_POSITIVE"})
    assert no_note.status_code == 400
    assert no_note.json() == {"detail": "A resolution note is required by this case's blueprint."}
    done = client.post(f"{base}/resolve/", json={"resolution": "FALSE_POSITIVE", "note": "fine"})
    assert done.status_code == 200 and done.json()["status"] == "RESOLVED"
    assert events(client, org, case) == ["CREATED", "CHECKLIST_COMPLETED", "CHECKLIST_COMPLETED", "RESOLVED"]
    first = items.json()[0]["uuid"]
    unticked = client.patch(f"{base}/checklist/{first}/", json={"is_completed": False}).json()
    assert (unticked["is_completed"], unticked["completed_by"], unticked["completed_at"]) == (False, None, None)
    other = new_case(client, org)
    assert client.patch(f"{org}/cases/{other['uuid']}/checklist/{first}/",
                        json={"is_completed": True}).status_code == 404


def test_entity_actions_act_on_the_case_subject(client: httpx.Client, org: str) -> None:
    user = client.post("/v3/users/create/", json={"vendor_data": f"case-{new_key()[-8:]}"})
    assert user.status_code == 201, user.text
    subject = {"type": "user", "uuid": user.json()["didit_internal_id"]}
    case = new_case(client, org, subject=subject)
    base = f"{org}/cases/{case['uuid']}"
    flagged = client.post(f"{base}/entity-actions/", json={"action": "set_status", "status": "FLAGGED"})
    assert flagged.status_code == 200, flagged.text
    assert_conforms("POST", CASE + "/entity-actions/", 200, flagged.json())
    assert flagged.json() == {"entity_type": "user", "entity_uuid": subject["uuid"], "action": "set_status",
                              "previous_status": "ACTIVE", "new_status": "FLAGGED"}
    assert client.get(f"/v3/users/{user.json()['vendor_data']}/").json()["status"] == "FLAGGED"
    noted = client.post(f"{base}/entity-actions/", json={"action": "add_note", "note": "called them"}).json()
    note = client.get(f"{base}/notes/").json()["results"][0]
    assert note["uuid"] == noted["comment_uuid"] and note["is_internal"] is True
    bad = client.post(f"{base}/entity-actions/", json={"action": "set_status", "status": "GONE"})
    assert bad.status_code == 400 and bad.json() == {"detail": "Invalid status. Valid options are: ACTIVE, FLAGGED, "
                                                               "BLOCKED"}
    assert events(client, org, case) == ["CREATED", "ENTITY_ACTION", "NOTE_ADDED", "ENTITY_ACTION"]
    lonely = new_case(client, org)
    refused = client.post(f"{org}/cases/{lonely['uuid']}/entity-actions/", json={"action": "add_note", "note": "x"})
    assert refused.status_code == 400 and refused.json() == {"detail": "This case has no subject."}


def test_the_aml_hits_are_those_of_the_linked_sessions(client: httpx.Client, org: str) -> None:
    session = create_session(client)
    complete(client, session["session_id"], "In Review", AML="In Review")
    decision = client.get(f"/v3/session/{session['session_id']}/decision/").json()
    expected = [hit["id"] for check in decision["aml_screenings"] for hit in check["hits"]]
    assert expected
    case = new_case(client, org)
    base = f"{org}/cases/{case['uuid']}"
    assert client.get(f"{base}/aml/").json() == []
    client.post(f"{base}/links/", json={"entity_type": "session", "entity_uuid": session["session_id"]})
    hits = client.get(f"{base}/aml/")
    assert hits.status_code == 200
    assert [hit["id"] for hit in hits.json()] == expected


def test_an_attachment_uploads_downloads_and_joins_a_note(client: httpx.Client, org: str) -> None:
    case = new_case(client, org)
    base = f"{org}/cases/{case['uuid']}"
    uploaded = client.post(f"{base}/notes/presign/", files={"file": ("proof.txt", b"wire of 10,000", "text/plain")})
    assert uploaded.status_code == 201, uploaded.text
    assert_conforms("POST", CASE + "/notes/presign/", 201, uploaded.json())
    file = uploaded.json()
    assert (file["filename"], file["file_size"]) == ("proof.txt", 14)
    assert file["url"].startswith(str(client.base_url))
    with httpx.Client(timeout=10) as anyone:  # a presigned URL needs no key
        fetched = anyone.get(file["url"])
        assert fetched.status_code == 200 and fetched.content == b"wire of 10,000"
        assert anyone.get(file["url"].replace("signature=", "signature=0")).status_code == 404
    again = client.get(f"{base}/notes/presign/", params={"s3_key": file["s3_key"]})
    assert again.status_code == 200 and again.json()["url"] == file["url"]
    assert client.get(f"{base}/notes/presign/", params={"s3_key": "cases/x/notes/y/z.txt"}).status_code == 404
    note = client.post(f"{base}/notes/", json={"comment": "see file", "attachments": [{"s3_key": file["s3_key"]}]})
    assert note.status_code == 201
    assert note.json()["attachments"] == [{"s3_key": file["s3_key"], "filename": "proof.txt", "file_size": 14,
                                           "url": file["url"]}]
    other = new_case(client, org)
    foreign = client.post(f"{org}/cases/{other['uuid']}/notes/", json={
        "comment": "x", "attachments": [{"s3_key": file["s3_key"]}]})
    assert foreign.status_code == 400
    exe = client.post(f"{base}/notes/presign/", files={"file": ("run.exe", b"MZ", "application/octet-stream")})
    assert exe.status_code == 400 and list(exe.json()) == ["file"]


def test_print_renders_the_case_as_a_pdf(client: httpx.Client, org: str) -> None:
    case = new_case(client, org, title="Printed")
    printed = client.get(f"{org}/cases/{case['uuid']}/print/")
    assert printed.status_code == 200
    assert_conforms("GET", CASE + "/print/", 200, printed.json())
    pdf = httpx.get(printed.json()["url"], timeout=10)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_report_downloads_once_finalized(client: httpx.Client, org: str) -> None:
    case = new_case(client, org)
    template = client.post(f"{org}/report-templates/", json={"name": "t", "jurisdiction": "US", "report_type": "SAR"})
    report = client.post(f"{org}/regulatory-reports/", json={
        "case": case["uuid"], "template": template.json()["uuid"], "jurisdiction": "US", "rentity_id": "R-1",
        "submission_code": "E", "currency_code_local": "USD", "action": "Reported",
        "submission_date": "2026-01-02T00:00:00Z", "transactions": [case["uuid"]]}).json()
    base = f"{org}/regulatory-reports/{report['uuid']}"
    early = client.get(f"{base}/download-url/")
    assert early.status_code == 409
    assert early.json() == {"detail": "Only a finalized report can be downloaded.", "status": "DRAFT"}
    client.post(f"{base}/validate/")
    assert client.post(f"{base}/finalize/").status_code == 200
    xml = client.get(f"{base}/download-url/", params={"file": "xml"})
    assert xml.status_code == 200 and xml.json()["file"] == "xml"
    assert_conforms("GET", ORG + "/regulatory-reports/{report_uuid}/download-url/", 200, xml.json())
    content = httpx.get(xml.json()["download_url"], timeout=10)
    assert content.status_code == 200 and b"<rentity_id>R-1</rentity_id>" in content.content
    pdf = httpx.get(client.get(f"{base}/download-url/").json()["download_url"], timeout=10)
    assert pdf.content.startswith(b"%PDF")


def test_the_case_and_its_log_survive_a_state_file_restart(tmp_path: Path) -> None:
    state_file, key = tmp_path / "state.json", new_key()
    with MockServer(state_file=str(state_file), freeze_clock=True) as first, \
            httpx.Client(base_url=first.url, headers={"x-api-key": key}, timeout=10) as http:
        org = console(http)
        checker = blueprint(http, org, name="checker")
        maker = blueprint(http, org, name="maker", four_eyes_checker_blueprint=checker["uuid"],
                          content_config={"checklist": {"items": [{"label": "Check ID", "order": 1}]}})
        case = new_case(http, org, blueprint=maker["uuid"])
        base = f"{org}/cases/{case['uuid']}"
        item = http.get(f"{base}/checklist/").json()[0]
        http.patch(f"{base}/checklist/{item['uuid']}/", json={"is_completed": True})
        http.post(f"{base}/resolve/", json={"resolution": "VALID_THREAT"})
        file = http.post(f"{base}/notes/presign/", files={"file": ("a.csv", b"a,b\n1,2\n", "text/csv")}).json()
        kept = http.get(f"{base}/").json()
    with MockServer(state_file=str(state_file), freeze_clock=True) as second, \
            httpx.Client(base_url=second.url, headers={"x-api-key": key}, timeout=10) as http:
        assert http.get(f"{base}/").json() == kept
        assert http.get(f"{base}/checklist/").json()[0]["is_completed"] is True
        assert events(http, org, case) == ["CREATED", "CHECKLIST_COMPLETED", "SUBMITTED_FOR_APPROVAL"]
        approved = http.post(f"{base}/approve/", headers=CHECKER)  # the staged resolution survived
        assert approved.status_code == 200 and approved.json()["resolution"] == "VALID_THREAT"
        url = http.get(f"{base}/notes/presign/", params={"s3_key": file["s3_key"]}).json()["url"]
        assert httpx.get(url, timeout=10).content == b"a,b\n1,2\n"


def test_reports_and_bulk_changes_are_logged_on_the_case(client: httpx.Client, org: str) -> None:
    case = new_case(client, org)
    report = client.post(f"{org}/cases/{case['uuid']}/regulatory-reports/", json={
        "report_type": "SAR", "jurisdiction": "US", "rentity_id": "R-1", "submission_code": "E",
        "currency_code_local": "USD", "action": "Reported", "submission_date": "2026-01-02T00:00:00Z",
        "transactions": [case["uuid"]]}).json()
    base = f"{org}/regulatory-reports/{report['uuid']}"
    client.post(f"{base}/validate/")
    assert client.post(f"{base}/finalize/").status_code == 200
    client.post(f"{org}/cases/bulk/assign/", json={"case_uuids": [case["uuid"]], "assignee_user_id": POOL[0],
                                                   "assignee_email": "a@b.co"})
    client.post(f"{org}/cases/bulk/status/", json={"case_uuids": [case["uuid"]], "status": "RESOLVED",
                                                   "resolution": "FALSE_POSITIVE"})
    client.post(f"{org}/cases/bulk/status/", json={"case_uuids": [case["uuid"]], "status": "RESOLVED",
                                                   "resolution": "FALSE_POSITIVE"})  # no change: no event
    assert events(client, org, case) == ["CREATED", "REPORT_CREATED", "REPORT_FINALIZED", "ASSIGNED", "RESOLVED"]
    printed = httpx.get(client.get(f"{org}/cases/{case['uuid']}/print/").json()["url"], timeout=10)
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")


def test_an_assignee_has_only_the_name_and_email_given(client: httpx.Client, org: str) -> None:
    """CaseAssignee's `email` is an e-mail address: an assignment without one leaves it out, as it
    does the name, rather than making up an empty string the schema refuses."""
    first, second = new_case(client, org), new_case(client, org)
    client.post(f"{org}/cases/bulk/assign/", json={"case_uuids": [first["uuid"]], "assignee_user_id": POOL[0]})
    client.post(f"{org}/cases/{second['uuid']}/assign/", json={"assignee_user_id": OTHER, "assignee_name": "Ana"})
    assert client.get(f"{org}/cases/{first['uuid']}/").json()["assigned_to"] == {"uuid": POOL[0]}
    assert client.get(f"{org}/cases/{second['uuid']}/").json()["assigned_to"] == {"uuid": OTHER, "full_name": "Ana"}


def test_an_automatic_blueprint_assigns_to_the_least_busy_member_below_its_limit(client: httpx.Client,
                                                                                   org: str) -> None:
    """AUTOMATIC: each new case goes to the pool member with the fewest active cases (pool order among
    equals); members at max_active_cases are passed over; when all are full the case stays unassigned."""
    pool = [POOL[0], OTHER]
    elsewhere = new_case(client, org, blueprint=blueprint(client, org)["uuid"])  # counts for its own blueprint only
    client.post(f"{org}/cases/{elsewhere['uuid']}/assign/", json={"assignee_user_id": POOL[0]})
    routed = blueprint(client, org, assignee_pool=pool, assignment_method="AUTOMATIC", max_active_cases=1)
    first, second, third = (new_case(client, org, blueprint=routed["uuid"]) for _ in range(3))
    assert [c["assigned_to"] for c in (first, second)] == [{"uuid": POOL[0]}, {"uuid": OTHER}]
    assert first["assigned_at"] is not None and third["assigned_to"] is None
    assert events(client, org, first) == ["CREATED", "ASSIGNED"]
    client.post(f"{org}/cases/{first['uuid']}/resolve/", json={"resolution": "FALSE_POSITIVE"})
    fourth = new_case(client, org, blueprint=routed["uuid"])  # a resolved case frees its assignee
    assert fourth["assigned_to"] == {"uuid": POOL[0]}
    manual = blueprint(client, org)
    assert new_case(client, org, blueprint=manual["uuid"])["assigned_to"] is None


def test_an_inactive_blueprint_takes_no_case(client: httpx.Client, org: str) -> None:
    asleep = blueprint(client, org, is_active=False)
    refused = client.post(f"{org}/cases/", json={"title": "case", "blueprint": asleep["uuid"]})
    assert refused.status_code == 400
    assert refused.json() == {"blueprint": ["This blueprint is inactive: it takes no new cases."]}
    source = blueprint(client, org, transfer_enabled=True)
    case = new_case(client, org, blueprint=source["uuid"])
    moved = client.post(f"{org}/cases/{case['uuid']}/transfer/", json={"target_blueprint": asleep["uuid"]})
    assert moved.status_code == 400 and list(moved.json()) == ["target_blueprint"]
    assert client.get(f"{org}/cases/{case['uuid']}/").json()["blueprint"]["uuid"] == source["uuid"]


def test_documented_defaults_fill_what_a_create_leaves_out(client: httpx.Client, org: str) -> None:
    made = blueprint(client, org)
    assert (made["is_active"], made["assignment_method"], made["transfer_enabled"]) == (True, "MANUAL", False)
    assert new_case(client, org)["priority"] == "MEDIUM"


def test_a_report_from_the_reports_page_joins_its_case(client: httpx.Client, org: str) -> None:
    """The standalone create names its case and template: the template seeds the draft, the case's
    linked transactions are attached, and the report is the case's (its list, its event log)."""
    case = new_case(client, org)
    transaction = "6c1f3a2e-1111-4a5b-8c9d-0e1f2a3b4c5d"
    client.post(f"{org}/cases/{case['uuid']}/links/", json={"entity_type": "transaction", "entity_uuid": transaction})
    template = client.post(f"{org}/report-templates/", json={
        "name": "goAML NL", "jurisdiction": "NL", "report_type": "UTR",
        "field_config": {"rentity_id": "R-9", "currency_code_local": "EUR"}}).json()
    made = client.post(f"{org}/regulatory-reports/", json={"case": case["uuid"], "template": template["uuid"],
                                                          "rentity_id": "R-1"})
    assert made.status_code == 201, made.text
    report = made.json()
    assert (report["case_uuid"], report["case_number"]) == (case["uuid"], case["case_number"])
    assert (report["report_type"], report["jurisdiction"], report["rentity_id"], report["currency_code_local"]) == (
        "UTR", "NL", "R-1", "EUR")  # the body wins over the template
    assert report["transactions"] == [transaction]
    listed = client.get(f"{org}/cases/{case['uuid']}/regulatory-reports/").json()
    assert [r["uuid"] for r in listed["results"]] == [report["uuid"]]
    assert events(client, org, case)[-1] == "REPORT_CREATED"
    unknown = client.post(f"{org}/regulatory-reports/", json={"case": case["uuid"], "template": transaction})
    assert unknown.status_code == 400 and list(unknown.json()) == ["template"]
    bare = client.post(f"{org}/cases/{case['uuid']}/regulatory-reports/", json={})
    assert bare.json() == {"report_type": ["This field is required."], "jurisdiction": ["This field is required."]}


def test_a_case_moved_to_an_automatic_blueprint_unassigned_is_routed_there(client: httpx.Client, org: str) -> None:
    team = blueprint(client, org, assignee_pool=[OTHER], assignment_method="AUTOMATIC")
    desk = blueprint(client, org, transfer_enabled=True, escalation_enabled=True, escalation_blueprint=team["uuid"])
    moved = new_case(client, org, blueprint=desk["uuid"])
    transferred = client.post(f"{org}/cases/{moved['uuid']}/transfer/", json={"target_blueprint": team["uuid"]})
    assert transferred.json()["assigned_to"] == {"uuid": OTHER}
    assert events(client, org, moved)[-2:] == ["TRANSFERRED", "ASSIGNED"]
    kept = new_case(client, org, blueprint=desk["uuid"])
    client.post(f"{org}/cases/{kept['uuid']}/assign/", json={"assignee_user_id": POOL[0]})
    escalated = client.post(f"{org}/cases/{kept['uuid']}/escalate/").json()
    assert escalated["blueprint"]["uuid"] == team["uuid"] and escalated["assigned_to"] == {"uuid": POOL[0]}


def test_a_template_seeds_its_own_fields_and_they_are_checked(client: httpx.Client, org: str) -> None:
    """A template's field_config wins over the documented defaults (its submission code stays M), and
    what it brings is checked as a body is."""
    case = new_case(client, org)
    manual = client.post(f"{org}/report-templates/", json={
        "name": "manual", "jurisdiction": "US", "report_type": "SAR", "field_config": {"submission_code": "M"}}).json()
    made = client.post(f"{org}/cases/{case['uuid']}/regulatory-reports/", json={"template": manual["uuid"]})
    assert made.status_code == 201 and made.json()["submission_code"] == "M"
    plain = client.post(f"{org}/cases/{case['uuid']}/regulatory-reports/", json={"report_type": "SAR",
                                                                                "jurisdiction": "US"})
    assert plain.json()["submission_code"] == "E"  # the documented default
    broken = client.post(f"{org}/report-templates/", json={
        "name": "broken", "jurisdiction": "US", "report_type": "SAR", "field_config": {"transactions": "nope"}}).json()
    refused = client.post(f"{org}/cases/{case['uuid']}/regulatory-reports/", json={"template": broken["uuid"]})
    assert refused.status_code == 400 and list(refused.json()) == ["transactions"]
    assert len(client.get(f"{org}/cases/{case['uuid']}/regulatory-reports/").json()["results"]) == 2


def test_a_case_created_with_an_assignee_keeps_it(client: httpx.Client, org: str) -> None:
    routed = blueprint(client, org, assignee_pool=[POOL[0]], assignment_method="AUTOMATIC")
    made = new_case(client, org, blueprint=routed["uuid"], assigned_to=OTHER)
    assert made["assigned_to"] == {"uuid": OTHER} and made["assigned_at"] is not None
    assert events(client, org, made) == ["CREATED", "ASSIGNED"]
    assert new_case(client, org, assigned_to=OTHER)["assigned_to"] == {"uuid": OTHER}
