"""Shared fixtures for real-browser tests: headless Debian Chromium driven by Playwright.

Use them from a test module (or a conftest) with::

    pytest_plugins = ["tests.browser"]

    @pytest.mark.browser
    def test_something(page, server): page.goto(server.url + "/...")

Fixtures:
- `browser` (session): one headless Chromium for the run. Chromium is NOT downloaded by Playwright:
  the Debian package at /usr/bin/chromium (or `$DIDIT_MOCK_CHROMIUM`) is used, and its absence is a
  test FAILURE with instructions, never a skip (scripts/test installs it).
- `page` (function): a fresh browser context and page. Requests to anything but loopback hosts are
  blocked and reported as a failure at teardown, so pages can never depend on a CDN or the internet.
- `phone` (function): the same on a 390x844 mobile viewport.
- `receiver` (function): a tiny HTTP server on a loopback port that answers 200 to every GET and
  POST and records them; use it as a callback landing page or a webhook destination.
- `artifacts_dir`: test-artifacts/ (git-ignored) for screenshots.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from didit_mock.testing import QuietHTTPServer

CHROMIUM = os.environ.get("DIDIT_MOCK_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DEFAULT_TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium (Debian's) for the whole run; missing Chromium fails loudly."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Browser tests need Debian's chromium: run "
            "`apt-get install -y chromium` (scripts/test does this) or point DIDIT_MOCK_CHROMIUM at a binary.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh context and page; any request to a non-loopback host is blocked and fails the test."""
    with loopback_page(browser, viewport={"width": 1100, "height": 900}) as opened:
        yield opened


#: A phone's screen (an iPhone 12 to 15 in CSS pixels), touch and mobile viewport rules included.
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """Like `page`, on a phone-sized mobile viewport (390x844)."""
    with loopback_page(browser, **PHONE) as opened:
        yield opened


@contextmanager
def loopback_page(browser: Browser, **options: Any) -> Iterator[Page]:
    """A page in a new context made with `options`; a request off the loopback fails the test."""
    context = browser.new_context(locale="en-US", **options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    external: list[str] = []

    def guard(route: Route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host in LOOPBACK_HOSTS or host.startswith("127."):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert not external, f"the page tried to reach the network outside loopback: {external}"


@dataclass
class Hit:
    """One request the receiver got."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A loopback HTTP server that answers 200 to everything and records each request."""

    url: str
    hits: list[Hit] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def record(self, hit: Hit) -> None:
        with self.arrived:
            self.hits.append(hit)
            self.arrived.notify_all()

    def wait_for(self, method: str, path: str, timeout: float = 10.0) -> Hit:
        """The first request with this method and path, waiting up to `timeout` seconds for it."""

        def match() -> Hit | None:
            return next((h for h in self.hits if h.method == method and h.path == path), None)

        with self.arrived:
            if not self.arrived.wait_for(lambda: match() is not None, timeout):
                raise AssertionError(f"no {method} {path} within {timeout}s; got {[(h.method, h.path) for h in self.hits]}")
            hit = match()
            assert hit is not None
            return hit


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A recording HTTP server on a free loopback port (GET: a tiny HTML page; POST: `{"ok": true}`)."""
    server: QuietHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, content_type: str, body: bytes) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            received = self.rfile.read(length) if length else b""
            state.record(Hit(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), received))
            self.send_response(200)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer("text/html; charset=utf-8", b"<!doctype html><title>Callback</title><h1>Back in the app</h1>")

        def do_POST(self) -> None:  # noqa: N802
            self._answer("application/json", b'{"ok": true}')

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (silence the access log)
            pass

    server = QuietHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, name="test-receiver", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """test-artifacts/ at the project root (git-ignored), created on demand."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
