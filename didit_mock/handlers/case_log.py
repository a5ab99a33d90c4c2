"""What the case rules share: the caller as an officer, a case's event log, its blueprint, and the
case as `CaseDetail` (the stored case with its newest notes and events, its links and checklist).

Events and checklist items are nested documents of the generic store (`resources.families`), so
they live, persist and go with their case like its notes.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from ..domain.errors import DiditError, NotFound
from ..resources.declaration import Collection
from ..resources.families import BLUEPRINTS, CASE_CHECKLIST, CASE_EVENTS, CASE_LINKS, CASE_NOTES, CASES
from ..resources.store import Document, ResourceStore
from ..spec.schemas import blank, json_schema
from ..spec.table import api_operations
from ..web.operations import Call

#: The request header that names the officer acting (an e-mail address); without it, the API key acts.
ACTOR_HEADER = "x-didit-mock-actor"
API_ACTOR = ("api@didit-mock.local", "API")
NOTES_SHOWN, EVENTS_SHOWN = 50, 100


def console_store(call: Call) -> ResourceStore:
    """The caller's store, once the console path names the caller's application (else 404)."""
    tenant = call.tenant
    path = call.path
    if path.get("organization_id") != tenant.organization_id or path.get("application_id") != tenant.application_id:
        raise NotFound()
    return tenant.component(ResourceStore)


def case_of(call: Call) -> tuple[ResourceStore, Document]:
    """The caller's store and the case the path names (404 if unknown)."""
    store = console_store(call)
    return store, store.get(CASES, call.path["case_uuid"])


@cache
def _blank(operation_id: str, status: int | None = None, item: bool = False) -> Document:
    operation = next(op for op in api_operations() if op.operation_id == operation_id)
    schema = json_schema(operation.response_schema(status or operation.success_status))
    if item:
        schema = schema["properties"]["results"]["items"]
    built = blank(schema)
    return built if isinstance(built, dict) else {}


def template(operation_id: str, status: int | None = None, item: bool = False) -> Document:
    """A blank document of an operation's answer (of one item of its page with `item`)."""
    return copy.deepcopy(_blank(operation_id, status, item))


def actor(call: Call) -> tuple[str, str]:
    """(e-mail, name) of the officer acting: `X-Didit-Mock-Actor`, or the API key itself."""
    email = call.request.headers.get(ACTOR_HEADER, "").strip()
    if not email:
        return API_ACTOR
    if "@" not in email or len(email) > 254:
        raise DiditError({"detail": f"{ACTOR_HEADER} must be an e-mail address."}, 400)
    return email, email.split("@", 1)[0]


def record(store: ResourceStore, case: Document, event_type: str, who: tuple[str, str], *,
           previous_status: str | None = None, new_status: str | None = None,
           metadata: dict[str, Any] | None = None) -> Document:
    """Append an event to the case's timeline."""
    return store.create(CASE_EVENTS, template("list_case_events", item=True), {
        "event_type": event_type, "actor_email": who[0], "actor_name": who[1],
        "previous_status": previous_status, "new_status": new_status, "metadata": metadata or {},
    }, parent=case["uuid"])


def add_note(store: ResourceStore, case: Document, body: dict[str, Any], who: tuple[str, str]) -> Document:
    """A note on the case by `who`, logged as NOTE_ADDED."""
    note = store.create(CASE_NOTES, template("create_case_note"), body, parent=case["uuid"])
    note.update(actor_email=who[0], actor_name=who[1])
    record(store, case, "NOTE_ADDED", who, metadata={"note_uuid": note["uuid"]})
    return note


def blueprint_of(store: ResourceStore, case: Document) -> Document | None:
    """The case's blueprint as it is now (its flags may have changed since the case moved to it)."""
    kept = case.get("blueprint")
    key = kept.get("uuid") if isinstance(kept, dict) else None
    if not key:
        return None
    try:
        return store.get(BLUEPRINTS, key)
    except NotFound:
        return None


def known(store: ResourceStore, collection: Collection, key: Any, field: str) -> Document:
    """A document a request names in `field`, or DRF's 400 for an unknown primary key."""
    try:
        return store.get(collection, str(key))
    except NotFound:
        raise DiditError({field: [f'Invalid pk "{key}" - object does not exist.']}, 400) from None


def find_blueprint(store: ResourceStore, key: Any, field: str) -> Document:
    """A blueprint named in a request, or DRF's 400 for an unknown primary key."""
    return known(store, BLUEPRINTS, key, field)


def checklist(store: ResourceStore, case_uuid: str) -> list[Document]:
    return sorted(store.all(CASE_CHECKLIST, case_uuid), key=lambda item: item.get("order") or 0)


def detail(store: ResourceStore, case: Document) -> Document:
    """The case as `CaseDetail`: its newest notes and events, its links and checklist."""
    key = case["uuid"]
    notes = list(reversed(store.all(CASE_NOTES, key)))
    links = list(reversed(store.all(CASE_LINKS, key)))
    answer = copy.deepcopy(case)
    answer.update(
        notes=copy.deepcopy(notes[:NOTES_SHOWN]), notes_count=len(notes),
        events=copy.deepcopy(list(reversed(store.all(CASE_EVENTS, key)))[:EVENTS_SHOWN]),
        links=copy.deepcopy(links), links_count=len(links),
        checklist_items=copy.deepcopy(checklist(store, key)),
    )
    return answer

