"""The pytest plugin (`didit_mock_server`, `didit_mock`) run by pytester in real pytest processes,
and the `DiditMock` helpers it hands out."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from didit_mock.server import MockServer
from didit_mock.testing import DiditMock, DiditMockError, WebhookReceiver, sign_body

from .conftest import create_session

pytest_plugins = ["pytester"]

#: A suite as a user would write it; it only uses the `didit_mock` fixture.
USER_SUITE = '''
import os

import httpx
import pytest


def test_fixture_hands_out_a_tenant(didit_mock):
    assert didit_mock.api_key.startswith("sk_test_")
    assert didit_mock.headers == {"x-api-key": didit_mock.api_key}
    expected = os.environ.get("DIDIT_MOCK_URL")
    if expected:
        assert didit_mock.base_url == expected
    with httpx.Client(base_url=didit_mock.base_url, headers=didit_mock.headers) as app_client:
        created = app_client.post("/v3/session/", json={
            "workflow_id": "d1d17000-0000-4000-8000-000000000001", "vendor_data": "user-1"})
    assert created.status_code == 201
    decision = didit_mock.complete(created.json()["session_id"], "Declined")
    assert decision["status"] == "Declined"


def test_the_clock_is_real_until_frozen(didit_mock):
    assert didit_mock.tenant()["clock"]["frozen"] is False
    start = didit_mock.freeze()
    assert (didit_mock.advance(3600) - start).total_seconds() == 3600


def test_signed_webhooks_reach_the_receiver(didit_mock):
    with didit_mock.receiver() as hook:
        session = didit_mock.create_session(vendor_data="hooked")
        didit_mock.complete(session["session_id"], "Approved")
        delivery = hook.wait(timeout=10, session_id=session["session_id"], status="Approved")
    assert delivery.verify()
    assert delivery.json["vendor_data"] == "hooked"


@pytest.mark.didit_mock(environment="live", frozen=True)
def test_marker_configures_the_tenant(didit_mock):
    assert didit_mock.api_key.startswith("sk_live_")
    assert didit_mock.tenant()["clock"]["frozen"] is True


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_tenants_never_see_each_other(didit_mock, n):
    for i in range(n):
        didit_mock.create_session(vendor_data=f"v{i}")
    assert didit_mock.sessions.count() == n
    assert len(didit_mock.sessions.list()) == n
    assert [e["status"] for e in didit_mock.requests(path="/v3/session/")] == [201] * n
'''

SUITE_TESTS = 8
#: Inner runs load the plugin through its entry point; unrelated heavy plugins stay out for speed.
INNER_ARGS = ("-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:faker",
              "-p", "no:anyio", "-q")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIDIT_MOCK_URL", raising=False)
    monkeypatch.delenv("DIDIT_MOCK_ADMIN_TOKEN", raising=False)


@pytest.fixture(scope="module")
def shared_server() -> Iterator[MockServer]:
    """A server with the default (real) clock and an admin token, as a CI service would run."""
    with MockServer(admin_token="ci-token") as running:
        yield running


def test_suite_and_readme_example_run_against_an_in_process_server(
    pytester: pytest.Pytester, clean_env: None
) -> None:
    pytester.makepyfile(test_user_suite=USER_SUITE, myapp=EXAMPLE_APP, test_myapp=EXAMPLE_TESTS)
    result = pytester.runpytest_subprocess(*INNER_ARGS)
    result.assert_outcomes(passed=SUITE_TESTS + EXAMPLE_TESTS_COUNT)


def test_suite_runs_against_a_server_at_DIDIT_MOCK_URL(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared_server: MockServer
) -> None:
    before = len(shared_server.registry.tenants())
    monkeypatch.setenv("DIDIT_MOCK_URL", shared_server.url)
    monkeypatch.setenv("DIDIT_MOCK_ADMIN_TOKEN", "ci-token")
    pytester.makepyfile(test_user_suite=USER_SUITE)
    result = pytester.runpytest_subprocess(*INNER_ARGS)
    result.assert_outcomes(passed=SUITE_TESTS)
    assert len(shared_server.registry.tenants()) >= before + SUITE_TESTS
    # every tenant was reset after its test
    assert all(len(t.component(_session_book())) == 0 for t in shared_server.registry.tenants())


def test_xdist_workers_share_one_server_without_interfering(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared_server: MockServer
) -> None:
    monkeypatch.setenv("DIDIT_MOCK_URL", shared_server.url)
    monkeypatch.setenv("DIDIT_MOCK_ADMIN_TOKEN", "ci-token")
    pytester.makepyfile(test_parallel='''
import os

import pytest


@pytest.mark.parametrize("n", range(1, 13))
def test_counts_only_its_own_sessions(didit_mock, n):
    assert os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw")
    for i in range(n):
        didit_mock.create_session(vendor_data=f"user-{i}-{n}")
        didit_mock.advance(1)
    assert didit_mock.sessions.count() == n
    assert len(didit_mock.sessions.list(limit=100)) == n
''')
    result = pytester.runpytest_subprocess(*INNER_ARGS, "-n", "2")
    result.assert_outcomes(passed=12)


def test_without_an_admin_token_a_guarded_server_refuses_the_fixture(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, shared_server: MockServer
) -> None:
    monkeypatch.setenv("DIDIT_MOCK_URL", shared_server.url)
    monkeypatch.delenv("DIDIT_MOCK_ADMIN_TOKEN", raising=False)
    pytester.makepyfile(test_guarded="def test_needs_token(didit_mock):\n    pass\n")
    result = pytester.runpytest_subprocess(*INNER_ARGS)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*Admin token required*"])


def test_importing_the_plugin_is_cheap() -> None:
    probe = ("import sys, didit_mock.pytest_plugin; "
             "print(sorted(m for m in ('httpx', 'starlette', 'uvicorn', 'pydantic', 'faker', 'didit_mock.app') "
             "if m in sys.modules))")
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def _session_book():  # type: ignore[no-untyped-def]
    from didit_mock.domain.sessions import SessionBook

    return SessionBook


# ---------------------------------------------------------------- DiditMock without pytest's fixture

@pytest.fixture
def mock(server: MockServer) -> Iterator[DiditMock]:
    handle = DiditMock.new_tenant(server.url)
    yield handle
    handle.cleanup()


def test_helpers_drive_the_clock(mock: DiditMock) -> None:
    frozen = mock.set_time("2030-02-03T04:05:06Z")
    assert frozen.isoformat() == "2030-02-03T04:05:06+00:00"
    assert (mock.advance(90) - frozen).total_seconds() == 90
    assert mock.now() == frozen.replace(second=36, minute=6)
    assert mock.freeze() == mock.now()


def test_helpers_for_sessions(mock: DiditMock) -> None:
    session = mock.create_session(vendor_data="helper")
    assert mock.sessions.all()[0]["session_id"] == session["session_id"]
    assert mock.sessions.get(session["session_id"])["status"] == "Not Started"
    assert mock.force_status(session["session_id"], "In Review")["status"] == "In Review"
    assert mock.decision(session["session_id"])["status"] == "In Review"
    other = mock.sessions.create()
    decision = mock.complete(other["session_id"], "Declined")
    assert decision["status"] == "Declined"
    assert [r["session_id"] for r in mock.sessions.list(status="Declined")] == [other["session_id"]]
    with pytest.raises(DiditMockError) as refused:
        mock.complete(other["session_id"], "Approved")
    assert refused.value.response.status_code == 400


def test_helpers_for_the_journal_and_limits(mock: DiditMock) -> None:
    mock.create_session()
    assert [r["path"] for r in mock.requests(method="POST", path="/v3/")] == ["/v3/session/"]
    assert mock.clear_requests() >= 1
    assert mock.requests() == []
    state = mock.ratelimits(scale=0.01, consume={"generic-get": 6})
    assert state["scopes"]["generic-get"]["remaining"] == 0
    assert mock.http.get("/v3/sessions/").status_code == 429
    assert mock.ratelimits()["scale"] == 0.01


def test_otp_code_reads_the_phone_and_email_codes(mock: DiditMock) -> None:
    phone = "+14155550123"
    sent = mock.http.post("/v3/phone/send/", json={"phone_number": phone})
    assert sent.status_code == 200, sent.text
    code = mock.otp_code(phone)
    checked = mock.http.post("/v3/phone/check/", json={"phone_number": phone, "code": code})
    assert checked.json()["status"] == "Approved"
    address = "someone@example.com"
    assert mock.http.post("/v3/email/send/", json={"email": address}).status_code == 200
    assert mock.otp(address)["code"] == mock.otp_code(address)
    with pytest.raises(DiditMockError):
        mock.otp_code("+14155550999")


def test_blocklist_helper(mock: DiditMock) -> None:
    session = mock.create_session()
    mock.complete(session["session_id"], "Approved")
    assert "message" in mock.blocklist.add(session["session_id"], face=True, document=True)
    listed = mock.blocklist.list()
    assert {item["type"] for item in listed} == {"face", "document"}
    assert [i["type"] for i in mock.blocklist.list("face")] == ["face"]
    assert mock.blocklist.remove(session["session_id"], face=True, document=True) == {
        "message": "Successfully removed from blocklist."
    }
    assert mock.blocklist.list() == []


def test_receiver_records_and_verifies_signed_deliveries(mock: DiditMock) -> None:
    with mock.receiver(secret="s3cret") as hook:
        session = mock.create_session()
        mock.complete(session["session_id"], "Approved")
        delivery = hook.wait(timeout=10, status="Approved")
        waited = mock.wait_for_webhook(timeout=10, session_id=session["session_id"], status="Approved")
        assert waited["status"] == "Approved"
        assert mock.webhooks(session_id=session["session_id"])
    assert delivery.method == "POST" and delivery.path == "/webhook"
    assert delivery.headers["content-type"].startswith("application/json")
    assert delivery.verify() and delivery.verify("s3cret") and delivery.verify_v2() and delivery.verify_simple()
    assert not delivery.verify("other-secret")
    assert delivery.json["session_id"] == session["session_id"]
    assert hook.payloads()[-1]["status"] == "Approved"
    with pytest.raises(TimeoutError):
        mock.wait_for_webhook(timeout=0.2, session_id=session["session_id"], status="Declined")


def test_receiver_can_refuse_deliveries_and_times_out() -> None:
    hook = WebhookReceiver("k", status_code=500)
    try:
        response = httpx.post(hook.url, content=b'{"a":1}', headers={"X-Signature": sign_body("k", b'{"a":1}')})
        assert response.status_code == 500
        assert hook.deliveries[0].verify()
        with pytest.raises(TimeoutError):
            hook.wait(timeout=0.1, a=2)
        hook.clear()
        assert hook.deliveries == []
    finally:
        hook.stop()
        hook.stop()  # idempotent


def test_load_scenario_sends_the_yaml_text(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"loaded": 1})

    handle = DiditMock("http://mock.invalid", "sk_test_x", admin_token="tok")
    handle.http = httpx.Client(base_url="http://mock.invalid", headers=handle.http.headers,
                               transport=httpx.MockTransport(answer))
    scenario = "rules:\n  - match: {vendor_data: vip}\n    outcome: Approved\n"
    file = tmp_path / "vip.yaml"
    file.write_text(scenario)
    assert handle.load_scenario(scenario) == {"loaded": 1}
    assert handle.load_scenario(file) == {"loaded": 1}
    assert handle.load_scenario(str(file)) == {"loaded": 1}
    for request in seen:
        assert (request.method, request.url.path) == ("PUT", "/_mock/scenarios")
        assert request.headers["content-type"] == "application/yaml"
        assert request.headers["x-api-key"] == "sk_test_x" and request.headers["x-admin-token"] == "tok"
        assert request.content.decode() == scenario
    handle.close()


def test_application_id_and_tenant_view(mock: DiditMock, server: MockServer) -> None:
    view = mock.tenant()
    assert mock.application_id == view["application_id"]
    assert server.registry.get(mock.api_key).application_id == view["application_id"]
    created = create_session(httpx.Client(base_url=mock.base_url, headers=mock.headers))
    assert mock.sessions.count() == 1
    mock.reset()
    assert mock.sessions.count() == 0
    assert json.loads(json.dumps(created))["session_id"]


# ---------------------------------------------------------------- the README's worked example

#: The worked example of the harness README (`myapp.py`), kept here so that it is run.
EXAMPLE_APP = '''
"""A small app that verifies its users with Didit."""

import hashlib
import hmac
import json

import httpx

KYC_WORKFLOW = "d1d17000-0000-4000-8000-000000000001"


class Verifier:
    def __init__(self, base_url: str, api_key: str, webhook_secret: str):
        self.http = httpx.Client(base_url=base_url, headers={"x-api-key": api_key}, timeout=10)
        self.webhook_secret = webhook_secret
        self.status_by_user: dict[str, str] = {}

    def start_verification(self, user_id: str) -> str:
        """Create a Didit session for the user; returns the URL to send them to."""
        response = self.http.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW, "vendor_data": user_id})
        response.raise_for_status()
        session = response.json()
        self.status_by_user[user_id] = session["status"]
        return session["url"]

    def handle_webhook(self, raw_body: bytes, headers: dict[str, str]) -> int:
        """The webhook endpoint: check X-Signature, record the user's new status; returns the HTTP status."""
        expected = hmac.new(self.webhook_secret.encode(), raw_body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("x-signature", "")):
            return 401
        event = json.loads(raw_body)
        if event["webhook_type"] == "status.updated" and event.get("vendor_data"):
            self.status_by_user[event["vendor_data"]] = event["status"]
        return 200
'''

#: Its tests (`test_myapp.py`), using only the `didit_mock` fixture.
EXAMPLE_TESTS = '''
import json

import httpx
import pytest

from myapp import Verifier


@pytest.fixture
def verifier(didit_mock):
    """The app under test, pointed at this test's own didit-mock tenant."""
    return Verifier(didit_mock.base_url, didit_mock.api_key, webhook_secret="test-secret")


def test_approved_user(didit_mock, verifier):
    url = verifier.start_verification("user-42")
    assert "/session/" in url
    [session] = didit_mock.sessions.all(vendor_data="user-42")
    with didit_mock.receiver(secret="test-secret") as hook:
        didit_mock.complete(session["session_id"], "Approved")
        delivery = hook.wait(status="Approved", vendor_data="user-42")
    assert delivery.verify()
    assert verifier.handle_webhook(delivery.body, delivery.headers) == 200
    assert verifier.status_by_user["user-42"] == "Approved"


def test_webhook_with_a_wrong_signature_is_refused(didit_mock, verifier):
    verifier.start_verification("user-1")
    [session] = didit_mock.sessions.all(vendor_data="user-1")
    with didit_mock.receiver(secret="not-the-apps-secret") as hook:
        didit_mock.complete(session["session_id"], "Declined")
        delivery = hook.wait(status="Declined")
    assert verifier.handle_webhook(delivery.body, delivery.headers) == 401
    assert verifier.status_by_user["user-1"] == "Not Started"


def test_unused_link_expires_after_seven_days(didit_mock, verifier):
    didit_mock.freeze()
    verifier.start_verification("slow-user")
    didit_mock.advance(7 * 24 * 3600)
    [session] = didit_mock.sessions.all(vendor_data="slow-user")
    assert session["status"] == "Expired"


def test_rate_limited_app_sees_retry_after(didit_mock, verifier):
    didit_mock.freeze()
    didit_mock.ratelimits(consume={"session-create": 600})
    with pytest.raises(httpx.HTTPStatusError) as refused:
        verifier.start_verification("user-9")
    assert refused.value.response.status_code == 429
    assert refused.value.response.headers["Retry-After"] == "60"
    didit_mock.advance(60)
    verifier.start_verification("user-9")


def test_the_journal_shows_what_the_app_sent(didit_mock, verifier):
    verifier.start_verification("user-7")
    [call] = didit_mock.requests(method="POST", path="/v3/session/")
    assert json.loads(call["request_body"])["vendor_data"] == "user-7"
    assert call["status"] == 201
'''

EXAMPLE_TESTS_COUNT = 5
