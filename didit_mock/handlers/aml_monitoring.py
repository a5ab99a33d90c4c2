"""AML ongoing monitoring (§1.16): the API toggles of users and businesses, their job, and the console twins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from ..domain import aml_monitoring as domain
from ..domain.aml_monitoring import API, CONSOLE, PENDING, PROCESSING, Job, Target
from ..domain.errors import NotFound, ValidationFailed
from ..domain.tenant import Tenant
from ..domain.users import BUSINESS, USER
from ..web.http import json_response
from ..web.operations import Call, operation


def _answer(job: Job, surface: str) -> Response:
    """The job: 200 once completed (a small selection), 202 while it runs in the background."""
    status = 202 if job.status in (PENDING, PROCESSING) else 200
    return json_response(job.view(surface), status)


Selector = Callable[[], "tuple[list[Target], list[str]]"]


def _toggle(tenant: Tenant, surface: str, kind: str, body: dict[str, Any], select: Selector) -> Response:
    """Estimate, or start a job, over what `select()` picks (and the identifiers it did not match)."""
    enabling = bool(body["is_enabled"])
    with tenant.lock:
        targets, unmatched = select()
        if body.get("estimate_only"):
            preview = domain.estimate(tenant, targets, enabling, unmatched)
            if surface == CONSOLE:
                del preview["unmatched"]
            return json_response(preview)
        return _answer(domain.start(tenant, surface, kind, targets, enabling, unmatched), surface)


def _api_toggle(call: Call, kind: str) -> Response:
    tenant = call.tenant
    body = dict(call.body or {})
    vendor_data = [str(v) for v in body.get("vendor_data_list") or []]
    ids = [str(i) for i in body.get("didit_internal_id_list") or []]
    domain.check_selection(vendor_data, ids)
    return _toggle(tenant, API, kind, body, lambda: domain.select_profiles(tenant, kind, vendor_data, ids))


@operation("toggle_users_aml_monitoring")
def toggle_users(call: Call) -> Response:
    return _api_toggle(call, USER)


@operation("toggle_businesses_aml_monitoring")
def toggle_businesses(call: Call) -> Response:
    return _api_toggle(call, BUSINESS)


@operation("get_aml_monitoring_job")
def get_job(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return domain.get(tenant, call.path["job_id"]).view(API)


# ---------------------------------------------------------------- the console twins

def _console_tenant(call: Call) -> Tenant:
    """The caller's tenant; an organization or application that is not the caller's is a 404."""
    tenant = call.tenant
    if call.path["organization_id"] != tenant.organization_id or call.path["application_id"] != tenant.application_id:
        raise NotFound()
    return tenant


def _console_profiles(call: Call, kind: str) -> Response:
    tenant = _console_tenant(call)
    body = dict(call.body or {})
    domain.check_ids([str(i) for i in body.get("didit_internal_id_list") or []])
    if not body.get("update_all") and not body.get("didit_internal_id_list"):
        raise ValidationFailed([domain.NO_CONSOLE_SELECTOR])
    return _toggle(tenant, CONSOLE, kind, body, lambda: (domain.select_console_profiles(tenant, kind, body), []))


def _console_job(call: Call, kind: str) -> dict[str, Any]:
    tenant = _console_tenant(call)
    with tenant.lock:
        return domain.get(tenant, call.path["job_id"], kind).view(CONSOLE)


@operation("toggle_vendor_users_ongoing_monitoring")
def toggle_vendor_users(call: Call) -> Response:
    return _console_profiles(call, USER)


@operation("get_vendor_users_ongoing_monitoring_job")
def get_vendor_users_job(call: Call) -> dict[str, Any]:
    return _console_job(call, USER)


@operation("toggle_vendor_businesses_ongoing_monitoring")
def toggle_vendor_businesses(call: Call) -> Response:
    return _console_profiles(call, BUSINESS)


@operation("get_vendor_businesses_ongoing_monitoring_job")
def get_vendor_businesses_job(call: Call) -> dict[str, Any]:
    return _console_job(call, BUSINESS)


@operation("toggle_business_sessions_ongoing_monitoring")
def toggle_business_sessions(call: Call) -> Response:
    tenant = _console_tenant(call)
    body = dict(call.body or {})
    if not (body.get("update_all") or body.get("toggle_all") or body.get("session_numbers")):
        raise ValidationFailed([domain.NO_SESSION_SELECTOR])
    return _toggle(tenant, CONSOLE, BUSINESS, body, lambda: (domain.select_sessions(tenant, body), []))


@operation("get_business_sessions_ongoing_monitoring_job")
def get_business_sessions_job(call: Call) -> dict[str, Any]:
    return _console_job(call, BUSINESS)
