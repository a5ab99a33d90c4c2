"""The server's HTTP protocol over recording transports: writes gathered per turn of the loop, head limits."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from didit_mock.http_protocol import server_protocol
from didit_mock.server import MockServer
from didit_mock.settings import Settings


class RecordingTransport(asyncio.Transport):
    """A connection that records each write (one entry per `write`)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _json_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    if scope["path"] == "/fails-after-start":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        raise RuntimeError("the app failed after starting its response")
    body = b'{"ok":true}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def _served(*chunks: bytes, connections: int = 1) -> list[RecordingTransport]:
    """The writes of the server's protocol to the requests in `chunks` (each chunk one read), sent
    on each of `connections` connections in the same turn of the loop.

    On a loop of its own thread: a browser test's fixture may hold this thread's loop.
    """
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, _serve(chunks, connections)).result()


async def _serve(chunks: tuple[bytes, ...], connections: int) -> list[RecordingTransport]:
    config = uvicorn.Config(_json_app, http=server_protocol(Settings()), lifespan="off", log_level="critical",
                            date_header=False, server_header=False)
    config.load()
    state = ServerState()
    protocols = [config.http_protocol_class(config=config, server_state=state, app_state={})
                 for _ in range(connections)]
    transports = [RecordingTransport() for _ in range(connections)]
    for protocol, transport in zip(protocols, transports, strict=True):
        protocol.connection_made(transport)
    for chunk in chunks:
        for protocol in protocols:
            protocol.data_received(chunk)
        for _ in range(20):  # let the requests' tasks run to their end
            await asyncio.sleep(0)
    for protocol in protocols:
        protocol.connection_lost(None)
    return transports


def test_a_response_is_written_in_one_piece() -> None:
    [transport] = _served(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
    assert len(transport.writes) == 1
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"content-length: 11" in head
    assert body == b'{"ok":true}'


def test_connections_answered_in_one_turn_get_one_write_each() -> None:
    transports = _served(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n", connections=5)
    assert [len(t.writes) for t in transports] == [1] * 5
    assert all(t.writes[0].endswith(b'{"ok":true}') for t in transports)


def test_pipelined_requests_are_answered_whole_and_in_order() -> None:
    [transport] = _served(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
    sent = b"".join(transport.writes)
    assert sent.count(b"HTTP/1.1 200 OK") == 2 and sent.endswith(b'{"ok":true}')
    first, second = sent.split(b"HTTP/1.1 200 OK")[1:]
    assert first.endswith(b'{"ok":true}') and second.endswith(b'{"ok":true}')


def test_a_head_request_gets_its_head_in_one_write() -> None:
    [transport] = _served(b"HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n")
    assert len(transport.writes) == 1
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK") and transport.writes[0].endswith(b"\r\n\r\n")


def test_an_interim_100_continue_leaves_before_the_body_is_awaited() -> None:
    head = b"POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    [transport] = _served(head, b"{}")
    assert transport.writes[0] == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert len(transport.writes) == 2 and transport.writes[1].startswith(b"HTTP/1.1 200 OK")


def test_a_closing_response_is_written_before_the_connection_closes() -> None:
    [transport] = _served(b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert len(transport.writes) == 1 and transport.writes[0].endswith(b'{"ok":true}')
    assert b"connection: close" in transport.writes[0].lower() and transport.closed


def test_a_started_response_that_fails_still_sends_its_head_before_the_cut() -> None:
    [transport] = _served(b"GET /fails-after-start HTTP/1.1\r\nHost: a\r\n\r\n")
    assert transport.writes and transport.writes[0].startswith(b"HTTP/1.1 200 OK")
    assert transport.closed


@pytest.mark.parametrize("extra_headers", [b"", b"Connection: close\r\n"])
def test_a_refused_head_is_still_answered_and_closed(extra_headers: bytes) -> None:
    too_many = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
    [transport] = _served(b"GET /x HTTP/1.1\r\nHost: a\r\n" + extra_headers + too_many + b"\r\n")
    assert len(transport.writes) == 1 and transport.writes[0].startswith(b"HTTP/1.1 431 ")
    assert transport.closed


def test_a_request_line_alone_over_the_byte_limit_is_refused_even_in_one_read() -> None:
    limit = Settings().max_header_bytes
    [transport] = _served(b"GET /x?q=" + b"a" * (limit + 10) + b" HTTP/1.1\r\n\r\n")
    assert len(transport.writes) == 1 and transport.writes[0].startswith(b"HTTP/1.1 431 ")
    assert b"Request header fields too large" in transport.writes[0] and transport.closed


def test_empty_lines_before_a_request_are_skipped() -> None:
    """RFC 9112 section 2.2: a server ignores at least one empty line before a request line."""
    [transport] = _served(b"\r\n", b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n")  # the empty line read alone
    assert len(transport.writes) == 1 and transport.writes[0].startswith(b"HTTP/1.1 200 OK")


@pytest.fixture(scope="module")
def served() -> Iterator[MockServer]:
    with MockServer(warm_up=False) as running:
        yield running


@pytest.mark.parametrize("request_head", [
    b"GET /system/healthcheck HTTP/1.1\r\nHost: a\r\n\r\n",  # keep-alive
    b"GET /system/healthcheck HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"GET /system/healthcheck HTTP/1.0\r\n\r\n",
])
def test_a_client_that_stops_sending_after_its_request_still_gets_the_answer(
        served: MockServer, request_head: bytes) -> None:
    """A half-close (`shutdown(SHUT_WR)`, as `nc -N` does) closes the connection only after the answer."""
    for _ in range(10):
        with socket.create_connection(("127.0.0.1", served.settings.port), timeout=5) as sock:
            sock.sendall(request_head)
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"}"), answer
