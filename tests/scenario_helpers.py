"""Helpers of the scenario tests: load scenarios over HTTP, wait boundedly, receive webhooks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeVar

import httpx

from didit_mock.server import free_port
from didit_mock.testing import QuietHTTPServer

KYC = "d1d17000-0000-4000-8000-000000000001"
ADDRESS = "d1d17000-0000-4000-8000-000000000004"
WAIT = 8.0  # seconds: every wait is bounded

T = TypeVar("T")


def put_scenario(client: httpx.Client, text: str, content_type: str = "application/yaml") -> dict[str, Any]:
    response = client.put("/_mock/scenarios", content=text.encode("utf-8"), headers={"content-type": content_type})
    assert response.status_code == 200, response.text
    return response.json()


def scenarios_view(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/_mock/scenarios")
    assert response.status_code == 200, response.text
    return response.json()


def new_session(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = client.post("/v3/session/", json={"workflow_id": KYC, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def decision(client: httpx.Client, session_id: str) -> dict[str, Any]:
    response = client.get(f"/v3/session/{session_id}/decision/")
    assert response.status_code == 200, response.text
    return response.json()


def advance(client: httpx.Client, seconds: float) -> None:
    response = client.post("/_mock/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


def wait_until(probe: Callable[[], T | None], what: str, timeout: float = WAIT) -> T:
    """Poll `probe` (a bounded loop) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def wait_webhook(client: httpx.Client, **filters: Any) -> dict[str, Any]:
    """The first delivery attempt matching `filters` (GET /_mock/webhooks/wait, bounded)."""
    response = client.get("/_mock/webhooks/wait", params={**filters, "timeout": WAIT}, timeout=WAIT + 5)
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- a webhook receiver

@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A loopback HTTP server that records every POST and answers 200."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = QuietHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


@contextmanager
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.thread.start()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()
