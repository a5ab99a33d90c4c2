"""The scenario engine over HTTP: session rules, timelines, OTP rules, faults, webhooks, credits,
per-key isolation of `PUT /_mock/scenarios`, hot reload of files and determinism.

Timelines run on the tenant clock (moved with `POST /_mock/clock/advance`); waits for webhooks and
for file reloads are bounded polls of the admin API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from didit_mock.domain.sessions import NO_CREDITS
from didit_mock.server import MockServer
from tests.conftest import new_key
from tests.contract.conformance import assert_conforms
from tests.scenario_helpers import (
    ADDRESS,
    KYC,
    advance,
    decision,
    new_session,
    put_scenario,
    receiver,
    scenarios_view,
    wait_until,
    wait_webhook,
)


def client_for(server: MockServer, api_key: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"x-api-key": api_key}, timeout=10)


def rule_of(client: httpx.Client, session_id: str) -> str | None:
    return scenarios_view(client)["tenant"]["sessions"].get(session_id)


# ---------------------------------------------------------------- session rules: matching

MATCHING = """
sessions:
  - name: literal star
    match: {vendor_data: {exact: "user-*"}}
    outcome: {status: In Review}
  - name: regex
    match: {vendor_data: {regex: "^fraud-[0-9]+$"}}
    outcome: {status: Declined}
  - name: glob
    match: {vendor_data: "vip-*"}
    outcome: {status: Approved}
  - name: workflow
    match: {workflow: Address Verification}
    outcome: {status: Declined}
  - name: expected
    match: {expected_details: {first_name: "Ann*"}}
    outcome: {status: In Review}
  - name: metadata
    match: {metadata: {tier: gold, account.age: 3}}
    outcome: {status: Approved}
  - name: waiting
    match: {vendor_data: "manual-*"}
    wait: true
  - name: too late
    match: {vendor_data: "vip-*"}
    outcome: {status: Declined}
"""


def test_rules_match_in_order_on_vendor_data_workflow_expected_details_and_metadata(client: httpx.Client) -> None:
    put_scenario(client, MATCHING)
    cases = [
        ({"vendor_data": "user-*"}, "literal star", "In Review"),
        ({"vendor_data": "user-1"}, None, "Not Started"),
        ({"vendor_data": "fraud-42"}, "regex", "Declined"),
        ({"vendor_data": "fraud-x"}, None, "Not Started"),
        ({"vendor_data": "vip-7"}, "glob", "Approved"),  # first match wins over "too late"
        ({"workflow_id": ADDRESS, "vendor_data": "someone"}, "workflow", "Declined"),
        ({"expected_details": {"first_name": "Anna"}}, "expected", "In Review"),
        ({"expected_details": {"first_name": "Bob"}}, None, "Not Started"),
        ({"metadata": {"tier": "gold", "account": {"age": 3}}}, "metadata", "Approved"),
        ({"metadata": {"tier": "gold", "account": {"age": 4}}}, None, "Not Started"),
        ({"vendor_data": "manual-1"}, "waiting", "Not Started"),
    ]
    created = [(new_session(client, **fields), rule, status) for fields, rule, status in cases]
    advance(client, 3600)
    for session, rule, status in created:
        assert decision(client, session["session_id"])["status"] == status, (rule, session["vendor_data"])
        taken = rule_of(client, session["session_id"])
        assert taken == (f"request / {rule}" if rule else None)


def test_a_waiting_session_is_left_to_the_admin_api(client: httpx.Client) -> None:
    put_scenario(client, "sessions: [{match: {vendor_data: 'manual-*'}, wait: true}]")
    session = new_session(client, vendor_data="manual-1")
    advance(client, 24 * 3600)
    assert decision(client, session["session_id"])["status"] == "Not Started"
    done = client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Declined"})
    assert done.status_code == 200 and done.json()["status"] == "Declined"


# ---------------------------------------------------------------- outcomes

OUTCOME = """
sessions:
  - match: {vendor_data: "bad-doc-*"}
    outcome:
      status: Declined
      features:
        ID_VERIFICATION: {status: Declined, risks: [DOCUMENT_EXPIRED], expired_document: true, age: 17}
        LIVENESS: {status: Approved, score: 91.5}
        FACE_MATCH: {status: Approved, risks: [LOW_FACE_MATCH_SIMILARITY]}
        AML: {status: Declined, risks: [POSSIBLE_MATCH_FOUND], hits: 2, score: 97}
  - match: {vendor_data: "preset-*"}
    outcome: {preset: decline_liveness_attack}
  - match: {vendor_data: "review-*"}
    outcome: {status: In Review}
"""


def test_outcome_sets_status_features_warnings_scores_hits_and_document_data(client: httpx.Client) -> None:
    put_scenario(client, OUTCOME)
    session = new_session(client, vendor_data="bad-doc-1")
    assert session["status"] == "Not Started"  # the outcome applies on the next tick, not in the create
    advance(client, 1)
    body = decision(client, session["session_id"])
    assert_conforms("get", "/v3/session/{sessionId}/decision/", 200, body)
    assert body["status"] == "Declined"
    document = body["id_verifications"][0]
    assert document["status"] == "Declined" and document["age"] == 17
    assert date.fromisoformat(document["expiration_date"]) < datetime.fromisoformat(
        body["created_at"].replace("Z", "+00:00")).date()
    assert [(w["risk"], w["log_type"]) for w in document["warnings"]] == [("DOCUMENT_EXPIRED", "error")]
    liveness = body["liveness_checks"][0]
    assert liveness["status"] == "Approved" and liveness["score"] == 91.5 and liveness["warnings"] == []
    face = body["face_matches"][0]
    assert face["status"] == "Approved"
    assert [(w["risk"], w["log_type"]) for w in face["warnings"]] == [("LOW_FACE_MATCH_SIMILARITY", "information")]
    aml = body["aml_screenings"][0]
    assert aml["status"] == "Declined" and aml["total_hits"] == 2 and aml["score"] == 97


def test_outcome_preset_and_plain_status(client: httpx.Client) -> None:
    put_scenario(client, OUTCOME)
    preset = new_session(client, vendor_data="preset-1")
    review = new_session(client, vendor_data="review-1")
    advance(client, 1)
    body = decision(client, preset["session_id"])
    assert body["status"] == "Declined"
    assert [w["risk"] for w in body["liveness_checks"][0]["warnings"]] == ["LIVENESS_FACE_ATTACK"]
    assert decision(client, review["session_id"])["status"] == "In Review"


# ---------------------------------------------------------------- timelines and their webhooks

TIMELINE = """
tenant:
  webhook: {url: "URL", secret: scenario-secret}
sessions:
  - name: declined after review
    match: {vendor_data: "fraud-*"}
    outcome:
      features:
        LIVENESS: {status: Declined, risks: [LIVENESS_FACE_ATTACK]}
    timeline:
      - {after: 0, status: In Progress}
      - {after: 20s, status: In Review}
      - {after: 1m, status: Declined, comment: attack confirmed}
  - name: resubmitted and fixed
    match: {vendor_data: "again-*"}
    outcome:
      features: {FACE_MATCH: {status: Declined}}
    timeline:
      - {after: 0, status: Declined}
      - {after: 10, status: Resubmitted}
      - {after: 20, status: In Progress}
      - {after: 30, status: Approved}
  - name: never opened
    match: {vendor_data: "ghost-*"}
    timeline: [{after: 1h, status: Expired}]
"""


def test_timeline_steps_fire_on_the_tenant_clock_with_their_webhooks(client: httpx.Client) -> None:
    with receiver() as hooks:
        put_scenario(client, TIMELINE.replace("URL", hooks.url("/hook")))
        session = new_session(client, vendor_data="fraud-1")
        sid = session["session_id"]
        advance(client, 1)
        assert decision(client, sid)["status"] == "In Progress"
        advance(client, 18)
        assert decision(client, sid)["status"] == "In Progress"
        advance(client, 1)
        reviewed = decision(client, sid)
        assert reviewed["status"] == "In Review"
        liveness = reviewed["liveness_checks"][0]
        assert liveness["status"] == "In Review"  # the attack waits for a reviewer
        assert [(w["risk"], w["log_type"]) for w in liveness["warnings"]] == [("LIVENESS_FACE_ATTACK", "warning")]
        advance(client, 40)
        final = decision(client, sid)
        assert final["status"] == "Declined"
        assert final["liveness_checks"][0]["status"] == "Declined"  # the reviewer confirmed the finding
        assert final["reviews"][-1]["comment"] == "attack confirmed"
        for status in ("In Progress", "In Review", "Declined"):
            attempt = wait_webhook(client, session_id=sid, status=status)
            assert attempt["response_status"] == 200
        last = wait_webhook(client, session_id=sid, status="Declined")
        secret = b"scenario-secret"
        assert hmac.new(secret, last["request_body"].encode(), hashlib.sha256).hexdigest() == \
            json.loads(last["request_header"])["X-Signature"]
        received = [r.json["status"] for r in hooks.at("/hook") if r.json["session_id"] == sid]
        assert received == ["In Progress", "In Review", "Declined"]


def test_timeline_with_resubmission_and_expiry(client: httpx.Client) -> None:
    put_scenario(client, TIMELINE.replace("URL", "http://127.0.0.1:9/unused"))
    again = new_session(client, vendor_data="again-1")
    ghost = new_session(client, vendor_data="ghost-1")
    advance(client, 1)
    assert decision(client, again["session_id"])["status"] == "Declined"
    advance(client, 10)
    assert decision(client, again["session_id"])["status"] == "Resubmitted"
    advance(client, 10)
    assert decision(client, again["session_id"])["status"] == "In Progress"
    advance(client, 10)
    assert decision(client, again["session_id"])["status"] == "Approved"
    assert decision(client, ghost["session_id"])["status"] == "Not Started"
    advance(client, 3600)
    assert decision(client, ghost["session_id"])["status"] == "Expired"


def test_later_steps_skip_a_session_someone_else_moved_or_deleted(client: httpx.Client) -> None:
    put_scenario(client, TIMELINE.replace("URL", "http://127.0.0.1:9/unused"))
    moved = new_session(client, vendor_data="fraud-moved")
    gone = new_session(client, vendor_data="fraud-gone")
    done = client.post(f"/_mock/sessions/{moved['session_id']}/complete", json={"status": "Approved"})
    assert done.status_code == 200
    assert client.delete(f"/v3/session/{gone['session_id']}/delete/").status_code in (200, 204)
    advance(client, 3600)
    assert decision(client, moved["session_id"])["status"] == "Approved"
    assert client.get(f"/v3/session/{gone['session_id']}/decision/").status_code == 404


# ---------------------------------------------------------------- phone and email rules

OTP = """
phone:
  - {match: "+1202555*", code: "123456"}
  - {match: "+12025550199", send_status: Blocked, reason: spam}
  - {match: "+12025550188", send_status: Retry}
  - {match: "+12025550177", carrier: Acme Mobile, line_type: fixed_line}
  - {match: "+12025550166", voip: true}
  - {match: "+12025550155", disposable: true}
  - {match: "+12025550144", high_risk: true}
  - {match: "+12025550133", blocklisted: true}
email:
  - {match: "*@scenario.example", code: "A1B2"}
  - {match: "bounce*@scenario.example", send_status: Undeliverable}
  - {match: "burner-*@*", disposable: true}
  - {match: "leaky@*", breached: true}
  - {match: "*@blocked.example", blocklisted: true}
"""


def send_phone(client: httpx.Client, number: str) -> dict[str, Any]:
    response = client.post("/v3/phone/send/", json={"phone_number": number})
    assert response.status_code == 200, response.text
    return response.json()


def check_phone(client: httpx.Client, number: str, code: str = "123456") -> dict[str, Any]:
    response = client.post("/v3/phone/check/", json={"phone_number": number, "code": code})
    assert response.status_code == 200, response.text
    return response.json()


def test_phone_rules_codes_send_status_carrier_line_type_and_flags(client: httpx.Client) -> None:
    put_scenario(client, OTP)
    assert send_phone(client, "+12025550143")["status"] == "Success"
    assert client.get("/_mock/phone/+12025550143/code").json()["code"] == "123456"
    assert check_phone(client, "+12025550143")["status"] == "Approved"

    blocked = send_phone(client, "+12025550199")
    assert (blocked["status"], blocked["reason"]) == ("Blocked", "spam")
    assert send_phone(client, "+12025550188")["status"] == "Retry"

    send_phone(client, "+12025550177")
    landline = check_phone(client, "+12025550177")["phone"]
    assert landline["carrier"] == {"name": "Acme Mobile", "type": "fixed_line"}
    assert landline["verification_method"] == "sms"  # WhatsApp needs a mobile line

    send_phone(client, "+12025550166")
    voip = check_phone(client, "+12025550166")["phone"]
    assert voip["is_virtual"] is True and "VOIP_NUMBER_DETECTED" in [w["risk"] for w in voip["warnings"]]

    send_phone(client, "+12025550155")
    disposable = check_phone(client, "+12025550155")["phone"]
    assert disposable["is_disposable"] is True
    assert "DISPOSABLE_NUMBER_DETECTED" in [w["risk"] for w in disposable["warnings"]]

    assert send_phone(client, "+12025550144")["status"] == "Blocked"  # high risk: refused at send

    listed = send_phone(client, "+12025550133")  # blocklisted: refused at send
    assert listed["status"] == "Blocked"
    readout = client.get("/_mock/phone/+12025550133/code").json()
    verification = client.get(f"/v3/session/{readout['request_id']}/decision/").json()
    assert verification["status"] == "Declined"
    assert "PHONE_NUMBER_IN_BLOCKLIST" in json.dumps(verification)


def test_email_rules_codes_undeliverable_disposable_breached_blocklisted(client: httpx.Client) -> None:
    put_scenario(client, OTP)

    def send(address: str) -> dict[str, Any]:
        response = client.post("/v3/email/send/", json={"email": address})
        assert response.status_code == 200, response.text
        return response.json()

    def check(address: str, code: str) -> dict[str, Any]:
        response = client.post("/v3/email/check/", json={"email": address, "code": code})
        assert response.status_code == 200, response.text
        return response.json()

    assert send("ann@scenario.example")["status"] == "Success"
    assert client.get("/_mock/email/ann@scenario.example/code").json()["code"] == "A1B2"
    assert check("ann@scenario.example", "a1b2")["status"] == "Approved"  # checked case-insensitively
    assert send("bounce-1@scenario.example")["status"] == "Undeliverable"

    send("burner-9@gmail.com")
    code = client.get("/_mock/email/burner-9@gmail.com/code").json()["code"]
    assert check("burner-9@gmail.com", code)["email"]["is_disposable"] is True

    send("leaky@gmail.com")
    code = client.get("/_mock/email/leaky@gmail.com/code").json()["code"]
    assert check("leaky@gmail.com", code)["email"]["is_breached"] is True

    send("eve@blocked.example")
    code = client.get("/_mock/email/eve@blocked.example/code").json()["code"]
    assert check("eve@blocked.example", code)["status"] == "Declined"


# ---------------------------------------------------------------- faults

def statuses(client: httpx.Client, n: int, path: str = "/v3/sessions/") -> list[int]:
    return [client.get(path).status_code for _ in range(n)]


def test_fault_first_n_calls(client: httpx.Client) -> None:
    put_scenario(client, "faults: [{path: /v3/sessions/, method: GET, first: 2, status: 503}]")
    first = client.get("/v3/sessions/")
    assert first.status_code == 503
    assert first.json() == {"detail": "Service temporarily unavailable, try again later."}
    assert statuses(client, 3) == [503, 200, 200]
    assert client.post("/v3/session/", json={"workflow_id": KYC}).status_code == 201  # other method: untouched


def test_fault_every_nth_call(client: httpx.Client) -> None:
    put_scenario(client, "faults: [{path: /v3/sessions/, every: 3, status: 500}]")
    assert statuses(client, 7) == [200, 200, 500, 200, 200, 500, 200]
    assert client.get("/_mock/requests", params={"status": "500"}).json()["count"] == 2  # journaled


def test_fault_listed_call_429_has_retry_after_and_rate_limit_headers(client: httpx.Client) -> None:
    put_scenario(client, "faults: [{method: POST, path: /v3/session/, calls: [3], status: 429, retry_after: 30}]")
    new_session(client)
    new_session(client)
    refused = client.post("/v3/session/", json={"workflow_id": KYC})
    assert refused.status_code == 429
    assert refused.json() == {
        "detail": "Session creation rate limit exceeded. You can make up to 600 requests per minute."}
    assert_conforms("post", "/v3/session/", 429, refused.json())
    now = client.get("/_mock/clock").json()["timestamp"]
    assert refused.headers["Retry-After"] == "30"
    assert refused.headers["X-RateLimit-Limit"] == "600" and refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["X-RateLimit-Reset"]) == int(now + 30) + (0 if (now + 30).is_integer() else 1)
    new_session(client)  # the fourth goes through


def test_fault_probability_is_deterministic_for_a_seed(server: MockServer) -> None:
    doc = ("tenant: {seed: 77}\n"
           "faults: [{name: coin, path: /v3/sessions/, probability: 0.5, status: 502, body: {detail: flaky}}]\n")
    runs = []
    for _ in range(2):
        with client_for(server, new_key()) as http:
            put_scenario(http, doc)
            codes = statuses(http, 40)
            fired = scenarios_view(http)["tenant"]["faults"][0]["fired_on_calls"]
            runs.append((codes, fired))
    (codes, fired), again = runs
    assert runs[1] == again and runs[0] == runs[1]
    assert fired == [i + 1 for i, code in enumerate(codes) if code == 502]
    assert 5 < len(fired) < 35


def test_fault_latency_is_real_time_and_the_call_then_succeeds(client: httpx.Client) -> None:
    put_scenario(client, "faults: [{path: /v3/sessions/, first: 1, latency: 300ms}]")
    started = time.monotonic()
    slow = client.get("/v3/sessions/")
    elapsed = time.monotonic() - started
    assert slow.status_code == 200 and elapsed >= 0.3
    started = time.monotonic()
    assert client.get("/v3/sessions/").status_code == 200
    assert time.monotonic() - started < 0.3


def test_fault_drop_closes_the_connection_without_a_response(client: httpx.Client) -> None:
    put_scenario(client, "faults: [{path: '/v3/session/*/decision/', first: 1, drop: true}]")
    session = new_session(client)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        client.get(f"/v3/session/{session['session_id']}/decision/")
    assert decision(client, session["session_id"])["session_id"] == session["session_id"]


def test_fault_custom_status_body_headers_and_times_never_touch_admin_routes(client: httpx.Client) -> None:
    put_scenario(client, """
faults:
  - {path: "*", times: 2, status: 502, body: {detail: upstream down, code: upstream}, headers: {X-Fault: "yes"}}
""")
    bad = client.get("/v3/sessions/")
    assert (bad.status_code, bad.json(), bad.headers["x-fault"]) == (502, {"detail": "upstream down",
                                                                           "code": "upstream"}, "yes")
    assert client.get("/_mock/tenant").status_code == 200  # the control surface is never faulted
    assert statuses(client, 3) == [502, 200, 200]
    fault = scenarios_view(client)["tenant"]["faults"][0]
    assert (fault["calls"], fault["fired"], fault["fired_on_calls"]) == (4, 2, [1, 2])


# ---------------------------------------------------------------- webhook faults

WEBHOOK_FAULTS = """
tenant:
  webhook: {url: "URL", secret: real-secret}
webhooks: {wrong_secret: true, stale_timestamp: 10m, duplicate: true}
sessions:
  - {match: {vendor_data: "hook-*"}, outcome: {status: Approved}}
"""


def test_webhook_faults_wrong_secret_stale_timestamp_duplicate(client: httpx.Client) -> None:
    with receiver() as hooks:
        put_scenario(client, WEBHOOK_FAULTS.replace("URL", hooks.url("/faulty")))
        assert client.get("/_mock/webhook/faults").json()["faults"] == {
            "wrong_secret": True, "stale_timestamp": 600.0, "duplicate": True}
        session = new_session(client, vendor_data="hook-1")
        advance(client, 1)
        wait_webhook(client, session_id=session["session_id"], status="Approved", trigger="duplicate")
        now = client.get("/_mock/clock").json()["timestamp"]
        approved = [r for r in hooks.at("/faulty") if r.json["status"] == "Approved"]
        assert len(approved) == 2 and approved[0].body == approved[1].body  # duplicated delivery
        first = approved[0]
        assert int(first.headers["X-Timestamp"]) == int(now) - 600  # stale
        good = hmac.new(b"real-secret", first.body, hashlib.sha256).hexdigest()
        assert first.headers["X-Signature"] != good  # signed with a wrong secret
        assert client.delete("/_mock/scenarios").json() == {"deleted": True}
        assert client.get("/_mock/webhook/faults").json()["faults"] == {}  # undone with the scenario


def test_webhook_faults_delay_and_out_of_order(client: httpx.Client) -> None:
    with receiver() as hooks:
        put_scenario(client, """
tenant: {webhook: {url: "URL", secret: s3cret}}
webhooks: {delay: 30s, out_of_order: true}
sessions: [{match: {vendor_data: "late-*"}, outcome: {status: Declined}}]
""".replace("URL", hooks.url("/late")))
        session = new_session(client, vendor_data="late-1")
        advance(client, 1)
        assert decision(client, session["session_id"])["status"] == "Declined"
        assert client.get("/_mock/webhooks", params={"session_id": session["session_id"]}).json()["count"] == 0
        advance(client, 30)
        wait_webhook(client, session_id=session["session_id"], status="In Progress")
        order = [r.json["status"] for r in hooks.at("/late")]
        assert order == ["Declined", "In Progress"]  # the newest event went first


# ---------------------------------------------------------------- credits

def test_credits_run_out_with_the_documented_errors(server: MockServer) -> None:
    with client_for(server, new_key("sk_live_")) as live:
        put_scenario(live, "tenant: {credits: 2}")
        new_session(live)
        new_session(live)
        refused = live.post("/v3/session/", json={"workflow_id": KYC})
        assert refused.status_code == 400
        assert refused.json() == {"detail": NO_CREDITS} == {
            "detail": "You don't have enough credits to perform this request. Please top up at https://business.didit.me"}
        assert_conforms("post", "/v3/session/", 400, refused.json())
        otp = live.post("/v3/phone/send/", json={"phone_number": "+12025550143"})
        assert otp.status_code == 403
        assert otp.json() == {"error": "You don't have enough credits to perform this request."}
        assert live.get("/_mock/tenant").json()["settings"]["credits"] == 0
        put_scenario(live, "tenant: {credits: 1}")  # loading it again tops up
        new_session(live)
    with client_for(server, new_key("sk_test_")) as sandbox:
        put_scenario(sandbox, "tenant: {credits: 0}")
        new_session(sandbox)  # sandbox applications are never billed


# ---------------------------------------------------------------- workflows

def test_workflows_and_strict_workflows(client: httpx.Client) -> None:
    custom = "0b0e0000-0000-4000-8000-0000000000c1"
    put_scenario(client, f"""
strict_workflows: true
workflows:
  - {{id: {custom}, template: Address Verification, label: My POA, expiration: 2h}}
  - {{id: 0b0e0000-0000-4000-8000-0000000000c2, features: [LIVENESS, AML]}}
""")
    session = client.post("/v3/session/", json={"workflow_id": custom})
    assert session.status_code == 201
    body = decision(client, session.json()["session_id"])
    assert body["features"] == ["POA", "IP_ANALYSIS"]
    created = datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))
    assert (datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")) - created).total_seconds() == 7200
    other = client.post("/v3/session/", json={"workflow_id": "0b0e0000-0000-4000-8000-0000000000c2"}).json()
    assert decision(client, other["session_id"])["features"] == ["LIVENESS", "AML"]
    unknown = client.post("/v3/session/", json={"workflow_id": "0b0e0000-0000-4000-8000-0000000000ff"})
    assert (unknown.status_code, unknown.json()) == (400, {"workflow_id": "Invalid workflow_id."})
    client.delete("/_mock/scenarios")
    assert client.post("/v3/session/", json={"workflow_id": "0b0e0000-0000-4000-8000-0000000000ff"}).status_code == 201
    assert client.post("/v3/session/", json={"workflow_id": custom}).status_code == 201  # now an unknown id: KYC


# ---------------------------------------------------------------- PUT / GET / DELETE and isolation

ISOLATED = """
name: mine
phone: [{match: "+1202555", code: "999999"}]
faults: [{path: /v3/sessions/, status: 500}]
sessions: [{match: {vendor_data: "x-*"}, outcome: {status: Declined}}]
"""


def test_put_get_delete_are_isolated_per_api_key(server: MockServer) -> None:
    with client_for(server, new_key()) as a, client_for(server, new_key()) as b:
        loaded = put_scenario(a, ISOLATED)
        assert loaded["loaded"]["name"] == "mine" and loaded["loaded"]["scope"] == "tenant"
        assert a.get("/v3/sessions/").status_code == 500
        assert b.get("/v3/sessions/").status_code == 200
        view_a, view_b = scenarios_view(a), scenarios_view(b)
        assert view_a["tenant"]["own"]["name"] == "mine" and view_a["tenant"]["active"] == ["mine"]
        assert view_b["tenant"]["own"] is None and view_b["tenant"]["active"] == []
        assert view_a["scenarios"] == view_b["scenarios"] == []  # the server has no files
        for http, code, status in ((a, "999999", "Declined"), (b, None, "Not Started")):
            send_phone(http, "+12025550143")
            sent = http.get("/_mock/phone/+12025550143/code").json()["code"]
            assert sent == code if code else sent != "999999"
            session = new_session(http, vendor_data="x-1")
            advance(http, 1)
            assert decision(http, session["session_id"])["status"] == status
        assert b.delete("/_mock/scenarios").json() == {"deleted": False}
        assert a.get("/v3/sessions/").status_code == 500  # b's delete did not touch a's
        assert a.delete("/_mock/scenarios").json() == {"deleted": True}
        assert a.get("/v3/sessions/").status_code == 200
        assert scenarios_view(a)["tenant"]["own"] is None


def test_put_replaces_the_tenants_own_and_reset_drops_it(client: httpx.Client) -> None:
    put_scenario(client, "name: one\nfaults: [{path: /v3/sessions/, status: 500}]")
    put_scenario(client, "name: two\nfaults: [{path: /v3/sessions/, status: 503}]")
    assert client.get("/v3/sessions/").status_code == 503
    assert scenarios_view(client)["tenant"]["active"] == ["two"]
    assert client.post("/_mock/reset").status_code == 200
    assert client.get("/v3/sessions/").status_code == 200


def test_put_accepts_json(client: httpx.Client) -> None:
    doc = {"name": "as json", "faults": [{"path": "/v3/sessions/", "first": 1, "status": 500}]}
    put_scenario(client, json.dumps(doc, indent=2), content_type="application/json")
    assert statuses(client, 2) == [500, 200]


def test_put_refuses_a_bad_document_with_line_numbers_and_changes_nothing(client: httpx.Client) -> None:
    put_scenario(client, "name: good\nfaults: [{path: /v3/sessions/, status: 500}]")
    bad = client.put("/_mock/scenarios", content=b"name: bad\nsessions:\n  - match: {vendor_data: x}\n"
                                                 b"    outcome: {status: Aproved}\n",
                     headers={"content-type": "text/yaml"})
    assert bad.status_code == 400
    assert bad.json()["detail"] == "Invalid scenario."
    assert bad.json()["errors"] == [
        "request:4: sessions[0].outcome.status: Input should be 'Approved', 'Declined', 'In Review' or "
        "'Abandoned', got 'Aproved'"]
    typo = client.put("/_mock/scenarios", content=b"name: bad\nfautls: []\n")
    assert typo.json()["errors"][0].startswith("request:2: unknown key 'fautls' (did you mean 'faults'?)")
    broken_json = client.put("/_mock/scenarios", content=b'{\n  "name": "x",\n  oops\n}',
                             headers={"content-type": "application/json"})
    assert broken_json.status_code == 400
    assert broken_json.json()["errors"][0].startswith("request:3: invalid JSON")
    keys = client.put("/_mock/scenarios", content=b"tenants:\n  - api_key: someone-else\n")
    assert keys.status_code == 400 and keys.json()["errors"][0].startswith("request:1: tenants: API keys can only")
    assert scenarios_view(client)["tenant"]["own"]["name"] == "good"  # the last good one stays
    assert client.get("/v3/sessions/").status_code == 500


def test_put_needs_an_api_key(anon: httpx.Client) -> None:
    assert anon.put("/_mock/scenarios", content=b"name: x").status_code == 403
    assert anon.get("/_mock/scenarios").status_code == 200  # the server's set is public to the admin API


# ---------------------------------------------------------------- scenario files: tenants and keys

def test_file_tenants_restrict_keys_and_set_their_settings(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text("""
tenants:
  - api_key: sk_live_team_key
    application_id: 5ca1ab1e-0000-4000-8000-0000000000aa
    credits: 1
    seed: 5
    clock_start: 2026-01-01T00:00:00Z
    clock_frozen: true
  - api_key: sk_test_other_team
sessions: [{match: {vendor_data: "t-*"}, outcome: {status: Approved}}]
""")
    with MockServer(scenarios=[str(path)]) as server:
        with client_for(server, "sk_live_team_key") as team, client_for(server, "sk_test_unknown") as stranger:
            assert stranger.get("/v3/sessions/").status_code == 401
            tenant = team.get("/_mock/tenant").json()
            assert tenant["environment"] == "live" and tenant["seed"] == 5
            assert tenant["application_id"] == "5ca1ab1e-0000-4000-8000-0000000000aa"
            assert tenant["clock"]["now"].startswith("2026-01-01T00:00:00") and tenant["clock"]["frozen"]
            session = new_session(team, vendor_data="t-1")
            assert team.post("/v3/session/", json={"workflow_id": KYC}).json() == {"detail": NO_CREDITS}
            advance(team, 1)
            assert decision(team, session["session_id"])["status"] == "Approved"
            view = scenarios_view(team)
            assert view["generation"] == 1 and view["scenarios"][0]["source"] == str(path)
            assert view["scenarios"][0]["tenants"] == ["sk_live_team_key", "sk_test_other_team"]
        with client_for(server, "sk_test_other_team") as other:
            assert other.get("/v3/sessions/").status_code == 200


# ---------------------------------------------------------------- hot reload

def wait_view(client: httpx.Client, done: Any, what: str) -> dict[str, Any]:
    """Poll GET /_mock/scenarios (bounded) until `done(view)` holds."""
    def probe() -> dict[str, Any] | None:
        view = scenarios_view(client)
        return view if done(view) else None

    return wait_until(probe, what)


def wait_generation(client: httpx.Client, generation: int) -> dict[str, Any]:
    return wait_view(client, lambda view: view["generation"] >= generation, f"generation {generation}")


def test_hot_reload_replaces_the_set_and_keeps_the_last_good_one(tmp_path: Path) -> None:
    path = tmp_path / "codes.yaml"
    path.write_text('name: codes\nphone: [{match: "+1202555", code: "111111"}]\n')
    with MockServer(freeze_clock=True, scenarios=[str(path)]) as server, client_for(server, new_key()) as http:
        assert scenarios_view(http)["generation"] == 1

        def code_sent() -> str:
            send_phone(http, "+12025550143")
            code = http.get("/_mock/phone/+12025550143/code").json()["code"]
            advance(http, 3600)  # past the verification and the hourly cap
            return str(code)

        assert code_sent() == "111111"
        path.write_text('name: codes\nphone: [{match: "+1202555", code: "222222"}]\n'
                        'faults: [{path: /v3/sessions/, status: 503}]\n')
        view = wait_generation(http, 2)
        assert view["errors"] == [] and view["scenarios"][0]["rules"]["faults"] == 1
        assert code_sent() == "222222"
        assert http.get("/v3/sessions/").status_code == 503

        path.write_text('name: codes\nphone: [{match: "+1202555", code: 333333}]\n')  # unquoted: refused
        view = wait_view(http, lambda view: view["errors"], "the reload error")
        assert view["errors"] == [f"{path}:2: phone[0].code: expected a string, got the number 333333: "
                                  "quote it (YAML reads unquoted digits as a number)"]
        assert view["generation"] == 2 and view["failed_reloads"] == 1
        assert code_sent() == "222222"  # the last good set stays
        assert http.get("/v3/sessions/").status_code == 503

        path.write_text('name: codes\nphone: [{match: "+1202555", code: "444444"}]\n')
        view = wait_generation(http, 3)
        assert view["errors"] == []
        assert code_sent() == "444444"
        assert http.get("/v3/sessions/").status_code == 200  # the fault went with the old version


def test_hot_reload_of_a_folder_sees_new_and_removed_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("faults: [{path: /v3/sessions/, status: 500}]\n")
    with MockServer(scenarios=[str(tmp_path)]) as server, client_for(server, new_key()) as http:
        assert [s["name"] for s in scenarios_view(http)["scenarios"]] == ["a"]
        (tmp_path / "b.yml").write_text("faults: [{path: /v3/session/, status: 502}]\n")
        assert [s["name"] for s in wait_generation(http, 2)["scenarios"]] == ["a", "b"]
        assert http.post("/v3/session/", json={"workflow_id": KYC}).status_code == 502
        (tmp_path / "a.yaml").unlink()
        assert [s["name"] for s in wait_generation(http, 3)["scenarios"]] == ["b"]
        assert http.get("/v3/sessions/").status_code == 200


def test_hot_reload_of_declared_tenants_changes_keys_and_only_the_settings_that_changed(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    team = 'tenants:\n  - {api_key: sk_live_one, credits: 5, clock_start: "2026-02-01T00:00:00Z", clock_frozen: true}\n'
    path.write_text(team + 'phone: [{match: "+1202555", code: "111111"}]\n')
    with MockServer(scenarios=[str(path)]) as server, client_for(server, "sk_live_one") as one, \
            client_for(server, "sk_test_two") as two:
        assert two.get("/v3/sessions/").status_code == 401
        session = new_session(one)
        advance(one, 100)
        path.write_text(team + 'phone: [{match: "+1202555", code: "222222"}]\n')  # the tenant block is unchanged
        wait_generation(one, 2)
        tenant = one.get("/_mock/tenant").json()
        assert tenant["settings"]["credits"] == 4 and tenant["clock"]["now"].startswith("2026-02-01T00:01:40")
        path.write_text(team.replace("credits: 5", "credits: 10") + "  - {api_key: sk_test_two}\n")
        wait_generation(one, 3)
        tenant = one.get("/_mock/tenant").json()
        assert tenant["settings"]["credits"] == 10 and tenant["clock"]["now"].startswith("2026-02-01T00:01:40")
        assert decision(one, session["session_id"])["status"] == "Not Started"  # same tenant, same sessions
        assert two.get("/v3/sessions/").status_code == 200
        path.write_text("tenants: [{api_key: sk_test_two}]\n")
        wait_generation(one, 4)
        assert one.get("/v3/sessions/").status_code == 401
        assert two.get("/v3/sessions/").status_code == 200


# ---------------------------------------------------------------- determinism

DETERMINISTIC = """
tenants: [{api_key: sk_test_repeatable, seed: 42, clock_start: "2026-05-01T12:00:00Z", clock_frozen: true}]
phone: [{match: "+1202555", carrier: Repeat Telecom}]
sessions:
  - match: {vendor_data: "d-*"}
    outcome: {features: {FACE_MATCH: {status: In Review}}}
    timeline: [{after: 0, status: In Progress}, {after: 30, status: In Review}, {after: 90, status: Approved}]
faults:
  - {path: "/v3/session/*/decision/", probability: 0.4, status: 502}
  - {method: POST, path: /v3/session/, every: 3, status: 429, retry_after: 5}
"""


def run_once(path: Path) -> list[Any]:
    seen: list[Any] = []
    with MockServer(scenarios=[str(path)], public_base_url="http://mock.test") as server, \
            client_for(server, "sk_test_repeatable") as http:
        ids = []
        for i in range(6):
            created = http.post("/v3/session/", json={"workflow_id": KYC, "vendor_data": f"d-{i}"})
            seen.append((created.status_code, created.text))
            if created.status_code == 201:
                ids.append(created.json()["session_id"])
        for step in (1, 30, 60):
            advance(http, step)
            for sid in ids:
                got = http.get(f"/v3/session/{sid}/decision/")
                seen.append((got.status_code, got.text))
        sent = http.post("/v3/phone/send/", json={"phone_number": "+12025550143"})
        seen.append((sent.status_code, sent.text, http.get("/_mock/phone/+12025550143/code").json()["code"]))
        seen.append([(f["name"], f["fired_on_calls"]) for f in scenarios_view(http)["tenant"]["faults"]])
    return seen


def test_same_seed_and_scenario_give_the_same_responses_and_fault_indices(tmp_path: Path) -> None:
    path = tmp_path / "repeat.yaml"
    path.write_text(DETERMINISTIC)
    first, second = run_once(path), run_once(path)
    assert first == second
    statuses_seen = [entry[0] for entry in first if isinstance(entry, tuple)]
    assert 429 in statuses_seen and 502 in statuses_seen and 200 in statuses_seen
    assert any('"status":"Approved"' in entry[1] for entry in first if isinstance(entry, tuple) and entry[0] == 200)
