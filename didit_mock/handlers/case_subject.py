"""Acting on a case's subject (§2.1): the entity actions on its user or business, and the AML
hits of the case's sessions. Each action is logged as an ENTITY_ACTION event."""

from __future__ import annotations

import copy
from typing import Any

from ..domain import users as people
from ..domain.errors import DiditError
from ..resources.families import CASE_LINKS
from ..resources.store import Document
from ..web.operations import Call, operation
from .case_log import actor, add_note, case_of, record

NO_SUBJECT = "This case has no subject."


ENTITY_ACTIONS = ("set_status", "add_tags", "add_note", "add_to_blocklist")


@operation("apply_case_entity_action")
def entity_action(call: Call) -> Document:
    """Act on the case's user or business: its status, its tags, a note, the blocklist."""
    store, case = case_of(call)
    body = call.body
    action = body["action"]
    who = actor(call)
    with call.tenant.lock:
        subject = case.get("subject") or {}
        kind, key = subject.get("type"), subject.get("uuid")
        if kind not in (people.USER, people.BUSINESS) or not key:
            raise DiditError({"detail": NO_SUBJECT}, 400)
        answer: dict[str, Any] = {"entity_type": kind, "entity_uuid": key, "action": action}
        if action == "add_note":
            note = (body.get("note") or "").strip()
            if not note:
                raise DiditError({"detail": "A note is required for add_note."}, 400)
            made = add_note(store, case, {"comment": note, "is_internal": True}, who)
            answer["comment_uuid"] = made["uuid"]
        elif action == "add_tags":
            tags = [str(t) for t in body.get("tags") or [] if str(t).strip()]
            if not tags:
                raise DiditError({"detail": "At least one tag is required for add_tags."}, 400)
            answer["tags_added"] = tags
        else:
            entity = people.book(call.tenant).entities[kind].get(key)
            if entity is None:
                raise DiditError({"detail": f"The case's {kind} no longer exists."}, 400)
            if action == "set_status":
                answer.update(_set_status(call, entity, body.get("status")))
            else:
                answer.update(_blocklist(call, entity))
        record(store, case, "ENTITY_ACTION", who, metadata={k: v for k, v in answer.items()})
        return answer


def _set_status(call: Call, entity: people.Entity, status: Any) -> dict[str, Any]:
    if status not in people.STATUSES:
        raise DiditError({"detail": people.INVALID_STATUS}, 400)
    previous = entity.status
    people.book(call.tenant).set_status(entity, status)
    return {"previous_status": previous, "new_status": status}


def _blocklist(call: Call, entity: people.Entity) -> dict[str, Any]:
    from ..domain import blocklist

    sessions = people.sessions_of(call.tenant, entity)
    if not sessions:
        raise DiditError({"detail": f"The case's {entity.kind} has no session to blocklist."}, 400)
    added = blocklist.add(call.tenant, sessions[-1].session_id, (blocklist.DOCUMENT, blocklist.FACE))
    return {"blocklisted_document_uuids": [e.value for e in added if e.type == blocklist.DOCUMENT],
            "blocklisted_face_uuids": [e.value for e in added if e.type == blocklist.FACE]}



# ---------------------------------------------------------------- AML hits

@operation("list_case_aml_hits")
def aml_hits(call: Call) -> list[dict[str, Any]]:
    """The AML hits of the case's sessions: those linked to it and those of its user or business."""
    from ..domain.decisions import render_decision
    from ..domain.sessions import book as session_book

    store, case = case_of(call)
    tenant = call.tenant
    with tenant.lock:
        sessions = session_book(tenant)
        found = [sessions.get(str(link.get("linked_entity_uuid"))) for link in store.all(CASE_LINKS, case["uuid"])
                 if link.get("linked_entity_type") in ("session", "business_session")]
        subject = case.get("subject") or {}
        entity = people.book(tenant).entities.get(subject.get("type"), {}).get(subject.get("uuid"))
        if entity is not None:
            found.extend(people.sessions_of(tenant, entity))
        hits: list[dict[str, Any]] = []
        seen: set[str] = set()
        for session in found:
            if session is None or session.deleted or session.session_id in seen:
                continue
            seen.add(session.session_id)
            for check in render_decision(tenant, session).get("aml_screenings") or []:
                hits.extend(copy.deepcopy(check.get("hits") or []))
        return hits
