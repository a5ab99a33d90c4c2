"""Every shipped example in scenarios/ is loaded (`MockServer(scenarios=[file])`, as
`didit-mock serve --scenario FILE` does) and exercised over HTTP, so the examples cannot rot.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from didit_mock.domain.sessions import NO_CREDITS
from didit_mock.server import MockServer
from tests.conftest import new_key
from tests.scenario_helpers import (
    KYC,
    advance,
    decision,
    new_session,
    receiver,
    scenarios_view,
    wait_webhook,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "scenarios"


def example_server(name: str) -> MockServer:
    return MockServer(freeze_clock=True, scenarios=[str(EXAMPLES / name)])


def http(server: MockServer, api_key: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"x-api-key": api_key or new_key()}, timeout=10)


@pytest.fixture
def use(request: pytest.FixtureRequest) -> Iterator[Callable[[str], tuple[MockServer, httpx.Client]]]:
    """Start a server with one example (and a client for a fresh key); stopped after the test."""
    opened: list[Any] = []

    def start(name: str, api_key: str | None = None) -> tuple[MockServer, httpx.Client]:
        server = example_server(name).start()
        client = http(server, api_key)
        opened.extend([client, server])
        return server, client

    yield start
    for thing in reversed(opened):
        thing.close() if isinstance(thing, httpx.Client) else thing.stop()


def risks(item: dict[str, Any]) -> list[str]:
    return [w["risk"] for w in item["warnings"]]


def created_day(body: dict[str, Any]) -> date:
    return datetime.fromisoformat(body["created_at"].replace("Z", "+00:00")).date()


# ---------------------------------------------------------------- happy-path-kyc.yaml

def test_happy_path_kyc(use: Any) -> None:
    _, client = use("happy-path-kyc.yaml")
    with receiver() as hooks:
        assert client.post("/_mock/webhook", json={"url": hooks.url("/kyc"), "secret": "s"}).status_code == 200
        happy = new_session(client, vendor_data="happy-1")
        manual = new_session(client, vendor_data="manual-1")
        advance(client, 5)
        assert decision(client, happy["session_id"])["status"] == "In Progress"
        advance(client, 44)
        assert decision(client, happy["session_id"])["status"] == "In Progress"
        advance(client, 1)
        body = decision(client, happy["session_id"])
        assert body["status"] == "Approved"
        assert body["liveness_checks"][0]["score"] == 97.5 and body["face_matches"][0]["score"] == 93.2
        assert body["id_verifications"][0]["age"] == 34
        wait_webhook(client, session_id=happy["session_id"], status="Approved")
        assert [r.json["status"] for r in hooks.at("/kyc")] == ["In Progress", "Approved"]
    advance(client, 86400)
    assert decision(client, manual["session_id"])["status"] == "Not Started"
    assert scenarios_view(client)["tenant"]["sessions"][manual["session_id"]] == \
        "happy-path-kyc / manual sessions wait"


# ---------------------------------------------------------------- review-then-decision.yaml

def test_review_then_decision(use: Any) -> None:
    _, client = use("review-then-decision.yaml")
    cleared = new_session(client, vendor_data="review-1")
    pep = new_session(client, vendor_data="someone", metadata={"risk_profile": "pep"})
    advance(client, 20)
    body = decision(client, cleared["session_id"])
    assert body["status"] == "In Review"
    aml = body["aml_screenings"][0]
    assert (aml["status"], aml["total_hits"], aml["score"], risks(aml)) == ("In Review", 1, 82, ["POSSIBLE_MATCH_FOUND"])
    advance(client, 10)
    body = decision(client, pep["session_id"])
    assert body["status"] == "In Review" and body["aml_screenings"][0]["status"] == "In Review"
    advance(client, 570)
    body = decision(client, cleared["session_id"])
    assert body["status"] == "Approved"
    assert body["reviews"][-1]["comment"] == "False positive: different date of birth."
    advance(client, 3600)
    body = decision(client, pep["session_id"])
    assert body["status"] == "Declined" and body["reviews"][-1]["comment"] == "Confirmed sanctions match."
    aml = body["aml_screenings"][0]
    assert (aml["status"], aml["total_hits"], aml["score"]) == ("Declined", 2, 97)


# ---------------------------------------------------------------- fraud-declines.yaml

def test_fraud_declines(use: Any) -> None:
    _, client = use("fraud-declines.yaml")
    fraud = new_session(client, vendor_data="fraud-1")
    blocked = new_session(client, vendor_data="blocked-1")
    expired = new_session(client, vendor_data="expired-1")
    minor = new_session(client, expected_details={"first_name": "Minor", "last_name": "Kid"})
    sanctioned = new_session(client, vendor_data="sanctioned-1")
    advance(client, 15)
    assert decision(client, fraud["session_id"])["status"] == "In Review"
    body = decision(client, blocked["session_id"])
    assert body["status"] == "Declined" and risks(body["liveness_checks"][0]) == ["FACE_IN_BLOCKLIST"]
    body = decision(client, expired["session_id"])
    document = body["id_verifications"][0]
    assert body["status"] == "Declined" and risks(document) == ["DOCUMENT_EXPIRED"]
    assert date.fromisoformat(document["expiration_date"]) < created_day(body)
    body = decision(client, minor["session_id"])
    assert body["status"] == "Declined" and body["id_verifications"][0]["age"] == 16
    assert risks(body["id_verifications"][0]) == ["MINIMUM_AGE_NOT_MET"]
    body = decision(client, sanctioned["session_id"])
    assert body["status"] == "Declined" and risks(body["aml_screenings"][0]) == ["POSSIBLE_MATCH_FOUND"]
    advance(client, 30)
    body = decision(client, fraud["session_id"])
    assert body["status"] == "Declined" and body["reviews"][-1]["comment"] == "Presentation attack confirmed."
    assert risks(body["liveness_checks"][0]) == ["LIVENESS_FACE_ATTACK"] and body["liveness_checks"][0]["score"] == 8.5

    listed = client.post("/v3/phone/send/", json={"phone_number": "+4915510000123"}).json()
    assert listed["status"] == "Blocked"
    assert client.post("/v3/phone/send/", json={"phone_number": "+19005550100"}).json()["status"] == "Blocked"
    assert client.post("/v3/email/send/", json={"email": "boss@fraud-ring.example"}).json()["status"] == "Success"
    code = client.get("/_mock/email/boss@fraud-ring.example/code").json()["code"]
    checked = client.post("/v3/email/check/", json={"email": "boss@fraud-ring.example", "code": code}).json()
    assert checked["status"] == "Declined" and "EMAIL_IN_BLOCKLIST" in risks(checked["email"])


# ---------------------------------------------------------------- otp-edge-cases.yaml

def test_otp_edge_cases(use: Any) -> None:
    _, client = use("otp-edge-cases.yaml")

    def send(number: str) -> dict[str, Any]:
        return client.post("/v3/phone/send/", json={"phone_number": number}).json()

    def check(number: str) -> dict[str, Any]:
        return client.post("/v3/phone/check/", json={"phone_number": number, "code": "123456"}).json()

    assert send("+12025550143")["status"] == "Success"
    assert check("+12025550143")["status"] == "Approved"
    assert (send("+12025550199")["status"], send("+12025550198")["status"]) == ("Blocked", "Success")
    assert send("+12025550199")["reason"] == "spam"
    assert send("+12025550188")["status"] == "Retry"
    send("+12025550177")
    voip = check("+12025550177")["phone"]
    assert voip["carrier"] == {"name": "Bandwidth CLEC", "type": "voip"} and voip["is_virtual"] is True
    declined = client.post("/v3/phone/send/", json={"phone_number": "+12025550177"})
    assert declined.status_code == 200
    refused = client.post("/v3/phone/check/", json={"phone_number": "+12025550177", "code": "123456",
                                                     "voip_number_action": "DECLINE"}).json()
    assert refused["status"] == "Declined" and "VOIP_NUMBER_DETECTED" in risks(refused["phone"])
    send("+12025550166")
    landline = check("+12025550166")["phone"]
    assert landline["carrier"] == {"name": "Verizon", "type": "fixed_line"}
    assert landline["verification_method"] == "sms"
    send("+12025550155")
    assert check("+12025550155")["phone"]["is_disposable"] is True

    def email(address: str) -> tuple[str, dict[str, Any]]:
        sent = client.post("/v3/email/send/", json={"email": address}).json()
        code = client.get(f"/_mock/email/{address}/code").json()["code"]
        return sent["status"], client.post("/v3/email/check/", json={"email": address, "code": code}).json()

    status, checked = email("ann@otp.example")
    assert status == "Success" and checked["status"] == "Approved"
    assert client.get("/_mock/email/ann@otp.example/code").json()["code"] == "424242"
    assert client.post("/v3/email/send/", json={"email": "bounce-7@otp.example"}).json()["status"] == "Undeliverable"
    assert email("burner-3@otp.example")[1]["email"]["is_disposable"] is True
    assert email("leaked@otp.example")[1]["email"]["is_breached"] is True


# ---------------------------------------------------------------- flaky-api.yaml

def test_flaky_api(use: Any) -> None:
    _, client = use("flaky-api.yaml")
    created = [client.post("/v3/session/", json={"workflow_id": KYC}) for _ in range(4)]
    assert [r.status_code for r in created] == [201, 201, 429, 201]
    throttled = created[2]
    assert throttled.headers["Retry-After"] == "2" and throttled.headers["X-RateLimit-Remaining"] == "0"
    assert throttled.json()["detail"].startswith("Session creation rate limit exceeded.")

    timings, codes = [], []
    for _ in range(8):
        started = time.monotonic()
        codes.append(client.get("/v3/sessions/").status_code)
        timings.append(time.monotonic() - started)
    assert codes == [200, 200, 200, 503, 200, 200, 200, 503]
    assert min(timings[:2]) >= 0.2

    sid = created[0].json()["session_id"]
    reads = [client.get(f"/v3/session/{sid}/decision/") for _ in range(20)]
    failed = [i + 1 for i, r in enumerate(reads) if r.status_code == 502]
    faults = {f["name"]: f for f in scenarios_view(client)["tenant"]["faults"]}
    assert failed == faults["decision gateway errors"]["fired_on_calls"] and failed  # drawn from seed 2026
    assert all(r.json() == {"detail": "Bad gateway."} for r in reads if r.status_code == 502)

    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/v3/phone/send/", json={"phone_number": "+12025550143"})
    assert client.post("/v3/phone/send/", json={"phone_number": "+12025550143"}).status_code == 200

    assert client.post(f"/_mock/sessions/{sid}/complete", json={"status": "In Review"}).status_code == 200
    patches = [client.patch(f"/v3/session/{sid}/update-status/", json={"new_status": "Approved"}).status_code
               for _ in range(3)]
    assert patches == [500, 500, 200]


def test_flaky_api_repeats_with_its_seed(use: Any) -> None:
    """Two keys, the same scenario and seed: the same decision reads fail."""
    server, first = use("flaky-api.yaml")
    seen = []
    for client in (first, http(server)):
        with client:
            sid = client.post("/v3/session/", json={"workflow_id": KYC}).json()["session_id"]
            seen.append([client.get(f"/v3/session/{sid}/decision/").status_code for _ in range(20)])
    assert seen[0] == seen[1] and 502 in seen[0]


# ---------------------------------------------------------------- webhook-faults.yaml

def test_webhook_faults(use: Any) -> None:
    _, client = use("webhook-faults.yaml")
    assert client.get("/_mock/webhook").json()["url"] == "http://127.0.0.1:8000/didit/webhook"
    with receiver() as hooks:
        secret = "whsec_scenario_example"
        assert client.post("/_mock/webhook", json={"url": hooks.url("/receiver"), "secret": secret}).status_code == 200
        session = new_session(client, vendor_data="webhook-1")
        advance(client, 1)
        wait_webhook(client, session_id=session["session_id"], status="Approved", trigger="duplicate")
        now = client.get("/_mock/clock").json()["timestamp"]
        approved = [r for r in hooks.at("/receiver") if r.json["status"] == "Approved"]
        assert len(approved) == 2 and approved[0].body == approved[1].body
        delivery = approved[0]
        assert int(delivery.headers["X-Timestamp"]) == int(now) - 600
        assert delivery.json["timestamp"] == int(now) - 600
        expected = hmac.new(secret.encode(), delivery.body, hashlib.sha256).hexdigest()
        assert delivery.headers["X-Signature"] == expected  # right secret, stale time: the receiver must refuse


# ---------------------------------------------------------------- live-tenant.yaml

LIVE_KEY = "sk_live_scenario_example_key_0000000000000000000"


def test_live_tenant(use: Any) -> None:
    server, client = use("live-tenant.yaml", LIVE_KEY)
    with http(server) as stranger:
        assert stranger.get("/v3/sessions/").status_code == 401
    tenant = client.get("/_mock/tenant").json()
    assert (tenant["environment"], tenant["application_id"], tenant["seed"]) == (
        "live", "5ca1ab1e-0000-4000-8000-000000000001", 7)
    assert tenant["clock"]["now"] == "2026-03-02T09:00:00.000000Z" and tenant["clock"]["frozen"]
    assert tenant["settings"]["credits"] == 3

    unknown = client.post("/v3/session/", json={"workflow_id": "0b0e0000-0000-4000-8000-0000000000ff"})
    assert (unknown.status_code, unknown.json()) == (400, {"workflow_id": "Invalid workflow_id."})
    phone = client.post("/v3/session/", json={"workflow_id": "0b0e0000-0000-4000-8000-00000000a001"}).json()
    address = client.post("/v3/session/", json={"workflow_id": "0b0e0000-0000-4000-8000-00000000a002"}).json()
    advance(client, 1)
    body = decision(client, phone["session_id"])
    assert body["status"] == "Approved" and body["environment"] == "live"
    assert body["features"] == ["ID_VERIFICATION", "LIVENESS", "FACE_MATCH", "PHONE", "AML"]
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert (expires - datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))).total_seconds() == 7200
    other = decision(client, address["session_id"])
    assert other["status"] == "Not Started" and other["features"] == ["POA", "IP_ANALYSIS"]
    new_session(client)  # the third credit
    assert client.post("/v3/session/", json={"workflow_id": KYC}).json() == {"detail": NO_CREDITS}


# ---------------------------------------------------------------- all of them

def test_standalone_outcomes(use: Any) -> None:
    _, client = use("standalone-outcomes.yaml")
    from tests.test_standalone_faces import PHOTO

    def selfie(path: str, vendor_data: str, field: str = "user_image") -> dict:
        files = {field: ("s.png", PHOTO, "image/png")}
        if path == "/v3/face-match/":
            files["ref_image"] = ("r.png", PHOTO, "image/png")
        response = client.post(path, files=files, data={"vendor_data": vendor_data})
        assert response.status_code == 200, response.text
        return response.json()

    assert selfie("/v3/passive-liveness/", "spoof-1")["liveness"]["status"] == "Declined"
    assert selfie("/v3/passive-liveness/", "honest-1")["liveness"]["status"] == "Approved"
    assert selfie("/v3/face-match/", "imposter-3")["face_match"]["score"] == 24.87
    assert selfie("/v3/age-estimation/", "minor-7")["age_estimation"]["age_estimation"] == 16.5
    expired = selfie("/v3/id-verification/", "expired-2", "front_image")["id_verification"]
    assert [w["risk"] for w in expired["warnings"]] == ["DOCUMENT_EXPIRED"]
    screened = client.post("/v3/aml/", json={"full_name": "Clean Person", "vendor_data": "pep-9"}).json()
    assert screened["aml"]["status"] == "In Review"


TESTED = {
    "happy-path-kyc.yaml": test_happy_path_kyc,
    "review-then-decision.yaml": test_review_then_decision,
    "fraud-declines.yaml": test_fraud_declines,
    "otp-edge-cases.yaml": test_otp_edge_cases,
    "flaky-api.yaml": test_flaky_api,
    "webhook-faults.yaml": test_webhook_faults,
    "live-tenant.yaml": test_live_tenant,
    "standalone-outcomes.yaml": test_standalone_outcomes,
}


def test_every_example_is_exercised_and_documented() -> None:
    files = sorted(p.name for p in EXAMPLES.glob("*.y*ml"))
    assert files == sorted(TESTED), "add a test for each example in scenarios/"
    for name in files:
        text = (EXAMPLES / name).read_text(encoding="utf-8")
        assert text.startswith("# yaml-language-server: $schema=") and text.count("#") > 5, name


def test_all_examples_load_together() -> None:
    with MockServer(scenarios=[str(EXAMPLES)]) as server, http(server, LIVE_KEY) as client:
        view = scenarios_view(client)
        assert view["generation"] == 1 and view["errors"] == []
        assert sorted(s["name"] for s in view["scenarios"]) == sorted(Path(n).stem for n in TESTED)
        assert json.dumps(view["scenarios"])  # the view is plain JSON
