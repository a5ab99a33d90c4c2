"""`/_mock/scenarios`: the loaded scenarios, and each tenant's own.

* `GET /_mock/scenarios`: the server's set (files, generation, reload `errors`) and, with an
  `x-api-key`, the calling tenant's own scenario, fault counters and which rule took each session;
* `PUT /_mock/scenarios`: YAML (`text/yaml`, `application/yaml`, or no content type) or JSON
  (`application/json`) text: replaces the calling tenant's own scenario, seen by no other key;
  a bad document is a 400 `{"detail": "Invalid scenario.", "errors": ["request:LINE: reason", ...]}`,
  a document over `MAX_DOCUMENT_BYTES` a 413; parsing and validation run in a worker thread, at most
  `CONCURRENT_READERS` documents at once;
* `DELETE /_mock/scenarios`: drops the calling tenant's own scenario.

`install(app)` creates the app's `ScenarioEngine`, loads `Settings.scenarios` (a bad file raises
`ScenarioInvalid` from `create_app`, before anything binds) and starts the reload watcher.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain.errors import ValidationFailed
from ..scenario.engine import ScenarioEngine
from ..scenario.loader import TENANT, Problem, ScenarioInvalid, load_text
from ..scenario.reading import MAX_DOCUMENT_BYTES
from ..scenario.reload import ScenarioWatcher, snapshot
from ..web.auth import authenticate, peek_tenant
from ..web.http import json_response

if TYPE_CHECKING:
    from ..app import DiditApp

REQUEST_SOURCE = "request"
INVALID = "Invalid scenario."
#: Scenario documents parsed at once (more wait their turn: each holds the interpreter in turns with
#: the event loop, so many at once would delay every other request).
CONCURRENT_READERS = 1


def engine_of(request: Request) -> ScenarioEngine:
    return request.app.state.scenarios


async def get_scenarios(request: Request) -> Response:
    tenant = peek_tenant(request)
    return json_response(engine_of(request).view(tenant))


async def put_scenario(request: Request) -> Response:
    tenant = authenticate(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
        return _too_large()
    raw = await request.body()
    if len(raw) > MAX_DOCUMENT_BYTES:
        return _too_large()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed.detail("The scenario must be UTF-8 text.") from None
    as_json = "json" in request.headers.get("content-type", "").lower()
    read = functools.partial(load_text, text, REQUEST_SOURCE, default_name=REQUEST_SOURCE, scope=TENANT,
                             as_json=as_json)
    try:  # CPU work: off the event loop, a few documents at a time, so other requests keep flowing
        loaded = await anyio.to_thread.run_sync(read, limiter=_readers(request.app))
    except ScenarioInvalid as exc:
        return _invalid(exc.problems)
    if loaded.scenario.tenants:
        return _invalid([Problem(REQUEST_SOURCE, loaded.line_of(("tenants",)),
                                 "tenants: API keys can only be declared in scenario files; use `tenant:` for the "
                                 "settings of the tenant that sends this request")])
    engine = engine_of(request)
    engine.set_own(tenant, loaded)
    return json_response({"loaded": loaded.view(), **engine.view(tenant)})


async def delete_scenario(request: Request) -> Response:
    tenant = authenticate(request)
    return json_response({"deleted": engine_of(request).drop_own(tenant)})


def _too_large() -> Response:
    return json_response({"detail": f"The scenario is too large: at most {MAX_DOCUMENT_BYTES} bytes."}, 413)


def _invalid(problems: list[Problem]) -> Response:
    return json_response({"detail": INVALID, "errors": [str(p) for p in problems],
                          "problems": [p.as_dict() for p in problems]}, 400)


def _readers(app: DiditApp) -> anyio.CapacityLimiter:
    """The app's limit on scenario documents read at once (made on first use, in the event loop)."""
    readers: anyio.CapacityLimiter | None = getattr(app.state, "scenario_readers", None)
    if readers is None:
        readers = app.state.scenario_readers = anyio.CapacityLimiter(CONCURRENT_READERS)
    return readers


def install(app: DiditApp) -> None:
    """Create the engine, load the configured scenario files, and watch them for changes."""
    settings = app.settings
    engine = ScenarioEngine(app.registry, fixed_keys=settings.api_keys)
    app.state.scenarios = engine
    paths = list(settings.scenarios or [])
    if not paths:
        return
    before = snapshot(paths)  # taken first: a change during the load is seen by the first poll
    engine.load(paths)
    watcher = ScenarioWatcher(engine, paths, before)
    app.state.scenario_watcher = watcher
    app.state.on_startup.append(watcher.start)
    app.state.on_shutdown.append(watcher.stop)


routes = [
    Route("/_mock/scenarios", get_scenarios, methods=["GET"]),
    Route("/_mock/scenarios", put_scenario, methods=["PUT"]),
    Route("/_mock/scenarios", delete_scenario, methods=["DELETE"]),
]

__all__ = ["ScenarioInvalid", "install", "routes"]
