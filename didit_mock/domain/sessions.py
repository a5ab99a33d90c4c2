"""KYC sessions: the store with its indexes, and the state machine every edge drives."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from . import statuses as st
from .clock import iso
from .decision.layout import node_id_for
from .errors import NotFound, ValidationFailed
from .events import DATA_UPDATED, STATUS_UPDATED, DomainEvent
from .outcomes import FeatureOutcome, plan_outcome, sandbox_scenario
from .scheduler import JobId
from .workflows import Workflow, WorkflowBook

if TYPE_CHECKING:
    from .tenant import Tenant


@dataclass(slots=True)
class Review:
    """One entry of a session's review history (the decision's `reviews` and the reviews feed)."""

    uuid: str
    activity_type: str
    actor_type: str  # API_KEY | CONSOLE_USER | SYSTEM
    actor_display: str
    new_status: str | None
    previous_status: str | None
    comment: str | None
    created_at: float
    changed_fields: list[str] = field(default_factory=list)
    previous_value: Any = None
    new_value: Any = None
    actor_email: str | None = None


@dataclass(slots=True)
class Session:
    """A verification session and everything its decision is rendered from.

    `create_session` passes the fields up to `timeline` positionally, in this order (keywords
    would cost each create about 2 µs): keep it.
    """

    session_id: str
    session_number: int
    session_token: str
    workflow: Workflow
    url: str
    created_at: float
    expires_at: float | None
    vendor_data: str | None = None
    metadata: Any = None
    callback: str | None = None
    callback_method: str = "initiator"
    language: str | None = None
    contact_details: dict[str, Any] | None = None
    expected_details: dict[str, Any] | None = None
    portrait_digest: str | None = None
    sandbox_scenario: str | None = None
    #: (status, instant) pairs, oldest first: a tuple (grown by replacing it), which the garbage
    #: collector stops watching once its pairs are seen, as it never stops watching a list.
    timeline: tuple[tuple[str, float], ...] = ()
    status: str = st.NOT_STARTED
    started_at: float | None = None
    finished_at: float | None = None
    outcomes: dict[str, FeatureOutcome] | None = None
    data_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    reviews: Sequence[Review] = ()  # a list once the first review arrives (most sessions have none)
    shared_from_session: str | None = None
    imported_decision: dict[str, Any] | None = None
    resubmit_nodes: list[dict[str, str]] | None = None
    deleted: bool = False
    revision: int = 0
    expiry_job: JobId | None = field(default=None, repr=False)

    def touch(self) -> None:
        """Mark the session changed (cached renderings of it are stale)."""
        self.revision += 1


class SessionBook:
    """A tenant's sessions, with indexes so that lists and filters never walk every session.

    `by_id` (in creation order) and `by_vendor` (which every create consults) are kept from the
    start. The other indexes are built on their first use, one walk, and kept up to date from then
    on: a tenant that never filters by status or looks a session up by number or token pays
    nothing for them, per session created or in memory.
    """

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self._numbers = itertools.count(1)
        self.by_id: dict[str, Session] = {}
        # A user's sessions, oldest first: a tuple, as most users have one (a third of a list's size).
        self.by_vendor: dict[str, tuple[Session, ...]] = {}
        self._by_number: dict[int, Session] | None = None
        self._by_status: dict[str, dict[str, Session]] | None = None
        self._by_workflow: dict[str, dict[str, Session]] | None = None
        self._by_token: dict[str, Session] | None = None
        self._of_kyb_workflows: dict[str, Session] | None = None

    def next_number(self) -> int:
        return next(self._numbers)

    def peek_number(self) -> int:
        """The number the next session will get, without taking it (for a state export)."""
        upcoming = next(self._numbers)
        self._numbers = itertools.count(upcoming)
        return upcoming

    def restart_numbers(self, upcoming: int) -> None:
        """Continue numbering at `upcoming` (a state import)."""
        self._numbers = itertools.count(upcoming)

    # ---------------------------------------------------------------- indexes built on first use

    @property
    def by_number(self) -> dict[int, Session]:
        if self._by_number is None:
            self._by_number = {s.session_number: s for s in self.by_id.values()}
        return self._by_number

    @property
    def by_status(self) -> dict[str, dict[str, Session]]:
        """Sessions by status (within one, in no promised order: sort by `session_number`)."""
        if self._by_status is None:
            self._by_status = _grouped(self.by_id.values(), attrgetter("status"))
        return self._by_status

    @property
    def by_workflow(self) -> dict[str, dict[str, Session]]:
        if self._by_workflow is None:
            self._by_workflow = _grouped(self.by_id.values(), attrgetter("workflow.workflow_id"))
        return self._by_workflow

    @property
    def by_token(self) -> dict[str, Session]:
        if self._by_token is None:
            self._by_token = {s.session_token: s for s in self.by_id.values()}
        return self._by_token

    @property
    def of_kyb_workflows(self) -> dict[str, Session]:
        """The sessions whose workflow (version) runs KYB steps: business sessions, by id."""
        if self._of_kyb_workflows is None:
            self._of_kyb_workflows = {s.session_id: s for s in self.by_id.values() if s.workflow.kyb_features}
        return self._of_kyb_workflows

    # ---------------------------------------------------------------- changes

    def add(self, session: Session) -> None:
        self.by_id[session.session_id] = session
        if session.vendor_data is not None:
            self.by_vendor[session.vendor_data] = (*self.by_vendor.get(session.vendor_data, ()), session)
        if self._by_number is not None:
            self._by_number[session.session_number] = session
        if self._by_status is not None:
            _bucket(self._by_status, session.status)[session.session_id] = session
        if self._by_workflow is not None:
            _bucket(self._by_workflow, session.workflow.workflow_id)[session.session_id] = session
        if self._by_token is not None:
            self._by_token[session.session_token] = session
        if self._of_kyb_workflows is not None and session.workflow.kyb_features:
            self._of_kyb_workflows[session.session_id] = session

    def remove(self, session: Session) -> None:
        self.by_id.pop(session.session_id, None)
        if session.vendor_data is not None:
            same_user = self.by_vendor.get(session.vendor_data, ())
            kept = tuple(s for s in same_user if s is not session)
            if kept:
                self.by_vendor[session.vendor_data] = kept
            else:
                self.by_vendor.pop(session.vendor_data, None)
        if self._by_number is not None:
            self._by_number.pop(session.session_number, None)
        if self._by_status is not None:
            self._by_status.get(session.status, {}).pop(session.session_id, None)
        if self._by_workflow is not None:
            self._by_workflow.get(session.workflow.workflow_id, {}).pop(session.session_id, None)
        if self._by_token is not None:
            self._by_token.pop(session.session_token, None)
        if self._of_kyb_workflows is not None:
            self._of_kyb_workflows.pop(session.session_id, None)

    def reindex_status(self, session: Session, old: str) -> None:
        if self._by_status is not None:
            self._by_status.get(old, {}).pop(session.session_id, None)
            _bucket(self._by_status, session.status)[session.session_id] = session

    # ---------------------------------------------------------------- reading

    def get(self, session_id: str) -> Session | None:
        return self.by_id.get(session_id)

    def require(self, session_id: str) -> Session:
        session = self.by_id.get(session_id)
        if session is None:
            raise NotFound()
        return session

    def newest_first(self) -> Iterator[Session]:
        """Every session, in descending session_number order."""
        return reversed(self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)


def _grouped(sessions: Iterable[Session], key: Callable[[Session], str]) -> dict[str, dict[str, Session]]:
    """An index of `sessions` by `key`: key -> {session_id: session}."""
    index: dict[str, dict[str, Session]] = {}
    for session in sessions:
        _bucket(index, key(session))[session.session_id] = session
    return index


def _bucket(index: dict[str, dict[str, Session]], key: str) -> dict[str, Session]:
    """`index[key]`, created when missing (unlike `setdefault(key, {})`, no dict is built for nothing)."""
    found = index.get(key)
    if found is None:
        found = index[key] = {}
    return found


def book(tenant: Tenant) -> SessionBook:
    return tenant.component(SessionBook)


def workflows(tenant: Tenant) -> WorkflowBook:
    return tenant.component(WorkflowBook)


# ---------------------------------------------------------------- creating

@dataclass(slots=True)
class NewSession:
    """What a create-session request asks for, already validated by the API layer."""

    workflow_id: str
    vendor_data: str | None = None
    metadata: Any = None
    callback: str | None = None
    callback_method: str = "initiator"
    language: str | None = None
    contact_details: dict[str, Any] | None = None
    expected_details: dict[str, Any] | None = None
    portrait_digest: str | None = None
    sandbox_scenario: str | None = None


def hosted_url(tenant: Tenant, token: str, language: str | None) -> str:
    base = tenant.config.public_base_url.rstrip("/")
    return f"{base}/{language}/session/{token}" if language else f"{base}/session/{token}"


def create_session(tenant: Tenant, request: NewSession) -> tuple[Session, bool]:
    """Create a session, or return the unfinished one of the same vendor_data and workflow.

    Returns the session and whether it is new.
    """
    for guard in tenant.registry.wiring.session_guards:
        guard(tenant, request)
    workflow = workflows(tenant).resolve(request.workflow_id, tenant.config.strict_workflows)
    if request.sandbox_scenario is not None:
        if not tenant.is_sandbox:
            raise ValidationFailed.field(
                "sandbox_scenario", "Sandbox scenarios are only available for sandbox applications."
            )
        if sandbox_scenario(request.sandbox_scenario) is None:
            raise ValidationFailed.field(
                "sandbox_scenario", f"Unknown sandbox scenario: '{request.sandbox_scenario}'."
            )
    if workflow.requires_portrait and request.portrait_digest is None:
        if request.vendor_data is None:
            raise ValidationFailed.field(
                "portrait_image",
                "A portrait image is required to perform face match for this workflow. Send a "
                "portrait_image, or provide the vendor_data of a user with a previously stored face "
                "image to reuse it.",
                as_list=False,
            )
        if not _has_stored_face(tenant, request.vendor_data):
            raise ValidationFailed.field(
                "portrait_image",
                "No stored face image was found for this user. Send a portrait_image, or complete an "
                "approved verification with face liveness or an ID document for this vendor_data first.",
                as_list=False,
            )

    sessions = book(tenant)
    same_user = sessions.by_vendor.get(request.vendor_data) if request.vendor_data is not None else None
    if same_user:
        for existing in reversed(same_user):  # newest first
            if existing.status in st.UNFINISHED and existing.workflow.workflow_id == workflow.workflow_id \
                    and existing.workflow.version == workflow.version:
                existing.callback = request.callback
                existing.metadata = request.metadata
                existing.touch()
                return existing, False

    charge_session_credit(tenant)
    now = tenant.clock.timestamp()
    session_id = tenant.rng.uuid4()
    token = tenant.rng.token(12)
    session = Session(  # positionally, in the declared order of the fields
        session_id,
        sessions.next_number(),  # session_number
        token,  # session_token
        workflow,
        hosted_url(tenant, token, request.language),  # url
        now,  # created_at
        now + workflow.expiration_seconds,  # expires_at
        request.vendor_data,
        request.metadata,
        request.callback or workflow.callback_url,  # callback
        request.callback_method,
        request.language,
        request.contact_details,
        request.expected_details,
        request.portrait_digest,
        request.sandbox_scenario,
        ((st.NOT_STARTED, now),),  # timeline
    )
    sessions.add(session)
    tenant.registry.index_token(token, tenant)
    _schedule_expiry(tenant, session)
    for hook in tenant.registry.wiring.session_created:
        hook(tenant, session)
    return session, True


NO_CREDITS = "You don't have enough credits to perform this request. Please top up at https://business.didit.me"


def charge_session_credit(tenant: Tenant) -> None:
    """Live tenants with a credit balance (`TenantConfig.credits`) pay the session price (billing)."""
    if tenant.config.credits is None or tenant.is_sandbox:
        return
    from .billing import charge_session

    charge_session(tenant, NO_CREDITS)


def _has_stored_face(tenant: Tenant, vendor_data: str) -> bool:
    faces = book(tenant).by_vendor.get(vendor_data, ())
    return any(s.status == st.APPROVED and s.outcomes for s in faces)


# ---------------------------------------------------------------- transitions

def set_status(tenant: Tenant, session: Session, status: str, extra: dict[str, Any] | None = None) -> None:
    """Move a session to `status`, record it, and emit `status.updated`."""
    old = session.status
    now = tenant.clock.timestamp()
    session.status = status
    session.timeline += ((status, now),)
    session.touch()
    book(tenant).reindex_status(session, old)
    tenant.events.emit(DomainEvent(STATUS_UPDATED, "session", session.session_id, status, now, extra or {}))


def start_session(tenant: Tenant, session: Session) -> bool:
    """The user opened the link: Not Started (or Resubmitted) becomes In Progress."""
    if session.status not in (st.NOT_STARTED, st.RESUBMITTED):
        return False
    session.started_at = tenant.clock.timestamp()
    set_status(tenant, session, st.IN_PROGRESS)
    _schedule_expiry(tenant, session)
    return True


def finish_session(
    tenant: Tenant,
    session: Session,
    status: str | None = None,
    features: dict[str, Any] | None = None,
    final_only: bool = False,
) -> Session:
    """Finish a session as the user would: through In Progress to the outcome.

    `status` is Approved, Declined, In Review or Abandoned, or None for the sandbox scenario's
    outcome (approval without one). `features` sets per-feature outcomes. A Not Started session
    first becomes In Progress (with its webhook) unless `final_only`: then only the outcome is emitted.
    """
    if status is not None and status not in st.OUTCOMES:
        raise ValidationFailed.field("status", f'"{status}" is not a valid choice.')
    if session.status not in (st.NOT_STARTED, st.IN_PROGRESS, st.RESUBMITTED):
        raise ValidationFailed.detail(
            f"Only sessions that are Not Started, In Progress or Resubmitted can be completed. "
            f"Current status: {session.status}"
        )
    final, outcomes = plan_outcome(tenant, session, status, features)
    if final_only:
        session.started_at = session.started_at or tenant.clock.timestamp()
    else:
        start_session(tenant, session)
    session.outcomes = None if final == st.ABANDONED else outcomes
    session.finished_at = tenant.clock.timestamp()
    session.resubmit_nodes = None
    _cancel_expiry(tenant, session)
    _finished(tenant, session)
    set_status(tenant, session, final)
    _schedule_document_expiry(tenant, session)
    return session


def _finished(tenant: Tenant, session: Session) -> None:
    """The wiring's `session_finished` hooks (a KYB workflow's session gets its company)."""
    if session.outcomes is None:
        return
    for hook in tenant.registry.wiring.session_finished:
        hook(tenant, session)


# ---------------------------------------------------------------- expiry

def _cancel_expiry(tenant: Tenant, session: Session) -> None:
    if session.expiry_job is not None:
        tenant.scheduler.cancel(session.expiry_job)
        session.expiry_job = None


def _schedule_expiry(tenant: Tenant, session: Session) -> None:
    """Not started in time -> Expired; started but unfinished in time -> Abandoned."""
    _cancel_expiry(tenant, session)
    if session.expires_at is None:
        return
    if session.status == st.IN_PROGRESS and session.started_at is not None:
        session.expires_at = session.started_at + session.workflow.expiration_seconds
    session.expiry_job = tenant.scheduler.at(session.expires_at, _expire, tenant, session)


def _expire(tenant: Tenant, session: Session) -> None:
    """The expiry job: Not Started becomes Expired, In Progress or Resubmitted becomes Abandoned."""
    if session.deleted:
        return
    if session.status == st.NOT_STARTED:
        set_status(tenant, session, st.EXPIRED)
    elif session.status in (st.IN_PROGRESS, st.RESUBMITTED):
        set_status(tenant, session, st.ABANDONED)


def _schedule_document_expiry(tenant: Tenant, session: Session) -> None:
    """An approved session whose document expires becomes Kyc Expired at that instant."""
    if session.status != st.APPROVED:
        return
    from .decision.id_verification import document_expiry_timestamp  # lazily: it depends on people

    due = document_expiry_timestamp(tenant, session)
    if due is not None:
        tenant.scheduler.at(due, _kyc_expire, tenant, session)  # a job with arguments: no closure per session


def _kyc_expire(tenant: Tenant, session: Session) -> None:
    """The document-expiry job: an approved session whose document has expired becomes Kyc Expired."""
    if session.deleted or session.status != st.APPROVED:
        return
    from .decision.id_verification import document_expiry_timestamp

    current = document_expiry_timestamp(tenant, session)  # the date may have been corrected since
    if current is not None and current <= tenant.clock.timestamp():
        set_status(tenant, session, st.KYC_EXPIRED)


#: Statuses whose expiry job (Expired / Abandoned) a restored session gets back.
_EXPIRING = (st.NOT_STARTED, st.IN_PROGRESS, st.RESUBMITTED)


def rearm_jobs(tenant: Tenant, session: Session) -> None:
    """Re-create the scheduled jobs of a session restored by a state import (expiry, Kyc Expired)."""
    if session.status in _EXPIRING and session.expires_at is not None:
        _schedule_expiry(tenant, session)
    elif session.status == st.APPROVED:
        _schedule_document_expiry(tenant, session)


# ---------------------------------------------------------------- reviews and manual decisions

def add_review(
    tenant: Tenant,
    session: Session,
    *,
    activity_type: str,
    new_status: str | None,
    previous_status: str | None,
    comment: str | None,
    actor_type: str = "API_KEY",
    actor_display: str = "API Client",
    changed_fields: list[str] | None = None,
    previous_value: Any = None,
    new_value: Any = None,
) -> Review:
    review = Review(
        uuid=tenant.rng.uuid4(),
        activity_type=activity_type,
        actor_type=actor_type,
        actor_display=actor_display,
        new_status=new_status,
        previous_status=previous_status,
        comment=comment,
        created_at=tenant.clock.timestamp(),
        changed_fields=changed_fields or [],
        previous_value=previous_value,
        new_value=new_value,
    )
    session.reviews = [*session.reviews, review]
    session.touch()
    return review


#: update-status feature names -> decision features (aliases normalised as the server does).
RESUBMIT_FEATURES = {
    "OCR": "ID_VERIFICATION", "OCR_BACK": "ID_VERIFICATION", "ID_VERIFICATION": "ID_VERIFICATION",
    "NFC": "NFC", "LIVENESS": "LIVENESS", "FACE": "LIVENESS", "FACE_MATCH": "FACE_MATCH",
    "AML": "AML", "IP_ANALYSIS": "IP_ANALYSIS", "AGE_ESTIMATION": "AGE_ESTIMATION",
    "PROOF_OF_ADDRESS": "POA", "POA": "POA", "PHONE_VERIFICATION": "PHONE", "PHONE": "PHONE",
    "EMAIL_VERIFICATION": "EMAIL_VERIFICATION", "EMAIL": "EMAIL_VERIFICATION",
    "DATABASE_VALIDATION": "DATABASE_VALIDATION", "QUESTIONNAIRE": "QUESTIONNAIRE",
    "FACE_SEARCH": "LIVENESS", "DOCUMENT_AI": "DOCUMENT_AI", "KYB_DOCUMENTS": "KYB_DOCUMENTS",
}
KYB_ONLY_FEATURES = ("KYB_REGISTRY", "KYB_KEY_PEOPLE", "KYB")
AUTO_RESUBMIT = ("ID_VERIFICATION", "LIVENESS", "FACE_MATCH", "POA", "PHONE", "EMAIL_VERIFICATION", "AML",
                 "DATABASE_VALIDATION", "QUESTIONNAIRE")
RESUBMIT_ELIGIBLE = (st.DECLINED, st.IN_REVIEW, st.NOT_FINISHED, st.EXPIRED)


def check_overridable(session: Session) -> None:
    """Rule 1 of update-status, which runs before the body is validated."""
    if session.status not in st.OVERRIDABLE:
        raise ValidationFailed.detail(
            "Only sessions with status Approved, Declined, In Review, Kyc Expired, Abandoned, "
            f"Resubmitted can be updated. Current status: {session.status}"
        )


def update_status(
    tenant: Tenant,
    session: Session,
    new_status: str,
    comment: str | None = None,
    nodes_to_resubmit: list[dict[str, str]] | None = None,
) -> Session:
    """A manual decision: Approved, Declined or Resubmitted, with a review entry and a webhook."""
    check_overridable(session)
    if new_status == session.status:
        raise ValidationFailed(["The new status is the same as the current status."])
    extra: dict[str, Any] = {}
    if new_status == st.RESUBMITTED:
        nodes = _resubmission_nodes(session, nodes_to_resubmit)
        extra["resubmit_info"] = {
            "nodes_to_resubmit": nodes,
            "reasons": {n["node_id"]: f"{n['feature']} must be completed again." for n in nodes},
        }
        session.resubmit_nodes = nodes
        if session.outcomes:
            for node in nodes:
                feature = RESUBMIT_FEATURES.get(node["feature"], node["feature"])
                if feature in session.outcomes:
                    session.outcomes[feature].status = st.RESUB_REQUESTED
        session.expires_at = tenant.clock.timestamp() + session.workflow.expiration_seconds
    previous = session.status
    add_review(
        tenant, session, activity_type="STATUS_UPDATED", new_status=new_status, previous_status=previous,
        comment=comment, changed_fields=["status"], previous_value={"status": previous},
        new_value={"status": new_status},
    )
    if new_status in (st.APPROVED, st.DECLINED) and session.outcomes is None:
        session.outcomes = {}
    set_status(tenant, session, new_status, extra)
    if new_status == st.RESUBMITTED:
        _schedule_expiry(tenant, session)
    else:
        _schedule_document_expiry(tenant, session)
    return session


def _resubmission_nodes(session: Session, requested: list[dict[str, str]] | None) -> list[dict[str, str]]:
    if requested:
        bad = [n["feature"] for n in requested if n["feature"] in KYB_ONLY_FEATURES]
        if bad:
            raise ValidationFailed.field(
                "nodes_to_resubmit",
                f"The following features cannot be resubmitted directly: {', '.join(bad)}. Resubmit the "
                "relevant child KYC sessions instead; the parent will recompute automatically.",
                as_list=False,
            )
        return [{"node_id": n["node_id"], "feature": n["feature"]} for n in requested]
    picked = []
    for feature in AUTO_RESUBMIT:
        outcome = (session.outcomes or {}).get(feature)
        if outcome is not None and outcome.status in RESUBMIT_ELIGIBLE:
            picked.append({"node_id": node_id_for(feature), "feature": feature})
    if not picked:
        raise ValidationFailed.field(
            "nodes_to_resubmit",
            "No features found that need resubmission. All features are already approved.",
            as_list=False,
        )
    return picked


def update_data(tenant: Tenant, session: Session, feature: str, changes: dict[str, Any]) -> bool:
    """Correct extracted data of a feature; emits `data.updated` when a value actually changed."""
    current = session.data_overrides.setdefault(feature, {})
    changed = [k for k, v in changes.items() if current.get(k) != v]
    if not changed:
        return False
    previous = {k: current.get(k) for k in changed}
    current.update(changes)
    add_review(
        tenant, session, activity_type="KYC_DATA_UPDATED" if feature == "ID_VERIFICATION" else "POA_DATA_UPDATED",
        new_status=None, previous_status=None, comment=None, changed_fields=sorted(changed),
        previous_value=previous, new_value={k: changes[k] for k in changed},
    )
    now = tenant.clock.timestamp()
    tenant.events.emit(DomainEvent(DATA_UPDATED, "session", session.session_id, session.status, now))
    return True


def delete_session(tenant: Tenant, session: Session) -> None:
    """Delete a session: gone from decision and lists; no webhook."""
    _cancel_expiry(tenant, session)
    session.deleted = True
    book(tenant).remove(session)
    for hook in tenant.registry.wiring.session_deleted:
        hook(tenant, session)


def created_iso(session: Session) -> str:
    from datetime import datetime, timezone

    return iso(datetime.fromtimestamp(session.created_at, tz=timezone.utc))
