"""`GET /files/{application_id}/{key}?signature=...`: the files the API hands out as presigned URLs
(case note attachments, printed cases, regulatory report files, branding logos, user faces). The
signature names the file (`domain.files`), so the link works without an API key, as a presigned
storage URL does; the key's first segment says which family keeps the file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .domain import files, user_faces
from .handlers.case_files import case_file
from .handlers.customization import logo_file
from .web.http import json_response

if TYPE_CHECKING:
    from .domain.tenant import Tenant

NOT_FOUND = {"detail": "Not found."}


def open_file(tenant: Tenant, key: str, given: str) -> files.StoredFile | None:
    """The file a signed key of the tenant names, or None (a bad signature, an unknown or gone file)."""
    if not files.verified(tenant, key, given):
        return None
    kind = key.split("/", 1)[0]
    if kind in ("cases", "regulatory-reports"):
        return case_file(tenant, key)
    if kind == "customization":
        return logo_file(tenant, key)
    if kind == "user-faces":
        return user_faces.face_file(tenant, key)
    return None


async def download(request: Request) -> Response:
    tenant = request.app.registry.by_application(request.path_params["application_id"])
    given = request.query_params.get("signature") or ""
    if tenant is None or not given:
        return json_response(NOT_FOUND, 404)
    with tenant.lock:
        found = open_file(tenant, request.path_params["key"], given)
    if found is None:
        return json_response(NOT_FOUND, 404)
    safe = found.filename.replace('"', "")
    return Response(found.content, media_type=found.media_type,
                    headers={"Content-Disposition": f'inline; filename="{safe}"'})


routes = [Route("/files/{application_id}/{key:path}", download, methods=["GET"], name="file_download")]
