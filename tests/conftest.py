"""Shared fixtures: one in-process server for the run, a fresh tenant (API key) per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from didit_mock.server import MockServer

KYC_WORKFLOW = "d1d17000-0000-4000-8000-000000000001"


@pytest.fixture(scope="session")
def server() -> Iterator[MockServer]:
    """One didit-mock for the whole run; tenant clocks start frozen so tests move time by hand."""
    with MockServer(freeze_clock=True, seed=1234) as running:
        yield running


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
