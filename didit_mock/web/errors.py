"""One place that renders every error as Didit's JSON (or Django's HTML 404 page)."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Scope

from ..domain.errors import DiditError, HtmlNotFound
from .http import json_response

log = logging.getLogger("didit_mock")

DJANGO_404 = """<!doctype html>
<html lang="en">
<head>
  <title>Not Found</title>
</head>
<body>
  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>
</body>
</html>
"""


def error_response(error: DiditError) -> Response:
    """Didit's JSON answer for `error`: its status, body and headers."""
    return json_response(error.body, error.status_code, headers=error.headers)


async def didit_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DiditError)
    return error_response(exc)


async def html_not_found(request: Request, exc: Exception) -> Response:
    return HTMLResponse(DJANGO_404, status_code=404)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return HTMLResponse(DJANGO_404, status_code=404)
    if exc.status_code == 405:
        return json_response(
            {"detail": f'Method "{request.method}" not allowed.'}, 405, headers=dict(exc.headers or {})
        )
    return json_response({"detail": exc.detail}, exc.status_code, headers=dict(exc.headers or {}))


def server_error(scope: Scope, exc: Exception) -> Response:
    """Didit's 500 for an unexpected exception, which is logged here with its traceback."""
    log.error("unhandled error on %s %s", scope.get("method"), scope.get("path"), exc_info=exc)
    return json_response({"detail": "A server error occurred."}, 500)


EXCEPTION_HANDLERS = {
    DiditError: didit_error,
    HtmlNotFound: html_not_found,
    HTTPException: http_exception,
}


async def render_exception(request: Request, exc: Exception) -> Response | None:
    """The answer of the first handler in `EXCEPTION_HANDLERS` for `exc` (by its class order), if any.

    Anything else is an unexpected error, answered by the gateway (`server_error`).
    """
    for kind in type(exc).__mro__:
        handler = EXCEPTION_HANDLERS.get(kind)
        if handler is not None:
            return await handler(request, exc)
    return None
