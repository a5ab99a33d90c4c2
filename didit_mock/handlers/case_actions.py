"""A case's life (§2.1): create and change it, move it through its declared transitions (assign,
resolve, reopen, request info, escalate, transfer, the four-eyes approve and reject), add notes
and links, toggle its checklist, and log every step in its event log.

The state machine is declared in `resources.families` (`CASES.transitions`); these handlers add
what a declaration cannot say (the blueprint's flags, the checklist, the maker and the checker)
and record the events, all under the tenant lock, checking everything before changing anything.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from starlette.responses import Response

from ..domain.errors import DiditError, NotFound, PermissionDenied
from ..resources.families import (
    BLUEPRINTS,
    CASE_CHECKLIST,
    CASE_LINKS,
    CASES,
    STAGE_RESOLUTION,
)
from ..resources.store import Document, ResourceStore
from ..web.http import json_response
from ..web.operations import Call, operation
from ..web.store import created_fields
from .case_files import attachments
from .case_log import (
    actor,
    add_note,
    blueprint_of,
    case_of,
    checklist,
    console_store,
    detail,
    find_blueprint,
    record,
    template,
)
from .case_routing import active_blueprint, automatic_assignee

STEPS = {step.operation: step for step in CASES.transitions}
NOTE_REQUIRED = "A resolution note is required by this case's blueprint."
SAME_OFFICER = "A different officer must review this resolution: you submitted it."
#: PATCH fields whose change the event log records, and the event of each.
CHANGE_EVENTS = {"priority": "PRIORITY_CHANGED", "due_at": "DUE_DATE_CHANGED"}


def _snapshot(blueprint: Document) -> Document:
    return copy.deepcopy(blueprint)


# ---------------------------------------------------------------- create, read, change

@operation("create_case")
def create_case(call: Call) -> Response:
    store = console_store(call)
    body = created_fields(call)
    who = actor(call)
    with call.tenant.lock:
        blueprint = active_blueprint(store, body["blueprint"], "blueprint") if body.get("blueprint") else None
        case = store.create(CASES, template("get_case"), body)
        if blueprint is not None:
            case["blueprint"] = _snapshot(blueprint)
            section = (blueprint.get("content_config") or {}).get("checklist") or {}
            items = section.get("items") or [] if section.get("enabled", True) else []
            for position, item in enumerate(sorted(items, key=lambda i: i.get("order") or 0)):
                store.create(CASE_CHECKLIST, template("toggle_case_checklist_item"), {
                    "label": str(item.get("label") or ""), "order": item.get("order", position),
                    "is_completed": False, "completed_by": None, "completed_at": None}, parent=case["uuid"])
        record(store, case, "CREATED", who, new_status=case["status"])
        if body.get("assigned_to"):  # "User UUID to assign immediately"
            case.update(assigned_to={"uuid": str(body["assigned_to"])}, assigned_at=store.now())
            record(store, case, "ASSIGNED", who, metadata={"assignee_user_id": case["assigned_to"]["uuid"]})
        elif blueprint is not None:
            _route(store, case, blueprint, who)
        return json_response(detail(store, case), 201)


def _route(store: ResourceStore, case: Document, blueprint: Document, who: tuple[str, str]) -> None:
    """An unassigned case arriving on an `AUTOMATIC` blueprint goes to a member of its pool."""
    assignee = None if case.get("assigned_to") else automatic_assignee(store, blueprint)
    if assignee is not None:
        case.update(assigned_to={"uuid": assignee}, assigned_at=store.now())
        record(store, case, "ASSIGNED", who, metadata={"assignee_user_id": assignee, "automatic": True})


@operation("get_case")
def get_case(call: Call) -> Document:
    store, case = case_of(call)
    with call.tenant.lock:
        return detail(store, case)


@operation("update_case")
def update_case(call: Call) -> Document:
    store, case = case_of(call)
    who = actor(call)
    with call.tenant.lock:
        before = copy.deepcopy(case)
        store.update(CASES, case["uuid"], call.body or {})
        for name, event in CHANGE_EVENTS.items():
            if before.get(name) != case.get(name):
                record(store, case, event, who, metadata={"from": before.get(name), "to": case.get(name)})
        old, new = list(before.get("tags") or []), list(case.get("tags") or [])
        for tag in [t for t in new if t not in old]:
            record(store, case, "TAG_ADDED", who, metadata={"tag": tag})
        for tag in [t for t in old if t not in new]:
            record(store, case, "TAG_REMOVED", who, metadata={"tag": tag})
        return detail(store, case)


# ---------------------------------------------------------------- the state machine

def _move(call: Call, store: ResourceStore, case: Document, operation_id: str, values: dict[str, Any],
          event: str, metadata: dict[str, Any] | None = None, routed_by: Document | None = None) -> Document:
    """Apply a declared transition and log it (with the status change, if any); a case moved to
    another blueprint (`routed_by`) is then routed by it."""
    who = actor(call)
    previous = case.get("status")
    store.transition(CASES, case["uuid"], STEPS[operation_id], {**values, "actor_email": who[0],
                                                                 "actor_name": who[1]})
    current = case.get("status")
    record(store, case, event, who, previous_status=previous, new_status=current, metadata=metadata)
    if routed_by is not None:
        _route(store, case, routed_by, who)
    return detail(store, case)


@operation("assign_case")
def assign_case(call: Call) -> Document:
    store, case = case_of(call)
    body = call.body or {}
    with call.tenant.lock:
        assignee = body.get("assignee_user_id")
        event = "ASSIGNED" if assignee else "UNASSIGNED"
        return _move(call, store, case, "assign_case", body, event, {
            "assignee_user_id": assignee, "assignee_email": body.get("assignee_email")})


@operation("resolve_case")
def resolve_case(call: Call) -> Document:
    """Resolve, or stage the resolution for a checker when the blueprint asks for four eyes."""
    store, case = case_of(call)
    body = call.body or {}
    who = actor(call)
    with call.tenant.lock:
        store.check(STAGE_RESOLUTION, case)  # nothing staged already
        store.check(STEPS["resolve_case"], case)
        blueprint = blueprint_of(store, case) or {}
        if blueprint.get("require_resolution_note") and not (body.get("note") or "").strip():
            raise DiditError({"detail": NOTE_REQUIRED}, 400)
        section = (blueprint.get("content_config") or {}).get("checklist") or {}
        left = [item for item in checklist(store, case["uuid"]) if not item.get("is_completed")]
        if left and not section.get("optional"):
            raise DiditError({"detail": f"Complete the checklist before resolving the case "
                                        f"({len(left)} item{'s' if len(left) > 1 else ''} left)."}, 400)
        checker = blueprint.get("four_eyes_checker_blueprint")
        if not checker:
            return _move(call, store, case, "resolve_case", body, "RESOLVED", {"resolution": body["resolution"]})
        target = find_blueprint(store, checker, "four_eyes_checker_blueprint")
        store.transition(CASES, case["uuid"], STAGE_RESOLUTION, {
            **body, "actor_email": who[0], "actor_name": who[1], "blueprint": _snapshot(target)})
        record(store, case, "SUBMITTED_FOR_APPROVAL", who, metadata={
            "resolution": body["resolution"], "checker_blueprint": target["uuid"]})
        return detail(store, case)


@operation("reopen_case")
def reopen_case(call: Call) -> Document:
    store, case = case_of(call)
    with call.tenant.lock:
        return _move(call, store, case, "reopen_case", {}, "REOPENED")


@operation("request_case_info")
def request_case_info(call: Call) -> Document:
    store, case = case_of(call)
    with call.tenant.lock:
        return _move(call, store, case, "request_case_info", {}, "STATUS_CHANGED")


@operation("escalate_case", body=None)
def escalate_case(call: Call) -> Document:
    """Move the case to its blueprint's escalation blueprint (the blueprint must allow it)."""
    store, case = case_of(call)
    with call.tenant.lock:
        store.check(STEPS["escalate_case"], case)
        blueprint = blueprint_of(store, case) or {}
        if not blueprint.get("escalation_enabled") or not blueprint.get("escalation_blueprint"):
            raise DiditError({"detail": "Escalation is not enabled on this case's blueprint."}, 400)
        target = active_blueprint(store, blueprint["escalation_blueprint"], "escalation_blueprint")
        return _move(call, store, case, "escalate_case", {"blueprint": _snapshot(target)}, "ESCALATED",
                     {"from_blueprint": blueprint["uuid"], "to_blueprint": target["uuid"]}, routed_by=target)


@operation("transfer_case")
def transfer_case(call: Call) -> Document:
    """Move the case to another blueprint of the application (the blueprint must allow it)."""
    store, case = case_of(call)
    with call.tenant.lock:
        store.check(STEPS["transfer_case"], case)
        blueprint = blueprint_of(store, case) or {}
        if not blueprint.get("transfer_enabled"):
            raise DiditError({"detail": "Transfers are not enabled on this case's blueprint."}, 400)
        target = active_blueprint(store, call.body["target_blueprint"], "target_blueprint")
        if target["uuid"] == blueprint["uuid"]:
            raise DiditError({"target_blueprint": ["The case is already on this blueprint."]}, 400)
        return _move(call, store, case, "transfer_case", {"blueprint": _snapshot(target)}, "TRANSFERRED",
                     {"from_blueprint": blueprint["uuid"], "to_blueprint": target["uuid"]}, routed_by=target)


def _checker(call: Call, case: Document) -> None:
    """403 when the caller is the maker of the staged resolution (no staged one: the transition's 409)."""
    staged = case.get("pending_resolution")
    if staged and staged.get("maker_email") == actor(call)[0]:
        raise PermissionDenied(SAME_OFFICER)


@operation("approve_case_resolution", body=None)
def approve_resolution(call: Call) -> Document:
    store, case = case_of(call)
    with call.tenant.lock:
        _checker(call, case)
        staged = case.get("pending_resolution") or {}
        return _move(call, store, case, "approve_case_resolution", {}, "APPROVAL_GRANTED",
                     {"resolution": staged.get("resolution"), "maker_email": staged.get("maker_email")})


@operation("reject_case_resolution")
def reject_resolution(call: Call) -> Document:
    """Drop the staged resolution and return the case to its maker blueprint."""
    store, case = case_of(call)
    notes = (call.body or {}).get("notes")
    with call.tenant.lock:
        _checker(call, case)
        staged = case.get("pending_resolution") or {}
        back = case.get("blueprint")  # the maker blueprint is gone: the case stays where it is
        with contextlib.suppress(NotFound):
            back = _snapshot(store.get(BLUEPRINTS, str(staged.get("maker_blueprint_id"))))
        return _move(call, store, case, "reject_case_resolution", {"blueprint": back}, "APPROVAL_REJECTED",
                     {"notes": notes, "maker_email": staged.get("maker_email")})


# ---------------------------------------------------------------- notes and links

@operation("create_case_note")
def create_note(call: Call) -> Response:
    store, case = case_of(call)
    body = created_fields(call)
    who = actor(call)
    with call.tenant.lock:
        body["attachments"] = attachments(call, store, case, body.get("attachments") or [])
        note = add_note(store, case, body, who)
        return json_response(note, 201)


@operation("create_case_link")
def create_link(call: Call) -> Response:
    """Link a session, business session or transaction to the case (the summary of a known session)."""
    store, case = case_of(call)
    body = call.body
    with call.tenant.lock:
        link = store.create(CASE_LINKS, template("create_case_link"), {
            "linked_entity_type": body["entity_type"], "linked_entity_uuid": body["entity_uuid"],
            "linked_entity_summary": _summary(call, body["entity_type"], body["entity_uuid"])}, parent=case["uuid"])
        record(store, case, "LINK_ADDED", actor(call), metadata={
            "entity_type": body["entity_type"], "entity_uuid": body["entity_uuid"]})
        return json_response(link, 201)


def _summary(call: Call, kind: str, key: str) -> dict[str, Any] | None:
    from ..domain.sessions import book as session_book

    session = session_book(call.tenant).get(key) if kind in ("session", "business_session") else None
    if session is None or session.deleted:
        return None
    return {"session_id": session.session_id, "session_number": session.session_number, "status": session.status}


@operation("delete_case_link")
def delete_link(call: Call) -> Response:
    store, case = case_of(call)
    with call.tenant.lock:
        link = store.delete(CASE_LINKS, call.path["link_uuid"], case["uuid"])
        record(store, case, "LINK_REMOVED", actor(call), metadata={
            "entity_type": link.get("linked_entity_type"), "entity_uuid": link.get("linked_entity_uuid")})
    return Response(status_code=204)


# ---------------------------------------------------------------- the checklist

@operation("list_case_checklist")
def list_checklist(call: Call) -> list[Document]:
    store, case = case_of(call)
    with call.tenant.lock:
        return checklist(store, case["uuid"])


@operation("toggle_case_checklist_item")
def toggle_item(call: Call) -> Document:
    store, case = case_of(call)
    who = actor(call)
    done = bool(call.body["is_completed"])
    with call.tenant.lock:
        item = store.get(CASE_CHECKLIST, call.path["item_uuid"], case["uuid"])
        was = item.get("is_completed")
        item.update(is_completed=done, completed_by=who[0] if done else None,
                    completed_at=store.now() if done else None)
        if done and not was:
            record(store, case, "CHECKLIST_COMPLETED", who, metadata={"item_uuid": item["uuid"],
                                                                      "label": item.get("label")})
        return item
