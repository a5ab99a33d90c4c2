"""Limits a shared instance needs: a cap on tenants, a paged state export, header limits, a body-read timeout."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from didit_mock.domain.errors import DiditError
from didit_mock.domain.tenant import TenantLimitReached, TenantRegistry
from didit_mock.server import MockServer

from .conftest import KYC_WORKFLOW, create_session, new_key


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------- the tenant cap

def test_past_the_cap_the_least_recently_used_idle_tenant_makes_room() -> None:
    wall = Wall()
    registry = TenantRegistry(wall=wall, max_tenants=3, idle_after=60)
    a, b, c = (registry.get(k) for k in ("sk_a", "sk_b", "sk_c"))
    assert a is not None and b is not None and c is not None
    wall.now += 10
    with pytest.raises(TenantLimitReached) as refused:
        registry.get("sk_d")  # every tenant was used in the last minute
    assert refused.value.status_code == 503
    assert "--max-tenants" in refused.value.body["detail"]
    assert refused.value.headers["Retry-After"] == "50"
    assert [t.api_key for t in registry.tenants()] == ["sk_a", "sk_b", "sk_c"]

    wall.now += 60
    assert registry.get("sk_a") is a  # used again: now the most recent
    d = registry.get("sk_d")  # sk_b is the least recently used and idle: it goes
    assert d is not None
    assert [t.api_key for t in registry.tenants()] == ["sk_a", "sk_c", "sk_d"]
    assert registry.by_application(b.application_id) is None
    assert registry.get("sk_e") is not None  # then sk_c, idle as long
    assert [t.api_key for t in registry.tenants()] == ["sk_a", "sk_d", "sk_e"]
    with pytest.raises(TenantLimitReached):
        registry.get("sk_b")  # the rest were used just now: a dropped tenant comes back only with room
    wall.now += 60
    fresh_b = registry.get("sk_b")
    assert fresh_b is not None and fresh_b is not b and fresh_b.application_id == b.application_id  # empty again
    assert [t.api_key for t in registry.tenants()] == ["sk_d", "sk_e", "sk_b"]


def test_a_hosted_page_visit_keeps_its_tenant() -> None:
    wall = Wall()
    registry = TenantRegistry(wall=wall, max_tenants=2, idle_after=60)
    a = registry.get("sk_a")
    assert a is not None
    registry.index_token("tok-a", a)
    registry.get("sk_b")
    wall.now += 61
    assert registry.by_token("tok-a") is a
    registry.get("sk_c")
    assert [t.api_key for t in registry.tenants()] == ["sk_a", "sk_c"]


def test_no_cap_keeps_every_tenant() -> None:
    registry = TenantRegistry(max_tenants=0)
    for n in range(50):
        assert registry.get(f"sk_{n}") is not None
    assert len(registry.tenants()) == 50


@pytest.fixture
def capped() -> Iterator[tuple[MockServer, Wall]]:
    with MockServer(max_tenants=2, freeze_clock=True) as running:
        wall = Wall(time.time())
        running.registry.wall = wall
        yield running, wall


def test_a_full_server_refuses_a_new_key_with_a_clear_error(capped: tuple[MockServer, Wall]) -> None:
    server, wall = capped
    first, second, third = new_key(), new_key(), new_key()
    for key in (first, second):
        with httpx.Client(base_url=server.url, headers={"x-api-key": key}, timeout=10) as http:
            create_session(http)
    refused = httpx.post(server.url + "/v3/session/", json={"workflow_id": KYC_WORKFLOW},
                         headers={"x-api-key": third})
    assert refused.status_code == 503, refused.text
    assert "at most 2 tenants" in refused.json()["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    admin = httpx.get(server.url + "/_mock/tenant", headers={"x-api-key": third})
    assert admin.status_code == 503  # the admin API names tenants the same way
    # The tenants in use are untouched; once the first one is idle, it makes room.
    assert httpx.get(server.url + "/v3/sessions/", headers={"x-api-key": second}).json()["count"] == 1
    wall.now += 61
    assert httpx.get(server.url + "/v3/sessions/", headers={"x-api-key": second}).json()["count"] == 1
    created = httpx.post(server.url + "/v3/session/", json={"workflow_id": KYC_WORKFLOW},
                         headers={"x-api-key": third})
    assert created.status_code == 201, created.text
    kept = [t["api_key"] for t in httpx.get(server.url + "/_mock/state?all=true").json()["tenants"]]
    assert kept == [second, third]


def test_the_cap_is_a_setting() -> None:
    from didit_mock.cli import build_parser
    from didit_mock.settings import Settings

    assert Settings().max_tenants == 10_000
    assert Settings.from_env({"DIDIT_MOCK_MAX_TENANTS": "25"}).max_tenants == 25
    args = build_parser().parse_args(["serve", "--max-tenants", "7"])
    assert args.max_tenants == 7
    assert issubclass(TenantLimitReached, DiditError)


# ---------------------------------------------------------------- request heads

@pytest.fixture(scope="module")
def limited() -> Iterator[MockServer]:
    with MockServer(body_timeout=0.5, head_timeout=0.5, warm_up=False) as running:  # no warm-up thread slowing the 0.5 s heads
        yield running


def exchange(url: str, pieces: list[bytes], wait: float = 5.0) -> tuple[bytes, float]:
    """Send `pieces` on one connection, stopping once the server answers; its answer and how long it took.

    The next piece goes only when the server has not answered the last one within a moment, so no
    unread bytes make the server's close a reset that could swallow its answer.
    """
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        for piece in pieces:
            sock.sendall(piece)
            readable, _, _ = select.select([sock], [], [], 0.05)
            if readable:
                break
        answer = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            answer += chunk
            if b"\r\n\r\n" in answer and answer.split(b"\r\n\r\n", 1)[1].endswith(b"}"):
                break
    return answer, time.monotonic() - started


def detail_of(answer: bytes) -> str:
    return str(json.loads(answer.split(b"\r\n\r\n", 1)[1])["detail"])


def test_a_one_mebibyte_header_is_refused_without_being_read_whole(limited: MockServer) -> None:
    start = b"GET /system/healthcheck HTTP/1.1\r\nHost: x\r\nX-Big: "
    pieces = [start] + [b"a" * 16384] * 64 + [b"\r\n\r\n"]
    answer, _ = exchange(limited.url, pieces)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"connection: close" in answer.lower()
    assert detail_of(answer).startswith("Request header fields too large")


def test_ten_thousand_headers_are_refused(limited: MockServer) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % n for n in range(10_000))
    start = b"GET /system/healthcheck HTTP/1.1\r\nHost: x\r\n"
    pieces = [start] + [headers[i:i + 8192] for i in range(0, len(headers), 8192)] + [b"\r\n"]
    answer, _ = exchange(limited.url, pieces)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert "Too many request header fields" in detail_of(answer)


def test_a_few_more_headers_than_allowed_are_refused_and_the_server_carries_on(limited: MockServer) -> None:
    many = b"".join(b"X-H%d: v\r\n" % n for n in range(limited.settings.max_headers + 1))
    answer, _ = exchange(limited.url, [b"GET /system/healthcheck HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"])
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert "at most 100" in detail_of(answer)
    # Ordinary requests, even with large headers, still pass.
    fine = {f"x-h{n}": "v" * 100 for n in range(limited.settings.max_headers - 10)}
    assert httpx.get(limited.url + "/system/healthcheck", headers=fine).status_code == 200
    big = httpx.get(limited.url + "/system/healthcheck", headers={"x-big": "a" * 32_000})
    assert big.status_code == 200


def test_a_head_sent_whole_over_the_byte_limit_is_refused(limited: MockServer) -> None:
    """Fewer headers than allowed, but more bytes, arriving together with the end of the head."""
    size = limited.settings.max_header_bytes
    fields = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 1000) for n in range(size // 1000 + 5))
    assert fields.count(b"\r\n") < limited.settings.max_headers
    answer, _ = exchange(limited.url, [b"GET /system/healthcheck HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"])
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert detail_of(answer).startswith("Request header fields too large")


def test_a_head_past_both_limits_is_refused_for_the_one_it_passes_first(limited: MockServer) -> None:
    fields = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 1000) for n in range(limited.settings.max_headers + 50))
    answer, _ = exchange(limited.url, [b"GET /system/healthcheck HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"])
    assert answer.startswith(b"HTTP/1.1 431 ") and detail_of(answer).startswith("Request header fields too large")


def test_trailer_fields_after_a_chunked_body_count_with_the_head(limited: MockServer) -> None:
    """Too many trailers close the connection with a 431, as too many fields in the head do."""
    host, port = limited.url.removeprefix("http://").split(":")
    start = b"GET /system/healthcheck HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
    trailers = b"".join(b"X-T%d: v\r\n" % n for n in range(limited.settings.max_headers + 1))
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(start + trailers)
        answer = b""
        while chunk := sock.recv(65536):  # the server closes the connection after its 431
            answer += chunk
    assert b"HTTP/1.1 431 " in answer and b"Too many request header fields" in answer


def test_a_head_that_never_ends_is_answered_408(limited: MockServer) -> None:
    answer, took = exchange(limited.url, [b"GET /system/healthcheck HTTP/1.1\r\nHost: x\r\nX-Slow: "])
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:300]
    assert "did not arrive within 0.5 seconds" in detail_of(answer)
    assert took < 3


def test_a_connection_that_sends_nothing_is_closed(limited: MockServer) -> None:
    host, port = limited.url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        assert sock.recv(100) == b""  # closed without an answer: there was no request to answer
    assert time.monotonic() - started < 3
    # Ordinary requests on a kept-alive connection are not affected.
    with httpx.Client(base_url=limited.url) as http:
        assert http.get("/system/healthcheck").status_code == 200
        assert http.get("/system/healthcheck").status_code == 200


# ---------------------------------------------------------------- the body-read timeout

@pytest.mark.parametrize("path", ["/v3/session/", "/_mock/clock/advance", "hosted page"])
def test_a_body_that_never_arrives_is_answered_408(limited: MockServer, path: str) -> None:
    key = new_key()
    content_type = "application/json"
    if path == "hosted page":  # a form the page's handler reads itself
        with httpx.Client(base_url=limited.url, headers={"x-api-key": key}) as http:
            path = "/session/" + create_session(http)["session_token"]
        content_type = "application/x-www-form-urlencoded"
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: {key}\r\n"
            f"content-type: {content_type}\r\nContent-Length: 100\r\n\r\n{{").encode()
    answer, took = exchange(limited.url, [head])
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:300]
    assert "no part of the request body arrived for 0.5 seconds" in detail_of(answer)
    assert took < 3


def test_a_chunked_body_that_stops_is_answered_408(limited: MockServer) -> None:
    head = (f"PUT /_mock/scenarios HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: {new_key()}\r\n"
            "content-type: application/yaml\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nname:\r\n").encode()
    answer, took = exchange(limited.url, [head])
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:300]
    assert took < 3


def test_a_body_that_arrives_in_pieces_in_time_is_read(limited: MockServer) -> None:
    def pieces() -> Iterator[bytes]:
        yield b'{"workflow_id": '
        yield f'"{KYC_WORKFLOW}"}}'.encode()

    created = httpx.post(limited.url + "/v3/session/", content=pieces(),
                         headers={"x-api-key": new_key(), "content-type": "application/json"})
    assert created.status_code == 201, created.text


def test_head_limits_and_the_body_timeout_are_settings() -> None:
    from didit_mock.settings import Settings

    settings = Settings.from_env({"DIDIT_MOCK_BODY_TIMEOUT": "2.5", "DIDIT_MOCK_MAX_HEADER_BYTES": "9000",
                                  "DIDIT_MOCK_MAX_HEADERS": "20", "DIDIT_MOCK_HEAD_TIMEOUT": "3"})
    assert (settings.body_timeout, settings.max_header_bytes, settings.max_headers) == (2.5, 9000, 20)
    assert settings.head_timeout == 3.0
    defaults = Settings()
    assert (defaults.body_timeout, defaults.head_timeout, defaults.max_header_bytes, defaults.max_headers) == (
        5.0, 10.0, 65536, 100)


# ---------------------------------------------------------------- the paged state export

def test_the_state_of_every_tenant_comes_in_pages() -> None:
    with MockServer(freeze_clock=True) as running:
        keys = [new_key() for _ in range(5)]
        for key in keys:
            with httpx.Client(base_url=running.url, headers={"x-api-key": key}, timeout=10) as http:
                create_session(http, vendor_data=key)
        seen: list[str] = []
        url: str | None = running.url + "/_mock/state?all=true&limit=2"
        pages = []
        while url is not None:
            page = httpx.get(url).json()
            assert page["count"] == 5 and page["format"] == "didit-mock-state"
            assert len(page["tenants"]) <= 2
            seen += [t["api_key"] for t in page["tenants"]]
            pages.append(page)
            url = page["next"]
        assert seen == keys
        assert pages[0]["previous"] is None and pages[1]["previous"] == running.url + "/_mock/state?all=true&limit=2"
        last = httpx.get(running.url + "/_mock/state", params={"all": "true", "limit": 2, "offset": 4}).json()
        assert [t["api_key"] for t in last["tenants"]] == keys[4:] and last["next"] is None
        whole = httpx.get(running.url + "/_mock/state?all=true").json()
        assert "count" not in whole and [t["api_key"] for t in whole["tenants"]] == keys  # unpaged as before
        middle = pages[1]
    with MockServer(freeze_clock=True) as other:  # a page is a state document: it imports as it is
        imported = httpx.put(other.url + "/_mock/state", json=middle)
        assert imported.status_code == 200, imported.text
        assert [t["api_key"] for t in imported.json()["imported"]] == keys[2:4]


# ---------------------------------------------------------------- existence across tenants

def test_a_session_is_looked_up_before_the_key_as_in_didit(client: httpx.Client, anon: httpx.Client) -> None:
    """Decision, delete, PDF and update-status resolve the session first (docs/reliability.md)."""
    session_id = create_session(client)["session_id"]
    unknown = "0f0e0d0c-0b0a-4908-8706-050403020100"
    assert anon.get(f"/v3/session/{unknown}/decision/").status_code == 404
    assert anon.get(f"/v3/session/{session_id}/decision/").status_code == 403
    stranger = anon.get(f"/v3/session/{session_id}/decision/", headers={"x-api-key": new_key()})
    assert stranger.status_code == 404  # another tenant's key sees nothing of it
    assert anon.get(f"/v3/session/{unknown}/decision/", headers={"x-api-key": new_key()}).status_code == 404
