"""`GET /system/healthcheck`, the unauthenticated probe."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..web.operations import Call, operation


@operation("get_system_healthcheck")
def healthcheck(call: Call) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
    return {"status": "ok", "timestamp": stamp}
