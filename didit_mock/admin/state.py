"""`/_mock/state`: export and import tenant state, and the `--state-file` kept across restarts.

* `GET /_mock/state`: the calling tenant's state document; `?all=true`: every tenant's (no key needed);
* `PUT /_mock/state`: import a state document: every tenant it names is replaced (or created), all
  or nothing; a malformed document is a 400 `{"detail": "Invalid state document: <where>: <why>"}`
  and changes nothing.

With `Settings.state_file` (`--state-file`, `DIDIT_MOCK_STATE_FILE`), `install(app)` loads the file
when it exists (a bad file raises `StateFileError` from `create_app`, before anything binds) and
keeps it durable while the server runs (`durable.DurableState`: a journal written about once a
second, compacted into the file at start and at shutdown).

This module also registers the state sections kept outside the domain: the request journal and
the tenant's own scenario (with its fault counters, the rule of each session, and its timelines,
re-armed on import).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import journal as journal_mod
from ..domain import sessions as sessions_domain
from ..domain import statuses as st
from ..domain.state import (
    LazySection,
    Reader,
    StateInvalid,
    StateSection,
    check,
    export_registry,
    export_tenant,
    import_registry,
    register_section,
)
from ..domain.state import document as state_document
from ..domain.tenant import Tenant, TenantRegistry
from ..durable import DurableState, StateFileError
from ..scenario.engine import FaultCounter, scenarios_of
from ..scenario.loader import TENANT, ScenarioInvalid, load_text
from ..web.auth import authenticate, registry_of
from ..web.http import json_response, read_json
from ..web.pagination import page_bounds, page_urls

if TYPE_CHECKING:
    from ..app import DiditApp

log = logging.getLogger("didit_mock.state")

INVALID = "Invalid state document"


# ---------------------------------------------------------------- routes

def _wants_all(request: Request) -> bool:
    return request.query_params.get("all", "").lower() in ("1", "true", "yes")


async def get_state(request: Request) -> Response:
    """The calling tenant's state document (`?all=true`: every tenant's, paged with `limit`/`offset`)."""
    if _wants_all(request):
        registry = registry_of(request)
        if "limit" in request.query_params or "offset" in request.query_params:
            body = await run_in_threadpool(_export_page, request, registry)
        else:
            body = await run_in_threadpool(export_registry, registry)
    else:
        tenant = authenticate(request)
        body = state_document([await run_in_threadpool(export_tenant, tenant)])
    return json_response(body)


#: Tenants in a page of `GET /_mock/state?all=true` when `offset` comes without `limit`.
PAGE_SIZE = 100


def _export_page(request: Request, registry: TenantRegistry) -> dict[str, Any]:
    """One page of every tenant's state: a state document (importable as it is) with `count`, `next`
    and `previous`, as Didit's lists page."""
    limit, offset = page_bounds(request.query_params, PAGE_SIZE)
    tenants = registry.tenants()
    following, preceding = page_urls(request, len(tenants), limit, offset)
    page = state_document([export_tenant(t) for t in tenants[offset:offset + limit]])
    return {**page, "count": len(tenants), "next": following, "previous": preceding}


async def put_state(request: Request) -> Response:
    """Import a state document: the tenants it names are replaced or created, all or nothing."""
    data = await read_json(request, default={})
    registry = registry_of(request)
    try:
        tenants = await run_in_threadpool(import_registry, registry, data)
    except StateInvalid as exc:
        return _invalid(str(exc))
    except Exception as exc:  # nothing is swapped in before the whole document is built
        log.exception("state import failed")
        return _invalid(f"the document could not be imported ({type(exc).__name__}: {exc})")
    from .routes import tenant_view  # the admin routes load on their first request

    return json_response({"imported": [tenant_view(t) for t in tenants]})


def _invalid(message: str) -> Response:
    return json_response({"detail": f"{INVALID}: {message}", "errors": [message]}, 400)


_DOCUMENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "format": {"type": "string", "const": "didit-mock-state"},
        "version": {"type": "integer", "const": 1},
        "tenants": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["format", "version", "tenants"],
}

#: What the served OpenAPI document says of these routes (merged by `api.openapi`).
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/_mock/state"): {
        "summary": "Export the tenant's state (`?all=true`: every tenant, paged with `limit` and `offset`)",
        "query": {"all": {"type": "boolean"}, "limit": {"type": "integer", "minimum": 1},
                  "offset": {"type": "integer", "minimum": 0}},
        "responses": {200: _DOCUMENT},
    },
    ("PUT", "/_mock/state"): {
        "summary": "Import a state document: the tenants it names are replaced or created",
        "request": _DOCUMENT,
        "responses": {200: {"type": "object", "properties": {"imported": {"type": "array"}},
                            "required": ["imported"]}},
        "security": None,
    },
}

routes = [
    Route("/_mock/state", get_state, methods=["GET"]),
    Route("/_mock/state", put_state, methods=["PUT"]),
]


# ---------------------------------------------------------------- the state file

#: The programmatic accounts (the auth API) of the tenants they provisioned.
AUTH_SECTION = LazySection("auth_account", "didit_mock.admin.auth:AUTH_SECTION")
#: The families' sections, each loaded with the first export or import of a state (not with the server).
FAMILY_SECTIONS: tuple[LazySection, ...] = (
    LazySection("billing", "didit_mock.domain.billing_state:BILLING_SECTION"),
    LazySection("resources", "didit_mock.resources.persistence:RESOURCES_SECTION"),
    LazySection("entities", "didit_mock.domain.users_state:ENTITIES_SECTION"),
    LazySection("questionnaires", "didit_mock.domain.questionnaire_state:QUESTIONNAIRES_SECTION"),
    LazySection("lists", "didit_mock.domain.lists:state_section"),
    LazySection("biometric_templates", "didit_mock.domain.templates:state_section"),
    LazySection("standalone", "didit_mock.domain.standalone.persistence:STANDALONE_SECTION"),
    LazySection("transactions", "didit_mock.domain.transactions.book:TRANSACTIONS_SECTION"),
    LazySection("travel_rule", "didit_mock.domain.transactions.travel_rule:TRAVEL_RULE_SECTION"),
    LazySection("aml_monitoring", "didit_mock.domain.aml_monitoring_state:AML_MONITORING_SECTION"),
    LazySection("kyb", "didit_mock.domain.kyb:KYB_SECTION"),
    LazySection("session_imports", "didit_mock.domain.imports:state_section", after=("sessions",)),
    LazySection("user_faces", "didit_mock.domain.user_faces:state_section"),
)

def install(app: DiditApp) -> None:
    """Register the state sections of the app's components; with `Settings.state_file`, load it now
    and keep it durable while the server runs (see `durable.DurableState`)."""
    for section in (AUTH_SECTION, JOURNAL_SECTION, SCENARIOS_SECTION, *FAMILY_SECTIONS):
        register_section(app.registry, section)
    path = app.settings.state_file
    if not path:
        return
    durable = DurableState(app.registry, path)
    loaded = durable.load()  # StateFileError: the start stops with its one-line reason
    if loaded:
        log.info("state: %d tenant(s) loaded from %s", len(loaded), path)
    app.state.durable_state = durable
    app.state.state_file_error = None
    writer: dict[str, asyncio.Task[None]] = {}

    async def keep_writing() -> None:
        while True:
            await asyncio.sleep(durable.interval())
            try:
                await run_in_threadpool(durable.flush)
            except StateFileError as exc:
                log.error("state: %s", exc)

    async def start() -> None:
        writer["task"] = asyncio.create_task(keep_writing())

    async def stop() -> None:
        task = writer.pop("task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            count = await run_in_threadpool(durable.compact)
        except StateFileError as exc:  # the server exits non-zero with this reason (cli.py)
            app.state.state_file_error = str(exc)
            log.error("state: %s", exc)
        else:
            log.info("state: %d tenant(s) written to %s", count, path)

    app.state.on_startup.append(start)
    app.state.on_shutdown.append(stop)


# ---------------------------------------------------------------- section: the request journal

_JOURNAL_KINDS = {
    "id": "int", "method": "str", "path": "str", "query": "str", "status": "int", "duration_ms": "float",
    "timestamp": "float", "request_body": "str", "request_truncated": "bool", "response_body": "str",
    "response_truncated": "bool",
}


def _export_journal(tenant: Tenant) -> dict[str, Any]:
    next_id, entries = journal_mod.journal_of(tenant).export_state()
    return {"next_id": next_id, "entries": [{name: getattr(e, name) for name in _JOURNAL_KINDS} for e in entries]}


def _parse_journal(data: Any, path: str) -> tuple[int, list[journal_mod.JournalEntry]]:
    r = Reader(data, path)
    entries = [journal_mod.JournalEntry(**{name: item(name, kind) for name, kind in _JOURNAL_KINDS.items()})
               for item in r.items("entries")]
    next_id = r("next_id", "int")
    if any(e.id >= next_id for e in entries):
        raise StateInvalid(f"{r.at('next_id')}: must be greater than every entry id.")
    return next_id, entries


def _restore_journal(tenant: Tenant, parsed: tuple[int, list[journal_mod.JournalEntry]]) -> None:
    next_id, entries = parsed
    journal = journal_mod.journal_of(tenant)
    journal.resize(max(journal_mod.DEFAULT_SIZE, len(entries)))  # the server's size applies from the next request
    journal.import_state(next_id, entries)


def _as_received(value: Any, move: Callable[[Any], Any]) -> Any:
    """The journal keeps the bodies its clients received, links to the server they came from included."""
    return value


JOURNAL_SECTION = StateSection("journal", _export_journal, _parse_journal, _restore_journal, relink=_as_received)


# ---------------------------------------------------------------- section: the tenant's scenarios

def _export_scenarios(tenant: Tenant) -> dict[str, Any]:
    state = scenarios_of(tenant)
    own = state.own
    return {
        "own": None if own is None else {
            "name": own.name, "source": own.source, "document": own.scenario.model_dump(mode="json")},
        "counters": [{"scenario": fingerprint, "index": index, "calls": c.calls, "fired": c.fired,
                      "indices": list(c.indices)} for (fingerprint, index), c in state.counters.items()],
        "session_rules": dict(state.session_rules),
        "exported_at": tenant.clock.timestamp(),
    }


def _parse_scenarios(data: Any, path: str) -> dict[str, Any]:
    r = Reader(data, path)
    own = None
    if r("own", "object?", None) is not None:
        own_r = r.obj("own")
        name, source = own_r("name", "str"), own_r("source", "str", "request")
        text = json.dumps(own_r("document", "object"))
        try:
            own = load_text(text, source, default_name=name, scope=TENANT, as_json=True)
        except ScenarioInvalid as exc:
            raise StateInvalid(f"{own_r.at('document')}: not a valid scenario ({exc})") from None
    counters = {}
    for item in r.items("counters", []):
        indices = [check(i, "int", f"{item.at('indices')}[{n}]") for n, i in enumerate(item("indices", "list"))]
        counters[(item("scenario", "str"), item("index", "int"))] = FaultCounter(
            item("calls", "int"), item("fired", "int"), indices)
    rules_r = Reader(r("session_rules", "object", {}), r.at("session_rules"))
    rules = {session_id: rules_r(session_id, "str") for session_id in rules_r.data}
    return {"own": own, "counters": counters, "session_rules": rules, "exported_at": r("exported_at", "float")}


def _prepare_scenarios(tenant: Tenant, parsed: dict[str, Any]) -> None:
    """Before the engine's hook pushes the scenarios into the new tenant: its own one, its counters."""
    state = scenarios_of(tenant)
    state.own = parsed["own"]
    state.counters = dict(parsed["counters"])
    state.session_rules = dict(parsed["session_rules"])


def _restore_scenarios(tenant: Tenant, parsed: dict[str, Any]) -> None:
    """Re-arm the timeline steps of scenario rules that were still to come at the export."""
    from ..scenario.engine import _Run  # the engine's timeline runner (scheduled jobs cannot be exported)

    state = scenarios_of(tenant)
    rules = {}
    for loaded in state.active:
        for index, rule in enumerate(loaded.scenario.sessions):
            rules.setdefault(f"{loaded.name} / {rule.name or f'sessions[{index}]'}", rule)
    exported_at = parsed["exported_at"]
    book = sessions_domain.book(tenant)
    for session_id, label in state.session_rules.items():
        session, rule = book.get(session_id), rules.get(label)
        if session is None or rule is None or rule.wait:
            continue
        steps = [(session.created_at + (step.after if step is not None else 0.0), step)
                 for step in (rule.timeline or [None])]
        fired = [due for due, _ in steps if due <= exported_at]
        remaining = [(due, step) for due, step in steps if due > exported_at]
        if not remaining:
            continue
        run = _Run(tenant, session, rule, label)
        if fired:  # it continues from the session's current status
            run.outcome_applied = session.finished_at is not None
        else:  # as when it was scheduled: a session moved before its first step stops it
            run.expected = session.timeline[0][0] if session.timeline else st.NOT_STARTED
        for due, step in remaining:
            tenant.scheduler.at(due, lambda step=step, run=run: run.fire(step))


#: Its restore re-arms timelines of restored sessions, so it comes after them.
SCENARIOS_SECTION = StateSection("scenarios", _export_scenarios, _parse_scenarios, _restore_scenarios,
                                 prepare=_prepare_scenarios, after=("sessions",))
