"""The admin API under `/_mock/`: the one control surface for tests, the dashboard and people.

Admin routes name their tenant with the same `x-api-key` header as the Didit routes. When the
server has an admin token, the gateway (`refusal` below) guards every `/_mock` path, whichever module
added the route.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import journal as journal_mod
from ..domain import ratelimit
from ..domain import sessions as sessions_domain
from ..domain.clock import parse_iso
from ..domain.errors import ValidationFailed
from ..domain.risks import check_choices
from ..domain.sessions import Session
from ..domain.tenant import LIVE_KEY_PREFIX, Tenant, TenantConfig
from ..web.auth import authenticate, registry_of
from ..web.http import json_response, parse_body
from ..web.paths import is_canonical_uuid, uuid_param

TEST_KEY_PREFIX = "sk_test_"
STATUS_FILTER_HELP = "Use a status code such as 429, a class such as 4xx, or a comma-separated list."


class AdvanceBody(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    seconds: float = Field(ge=0, le=10 * 365 * 24 * 3600)


class SetClockBody(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    now: str


class CompleteBody(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    status: Literal["Approved", "Declined", "In Review", "Abandoned"] | None = None
    features: dict[str, Any] | None = None
    final_only: bool = False


def tenant_view(tenant: Tenant) -> dict[str, Any]:
    return {
        "api_key": tenant.api_key,
        "application_id": tenant.application_id,
        "organization_id": tenant.organization_id,
        "environment": tenant.environment,
        "clock": tenant.clock.snapshot(),
        "seed": tenant.seed,
        "settings": {
            "strict_workflows": tenant.config.strict_workflows,
            "public_base_url": tenant.config.public_base_url,
            "rate_limits_enabled": tenant.config.rate_limits_enabled,
            "rate_limit_scale": tenant.config.rate_limit_scale,
            "decision_rate_limit": tenant.config.decision_rate_limit,
            "credits": tenant.config.credits,
        },
        "sessions": len(sessions_domain.book(tenant)),
    }


async def get_tenant(request: Request) -> Response:
    return json_response(tenant_view(authenticate(request)))


async def reset(request: Request) -> Response:
    registry = registry_of(request)
    if request.query_params.get("all", "").lower() in ("1", "true", "yes"):
        registry.reset_all()
        return json_response({"reset": "all"})
    tenant = authenticate(request)
    fresh = registry.reset(tenant.api_key)
    return json_response({"reset": tenant.api_key, "tenant": tenant_view(fresh) if fresh else None})


async def clock_now(request: Request) -> Response:
    return json_response(authenticate(request).clock.snapshot())


def advance_clock(tenant: Tenant, seconds: float) -> dict[str, Any]:
    """Move the tenant clock forward, run the jobs that fell due, and return the clock."""
    with tenant.lock:
        tenant.clock.advance(seconds)
    tenant.tick()
    return tenant.clock.snapshot()


async def clock_advance(request: Request) -> Response:
    tenant = authenticate(request)
    body = await parse_body(request, AdvanceBody)
    return json_response(advance_clock(tenant, body.seconds))


async def clock_freeze(request: Request) -> Response:
    tenant = authenticate(request)
    tenant.clock.freeze()
    return json_response(tenant.clock.snapshot())


async def clock_set(request: Request) -> Response:
    tenant = authenticate(request)
    body = await parse_body(request, SetClockBody)
    try:
        instant = parse_iso(body.now)
    except ValueError:
        raise ValidationFailed.field("now", "Datetime has wrong format.") from None
    with tenant.lock:
        tenant.clock.set(instant)
    tenant.tick()
    return json_response(tenant.clock.snapshot())


async def clock_real(request: Request) -> Response:
    tenant = authenticate(request)
    tenant.clock.real()
    tenant.tick()
    return json_response(tenant.clock.snapshot())


def complete(tenant: Tenant, session_id: str, body: CompleteBody) -> Session:
    """Finish the tenant's session as the user would (404 when unknown); call it holding `tenant.lock`."""
    session = sessions_domain.book(tenant).require(session_id)
    return sessions_domain.finish_session(tenant, session, body.status, body.features, body.final_only)


async def complete_session(request: Request) -> Response:
    tenant = authenticate(request)
    session_id = uuid_param(request, "session_id")
    body = await parse_body(request, CompleteBody)
    check_choices(body.features)
    from ..domain.decision.rendering import render_decision

    with tenant.lock:
        session = complete(tenant, session_id, body)
        return json_response(render_decision(tenant, session))


# ---------------------------------------------------------------- tenants

class CreateTenantBody(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    api_key: str | None = Field(None, min_length=1, max_length=256, pattern=r"^[!-~]+$")
    environment: Literal["live", "sandbox"] | None = None
    application_id: str | None = None
    seed: int | None = None
    clock_start: str | None = None
    frozen: bool | None = None
    strict_workflows: bool | None = None
    credits: float | None = Field(None, ge=0)
    rate_limits: bool | None = None
    rate_limit_scale: float | None = Field(None, ge=0.0001, le=1000)
    decision_rate_limit: int | None = Field(None, ge=1, le=1_000_000)


def generate_api_key(environment: str | None) -> str:
    """A fresh key in the newest docs' format: `sk_test_`/`sk_live_` + 43 URL-safe characters.

    Drawn from the server's random source, not a tenant's (tenant randomness stays reproducible).
    """
    prefix = LIVE_KEY_PREFIX if environment == "live" else TEST_KEY_PREFIX
    return prefix + secrets.token_urlsafe(32)


def _tenant_config(request: Request, body: CreateTenantBody) -> TenantConfig:
    defaults = registry_of(request).defaults
    config = TenantConfig(**{**defaults.__dict__, "extra": dict(defaults.extra)})
    if body.clock_start is not None:
        try:
            config.clock_start = parse_iso(body.clock_start).timestamp()
        except ValueError:
            raise ValidationFailed.field("clock_start", "Datetime has wrong format.") from None
    if body.application_id is not None:
        application_id = body.application_id.strip().lower()
        if not is_canonical_uuid(application_id):
            raise ValidationFailed.field("application_id", "Must be a valid UUID.")
        owner = registry_of(request).by_application(application_id)
        if owner is not None and owner.api_key != body.api_key:
            raise ValidationFailed.field("application_id", "Another tenant already uses this application_id.")
        config.application_id = application_id
    overrides = {
        "environment": body.environment,
        "seed": body.seed,
        "clock_frozen": body.frozen,
        "strict_workflows": body.strict_workflows,
        "credits": body.credits,
        "rate_limits_enabled": body.rate_limits,
        "rate_limit_scale": body.rate_limit_scale,
        "decision_rate_limit": body.decision_rate_limit,
    }
    for name, value in overrides.items():
        if value is not None:
            setattr(config, name, value)
    return config


async def create_tenant(request: Request) -> Response:
    """Create (or re-create, empty) a tenant with its own settings; answers the view with its key."""
    body = await parse_body(request, CreateTenantBody)
    config = _tenant_config(request, body)
    api_key = body.api_key or generate_api_key(body.environment)
    registry = registry_of(request)
    registry.key_configs[api_key] = config
    if registry.allowed_keys:
        registry.allowed_keys.add(api_key)
    tenant = registry.reset(api_key)
    assert tenant is not None
    return json_response(tenant_view(tenant), 201)


# ---------------------------------------------------------------- sessions

class ForceStatusBody(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    status: Literal[
        "Not Started", "In Progress", "Approved", "Declined", "In Review", "Expired", "Abandoned",
        "Kyc Expired", "Resubmitted", "Awaiting User",
    ]


def session_row(session: Session) -> dict[str, Any]:
    """The compact view of a session the admin API lists."""
    return {
        "session_id": session.session_id,
        "session_number": session.session_number,
        "status": session.status,
        "vendor_data": session.vendor_data,
        "workflow_id": session.workflow.workflow_id,
        "created_at": sessions_domain.created_iso(session),
        "session_token": session.session_token,
        "url": session.url,
    }


async def list_sessions(request: Request) -> Response:
    """The tenant's sessions, oldest first; `?status=` and `?vendor_data=` filter."""
    tenant = authenticate(request)
    status = request.query_params.get("status")
    vendor_data = request.query_params.get("vendor_data")
    with tenant.lock:
        rows = [
            session_row(s) for s in sessions_domain.book(tenant).by_id.values()
            if (status is None or s.status == status) and (vendor_data is None or s.vendor_data == vendor_data)
        ]
    return json_response({"count": len(rows), "results": rows})


async def force_status(request: Request) -> Response:
    """Put a session in any status, as the service would (the status.updated webhook fires)."""
    tenant = authenticate(request)
    session_id = uuid_param(request, "session_id")
    body = await parse_body(request, ForceStatusBody)
    with tenant.lock:
        session = sessions_domain.book(tenant).require(session_id)
        sessions_domain.set_status(tenant, session, body.status)
        return json_response(session_row(session))


# ---------------------------------------------------------------- request journal

def _query_instant(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_iso(raw).timestamp()
    except ValueError:
        raise ValidationFailed.field(name, "Datetime has wrong format.") from None


async def list_requests(request: Request) -> Response:
    """The journal, oldest first: `method`, `path` (prefix or glob), `status` (429, 4xx, lists),
    `since`/`until` (ISO on the tenant clock) and `limit` (the latest N)."""
    tenant = authenticate(request)
    query = request.query_params
    limit: int | None = None
    if query.get("limit"):
        try:
            limit = int(query["limit"])
        except ValueError:
            raise ValidationFailed.field("limit", "A valid integer is required.") from None
        if limit < 0:
            raise ValidationFailed.field("limit", "Ensure this value is greater than or equal to 0.")
    status = query.get("status") or None
    if status is not None:
        try:
            journal_mod.status_matcher(status)
        except ValueError:
            raise ValidationFailed.field("status", STATUS_FILTER_HELP) from None
    entries = journal_mod.journal_of(tenant).select(
        method=query.get("method") or None,
        path=query.get("path") or None,
        status=status,
        since=_query_instant(request, "since"),
        until=_query_instant(request, "until"),
        limit=limit,
    )
    return json_response({"count": len(entries), "results": journal_mod.entries_as_dicts(entries)})


async def clear_requests(request: Request) -> Response:
    tenant = authenticate(request)
    return json_response({"cleared": journal_mod.journal_of(tenant).clear()})


# ---------------------------------------------------------------- rate limits

class RateLimitsBody(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    enabled: bool | None = None
    scale: float | None = Field(None, ge=0.0001, le=1000)
    decision_limit: int | None = Field(None, ge=1, le=1_000_000)
    #: Count this many requests in a scope now (reach a limit without sending them).
    consume: dict[str, int] | None = None
    #: Empty every window first.
    clear: bool = False


async def get_ratelimits(request: Request) -> Response:
    tenant = authenticate(request)
    return json_response(ratelimit.limiter(tenant).snapshot())


async def set_ratelimits(request: Request) -> Response:
    """Switch the tenant's limits on or off, scale them, set the decision limit, pre-fill windows."""
    tenant = authenticate(request)
    body = await parse_body(request, RateLimitsBody)
    for scope, count in (body.consume or {}).items():
        if scope not in ratelimit.SCOPES:
            raise ValidationFailed({"consume": {scope: [f'"{scope}" is not a valid choice.']}})
        if count < 0:
            raise ValidationFailed({"consume": {scope: ["Ensure this value is greater than or equal to 0."]}})
    limits = ratelimit.limiter(tenant)
    with tenant.lock:
        if body.enabled is not None:
            tenant.config.rate_limits_enabled = body.enabled
        if body.scale is not None:
            tenant.config.rate_limit_scale = body.scale
        if body.decision_limit is not None:
            tenant.config.decision_rate_limit = body.decision_limit
        if body.clear:
            limits.clear()
        for scope, count in (body.consume or {}).items():
            limits.consume(scope, count)
    return json_response(limits.snapshot())


async def start_session(request: Request) -> Response:
    """Admin: the user opened the link (Not Started or Resubmitted becomes In Progress)."""
    tenant = authenticate(request)
    session_id = uuid_param(request, "session_id")
    with tenant.lock:
        session = sessions_domain.book(tenant).require(session_id)
        if not sessions_domain.start_session(tenant, session):
            raise ValidationFailed.detail(
                f"Only sessions that are Not Started or Resubmitted can be started. Current status: {session.status}"
            )
        from ..domain.decision.rendering import render_decision  # lazily: the builders pull in Faker

        return json_response(render_decision(tenant, session))


routes = [
    Route("/_mock/sessions/{session_id}/start", start_session, methods=["POST"], name="mock_start_session"),
    Route("/_mock/tenant", get_tenant, methods=["GET"]),
    Route("/_mock/tenants", create_tenant, methods=["POST"]),
    Route("/_mock/reset", reset, methods=["POST"]),
    Route("/_mock/clock", clock_now, methods=["GET"]),
    Route("/_mock/clock/advance", clock_advance, methods=["POST"]),
    Route("/_mock/clock/freeze", clock_freeze, methods=["POST"]),
    Route("/_mock/clock/set", clock_set, methods=["POST"]),
    Route("/_mock/clock/real", clock_real, methods=["POST"]),
    Route("/_mock/sessions", list_sessions, methods=["GET"]),
    Route("/_mock/sessions/{session_id}/complete", complete_session, methods=["POST"]),
    Route("/_mock/sessions/{session_id}/status", force_status, methods=["POST"]),
    Route("/_mock/requests", list_requests, methods=["GET"]),
    Route("/_mock/requests", clear_requests, methods=["DELETE"]),
    Route("/_mock/ratelimits", get_ratelimits, methods=["GET"]),
    Route("/_mock/ratelimits", set_ratelimits, methods=["POST"]),
]
