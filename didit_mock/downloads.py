"""`GET /files/{application_id}/{key}?signature=...`: the files the API hands out as presigned URLs
(case note attachments, printed cases, regulatory report files). The signature names the file, so
the link works without an API key, as a presigned storage URL does."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .handlers.case_files import open_file
from .web.http import json_response

NOT_FOUND = {"detail": "Not found."}


async def download(request: Request) -> Response:
    tenant = request.app.registry.by_application(request.path_params["application_id"])
    given = request.query_params.get("signature") or ""
    if tenant is None or not given:
        return json_response(NOT_FOUND, 404)
    with tenant.lock:
        found = open_file(tenant, request.path_params["key"], given)
    if found is None:
        return json_response(NOT_FOUND, 404)
    content, media_type, filename = found
    safe = filename.replace('"', "")
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'inline; filename="{safe}"'})


routes = [Route("/files/{application_id}/{key:path}", download, methods=["GET"], name="file_download")]
