"""The KYB registry (§1.11): searches, their candidate handles, and the business sessions of retrievals.

A search answers candidates, each with a `kyb_response_id` handle valid for an hour of the tenant's
clock. With `webhook_url` the search is stored and answered `pending`; its result goes to that URL
as an unsigned `kyb.registry_search.resolved` callback (at once, or, for a `Pending` company, when
the admin API resolves it). A retrieval (select, shareholders, ubo) is always saved: a business
session of the `vendor_data`'s business whose decision carries the company in `registry_checks`.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import statuses as st
from .clock import iso_offset
from .errors import DiditError, NotFound, ValidationFailed
from .events import DATA_UPDATED, DomainEvent
from .kyb_companies import RECORD_KEYS, Company, candidate, find, profile
from .outcomes import FeatureOutcome
from .people import session_day
from .rng import TenantRandom, derive_seed
from .standalone import record
from .standalone.armed import Directive, armed
from .state import StateInvalid, StateSection

if TYPE_CHECKING:
    from .sessions import Session
    from .tenant import Tenant

ENDPOINT = "kyb"
FEATURE = "KYB_REGISTRY"
KEY_PEOPLE = "KYB_KEY_PEOPLE"
NODE_ID = "feature_kyb_registry"
TIERS = ("basic", "shareholders", "ubo")
HANDLE_SECONDS = 3600
PER_PAGE = 25
SAVE_REQUIRED = "KYB registry select must be saved so billing and retrieval can be tracked."
NO_CREDITS = {"detail": "You don't have enough credits to perform this request.", "code": "insufficient_credits"}
PROVIDER_DOWN = {"detail": "The KYB registry provider is temporarily unavailable. Please try again shortly.",
                 "code": "kyb_registry_provider_unavailable"}
CALLBACK_EVENT = "kyb.registry_search.resolved"
OWNERSHIP_ERROR = "No ownership data is available for this company in the registry."


@dataclass
class KybBook:
    """A tenant's KYB state: candidate handles, stored searches, business sessions and their companies."""

    tenant: Any
    #: handle -> {"company": Company dict, "created_at": float, "search_id": str}
    handles: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: request_id -> the stored search (webhook mode)
    searches: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the business sessions of retrievals, oldest first
    sessions: list[str] = field(default_factory=list)
    #: company uuid -> its business session id
    companies: dict[str, str] = field(default_factory=dict)
    counter: int = 0

    def new_handle(self) -> str:
        """A 24-hex handle (an ObjectId's layout: the clock's seconds, random bytes, a counter)."""
        self.counter += 1
        seconds = int(self.tenant.clock.timestamp()) & 0xFFFFFFFF
        return f"{seconds:08x}{self.tenant.rng.randint(0, 16**10 - 1):010x}{self.counter & 0xFFFFFF:06x}"


def book(tenant: Tenant) -> KybBook:
    return tenant.component(KybBook)


def business_session_ids(tenant: Tenant) -> list[str]:
    return book(tenant).sessions


def _now_iso(timestamp: float) -> str:
    return iso_offset(datetime.fromtimestamp(timestamp, tz=timezone.utc))


def _steer(tenant: Tenant, vendor_data: str | None) -> Directive | None:
    return armed(tenant).take(ENDPOINT, vendor_data)


def _wants(directive: Directive | None, *names: str) -> bool:
    return directive is not None and (directive.scenario in names or any(r.lower() in names for r in directive.risks))


# ---------------------------------------------------------------- search

@dataclass(frozen=True)
class SearchQuery:
    country_code: str
    name: str | None
    registration_number: str | None
    search_type: str
    vendor_data: str | None
    metadata: Any
    webhook_url: str | None


def check_search_credits(tenant: Tenant) -> None:
    credits = tenant.config.credits
    if credits is not None and not tenant.is_sandbox and credits < 1:
        raise DiditError(dict(NO_CREDITS), 403)


def _registry(companies: list[dict[str, Any]], resolved: bool) -> dict[str, Any]:
    return {"companies": companies, "pagination": {"total": len(companies), "page": 1, "per_page": PER_PAGE},
            "search_status": "resolved" if resolved else "pending", "search_resolved": resolved}


def _found(tenant: Tenant, query: SearchQuery, directive: Directive | None) -> list[Company]:
    companies = find(tenant.seed, query.country_code, query.name, query.registration_number, query.search_type)
    if _wants(directive, "dissolved", "decline_kyb_registry_mismatch"):
        companies = [dataclasses.replace(c, status="dissolved") for c in companies]
    if _wants(directive, "pending"):
        companies = [dataclasses.replace(c, pending=True) for c in companies]
    return companies


def _candidates(tenant: Tenant, companies: list[Company], search_id: str) -> list[dict[str, Any]]:
    kyb = book(tenant)
    now = tenant.clock.timestamp()
    found = []
    for company in companies:
        handle = kyb.new_handle()
        kyb.handles[handle] = {"company": company.to_dict(), "created_at": now, "search_id": search_id}
        found.append(candidate(company, handle))
    return found


def search(tenant: Tenant, query: SearchQuery) -> dict[str, Any]:
    """A registry search (call under the tenant's lock): candidates now, or pending with a callback."""
    check_search_credits(tenant)
    directive = _steer(tenant, query.vendor_data)
    if _wants(directive, "registry_unavailable", "provider_down"):
        raise DiditError(dict(PROVIDER_DOWN), 502)
    companies = _found(tenant, query, directive)
    request_id = tenant.rng.uuid4()
    now = tenant.clock.timestamp()
    if query.webhook_url is None:
        registry = _registry(_candidates(tenant, companies, request_id), True)
    else:
        stored = {"request_id": request_id, "created_at": now, "vendor_data": query.vendor_data,
                  "metadata": copy.deepcopy(query.metadata), "webhook_url": query.webhook_url,
                  "companies": [c.to_dict() for c in companies], "search_status": "pending", "result": None}
        book(tenant).searches[request_id] = stored
        registry = _registry([], False)
        if not any(c.pending for c in companies):
            _resolve_search(tenant, stored)
    if companies:  # an empty search is free
        record.debit(tenant)
    return {"request_id": request_id, "kyb_registry": registry, "vendor_data": query.vendor_data,
            "metadata": query.metadata, "created_at": _now_iso(now)}


def _resolve_search(tenant: Tenant, stored: dict[str, Any]) -> None:
    """Finish a stored search: its candidates get handles, the callback goes to its webhook_url."""
    from . import webhooks

    companies = [Company.from_dict({**c, "pending": False}) for c in stored["companies"]]
    registry = _registry(_candidates(tenant, companies, stored["request_id"]), True)
    stored["search_status"] = "resolved"
    stored["result"] = registry
    now = int(tenant.clock.timestamp())
    payload = {"event_id": tenant.rng.uuid4(), "event_type": CALLBACK_EVENT, "request_id": stored["request_id"],
               "vendor_data": stored["vendor_data"], "metadata": stored["metadata"], "search_status": "resolved",
               "search_resolved": True, "kyb_registry": registry, "timestamp": now,
               "created_at": int(stored["created_at"])}
    webhooks.book(tenant).queue_callback(stored["webhook_url"], stored["request_id"], CALLBACK_EVENT, "resolved",
                                         payload)


# ---------------------------------------------------------------- retrievals (select, shareholders, ubo)

@dataclass(frozen=True)
class Retrieval:
    tier: str  # basic | shareholders | ubo
    handle: str
    vendor_data: str | None
    metadata: Any
    save: bool


def _handle(tenant: Tenant, handle: str) -> Company:
    found = book(tenant).handles.get(handle)
    if found is None or tenant.clock.timestamp() - float(found["created_at"]) > HANDLE_SECONDS:
        raise NotFound("Not found.")
    return Company.from_dict(found["company"])


def _delivered(tier: str, company_record: dict[str, Any]) -> tuple[str, str]:
    """(tier delivered, registry_ownership_status): lower than asked when the registry has no owners."""
    owners = company_record.get("beneficial_owners") or []
    if tier == "basic":
        return "basic", "not_requested"
    if not owners:
        return "basic", "unavailable"
    if tier == "ubo" and not any(o.get("entity_type") == "person" for o in owners):
        return "shareholders", "delivered"
    return tier, "delivered"


def _pending_record(company: Company, uuid: str, tier: str) -> dict[str, Any]:
    company_record: dict[str, Any] = {key: None for key in RECORD_KEYS}
    company_record.update({
        "uuid": uuid, "node_id": NODE_ID, "status": st.NOT_FINISHED, "data_resolved": False,
        "company_name": company.name, "registration_number": company.registration_number,
        "country_code": company.country_code.split("-", 1)[0], "is_from_registry": True, "fetch_status": "pending",
        "vat_validation_status": "not_applicable", "financial_summary": {}, "officers": [], "beneficial_owners": [],
        "registry_data": {}, "is_editable": True, "registry_tier_delivered": "basic",
        "registry_ownership_status": "not_requested" if tier == "basic" else "pending",
    })
    return company_record


def _status_of(company: Company, directive: Directive | None) -> str:
    if directive is not None and directive.status is not None:
        return directive.status
    if company.status == "dissolved":
        return st.DECLINED
    return st.IN_REVIEW if company.kind == "tesco" else st.APPROVED


def _resolved_record(tenant: Tenant, session: Session, company: Company, uuids: list[str], tier: str,
                     status: str) -> dict[str, Any]:
    facts = profile(tenant.seed, company, uuids[1:], session_day(session))
    company_record: dict[str, Any] = {key: None for key in RECORD_KEYS}
    company_record.update(facts)
    delivered, ownership = _delivered(tier, facts)
    registry_data = dict(facts["registry_data"])
    if tier != "basic" and ownership == "unavailable":
        registry_data["ownership_error"] = OWNERSHIP_ERROR
    if delivered == "ubo":
        registry_data["ubo_resolution"] = {"status": "resolved", "ubos": [
            o["name"] for o in facts["beneficial_owners"] if o.get("entity_type") == "person"]}
    company_record.update({
        "uuid": uuids[0], "node_id": NODE_ID, "status": status, "data_resolved": True,
        "verification_status": "verified", "is_from_registry": True, "fetch_status": "resolved",
        "vat_validation_status": "not_applicable", "registry_data": registry_data, "is_editable": True,
        "beneficial_owners": facts["beneficial_owners"] if delivered != "basic" else [],
        "registry_tier_delivered": delivered, "registry_ownership_status": ownership,
    })
    return company_record


def _check(company_record: dict[str, Any]) -> dict[str, Any]:
    return {"status": company_record["status"], "node_id": NODE_ID, "data_resolved": company_record["data_resolved"],
            "company": company_record, "warnings": []}


def retrieve(tenant: Tenant, request: Retrieval) -> tuple[int, dict[str, Any]]:
    """A retrieval (call under the tenant's lock): the business session and the company, 202 while pending."""
    if not request.save:
        raise ValidationFailed.field("save_api_request", SAVE_REQUIRED)
    company = _handle(tenant, request.handle)
    record.check_credits(tenant)
    directive = _steer(tenant, request.vendor_data)
    if _wants(directive, "dissolved", "decline_kyb_registry_mismatch"):
        company = Company(company.name, company.registration_number, company.country_code, "dissolved",
                          company.type, company.kind, company.pending)
    pending = company.pending or _wants(directive, "pending")
    session = record.new_call(tenant, FEATURE, FEATURE, "company:" + company.registration_number,
                              request.vendor_data, request.metadata, saved=True)
    uuids = [tenant.rng.uuid4() for _ in range(4)]
    status = _status_of(company, directive)
    if pending:
        company_record = _pending_record(company, uuids[0], request.tier)
    else:
        company_record = _resolved_record(tenant, session, company, uuids, request.tier, status)
    session.data_overrides[FEATURE] = {
        "check": _check(company_record), "company": company.to_dict(), "uuids": uuids, "tier": request.tier,
        "final_status": status, "pending": pending, "parties": {},
    }
    outcome = FeatureOutcome(FEATURE, st.NOT_FINISHED if pending else status)
    record.finish(tenant, session, {FEATURE: outcome}, st.IN_PROGRESS if pending else status, saved=True)
    kyb = book(tenant)
    kyb.sessions.append(session.session_id)
    kyb.companies[uuids[0]] = session.session_id
    record.debit(tenant)
    return (202 if pending and request.tier != "basic" else 200), retrieval_body(session)


def retrieval_body(session: Session) -> dict[str, Any]:
    stored = session.data_overrides[FEATURE]
    company_record = copy.deepcopy(stored["check"]["company"])
    pending = bool(stored.get("pending"))
    delivered = None if pending and stored["tier"] != "basic" else company_record["registry_tier_delivered"]
    return {"request_id": session.session_id, "registry_tier_requested": stored["tier"],
            "registry_tier_delivered": delivered, "kyb_registry": company_record,
            "vendor_data": session.vendor_data, "metadata": copy.deepcopy(session.metadata),
            "created_at": _now_iso(session.created_at)}


def resolve(tenant: Tenant, request_id: str) -> dict[str, Any]:
    """The admin API's resolve: a pending stored search, or a pending retrieval's company."""
    from . import sessions as sessions_domain

    kyb = book(tenant)
    stored = kyb.searches.get(request_id)
    if stored is not None and stored["search_status"] == "pending":
        _resolve_search(tenant, stored)
        return {"request_id": request_id, "resolved": "search", "kyb_registry": stored["result"]}
    session = sessions_domain.book(tenant).get(request_id) if request_id in kyb.sessions else None
    data = session.data_overrides.get(FEATURE) if session is not None else None
    if session is None or data is None or not data.get("pending"):
        raise NotFound("No pending KYB search or retrieval has this id.")
    company = Company.from_dict(data["company"])
    status = data["final_status"]
    data["check"] = _check(_resolved_record(tenant, session, company, data["uuids"], data["tier"], status))
    data["pending"] = False
    session.outcomes = {FEATURE: FeatureOutcome(FEATURE, status)}
    session.touch()
    sessions_domain.set_status(tenant, session, status)
    return {"request_id": request_id, "resolved": "retrieval", **retrieval_body(session)}


# ---------------------------------------------------------------- the company of a KYB workflow's session

WORKFLOW_REGISTRY_NODE = "feature_kyb_registry_1"
#: The registry a KYB workflow's session searches when its expected_details name none.
WORKFLOW_COUNTRY = "GB"


def _workflow_company(tenant: Tenant, session: Session) -> Company:
    """The company the user of a KYB workflow's session picked in the registry step.

    The registry search is the mock's (`kyb_companies.find`): by `expected_details` (company_name,
    registration_number, registry_country) when the session names them, else by the words of its
    `vendor_data`; a search that finds nothing falls back to a company made up from the seed.
    """
    expected = session.expected_details or {}
    country = str(expected.get("registry_country") or WORKFLOW_COUNTRY).strip().upper()
    number = str(expected.get("registration_number") or "").strip() or None
    name = str(expected.get("company_name") or "").strip() or None
    if name is None and number is None:
        words = "".join(c if c.isalnum() else " " for c in session.vendor_data or "").split()
        name = " ".join(words) or None
    found = find(tenant.seed, country, name, number) or find(tenant.seed, country, None, None)
    return dataclasses.replace(found[0], pending=False)  # the user picked it: its registry data is there


def _workflow_status(session: Session) -> str:
    outcomes = session.outcomes or {}
    for feature in (FEATURE, KEY_PEOPLE):
        if feature in outcomes:
            return outcomes[feature].status
    return st.APPROVED


def attach_company(tenant: Tenant, session: Session) -> None:
    """The `session_finished` hook: a KYB workflow's session gets its company, once, as a registry
    retrieval's business session has one (same record, same update-data and parties routes).

    Everything is derived from the tenant's seed and the session (its `vendor_data` or
    `expected_details`, its id), so the same requests on the same seed give the same company.
    A second finish (after a resubmission) keeps the company and its edits, and updates its status.
    """
    if not session.workflow.kyb_features:
        return
    status = _workflow_status(session)
    data = session.data_overrides.get(FEATURE)
    if data is not None:
        data["final_status"] = status
        data["check"]["status"] = data["check"]["company"]["status"] = status
        return
    company = _workflow_company(tenant, session)
    ids = TenantRandom(derive_seed(tenant.seed, "kyb-workflow-company", session.session_id))
    uuids = [ids.uuid4() for _ in range(4)]
    company_record = _resolved_record(tenant, session, company, uuids, "ubo", status)
    company_record["node_id"] = WORKFLOW_REGISTRY_NODE
    check = _check(company_record)
    check["node_id"] = WORKFLOW_REGISTRY_NODE
    session.data_overrides[FEATURE] = {
        "check": check, "company": company.to_dict(), "uuids": uuids, "tier": "ubo", "final_status": status,
        "pending": False, "parties": {}, "source": "workflow",
    }
    book(tenant).companies[uuids[0]] = session.session_id


# ---------------------------------------------------------------- session data: company and parties

def company_session(tenant: Tenant, session: Session, company_uuid: str) -> dict[str, Any]:
    """The stored registry data of `company_uuid` in `session`, or Didit's 404s."""
    owner = book(tenant).companies.get(company_uuid)
    if owner is None:
        raise NotFound("No KYBCompany matches the given query.")
    data = session.data_overrides.get(FEATURE)
    if owner != session.session_id or data is None:
        raise NotFound("KYB company does not belong to the given session.")
    return data


def update_company(tenant: Tenant, session: Session, data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Apply console edits to the company record (and its registry snapshot); `data.updated` on a change."""
    from . import sessions as sessions_domain

    company_record = data["check"]["company"]
    canonical = {"company_name", "registration_number", "country_code", "incorporation_date", "tax_number",
                 "company_type", "registry_status", "verification_status", "alternative_names", "nature_of_business",
                 "registered_capital", "registered_capital_amount", "registered_capital_currency", "website", "email",
                 "phone", "legal_entity_identifier", "location_of_registration", "vat_number", "region"}
    renamed = {"legal_address": "registered_address"}
    changed = {}
    for name, value in changes.items():
        target = renamed.get(name, name)
        if (target in canonical or target == "registered_address") and company_record.get(target) != value:
            changed[target] = (company_record.get(target), value)
            company_record[target] = value
    snapshot = company_record.get("registry_data")
    company_record["registry_data"] = {**(snapshot if isinstance(snapshot, dict) else {}), **changes}
    if changes:
        now = tenant.clock.timestamp()
        company_record["last_console_edit_at"] = _now_iso(now)
        sessions_domain.add_review(
            tenant, session, activity_type="KYB_DATA_UPDATED", new_status=None, previous_status=None, comment=None,
            changed_fields=sorted(changes), previous_value={k: v[0] for k, v in changed.items()},
            new_value={k: v[1] for k, v in changed.items()})
        session.touch()
        tenant.events.emit(DomainEvent(DATA_UPDATED, "session", session.session_id, session.status, now))
    return copy.deepcopy(company_record)


def party(session: Session, party_uuid: str) -> dict[str, Any]:
    """An officer or owner of the session's company, as a Key People party."""
    data = session.data_overrides.get(FEATURE) or {}
    company_record = (data.get("check") or {}).get("company") or {}
    people = [(p, "person") for p in company_record.get("officers") or []] + [
        (p, p.get("entity_type") or "person") for p in company_record.get("beneficial_owners") or []]
    for person, kind in people:
        if person.get("uuid") == party_uuid:
            skipped = bool((data.get("parties") or {}).get(party_uuid, False))
            return {"uuid": party_uuid, "entity_type": kind, "name": person.get("name") or "", "is_skipped": skipped,
                    "requires_verification": not skipped, "kyc_session_status": person.get("kyc_status"),
                    "kyc_session_url": person.get("kyc_session_url"), "kyc_session_deleted": False,
                    "kyb_sub_session_deleted": False}
    raise NotFound("Party does not belong to the given session.")


def skip_party(tenant: Tenant, session: Session, party_uuid: str, skipped: bool) -> dict[str, Any]:
    from . import sessions as sessions_domain

    before = party(session, party_uuid)
    data = session.data_overrides[FEATURE]
    data.setdefault("parties", {})[party_uuid] = skipped
    if before["is_skipped"] != skipped:
        now = tenant.clock.timestamp()
        sessions_domain.add_review(
            tenant, session, activity_type="KYB_DATA_UPDATED", new_status=None, previous_status=None, comment=None,
            changed_fields=["is_skipped"], previous_value={"is_skipped": before["is_skipped"]},
            new_value={"is_skipped": skipped})
        session.touch()
        tenant.events.emit(DomainEvent(DATA_UPDATED, "session", session.session_id, session.status, now))
    return party(session, party_uuid)


# ---------------------------------------------------------------- the state document

def _export(tenant: Tenant) -> dict[str, Any]:
    kyb = book(tenant)
    return {"handles": copy.deepcopy(kyb.handles), "searches": copy.deepcopy(kyb.searches),
            "sessions": list(kyb.sessions), "companies": dict(kyb.companies), "counter": kyb.counter}


def _parse(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StateInvalid(f"{path}: an object is expected.")
    for name, kind in (("handles", dict), ("searches", dict), ("sessions", list), ("companies", dict),
                       ("counter", int)):
        if name in value and not isinstance(value[name], kind):
            raise StateInvalid(f"{path}.{name}: a {kind.__name__} is expected.")
    for handle, item in (value.get("handles") or {}).items():
        if not isinstance(item, dict) or not isinstance(item.get("company"), dict) or not isinstance(
                item.get("created_at"), (int, float)):
            raise StateInvalid(f"{path}.handles.{handle}: {{company, created_at, search_id}} is expected.")
    for request_id, item in (value.get("searches") or {}).items():
        if not isinstance(item, dict) or not isinstance(item.get("webhook_url"), str) or not isinstance(
                item.get("companies"), list):
            raise StateInvalid(f"{path}.searches.{request_id}: a stored search is expected.")
    return value


def _restore(tenant: Tenant, value: dict[str, Any]) -> None:
    kyb = book(tenant)
    kyb.handles = copy.deepcopy(value.get("handles") or {})
    kyb.searches = copy.deepcopy(value.get("searches") or {})
    kyb.sessions = [str(s) for s in value.get("sessions") or []]
    kyb.companies = {str(k): str(v) for k, v in (value.get("companies") or {}).items()}
    kyb.counter = int(value.get("counter") or 0)


KYB_SECTION = StateSection("kyb", _export, _parse, _restore)
