"""B2B session sharing: share tokens (HS256 JWTs) and cloning a shared session into the receiver.

One application mints a token bound to another application (`share`); the receiver redeems it
once (`import-shared`) and gets a copy of the decision as a new session of its own. Token
times come from the clocks passed in: `iat`/`exp` on the sharing tenant's clock, the expiry
check on the receiver's clock. PyJWT loads with the first token.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import sessions as sessions_domain
from . import statuses as st
from .errors import NotFound, PermissionDenied, ValidationFailed
from .sessions import Session

if TYPE_CHECKING:
    from .tenant import Tenant, TenantRegistry

ALGORITHM = "HS256"
DEFAULT_TTL = 3600
MIN_TTL = 60
MAX_TTL = 86400

INVALID_TOKEN = "Invalid share token."
EXPIRED_TOKEN = "Share token has expired."
WRONG_RECEIVER = "This token is not valid for this application."
SOURCE_GONE = "Original session does not exist."
NOT_SHAREABLE = 'Only finished sessions ("Approved", "Declined", "In Review") can be shared.'
ALREADY_IMPORTED = "This session has already been shared with your application."
UNKNOWN_WORKFLOW = "Workflow does not exist for this application."
#: Statuses an imported copy keeps when the receiver trusts the source's review.
TRUSTABLE = frozenset({st.APPROVED, st.DECLINED, st.IN_REVIEW, st.KYC_EXPIRED})


def signing_key(global_seed: int) -> str:
    """The one server-wide HMAC secret for share tokens (stable for a given seed, 64 hex characters)."""
    return hashlib.sha256(f"didit-mock-share:{global_seed}".encode()).hexdigest()


@dataclass(frozen=True)
class ShareClaims:
    """What a share token says: which session, from which application, for which one, until when."""

    session_id: str
    from_application_id: str
    for_application_id: str
    iat: int
    exp: int


# ---------------------------------------------------------------- minting

def check_shareable(tenant: Tenant, session: Session, for_application_id: str, registry: TenantRegistry) -> None:
    """The share rules: the target exists and is another application; the session is finished."""
    if registry.by_application(for_application_id) is None:
        raise ValidationFailed.field("for_application_id", "Target application does not exist.")
    if for_application_id == tenant.application_id:
        raise ValidationFailed.field("for_application_id", "Cannot share a session with the same application.")
    if session.status not in st.SHAREABLE:
        raise ValidationFailed({"detail": [NOT_SHAREABLE]})


def mint(session_id: str, from_application_id: str, for_application_id: str, now: float, ttl: int,
         key: str) -> str:
    """A signed share token valid for `ttl` seconds from `now` (the sharing tenant's clock)."""
    import jwt

    issued = int(now)
    payload = {
        "session_id": session_id,
        "from_application_id": from_application_id,
        "for_application_id": for_application_id,
        "iat": issued,
        "exp": issued + int(ttl),
    }
    return jwt.encode(payload, key, algorithm=ALGORITHM)


# ---------------------------------------------------------------- redeeming

def _token_error(message: str) -> ValidationFailed:
    return ValidationFailed.field("share_token", message)


def read_token(token: str, key: str, now: float, receiver_application_id: str) -> ShareClaims:
    """Verify a token's signature, expiry (against `now`, the receiver's clock) and receiver."""
    import jwt

    try:
        payload = jwt.decode(token, key, algorithms=[ALGORITHM], options={"verify_exp": False, "verify_iat": False})
    except jwt.PyJWTError:
        raise _token_error(INVALID_TOKEN) from None
    try:
        claims = ShareClaims(
            session_id=str(payload["session_id"]),
            from_application_id=str(payload["from_application_id"]),
            for_application_id=str(payload["for_application_id"]),
            iat=int(payload.get("iat", 0)),
            exp=int(payload["exp"]),
        )
    except (KeyError, TypeError, ValueError):
        raise _token_error(INVALID_TOKEN) from None
    if now >= claims.exp:
        raise _token_error(EXPIRED_TOKEN)
    if claims.for_application_id != receiver_application_id:
        raise _token_error(WRONG_RECEIVER)
    return claims


class ImportLedger:
    """Per receiving tenant: which source sessions it already imported (one redeem per receiver)."""

    def __init__(self, tenant: object):
        self.imported: dict[tuple[str, str], str] = {}

    def key(self, claims: ShareClaims) -> tuple[str, str]:
        return (claims.from_application_id, claims.session_id)


@dataclass
class SourceSnapshot:
    """What the receiver copies from the source session, read under the source tenant's lock."""

    decision: dict[str, Any]
    session: Session
    outcomes: Any
    data_overrides: dict[str, dict[str, Any]]


def snapshot_source(registry: TenantRegistry, claims: ShareClaims, render: Any) -> SourceSnapshot:
    """The source session's decision and outcomes; 400 when it (or its application) is gone."""
    source_tenant = registry.by_application(claims.from_application_id)
    if source_tenant is None:
        raise _token_error(SOURCE_GONE)
    source_tenant.tick()
    with source_tenant.lock:
        source = sessions_domain.book(source_tenant).get(claims.session_id)
        if source is None or source.deleted:
            raise _token_error(SOURCE_GONE)
        return SourceSnapshot(
            decision=copy.deepcopy(render(source_tenant, source)),
            session=source,
            outcomes=copy.deepcopy(source.outcomes),
            data_overrides=copy.deepcopy(source.data_overrides),
        )


def check_not_imported(receiver: Tenant, claims: ShareClaims) -> None:
    """403 when the receiver already holds a copy of this source session (a deleted copy frees it)."""
    ledger = receiver.component(ImportLedger)
    clone_id = ledger.imported.get(ledger.key(claims))
    if clone_id is not None and sessions_domain.book(receiver).get(clone_id) is not None:
        raise PermissionDenied(ALREADY_IMPORTED)


def import_session(
    receiver: Tenant,
    claims: ShareClaims,
    snapshot: SourceSnapshot,
    *,
    trust_review: bool,
    workflow_id: str,
    vendor_data: str | None,
) -> Session:
    """Clone the shared session into `receiver`: a fresh id, number and token, no hosted URL.

    With `trust_review` the copy keeps the source's final status, otherwise it is In Review.
    Call under `receiver.lock`.
    """
    check_not_imported(receiver, claims)
    workflows = sessions_domain.workflows(receiver)
    workflow = workflows.find(workflow_id)
    if workflow is None:
        if receiver.config.strict_workflows:
            raise NotFound(UNKNOWN_WORKFLOW)
        workflow = workflows.resolve(workflow_id, strict=False)
    source = snapshot.session
    status = source.status if trust_review and source.status in TRUSTABLE else st.IN_REVIEW
    now = receiver.clock.timestamp()
    book = sessions_domain.book(receiver)
    clone = Session(
        session_id=receiver.rng.uuid4(),
        session_number=book.next_number(),
        session_token=receiver.rng.token(12),
        workflow=workflow,
        url=None,  # type: ignore[arg-type]  # imported sessions have no hosted link
        created_at=now,
        expires_at=now + workflow.expiration_seconds,
        vendor_data=vendor_data if vendor_data is not None else source.vendor_data,
        metadata=copy.deepcopy(source.metadata),
        contact_details=copy.deepcopy(source.contact_details),
        expected_details=copy.deepcopy(source.expected_details),
        portrait_digest=source.portrait_digest,
        status=status,
        started_at=now,
        finished_at=now,
        outcomes=snapshot.outcomes if snapshot.outcomes is not None else {},
        data_overrides=snapshot.data_overrides,
        shared_from_session=source.session_id,
        imported_decision=snapshot.decision,
    )
    clone.timeline += ((status, now),)
    book.add(clone)
    for hook in receiver.registry.wiring.session_imported:
        hook(receiver, clone)
    ledger = receiver.component(ImportLedger)
    ledger.imported[ledger.key(claims)] = clone.session_id
    sessions_domain._schedule_document_expiry(receiver, clone)
    return clone

