"""AML ongoing monitoring: toggles over users, businesses and KYB sessions, run as jobs on the tenant clock.

A toggle selects targets (profiles by `vendor_data` / `didit_internal_id`, or KYB sessions by
number) and gives each exactly one outcome. A profile's AML screenings are the AML results of its
sessions (the `is_ongoing_monitoring_enabled` and `next_ongoing_monitoring_bill_date` of their
decision's AML block) plus, for a profile that had none, the screening a toggle created for it.
Exactly one screening per profile is monitored: enabling turns on the newest one (creating and
billing one when there is none and the identity data allows it); disabling turns off all of them.

Selections of up to `INLINE_LIMIT` targets run at once (the answer is the completed job); larger
ones are `PENDING`, become `PROCESSING` `STEP_SECONDS` later and process `BATCH` targets per step
of the tenant clock until `COMPLETED`.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import workflows as wf
from .clock import iso
from .errors import DiditError, NotFound, ValidationFailed
from .users import BLOCKED, BUSINESS, USER, Entity, EntityBook, entity_json, kind_of, sessions_of

if TYPE_CHECKING:
    from .sessions import Session
    from .tenant import Tenant

SESSION = "session"
PENDING, PROCESSING, COMPLETED, FAILED = "PENDING", "PROCESSING", "COMPLETED", "FAILED"
API, CONSOLE = "api", "console"
OUTCOMES = (
    "enabled", "screened_and_enabled", "already_enabled", "disabled", "skipped_no_identity_data",
    "skipped_blocked", "skipped_sandbox", "failed_provider", "failed_insufficient_balance",
)
#: Selections up to this size complete inline (200); larger ones run in the background (202).
INLINE_LIMIT = 20
#: Targets processed per step of a background job, and the clock seconds between steps.
BATCH = 25
STEP_SECONDS = 1.0
MAX_IDENTIFIERS = 1000
#: List prices (USD): a new AML screening, and a year of monitoring of one profile.
SCREENING_PRICE = Decimal("0.20")
MONITORING_PRICE = Decimal("0.07")
BILLING_PERIOD_DAYS = 365

NO_SELECTOR = "Provide vendor_data_list or didit_internal_id_list."
TOO_MANY = f"At most {MAX_IDENTIFIERS} identifiers are allowed across vendor_data_list and didit_internal_id_list."
NO_CONSOLE_SELECTOR = "Provide didit_internal_id_list or set update_all to true."
NO_SESSION_SELECTOR = "Provide session_numbers or set update_all to true."
INSUFFICIENT_BALANCE = ("Insufficient balance to enable ongoing monitoring for this selection. "
                        "Please top up at https://business.didit.me")


@dataclass
class Target:
    """One selected profile (`kind` user/business, `ref` its didit_internal_id) or KYB session (`ref` its id)."""

    kind: str
    ref: str
    vendor_data: str | None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.ref}"


@dataclass
class Screening:
    """A screening a toggle created for a profile (or KYB session) that had none."""

    key: str
    enabled: bool
    created_at: float
    billed_at: float | None


@dataclass
class Job:
    job_id: str
    surface: str
    target_type: str
    is_enabled: bool
    targets: list[Target]
    estimate: dict[str, Any]
    unmatched: list[str]
    created_at: float
    status: str = PENDING
    processed: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    results: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    completed_at: float | None = None
    #: When the next step of a background job is due (None once it is done).
    next_step_at: float | None = None

    def view(self, surface: str) -> dict[str, Any]:
        """The job as the API (`api`) or the console (`console`) shows it."""
        body: dict[str, Any] = {
            "job_id": self.job_id, "status": self.status, "is_enabled": self.is_enabled,
            "target_type": self.target_type, "total": len(self.targets), "processed": self.processed,
            "outcomes": dict(self.outcomes), "results": [dict(r) for r in self.results], "error": self.error,
            "created_at": _iso(self.created_at), "completed_at": _iso(self.completed_at),
            "estimate": dict(self.estimate), "unmatched": list(self.unmatched),
        }
        if surface == CONSOLE:
            for name in ("target_type", "results", "unmatched"):
                del body[name]
            body["estimate"].pop("unmatched", None)
        return body

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class MonitoringBook:
    """A tenant's monitoring jobs and the screenings toggles created."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.jobs: dict[str, Job] = {}
        self.screenings: dict[str, Screening] = {}


def book(tenant: Tenant) -> MonitoringBook:
    return tenant.component(MonitoringBook)


def _iso(ts: float | None) -> str | None:
    return None if ts is None else iso(datetime.fromtimestamp(ts, timezone.utc))


# ---------------------------------------------------------------- selecting

def select_profiles(
    tenant: Tenant, kind: str, vendor_data: list[str], ids: list[str],
) -> tuple[list[Target], list[str]]:
    """The API selection: profiles by vendor_data or id (OR'd, each once, in request order), and the unmatched."""
    entities = tenant.component(EntityBook)
    found: dict[str, Target] = {}
    unmatched: list[str] = []
    for value in vendor_data:
        entity = entities.by_vendor(kind, value)
        if entity is None:
            unmatched.append(value)
        else:
            found.setdefault(entity.didit_internal_id, _target(entity))
    for value in ids:
        entity = entities.entities[kind].get(value.lower())
        if entity is None:
            unmatched.append(value)
        else:
            found.setdefault(entity.didit_internal_id, _target(entity))
    return list(found.values()), unmatched


def _target(entity: Entity) -> Target:
    return Target(entity.kind, entity.didit_internal_id, entity.vendor_data)


def select_console_profiles(tenant: Tenant, kind: str, body: dict[str, Any]) -> list[Target]:
    """The console selection: `didit_internal_id_list`, or every profile the `filter_*` fields keep."""
    entities = tenant.component(EntityBook).entities[kind]
    if not body.get("update_all"):
        wanted = [str(i).lower() for i in body.get("didit_internal_id_list") or []]
        return [_target(entities[i]) for i in dict.fromkeys(wanted) if i in entities]
    chosen = []
    for entity in sorted(entities.values(), key=lambda e: e.created_at):
        view = entity_json(tenant, entity)
        country = view.get("country_code") if kind == BUSINESS else next(iter(view.get("issuing_states") or []), None)
        names = [entity.vendor_data, view.get("effective_name"), view.get("full_name"), view.get("legal_name"),
                 entity.didit_internal_id]
        if _kept(body, names, entity.status, country, entity.created_at):
            chosen.append(_target(entity))
    return chosen


def select_sessions(tenant: Tenant, body: dict[str, Any]) -> list[Target]:
    """The KYB sessions of `session_numbers`, or every KYB session the `filter_*` fields keep."""
    from .sessions import book as session_book

    sessions = [s for s in session_book(tenant).by_id.values() if not s.deleted and kind_of(s) == BUSINESS]
    if not (body.get("update_all") or body.get("toggle_all")):
        wanted = {str(n).strip() for n in body.get("session_numbers") or []}
        return [_session_target(s) for s in sessions if str(s.session_number) in wanted]
    workflow = body.get("filter_workflow_id")
    return [_session_target(s) for s in sessions
            if (not workflow or s.workflow.workflow_id == workflow)
            and _kept(body, [s.vendor_data, s.session_id, str(s.session_number)], s.status, None, s.created_at)]


def _session_target(session: Session) -> Target:
    return Target(SESSION, session.session_id, session.vendor_data)


def _kept(body: dict[str, Any], names: list[str | None], status: str, country: str | None, created_at: float) -> bool:
    """Whether a row passes the console's `filter_*` fields."""
    search = (body.get("filter_search") or "").strip().casefold()
    if search and not any(search in n.casefold() for n in names if n):
        return False
    statuses = body.get("filter_status") or []
    if statuses and status not in statuses:
        return False
    wanted_country = body.get("filter_country")
    if wanted_country and (country or "").upper() != wanted_country.upper():
        return False
    day = datetime.fromtimestamp(created_at, timezone.utc).date().isoformat()
    if body.get("filter_date_from") and day < body["filter_date_from"]:
        return False
    return not (body.get("filter_date_to") and day > body["filter_date_to"])


# ---------------------------------------------------------------- a target's screenings

def _entity(tenant: Tenant, target: Target) -> Entity | None:
    entities = tenant.component(EntityBook)
    if target.kind == SESSION:
        return entities.by_vendor(BUSINESS, target.vendor_data) if target.vendor_data is not None else None
    return entities.entities[target.kind].get(target.ref)


def _aml_sessions(tenant: Tenant, target: Target) -> list[Session]:
    """The target's sessions with an AML result, oldest first."""
    from .sessions import book as session_book

    if target.kind == SESSION:
        session = session_book(tenant).by_id.get(target.ref)
        found = [session] if session is not None and not session.deleted else []
    else:
        entity = _entity(tenant, target)
        found = sessions_of(tenant, entity) if entity is not None else []
    return [s for s in found if s.outcomes and wf.AML in s.outcomes]


def _monitored(session: Session) -> bool:
    assert session.outcomes is not None
    return session.outcomes[wf.AML].data.get("is_ongoing_monitoring_enabled") is True


def _set_session(tenant: Tenant, session: Session, enabled: bool) -> None:
    assert session.outcomes is not None
    bill = (tenant.clock.now() + timedelta(days=BILLING_PERIOD_DAYS)).date().isoformat() if enabled else None
    session.outcomes[wf.AML].merge_data({"is_ongoing_monitoring_enabled": enabled,
                                         "next_ongoing_monitoring_bill_date": bill})
    session.touch()


def _has_identity(tenant: Tenant, target: Target) -> bool:
    """Users need a full name, a date of birth and a country; businesses (and KYB sessions) a name."""
    entity = _entity(tenant, target)
    if entity is None:
        return False
    view = entity_json(tenant, entity)
    if entity.kind == USER:
        return bool(view.get("full_name") and view.get("date_of_birth") and view.get("issuing_states"))
    return bool(view.get("legal_name") or view.get("display_name"))


def _plan(tenant: Tenant, target: Target, enabling: bool) -> str:
    """What a toggle would do to the target now: an outcome, or `screen` (a new screening is needed)."""
    if not enabling:
        return "disabled"
    sessions = _aml_sessions(tenant, target)
    created = book(tenant).screenings.get(target.key)
    if any(_monitored(s) for s in sessions) or (created is not None and created.enabled):
        return "already_enabled"
    entity = _entity(tenant, target)
    if target.kind == USER and entity is not None and entity.status == BLOCKED:
        return "skipped_blocked"
    if sessions or created is not None:
        return "enabled"
    return "screen" if _has_identity(tenant, target) else "skipped_no_identity_data"


# ---------------------------------------------------------------- estimate and billing

def estimate(tenant: Tenant, targets: list[Target], enabling: bool, unmatched: list[str]) -> dict[str, Any]:
    plans = [_plan(tenant, t, True) for t in targets]
    count = {name: plans.count(name) for name in ("already_enabled", "enabled", "screen",
                                                  "skipped_no_identity_data", "skipped_blocked")}
    screenings = count["screen"] if enabling else 0
    monitored = count["enabled"] + count["screen"] if enabling else 0
    screening_cost = SCREENING_PRICE * screenings
    monitoring_cost = MONITORING_PRICE * monitored
    return {
        "users_total": len(targets), "already_enabled": count["already_enabled"],
        "with_existing_aml": count["enabled"], "needing_screening": count["screen"],
        "skipped_no_identity_data": count["skipped_no_identity_data"], "skipped_blocked": count["skipped_blocked"],
        "estimated_screening_cost_usd": float(screening_cost),
        "estimated_annual_monitoring_cost_usd": float(monitoring_cost),
        "balance_sufficient": _affordable(tenant, screening_cost + monitoring_cost),
        "unmatched": list(unmatched),
    }


def _affordable(tenant: Tenant, amount: Decimal) -> bool:
    credits = tenant.config.credits
    return credits is None or tenant.is_sandbox or Decimal(str(credits)) >= amount


def _charge(tenant: Tenant, amount: Decimal) -> bool:
    """Debit a set balance of a live application; False when it cannot cover `amount`."""
    if not _affordable(tenant, amount):
        return False
    if tenant.config.credits is not None and not tenant.is_sandbox:
        tenant.config.credits = float(Decimal(str(tenant.config.credits)) - amount)
    return True


# ---------------------------------------------------------------- applying

def apply(tenant: Tenant, target: Target, enabling: bool) -> str:
    """Toggle one target now; its outcome."""
    sessions = _aml_sessions(tenant, target)
    screenings = book(tenant).screenings
    created = screenings.get(target.key)
    if not enabling:
        for session in sessions:
            if _monitored(session):
                _set_session(tenant, session, False)
        if created is not None:
            created.enabled, created.billed_at = False, None
        return "disabled"
    plan = _plan(tenant, target, True)
    if plan == "already_enabled":
        _consolidate(tenant, sessions, created)
        return plan
    if plan == "enabled":
        if not _charge(tenant, MONITORING_PRICE):
            return "failed_insufficient_balance"
        now = tenant.clock.timestamp()
        if sessions:
            _set_session(tenant, sessions[-1], True)
        elif created is not None:
            created.enabled, created.billed_at = True, now
        return plan
    if plan != "screen":
        return plan
    if tenant.is_sandbox:
        return "skipped_sandbox"
    if not _charge(tenant, SCREENING_PRICE + MONITORING_PRICE):
        return "failed_insufficient_balance"
    now = tenant.clock.timestamp()
    screenings[target.key] = Screening(target.key, True, now, now)
    return "screened_and_enabled"


def _consolidate(tenant: Tenant, sessions: list[Session], created: Screening | None) -> None:
    """Keep one monitored screening: the newest monitored session's, else the created one."""
    on = [s for s in sessions if _monitored(s)]
    for session in on[:-1]:
        _set_session(tenant, session, False)
    if on and created is not None and created.enabled:
        created.enabled, created.billed_at = False, None


def _process(tenant: Tenant, job: Job, count: int) -> None:
    for target in job.targets[job.processed:job.processed + count]:
        outcome = apply(tenant, target, job.is_enabled)
        job.outcomes[outcome] += 1
        if job.surface == API:
            ref = target.ref if target.kind != SESSION else ""
            job.results.append({"didit_internal_id": ref, "vendor_data": target.vendor_data, "outcome": outcome})
        job.processed += 1
    if job.processed >= len(job.targets):
        job.status = COMPLETED
        job.completed_at = tenant.clock.timestamp()
        job.next_step_at = None


# ---------------------------------------------------------------- jobs

def start(tenant: Tenant, surface: str, target_type: str, targets: list[Target], enabling: bool,
          unmatched: list[str]) -> Job:
    """A new job; it completes now for a small selection, or is scheduled on the tenant clock."""
    preview = estimate(tenant, targets, enabling, unmatched)
    if enabling and not preview["balance_sufficient"]:
        shown = {k: v for k, v in preview.items() if k != "unmatched"} if surface == CONSOLE else preview
        raise DiditError({"error": INSUFFICIENT_BALANCE, "estimate": shown}, 403)
    now = tenant.clock.timestamp()
    job = Job(tenant.rng.uuid4(), surface, target_type, enabling, targets, preview, unmatched, now)
    book(tenant).jobs[job.job_id] = job
    if len(targets) <= INLINE_LIMIT:
        _process(tenant, job, len(targets))
    else:
        job.next_step_at = now + STEP_SECONDS
        _arm(tenant, job)
    return job


def _arm(tenant: Tenant, job: Job) -> None:
    assert job.next_step_at is not None
    tenant.scheduler.at(job.next_step_at, _step, tenant, job.job_id)


def _step(tenant: Tenant, job_id: str) -> None:
    """One step of a background job: PENDING becomes PROCESSING, then `BATCH` targets per step."""
    job = book(tenant).jobs.get(job_id)
    if job is None or job.status in (COMPLETED, FAILED) or job.next_step_at is None:
        return
    if job.status == PENDING:
        job.status = PROCESSING
    else:
        _process(tenant, job, BATCH)
    if job.status == PROCESSING:
        job.next_step_at += STEP_SECONDS
        _arm(tenant, job)


def get(tenant: Tenant, job_id: str, target_type: str | None = None) -> Job:
    job = book(tenant).jobs.get(job_id.lower())
    if job is None or (target_type is not None and job.target_type != target_type):
        raise NotFound()
    return job


def check_ids(ids: list[str]) -> None:
    """DRF's answer to list items that are not UUIDs (by index)."""
    wrong = {}
    for index, value in enumerate(ids):
        try:
            uuid.UUID(value)
        except ValueError:
            wrong[str(index)] = ["Must be a valid UUID."]
    if wrong:
        raise ValidationFailed({"didit_internal_id_list": wrong})


def check_selection(vendor_data: list[str], ids: list[str]) -> None:
    check_ids(ids)
    if not vendor_data and not ids:
        raise ValidationFailed([NO_SELECTOR])
    if len(vendor_data) + len(ids) > MAX_IDENTIFIERS:
        raise ValidationFailed([TOO_MANY])


# ---------------------------------------------------------------- the state section

def export_state(tenant: Tenant) -> dict[str, Any]:
    monitoring = book(tenant)
    return {"jobs": [j.to_json() for j in monitoring.jobs.values()],
            "screenings": [asdict(s) for s in monitoring.screenings.values()]}


def restore(tenant: Tenant, jobs: list[Job], screenings: list[Screening]) -> None:
    """Replace the tenant's jobs and screenings, and re-arm the jobs still running."""
    monitoring = book(tenant)
    monitoring.jobs = {j.job_id: j for j in jobs}
    monitoring.screenings = {s.key: s for s in screenings}
    for job in jobs:
        if job.next_step_at is not None and job.status in (PENDING, PROCESSING):
            _arm(tenant, job)
