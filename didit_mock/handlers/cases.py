"""Cases beyond plain CRUD (§2.1-§2.3): bulk changes, statistics, blueprint presets, the reports
of one case, and the network views of an application that has no networks yet.

The documents themselves live in the generic store (`resources.families`); these handlers apply
the rules a declaration cannot say, on the same documents.
"""

from __future__ import annotations

import copy
from typing import Any

from starlette.responses import Response

from ..domain.clock import parse_iso
from ..domain.errors import DiditError, NotFound
from ..domain.sessions import book as session_book
from ..resources.families import BLUEPRINTS, CASE_LINKS, CASES, REGULATORY_REPORTS, REPORT_TEMPLATES
from ..resources.store import Document, ResourceStore
from ..spec.operation import JSON
from ..spec.schemas import blank, json_schema
from ..spec.table import api_operations
from ..web.http import json_response
from ..web.operations import Call, operation
from ..web.pagination import page_bounds, page_urls
from ..web.store import created_fields, request_fields
from ..web.validation import request_validator
from .case_log import actor, console_store, known, record, template

#: Didit's blueprint presets (`GET .../cases/blueprints/presets/`).
PRESETS: tuple[dict[str, str], ...] = (
    {"preset_key": "screening_hit", "name": "Screening hit",
     "description": "Review a possible match on a sanctions, PEP or adverse-media list."},
    {"preset_key": "aml_investigation", "name": "AML investigation",
     "description": "Investigate unusual activity of a user or business for money laundering."},
    {"preset_key": "suspicious_activity", "name": "Suspicious activity",
     "description": "Decide whether activity must be reported to the financial intelligence unit."},
    {"preset_key": "kyc", "name": "KYC review",
     "description": "Review an identity verification that needs a person's decision."},
)
ASSIGNED = "assigned_to"


# ---------------------------------------------------------------- bulk changes

def _bulk(call: Call, change: dict[str, Any], event: str) -> dict[str, Any]:
    """Apply `change` to each case named, logging `event` (with the status change) on each."""
    store = console_store(call)
    who = actor(call)
    failures = []
    updated = 0
    with call.tenant.lock:
        for key in call.body["case_uuids"]:
            try:
                case = store.get(CASES, key)
            except NotFound:
                failures.append({"case_uuid": key, "detail": "Not found."})
                continue
            previous = case.get("status")
            changed = any(case.get(name) != value for name, value in change.items())
            case.update(change)
            if changed:
                case["updated_at"] = store.now()
                record(store, case, event, who, previous_status=previous, new_status=case.get("status"),
                       metadata={"bulk": True})
            updated += 1
    return {"updated": updated, "failures": failures}


@operation("bulk_update_case_status")
def bulk_status(call: Call) -> dict[str, Any]:
    body = call.body
    change: dict[str, Any] = {"status": body["status"]}
    if body["status"] == "RESOLVED":
        now = call.tenant.component(ResourceStore).now()
        change.update(resolution=body.get("resolution"), resolution_notes=body.get("note"), resolved_at=now)
        return _bulk(call, change, "RESOLVED")
    change.update(resolution=None, resolution_notes=None, resolved_at=None)
    return _bulk(call, change, "STATUS_CHANGED")


@operation("bulk_assign_cases")
def bulk_assign(call: Call) -> dict[str, Any]:
    body = call.body
    if body.get("assignee_user_id") is None:
        return _bulk(call, {ASSIGNED: None, "assigned_at": None}, "UNASSIGNED")
    assignee = {"uuid": body["assignee_user_id"]}  # the name and e-mail only when given
    assignee.update((key, body[field]) for key, field in (("full_name", "assignee_name"), ("email", "assignee_email"))
                    if body.get(field))
    return _bulk(call, {ASSIGNED: assignee, "assigned_at": call.tenant.component(ResourceStore).now()}, "ASSIGNED")


@operation("get_case_analytics")
def statistics(call: Call) -> dict[str, Any]:
    """Totals and the queue of the application's cases (series and tables stay empty)."""
    store = console_store(call)
    answer = template("get_case_analytics")
    now = call.tenant.clock.now()
    with call.tenant.lock:
        cases = store.all(CASES)
    unresolved = [c for c in cases if c.get("status") != "RESOLVED"]
    resolved = [c for c in cases if c.get("status") == "RESOLVED"]
    threats = sum(1 for c in resolved if c.get("resolution") == "VALID_THREAT")
    answer["totals"].update(
        created=len(cases), assigned=sum(1 for c in cases if c.get(ASSIGNED)), resolved=len(resolved),
        unresolved=len(unresolved),
        threat_rate=round(threats / len(resolved), 4) if resolved else 0.0,
        false_positive_rate=round((len(resolved) - threats) / len(resolved), 4) if resolved else 0.0,
    )
    overdue = sum(1 for c in unresolved if c.get("due_at") and _before(c["due_at"], now))
    answer["queue"] = {"open": len(unresolved), "overdue": overdue}
    return answer


def _before(text: str, now: Any) -> bool:
    try:
        return bool(parse_iso(text) < now)
    except ValueError:
        return False


# ---------------------------------------------------------------- blueprint presets

@operation("list_case_blueprint_presets")
def presets(call: Call) -> dict[str, Any]:
    console_store(call)
    shape = template("list_case_blueprint_presets")
    item = json_schema(next(op for op in api_operations() if op.operation_id == "list_case_blueprint_presets")
                       .response_schema(200))["properties"]["results"]["items"]
    results = []
    for preset in PRESETS:
        row = blank(item)
        row.update(preset)
        results.append(row)
    shape["results"] = results
    return shape


@operation("install_case_blueprint_presets")
def install_presets(call: Call) -> Response:
    """Create a blueprint for each preset not installed yet (201), or nothing new (200)."""
    store = console_store(call)
    wanted = call.body.get("preset_keys") if call.body else None
    known = {p["preset_key"]: p for p in PRESETS}
    keys = [k for k in (wanted if wanted is not None else list(known)) if k in known]
    shape = template("get_case_blueprint")
    created = []
    with call.tenant.lock:
        installed = {b.get("preset_key") for b in store.all(BLUEPRINTS)}
        for key in dict.fromkeys(keys):
            if key in installed:
                continue
            preset = known[key]
            document = store.create(BLUEPRINTS, shape, {"name": preset["name"][:24],
                                                        "description": preset["description"]})
            document["preset_key"] = key
            created.append(document["uuid"])
    return json_response({"created": created}, 201 if created else 200)


# ---------------------------------------------------------------- the reports of one case

@operation("list_case_regulatory_reports")
def case_reports(call: Call) -> dict[str, Any]:
    store = console_store(call)
    case = call.path["case_uuid"]
    with call.tenant.lock:
        store.get(CASES, case)
        rows = [r for r in reversed(store.all(REGULATORY_REPORTS)) if r.get("case_uuid") == case]
    limit, offset = page_bounds(call.query, 50)
    following, preceding = page_urls(call.request, len(rows), limit, offset)
    return {"count": len(rows), "next": following, "previous": preceding, "results": rows[offset:offset + limit]}


@operation("create_case_regulatory_report")
def create_case_report(call: Call) -> Response:
    store = console_store(call)
    with call.tenant.lock:
        case = store.get(CASES, call.path["case_uuid"])
        return json_response(_new_report(call, store, case), 201)


@operation("create_standalone_regulatory_report")
def create_report(call: Call) -> Response:
    """The Reports page's create: the case is named in the body (the report joins it as from the case)."""
    store = console_store(call)
    with call.tenant.lock:
        case = known(store, CASES, call.body["case"], "case")
        return json_response(_new_report(call, store, case), 201)


def _new_report(call: Call, store: ResourceStore, case: Document) -> Document:
    """A DRAFT report of `case`: a template gives what the body leaves out (its report type, its
    jurisdiction, the report fields of its `field_config`, checked as the body is), then the
    documented defaults; the transactions default to those linked to the case."""
    body = dict(call.body or {})
    given_template = body.get("template")
    if given_template is not None:
        chosen = known(store, REPORT_TEMPLATES, given_template, "template")
        fields = request_fields(call.operation)
        seeded = {"report_type": chosen.get("report_type"), "jurisdiction": chosen.get("jurisdiction"),
                  **(chosen.get("field_config") or {})}
        body.update({name: copy.deepcopy(value) for name, value in seeded.items()
                     if name in fields and name not in ("case", "template") and body.get(name) is None})
        check = request_validator(call.operation, JSON)
        if check is not None:
            body = check(body)  # what the template brings is checked as the body was
    body.pop("case", None)
    body.pop("template", None)
    body = created_fields(call, body)
    missing = {name: ["This field is required."] for name in ("report_type", "jurisdiction") if not body.get(name)}
    if missing:
        raise DiditError(missing, 400)
    if body.get("transactions") is None:
        body["transactions"] = [link["linked_entity_uuid"] for link in store.all(CASE_LINKS, case["uuid"])
                                if link.get("linked_entity_type") == "transaction"]
    report = store.create(REGULATORY_REPORTS, template("get_regulatory_report"), body)
    who = actor(call)
    report.update(case_uuid=case["uuid"], case_number=case.get("case_number"), created_by_email=who[0],
                  created_by_name=who[1])
    record(store, case, "REPORT_CREATED", who, metadata={"report_uuid": report["uuid"],
                                                       "report_type": report.get("report_type")})
    return report


# ---------------------------------------------------------------- networks: none yet

def _network_view(operation_id: str) -> Any:
    """A view of one network: networks link different users through shared signals, and the mock
    computes none, so no network exists and every view is a 404 (as for a sandbox application)."""

    @operation(operation_id)
    def view(call: Call) -> dict[str, Any]:
        console_store(call)
        raise NotFound()

    return view


def _memberships(operation_id: str) -> Any:
    """The networks a subject belongs to: none."""

    @operation(operation_id)
    def memberships(call: Call) -> dict[str, Any]:
        console_store(call)
        return {"results": []}

    return memberships


network_graph = _network_view("get_network_graph")
network_members = _network_view("list_network_members")
network_signals = _network_view("list_network_signals")
network_timeline = _network_view("get_network_timeline")
network_map = _network_view("get_network_map")
business_session_networks = _memberships("list_business_session_network_memberships")
user_networks = _memberships("list_user_network_memberships")
business_networks = _memberships("list_business_network_memberships")
transaction_networks = _memberships("list_transaction_network_memberships")
transaction_party_networks = _memberships("list_transaction_party_network_memberships")


@operation("list_session_network_memberships")
def session_networks(call: Call) -> dict[str, Any]:
    console_store(call)
    if session_book(call.tenant).get(call.path["session_id"]) is None:
        raise NotFound()
    return {"results": []}
