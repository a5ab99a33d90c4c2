"""The server's HTTP protocol: uvicorn's httptools protocol with limits on request heads
(`http_limits`) and a connection's writes gathered per turn of the event loop (`http_writes`)."""

from __future__ import annotations

from .http_limits import HeadLimitedProtocol
from .http_writes import GatheringProtocol
from .settings import Settings


def server_protocol(settings: Settings) -> type[HeadLimitedProtocol]:
    """The protocol class uvicorn serves with (its `http` setting), with the head limits of `settings`."""
    return type("DiditHttpProtocol", (GatheringProtocol, HeadLimitedProtocol), {
        "max_head_bytes": settings.max_header_bytes,
        "max_headers": settings.max_headers,
        "head_timeout": settings.head_timeout,
    })
