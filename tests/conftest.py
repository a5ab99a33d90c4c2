"""Shared fixtures: one in-process server for the run, a fresh tenant (API key) per test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from didit_mock.server import MockServer

KYC_WORKFLOW = "d1d17000-0000-4000-8000-000000000001"
#: Parts of spec violations the suite's answers may show, each with the reason it is allowed.
WAIVED_VIOLATIONS: dict[str, str] = {
    'is not a "date-time"': "Didit's own examples send these times without a UTC offset; the mock sends what Didit "
                            "sends",
    "/verified_at: null is not of type": "an OTP verification that is not verified has no time; the spec's schema "
                                         "lacks `nullable`",
    ": metadata: ": "metadata echoes the caller's own JSON value, whatever its shape, as Didit does",
    'compliance_email: "" is not a "email"': "a new Travel Rule settings row has an empty compliance_email, as in "
                                              "Didit's own example",
    ': callback: "https://app.': "tests send callbacks with quotes to check escaping; Django's URL validator "
                                 "accepts them, the `uri` format does not",
    "toggle-ongoing-monitoring/ 200: <root>: ": "the console toggles' documented 200 is a `oneOf` whose branches "
                                              "require no field, so every answer matches both; "
                                              "tests/test_aml_monitoring.py checks each answer against its branch",
    "subscribed_events: [] has less than 1 item": "a destination may subscribe to nothing (the mock's choice, see "
                                                  "docs/webhooks.md)",
}


@pytest.fixture(scope="session")
def server() -> Iterator[MockServer]:
    """One didit-mock for the whole run; tenant clocks start frozen so tests move time by hand."""
    with MockServer(freeze_clock=True, seed=1234, validate_responses=True) as running:
        yield running
    violations = running.app.api.check.violations if running.app.api.check else []
    known = [v for v in violations if not any(part in v for part in WAIVED_VIOLATIONS)]
    assert not known, "answers that break Didit's spec:\n" + "\n".join(known)


def new_key(prefix: str = "sk_test_") -> str:
    return prefix + uuid.uuid4().hex


@pytest.fixture
def api_key() -> str:
    return new_key()


@pytest.fixture
def client(server: MockServer, api_key: str) -> Iterator[httpx.Client]:
    """An HTTP client speaking for a fresh sandbox tenant."""
    with httpx.Client(base_url=server.url, headers={"x-api-key": api_key}, timeout=10) as http:
        yield http


@pytest.fixture
def anon(server: MockServer) -> Iterator[httpx.Client]:
    """An HTTP client with no API key."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


def create_session(client: httpx.Client, **fields: object) -> dict:
    body = {"workflow_id": KYC_WORKFLOW, **fields}
    response = client.post("/v3/session/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def complete(client: httpx.Client, session_id: str, status: str | None = "Approved", **features: object) -> dict:
    """Finish a session through `/_mock/sessions/{id}/complete` (`status=None`: the sandbox outcome)."""
    body: dict = {"status": status}
    if features:
        body["features"] = features
    response = client.post(f"/_mock/sessions/{session_id}/complete", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def advance(client: httpx.Client, seconds: float) -> None:
    response = client.post("/_mock/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


#: The instant `twice_from_scratch` starts each run at.
FIXED_NOW = "2026-03-01T10:00:00Z"


def twice_from_scratch(server: MockServer, api_key: str, run: Callable[[httpx.Client], Any]) -> list[Any]:
    """`run`'s result, twice, each time on the key's tenant reset and its clock frozen at `FIXED_NOW`
    (for asserting that the same calls give the same answers on the same seed)."""
    answers = []
    for _ in range(2):
        with httpx.Client(base_url=server.url, headers={"x-api-key": api_key}) as http:
            http.post("/_mock/reset")
            http.post("/_mock/clock/freeze")
            assert http.post("/_mock/clock/set", json={"now": FIXED_NOW}).status_code == 200
            answers.append(run(http))
    return answers
