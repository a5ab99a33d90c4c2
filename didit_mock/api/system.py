"""`GET /system/healthcheck`, the unauthenticated probe."""

from __future__ import annotations

from datetime import datetime, timezone

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .http import json_response


async def healthcheck(request: Request) -> Response:
    now = datetime.now(timezone.utc)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    return json_response({"status": "ok", "timestamp": stamp})


routes = [Route("/system/healthcheck", healthcheck, methods=["GET"])]
