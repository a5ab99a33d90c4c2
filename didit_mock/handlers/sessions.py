"""The session routes: create, decision, list, delete, batch delete and update-status."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from starlette.responses import Response

from ..domain import kyb as kyb_domain
from ..domain import sessions as domain
from ..domain import templates
from ..domain.decision.rendering import decision_json, list_row_json
from ..domain.errors import NotFound, PermissionDenied, ValidationFailed
from ..domain.search import session_matches
from ..domain.sessions import NewSession, Session
from ..domain.tenant import Tenant
from ..web.http import JSONBytes, dumps, dumps_scalars_and, json_response, read_json
from ..web.operations import Call, operation
from ..web.pagination import page_bounds, page_urls
from ..web.paths import is_canonical_uuid
from .session_models import BATCH_DELETE_RULES, CREATE_RULES, DELETE_RULES, UPDATE_STATUS_RULES

DEFAULT_LIMIT = 50


# ---------------------------------------------------------------- create

def created_body(session: Session) -> dict[str, Any]:
    return {
        "session_id": session.session_id,
        "session_number": session.session_number,
        "session_token": session.session_token,
        "url": session.url,
        "vendor_data": session.vendor_data,
        "metadata": session.metadata,
        "status": session.status,
        "callback": session.callback,
        "workflow_id": session.workflow.workflow_id,
        "workflow_version": session.workflow.version,
    }


def created_response(session: Session) -> JSONBytes:
    """The 201 of a create (its only value that is not a plain scalar is the caller's `metadata`)."""
    return JSONBytes(dumps_scalars_and(created_body(session), session.metadata), 201)


@operation("post_v3_session_create", body=CREATE_RULES)
async def create_session(call: Call) -> Response:
    tenant = call.tenant
    body: dict[str, Any] = call.body
    get = body.get
    contact = get("contact_details")
    if contact is not None:
        contact = {"email": contact.get("email"), "send_notification_emails": contact.get("send_notification_emails",
                   False), "email_lang": contact.get("email_lang"), "phone": contact.get("phone")}
    new = NewSession(  # positionally, in the declared order of the fields
        body["workflow_id"],
        get("vendor_data"),
        get("metadata"),
        get("callback"),
        get("callback_method", "initiator"),
        get("language"),
        contact,  # contact_details
        get("expected_details"),  # only the keys the client sent: the decision echoes those
        get("portrait_image"),  # portrait_digest: the image's digest (the `portrait_digest` rule)
        get("sandbox_scenario"),
    )
    with tenant.lock:
        session, _ = domain.create_session(tenant, new)
        return created_response(session)


# ---------------------------------------------------------------- resolution before auth

def resolve_then_authenticate(call: Call, *, deleted_message: str = "Session not found.") -> tuple[Tenant, Session]:
    """Find the session first (unknown ids are 404 even without a key), then authenticate.

    This is the real API's order for decision, delete, generate-pdf and update-status.
    """
    session_id = call.path["sessionId"]
    if not any(domain.book(t).get(session_id) is not None for t in call.registry.tenants()):
        raise NotFound()
    tenant = call.tenant
    session = domain.book(tenant).get(session_id)
    if session is None:
        raise NotFound(deleted_message)
    return tenant, session


def _verification_decision(tenant: Tenant, request_id: str) -> dict[str, Any] | None:
    for find in tenant.registry.wiring.decision_lookups:
        found = find(tenant, request_id)
        if found is not None:
            return found
    return None



# ---------------------------------------------------------------- decision

@operation("get_v3_session_decision", resolve_first=True)
async def get_decision(call: Call) -> Response:
    session_id = call.path["sessionId"]
    tenant = call.peek_tenant()
    session = None
    if tenant is not None:
        tenant.tick()
        session = domain.book(tenant).get(session_id)
        if session is None:
            with tenant.lock:
                verification = _verification_decision(tenant, session_id)
            if verification is not None:
                return json_response(verification)
    if session is None:  # another tenant's session, or none: the real API's 404/401/403 order
        tenant, session = resolve_then_authenticate(call)
    with tenant.lock:
        body = decision_json(tenant, session)
    return JSONBytes(body)


# ---------------------------------------------------------------- list

SESSION_KINDS = ("user", "business", "all")


def _parse_date(raw: str | None) -> date | None:
    """A `format: date` filter (its value was checked against the spec before the handler)."""
    return date.fromisoformat(raw.strip()) if raw else None


def _candidates(sessions: domain.SessionBook, filters: dict[str, Any]) -> list[Session] | None:
    """The smallest index that covers the filters, newest first; None means every session."""
    pools: list[list[Session]] = []
    if filters["vendor_data"] is not None:
        pools.append(list(sessions.by_vendor.get(filters["vendor_data"], ())))
    if filters["statuses"] is not None:
        pools.append([s for status in filters["statuses"] for s in sessions.by_status.get(status, {}).values()])
    if filters["workflows"] is not None:
        pools.append([s for w in filters["workflows"] for s in sessions.by_workflow.get(w, {}).values()])
    if not pools:
        return None
    smallest = min(pools, key=len)
    return sorted(smallest, key=lambda s: s.session_number, reverse=True)


def _matches(tenant: Tenant, session: Session, filters: dict[str, Any]) -> bool:
    if filters["vendor_data"] is not None and session.vendor_data != filters["vendor_data"]:
        return False
    if filters["statuses"] is not None and session.status not in filters["statuses"]:
        return False
    if filters["workflows"] is not None and session.workflow.workflow_id not in filters["workflows"]:
        return False
    created = datetime.fromtimestamp(session.created_at, tz=timezone.utc).date()
    if filters["date_from"] is not None and created < filters["date_from"]:
        return False
    if filters["date_to"] is not None and created > filters["date_to"]:
        return False
    if filters.get("session_type") is not None or filters.get("api_service") is not None:
        extra = session.workflow.extra
        service = extra.get("api_service") if extra else None
        wanted_type = filters.get("session_type")
        if wanted_type is not None and (wanted_type == "API") != (service is not None):
            return False
        if filters.get("api_service") is not None and service != filters["api_service"]:
            return False
    return not (filters["search"] and not session_matches(tenant, session, filters["search"]))


@operation("get_v3_sessions")
async def list_sessions(call: Call) -> Response:
    tenant = call.tenant
    query = call.query
    kind = query.get("session_kind", "user").lower()
    if kind not in SESSION_KINDS:
        raise ValidationFailed.field("session_kind", 'Must be "user", "business", or "all".', as_list=False)
    limit, offset = page_bounds(query, DEFAULT_LIMIT)
    statuses = query.get("status")
    workflow_ids = query.get("workflow_id")
    filters = {
        "vendor_data": query.get("vendor_data"),
        "statuses": [s.strip() for s in statuses.split(",") if s.strip()] if statuses is not None else None,
        "workflows": [w.strip().lower() for w in workflow_ids.split(",") if is_canonical_uuid(w.strip().lower())]
        if workflow_ids else None,
        "date_from": _parse_date(query.get("date_from")),
        "date_to": _parse_date(query.get("date_to")),
        "search": (query.get("search") or "").strip(),
        # API sessions are saved standalone calls (`session_type=API`, `api_service=FACE_MATCH`, ...).
        "session_type": (query.get("session_type") or "").strip().upper() or None,
        "api_service": (query.get("api_service") or "").strip().upper() or None,
    }
    with tenant.lock:
        sessions = domain.book(tenant)
        business = _business_sessions(tenant, sessions)
        user_count = business_count = 0
        rows: list[bytes] = []
        if kind in ("user", "all"):
            user_count, page = _user_page(tenant, sessions, business, filters, offset, limit)
            rows += [list_row_json(tenant, s) for s in page]
        if kind in ("business", "all"):
            matched = [s for s in business if _matches(tenant, s, filters)]
            business_count = len(matched)
            rows += [list_row_json(tenant, s) for s in matched[offset:offset + limit]]
        # KYC rows page the answer (`all` appends the KYB page after the KYC one); KYB counts stop at 100.
        paged = user_count if kind != "business" else business_count
        following, preceding = page_urls(call.request, paged, limit, offset)
        count = user_count + min(business_count, BUSINESS_COUNT_CAP)
    # The rows are cached JSON: the page is spliced around them, as DRF would render it.
    head = dumps({"count": count, "next": following, "previous": preceding, "results": []})[:-3]
    return JSONBytes(head + b"[" + b",".join(rows) + b"]}")


#: Didit counts KYB rows up to this many (`next` tells whether there are more).
BUSINESS_COUNT_CAP = 100


def _business_sessions(tenant: Tenant, sessions: domain.SessionBook) -> list[Session]:
    """The business (KYB) sessions, newest first: KYB registry retrievals and KYB workflows' sessions."""
    found = {s.session_id: s for i in kyb_domain.business_session_ids(tenant) if (s := sessions.get(i)) is not None}
    found.update(sessions.of_kyb_workflows)
    return sorted(found.values(), key=lambda s: s.session_number, reverse=True)


def _user_page(tenant: Tenant, sessions: domain.SessionBook, business: list[Session], filters: dict[str, Any],
               offset: int, limit: int) -> tuple[int, list[Session]]:
    """How many user (KYC) sessions match, and the page of them."""
    candidates = _candidates(sessions, filters)
    simple = not (filters["date_from"] or filters["date_to"] or filters["search"] or filters["session_type"]
                  or filters["api_service"])
    if business:
        hidden = {s.session_id for s in business}
        pool = candidates if candidates is not None else list(sessions.newest_first())
        candidates, simple = [s for s in pool if s.session_id not in hidden], False
    if candidates is None and simple:
        return len(sessions), _slice(sessions.newest_first(), offset, limit)
    pool = candidates if candidates is not None else list(sessions.newest_first())
    matched = [s for s in pool if _matches(tenant, s, filters)]
    return len(matched), matched[offset:offset + limit]


def _slice(items: Any, offset: int, limit: int) -> list[Session]:
    result: list[Session] = []
    for index, item in enumerate(items):
        if index >= offset + limit:
            break
        if index >= offset:
            result.append(item)
    return result


# ---------------------------------------------------------------- delete

def _face_outcome(session: Session, body: dict[str, Any], tenant: Tenant) -> tuple[str, str | None]:
    has_face = bool(session.outcomes) and any(f in (session.outcomes or {}) for f in ("LIVENESS", "FACE_MATCH"))
    if not has_face:
        return "none", None
    if body.get("retain_face_embeddings"):
        if session.vendor_data is None:
            return "ineligible_no_vendor_user", None
        return "retained_with_user", tenant.rng.uuid4()
    return "deleted", None


def _delete(tenant: Tenant, session: Session, body: dict[str, Any]) -> dict[str, Any]:
    """Delete `session` as the checked delete `body` says (its face template kept if asked)."""
    outcome, template = _face_outcome(session, body, tenant)
    domain.delete_session(tenant, session)
    if template is not None and session.vendor_data is not None:
        templates.retain(tenant, template, session.vendor_data, retention_days=body.get("face_retention_days"),
                         deadline=body.get("face_retention_deadline"),
                         instruction_class=body.get("deletion_instruction") or "operational_session_delete",
                         instruction_id=body.get("instruction_id"))
    return {
        "session_id": session.session_id,
        "session_number": session.session_number,
        "face_retention_outcome": outcome,
        "biometric_template_uuid": template,
    }


@operation("delete_v3_session_by_id", resolve_first=True, body=DELETE_RULES, body_on_demand=True)
async def delete_session(call: Call) -> Response:
    tenant, session = resolve_then_authenticate(call, deleted_message="Not found.")
    body = await call.checked_body()
    with tenant.lock:
        if domain.book(tenant).get(session.session_id) is None:
            raise NotFound()
        result = _delete(tenant, session, body)
    if tenant.config.delete_returns_204:
        return Response(status_code=204)
    return json_response(result)


@operation("batch_delete_sessions", body=BATCH_DELETE_RULES, body_on_demand=True)
async def batch_delete(call: Call) -> Response:
    tenant = call.tenant
    if call.request.headers.get("authorization", "").lower().startswith("bearer "):
        raise PermissionDenied()
    body = await call.checked_body()
    with tenant.lock:
        sessions = domain.book(tenant)
        if body.get("delete_all"):
            targets = list(sessions.by_id.values())
        else:
            numbers: list[int] = body["session_numbers"]  # numbers, by the body's rule
            targets = [sessions.by_number[n] for n in dict.fromkeys(numbers) if n in sessions.by_number]
        results = [_delete(tenant, s, body) for s in targets]
    if tenant.config.delete_returns_204:
        return Response(status_code=204)
    return json_response({"results": results})


# ---------------------------------------------------------------- update-status

@operation("patch_v3_session_update_status", resolve_first=True, body=UPDATE_STATUS_RULES, body_on_demand=True)
async def update_status(call: Call) -> Response:
    tenant, session = resolve_then_authenticate(call, deleted_message="Not found.")
    await read_json(call.request)  # a body that is not JSON is refused before the session's state
    with tenant.lock:
        domain.check_overridable(session)
    body = await call.checked_body()
    new_status = body["new_status"]
    if new_status == session.status:
        raise ValidationFailed(["The new status is the same as the current status."])
    nodes = body.get("nodes_to_resubmit") or None  # `{node_id, feature}` items, aliases resolved
    with tenant.lock:
        domain.update_status(tenant, session, new_status, body.get("comment"), nodes)
    return json_response({"session_id": session.session_id})

