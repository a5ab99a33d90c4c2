"""Users and businesses over HTTP: made by sessions and by create, derived aggregates, status and blocking."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from didit_mock.server import MockServer
from tests.conftest import complete, create_session, new_key, twice_from_scratch
from tests.scenario_helpers import receiver

BLOCKED = {"vendor_data": "This user or business has been blocked and cannot create new verification sessions."}
COMPLETE_KYC = "d1d17000-0000-4000-8000-000000000006"
KYC = "d1d17000-0000-4000-8000-000000000001"


def user(client: httpx.Client, vendor_data: str) -> dict:
    response = client.get(f"/v3/users/{vendor_data}/")
    assert response.status_code == 200, response.text
    return response.json()


def test_the_first_session_of_a_vendor_data_makes_its_user(client: httpx.Client) -> None:
    assert client.get("/v3/users/").json() == {"count": 0, "next": None, "previous": None, "results": []}
    first = create_session(client, vendor_data="alice")
    made = user(client, "alice")
    assert made["vendor_data"] == "alice" and made["status"] == "ACTIVE"
    assert (made["session_count"], made["approved_count"]) == (1, 0)
    assert made["features"]["ID_VERIFICATION"] == "Not Finished"
    assert made["metadata"] == {} and made["comments"] == []

    complete(client, first["session_id"])
    second = create_session(client, vendor_data="alice", workflow_id=COMPLETE_KYC)
    complete(client, second["session_id"], "Declined")
    again = user(client, "alice")
    assert again["didit_internal_id"] == made["didit_internal_id"]
    assert (again["session_count"], again["approved_count"], again["declined_count"]) == (2, 1, 1)
    assert again["full_name"] and again["effective_name"] == again["full_name"]
    assert len(again["issuing_states"]) == 1 and len(again["issuing_states"][0]) == 3
    assert again["features"]["LIVENESS"] in ("Approved", "Declined")
    assert again["first_session_at"] <= again["last_session_at"]


def test_users_made_by_sessions_are_the_same_whenever_they_are_first_read(server: MockServer) -> None:
    """The id of a session's user is drawn with its first session, whenever the user is first read:
    reading the users after every step or only at the end gives the same users, and the ids of what
    follows (an API-made user, the next session) do not move either."""
    def steps(http: httpx.Client, read_each_time: bool) -> list[object]:
        seen: list[object] = []
        for step, workflow in (("ann", KYC), ("ben", KYC), ("ann", COMPLETE_KYC), ("cleo", KYC)):
            made = http.post("/v3/session/", json={"workflow_id": workflow, "vendor_data": step}).json()
            seen.append(made["session_id"])
            http.post("/_mock/clock/advance", json={"seconds": 60})
            if read_each_time:
                http.get("/v3/users/")
        seen.append(http.post("/v3/users/create/", json={"vendor_data": "dee"}).json()["didit_internal_id"])
        users = http.get("/v3/users/").json()["results"]
        seen.append(sorted((u["vendor_data"], u["didit_internal_id"], u["created_at"], u["last_activity_at"])
                           for u in users))
        return seen

    key = new_key()
    eager = twice_from_scratch(server, key, lambda http: steps(http, True))
    lazy = twice_from_scratch(server, key, lambda http: steps(http, False))
    assert eager[0] == eager[1] == lazy[0] == lazy[1]
    users = lazy[0][-1]
    assert [u[0] for u in users] == ["ann", "ben", "cleo", "dee"]
    assert len({u[1] for u in users}) == 4
    ann = users[0]
    assert ann[2] < ann[3]  # made by the first session, active at the third


def test_create_patch_and_list(client: httpx.Client) -> None:
    created = client.post("/v3/users/create/", json={"vendor_data": "bob", "full_name": "Bob Stone",
                                                      "metadata": {"tier": 1}})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["full_name"], body["session_count"], body["features"], body["metadata"]) == (
        "Bob Stone", 0, {}, {"tier": 1})
    duplicate = client.post("/v3/users/create/", json={"vendor_data": "bob"})
    assert duplicate.status_code == 400
    assert duplicate.json() == {"vendor_data": ["A user with this vendor_data already exists."]}

    patched = client.patch("/v3/users/bob/", json={"display_name": "Bobby", "metadata": {"a": 1},
                                                   "approved_emails": ["b@example.com"]}).json()
    assert patched["effective_name"] == "Bobby" and patched["metadata"] == {"a": 1}
    assert patched["approved_emails"] == ["b@example.com"]

    create_session(client, vendor_data="carol")
    rows = client.get("/v3/users/").json()
    assert [r["vendor_data"] for r in rows["results"]] == ["carol", "bob"]  # by last session
    assert "metadata" not in rows["results"][0] and "comments" not in rows["results"][0]


@pytest.mark.parametrize(("path", "method", "body", "errors"), [
    ("/v3/users/create/", "post", {}, {"vendor_data": ["This field is required."]}),
    ("/v3/users/create/", "post", {"vendor_data": "x", "metadata": [1]},
     {"metadata": ["Metadata must be a JSON object."]}),
    ("/v3/users/create/", "post", {"vendor_data": "x", "status": "GONE"},
     {"status": ["Invalid status. Valid options are: ACTIVE, FLAGGED, BLOCKED"]}),
    ("/v3/users/u1/", "patch", {"status": "INVALID"}, {"status": ['"INVALID" is not a valid choice.']}),
    ("/v3/users/u1/", "patch", {"date_of_birth": "01/02/1990"},
     {"date_of_birth": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
    ("/v3/users/u1/update-status/", "patch", {}, {"status": ["This field is required."]}),
    ("/v3/users/u1/update-status/", "patch", {"status": "nope"},
     {"status": ["Invalid status. Valid options are: ACTIVE, FLAGGED, BLOCKED"]}),
    ("/v3/users/delete/", "post", {}, ["Provide vendor_data_list or set delete_all=true."]),
])
def test_bad_bodies_are_refused(client: httpx.Client, path: str, method: str, body: dict, errors: object) -> None:
    client.post("/v3/users/create/", json={"vendor_data": "u1"})
    response = client.request(method.upper(), path, json=body)
    assert response.status_code == 400
    assert response.json() == errors
    assert user(client, "u1")["status"] == "ACTIVE"


def test_unknown_users_are_404(client: httpx.Client) -> None:
    for response in (client.get("/v3/users/nobody/"), client.patch("/v3/users/nobody/", json={}),
                     client.patch("/v3/users/nobody/update-status/", json={"status": "ACTIVE"})):
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_a_blocked_user_gets_no_new_session_until_unblocked(client: httpx.Client) -> None:
    create_session(client, vendor_data="mallory")
    blocked = client.patch("/v3/users/mallory/update-status/", json={"status": "BLOCKED"}).json()
    assert blocked["status"] == "BLOCKED"
    comment = blocked["comments"][-1]
    assert (comment["comment_type"], comment["previous_status"], comment["new_status"]) == (
        "STATUS_CHANGED", "ACTIVE", "BLOCKED")
    assert comment["actor_email"] is None
    refused = client.post("/v3/session/", json={"workflow_id": COMPLETE_KYC, "vendor_data": "mallory"})
    assert refused.status_code == 400 and refused.json() == BLOCKED
    assert user(client, "mallory")["session_count"] == 1

    client.patch("/v3/users/mallory/update-status/", json={"status": "ACTIVE"})
    assert client.post("/v3/session/", json={"workflow_id": COMPLETE_KYC, "vendor_data": "mallory"}).status_code == 201


def test_a_user_patch_to_blocked_does_not_block_but_a_business_patch_does(client: httpx.Client) -> None:
    client.post("/v3/users/create/", json={"vendor_data": "soft"})
    patched = client.patch("/v3/users/soft/", json={"status": "BLOCKED"}).json()
    assert patched["status"] == "BLOCKED" and patched["comments"] == []
    assert client.post("/v3/session/", json={"workflow_id": COMPLETE_KYC, "vendor_data": "soft"}).status_code == 201

    client.post("/v3/businesses/create/", json={"vendor_data": "acme", "legal_name": "Acme Ltd"})
    assert client.patch("/v3/businesses/acme/", json={"status": "BLOCKED"}).json()["status"] == "BLOCKED"
    refused = client.post("/v3/session/", json={"workflow_id": COMPLETE_KYC, "vendor_data": "acme"})
    assert refused.status_code == 400 and refused.json() == BLOCKED


def test_created_as_blocked_is_blocked(client: httpx.Client) -> None:
    client.post("/v3/users/create/", json={"vendor_data": "born-blocked", "status": "BLOCKED"})
    refused = client.post("/v3/session/", json={"workflow_id": COMPLETE_KYC, "vendor_data": "born-blocked"})
    assert refused.json() == BLOCKED


def test_batch_delete(client: httpx.Client) -> None:
    for name in ("d1", "d2", "d3"):
        client.post("/v3/users/create/", json={"vendor_data": name})
    d3 = user(client, "d3")
    response = client.post("/v3/users/delete/", json={"vendor_data_list": ["d1", "missing"],
                                                       "didit_internal_id_list": [d3["didit_internal_id"]]})
    assert response.json() == {"deleted": 2}
    assert client.get("/v3/users/d1/").status_code == 404
    assert [r["vendor_data"] for r in client.get("/v3/users/").json()["results"]] == ["d2"]
    assert client.post("/v3/users/delete/", json={"delete_all": True}).json() == {"deleted": 1}
    assert client.post("/v3/users/create/", json={"vendor_data": "d1"}).status_code == 201  # the name is free


def test_businesses(client: httpx.Client) -> None:
    made = client.post("/v3/businesses/create/", json={"vendor_data": "biz", "legal_name": "Biz SL",
                                                       "country_code": "ES"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["effective_name"], body["session_count"], body["features"]) == ("Biz SL", 0, {})
    assert "comments" not in body
    assert client.post("/v3/businesses/create/", json={"vendor_data": "biz"}).json() == {
        "vendor_data": ["A business with this vendor_data already exists."]}
    anonymous = client.post("/v3/businesses/create/", json={})
    assert anonymous.status_code == 201 and anonymous.json()["vendor_data"] is None
    patched = client.patch("/v3/businesses/biz/", json={"display_name": "Biz", "metadata": {"k": "v"}}).json()
    assert (patched["effective_name"], patched["metadata"]) == ("Biz", {"k": "v"})
    status = client.patch("/v3/businesses/biz/update-status/", json={"status": "FLAGGED"}).json()
    assert status["status"] == "FLAGGED"
    assert client.patch("/v3/businesses/biz/", json={"status": "X"}).json() == {
        "status": ["Invalid status. Valid options are: ACTIVE, FLAGGED, BLOCKED"]}
    assert client.get("/v3/businesses/").json()["count"] == 2
    assert client.post("/v3/businesses/delete/", json={}).json() == [
        "Provide vendor_data_list, didit_internal_id_list, or set delete_all=true."]
    assert client.post("/v3/businesses/delete/", json={"delete_all": True, "vendor_data_list": ["biz"]}).status_code == 400
    assert client.post("/v3/businesses/delete/", json={"vendor_data_list": ["biz"]}).json() == {"deleted": 1}
    assert client.get("/v3/businesses/biz/").status_code == 404


def test_a_kyb_workflow_session_makes_a_business(client: httpx.Client) -> None:
    made = client.post("/v3/workflows/", json={"features": [{"feature": "KYB_REGISTRY"}]}).json()
    assert client.post("/v3/session/", json={"workflow_id": made["workflow_id"],
                                             "vendor_data": "kyb-co"}).status_code == 201
    assert client.get("/v3/businesses/kyb-co/").json()["session_count"] == 1
    assert client.get("/v3/users/kyb-co/").status_code == 404


def test_entities_are_kept_in_the_order_they_were_made(client: httpx.Client) -> None:
    """A business a session made comes before one created afterwards, with or without a vendor_data."""
    made = client.post("/v3/workflows/", json={"features": [{"feature": "KYB_REGISTRY"}]}).json()
    client.post("/v3/session/", json={"workflow_id": made["workflow_id"], "vendor_data": "kyb-first"})
    assert client.post("/v3/businesses/create/", json={"legal_name": "No Vendor Ltd"}).status_code == 201
    exported = client.get("/_mock/state").json()["tenants"][0]["extensions"]["entities"]
    assert [(e["kind"], e["vendor_data"]) for e in exported] == [("business", "kyb-first"), ("business", None)]


def test_users_answer_401_without_a_key_and_businesses_403(anon: httpx.Client) -> None:
    assert anon.get("/v3/users/").json() == {
        "detail": "You must be authenticated with a valid access token to access this endpoint."}
    assert anon.get("/v3/users/").status_code == 401
    assert anon.get("/v3/businesses/").status_code == 403


def test_users_are_per_application(client: httpx.Client, server: MockServer) -> None:
    create_session(client, vendor_data="mine")
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}) as other:
        assert other.get("/v3/users/mine/").status_code == 404


def test_users_survive_a_state_file_restart(tmp_path: Path) -> None:
    state_file, key = tmp_path / "state.json", new_key()
    with MockServer(state_file=str(state_file), freeze_clock=True) as first, \
            httpx.Client(base_url=first.url, headers={"x-api-key": key}, timeout=10) as http:
        create_session(http, vendor_data="kept")
        http.patch("/v3/users/kept/update-status/", json={"status": "BLOCKED"})
        http.post("/v3/businesses/create/", json={"vendor_data": "co", "legal_name": "Co"})
        kept, co = user(http, "kept"), http.get("/v3/businesses/co/").json()
    with MockServer(state_file=str(state_file), freeze_clock=True) as second, \
            httpx.Client(base_url=second.url, headers={"x-api-key": key}, timeout=10) as http:
        assert user(http, "kept") == kept
        assert http.get("/v3/businesses/co/").json() == co
        assert http.post("/v3/session/", json={"workflow_id": COMPLETE_KYC, "vendor_data": "kept"}).json() == BLOCKED


def test_the_user_pdf_lists_the_reportable_sessions(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="pdf-user")
    early = client.get("/v3/users/pdf-user/generate-pdf/")
    assert early.status_code == 403
    assert early.json() == {"detail": "This user has no sessions in review, declined, approved or kyc expired to report."}
    complete(client, session["session_id"])
    internal_id = user(client, "pdf-user")["didit_internal_id"]
    for path in ("/v3/users/pdf-user/generate-pdf/", "/v3/users/pdf-user/generate-pdf"):
        report = client.get(path)
        assert report.status_code == 200, report.text
        assert report.headers["content-type"] == "application/pdf" and report.content.startswith(b"%PDF")
        assert report.headers["content-disposition"] == f"attachment; filename=user_{internal_id}.pdf"
    assert client.get("/v3/users/nobody/generate-pdf/").json() == {"detail": "User not found."}


def test_the_user_pdf_shares_the_session_pdf_limit(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="pdf-limit")
    complete(client, session["session_id"])
    client.post("/_mock/ratelimits", json={"consume": {"generate-pdf": 50}})
    limited = client.get("/v3/users/pdf-limit/generate-pdf/")
    assert limited.status_code == 429
    assert limited.json() == {
        "detail": "Session PDF generation rate limit exceeded. You can make up to 50 requests per minute."}


def _attempt(client: httpx.Client, webhook_type: str, count: int = 1) -> dict:
    response = client.get("/_mock/webhooks/wait", params={"timeout": 10, "webhook_type": webhook_type,
                                                           "count": count})
    assert response.status_code == 200, response.text
    return json.loads(response.json()["request_body"])


def test_status_and_data_changes_send_user_and_business_webhooks(client: httpx.Client) -> None:
    with receiver() as hooks:
        events = ["user.status.updated", "user.data.updated", "business.status.updated"]
        made = client.post("/v3/webhook/destinations/", json={"label": "entities", "url": hooks.url("/entities"),
                                                               "subscribed_events": events})
        assert made.status_code == 201, made.text
        client.post("/v3/users/create/", json={"vendor_data": "hooked"})
        internal_id = user(client, "hooked")["didit_internal_id"]
        client.patch("/v3/users/hooked/update-status/", json={"status": "FLAGGED"})
        status = _attempt(client, "user.status.updated")
        assert (status["vendor_data"], status["didit_internal_id"], status["status"], status["previous_status"]) == (
            "hooked", internal_id, "FLAGGED", "ACTIVE")
        assert "session_id" not in status

        client.patch("/v3/users/hooked/", json={"display_name": "Hooky", "status": "ACTIVE"})
        data = _attempt(client, "user.data.updated")
        assert data["changed_fields"] == ["display_name"]
        assert data["changes"] == {"display_name": {"previous": None, "current": "Hooky"}}
        assert _attempt(client, "user.status.updated", count=2)["previous_status"] == "FLAGGED"

        client.post("/v3/businesses/create/", json={"vendor_data": "hooked-co"})
        client.patch("/v3/businesses/hooked-co/", json={"status": "BLOCKED"})
        assert _attempt(client, "business.status.updated")["status"] == "BLOCKED"
        assert len(hooks.at("/entities")) == 4


def test_an_imported_shared_session_makes_the_receivers_user(client: httpx.Client, server: MockServer) -> None:
    session = create_session(client, vendor_data="traveller")
    complete(client, session["session_id"])
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}, timeout=10) as partner:
        target = partner.get("/_mock/tenant").json()["application_id"]
        token = client.post(f"/v3/session/{session['session_id']}/share/",
                            json={"for_application_id": target}).json()["share_token"]
        imported = partner.post("/v3/session/import-shared/", json={
            "share_token": token, "trust_review": True, "workflow_id": COMPLETE_KYC, "vendor_data": "traveller"})
        assert imported.status_code in (200, 201), imported.text
        received = partner.get("/v3/users/traveller/")
        assert received.status_code == 200, received.text
        assert (received.json()["session_count"], received.json()["approved_count"]) == (1, 1)
