"""What a connection writes during one turn of the event loop, gathered into one write.

uvicorn writes a response's head as soon as the app starts the response, and its body when it
comes, each straight to the socket. Every write to a client that is waiting on its socket wakes it:
two wake-ups per response, and one per response of every other connection answered in the same
turn of the loop. `GatheredWrites` keeps a connection's writes until the end of the loop's turn
(a callback run before the loop waits for more input) and writes them in one piece: a response
leaves in one packet, and the responses of a busy turn leave back to back, while the clients are
still awake from the first.

Nothing is reordered or delayed past the turn: closing the connection, or the client's end of
sending (a half-close), writes what is gathered first, and an interim `100 Continue` leaves at the
end of the turn it was written in, before the server waits for the body it invites.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class GatheredWrites:
    """A connection's transport whose writes leave together at the end of the event loop's turn."""

    __slots__ = ("_transport", "_loop", "_gathered")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport = transport
        self._loop = loop
        self._gathered: list[bytes] = []

    def write(self, data: bytes) -> None:
        if type(data) is not bytes:  # a buffer its owner may change before the turn ends
            data = bytes(data)
        gathered = self._gathered
        if not gathered:
            self._loop.call_soon(self.flush)
        gathered.append(data)

    def writelines(self, pieces: Any) -> None:
        for piece in pieces:
            self.write(piece)

    def flush(self) -> None:
        """Write what is gathered, in one piece (nothing once the connection is closing)."""
        gathered = self._gathered
        if gathered:
            self._gathered = []
            if not self._transport.is_closing():
                self._transport.write(gathered[0] if len(gathered) == 1 else b"".join(gathered))

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._gathered = []
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._gathered))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GatheringProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing through `GatheredWrites`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = GatheredWrites(transport, self.loop)  # type: ignore[assignment]

    def eof_received(self) -> None:
        """The client stopped sending: the connection closes, after what is gathered has left."""
        self.transport.flush()  # type: ignore[attr-defined]
        super().eof_received()
