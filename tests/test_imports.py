"""Session imports over HTTP: the template, jobs on the tenant clock, rows that become sessions and
users, per-row errors, the documented 400/403/404/429 answers, isolation and the state file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from didit_mock.domain import imports as imports_domain
from tests.conftest import KYC_WORKFLOW, advance, new_key
from tests.test_durable_state import served
from tests.test_state import free_port

IMPORTS = "/v3/session/imports/"
TEMPLATE = "/v3/session/imports/template/"
UNKNOWN = "5f1f8c9e-0000-4000-8000-00000000c0de"
CSV = (
    "external_id,vendor_data,status,first_name,last_name,date_of_birth,issuing_state\n"
    "ext-1,alice,Approved,Alice,Smith,1990-01-02,FRA\n"
    "ext-2,bob,unknown_status,Bob,Jones,1980-01-01,\n"
    "ext-3,carol,Declined,Carol,King,1975-05-05,DEU\n"
    "ext-4,dave,In Review,Dave,Lee,not-a-date,\n"
)


@pytest.fixture
def live(server, api_key: str) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    """A client of a fresh live tenant (Didit refuses imports to sandbox applications)."""
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key("sk_live_")}, timeout=10) as http:
        yield http


def upload(client: httpx.Client, text: str, name: str = "sessions.csv", **data: str) -> httpx.Response:
    fields = {"workflow_id": KYC_WORKFLOW, **data}
    return client.post(IMPORTS, data=fields, files={"file": (name, text.encode("utf-8"), "text/csv")})


def job(client: httpx.Client, job_id: str) -> dict:
    response = client.get(f"{IMPORTS}{job_id}/")
    assert response.status_code == 200, response.text
    return response.json()


def run(client: httpx.Client, job_id: str) -> dict:
    """Move the tenant clock until the job has finished."""
    advance(client, imports_domain.START_AFTER)
    advance(client, 60)
    return job(client, job_id)


def imported(client: httpx.Client, text: str = CSV, **data: str) -> dict:
    created = upload(client, text, **data)
    assert created.status_code == 201, created.text
    return run(client, created.json()["uuid"])


# ---------------------------------------------------------------- the template

def test_the_template_is_the_csv_header_of_each_import_type(client: httpx.Client) -> None:
    default = client.get(TEMPLATE)
    assert default.status_code == 200
    assert default.headers["content-type"].startswith("text/csv")
    assert "attachment" in default.headers["content-disposition"]
    header = default.text.strip().split(",")
    assert header[0] == "external_id" and {"vendor_data", "status", "first_name", "date_of_birth"} <= set(header)
    business = client.get(TEMPLATE, params={"import_type": "business_verification"}).text.strip().split(",")
    assert business[0] == "external_id" and "legal_name" in business and "first_name" not in business
    assert client.get(TEMPLATE, params={"import_type": "transactions"}).text.startswith("external_id,")
    assert client.get(TEMPLATE, params={"import_type": "status_rules"}).status_code == 200
    bad = client.get(TEMPLATE, params={"import_type": "payroll"})
    assert bad.status_code == 400 and bad.json() == {"import_type": ['"payroll" is not a valid choice.']}


def test_every_import_route_is_a_403_without_a_key(anon: httpx.Client) -> None:
    denied = {"detail": "You do not have permission to perform this action."}
    for response in (anon.get(TEMPLATE), anon.post(IMPORTS, json={}), anon.get(f"{IMPORTS}{UNKNOWN}/"),
                     anon.get(f"{IMPORTS}{UNKNOWN}/errors/")):
        assert response.status_code == 403 and response.json() == denied


def test_a_sandbox_application_cannot_import(client: httpx.Client) -> None:
    response = upload(client, CSV)
    assert response.status_code == 403
    assert response.json() == {"detail": "Verification imports are not enabled for sandbox applications."}


# ---------------------------------------------------------------- a job on the clock

def test_the_job_moves_only_when_the_tenant_clock_moves(live: httpx.Client) -> None:
    created = upload(live, CSV)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "PENDING" and body["source_format"] == "csv" and body["source_filename"] == "sessions.csv"
    assert body["started_at"] is None and body["total_rows"] == 0
    job_id = body["uuid"]
    assert job(live, job_id)["status"] == "PENDING"  # no time passed: nothing ran
    advance(live, imports_domain.START_AFTER / 2)
    assert job(live, job_id)["status"] == "PENDING"
    advance(live, imports_domain.START_AFTER / 2)
    processing = job(live, job_id)
    assert processing["status"] == "PROCESSING" and processing["total_rows"] == 4
    assert processing["processed_rows"] == 0 and processing["started_at"] is not None
    assert live.get("/v3/sessions/").json()["count"] == 0  # rows land when the job completes
    advance(live, 1)
    done = job(live, job_id)
    assert done["status"] == "COMPLETED" and done["completed_at"] is not None and done["last_error"] is None
    assert (done["processed_rows"], done["created_count"], done["failed_count"], done["checkpoint_row"]) == (4, 2, 2, 4)


def test_valid_rows_become_sessions_with_decisions_and_users(live: httpx.Client) -> None:
    done = imported(live)
    assert done["created_count"] == 2
    listed = live.get("/v3/sessions/").json()
    by_vendor = {row["vendor_data"]: row for row in listed["results"]}
    assert set(by_vendor) == {"alice", "carol"}
    assert by_vendor["alice"]["status"] == "Approved" and by_vendor["carol"]["status"] == "Declined"
    decision = live.get(f"/v3/session/{by_vendor['alice']['session_id']}/decision/")
    assert decision.status_code == 200
    assert decision.json()["status"] == "Approved" and decision.json()["workflow_id"] == KYC_WORKFLOW
    assert decision.json()["metadata"] == {"external_id": "ext-1", "import_id": done["uuid"]}
    assert "shared_from_session" not in decision.json()
    alice = live.get("/v3/users/alice/").json()
    assert alice["full_name"] == "Alice Smith" and alice["date_of_birth"] == "1990-01-02"
    assert alice["issuing_states"] == ["FRA"] and alice["approved_count"] == 1 and alice["session_count"] == 1
    carol = live.get("/v3/users/carol/").json()
    assert carol["declined_count"] == 1 and carol["approved_count"] == 0
    assert live.get("/v3/users/bob/").status_code == 404  # a bad row makes nothing


def test_bad_rows_are_listed_with_their_number_field_and_message(live: httpx.Client) -> None:
    done = imported(live)
    errors = live.get(f"{IMPORTS}{done['uuid']}/errors/").json()
    assert errors["count"] == 2 and errors["next"] is None
    first, second = errors["results"]
    assert (first["row_number"], first["external_id"]) == (2, "ext-2")
    assert first["error"] == "status: invalid value 'unknown_status'"
    assert first["raw_row"]["status"] == "unknown_status" and first["raw_row"]["first_name"] == "Bob"
    assert (second["row_number"], second["external_id"]) == (4, "ext-4")
    assert second["error"].startswith("date_of_birth: invalid date 'not-a-date'")
    page = live.get(f"{IMPORTS}{done['uuid']}/errors/", params={"limit": 1}).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"] is not None
    assert page["results"][0]["row_number"] == 2


def test_ndjson_rows_and_unreadable_lines(live: httpx.Client) -> None:
    lines = [json.dumps({"external_id": "n-1", "vendor_data": "nina", "status": "approved"}),
             "{not json",
             json.dumps(["a", "list"]),
             json.dumps({"vendor_data": "nobody", "status": "Approved"})]
    done = imported(live, "\n".join(lines) + "\n", name="export.ndjson")
    assert (done["source_format"], done["created_count"], done["failed_count"]) == ("ndjson", 1, 3)
    errors = [e["error"] for e in live.get(f"{IMPORTS}{done['uuid']}/errors/").json()["results"]]
    assert errors == ["row: invalid JSON", "row: a JSON object is expected", "external_id: this field is required"]
    assert live.get("/v3/users/nina/").json()["approved_count"] == 1


def test_the_same_rows_again_are_skipped_and_a_changed_row_updates_its_session(live: httpx.Client) -> None:
    imported(live)
    again = imported(live)
    assert (again["created_count"], again["skipped_count"], again["updated_count"]) == (0, 2, 0)
    changed = CSV.replace("ext-1,alice,Approved", "ext-1,alice,Declined")
    third = imported(live, changed)
    assert (third["created_count"], third["skipped_count"], third["updated_count"]) == (0, 1, 1)
    rows = live.get("/v3/sessions/").json()["results"]
    assert len(rows) == 2
    alice = next(r for r in rows if r["vendor_data"] == "alice")
    assert alice["status"] == "Declined"
    assert live.get("/v3/users/alice/").json()["declined_count"] == 1


def test_a_file_without_the_key_column_fails_the_job(live: httpx.Client) -> None:
    done = imported(live, "vendor_data,status\nalice,Approved\n")
    assert done["status"] == "FAILED" and done["last_error"] == "Missing required column: external_id."
    assert done["completed_at"] is not None and live.get("/v3/sessions/").json()["count"] == 0


def test_status_rule_imports_are_not_emulated_and_fail_with_a_reason(live: httpx.Client) -> None:
    created = live.post(IMPORTS, data={"import_type": "status_rules", "workflow_id": KYC_WORKFLOW},
                        files={"file": ("rules.csv", b"status_key,label\nvip,VIP\n", "text/csv")})
    assert created.status_code == 201, created.text
    done = run(live, created.json()["uuid"])
    assert done["status"] == "FAILED" and "status_rules" in done["last_error"]


TRANSACTIONS = (
    "external_id,vendor_data,direction,amount,currency,created_at,counterparty_name\n"
    "t-1,alice,outbound,1500,eur,2026-01-02T10:00:00Z,Bob Jones\n"
    "t-2,alice,sideways,10,EUR,,\n"
    "t-3,alice,inbound,-5,EUR,,\n"
    "t-4,alice,inbound,20,USD,,\n"
)


def test_transaction_rows_become_monitored_transactions(live: httpx.Client) -> None:
    created = live.post(IMPORTS, data={"import_type": "transactions"},
                        files={"file": ("tx.csv", TRANSACTIONS.encode(), "text/csv")})
    assert created.status_code == 201, created.text  # transactions need no workflow
    done = run(live, created.json()["uuid"])
    assert (done["status"], done["created_count"], done["failed_count"]) == ("COMPLETED", 2, 2)
    listed = live.get("/v3/transactions/").json()
    assert listed["count"] == 2
    errors = [e["error"] for e in live.get(f"{IMPORTS}{done['uuid']}/errors/").json()["results"]]
    assert errors == ["direction: invalid value 'sideways'", "amount: invalid value '-5'"]
    again = live.post(IMPORTS, data={"import_type": "transactions"},
                      files={"file": ("tx.csv", TRANSACTIONS.encode(), "text/csv")})
    assert run(live, again.json()["uuid"])["skipped_count"] == 2  # the same external ids are not sent twice
    assert live.get("/v3/transactions/").json()["count"] == 2


# ---------------------------------------------------------------- a URL, never fetched

def test_a_url_import_is_accepted_then_fails_to_fetch(live: httpx.Client) -> None:
    created = live.post(IMPORTS, json={"workflow_id": KYC_WORKFLOW,
                                       "source_file_url": "https://files.example.com/exports/sessions.ndjson"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["source_format"], body["source_filename"]) == ("PENDING", "ndjson", "sessions.ndjson")
    failed = run(live, body["uuid"])
    assert failed["status"] == "FAILED" and failed["last_error"] == imports_domain.FETCH_FAILED
    assert failed["total_rows"] == 0 and live.get("/v3/sessions/").json()["count"] == 0
    # The failed job is not active: another import may start.
    assert upload(live, CSV).status_code == 201


def test_url_rules(live: httpx.Client) -> None:
    def create(url: str, **extra: str) -> httpx.Response:
        return live.post(IMPORTS, json={"workflow_id": KYC_WORKFLOW, "source_file_url": url, **extra})

    assert create("http://files.example.com/a.csv").json() == {"source_file_url": [imports_domain.NOT_HTTPS]}
    for private in ("https://127.0.0.1/a.csv", "https://10.1.2.3/a.csv", "https://localhost/a.csv",
                    "https://[::1]/a.csv"):
        assert create(private).json() == {"source_file_url": [imports_domain.PRIVATE_URL]}, private
    assert create("https://files.example.com/export").json() == {"source_format": [imports_domain.NO_FORMAT]}
    assert create("https://files.example.com/export", source_format="csv").status_code == 201


# ---------------------------------------------------------------- the documented 400s and the 429

def test_the_documented_400s(live: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    def check(response: httpx.Response, body: dict) -> None:
        assert (response.status_code, response.json()) == (400, body), response.text

    check(live.post(IMPORTS, data={"workflow_id": KYC_WORKFLOW}), {"file": [imports_domain.NO_SOURCE]})
    check(live.post(IMPORTS, json={"workflow_id": KYC_WORKFLOW}), {"file": [imports_domain.NO_SOURCE]})
    check(live.post(IMPORTS, data={"workflow_id": KYC_WORKFLOW, "source_file_url": "https://x.example/a.csv"},
                    files={"file": ("a.csv", b"external_id\n", "text/csv")}), {"file": [imports_domain.BOTH_SOURCES]})
    check(upload(live, CSV, name="sessions.xlsx"), {"file": [imports_domain.WRONG_FILE_TYPE]})
    check(live.post(IMPORTS, files={"file": ("a.csv", CSV.encode(), "text/csv")}),
          {"workflow_id": [imports_domain.WORKFLOW_REQUIRED]})
    # A workflow id that is no UUID fails the document's `format: uuid`, as DRF's UUIDField answers it.
    check(upload(live, CSV, workflow_id="not-a-workflow"), {"workflow_id": ["Must be a valid UUID."]})
    # A business import needs a KYB workflow.
    check(upload(live, CSV, import_type="business_verification"), {"workflow_id": [imports_domain.INVALID_WORKFLOW]})
    bad_type = upload(live, CSV, import_type="payroll")
    assert bad_type.status_code == 400 and "import_type" in bad_type.json()
    monkeypatch.setattr(imports_domain, "MAX_FILE_BYTES", 64)
    check(upload(live, CSV), {"file": [imports_domain.FILE_TOO_LARGE]})
    monkeypatch.undo()
    assert live.get("/v3/session/imports/" + UNKNOWN + "/").status_code == 404  # nothing was created


def test_a_strict_tenant_refuses_an_unknown_workflow(server) -> None:  # type: ignore[no-untyped-def]
    created = httpx.post(f"{server.url}/_mock/tenants", json={"environment": "live", "strict_workflows": True})
    key = created.json()["api_key"]
    with httpx.Client(base_url=server.url, headers={"x-api-key": key}, timeout=10) as strict:
        response = upload(strict, CSV, workflow_id=UNKNOWN)
        assert response.status_code == 400 and response.json() == {"workflow_id": [imports_domain.INVALID_WORKFLOW]}
        assert upload(strict, CSV).status_code == 201


def test_one_active_job_per_application(live: httpx.Client) -> None:
    first = upload(live, CSV).json()
    busy = upload(live, CSV)
    assert busy.status_code == 429 and busy.json() == {"detail": imports_domain.ACTIVE_JOB}
    advance(live, imports_domain.START_AFTER)
    assert upload(live, CSV).status_code == 429  # PROCESSING is active too
    run(live, first["uuid"])
    assert upload(live, CSV).status_code == 201


def test_a_user_made_by_an_imported_row_was_created_then_and_updated_at_the_import(live: httpx.Client) -> None:
    text = "external_id,vendor_data,status,created_at,first_name\nold-1,erin,Approved,2023-01-02T10:00:00Z,Erin\n"
    done = imported(live, text)
    assert done["created_count"] == 1, done
    erin = live.get("/v3/users/erin/").json()
    assert erin["created_at"].startswith("2023-01-02T10:00:00")
    assert _instant(erin["updated_at"]) >= _instant(done["created_at"])  # the import's own time, not the row's


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def act(client: httpx.Client, job_id: str, action: str) -> httpx.Response:
    return client.post(f"/_mock/imports/{job_id}/{action}")


def test_a_paused_job_waits_stays_active_and_resumes_where_it_was(live: httpx.Client) -> None:
    job_id = upload(live, CSV).json()["uuid"]
    advance(live, imports_domain.START_AFTER / 4)
    paused = act(live, job_id, "pause")
    assert paused.status_code == 200, paused.text
    assert paused.json() == job(live, job_id) and paused.json()["status"] == "PAUSED"
    advance(live, 3600)
    assert job(live, job_id)["status"] == "PAUSED"  # the clock moved on: the paused job did not
    assert upload(live, CSV).status_code == 429  # still the application's active job
    assert act(live, job_id, "resume").json()["status"] == "PENDING"
    advance(live, imports_domain.START_AFTER * 3 / 4 - 0.01)
    assert job(live, job_id)["status"] == "PENDING"  # the quarter it had waited counts
    advance(live, 0.01)
    assert job(live, job_id)["status"] == "PROCESSING"
    assert act(live, job_id, "pause").json()["status"] == "PAUSED"  # a processing job pauses too
    advance(live, 3600)
    assert job(live, job_id)["processed_rows"] == 0
    assert act(live, job_id, "resume").json()["status"] == "PROCESSING"
    advance(live, 1)
    done = job(live, job_id)
    assert done["status"] == "COMPLETED" and done["created_count"] == 2


def test_a_cancelled_job_imports_nothing_more_and_frees_the_application(live: httpx.Client) -> None:
    job_id = upload(live, CSV).json()["uuid"]
    advance(live, imports_domain.START_AFTER)
    assert job(live, job_id)["status"] == "PROCESSING"
    cancelled = act(live, job_id, "cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    assert cancelled.json()["completed_at"] is not None
    advance(live, 60)
    assert job(live, job_id)["status"] == "CANCELLED" and job(live, job_id)["created_count"] == 0
    assert live.get("/v3/sessions/").json()["count"] == 0
    assert upload(live, CSV).status_code == 201  # no longer active


def test_pause_resume_and_cancel_refuse_a_job_in_another_status(live: httpx.Client) -> None:
    done = imported(live)
    for action in ("pause", "resume", "cancel"):
        refused = act(live, done["uuid"], action)
        assert refused.status_code == 409 and "COMPLETED" in refused.json()["detail"]
    pending = upload(live, CSV.replace("ext-", "other-")).json()["uuid"]
    assert act(live, pending, "resume").status_code == 409  # not paused
    assert act(live, UNKNOWN, "pause").status_code == 404
    assert act(live, pending, "cancel").json()["status"] == "CANCELLED"
    assert act(live, pending, "cancel").status_code == 409


def test_unknown_jobs_are_404s(live: httpx.Client) -> None:
    for path in (f"{IMPORTS}{UNKNOWN}/", f"{IMPORTS}{UNKNOWN}/errors/"):
        response = live.get(path)
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_jobs_and_their_sessions_belong_to_one_application(live: httpx.Client, server) -> None:  # type: ignore[no-untyped-def]
    done = imported(live)
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key("sk_live_")}, timeout=10) as other:
        assert other.get(f"{IMPORTS}{done['uuid']}/").status_code == 404
        assert other.get(f"{IMPORTS}{done['uuid']}/errors/").status_code == 404
        assert other.get("/v3/sessions/").json()["count"] == 0
        assert other.get("/v3/users/alice/").status_code == 404
        assert upload(other, CSV).status_code == 201  # the other application's active job is not this one's


# ---------------------------------------------------------------- the state file

def test_jobs_sessions_and_a_pending_job_survive_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    port, key = free_port(), new_key("sk_live_")
    with served(state_file, port, key) as http:
        assert http.post("/_mock/clock/freeze").status_code == 200
        done = imported(http)
        pending = upload(http, CSV.replace("ext-", "second-")).json()
        assert pending["status"] == "PENDING"
        advance(http, imports_domain.START_AFTER / 2)
        assert act(http, pending["uuid"], "pause").json()["status"] == "PAUSED"
    with served(state_file, port, key) as http:
        again = job(http, done["uuid"])
        assert again == done
        assert http.get(f"{IMPORTS}{done['uuid']}/errors/").json()["count"] == 2
        assert {r["vendor_data"] for r in http.get("/v3/sessions/").json()["results"]} == {"alice", "carol"}
        assert job(http, pending["uuid"])["status"] == "PAUSED"
        assert act(http, pending["uuid"], "resume").json()["status"] == "PENDING"
        advance(http, imports_domain.START_AFTER / 2)
        assert job(http, pending["uuid"])["status"] == "PROCESSING"  # half its wait was before the restart
        finished = run(http, pending["uuid"])  # the restored job is scheduled again
        assert finished["status"] == "COMPLETED" and finished["created_count"] == 2
        assert http.get("/v3/users/alice/").json()["session_count"] == 2
        assert imported(http)["skipped_count"] == 2  # external ids remembered across the restart


def test_a_business_import_into_a_kyb_workflow_makes_businesses(live: httpx.Client) -> None:
    made = live.post("/v3/workflows/", json={"features": [{"feature": "KYB_REGISTRY"}]})
    assert made.status_code == 201, made.text
    rows = ("external_id,vendor_data,status,legal_name,registration_number,country_code\n"
            "b-1,acme,Approved,Acme Ltd,12345,gb\n"
            "b-2,bad-co,Approved,Bad Co,1,GBR\n")
    done = imported(live, rows, import_type="business_verification", workflow_id=made.json()["workflow_id"])
    assert (done["status"], done["created_count"], done["failed_count"]) == ("COMPLETED", 1, 1)
    business = live.get("/v3/businesses/acme/").json()
    assert (business["legal_name"], business["registration_number"], business["country_code"]) == \
        ("Acme Ltd", "12345", "GB")
    assert business["session_count"] == 1 and live.get("/v3/users/acme/").status_code == 404
    assert live.get("/v3/sessions/").json()["count"] == 0  # a business session: not in the user list
    session = live.get("/v3/sessions/", params={"session_kind": "business"}).json()["results"][0]
    assert session["session_kind"] == "business" and session["vendor_data"] == "acme"
    assert live.get(f"/v3/session/{session['session_id']}/decision/").json()["session_kind"] == "business"
    error = live.get(f"{IMPORTS}{done['uuid']}/errors/").json()["results"][0]
    assert error["error"] == "country_code: invalid value 'GBR'"


def test_imports_switched_off_for_the_organization_are_a_403(live: httpx.Client) -> None:
    document = live.get("/_mock/state").json()
    document["tenants"][0]["config"]["extra"]["imports_enabled"] = False
    assert live.put("/_mock/state", json=document).status_code == 200
    response = upload(live, CSV)
    assert response.status_code == 403
    assert response.json() == {"detail": "Verification imports are not enabled for this organization."}


def test_one_long_move_of_the_clock_runs_every_step_at_its_own_instant(live: httpx.Client) -> None:
    created = upload(live, CSV).json()
    advance(live, 3600)
    done = job(live, created["uuid"])
    assert done["status"] == "COMPLETED" and done["created_count"] == 2
    assert done["started_at"] < done["completed_at"] < live.get("/_mock/clock").json()["now"]


def test_an_imported_session_adds_no_features_to_its_user(live: httpx.Client) -> None:
    imported(live)
    assert live.get("/v3/users/alice/").json()["features"] == {}
