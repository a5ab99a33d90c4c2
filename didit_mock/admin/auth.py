"""Admin routes of the Auth API emulation: the code "e-mailed" at sign-up, and the accounts' clock.

* `GET /_mock/auth/{email}/code`: `{"email", "code", "expires_at"}` of the pending registration
  (404 when there is none: unknown address, or already verified).
* `POST /_mock/auth/clock/advance {"seconds"}`: move the clock that codes, tokens and lockouts follow
  (accounts live outside any tenant, so they have their own clock).

The accounts are persisted with the tenant each one provisioned (state section `auth_account`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain import accounts
from ..domain.clock import iso
from ..domain.state import StateInvalid, StateSection
from ..handlers.auth import book_of
from ..web.auth import registry_of
from ..web.http import json_response, parse_body


async def auth_code(request: Request) -> Response:
    book = book_of(registry_of(request))
    with book.lock:
        account = book.code_of(request.path_params["email"])
        assert account.code_expires_at is not None
        expires = iso(datetime.fromtimestamp(account.code_expires_at, tz=timezone.utc))
        return json_response({"email": account.email, "code": account.code, "expires_at": expires})


async def auth_clock_advance(request: Request) -> Response:
    from .routes import AdvanceBody  # with the admin routes' models, on first use

    body = await parse_body(request, AdvanceBody)
    book = book_of(registry_of(request))
    book.clock.advance(body.seconds)
    return json_response(book.clock.snapshot())


def _parse(value: Any, path: str) -> accounts.Account | None:
    try:
        return accounts.parse_account(value)
    except ValueError as problem:
        raise StateInvalid(f"{path}: {problem}") from None


AUTH_SECTION = StateSection("auth_account", accounts.export_account, _parse, accounts.restore_account)


routes = [
    Route("/_mock/auth/clock/advance", auth_clock_advance, methods=["POST"]),
    Route("/_mock/auth/{email}/code", auth_code, methods=["GET"]),
]

_OBJECT: dict[str, Any] = {"type": "object"}

#: What the served OpenAPI document says of these routes (merged by `admin.openapi`).
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/_mock/auth/{email}/code"): {
        "summary": "The code e-mailed at programmatic sign-up (404 when no registration is pending)",
        "responses": {200: {"type": "object", "properties": {
            "email": {"type": "string"}, "code": {"type": "string"}, "expires_at": {"type": "string"}},
            "required": ["email", "code", "expires_at"]}},
        "security": None,
    },
    ("POST", "/_mock/auth/clock/advance"): {
        "summary": "Move the clock the sign-up accounts follow (codes, tokens, lockouts)",
        "request": "routes:AdvanceBody", "responses": {200: _OBJECT}, "security": None,
    },
}
