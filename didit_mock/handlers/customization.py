"""Customization: `PATCH /v3/customization/` (JSON branding fields, or multipart logo uploads).

The branding document is the generic store's singleton (its `GET` is the store's); this handler
adds what a declaration cannot say: color and Console-only field checks, logo uploads with their
aspect ratios, and the `delete_*` flags (`domain.branding`).

An uploaded logo's bytes are kept in the store (`customization-logos`, base64) and its field is the
signed URL that serves them (`domain.files`, `didit_mock.downloads`); a logo the branding no longer
shows (replaced, deleted) is dropped, so its old URL answers 404.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from ..domain import branding, files
from ..domain.errors import not_a_dictionary
from ..resources.families import CUSTOMIZATION, CUSTOMIZATION_LOGOS
from ..resources.store import Document, ResourceStore
from ..spec.table import api_operations
from ..web.http import read_json
from ..web.limits import FILES
from ..web.operations import Call, operation
from ..web.store import singleton_document, singleton_view
from ..web.uploads import FileRule, read_form
from ..web.validation import request_validator

if TYPE_CHECKING:
    from ..domain.tenant import Tenant

LOGO_EXTENSIONS = ("png", "jpg", "jpeg", "webp")
RULES = (
    FileRule("image_square", LOGO_EXTENSIONS, max_mb=1, required=False),
    FileRule("image_rectangular", LOGO_EXTENSIONS, max_mb=1, required=False),
    FileRule("image_favicon", (*LOGO_EXTENSIONS, "ico"), max_mb=1, required=False),
)


@operation("update_customization", body=None)
async def update_customization(call: Call) -> dict[str, Any]:
    raw = await read_json(call.request)
    if not isinstance(raw, dict):
        raise not_a_dictionary(raw)
    branding.refuse_console_fields(raw)
    uploads: dict[str, branding.Upload] = {}
    if FILES in call.request.scope:  # a multipart body with files (its other fields are read below)
        form = await read_form(call, RULES)
        for name, image in form.images.items():
            upload = form.files[name]
            uploads[name] = branding.Upload(image.width, image.height, len(upload.data), image.digest,
                                            upload.filename.rsplit(".", 1)[-1].lower(), upload.data)
    validator = request_validator(call.operation, "application/json")
    fields = {k: v for k, v in raw.items() if k not in {rule.field for rule in RULES}}
    values = fields if validator is None else validator(fields)
    tenant = call.tenant
    with tenant.lock:
        store = tenant.component(ResourceStore)
        document = singleton_document(store, CUSTOMIZATION, _shape())
        changes = branding.changes(values, uploads, str(document.get("font_family") or "Inter"))
        base = str(call.request.base_url)
        for logo, upload in branding.accepted(uploads):
            changes[logo.shown_as] = _keep_logo(tenant, store, logo.shown_as, upload, base)
        updated = store.update(CUSTOMIZATION, document[CUSTOMIZATION.id_field], changes)
        _drop_unshown_logos(tenant, store, updated)
        return singleton_view(CUSTOMIZATION, updated)


def logo_file(tenant: Tenant, key: str) -> files.StoredFile | None:
    """An uploaded logo the branding shows, by its file key (`customization/<field>/<id>.<ext>`), or None."""
    found = next((d for d in tenant.component(ResourceStore).all(CUSTOMIZATION_LOGOS) if d.get("key") == key), None)
    if found is None:
        return None
    return files.StoredFile(base64.b64decode(found["content"]), found["content_type"], key.rsplit("/", 1)[-1])


def _keep_logo(tenant: Tenant, store: ResourceStore, field: str, upload: branding.Upload, base: str) -> str:
    """Keep an accepted logo's bytes; the URL it is served at."""
    name = f"{tenant.rng.uuid4()}.{upload.extension}"
    key = f"customization/{field}/{name}"
    store.create(CUSTOMIZATION_LOGOS, {}, {
        "field": field, "key": key, "content_type": files.IMAGE_TYPES[upload.extension],
        "content": base64.b64encode(upload.data).decode("ascii")})
    return files.signed_url(base, tenant, key)


def _drop_unshown_logos(tenant: Tenant, store: ResourceStore, branding_document: Document) -> None:
    """Forget the kept logos the branding no longer shows (replaced, deleted or overwritten)."""
    for kept in store.all(CUSTOMIZATION_LOGOS):
        shown = branding_document.get(kept["field"])
        if not isinstance(shown, str) or f"/files/{tenant.application_id}/{kept['key']}?" not in shown:
            store.delete(CUSTOMIZATION_LOGOS, kept[CUSTOMIZATION_LOGOS.id_field])


def _shape() -> Any:
    """The operation whose documented answer is the branding's defaults (`get_customization`)."""
    return next(o for o in api_operations() if o.operation_id == CUSTOMIZATION.shape_from)
