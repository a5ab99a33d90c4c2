"""The admin API under `/_mock/`: the one control surface for tests, the dashboard and people.

Admin routes name their tenant with the same `x-api-key` header as the Didit routes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain import sessions as sessions_domain
from ..domain.clock import parse_iso
from ..domain.errors import ValidationFailed
from ..domain.tenant import Tenant
from .auth import authenticate, registry_of
from .http import json_response, parse_body
from .paths import uuid_param


class AdvanceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(ge=0, le=10 * 365 * 24 * 3600)


class SetClockBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    now: str


class CompleteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["Approved", "Declined", "In Review", "Abandoned"] | None = None
    features: dict[str, Any] | None = None


def tenant_view(tenant: Tenant) -> dict[str, Any]:
    return {
        "api_key": tenant.api_key,
        "application_id": tenant.application_id,
        "environment": tenant.environment,
        "clock": tenant.clock.snapshot(),
        "seed": tenant.seed,
        "settings": {
            "strict_workflows": tenant.config.strict_workflows,
            "public_base_url": tenant.config.public_base_url,
            "rate_limits_enabled": tenant.config.rate_limits_enabled,
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


async def clock_advance(request: Request) -> Response:
    tenant = authenticate(request)
    body = await parse_body(request, AdvanceBody)
    with tenant.lock:
        tenant.clock.advance(body.seconds)
    tenant.tick()
    return json_response(tenant.clock.snapshot())


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


async def complete_session(request: Request) -> Response:
    tenant = authenticate(request)
    session_id = uuid_param(request, "session_id")
    body = await parse_body(request, CompleteBody)
    from ..domain.decisions import render_decision

    with tenant.lock:
        session = sessions_domain.book(tenant).require(session_id)
        sessions_domain.finish_session(tenant, session, body.status, body.features)
        return json_response(render_decision(tenant, session))


routes = [
    Route("/_mock/tenant", get_tenant, methods=["GET"]),
    Route("/_mock/reset", reset, methods=["POST"]),
    Route("/_mock/clock", clock_now, methods=["GET"]),
    Route("/_mock/clock/advance", clock_advance, methods=["POST"]),
    Route("/_mock/clock/freeze", clock_freeze, methods=["POST"]),
    Route("/_mock/clock/set", clock_set, methods=["POST"]),
    Route("/_mock/clock/real", clock_real, methods=["POST"]),
    Route("/_mock/sessions/{session_id}/complete", complete_session, methods=["POST"]),
]
