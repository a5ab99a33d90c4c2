"""`PATCH /v3/session/{id}/features/{nodeId}/update-status/`: one step's status, not the session's."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..domain import sessions as domain
from ..domain.errors import NotFound, ValidationFailed
from ..domain.feature_status import update_feature_status
from ..domain.otp.render import verification_decision
from ..web.http import json_response
from ..web.operations import Call, operation


@operation("patch_v3_session_update_feature_status")
async def update_feature(call: Call) -> Response:
    session_id = call.path["sessionId"]
    tenant = call.tenant
    body: dict[str, Any] = call.body
    with tenant.lock:
        session = domain.book(tenant).get(session_id)
        if session is None:
            if verification_decision(tenant, session_id) is not None:
                raise ValidationFailed.detail("Cannot change feature status for API sessions.")
            raise NotFound("Session not found.")
        if session.workflow.extra and "api_service" in session.workflow.extra:  # a saved standalone call
            raise ValidationFailed.detail("Cannot change feature status for API sessions.")
        result = update_feature_status(tenant, session, call.path["nodeId"], body["new_status"], body.get("comment"))
    return json_response(result)

