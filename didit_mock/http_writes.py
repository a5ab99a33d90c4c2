"""Each HTTP response written to the connection in one piece.

uvicorn writes a response's head as soon as the app starts the response, and its body when it
comes: two writes, hence two packets and two wake-ups of the client, for answers that are one JSON
document. `OneWriteResponses` holds the head back and writes it with the first part of its body.

Nothing is lost or reordered: a head whose body never comes (the answer to `HEAD`, an app failing
after it started its response) is written when the response completes or the connection closes,
and an interim `100 Continue` goes at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeadWithBody:
    """The connection's transport as uvicorn's responses use it: a response's head waits for its body."""

    __slots__ = ("_transport", "_held", "_at_head")

    def __init__(self, transport: asyncio.Transport):
        self._transport = transport
        self._held: bytes | None = None
        self._at_head = True  # the next write starts a response

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif self._at_head and data[9:10] != b"1":  # `HTTP/1.1 1xx`: an interim answer goes at once
            self._at_head = False
            self._held = data
        else:
            self._transport.write(data)

    def response_complete(self) -> None:
        """The response is whole: what is held goes out, and the next write starts a response."""
        self._at_head = True
        self.flush()

    def flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteResponses(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing each response's head together with its body."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = HeadWithBody(transport)  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        self.transport.response_complete()  # type: ignore[attr-defined]
        super().on_response_complete()
