"""The emulated API of one app: every operation of the table, each with its handler.

An operation is served by the first of: a rules handler (`@operation` in a handler module), the
generic resource store (a `resources` declaration), or its documented shape (`web.shape`).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable, Mapping
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


class HandlerTable(dict[str, Handler]):
    """The handler of every operation; a rules module is imported on the first call it serves.

    `lazy` names the module (under `package`) of each operation with rules that is not loaded
    yet: looking one of them up imports its module and keeps all of that module's handlers.
    A loaded handler is a plain dict lookup.
    """

    def __init__(self, loaded: dict[str, Handler], lazy: Mapping[str, str], package: str):
        super().__init__(loaded)
        self.lazy = lazy
        self.package = package
        self._loading = threading.Lock()

    def __missing__(self, operation_id: str) -> Handler:
        module_name = self.lazy.get(operation_id)
        if module_name is None:
            raise KeyError(operation_id)
        with self._loading:
            if not dict.__contains__(self, operation_id):
                module = importlib.import_module(f"{self.package}.{module_name}")
                for loaded_id, handler in handlers_in([module]).items():
                    if self.lazy.get(loaded_id) == module_name:
                        self[loaded_id] = handler
        return dict.__getitem__(self, operation_id)

    def kind(self, operation_id: str) -> str:
        """"rules", "store" or "shape", without loading a module."""
        return "rules" if operation_id in self.lazy else self[operation_id].kind

    def load_all(self) -> None:
        """Import every rules module now (the warm-up does, once the server listens)."""
        for operation_id in self.lazy:
            self[operation_id]


def build_api(rule_modules: Iterable[ModuleType] = (), collections: Iterable[Collection] = (),
              validate_responses: bool = False, *, lazy_rules: Mapping[str, str] | None = None,
              package: str = "didit_mock.handlers") -> ApiRoute:
    """The route serving every operation: rules first, then the resource store, then shapes.

    Rules come from `rule_modules` (imported), or from `lazy_rules` (operation id -> module name
    under `package`), imported when one of their operations is first called.
    """
    operations = api_operations()
    placements: dict[str, Placement] = {op.operation_id: place(op) for op in operations}
    aliases = [(alias, op) for op in operations for alias in placements[op.operation_id].aliases]
    table = OperationTable(operations, aliases)
    lazy = dict(lazy_rules or {})
    handlers: dict[str, Handler] = {op: h for op, h in store_handlers(collections, table).items() if op not in lazy}
    handlers.update(handlers_in(rule_modules))
    unknown = sorted((set(handlers) | set(lazy)) - set(table.by_id))
    if unknown:
        raise LookupError(f"handlers for operations the spec does not have: {', '.join(unknown)}")
    for operation in table:
        if operation.operation_id not in handlers and operation.operation_id not in lazy:
            handlers[operation.operation_id] = shape_handler(operation)
        query_validator(operation)  # compiled now (cheap); bodies compile on first use (see validation)
    served = HandlerTable(handlers, {op: module for op, module in lazy.items() if op not in handlers}, package)
    return ApiRoute(table, served, placements, ResponseCheck() if validate_responses else None)


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
