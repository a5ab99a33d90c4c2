"""Webhook delivery end to end: a loopback receiver gets what Didit would send.

The receiver is a plain `http.server` on a free loopback port, in a thread; each test uses its
own path, can script failures and hold requests. Waiting for the background sender goes through
`GET /_mock/webhooks/wait` or the receiver's condition variable, always bounded; time moves only
through `POST /_mock/clock/advance`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest

from didit_mock.domain.events import DomainEvent
from didit_mock.domain.webhooks import SendOutcome, SignedRequest, is_retryable
from didit_mock.server import MockServer, free_port
from didit_mock.testing import QuietHTTPServer
from didit_mock.webhook_delivery import WebhookSender
from tests.conftest import advance, create_session, new_key
from tests.contract.conformance import assert_conforms
from tests.scenario_helpers import Received

SECRET = "local-test-secret-0123456789"
DESTINATIONS = "/v3/webhook/destinations/"
DESTINATION = "/v3/webhook/destinations/{destination_uuid}/"
WAIT = 8  # seconds: every wait is bounded, below the client's 10 s timeout


# ---------------------------------------------------------------- the receiver

class Receiver:
    """Records every POST; per-path scripted statuses (then 200) and gates that hold the answer."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.requests: dict[str, list[Received]] = {}
        self.scripts: dict[str, list[int]] = {}
        self.gates: dict[str, threading.Event] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.changed:
                    receiver.requests.setdefault(self.path, []).append(
                        Received(self.path, {k: v for k, v in self.headers.items()}, body))
                    script = receiver.scripts.get(self.path) or []
                    status = script.pop(0) if script else 200
                    gate = receiver.gates.get(self.path)
                    receiver.changed.notify_all()
                if gate is not None:
                    gate.wait(WAIT)
                reply = b'{"ok": true}' if status < 300 else b"receiver says no"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        for gate in self.gates.values():
            gate.set()
        self.server.shutdown()
        self.server.server_close()


class Endpoint:
    """One test's URL on the receiver."""

    def __init__(self, receiver: Receiver):
        self.receiver = receiver
        self.path = f"/hook/{uuid.uuid4().hex}"
        self.url = receiver.base + self.path

    def fail(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, then 200."""
        with self.receiver.changed:
            self.receiver.scripts[self.path] = list(statuses)

    def hold(self) -> threading.Event:
        """Hold every answer until the returned event is set."""
        gate = threading.Event()
        self.receiver.gates[self.path] = gate
        return gate

    @property
    def received(self) -> list[Received]:
        with self.receiver.changed:
            return list(self.receiver.requests.get(self.path, []))

    def wait(self, count: int, timeout: float = WAIT) -> list[Received]:
        """At least `count` requests (bounded wait on the receiver's condition)."""
        with self.receiver.changed:
            self.receiver.changed.wait_for(
                lambda: len(self.receiver.requests.get(self.path, [])) >= count, timeout)
            got = list(self.receiver.requests.get(self.path, []))
        assert len(got) >= count, f"expected {count} requests, got {len(got)}"
        return got


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def hook(receiver: Receiver) -> Endpoint:
    return Endpoint(receiver)


# ---------------------------------------------------------------- helpers

def configure(client: httpx.Client, url: str, secret: str = SECRET, **extra: Any) -> dict:
    response = client.post("/_mock/webhook", json={"url": url, "secret": secret, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def wait_for(client: httpx.Client, **params: Any) -> dict:
    response = client.get("/_mock/webhooks/wait", params={"timeout": WAIT, **params})
    assert response.status_code == 200, response.text
    return response.json()


def complete(client: httpx.Client, session_id: str, status: str | None = "Approved") -> None:
    response = client.post(f"/_mock/sessions/{session_id}/complete", json={"status": status})
    assert response.status_code == 200, response.text


def log(client: httpx.Client, **params: Any) -> dict:
    response = client.get("/_mock/webhooks", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def clock_now(client: httpx.Client) -> int:
    return int(client.get("/_mock/clock").json()["timestamp"])


def verify(received: Received, secret: str) -> None:
    """What a receiver does: all three signatures, computed independently of the mock's code."""
    payload = json.loads(received.body)
    digest = lambda message: hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()  # noqa: E731
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    simple = f"{payload['timestamp']}:{payload['session_id']}:{payload['status']}:{payload['webhook_type']}"
    assert received.headers["X-Signature"] == digest(received.body)
    assert received.headers["X-Signature-V2"] == digest(canonical.encode("utf-8"))
    assert received.headers["X-Signature-Simple"] == digest(simple.encode("utf-8"))
    assert received.headers["X-Timestamp"] == str(payload["timestamp"])


def statuses(requests: list[Received]) -> list[str]:
    return [r.json["status"] for r in requests]


# ---------------------------------------------------------------- session events and the envelope

def test_session_events_reach_the_app_signed(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    tenant = client.get("/_mock/tenant").json()
    session = create_session(client, vendor_data="user-42", metadata={"plan": "gold", "score": 1.0})
    created_at = clock_now(client)
    advance(client, 5)
    complete(client, session["session_id"], "Approved")

    entry = wait_for(client, session_id=session["session_id"], status="Approved")
    got = hook.wait(2)
    assert statuses(got) == ["In Progress", "Approved"]
    for received in got:
        verify(received, SECRET)
        assert received.headers["Content-Type"] == "application/json"
        assert received.headers["User-Agent"] == "DiditWebhook/2.0 +https://didit.me"

    started, approved = (r.json for r in got)
    assert set(approved) == {
        "event_id", "webhook_type", "timestamp", "created_at", "application_id", "environment",
        "session_id", "status", "workflow_id", "workflow_version", "vendor_data", "metadata", "decision",
    }
    assert "decision" not in started and "resubmit_info" not in started
    assert approved["webhook_type"] == "status.updated"
    assert approved["application_id"] == tenant["application_id"]
    assert approved["environment"] == "sandbox"
    assert approved["session_id"] == session["session_id"]
    assert approved["workflow_id"] == session["workflow_id"]
    assert approved["workflow_version"] == session["workflow_version"]
    assert approved["vendor_data"] == "user-42"
    assert approved["metadata"] == {"plan": "gold", "score": 1}  # shorten_floats
    assert approved["created_at"] == created_at + 5 and isinstance(approved["created_at"], int)
    assert approved["timestamp"] == clock_now(client)
    assert approved["decision"]["session_id"] == session["session_id"]
    assert approved["decision"]["status"] == "Approved"
    assert started["event_id"] != approved["event_id"]
    uuid.UUID(approved["event_id"], version=4)
    # The body is exactly the canonical ASCII form.
    assert got[1].body == json.dumps(approved, sort_keys=True, separators=(",", ":")).encode()
    # The log entry is the request the receiver got.
    assert entry["delivered"] and entry["response_status"] == 200
    assert entry["request_body"] == got[1].body.decode()
    assert json.loads(entry["request_header"])["X-Signature"] == got[1].headers["X-Signature"]


def test_envelope_omits_what_the_session_lacks(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    session = create_session(client)
    complete(client, session["session_id"], "Declined")
    wait_for(client, session_id=session["session_id"], status="Declined")
    declined = hook.wait(2)[1].json
    assert declined["status"] == "Declined"
    assert "vendor_data" not in declined and "metadata" not in declined
    assert declined["decision"]["status"] == "Declined"


@pytest.mark.parametrize("outcome", ["In Review", "Abandoned"])
def test_review_and_abandoned_carry_the_decision(client: httpx.Client, hook: Endpoint, outcome: str) -> None:
    configure(client, hook.url)
    session = create_session(client)
    complete(client, session["session_id"], outcome)
    entry = wait_for(client, session_id=session["session_id"], status=outcome)
    payload = json.loads(entry["request_body"])
    assert payload["status"] == outcome
    assert payload["decision"]["session_id"] == session["session_id"]


def test_manual_decisions_and_resubmission(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    session = create_session(client)
    sid = session["session_id"]
    complete(client, sid, "Declined")
    response = client.patch(f"/v3/session/{sid}/update-status/", json={"new_status": "Approved"})
    assert response.status_code == 200, response.text
    approved = json.loads(wait_for(client, session_id=sid, status="Approved")["request_body"])
    assert approved["decision"]["status"] == "Approved"

    response = client.patch(f"/v3/session/{sid}/update-status/", json={
        "new_status": "Resubmitted",
        "nodes_to_resubmit": [{"node_id": "feature_ocr", "feature": "OCR"}],
    })
    assert response.status_code == 200, response.text
    resubmitted = json.loads(wait_for(client, session_id=sid, status="Resubmitted")["request_body"])
    assert "decision" not in resubmitted
    assert resubmitted["resubmit_info"]["nodes_to_resubmit"] == [{"node_id": "feature_ocr", "feature": "OCR"}]
    assert "feature_ocr" in resubmitted["resubmit_info"]["reasons"]
    assert statuses(hook.wait(4)) == ["In Progress", "Declined", "Approved", "Resubmitted"]


def test_expiry_fires_when_the_clock_passes_it(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    session = create_session(client)
    advance(client, 7 * 24 * 3600 + 1)
    payload = json.loads(wait_for(client, session_id=session["session_id"], status="Expired")["request_body"])
    assert "decision" not in payload
    assert statuses(hook.wait(1)) == ["Expired"]


def _tenant(server: MockServer, api_key: str):  # type: ignore[no-untyped-def]
    tenant = server.registry.get(api_key)
    assert tenant is not None
    return tenant


def test_data_updated_and_kyc_expired(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    session = create_session(client, vendor_data="u-1")
    sid = session["session_id"]
    complete(client, sid, "Approved")
    wait_for(client, session_id=sid, status="Approved")
    response = client.patch(f"/v3/session/{sid}/update-data/",
                            json={"first_name": "Ana", "expiration_date": "2001-01-01"})
    assert response.status_code == 200, response.text
    updated = json.loads(wait_for(client, session_id=sid, webhook_type="data.updated")["request_body"])
    assert updated["webhook_type"] == "data.updated" and updated["status"] == "Approved"
    assert updated["decision"]["session_id"] == sid
    assert updated["vendor_data"] == "u-1"
    # The corrected document has expired: the next tick moves the session to Kyc Expired.
    advance(client, 1)
    expired = json.loads(wait_for(client, session_id=sid, status="Kyc Expired")["request_body"])
    assert expired["decision"]["session_id"] == sid
    assert statuses(hook.wait(4)) == ["In Progress", "Approved", "Approved", "Kyc Expired"]


def test_otp_verification_events(server: MockServer, api_key: str, client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    request_id = str(uuid.uuid4())
    tenant = _tenant(server, api_key)
    now = tenant.clock.timestamp()
    with tenant.lock:
        tenant.events.emit(DomainEvent("status.updated", "phone", request_id, "Approved", now))
    payload = json.loads(wait_for(client, session_id=request_id, status="Approved")["request_body"])
    assert set(payload) == {"event_id", "webhook_type", "timestamp", "created_at", "application_id",
                            "environment", "session_id", "status"}
    assert payload["session_id"] == request_id
    verify(hook.wait(1)[0], SECRET)


def test_phone_verification_over_http(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    response = client.post("/v3/phone/send/", json={"phone_number": "+14155552671"})
    if response.status_code == 404 and "text/html" in response.headers.get("content-type", ""):
        pytest.skip("the phone routes are not in this build yet")
    assert response.status_code == 200, response.text
    request_id = response.json()["request_id"]
    code = client.get("/_mock/phone/+14155552671/code").json()["code"]
    checked = client.post("/v3/phone/check/", json={"phone_number": "+14155552671", "code": code})
    assert checked.status_code == 200, checked.text
    entry = wait_for(client, session_id=request_id, status="Approved")
    payload = json.loads(entry["request_body"])
    assert payload["session_id"] == request_id and payload["webhook_type"] == "status.updated"
    assert "workflow_id" not in payload and "decision" not in payload
    got = hook.wait(2)
    assert statuses(got) == ["In Progress", "Approved"]
    for received in got:
        verify(received, SECRET)


# ---------------------------------------------------------------- retries, ordering, background

def test_retries_follow_the_schedule_on_the_tenant_clock(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    hook.fail(500, 404)
    session = create_session(client)
    sid = session["session_id"]
    complete(client, sid, "Approved")
    first = wait_for(client, session_id=sid, status="In Progress", delivered="false")
    assert first["response_status"] == 500 and first["will_retry"] and not first["exhausted"]
    assert first["attempt"] == 1 and first["trigger"] == "initial"

    advance(client, 59)  # not due yet: the retry is only signalled when the clock reaches it
    assert log(client, session_id=sid)["count"] == 1
    advance(client, 1)
    second = wait_for(client, session_id=sid, status="In Progress", delivered="false", count=2)
    assert second["response_status"] == 404 and second["trigger"] == "retry" and second["will_retry"]

    advance(client, 239)
    assert log(client, session_id=sid)["count"] == 2
    advance(client, 1)
    third = wait_for(client, session_id=sid, status="In Progress")
    assert third["response_status"] == 200 and third["attempt"] == 3
    assert third["event_id"] == first["event_id"] == second["event_id"]
    assert len({first["uuid"], second["uuid"], third["uuid"]}) == 3
    wait_for(client, session_id=sid, status="Approved")
    got = hook.wait(4)
    assert statuses(got) == ["In Progress"] * 3 + ["Approved"]
    timestamps = [r.json["timestamp"] for r in got[:3]]
    assert timestamps[1] - timestamps[0] == 60 and timestamps[2] - timestamps[1] == 240
    for received in got:
        verify(received, SECRET)


def test_retries_exhaust_after_two(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    hook.fail(503, 503, 503, 503)
    session = create_session(client)
    sid = session["session_id"]
    complete(client, sid, "Declined")
    wait_for(client, session_id=sid, status="In Progress", delivered="false")
    advance(client, 60)
    wait_for(client, session_id=sid, status="In Progress", delivered="false", count=2)
    advance(client, 240)
    last = wait_for(client, session_id=sid, status="In Progress", delivered="false", count=3)
    assert last["exhausted"] and not last["will_retry"] and last["delivery_state"] == "failed"
    assert [e["uuid"] for e in log(client, exhausted="true", session_id=sid)["results"]] == [last["uuid"]]
    # The Declined event waited behind it and goes out now (the 4th scripted 503 fails it once).
    declined = wait_for(client, session_id=sid, status="Declined", delivered="false")
    assert declined["will_retry"]
    advance(client, 3600)
    wait_for(client, session_id=sid, status="Declined")
    assert log(client, session_id=sid, status="In Progress")["count"] == 3


def test_other_4xx_is_not_retried(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    hook.fail(400)
    session = create_session(client)
    sid = session["session_id"]
    complete(client, sid, "Approved")
    failed = wait_for(client, session_id=sid, status="In Progress", delivered="false")
    assert failed["response_status"] == 400 and failed["response_body"] == "receiver says no"
    assert not failed["will_retry"] and not failed["exhausted"] and failed["delivery_state"] == "failed"
    wait_for(client, session_id=sid, status="Approved")
    advance(client, 3600)
    assert log(client, session_id=sid, status="In Progress")["count"] == 1
    assert log(client, session_id=sid)["pending"] == []


def test_a_timeout_is_an_attempt_without_status(hook: Endpoint) -> None:
    gate = hook.hold()

    async def attempt() -> SendOutcome:
        sender = WebhookSender(timeout=0.2)
        await sender.start()
        try:
            return await sender.post(SignedRequest(hook.url, b"{}", {"Content-Type": "application/json"}, 0, "initial"))
        finally:
            await sender.stop()

    results: list[SendOutcome] = []
    # A thread of its own: another test's framework may leave an event loop running in this one.
    worker = threading.Thread(target=lambda: results.append(asyncio.run(attempt())))
    try:
        worker.start()
        worker.join(WAIT)
    finally:
        gate.set()
    outcome = results[0]
    assert outcome.status is None and outcome.error is not None and outcome.error.startswith("timeout")
    assert is_retryable(outcome.status)


def test_refused_connection_is_retried(client: httpx.Client) -> None:
    configure(client, f"http://127.0.0.1:{free_port()}/nobody-listens")
    session = create_session(client)
    complete(client, session["session_id"], "Approved")
    entry = wait_for(client, session_id=session["session_id"], delivered="false")
    assert entry["response_status"] is None and entry["error"] and entry["will_retry"]


def test_events_of_a_session_stay_in_order(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    hook.fail(500)
    session = create_session(client)
    sid = session["session_id"]
    complete(client, sid, "Approved")
    wait_for(client, session_id=sid, status="In Progress", delivered="false")
    pending = log(client, session_id=sid)["pending"]
    assert [p["status"] for p in pending] == ["In Progress", "Approved"]
    assert pending[1]["attempts"] == 0
    other = create_session(client)  # another session is not held up
    complete(client, other["session_id"], "Declined")
    wait_for(client, session_id=other["session_id"], status="Declined")
    assert log(client, session_id=sid, status="Approved")["count"] == 0
    advance(client, 60)
    wait_for(client, session_id=sid, status="Approved")
    assert statuses([r for r in hook.wait(5) if r.json["session_id"] == sid]) == [
        "In Progress", "In Progress", "Approved"]


def test_a_request_never_waits_for_the_receiver(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    gate = hook.hold()
    try:
        session = create_session(client)
        complete(client, session["session_id"], "Approved")  # returns while the receiver holds
        hook.wait(1)
        assert log(client, session_id=session["session_id"])["count"] == 0
    finally:
        gate.set()
    wait_for(client, session_id=session["session_id"], status="Approved")


# ---------------------------------------------------------------- replay, log routes, wait

def test_replay_sends_the_same_event_with_a_fresh_signature(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    session = create_session(client)
    sid = session["session_id"]
    complete(client, sid, "Approved")
    original = wait_for(client, session_id=sid, status="Approved")
    advance(client, 90)
    response = client.post(f"/_mock/webhooks/{original['uuid']}/replay")
    assert response.status_code == 200, response.text
    replayed = response.json()
    assert replayed["trigger"] == "replay" and replayed["delivered"]
    assert replayed["uuid"] != original["uuid"] and replayed["event_id"] == original["event_id"]
    assert replayed["timestamp"] == original["timestamp"] + 90
    got = hook.wait(3)
    assert got[2].json["event_id"] == original["event_id"]
    verify(got[2], SECRET)
    assert got[2].headers["X-Signature"] != got[1].headers["X-Signature"]

    resent = client.post(f"/v3/session/{sid}/webhook/{original['uuid']}/resend")
    assert resent.status_code == 200 and resent.json()["event_id"] == original["event_id"]
    assert client.post(f"/_mock/webhooks/{uuid.uuid4()}/replay").status_code == 404


def test_didit_delivery_log_routes(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    session = create_session(client)
    sid = session["session_id"]
    assert client.get(f"/v3/session/{sid}/webhooks/").json() == []
    complete(client, sid, "Approved")
    wait_for(client, session_id=sid, status="Approved")
    entries = client.get(f"/v3/session/{sid}/webhooks/").json()
    assert [e["status"] for e in entries] == ["Approved", "In Progress"]  # newest first
    entry = entries[0]
    assert entry["url"] == hook.url and entry["response_status"] == 200
    headers = json.loads(entry["request_header"])
    body = json.loads(entry["request_body"])
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert headers["X-Signature-V2"] == hmac.new(SECRET.encode(), canonical.encode(), hashlib.sha256).hexdigest()

    one = client.get(f"/v3/session/{sid}/webhook/{entry['uuid']}")
    assert one.status_code == 200 and one.json() == entry
    other = create_session(client)
    assert client.get(f"/v3/session/{other['session_id']}/webhook/{entry['uuid']}").json() == {
        "detail": "Not found."}
    assert client.get(f"/v3/session/{uuid.uuid4()}/webhooks/").status_code == 404
    assert client.get(f"/v3/session/{sid}/webhook/NOT-A-UUID").headers["content-type"].startswith("text/html")
    assert client.get(f"/v3/session/{sid}/webhooks/", headers={"x-api-key": ""}).status_code == 403


def test_mock_log_filters(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    hook.fail(500)
    session = create_session(client)
    sid = session["session_id"]
    complete(client, sid, "Approved")
    wait_for(client, session_id=sid, status="In Progress", delivered="false")
    advance(client, 60)
    wait_for(client, session_id=sid, status="Approved")
    assert log(client, session_id=sid)["count"] == 3
    assert log(client, session_id=sid, failed="true")["count"] == 1
    assert log(client, session_id=sid, delivered="true")["count"] == 2
    assert log(client, session_id=sid, status="Approved")["count"] == 1
    assert log(client, session_id=sid, webhook_type="data.updated")["count"] == 0
    assert client.get("/_mock/webhooks", params={"delivered": "maybe"}).json() == {
        "delivered": ["Must be a valid boolean."]}


def test_wait_times_out_with_408(client: httpx.Client) -> None:
    response = client.get("/_mock/webhooks/wait", params={"session_id": str(uuid.uuid4()), "timeout": 0.2})
    assert response.status_code == 408
    assert response.json()["matched"] == 0 and "detail" in response.json()
    bad = client.get("/_mock/webhooks/wait", params={"timeout": "soon"})
    assert bad.status_code == 400 and bad.json() == {"timeout": ["A valid number is required."]}
    assert client.get("/_mock/webhooks/wait", params={"timeout": 1000}).status_code == 400


# ---------------------------------------------------------------- the three ways to configure

def test_admin_webhook_route(client: httpx.Client, hook: Endpoint) -> None:
    view = client.get("/_mock/webhook").json()
    assert view["url"] is None and len(view["secret"]) == 43
    set_view = configure(client, hook.url, "s3cret", version="v2")
    assert (set_view["url"], set_view["secret"], set_view["version"]) == (hook.url, "s3cret", "v2")
    assert client.get("/_mock/webhook").json()["secret"] == "s3cret"
    bad = client.post("/_mock/webhook", json={"url": "ftp://x"})
    assert bad.status_code == 400 and bad.json() == {"url": ["Enter a valid URL."]}
    assert client.post("/_mock/webhook", json={"url": None}).json()["url"] is None


def test_configured_from_settings(receiver: Receiver) -> None:
    hook = Endpoint(receiver)
    with MockServer(port=free_port(), freeze_clock=True, webhook_url=hook.url, webhook_secret="from-env") as running, \
            httpx.Client(base_url=running.url, headers={"x-api-key": new_key()}, timeout=10) as http:
        view = http.get("/v3/webhook/").json()
        assert view["webhook_url"] == hook.url and view["secret_shared_key"] == "from-env"
        session = create_session(http)
        complete(http, session["session_id"], "Approved")
        wait_for(http, session_id=session["session_id"], status="Approved")
        for received in hook.wait(2):
            verify(received, "from-env")


def test_legacy_webhook_endpoint(client: httpx.Client, hook: Endpoint) -> None:
    view = client.get("/v3/webhook/").json()
    assert view == {"webhook_url": None, "webhook_version": "v3", "secret_shared_key": view["secret_shared_key"],
                    "capture_method": "both", "data_retention_months": None}
    secret = view["secret_shared_key"]
    assert len(secret) == 43 and all(c.isalnum() or c in "-_" for c in secret)
    assert client.get("/v3/webhook/").json()["secret_shared_key"] == secret

    patched = client.patch("/v3/webhook/", json={"webhook_url": hook.url, "rotate_secret_key": True,
                                                 "data_retention_months": 12})
    assert patched.status_code == 200, patched.text
    rotated = patched.json()["secret_shared_key"]
    assert rotated != secret and len(rotated) == 43
    assert patched.json()["webhook_url"] == hook.url and patched.json()["data_retention_months"] == 12

    bad = client.patch("/v3/webhook/", json={"webhook_url": "not a url", "webhook_version": "v9",
                                             "data_retention_months": 121, "capture_method": "tablet"})
    assert bad.status_code == 400
    assert bad.json() == {
        "webhook_url": ["Enter a valid URL."],
        "webhook_version": ['"v9" is not a valid choice.'],
        "capture_method": ['"tablet" is not a valid choice.'],
        "data_retention_months": ["Ensure this value is less than or equal to 120."],
    }
    assert client.get("/v3/webhook/").json()["webhook_url"] == hook.url  # nothing changed

    session = create_session(client)
    complete(client, session["session_id"], "Approved")
    wait_for(client, session_id=session["session_id"], status="Approved")
    for received in hook.wait(2):
        verify(received, rotated)


def _destination(client: httpx.Client, **body: Any) -> dict:
    response = client.post(DESTINATIONS, json={"label": "Prod", **body})
    assert response.status_code == 201, response.text
    if body.get("subscribed_events"):
        # The spec's schema says minItems 1, while its text says an omitted list gives [].
        assert_conforms("POST", DESTINATIONS, 201, response.json())
    return response.json()


def test_destinations_crud(client: httpx.Client, hook: Endpoint) -> None:
    assert client.get(DESTINATIONS).json() == []
    created = _destination(client, url=hook.url, subscribed_events=["status.updated", "data.updated"])
    assert created["enabled"] is True and created["webhook_version"] == "v3"
    assert len(created["secret_shared_key"]) == 43
    assert created["summary"] == {"total_deliveries": 0, "failed_deliveries": 0, "error_rate_percentage": 0,
                                  "min_response_time_ms": None, "avg_response_time_ms": None,
                                  "max_response_time_ms": None, "last_delivery_at": None}
    path = f"{DESTINATIONS}{created['uuid']}/"

    listed = client.get(DESTINATIONS).json()
    assert_conforms("GET", DESTINATIONS, 200, listed)
    assert len(listed) == 1 and "secret_shared_key" not in listed[0]
    assert listed[0]["subscribed_events_count"] == 2 and listed[0]["deliveries_count"] == 0

    fetched = client.get(path)
    assert fetched.status_code == 200 and fetched.json() == created
    assert_conforms("GET", DESTINATION, 200, fetched.json())

    patched = client.patch(path, json={"label": "Renamed", "subscribed_events": ["data.updated"],
                                       "enabled": False, "webhook_version": "v2"})
    assert patched.status_code == 200, patched.text
    assert_conforms("PATCH", DESTINATION, 200, patched.json())
    body = patched.json()
    assert (body["label"], body["subscribed_events"], body["enabled"], body["webhook_version"]) == (
        "Renamed", ["data.updated"], False, "v2")
    assert body["secret_shared_key"] == created["secret_shared_key"]

    assert client.delete(path).status_code == 204
    for response in (client.get(path), client.delete(path), client.patch(path, json={"label": "x"})):
        assert response.status_code == 404
        assert response.json() == {"detail": "Webhook destination not found."}
    assert client.get(f"{DESTINATIONS}NOT-A-UUID/").headers["content-type"].startswith("text/html")


def test_destination_validation(client: httpx.Client, hook: Endpoint) -> None:
    def rejected(body: Any, method: str = "POST", path: str = DESTINATIONS) -> Any:
        response = client.request(method, path, json=body)
        assert response.status_code == 400, response.text
        assert_conforms(method, DESTINATIONS if method == "POST" else DESTINATION, 400, response.json())
        return response.json()

    assert rejected({"label": "a", "url": hook.url, "subscribed_events": []}) == {
        "subscribed_events": ["At least one subscribed event is required."]}
    assert rejected({"label": "a", "url": hook.url, "subscribed_events": ["status.updated", "foo.bar"]}) == {
        "subscribed_events": ["Unsupported webhook events: foo.bar"]}
    assert rejected({}) == {"label": ["This field is required."], "url": ["This field is required."]}
    assert rejected({"label": "", "url": "nope", "enabled": "perhaps", "webhook_version": "v4"}) == {
        "label": ["This field may not be blank."], "url": ["Enter a valid URL."],
        "enabled": ["Must be a valid boolean."], "webhook_version": ['"v4" is not a valid choice.']}
    assert rejected({"label": "x" * 256, "url": hook.url}) == {
        "label": ["Ensure this field has no more than 255 characters."]}
    assert rejected({"label": "a", "url": hook.url, "subscribed_events": "status.updated"}) == {
        "subscribed_events": ['Expected a list of items but got type "str".']}
    assert rejected([1, 2]) == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}

    first = _destination(client, url=hook.url, subscribed_events=["status.updated"])
    assert rejected({"label": "b", "url": hook.url, "subscribed_events": ["status.updated"]}) == {
        "url": ["This webhook destination already exists for the application."]}
    second = _destination(client, url=hook.url + "/2")  # omitted events: subscribed to nothing
    assert second["subscribed_events"] == []
    path = f"{DESTINATIONS}{second['uuid']}/"
    assert rejected({"url": hook.url}, "PATCH", path) == {
        "url": ["This webhook destination already exists for the application."]}
    assert rejected({"subscribed_events": []}, "PATCH", path) == {
        "subscribed_events": ["At least one subscribed event is required."]}
    assert client.patch(f"{DESTINATIONS}{first['uuid']}/", json={"url": hook.url}).status_code == 200
    assert [d["uuid"] for d in client.get(DESTINATIONS).json()] == [first["uuid"], second["uuid"]]


def test_destinations_receive_only_their_events(client: httpx.Client, receiver: Receiver) -> None:
    status_hook, data_hook, off_hook, v2_hook = (Endpoint(receiver) for _ in range(4))
    status_dest = _destination(client, url=status_hook.url, subscribed_events=["status.updated"])
    _destination(client, url=data_hook.url, label="data", subscribed_events=["data.updated"])
    _destination(client, url=off_hook.url, label="off", enabled=False, subscribed_events=["status.updated"])
    v2_dest = _destination(client, url=v2_hook.url, label="v2", webhook_version="v2",
                           subscribed_events=["status.updated"])
    session = create_session(client)
    sid = session["session_id"]
    complete(client, sid, "Approved")
    wait_for(client, session_id=sid, status="Approved", destination_uuid=status_dest["uuid"])
    v2_entry = wait_for(client, session_id=sid, status="Approved", destination_uuid=v2_dest["uuid"])

    for received in status_hook.wait(2):
        verify(received, status_dest["secret_shared_key"])
    for received in v2_hook.wait(2):
        verify(received, v2_dest["secret_shared_key"])
    v2_decision = json.loads(v2_entry["request_body"])["decision"]
    assert "id_verification" in v2_decision and "id_verifications" not in v2_decision
    v3_approved = next(r.json for r in status_hook.received if r.json["status"] == "Approved")
    assert "id_verifications" in v3_approved["decision"] and "id_verification" not in v3_approved["decision"]
    assert data_hook.received == [] and off_hook.received == []
    events = {r.json["status"]: r.json["event_id"] for r in status_hook.received}
    assert events == {r.json["status"]: r.json["event_id"] for r in v2_hook.received}  # one event, same id

    detail = client.get(f"{DESTINATIONS}{status_dest['uuid']}/").json()
    assert detail["summary"]["total_deliveries"] == 2 and detail["summary"]["failed_deliveries"] == 0
    assert detail["summary"]["last_delivery_at"] is not None
    assert_conforms("GET", DESTINATION, 200, detail)
    row = next(d for d in client.get(DESTINATIONS).json() if d["uuid"] == status_dest["uuid"])
    assert row["deliveries_count"] == 2 and row["error_rate_percentage"] == 0


# ---------------------------------------------------------------- injected faults

def set_faults(client: httpx.Client, **faults: Any) -> dict:
    response = client.post("/_mock/webhook/faults", json=faults)
    assert response.status_code == 200, response.text
    return response.json()


def test_fault_wrong_secret_and_stale_timestamp(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    assert set_faults(client, wrong_secret=True, stale_timestamp=600) == {
        "faults": {"wrong_secret": True, "stale_timestamp": 600}}
    session = create_session(client)
    complete(client, session["session_id"], "Approved")
    wait_for(client, session_id=session["session_id"], status="Approved")
    received = hook.wait(2)[1]
    assert int(received.headers["X-Timestamp"]) == received.json["timestamp"] == clock_now(client) - 600
    with pytest.raises(AssertionError):
        verify(received, SECRET)
    verify(received, "wrong-" + SECRET)
    assert client.get("/_mock/webhook/faults").json() == {"faults": {"wrong_secret": True, "stale_timestamp": 600}}
    assert set_faults(client) == {"faults": {}}


def test_fault_duplicate(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    set_faults(client, duplicate=True)
    session = create_session(client)
    complete(client, session["session_id"], "Approved")
    wait_for(client, session_id=session["session_id"], status="Approved", trigger="duplicate")
    got = hook.wait(4)
    assert [r.json["event_id"] for r in got] == [got[0].json["event_id"]] * 2 + [got[2].json["event_id"]] * 2
    assert got[0].body == got[1].body


def test_fault_out_of_order(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    set_faults(client, out_of_order=True)
    session = create_session(client)
    complete(client, session["session_id"], "Approved")
    wait_for(client, session_id=session["session_id"], status="In Progress")
    assert statuses(hook.wait(2)) == ["Approved", "In Progress"]


def test_fault_delay_uses_the_tenant_clock(client: httpx.Client, hook: Endpoint) -> None:
    configure(client, hook.url)
    set_faults(client, delay=30)
    session = create_session(client)
    sid = session["session_id"]
    complete(client, sid, "Approved")
    state = log(client, session_id=sid)
    assert state["count"] == 0 and len(state["pending"]) == 2
    advance(client, 30)
    wait_for(client, session_id=sid, status="Approved")
    assert statuses(hook.wait(2)) == ["In Progress", "Approved"]
    bad = client.post("/_mock/webhook/faults", json={"delay": -1, "typo": True})
    assert bad.status_code == 400 and set(bad.json()) == {"delay", "typo"}
