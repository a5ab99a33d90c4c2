"""Session imports (`/v3/session/imports/`): the template, creating a job, reading it and its row errors."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..domain import import_rows
from ..domain import imports as domain
from ..domain.errors import ValidationFailed
from ..web.http import read_json
from ..web.limits import FILES, UploadedFile
from ..web.operations import Call, operation
from ..web.pagination import page_bounds, page_urls
from ..web.validation import request_validator

DEFAULT_LIMIT = 50


def _import_type(value: Any) -> str:
    chosen = value if value not in (None, "") else import_rows.USER_VERIFICATION
    if chosen not in import_rows.IMPORT_TYPES:
        raise ValidationFailed.field("import_type", f'"{chosen}" is not a valid choice.')
    return str(chosen)


@operation("get_v3_session_imports_template")
async def template(call: Call) -> Response:
    """The canonical CSV header of an import type."""
    import_type = _import_type(call.query.get("import_type"))
    return Response(import_rows.template(import_type), media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="didit-import-template-{import_type}.csv"'})


async def _request(call: Call) -> domain.NewImport:
    """The create request, multipart (a file or a URL) or JSON (a URL), checked against the spec's
    multipart fields (one serializer for both: a missing source is Didit's own `file` message)."""
    document = await read_json(call.request)
    validator = request_validator(call.operation, "multipart/form-data")
    values: dict[str, Any] = validator(document) if validator is not None else dict(document)
    values.pop("file", None)  # a text field named `file` is no upload
    uploads: dict[str, list[UploadedFile]] = call.request.scope.get(FILES) or {}
    upload = next(iter(uploads.get("file") or []), None)
    if upload is not None and not upload.filename:
        upload = None
    return domain.NewImport(
        import_type=_import_type(values.get("import_type")), workflow_id=values.get("workflow_id") or None,
        source_format=values.get("source_format") or None,
        filename=upload.filename if upload is not None else None,
        data=upload.data if upload is not None else None, url=values.get("source_file_url") or None,
    )


@operation("post_v3_session_imports_create", body=None)
async def create_import(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        domain.check_enabled(tenant)
    request = await _request(call)
    with tenant.lock:
        return domain.create_job(tenant, request).view()


@operation("get_v3_session_imports_retrieve")
async def get_import(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return domain.book(tenant).get(call.path["importId"]).view()


@operation("get_v3_session_imports_errors")
async def list_import_errors(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    limit, offset = page_bounds(call.query, DEFAULT_LIMIT)
    with tenant.lock:
        errors = domain.row_errors(tenant, call.path["importId"])
        rows = [e.view() for e in errors[offset:offset + limit]]
    following, preceding = page_urls(call.request, len(errors), limit, offset)
    return {"count": min(len(errors), domain.COUNT_CAP), "next": following, "previous": preceding, "results": rows}
