"""Workflows: `/v3/workflows/` (list, create, get, update, delete) with Didit's versioning rules."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..domain import workflow_flat_body as flat_body
from ..domain import workflow_versions as domain
from ..domain.errors import ValidationFailed, not_a_dictionary
from ..domain.standalone import compat
from ..web.http import read_json
from ..web.operations import Call, operation
from ..web.pagination import page_bounds, page_urls
from ..web.request_head import RequestHead
from ..web.validation import request_validator

DEFAULT_LIMIT = 50


async def checked(call: Call, current: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The body: only the accepted keys (Didit's whitelist message), then the schema's types.

    With the `workflow-flat-body` compat switch, an older flat body is first mapped to `features`
    (from `current`, the workflow's steps, on an update).
    """
    document = await read_json(call.request)
    if not isinstance(document, dict):
        raise not_a_dictionary(document)
    if flat_body.is_flat(document) and compat.enabled(call.tenant, compat.WORKFLOW_FLAT_BODY):
        document = flat_body.to_features(document, domain.ACCEPTED_KEYS, current)
    unknown = [key for key in document if key not in domain.ACCEPTED_KEYS]
    if unknown:
        raise ValidationFailed({key: [domain.ONLY_ACCEPTS] for key in unknown})
    if "features" in document and document["features"] == []:
        raise ValidationFailed.field("features", domain.NO_FEATURE)
    features = document.get("features")
    if isinstance(features, list):  # an unknown name gets Didit's message, not the enum's
        for item in features:
            if isinstance(item, dict) and isinstance(item.get("feature"), str) \
                    and item["feature"] not in domain.DECISION_FEATURE:
                domain.check_features([item], lambda _: False)
    validator = request_validator(call.operation, RequestHead.of(call.request.scope).media_type or "application/json")
    return document if validator is None else validator(document)


def _questionnaire_exists(call: Call) -> Any:
    from ..domain.questionnaires import catalog as questionnaires

    book = questionnaires(call.tenant)
    return lambda uuid: uuid in book.versions


@operation("list_workflows")
async def list_workflows(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    limit, offset = page_bounds(call.query, DEFAULT_LIMIT)
    with tenant.lock:
        rows = [row for _, row in domain.listing(tenant)]
    following, preceding = page_urls(call.request, len(rows), limit, offset)
    return {"count": len(rows), "next": following, "previous": preceding, "results": rows[offset:offset + limit]}


@operation("create_workflow", body=None)
async def create_workflow(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    body = await checked(call)
    with tenant.lock:
        features = domain.check_features(body["features"], _questionnaire_exists(call))
        version = domain.catalog(tenant).create(body, features)
        return domain.settings_json(tenant, version)


@operation("get_workflow")
async def get_workflow(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return domain.settings_json(tenant, domain.catalog(tenant).get(call.path["settings_uuid"]))


@operation("update_workflow", body=None)
async def update_workflow(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:  # 404 before the body is read
        current = [dict(item) for item in domain.catalog(tenant).get(call.path["settings_uuid"]).features]
    body = await checked(call, current)
    with tenant.lock:
        features = None
        if "features" in body:
            features = domain.check_features(body["features"], _questionnaire_exists(call))
        version = domain.catalog(tenant).update(call.path["settings_uuid"], body, features)
        return domain.settings_json(tenant, version)


@operation("delete_workflow")
async def delete_workflow(call: Call) -> Response:
    tenant = call.tenant
    with tenant.lock:
        domain.catalog(tenant).delete(call.path["settings_uuid"])
    return Response(status_code=204)
