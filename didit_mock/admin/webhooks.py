"""The `/_mock/webhook(s)` admin API: destination, injected faults, the delivery log, wait, replay;
and the app's webhook sender.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain import webhooks as domain
from ..domain.errors import NotFound, ValidationFailed
from ..domain.tenant import Tenant
from ..web.auth import authenticate
from ..web.http import json_response, parse_body
from ..web.paths import uuid_param

if TYPE_CHECKING:
    pass

from ..handlers.webhooks import sender_of

MAX_WAIT_SECONDS = 300.0
DEFAULT_WAIT_SECONDS = 10.0


# ---------------------------------------------------------------- admin: configuration and faults

class AdminWebhookBody(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    url: str | None
    secret: str | None = Field(default=None, min_length=1)
    version: Literal["v1", "v2", "v3"] | None = None


class FaultsBody(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    wrong_secret: bool = False
    stale_timestamp: float = Field(default=0, ge=0, le=10 * 365 * 24 * 3600)
    duplicate: bool = False
    out_of_order: bool = False
    delay: float = Field(default=0, ge=0, le=10 * 365 * 24 * 3600)


def admin_view(tenant: Tenant) -> dict[str, Any]:
    book = domain.book(tenant)
    return {
        "url": book.legacy.url,
        "secret": book.legacy_secret(),
        "version": book.legacy.version,
        "capture_method": book.legacy.capture_method,
        "data_retention_months": book.legacy.data_retention_months,
        "destinations": [book.destination_view(d) for d in book.destinations.values()],
        "faults": dict(book.faults),
    }


async def admin_get_webhook(request: Request) -> Response:
    tenant = authenticate(request)
    with tenant.lock:
        return json_response(admin_view(tenant))


async def admin_set_webhook(request: Request) -> Response:
    tenant = authenticate(request)
    body = await parse_body(request, AdminWebhookBody)
    if body.url:
        message = domain.url_error(body.url)
        if message:
            raise ValidationFailed.field("url", message)
    with tenant.lock:
        domain.book(tenant).configure(body.url or None, body.secret, body.version)
        return json_response(admin_view(tenant))


async def admin_get_faults(request: Request) -> Response:
    tenant = authenticate(request)
    with tenant.lock:
        return json_response({"faults": dict(domain.book(tenant).faults)})


async def admin_set_faults(request: Request) -> Response:
    """Replace the tenant's injected faults (omitted keys are switched off)."""
    tenant = authenticate(request)
    body = await parse_body(request, FaultsBody)
    active = {k: v for k, v in body.model_dump().items() if v}
    with tenant.lock:
        faults = domain.book(tenant).faults
        faults.clear()
        faults.update(active)
        return json_response({"faults": dict(faults)})


# ---------------------------------------------------------------- admin: the log

_FILTERS = ("session_id", "webhook_type", "status", "event_id", "destination_uuid", "trigger")


def _bool_param(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    value = domain.parse_bool(raw)
    if value is None:
        raise ValidationFailed.field(name, "Must be a valid boolean.")
    return value


def _filters(request: Request, *, delivered_default: bool | None = None) -> dict[str, Any]:
    filters: dict[str, Any] = {name: request.query_params.get(name) or None for name in _FILTERS}
    delivered = _bool_param(request, "delivered")
    failed = _bool_param(request, "failed")
    if delivered is None and failed is not None:
        delivered = not failed
    filters["delivered"] = delivered_default if delivered is None else delivered
    filters["exhausted"] = _bool_param(request, "exhausted")
    return filters


def _pending_view(delivery: domain.Delivery) -> dict[str, Any]:
    return {
        "delivery_id": delivery.id,
        "event_id": delivery.event_id,
        "session_id": delivery.session_id,
        "webhook_type": delivery.webhook_type,
        "status": delivery.status,
        "url": delivery.url,
        "destination_uuid": delivery.destination_uuid,
        "attempts": len(delivery.attempts),
        "next_attempt_at": domain.iso_or_none(delivery.not_before),
    }


async def admin_list_webhooks(request: Request) -> Response:
    """Every attempt (oldest first) matching the filters, plus the deliveries still pending."""
    tenant = authenticate(request)
    filters = _filters(request)
    with tenant.lock:
        book = domain.book(tenant)
        results = [a.view() for a in book.find(**filters)]
        pending = [_pending_view(d) for d in book.pending()
                   if filters["session_id"] in (None, d.session_id)]
        return json_response({"count": len(results), "results": results, "pending": pending})


def _number_param(request: Request, name: str, default: float, low: float, high: float) -> float:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValidationFailed.field(name, "A valid number is required.") from None
    if not math.isfinite(value):
        raise ValidationFailed.field(name, "A valid number is required.")
    if value < low:
        raise ValidationFailed.field(name, f"Ensure this value is greater than or equal to {low:g}.")
    if value > high:
        raise ValidationFailed.field(name, f"Ensure this value is less than or equal to {high:g}.")
    return value


async def admin_wait_webhook(request: Request) -> Response:
    """Wait until the `count`-th matching attempt (default: a successful one) exists; 408 on timeout."""
    tenant = authenticate(request)
    filters = _filters(request, delivered_default=True)
    timeout = _number_param(request, "timeout", DEFAULT_WAIT_SECONDS, 0, MAX_WAIT_SECONDS)
    count = int(_number_param(request, "count", 1, 1, 10_000))
    book = domain.book(tenant)

    def found() -> domain.Attempt | None:
        hits = book.find(**filters)
        return hits[count - 1] if len(hits) >= count else None

    attempt = await sender_of(request).wait_for(tenant, found, timeout)
    with tenant.lock:
        if attempt is None:
            seen = len(book.find(**filters))
            return json_response(
                {"detail": f"No matching webhook delivery within {timeout:g} seconds.",
                 "matched": seen, "wanted": count},
                408,
            )
        return json_response(attempt.view())


def find_delivery(tenant: Tenant, ref: str) -> domain.Delivery:
    """The delivery of a log entry, by attempt uuid or delivery_id (404 when neither); hold `tenant.lock`."""
    book = domain.book(tenant)
    attempt = book.attempt(ref)
    delivery = attempt.delivery if attempt is not None else book.deliveries.get(ref)
    if delivery is None:
        raise NotFound()
    return delivery


async def admin_replay(request: Request) -> Response:
    """Send a logged delivery again: a new attempt with a fresh timestamp and signature, same event_id."""
    tenant = authenticate(request)
    ref = uuid_param(request, "attempt_uuid")
    with tenant.lock:
        delivery = find_delivery(tenant, ref)
    replayed = await sender_of(request).replay(tenant, delivery)
    with tenant.lock:
        return json_response(replayed.view())


routes = [
    Route("/_mock/webhook", admin_get_webhook, methods=["GET"]),
    Route("/_mock/webhook", admin_set_webhook, methods=["POST"]),
    Route("/_mock/webhook/faults", admin_get_faults, methods=["GET"]),
    Route("/_mock/webhook/faults", admin_set_faults, methods=["POST"]),
    Route("/_mock/webhooks", admin_list_webhooks, methods=["GET"]),
    Route("/_mock/webhooks/wait", admin_wait_webhook, methods=["GET"]),
    Route("/_mock/webhooks/{attempt_uuid}/replay", admin_replay, methods=["POST"]),
]
