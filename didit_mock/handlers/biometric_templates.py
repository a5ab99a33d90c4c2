"""Biometric templates (`/v3/biometric-templates/`): list, count, get, purge, bulk purge."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..domain import templates as domain
from ..domain.errors import ValidationFailed
from ..web.http import json_response
from ..web.operations import Call, operation
from ..web.pagination import page_bounds, page_urls

DEFAULT_LIMIT = 50


def _filters(call: Call) -> dict[str, Any]:
    return domain.check_filters(dict(call.query))


@operation("list_biometric_templates")
def list_templates(call: Call) -> Response:
    tenant = call.tenant
    checked = _filters(call)
    ordering = call.query.get("ordering") or "-retained_at"
    if ordering not in domain.ORDERINGS:
        raise ValidationFailed.field("ordering", f'"{ordering}" is not a valid choice.')
    limit, offset = page_bounds(call.query, DEFAULT_LIMIT)
    with tenant.lock:
        found = domain.find(tenant, checked, ordering)
        rows = [t.view(tenant) for t in found[offset:offset + limit]]
    following, preceding = page_urls(call.request, len(found), limit, offset)
    return json_response({"count": len(found), "next": following, "previous": preceding, "results": rows})


@operation("count_biometric_templates")
def count_templates(call: Call) -> dict[str, int]:
    tenant = call.tenant
    checked = _filters(call)
    with tenant.lock:
        return {"count": len(domain.find(tenant, checked))}


@operation("get_biometric_template")
def get_template(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return domain.get(tenant, call.path["template_uuid"].lower()).view(tenant)


@operation("purge_biometric_template")
def purge_template(call: Call) -> dict[str, str]:
    tenant = call.tenant
    with tenant.lock:
        return domain.purge(tenant, call.path["template_uuid"].lower())


@operation("bulk_purge_biometric_templates")
def bulk_purge(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return {"results": domain.bulk_purge(tenant, dict(call.body or {}))}
