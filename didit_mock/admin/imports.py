"""Admin routes of session imports: pause, resume and cancel a job (statuses Didit's API never asks for).

* `POST /_mock/imports/{import_id}/pause`: a pending or processing job becomes `PAUSED`; it keeps
  the time its next step had left and stays the application's active job.
* `POST /_mock/imports/{import_id}/resume`: a paused job goes on where it was.
* `POST /_mock/imports/{import_id}/cancel`: a pending, processing or paused job becomes `CANCELLED`;
  the rows it had not imported never are.

Each answers the job as `GET /v3/session/imports/{import_id}/` shows it; an unknown job is a 404,
a job in another status a 409.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain import imports as domain
from ..domain.tenant import Tenant
from ..web.auth import authenticate
from ..web.http import json_response


def _acting(change: Callable[[Tenant, str], domain.ImportJob]) -> Callable[[Request], object]:
    async def endpoint(request: Request) -> Response:
        tenant = authenticate(request)
        with tenant.lock:
            return json_response(change(tenant, request.path_params["import_id"]).view())

    return endpoint


routes = [
    Route("/_mock/imports/{import_id}/pause", _acting(domain.pause), methods=["POST"]),
    Route("/_mock/imports/{import_id}/resume", _acting(domain.resume), methods=["POST"]),
    Route("/_mock/imports/{import_id}/cancel", _acting(domain.cancel), methods=["POST"]),
]
