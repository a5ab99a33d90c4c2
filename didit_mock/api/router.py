"""The router: Starlette's, with routes looked up by their literal prefix, Didit's errors rendered,
and Django's APPEND_SLASH.

Starlette tries every route in order until one matches. With a hundred routes that is most of
the cost of routing a request near the end of the list, so `DiditRouter` indexes routes by the
literal segments their paths start with (`/v3/session/...` by `("v3", "session")`), and literal
paths whole, and tries only the routes that could match a path, still in their original order:
the same route wins.

It also renders the errors a route raises (`api/errors.py`), the work of Starlette's exception
layer, which the app leaves out (see `app.DiditApp`).
"""

from __future__ import annotations

from typing import Any

from starlette._utils import get_route_path
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send

from ..domain.errors import DiditError, HtmlNotFound
from .errors import DJANGO_404, render_exception

#: What a route may raise for the router to answer (anything else is a 500).
RENDERED = (DiditError, HtmlNotFound, HTTPException)


def literal_prefix(path: str) -> tuple[str, ...]:
    """The first two segments of a route path, as far as they are literal (no `{parameter}`)."""
    prefix: list[str] = []
    for part in path.split("/", 3)[1:3]:
        if "{" in part:
            break
        prefix.append(part)
    return tuple(prefix)


class RouteIndex:
    """For a request path, the routes that could match it, in their original order.

    A path that is a route's literal path (`/v3/session/`) is looked up whole: its list holds every
    route that matches it. Other paths try the routes with parameters under their literal prefix;
    literal routes cannot match them and are left out.
    """

    def __init__(self, routes: list[BaseRoute]):
        self.size = len(routes)
        literal = {route.path for route in routes if isinstance(route, Route) and "{" not in route.path}
        self.exact = {
            path: [r for r in routes if r.matches({"type": "http", "path": path, "root_path": "", "method": "GET"})[0]
                   is not Match.NONE]
            for path in literal
        }
        by_two: dict[tuple[str, str], list[int]] = {}
        by_one: dict[str, list[int]] = {}
        anywhere: list[int] = []
        for position, route in enumerate(routes):
            if isinstance(route, Route) and route.path in literal:
                continue
            path = getattr(route, "path", None)
            prefix = literal_prefix(path) if isinstance(path, str) and path.startswith("/") else ()
            if len(prefix) == 2:
                by_two.setdefault((prefix[0], prefix[1]), []).append(position)
            elif len(prefix) == 1:
                by_one.setdefault(prefix[0], []).append(position)
            else:
                anywhere.append(position)

        def merged(*groups: list[int]) -> list[BaseRoute]:
            return [routes[i] for i in sorted(i for group in groups for i in group)]

        self.anywhere = merged(anywhere)
        self.by_one = {first: merged(found, anywhere) for first, found in by_one.items()}
        self.by_two = {
            key: merged(found, by_one.get(key[0], []), anywhere) for key, found in by_two.items()
        }
        for first in {key[0] for key in by_two} - set(self.by_one):
            self.by_one[first] = self.anywhere
        #: Literal paths whose routes are all plain `Route`s without parameters: such a route
        #: matches its path whatever the method, so only its methods need a look (no regex).
        self.plain = {
            path: found for path, found in self.exact.items()
            if all(type(r) is Route and r.param_convertors == {} for r in found)
        }

    def candidates(self, route_path: str) -> list[BaseRoute]:
        exact = self.exact.get(route_path)
        if exact is not None:
            return exact
        parts = route_path.split("/", 3)
        if len(parts) > 2:
            found = self.by_two.get((parts[1], parts[2]))
            if found is not None:
                return found
        if len(parts) > 1:
            found = self.by_one.get(parts[1])
            if found is not None:
                return found
        return self.anywhere


def _plain_child_scope(route: Route, scope: Scope) -> dict[str, Any]:
    """What `Route.matches` gives for a path without parameters."""
    return {"endpoint": route.endpoint, "path_params": dict(scope.get("path_params", {}))}


class DiditRouter(Router):
    """Routes by literal prefix (see the module doc); unknown paths get Django's answers."""

    _index: RouteIndex | None = None

    def _current_index(self) -> RouteIndex:
        index = self._index
        if index is None or index.size != len(self.routes):
            index = self._index = RouteIndex(self.routes)
        return index

    def candidates(self, scope: Scope) -> list[BaseRoute]:
        return self._current_index().candidates(get_route_path(scope))

    def match(self, scope: Scope) -> tuple[BaseRoute | None, dict[str, Any], Match]:
        """The route Starlette would choose for `scope`, its child scope, and how it matched.

        The first FULL match wins; else the first PARTIAL one (the path exists for other methods:
        a 405); else none.
        """
        route_path = get_route_path(scope)
        index = self._current_index()
        plain = index.plain.get(route_path)
        if plain is not None:
            method = scope["method"]
            for route in plain:
                if route.methods is None or method in route.methods:
                    return route, _plain_child_scope(route, scope), Match.FULL
            return plain[0], _plain_child_scope(plain[0], scope), Match.PARTIAL
        partial: tuple[BaseRoute | None, dict[str, Any], Match] = (None, {}, Match.NONE)
        for route in index.candidates(route_path):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return route, child_scope, match
            if match is Match.PARTIAL and partial[0] is None:
                partial = (route, child_scope, match)
        return partial

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await super().app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self
        chosen, chosen_scope, match = self.match(scope)
        if chosen is None:
            await self.default(scope, receive, send)
            return
        scope["route"] = chosen
        scope.update(chosen_scope)
        try:
            if match is Match.FULL and isinstance(chosen, Route):
                await chosen.app(scope, receive, send)  # what `handle` does once the method is allowed
            else:
                await chosen.handle(scope, receive, send)
        except RENDERED as exc:
            response = await render_exception(Request(scope, receive), exc)
            if response is None:
                raise
            await response(scope, receive, send)

    async def not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Django's APPEND_SLASH: an unknown path whose slash form exists answers 301 to it."""
        path: str = scope["path"]
        if scope["type"] == "http" and not path.endswith("/"):
            probe = {**scope, "path": path + "/"}
            if any(route.matches(probe)[0] != Match.NONE for route in self.routes):
                query = scope.get("query_string", b"").decode("latin-1")
                target = path + "/" + (f"?{query}" if query else "")
                await RedirectResponse(target, status_code=301)(scope, receive, send)
                return
        if scope["type"] == "http":
            await HTMLResponse(DJANGO_404, status_code=404)(scope, receive, send)
