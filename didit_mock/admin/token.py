"""The admin token and the dashboard's login cookie: which paths they guard and how they are checked.

Kept apart from the admin routes so that the gateway, which guards every `/_mock` path, loads only this.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import RedirectResponse, Response
from starlette.types import Scope

from ..web.http import json_response

ADMIN_PREFIX = "/_mock"
ADMIN_TOKEN_HEADER = "x-admin-token"
ADMIN_TOKEN_REQUIRED = "Admin token required."
DASHBOARD_PREFIX = "/_mock/ui"
DASHBOARD_LOGIN = "/_mock/ui/login"
#: The HttpOnly cookie holding the admin token for the dashboard (accepted on dashboard paths only).
DASHBOARD_COOKIE = "didit_mock_admin"


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def is_dashboard_path(path: str) -> bool:
    return path == DASHBOARD_PREFIX or path.startswith(DASHBOARD_PREFIX + "/")


def same_secret(offered: str, expected: str) -> bool:
    """Whether `offered` is `expected`, in a time that tells nothing of either (not even its length)."""
    return hmac.compare_digest(
        hashlib.sha256(offered.encode("utf-8", "surrogateescape")).digest(),
        hashlib.sha256(expected.encode("utf-8", "surrogateescape")).digest(),
    )


def offered_cookie(headers: Headers) -> str:
    """The dashboard's login cookie (set by `/_mock/ui/login`), "" when absent."""
    return cookie_parser(headers.get("cookie", "")).get(DASHBOARD_COOKIE, "")


def offered_tokens(headers: Headers) -> list[str]:
    """The tokens of `Authorization: Bearer <token>` and `x-admin-token: <token>` (non-empty ones)."""
    offered = [headers.get(ADMIN_TOKEN_HEADER, "")]
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        offered.append(credential.strip())
    return [o for o in offered if o]


def presents_cookie(headers: Headers, token: str) -> bool:
    """The dashboard's login cookie holds `token` (compared in constant time)."""
    offered = offered_cookie(headers)
    return bool(offered) and same_secret(offered, token)


def presents_token(headers: Headers, token: str) -> bool:
    """`Authorization: Bearer <token>` or `x-admin-token: <token>`, compared in constant time."""
    return any([same_secret(o, token) for o in offered_tokens(headers)])  # every offer compared


def refusal(scope: Scope, token: str) -> Response | None:
    """The answer to an HTTP request on a `/_mock` path without the admin `token`, or None to let it in.

    Dashboard pages (`/_mock/ui...`, whose forms carry CSRF tokens) also accept the login cookie and
    send a browser without it to the login page, the one path open without the token. Other paths
    answer 401. The token is never read from the query string.
    """
    headers = Headers(scope=scope)
    if presents_token(headers, token):
        return None
    path: str = scope["path"]
    if is_dashboard_path(path):
        if path == DASHBOARD_LOGIN or presents_cookie(headers, token):
            return None
        wanted = path if scope["method"] in ("GET", "HEAD") else DASHBOARD_PREFIX
        return RedirectResponse(f"{DASHBOARD_LOGIN}?{urlencode({'next': wanted})}", status_code=303)
    return json_response({"detail": ADMIN_TOKEN_REQUIRED}, 401, headers={"WWW-Authenticate": "Bearer"})
