"""Customization: `PATCH /v3/customization/` (JSON branding fields, or multipart logo uploads).

The branding document is the generic store's singleton (its `GET` is the store's); this handler
adds what a declaration cannot say: color and Console-only field checks, logo uploads with their
aspect ratios, and the `delete_*` flags (`domain.branding`).
"""

from __future__ import annotations

from typing import Any

from ..domain import branding
from ..domain.errors import not_a_dictionary
from ..resources.families import CUSTOMIZATION
from ..resources.store import ResourceStore
from ..spec.table import api_operations
from ..web.http import read_json
from ..web.limits import FILES
from ..web.operations import Call, operation
from ..web.store import singleton_document, singleton_view
from ..web.uploads import FileRule, read_form
from ..web.validation import request_validator

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
                                            upload.filename.rsplit(".", 1)[-1].lower())
    validator = request_validator(call.operation, "application/json")
    fields = {k: v for k, v in raw.items() if k not in {rule.field for rule in RULES}}
    values = fields if validator is None else validator(fields)
    tenant = call.tenant
    with tenant.lock:
        store = tenant.component(ResourceStore)
        document = singleton_document(store, CUSTOMIZATION, _shape())
        changes = branding.changes(values, uploads, tenant.application_id, str(document.get("font_family") or "Inter"))
        return singleton_view(CUSTOMIZATION, store.update(CUSTOMIZATION, document[CUSTOMIZATION.id_field], changes))


def _shape() -> Any:
    """The operation whose documented answer is the branding's defaults (`get_customization`)."""
    return next(o for o in api_operations() if o.operation_id == CUSTOMIZATION.shape_from)
