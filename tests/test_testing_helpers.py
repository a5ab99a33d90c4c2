"""The `didit_mock.testing` helpers as a test suite meets them: messages, headers, webhooks, `complete`."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from didit_mock.server import MockServer
from didit_mock.testing import DiditMock, DiditMockError

ROOT = Path(__file__).resolve().parents[1]
WAIT = 10.0


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(warm_up=False) as running:
        yield running


@pytest.fixture
def mock(server: MockServer) -> Iterator[DiditMock]:
    handle = DiditMock.new_tenant(server.url)
    try:
        yield handle
    finally:
        handle.cleanup()


def _python_blocks(markdown: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown.read_text("utf-8"), flags=re.S)


def _one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text and "<" not in text and "{" not in text, text
    return text


# ---------------------------------------------------------------- complete()

def test_complete_on_a_not_started_session_sends_in_progress_then_the_outcome(mock: DiditMock) -> None:
    session = mock.create_session()
    with mock.receiver() as hook:
        mock.complete(session["session_id"], "Declined")
        hook.wait(WAIT, status="Declined")
        statuses = [p["status"] for p in hook.payloads() if p["webhook_type"] == "status.updated"]
    assert statuses == ["In Progress", "Declined"]


def test_complete_final_only_sends_the_outcome_alone(mock: DiditMock) -> None:
    session = mock.create_session()
    with mock.receiver() as hook:
        decision = mock.complete(session["session_id"], "Approved", final_only=True)
        hook.wait(WAIT, status="Approved")
        # The receiver sees the payload before the mock has its answer and logs the attempt.
        mock.wait_for_webhook(WAIT, session_id=session["session_id"], status="Approved")
        statuses = [p["status"] for p in hook.payloads() if p["webhook_type"] == "status.updated"]
    assert decision["status"] == "Approved"
    assert statuses == ["Approved"]
    assert [w["status"] for w in mock.webhooks(session_id=session["session_id"])] == ["Approved"]


def test_complete_with_a_non_uuid_is_a_one_line_error_sent_nowhere(mock: DiditMock) -> None:
    with pytest.raises(DiditMockError) as refused:
        mock.complete("not-a-uuid")
    assert _one_line(refused.value) == (
        "complete: 'not-a-uuid' is not a session id (a UUID, such as the session_id of create_session's answer)")
    assert refused.value.response is None
    assert mock.requests(path="/_mock/sessions/") == []


def test_complete_of_an_unknown_session_says_so_in_one_line(mock: DiditMock) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(DiditMockError) as refused:
        mock.complete(missing)
    assert _one_line(refused.value).startswith(f"complete: no session {missing} in this tenant")
    assert refused.value.response is not None and refused.value.response.status_code == 404


def test_a_refused_complete_reads_didits_field_message(mock: DiditMock) -> None:
    session = mock.create_session()
    with pytest.raises(DiditMockError) as refused:
        mock.complete(session["session_id"], "Nope")
    assert _one_line(refused.value).endswith('HTTP 400: status: "Nope" is not a valid choice.')


# ---------------------------------------------------------------- OTP codes

@pytest.mark.parametrize("target", ["+14155550188", "nobody@example.com"])
def test_otp_code_with_no_code_sent_is_a_one_line_error(mock: DiditMock, target: str) -> None:
    with pytest.raises(DiditMockError) as refused:
        mock.otp_code(target)
    assert _one_line(refused.value).startswith(f"no OTP code has been sent to {target} in this tenant")


# ---------------------------------------------------------------- the delivery log

def test_webhooks_is_the_results_list_of_the_log(mock: DiditMock) -> None:
    session = mock.create_session()
    with mock.receiver() as hook:
        mock.complete(session["session_id"])
        hook.wait(WAIT, status="Approved")
        mock.wait_for_webhook(WAIT, status="Approved")
    log = mock.webhook_log()
    assert set(log) == {"count", "results", "pending"}
    assert mock.webhooks() == log["results"] and log["count"] == len(log["results"]) == 2


# ---------------------------------------------------------------- received headers

def test_received_headers_are_case_insensitive(mock: DiditMock) -> None:
    session = mock.create_session()
    with mock.receiver(secret="s3cret") as hook:
        mock.complete(session["session_id"])
        delivery = hook.wait(WAIT, status="Approved")
    assert delivery.headers["X-Signature-V2"] == delivery.headers["x-signature-v2"] != ""
    assert delivery.headers.get("X-TIMESTAMP") == str(delivery.json["timestamp"])
    assert "x-signature-simple" in delivery.headers and "X-Signature-Simple" in delivery.headers


def test_the_webhooks_doc_v2_snippet_verifies_a_received_delivery(mock: DiditMock) -> None:
    [snippet] = [b for b in _python_blocks(ROOT / "docs" / "webhooks.md") if "def verify_didit_webhook" in b]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "docs/webhooks.md", "exec"), namespace)
    session = mock.create_session()
    with mock.receiver(secret="s3cret") as hook:
        mock.complete(session["session_id"])
        delivery = hook.wait(WAIT, status="Approved")
    payload = namespace["verify_didit_webhook"](delivery.body, delivery.headers, "s3cret")
    assert payload["status"] == "Approved"
    with pytest.raises(ValueError, match="bad signature"):
        namespace["verify_didit_webhook"](delivery.body, delivery.headers, "another secret")


def test_the_testing_doc_worked_example_checks_x_signature_v2(mock: DiditMock) -> None:
    [app] = [b for b in _python_blocks(ROOT / "docs" / "testing.md") if "# file: myapp.py" in b]
    assert "X-Signature-V2" in app
    namespace: dict[str, Any] = {}
    exec(compile(app, "docs/testing.md", "exec"), namespace)
    verifier = namespace["Verifier"](mock.base_url, mock.api_key, webhook_secret="s3cret")
    verifier.start_verification("user-1")
    [session] = mock.sessions.all(vendor_data="user-1")
    with mock.receiver(secret="s3cret") as hook:
        mock.complete(session["session_id"])
        delivery = hook.wait(WAIT, status="Approved")
    assert verifier.handle_webhook(delivery.body, delivery.headers) == 200
    assert verifier.status_by_user["user-1"] == "Approved"
    assert verifier.handle_webhook(delivery.body.replace(b"Approved", b"Declined"), delivery.headers) == 401


# ---------------------------------------------------------------- a receiver wait that times out

def test_a_timed_out_wait_says_the_receiver_answered_500(mock: DiditMock) -> None:
    session = mock.create_session()
    with mock.receiver(status_code=500) as hook:
        mock.complete(session["session_id"])
        hook.wait(WAIT, status="In Progress")  # the first attempt arrived (and got 500)
        mock.wait_for_webhook(WAIT, status="In Progress", delivered=False)  # the mock logged its answer
        with pytest.raises(TimeoutError) as timed_out:
            hook.wait(0, status="Approved")
    message = str(timed_out.value)
    assert message.startswith(f"no webhook matching {{'status': 'Approved'}} reached {hook.url} within 0 s; ")
    assert "status.updated In Progress: answered 500" in message
    assert "; 2 pending (next at " in message  # the In Progress retry, and the Approved event behind it


def test_a_timed_out_wait_says_the_connection_was_refused(mock: DiditMock) -> None:
    hook = mock.receiver()
    port = int(hook.url.split(":")[2].split("/")[0])
    hook.stop()  # nothing listens there any more
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    session = mock.create_session()
    mock.complete(session["session_id"], final_only=True)
    mock.wait_for_webhook(WAIT, status="Approved", delivered=False)  # the failed attempt is logged
    with pytest.raises(TimeoutError) as timed_out:
        hook.wait(0)
    assert f"status.updated Approved: ConnectError: connection refused to 127.0.0.1:{port}" in str(timed_out.value)


def test_a_timed_out_wait_says_when_the_mock_delivered_elsewhere(mock: DiditMock) -> None:
    hook = mock.receiver()
    mock.set_webhook("http://127.0.0.1:9/elsewhere", "s")
    with pytest.raises(TimeoutError) as timed_out:
        hook.wait(0)
    assert f"the mock has not tried to deliver any webhook to {hook.url}" in str(timed_out.value)
    hook.stop()


# ---------------------------------------------------------------- a sender that hangs up

def test_a_sender_that_hangs_up_prints_nothing(mock: DiditMock, capfd: pytest.CaptureFixture[str]) -> None:
    with mock.receiver() as hook:
        host, port = hook.url.split("/")[2].split(":")
        with socket.create_connection((host, int(port))) as sender:
            sender.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
            sender.shutdown(socket.SHUT_RDWR)  # gone before the answer
        hook.wait(WAIT)
        with httpx.Client() as client:  # the receiver still serves
            assert client.post(hook.url, content=b"{}").status_code == 200
    assert "Exception occurred" not in capfd.readouterr().err
