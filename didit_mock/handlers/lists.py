"""Lists (`/v3/lists/`): system blocklists (shared with `/v3/blocklist/`), allowlists, custom lists."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.responses import Response

from ..domain import lists as domain
from ..domain.errors import ValidationFailed, not_a_dictionary
from ..web.http import json_response, read_json
from ..web.operations import Call, operation
from ..web.pagination import page_bounds, page_urls
from ..web.paths import is_canonical_uuid

DEFAULT_LIMIT = 50
MAX_FACE_BYTES = 2 * 1024 * 1024
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def _choice(call: Call, name: str, choices: tuple[str, ...]) -> str | None:
    value = call.query.get(name) or None
    if value is not None and value not in choices:
        raise ValidationFailed.field(name, f'"{value}" is not a valid choice.')
    return value


def _page(call: Call, rows: list[dict[str, Any]]) -> Response:
    limit, offset = page_bounds(call.query, DEFAULT_LIMIT)
    following, preceding = page_urls(call.request, len(rows), limit, offset)
    return json_response({"count": len(rows), "next": following, "previous": preceding,
                          "results": rows[offset:offset + limit]})


@operation("list_lists")
def list_lists(call: Call) -> Response:
    tenant = call.tenant
    list_type = _choice(call, "list_type", domain.LIST_TYPES)
    entry_type = _choice(call, "entry_type", domain.ENTRY_TYPES)
    ordering = _choice(call, "ordering", ("created_at", "-created_at")) or "-created_at"
    with tenant.lock:
        records = domain.find_lists(tenant, list_type, entry_type, newest_first=ordering.startswith("-"))
        rows = [domain.list_view(tenant, r) for r in records]
    return _page(call, rows)


@operation("create_list")
def create_list(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    body = call.body
    with tenant.lock:
        record = domain.create_list(tenant, str(body["name"]), str(body.get("description") or ""),
                                    str(body["list_type"]), str(body["entry_type"]))
        return domain.list_view(tenant, record)


@operation("get_list")
def get_list(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return domain.list_view(tenant, domain.book(tenant).get(call.path["list_uuid"]))


@operation("update_list")
def update_list(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        record = domain.update_list(tenant, call.path["list_uuid"], dict(call.body or {}))
        return domain.list_view(tenant, record)


@operation("delete_list")
def delete_list(call: Call) -> Response:
    tenant = call.tenant
    with tenant.lock:
        domain.delete_list(tenant, call.path["list_uuid"])
    return Response(status_code=204)


@operation("list_list_entries")
def list_entries(call: Call) -> Response:
    tenant = call.tenant
    with tenant.lock:
        record = domain.book(tenant).get(call.path["list_uuid"])
        rows = domain.search_entries(list(reversed(domain.entries_of(tenant, record))), call.query.get("search"))
    return _page(call, rows)


_TEXT_FIELDS = ("value", "reference_session_id", "reference_object_uuid", "display_label", "comment")


@operation("create_list_entry", body=None)
async def create_entry(call: Call) -> dict[str, Any]:
    """Checked by hand: "value or reference_session_id" needs a clearer word than the schema's anyOf."""
    tenant = call.tenant
    document = await read_json(call.request)
    if not isinstance(document, dict):
        raise not_a_dictionary(document)
    for name in _TEXT_FIELDS:
        if document.get(name) is not None and not isinstance(document[name], str):
            raise ValidationFailed.field(name, "Not a valid string.")
    for name in ("reference_session_id", "reference_object_uuid"):
        if document.get(name) and not is_canonical_uuid(document[name].strip().lower()):
            raise ValidationFailed.field(name, "Must be a valid UUID.")
        if document.get(name):
            document[name] = document[name].strip().lower()
    if document.get("metadata") is not None and not isinstance(document["metadata"], dict):
        raise ValidationFailed.field("metadata", "Expected a dictionary of items.")
    with tenant.lock:
        return domain.add_entry(tenant, call.path["list_uuid"], document)


@operation("upload_list_entry_face")
def upload_face(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    image = _decoded_image(str(call.body["image"]))
    del image  # the mock keeps no biometric data: the face is a new id
    with tenant.lock:
        return domain.add_face(tenant, call.path["list_uuid"], call.body.get("comment"))


def _decoded_image(text: str) -> bytes:
    if "," in text[:100] and text.startswith("data:"):
        text = text.split(",", 1)[1]
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.field("image", "Invalid base64-encoded image.") from None
    if len(raw) > MAX_FACE_BYTES:
        raise ValidationFailed.field("image", "Image size must not exceed 2 MB.")
    is_webp = raw[:4] == b"RIFF" and raw[8:12] == b"WEBP"
    if not (is_webp or raw.startswith(_IMAGE_MAGIC)):
        raise ValidationFailed.field("image", "Unsupported image format. Use JPG, PNG or WebP.")
    return raw


@operation("delete_list_entry")
def delete_entry(call: Call) -> Response:
    tenant = call.tenant
    with tenant.lock:
        domain.delete_entry(tenant, call.path["list_uuid"], call.path["entry_uuid"])
    return Response(status_code=204)
