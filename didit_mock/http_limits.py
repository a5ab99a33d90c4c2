"""Limits on the request head, kept by the HTTP protocol before the app sees a request.

uvicorn's httptools protocol reads request heads of any size and any number of headers.
`HeadLimitedProtocol` (with the limits of `Settings`, see `http_protocol`) refuses, with
`431 {"detail": "..."}` and a closed connection:

* a request line and headers larger than `Settings.max_header_bytes` in all, counted as the
  bytes arrive (a single endless header is cut off, not buffered);
* more than `Settings.max_headers` header fields;

whichever of the two the head passes first. Trailer fields after a chunked body count with the head.

A head that takes longer than `Settings.head_timeout` seconds to arrive in all (a client sending
it a byte at a time) gets `408 {"detail": "..."}`; a connection that sends nothing at all for
as long is closed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_TOO_LARGE = "Request header fields too large: the request line and headers may take {limit} bytes in all."
TOO_MANY_HEADERS = "Too many request header fields: at most {limit} are accepted."
HEAD_TIMEOUT = "Request timeout: the request line and headers did not arrive within {limit:g} seconds."


class _HeadRefused(Exception):
    """Raised from a parser callback to stop reading the head (the protocol answers 431)."""


class HeadLimitedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing request heads past `max_head_bytes` or `max_headers`."""

    max_head_bytes = 64 * 1024
    max_headers = 100
    head_timeout = 10.0

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._in_head = False
        self._raw_head = 0  # bytes of earlier chunks since the head began (an upper bound of its size)
        self._chunk = 0  # the size of the chunk being parsed
        self._head_fields = 0  # the fields of the current request's head (more are trailers)
        self._refusal: str | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_began = 0.0  # the loop time the current head began at

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()  # a connection that never sends a head is not kept either

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return
        self._chunk = len(data)
        super().data_received(data)
        if self._refusal is not None:
            return
        if self._in_head:  # a head still arriving: no waiting for its end
            self._raw_head += len(data)
            refusal = self._over_limits()
            if refusal is None and self._raw_head > self.max_head_bytes:
                refusal = HEAD_TOO_LARGE.format(limit=self.max_head_bytes)
        elif self.headers is not None and len(self.headers) > self._head_fields:
            # trailers after a chunked body count with the head (no headers yet: empty lines before a request)
            refusal = self._over_limits()
        else:
            return
        if refusal is not None:
            self._refuse(refusal)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._raw_head = 0
        self._head_began = self.loop.time()
        if self._head_timer is None:  # a timer still pending from an earlier head watches this one too
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        """The head's limits, checked once it is whole (a head spread over chunks is watched as it comes)."""
        # The head timer is left to run out: one timer serves every head of a busy connection.
        self._in_head = False
        self._head_fields = len(self.headers)
        # Only a head that may pass a limit (with what came before it in this chunk) is measured.
        if self._head_fields > self.max_headers or self._raw_head + self._chunk > self.max_head_bytes:
            self._refusal = self._over_limits()
            if self._refusal is not None:
                raise _HeadRefused()
        super().on_headers_complete()

    def _over_limits(self) -> str | None:
        """The refusal of the first limit the parsed head passes, field by field, or None.

        Sizes are of the request line and the fields as parsed (uvicorn strips the spaces around a
        value); a head still arriving is also held to its raw size in `data_received`.
        """
        size = len(self.url)
        if size > self.max_head_bytes:  # the request line alone
            return HEAD_TOO_LARGE.format(limit=self.max_head_bytes)
        for count, (name, value) in enumerate(self.headers, 1):
            size += len(name) + len(value) + 4
            if count > self.max_headers:
                return TOO_MANY_HEADERS.format(limit=self.max_headers)
            if size > self.max_head_bytes:
                return HEAD_TOO_LARGE.format(limit=self.max_head_bytes)
        return None

    def _arm_head_timer(self, seconds: float | None = None) -> None:
        if self.head_timeout:
            self._head_timer = self.loop.call_later(seconds or self.head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        """408 for a head still arriving; a connection that sent nothing is just closed."""
        self._head_timer = None
        if self.transport.is_closing() or self._refusal is not None:
            return
        if self._in_head:
            left = self._head_began + self.head_timeout - self.loop.time()
            if left > 0:  # the timer was armed for an earlier head: watch this one to its own end
                self._arm_head_timer(left)
                return
            self._refuse(HEAD_TIMEOUT.format(limit=self.head_timeout), status=b"408 Request Timeout")
        elif self.cycle is None:  # not a byte since the connection opened
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error: ours when the error is a refused head."""
        if self._refusal is not None:
            self._refuse(self._refusal)
        else:
            super().send_400_response(msg)

    def _refuse(self, detail: str, status: bytes = b"431 Request Header Fields Too Large") -> None:
        self._refusal = detail
        self._in_head = False
        self._disarm_head_timer()
        body = json.dumps({"detail": detail}).encode("utf-8")
        head = (b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\nconnection: close\r\n\r\n")
        if not self.transport.is_closing():
            self.transport.write(head + body)
            self.transport.close()
