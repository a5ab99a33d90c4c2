"""Users (`/v3/users/`) and businesses (`/v3/businesses/`): list, get, create, PATCH, update-status, delete;
a face uploaded to a user."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..domain import user_faces, user_report
from ..domain import users as domain
from ..domain.errors import FIELD_REQUIRED, NotFound, ValidationFailed, not_a_dictionary
from ..domain.users import BUSINESS, USER
from ..web.http import read_json
from ..web.limits import UploadedFile
from ..web.operations import Call, operation
from ..web.pagination import page_bounds, page_urls
from ..web.request_head import RequestHead
from ..web.uploads import decode_image
from ..web.validation import request_validator

DEFAULT_LIMIT = 50
NO_USER_SELECTOR = "Provide vendor_data_list or set delete_all=true."
NO_BUSINESS_SELECTOR = "Provide vendor_data_list, didit_internal_id_list, or set delete_all=true."
DELETE_ALL_WITH_LISTS = "delete_all cannot be combined with vendor_data_list or didit_internal_id_list."


async def body_of(call: Call, *, status_message: str | None) -> dict[str, Any]:
    """The JSON object, with Didit's own messages for `metadata` and (when given) `status`, then the schema."""
    document = await read_json(call.request)
    if not isinstance(document, dict):
        raise not_a_dictionary(document)
    if "metadata" in document and document["metadata"] is not None and not isinstance(document["metadata"], dict):
        raise ValidationFailed.field("metadata", domain.METADATA_NOT_OBJECT)
    if status_message is not None and "status" in document and document["status"] not in domain.STATUSES:
        raise ValidationFailed.field("status", status_message)
    validator = request_validator(call.operation, RequestHead.of(call.request.scope).media_type or "application/json")
    return document if validator is None else validator(document)


def _page(call: Call, kind: str) -> dict[str, Any]:
    tenant = call.tenant
    limit, offset = page_bounds(call.query, DEFAULT_LIMIT)
    with tenant.lock:
        entities = domain.listing(tenant, kind)
        rows = [domain.entity_json(tenant, e, detail=False) for e in entities[offset:offset + limit]]
    count = min(len(entities), domain.COUNT_CAP)
    following, preceding = page_urls(call.request, len(entities), limit, offset)
    return {"count": count, "next": following, "previous": preceding, "results": rows}


def _get(call: Call, kind: str) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return domain.entity_json(tenant, domain.book(tenant).get(kind, call.path["vendor_data"]))


async def _update_status(call: Call, kind: str) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        domain.book(tenant).get(kind, call.path["vendor_data"])
    body = await body_of(call, status_message=domain.INVALID_STATUS)
    with tenant.lock:
        entities = domain.book(tenant)
        entity = entities.get(kind, call.path["vendor_data"])
        entities.set_status(entity, body["status"])
        return domain.entity_json(tenant, entity)


async def _delete(call: Call, kind: str) -> dict[str, Any]:
    tenant = call.tenant
    body = await body_of(call, status_message=None)
    vendor_data, ids = body.get("vendor_data_list") or [], body.get("didit_internal_id_list") or []
    everything = body.get("delete_all") is True
    if kind == BUSINESS and everything and (vendor_data or ids):
        raise ValidationFailed([DELETE_ALL_WITH_LISTS])
    if not (vendor_data or ids or everything):
        raise ValidationFailed([NO_USER_SELECTOR if kind == USER else NO_BUSINESS_SELECTOR])
    with tenant.lock:
        deleted = domain.book(tenant).delete(kind, [str(v) for v in vendor_data], [str(i) for i in ids], everything)
    return {"deleted": deleted}


# ---------------------------------------------------------------- users

@operation("list_users")
async def list_users(call: Call) -> dict[str, Any]:
    return _page(call, USER)


@operation("get_user")
async def get_user(call: Call) -> dict[str, Any]:
    return _get(call, USER)


@operation("create_user", body=None)
async def create_user(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    body = await body_of(call, status_message=domain.INVALID_STATUS)
    if not body.get("vendor_data"):
        raise ValidationFailed.field("vendor_data", FIELD_REQUIRED)
    with tenant.lock:
        entity = domain.book(tenant).create(USER, body["vendor_data"], body)
        return domain.entity_json(tenant, entity)


@operation("get_user_generate_pdf")
async def user_pdf(call: Call) -> Response:
    """The user's report with its newest reportable KYC sessions."""
    from ..domain.decision.rendering import render_decision  # lazily: the builders pull in Faker

    tenant = call.tenant
    with tenant.lock:
        entity = domain.book(tenant).get(USER, call.path["vendor_data"], user_report.USER_NOT_FOUND)
        chosen = user_report.reportable(domain.sessions_of(tenant, entity))
        body = domain.entity_json(tenant, entity)
        decisions = [render_decision(tenant, s) for s in chosen]
        now = tenant.clock.now()
    data = await run_in_threadpool(user_report.render_user_report, body, decisions, now)
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": f"attachment; filename=user_{entity.didit_internal_id}.pdf"})


async def _update(call: Call, kind: str, status_message: str | None, sync_blocklist: bool) -> dict[str, Any]:
    """A PATCH of a user or business: found first (404), then its body checked, then applied."""
    tenant = call.tenant
    with tenant.lock:
        domain.book(tenant).get(kind, call.path["vendor_data"])
    body = await body_of(call, status_message=status_message)
    with tenant.lock:
        entities = domain.book(tenant)
        entity = entities.get(kind, call.path["vendor_data"])
        entities.update(entity, body, sync_blocklist=sync_blocklist)
        return domain.entity_json(tenant, entity)


@operation("update_user", body=None)
async def update_user(call: Call) -> dict[str, Any]:
    return await _update(call, USER, status_message=None, sync_blocklist=False)  # a user PATCH keeps the blocklist


@operation("update_user_status", body=None)
async def update_user_status(call: Call) -> dict[str, Any]:
    return await _update_status(call, USER)


@operation("batch_delete_users", body=None)
async def delete_users(call: Call) -> dict[str, Any]:
    return await _delete(call, USER)


@operation("upload_user_face", body=None)
async def upload_user_face(call: Call) -> dict[str, Any]:
    """A trusted face kept on the user and enrolled in the face index: the user first (404), then the
    room for it, then the image (raw base64 of a JPG or PNG, decoded by Pillow)."""
    tenant = call.tenant
    path = call.path
    with tenant.lock:
        if path["organization_id"] != tenant.organization_id or path["application_id"] != tenant.application_id:
            raise NotFound()
        user_faces.check_room(tenant, user_faces.user_by_id(tenant, path["didit_internal_id"]))
    body = await body_of(call, status_message=None)
    data = user_faces.decode(body.get("image"))
    if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
        raise ValidationFailed.field("image", user_faces.NOT_AN_IMAGE, as_list=False)
    image = decode_image("image", UploadedFile("face", "application/octet-stream", data),
                         {"image": user_faces.NOT_AN_IMAGE})
    with tenant.lock:
        user = user_faces.user_by_id(tenant, path["didit_internal_id"])
        return user_faces.upload(tenant, user, image, data, str(body.get("comment") or "")).view(tenant)


# ---------------------------------------------------------------- businesses

@operation("list_businesses")
async def list_businesses(call: Call) -> dict[str, Any]:
    return _page(call, BUSINESS)


@operation("get_business")
async def get_business(call: Call) -> dict[str, Any]:
    return _get(call, BUSINESS)


@operation("create_business", body=None)
async def create_business(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    body = await body_of(call, status_message=domain.INVALID_STATUS)
    with tenant.lock:
        entity = domain.book(tenant).create(BUSINESS, body.get("vendor_data") or None, body)
        return domain.entity_json(tenant, entity)


@operation("update_business", body=None)
async def update_business(call: Call) -> dict[str, Any]:
    return await _update(call, BUSINESS, status_message=domain.INVALID_STATUS, sync_blocklist=True)


@operation("update_business_status", body=None)
async def update_business_status(call: Call) -> dict[str, Any]:
    return await _update_status(call, BUSINESS)


@operation("batch_delete_businesses", body=None)
async def delete_businesses(call: Call) -> dict[str, Any]:
    return await _delete(call, BUSINESS)
