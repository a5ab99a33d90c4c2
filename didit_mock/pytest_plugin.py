"""pytest plugin (entry point `didit_mock`): a didit-mock for the run and a fresh tenant per test.

* `didit_mock_server` (session scope): starts one in-process server on a free loopback port, or,
  when `DIDIT_MOCK_URL` is set, uses the server running there (a container, a shared instance
  for pytest-xdist workers). `DIDIT_MOCK_ADMIN_TOKEN` is sent when the server needs one.
* `didit_mock` (function scope): a `didit_mock.testing.DiditMock` for a new tenant with its own
  API key, reset after the test. Options for the tenant come from the `didit_mock` marker:
  `@pytest.mark.didit_mock(environment="live", frozen=True, rate_limit_scale=0.01)`.

Importing this module is cheap: the server and the HTTP client load when a fixture is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .testing import DiditMock, ServerHandle

URL_ENV = "DIDIT_MOCK_URL"
ADMIN_TOKEN_ENV = "DIDIT_MOCK_ADMIN_TOKEN"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "didit_mock(**options): options of the test's didit-mock tenant (environment, frozen, seed, "
        "clock_start, strict_workflows, credits, rate_limits, rate_limit_scale, decision_rate_limit)",
    )


@pytest.fixture(scope="session")
def didit_mock_server() -> Iterator[ServerHandle]:
    """The didit-mock of this test run: `DIDIT_MOCK_URL` if set, else an in-process server."""
    from .testing import ServerHandle

    admin_token = os.environ.get(ADMIN_TOKEN_ENV) or None
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        yield ServerHandle(url.rstrip("/"), admin_token)
        return
    from .server import MockServer
    from .settings import Settings

    settings = Settings.from_env(host="127.0.0.1", port=0)
    with MockServer(settings) as server:
        yield ServerHandle(server.url, server.settings.admin_token, server)


@pytest.fixture
def didit_mock(didit_mock_server: ServerHandle, request: pytest.FixtureRequest) -> Iterator[DiditMock]:
    """A fresh tenant of the didit-mock with its own API key; reset after the test."""
    marker = request.node.get_closest_marker("didit_mock")
    options = dict(marker.kwargs) if marker is not None else {}
    mock = didit_mock_server.new_tenant(**options)
    try:
        yield mock
    finally:
        mock.cleanup()
