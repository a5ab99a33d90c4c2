"""`LazyRoutes`: the routes of a module, imported on the first request under one of its path prefixes.

The admin API, the dashboard and the downloads are most of the code a server carries beside the
emulated API, and a test run may never call them: each module of them is a `LazyRoutes` in the
app's router (a `BaseRoute`, Starlette's extension point), which imports the module and takes its
`routes` the first time a request's path starts with one of the prefixes declared for it.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

#: Where `matches` leaves the module's route that matched, for `handle`.
MATCHED = "didit_mock.lazy_route"


class LazyRoutes(BaseRoute):
    """The `routes` of module `module`, loaded when a path first starts with one of `prefixes`
    (or holds one of `infixes`, for routes whose path begins with a parameter)."""

    def __init__(self, module: str, prefixes: tuple[str, ...], infixes: tuple[str, ...] = ()):
        self.module = module
        self.prefixes = prefixes
        self.infixes = infixes
        self._routes: list[BaseRoute] | None = None
        self._loading = threading.Lock()

    @property
    def routes(self) -> list[BaseRoute]:
        """The module's routes (imported now if they are not yet)."""
        if self._routes is None:
            with self._loading:
                if self._routes is None:
                    self._routes = list(importlib.import_module(self.module).routes)
        return self._routes

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path: str = scope["path"]
        if not path.startswith(self.prefixes) and not any(infix in path for infix in self.infixes):
            return Match.NONE, {}
        partial: tuple[Scope, BaseRoute] | None = None
        for route in self.routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return Match.FULL, {**child, MATCHED: route}
            if match is Match.PARTIAL and partial is None:
                partial = (child, route)
        if partial is not None:
            return Match.PARTIAL, {**partial[0], MATCHED: partial[1]}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: BaseRoute = scope.pop(MATCHED)
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                pass
        raise NoMatchFound(name, path_params)

    def __repr__(self) -> str:
        return f"LazyRoutes({self.module!r}, {self.prefixes!r}, {self.infixes!r})"
