"""The rest of the session lifecycle: PDF report, B2B sharing, sandbox arm, reviews feed, data fixes.

Routes: `GET /v3/session/{id}/generate-pdf/` (and without the slash), `POST .../share/`,
`POST /v3/session/import-shared/`, `POST .../sandbox/arm/`, `GET|POST /v3/sessions/{id}/reviews/`,
`PATCH .../update-data/`, `PATCH .../update-poa-data/`, and the admin `POST /_mock/sessions/{id}/start`.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..domain import sessions as domain
from ..domain import sharing
from ..domain import statuses as st
from ..domain.clock import iso
from ..domain.errors import CREDENTIALS_INVALID, NotFound, PermissionDenied, ValidationFailed
from ..domain.outcomes import sandbox_scenario
from ..domain.reports import ReportCache, check_reportable, render_report
from ..domain.sessions import Review, Session
from ..domain.tenant import Tenant
from ..web.http import json_response, read_json
from ..web.operations import Call, operation
from ..web.pagination import page_bounds, page_urls
from ..web.validation import BodyRules
from . import session_data
from .sessions import resolve_then_authenticate

SESSION_TOKEN_HEADER = "session-token"


def _render_decision(tenant: Tenant, session: Session) -> dict[str, Any]:
    from ..domain.decision.rendering import render_decision  # lazily: the builders pull in Faker

    return render_decision(tenant, session)


def _utc(timestamp: float) -> str:
    from datetime import datetime, timezone

    return iso(datetime.fromtimestamp(timestamp, tz=timezone.utc))


# ---------------------------------------------------------------- PDF report

@operation("get_v3_session_generate_pdf", resolve_first=True)
async def generate_pdf(call: Call) -> Response:
    """The session's PDF report: Approved, Declined, In Review or Kyc Expired sessions only."""
    tenant, session = resolve_then_authenticate(call, deleted_message="Not found.")
    with tenant.lock:
        check_reportable(session)
        cache = tenant.component(ReportCache)
        key = (session.session_id, session.revision)
        data = cache.get(key)
        if data is None:
            decision = _render_decision(tenant, session)
            label = session.workflow.label
            now = tenant.clock.now()
    if data is None:
        data = await run_in_threadpool(render_report, decision, workflow_label=label, generated_at=now)
        with tenant.lock:
            cache.put(key, data)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename=session_{session.session_id}.pdf"},
    )


# ---------------------------------------------------------------- sharing

@operation("post_v3_session_share", body_on_demand=True)
async def share_session(call: Call) -> Response:
    """Mint a share token for another application (this route answers 401 on bad credentials)."""
    session_id = call.path["sessionId"]
    tenant = call.tenant
    await read_json(call.request)  # a body that is not JSON is refused before an unknown session
    with tenant.lock:
        session = domain.book(tenant).require(session_id)
    body = await call.checked_body()
    target: str = body["for_application_id"]
    registry = call.registry
    with tenant.lock:
        sharing.check_shareable(tenant, session, target, registry)
        token = sharing.mint(
            session.session_id, tenant.application_id, target, tenant.clock.timestamp(),
            body.get("ttl_in_seconds", sharing.DEFAULT_TTL), sharing.signing_key(registry.global_seed),
        )
    return json_response({"share_token": token, "for_application_id": target, "session_kind": "user"})


@operation("post_v3_session_import_shared")
async def import_shared(call: Call) -> Response:
    """Redeem a share token: the decision is cloned into a new session of the calling application."""
    tenant = call.tenant
    body: dict[str, Any] = call.body
    registry = call.registry
    claims = sharing.read_token(
        body["share_token"], sharing.signing_key(registry.global_seed), tenant.clock.timestamp(), tenant.application_id
    )
    snapshot = sharing.snapshot_source(registry, claims, _render_decision)
    with tenant.lock:
        clone = sharing.import_session(
            tenant, claims, snapshot, trust_review=body["trust_review"], workflow_id=body["workflow_id"],
            vendor_data=body.get("vendor_data"),
        )
        decision = _render_decision(tenant, clone)
    decision.setdefault("shared_from_session", clone.shared_from_session)
    return json_response(decision, 201)


# ---------------------------------------------------------------- sandbox arm

def known_scenario(slug: str) -> str:
    if sandbox_scenario(slug) is None:
        raise ValueError(f"Unknown sandbox scenario: '{slug}'.")
    return slug


ARM_RULES = BodyRules({"scenario": known_scenario})


@operation("post_v3_session_sandbox_arm", body=ARM_RULES, body_on_demand=True)
async def arm_sandbox(call: Call) -> Response:
    """Arm a sandbox scenario on a Not Started session, authenticated by its own Session-Token."""
    request = call.request
    session_id = call.path["sessionId"]
    token = request.headers.get(SESSION_TOKEN_HEADER, "").strip()
    if not token:
        raise PermissionDenied(CREDENTIALS_INVALID)
    tenant = call.registry.by_token(token)
    if tenant is None or not tenant.is_sandbox:
        raise NotFound()
    tenant.tick()
    with tenant.lock:
        session = domain.book(tenant).get(session_id)
        if session is None or session.session_token != token:
            raise NotFound()
    scenario: str = (await call.checked_body())["scenario"]
    with tenant.lock:
        if session.status != st.NOT_STARTED:
            raise ValidationFailed(["Scenario can only be armed before the verification starts."])
        session.sandbox_scenario = scenario
        session.touch()
        return json_response({"session_id": session.session_id, "scenario": scenario, "status": session.status})


# ---------------------------------------------------------------- reviews feed

REVIEW_ORDERING_FIELDS = (
    "uuid", "activity_type", "actor_display", "actor_email", "actor_type", "new_status", "previous_status",
    "comment", "created_at",
)
DEFAULT_REVIEW_LIMIT = 50


def review_item(review: Review) -> dict[str, Any]:
    """One entry of the reviews feed (Didit's ReviewItem)."""
    return {
        "uuid": review.uuid,
        "activity_type": review.activity_type,
        "actor_display": review.actor_display,
        "actor_email": review.actor_email,
        "actor_type": review.actor_type,
        "new_status": review.new_status,
        "previous_status": review.previous_status,
        "comment": review.comment,
        "mentioned_emails": [],
        "previous_value": review.previous_value,
        "new_value": review.new_value,
        "changed_fields": list(review.changed_fields),
        "metadata": None,
        "created_at": _utc(review.created_at),
    }


def _ordered(reviews: list[Review], ordering: str | None) -> list[Review]:
    """DRF's OrderingFilter: known fields (comma-separated, `-` for descending); unknown ones ignored."""
    fields = [f.strip() for f in (ordering or "").split(",") if f.strip().lstrip("-") in REVIEW_ORDERING_FIELDS]
    if not fields:
        fields = ["-created_at"]
    items = list(reviews)
    if fields[0].startswith("-"):
        items.reverse()  # ties keep the primary direction: newest-written first when descending
    for name in reversed(fields):
        attribute = name.lstrip("-")
        items.sort(key=lambda r, a=attribute: _sort_key(getattr(r, a)), reverse=name.startswith("-"))
    return items


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    return (1, value) if isinstance(value, (int, float)) else (1, str(value))


def _owned_session(call: Call) -> tuple[Tenant, Session]:
    """Authenticate first, then find the session in this tenant (the reviews routes' order)."""
    session_id = call.path["session_id"]
    tenant = call.tenant
    with tenant.lock:
        session = domain.book(tenant).get(session_id)
    if session is None:
        raise NotFound("Session not found.")
    return tenant, session


@operation("list_session_reviews")
async def list_reviews(call: Call) -> Response:
    """The session's activity feed, newest first, paginated like every Didit list."""
    tenant, session = _owned_session(call)
    query = call.query
    limit, offset = page_bounds(query, DEFAULT_REVIEW_LIMIT)
    with tenant.lock:
        ordered = _ordered(session.reviews, query.get("ordering"))
        rows = [review_item(r) for r in ordered[offset:offset + limit]]
    following, preceding = page_urls(call.request, len(ordered), limit, offset)
    return json_response({"count": len(ordered), "next": following, "previous": preceding, "results": rows})


@operation("create_session_review", body_on_demand=True)
async def add_review_note(call: Call) -> Response:
    """Record a note on the session's feed; the session itself does not change and no webhook fires."""
    tenant, session = _owned_session(call)
    body = await call.checked_body()
    with tenant.lock:
        if domain.book(tenant).get(session.session_id) is None:
            raise NotFound("Session not found.")
        review = domain.add_review(
            tenant, session, activity_type="STATUS_UPDATED", new_status=body.get("new_status"), previous_status=None,
            comment=body.get("comment"), actor_type="CONSOLE_USER", actor_display="Unknown",
        )
    return json_response(
        {"user": "Unknown", "new_status": review.new_status, "comment": review.comment,
         "created_at": _utc(review.created_at)},
        201,
    )


# ---------------------------------------------------------------- data corrections

@operation("patch_v3_session_update_data", resolve_first=True, body=None)
async def update_kyc_data(call: Call) -> Response:
    """Correct the ID-verification data; answers the full current KYC record."""
    return await _update_data(call, session_data.KYC)


@operation("patch_v3_session_update_poa_data", resolve_first=True, body=None)
async def update_poa_data(call: Call) -> Response:
    """Correct the proof-of-address data; answers the full current POA record."""
    return await _update_data(call, session_data.POA)


async def _update_data(call: Call, kind: session_data.RecordKind) -> Response:
    tenant, session = resolve_then_authenticate(call, deleted_message="Not found.")
    raw = await read_json(call.request)
    node = call.query.get("node_id") or (raw.get("node_id") if isinstance(raw, dict) else None)
    with tenant.lock:
        if session.status not in st.PDF_ALLOWED:
            raise NotFound("No Session matches the given query.")
        session_data.require_record(session, kind, node)
        current = session_data.current_record(kind, _render_decision(tenant, session), session)
    changes = session_data.validate_changes(kind, raw)
    with tenant.lock:
        session_data.apply_changes(tenant, session, kind, changes, current)
        record = session_data.current_record(kind, _render_decision(tenant, session), session)
    return json_response(record)
