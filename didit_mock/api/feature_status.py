"""`PATCH /v3/session/{id}/features/{nodeId}/update-status/`: one step's status, not the session's."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain import sessions as domain
from ..domain.errors import CREDENTIALS_INVALID, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from ..domain.feature_status import update_feature_status
from ..domain.otp.render import verification_decision
from .auth import authenticate
from .http import json_response, parse, read_json
from .paths import uuid_param
from .session_models import DRF


class FeatureStatusBody(BaseModel):
    model_config = DRF
    new_status: Literal["Approved", "Declined", "In Review"]
    comment: str | None = None


async def update_feature(request: Request) -> Response:
    session_id = uuid_param(request, "session_id")
    try:
        tenant = authenticate(request)
    except NotAuthenticated:
        raise PermissionDenied(CREDENTIALS_INVALID) from None
    body = parse(FeatureStatusBody, await read_json(request))
    with tenant.lock:
        session = domain.book(tenant).get(session_id)
        if session is None:
            if verification_decision(tenant, session_id) is not None:
                raise ValidationFailed.detail("Cannot change feature status for API sessions.")
            raise NotFound("Session not found.")
        result = update_feature_status(tenant, session, request.path_params["node_id"], body.new_status, body.comment)
    return json_response(result)


routes = [
    Route("/v3/session/{session_id}/features/{node_id}/update-status/", update_feature, methods=["PATCH"]),
]
