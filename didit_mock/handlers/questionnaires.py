"""Questionnaires: `/v3/questionnaires/` (list, create, get, update, delete) with versions."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..domain import questionnaires as domain
from ..domain.errors import ValidationFailed, not_a_dictionary
from ..web.http import read_json
from ..web.operations import Call, operation
from ..web.pagination import page_bounds, page_urls
from ..web.request_head import RequestHead
from ..web.validation import request_validator

DEFAULT_LIMIT = 50


async def checked(call: Call) -> dict[str, Any]:
    """The body: no raw `graph`, element types in either case, then the schema (unsupported keys kept)."""
    document = await read_json(call.request)
    if not isinstance(document, dict):
        raise not_a_dictionary(document)
    if "graph" in document:
        raise ValidationFailed.field("graph", domain.NO_GRAPH, as_list=False)
    elements = document.get("form_elements")
    if isinstance(elements, list):
        for item in elements:
            if isinstance(item, dict) and isinstance(item.get("element_type"), str):
                item["element_type"] = item["element_type"].lower()
    validator = request_validator(call.operation, RequestHead.of(call.request.scope).media_type or "application/json")
    checked_body = document if validator is None else validator(document)
    if isinstance(elements, list) and "form_elements" in checked_body:  # the schema check drops unknown keys
        for item, raw in zip(checked_body["form_elements"], elements, strict=True):
            item.update({k: raw[k] for k in domain.UNSUPPORTED if k in raw})
    return checked_body


@operation("list_questionnaires")
async def list_questionnaires(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    limit, offset = page_bounds(call.query, DEFAULT_LIMIT)
    with tenant.lock:
        rows = [domain.list_row(v) for v in domain.catalog(tenant).newest_first()]
    following, preceding = page_urls(call.request, len(rows), limit, offset)
    return {"count": len(rows), "next": following, "previous": preceding, "results": rows[offset:offset + limit]}


@operation("create_questionnaire", body=None)
async def create_questionnaire(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    body = await checked(call)
    default = domain.check_languages(body["languages"], body.get("default_language"))
    elements = domain.check_elements(body["form_elements"], body["languages"])
    with tenant.lock:
        return domain.detail_json(domain.catalog(tenant).create(body, default, elements))


@operation("get_questionnaire")
async def get_questionnaire(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return domain.detail_json(domain.catalog(tenant).get(call.path["questionnaire_uuid"]))


@operation("update_questionnaire", body=None)
async def update_questionnaire(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        current = domain.catalog(tenant).get(call.path["questionnaire_uuid"])
        languages, default, kept = list(current.languages), current.default_language, list(current.elements)
    body = await checked(call)
    new_default = None
    if "languages" in body or "default_language" in body:
        languages = body.get("languages", languages)
        new_default = domain.check_languages(languages, body.get("default_language", default))
    elements = domain.check_elements(body["form_elements"], languages) if "form_elements" in body else None
    if elements is None and "languages" in body:
        domain.check_elements(kept, languages)  # the kept elements need the new languages' texts too
    with tenant.lock:
        row = domain.catalog(tenant).update(call.path["questionnaire_uuid"], body, new_default, elements)
        return domain.detail_json(row)


@operation("delete_questionnaire")
async def delete_questionnaire(call: Call) -> Response:
    tenant = call.tenant
    with tenant.lock:
        domain.catalog(tenant).delete(call.path["questionnaire_uuid"])
    return Response(status_code=204)
