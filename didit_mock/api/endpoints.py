"""Route handlers as lean ASGI apps: one `Request`, one call, one response.

Starlette wraps each function endpoint in a layer that looks up exception handlers and watches
`send` on every request. Here what a handler raises goes to the router (`api/router.py`), which
renders Didit's errors in one place for every route.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

Handler = Callable[[Request], Awaitable[Response]]


class Endpoint:
    """An `async def handler(request) -> Response` as an ASGI app."""

    __slots__ = ("handler",)

    def __init__(self, handler: Handler):
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(Request(scope, receive, send))
        await response(scope, receive, send)


def use_lean_endpoints(routes: Iterable[BaseRoute]) -> None:
    """Serve every route whose endpoint is an `async def` function through `Endpoint`."""
    for route in routes:
        endpoint: Any = getattr(route, "endpoint", None)
        if isinstance(route, Route) and inspect.isfunction(endpoint) and inspect.iscoroutinefunction(endpoint):
            route.app = Endpoint(endpoint)
