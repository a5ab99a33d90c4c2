"""The emulated API of one app: every operation of the table, each with its handler.

An operation is served by the first of: a rules handler (`@operation` in a handler module), the
generic resource store (a `resources` declaration), or its documented shape (`web.shape`).
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from starlette.responses import HTMLResponse, RedirectResponse
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from ..resources.declaration import Collection
from ..spec.overlay import Placement, place
from ..spec.table import OperationTable, api_operations
from .api_route import ApiRoute
from .errors import DJANGO_404
from .operations import Handler, handlers_in
from .query import query_validator
from .response_check import ResponseCheck
from .shape import shape_handler
from .store import store_handlers


def build_api(rule_modules: Iterable[ModuleType], collections: Iterable[Collection] = (),
              validate_responses: bool = False) -> ApiRoute:
    """The route serving every operation: rules first, then the resource store, then shapes."""
    operations = api_operations()
    placements: dict[str, Placement] = {op.operation_id: place(op) for op in operations}
    aliases = [(alias, op) for op in operations for alias in placements[op.operation_id].aliases]
    table = OperationTable(operations, aliases)
    handlers: dict[str, Handler] = store_handlers(collections, table)
    handlers.update(handlers_in(rule_modules))
    unknown = sorted(set(handlers) - set(table.by_id))
    if unknown:
        raise LookupError(f"handlers for operations the spec does not have: {', '.join(unknown)}")
    for operation in table:
        if operation.operation_id not in handlers:
            handlers[operation.operation_id] = shape_handler(operation)
        query_validator(operation)  # compiled now (cheap); bodies compile on first use (see validation)
    return ApiRoute(table, handlers, placements, ResponseCheck() if validate_responses else None)


class NotFound:
    """Django's answers for an unknown path: APPEND_SLASH's 301 when the slash form exists, else
    its HTML 404 page."""

    def __init__(self, routes: list[BaseRoute]):
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if not path.endswith("/"):
            probe = {**scope, "path": path + "/", "method": "GET"}
            probe.pop("didit_mock.found", None)
            if any(route.matches(probe)[0] is not Match.NONE for route in self.routes):
                query = scope.get("query_string", b"").decode("latin-1")
                await RedirectResponse(path + "/" + (f"?{query}" if query else ""), status_code=301)(
                    scope, receive, send)
                return
        await HTMLResponse(DJANGO_404, status_code=404)(scope, receive, send)
