"""The emulated API as one Starlette route: the operation table decides what a request reaches.

`ApiRoute` is a `BaseRoute` (Starlette's extension point for routing): it matches a request
whose path is an operation's, answers a 405 with `Allow` when the method is not among the
path's operations, and otherwise runs the operation's handler (see `web.operations`). The
gateway, which finds the operation first, calls `serve` itself for the requests it can answer.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from ..spec.operation import Operation
from ..spec.overlay import Placement
from ..spec.table import Found, OperationTable
from .errors import render_exception
from .http import json_response
from .limits import METHOD_ORDER
from .operations import Call, Handler, run
from .response_check import ResponseCheck

#: Where the gateway leaves the table's answer for a request's path (so it is looked up once).
FOUND = "didit_mock.found"


def found_for(table: OperationTable, scope: Scope) -> Found | None:
    """The table's answer for the request's path, looked up once per request."""
    if FOUND in scope:
        return scope[FOUND]  # type: ignore[no-any-return]
    found = table.find(scope["path"])
    scope[FOUND] = found
    return found


class ApiRoute(BaseRoute):
    """Every operation of the table, served by its handler."""

    def __init__(self, table: OperationTable, handlers: dict[str, Handler], placements: dict[str, Placement],
                 check: ResponseCheck | None = None):
        self.table = table
        self.handlers = handlers
        self.placements = placements
        #: Validates every answer against the spec when the server is asked to (`validate_responses`).
        self.check = check

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        found = found_for(self.table, scope)
        if found is None:
            return Match.NONE, {}
        operation = found.operation(scope["method"])
        params = {} if operation is None else dict(zip(operation.path_names, found.values, strict=True))
        child: dict[str, Any] = {"endpoint": self.handle, "path_params": {**scope.get("path_params", {}), **params}}
        return (Match.PARTIAL if operation is None else Match.FULL), child

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = found_for(self.table, scope)
        assert found is not None
        operation = found.operation(scope["method"])
        if operation is None:
            allowed = set(found.allowed())
            if "GET" in allowed:
                allowed.add("HEAD")
            response = json_response({"detail": f'Method "{scope["method"]}" not allowed.'}, 405,
                                     headers={"Allow": ", ".join(m for m in METHOD_ORDER if m in allowed)})
            await response(scope, receive, send)
            return
        await self.serve(scope, receive, send, operation, scope["path_params"])

    async def serve(self, scope: Scope, receive: Receive, send: Send, operation: Operation,
                    path: dict[str, str]) -> None:
        """Run `operation`'s handler and send its answer (an error Didit renders included)."""
        response = await self.answer(scope, receive, send, operation, self.placements[operation.operation_id], path)
        await response(scope, receive, send)

    async def answer(self, scope: Scope, receive: Receive, send: Send, operation: Operation, placement: Placement,
                     path: dict[str, str]) -> Response:
        """`operation`'s answer, not yet sent: its handler's, or the error Didit renders.

        An exception no handler of `EXCEPTION_HANDLERS` renders goes on to the caller.
        """
        scope["path_params"] = path
        call = Call(scope, receive, send, operation, placement, path)
        try:
            response = await run(call, self.handlers[operation.operation_id])
        except Exception as exc:
            rendered = await render_exception(call.request, exc)
            if rendered is None:
                raise
            response = rendered
        if self.check is not None:
            self.check(operation, response)
        return response

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)
