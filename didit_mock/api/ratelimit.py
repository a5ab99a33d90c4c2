"""The rate-limit gate: an ASGI middleware that admits or refuses each business API request.

It runs before routing, so a refused request reaches no handler and changes no state. Requests
without an accepted `x-api-key` pass through (their auth error comes from the route).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ..domain.errors import RateLimited
from ..domain.ratelimit import install_hooks, is_limited_path, limiter
from .auth import API_KEY_HEADER
from .http import json_response


class RateLimitMiddleware:
    """Count every `/v2/` and `/v3/` request of a tenant in its scopes; answer 429 when one is full."""

    def __init__(self, app: ASGIApp):
        self.app = app
        install_hooks()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_limited_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        api_key = Headers(scope=scope).get(API_KEY_HEADER, "").strip()
        tenant = scope["app"].state.registry.get(api_key) if api_key else None
        if tenant is not None:
            try:
                limiter(tenant).admit(scope["method"], scope["path"])
            except RateLimited as refused:
                response = json_response(refused.body, refused.status_code, headers=refused.headers)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
