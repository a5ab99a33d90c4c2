"""Regulatory reports: the validation that moves a report between DRAFT and VALIDATED (§2.3)."""

from __future__ import annotations

import re
from typing import Any

from ..domain.errors import DiditError, NotFound
from ..resources.families import CASES, REGULATORY_REPORTS
from ..resources.store import ResourceStore
from ..web.operations import Call, operation
from .case_log import actor, console_store, record

#: Fields a report needs before it can be filed, and the message of each.
REQUIRED_FIELDS = {
    "rentity_id": "The reporting entity id is required.",
    "submission_code": "The submission code is required.",
    "currency_code_local": "The local currency code is required.",
    "action": "The action taken is required.",
    "submission_date": "The submission date is required.",
}


def problems(report: dict[str, Any]) -> list[dict[str, str]]:
    """What keeps `report` from being filed, as `{field, message}` items (none: it is valid)."""
    found = [{"field": name, "message": message} for name, message in REQUIRED_FIELDS.items()
             if report.get(name) in (None, "", [])]
    if not report.get("transactions"):
        found.append({"field": "transactions", "message": "At least one transaction is required."})
    if not re.fullmatch(r"[A-Za-z]{2}", str(report.get("jurisdiction") or "")):
        found.append({"field": "jurisdiction", "message": "The jurisdiction must be a two-letter country code."})
    return found


@operation("validate_regulatory_report")
def validate_report(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    if call.path["organization_id"] != tenant.organization_id or call.path["application_id"] != tenant.application_id:
        raise NotFound()
    with tenant.lock:
        store = tenant.component(ResourceStore)
        report = store.get(REGULATORY_REPORTS, call.path["report_uuid"])
        if report.get("status") == "FINALIZED":
            raise DiditError({"detail": "A finalized report cannot be changed."}, 409)
        errors = problems(report)
        report["status"] = "DRAFT" if errors else "VALIDATED"
        report["updated_at"] = store.now() if "updated_at" in report else report.get("updated_at")
        return {"status": report["status"], "is_valid": not errors, "errors": errors}


@operation("finalize_regulatory_report", body=None)
def finalize_report(call: Call) -> dict[str, Any]:
    """The declared FINALIZED transition, and a REPORT_FINALIZED event on the report's case."""
    store = console_store(call)
    step = next(s for s in REGULATORY_REPORTS.transitions if s.operation == "finalize_regulatory_report")
    with call.tenant.lock:
        report = store.transition(REGULATORY_REPORTS, call.path["report_uuid"], step, {})
        report["finalized_at"] = store.now()
        case = next((c for c in store.all(CASES) if c["uuid"] == report.get("case_uuid")), None)
        if case is not None:
            record(store, case, "REPORT_FINALIZED", actor(call), metadata={
                "report_uuid": report["uuid"], "report_type": report.get("report_type")})
        return report
