"""Didit's webhook configuration and delivery-log operations.

`GET/PATCH /v3/webhook/` (application-level URL), `GET/POST /v3/webhook/destinations/`,
`GET/PATCH/DELETE /v3/webhook/destinations/{uuid}/`, `GET /v3/session/{id}/webhooks/`,
`GET /v3/session/{id}/webhook/{uuid}` and `POST .../resend` (no trailing slash).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from ..domain import sessions as sessions_domain
from ..domain import webhooks as domain
from ..domain.errors import NotFound
from ..domain.tenant import Tenant
from ..web.http import json_response, read_json
from ..web.operations import Call, operation
from ..web.paths import uuid_param
from ..webhook_delivery import WebhookSender

if TYPE_CHECKING:
    pass

MAX_WAIT_SECONDS = 300.0
DEFAULT_WAIT_SECONDS = 10.0


def sender_of(request: Request) -> WebhookSender:
    return request.app.state.webhook_sender


# ---------------------------------------------------------------- Didit: configuration

@operation("get_legacy_webhook", body=None)
async def get_legacy(call: Call) -> Response:
    tenant = call.tenant
    with tenant.lock:
        return json_response(domain.book(tenant).legacy_view())


@operation("update_legacy_webhook", body=None)
async def patch_legacy(call: Call) -> Response:
    request = call.request
    tenant = call.tenant
    data = await read_json(request)
    with tenant.lock:
        book = domain.book(tenant)
        book.update_legacy(data)
        return json_response(book.legacy_view())


@operation("list_webhook_destinations", body=None)
async def list_destinations(call: Call) -> Response:
    tenant = call.tenant
    with tenant.lock:
        book = domain.book(tenant)
        return json_response([book.destination_row(d) for d in book.destinations.values()])


@operation("create_webhook_destination", body=None)
async def create_destination(call: Call) -> Response:
    request = call.request
    tenant = call.tenant
    data = await read_json(request)
    with tenant.lock:
        book = domain.book(tenant)
        return json_response(book.destination_view(book.create_destination(data)), 201)


@operation("get_webhook_destination", body=None)
async def get_destination(call: Call) -> Response:
    request = call.request
    tenant = call.tenant
    destination_uuid = request.path_params["destination_uuid"]
    with tenant.lock:
        book = domain.book(tenant)
        return json_response(book.destination_view(book.get_destination(destination_uuid)))


@operation("update_webhook_destination", body=None)
async def patch_destination(call: Call) -> Response:
    request = call.request
    tenant = call.tenant
    destination_uuid = request.path_params["destination_uuid"]
    data = await read_json(request)
    with tenant.lock:
        book = domain.book(tenant)
        return json_response(book.destination_view(book.update_destination(destination_uuid, data)))


@operation("delete_webhook_destination", body=None)
async def delete_destination(call: Call) -> Response:
    request = call.request
    tenant = call.tenant
    destination_uuid = request.path_params["destination_uuid"]
    with tenant.lock:
        domain.book(tenant).delete_destination(destination_uuid)
    return Response(status_code=204)


# ---------------------------------------------------------------- Didit: delivery log

def _session_attempts(tenant: Tenant, session_id: str) -> list[domain.Attempt]:
    """The session's log entries; 404 when neither the session nor any delivery of it exists."""
    attempts = domain.book(tenant).find(session_id=session_id)
    if not attempts and sessions_domain.book(tenant).get(session_id) is None:
        raise NotFound()
    return attempts


@operation("list_session_webhooks", body=None)
async def session_webhooks(call: Call) -> Response:
    request = call.request
    tenant = call.tenant
    session_id = request.path_params["session_id"]
    with tenant.lock:
        attempts = _session_attempts(tenant, session_id)
        return json_response([a.view() for a in reversed(attempts)])


def _session_attempt(tenant: Tenant, request: Request) -> domain.Attempt:
    session_id = request.path_params["session_id"]
    attempt_uuid = uuid_param(request, "webhook_uuid")
    attempt = domain.book(tenant).attempt(attempt_uuid)
    if attempt is None or attempt.delivery.session_id != session_id:
        raise NotFound()
    return attempt


@operation("get_session_webhook", body=None)
async def session_webhook(call: Call) -> Response:
    request = call.request
    tenant = call.tenant
    with tenant.lock:
        return json_response(_session_attempt(tenant, request).view())


@operation("resend_session_webhook", body=None)
async def resend_session_webhook(call: Call) -> Response:
    request = call.request
    tenant = call.tenant
    with tenant.lock:
        delivery = _session_attempt(tenant, request).delivery
    attempt = await sender_of(request).replay(tenant, delivery)
    with tenant.lock:
        return json_response(attempt.view())
