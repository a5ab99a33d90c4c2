"""The session-derived blocklist: faces, documents, phones and emails flagged from a session.

Adding a session blocklists the chosen records of its synthetic person (or, for a phone/email
verification, its number/address). While an entry exists, every session of a matching person
that finishes is declined on the matching feature (a policy of the registry's wiring), and the
OTP engine refuses (phone send `Blocked`) or declines (check) matching numbers and addresses.
Deleting the source session deletes its entries (they leave the feed and stop matching).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import sessions as sessions_domain
from . import statuses as st
from . import workflows as wf
from .clock import iso
from .errors import NotFound

if TYPE_CHECKING:
    from .outcomes import FeatureOutcome
    from .sessions import Session
    from .tenant import Tenant

FACE = "face"
DOCUMENT = "document"
PHONE = "phone"
EMAIL = "email"
ITEM_TYPES = (FACE, DOCUMENT, PHONE, EMAIL)

#: item type -> (decision feature it declines, warning risk)
POLICY_TARGETS = {
    FACE: (wf.LIVENESS, "FACE_IN_BLOCKLIST"),
    DOCUMENT: (wf.ID_VERIFICATION, "ID_DOCUMENT_IN_BLOCKLIST"),
    PHONE: (wf.PHONE, "PHONE_NUMBER_IN_BLOCKLIST"),
    EMAIL: (wf.EMAIL_VERIFICATION, "EMAIL_IN_BLOCKLIST"),
}


@dataclass
class BlockEntry:
    """One blocklisted record of one session."""

    type: str
    value: str  # the matching key: face id, document key, E.164 number, lower-cased address
    session_id: str
    session_number: int | None
    session_created_at: float
    vendor_data: str | None
    api_service: str | None  # PHONE_VERIFICATION / EMAIL_VERIFICATION for OTP sessions
    blocklisted_at: float
    order: int
    document_type: str | None = None
    document_number: str | None = None
    issuing_state: str | None = None
    face_id: str | None = None
    portrait_image: str | None = None
    phone_number: str | None = None
    email: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "session_id": self.session_id,
            "session_number": self.session_number,
            "blocklisted_at": iso(datetime.fromtimestamp(self.blocklisted_at, tz=timezone.utc)),
            "document_type": self.document_type,
            "document_number": self.document_number,
            "issuing_state": self.issuing_state,
            "face_id": self.face_id,
            "portrait_image": self.portrait_image,
            "phone_number": self.phone_number,
            "email": self.email,
        }


class Blocklist:
    """A tenant's entries, keyed by (session, type) and indexed by (type, value)."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.entries: dict[tuple[str, str], BlockEntry] = {}
        self.by_value: dict[tuple[str, str], dict[tuple[str, str], BlockEntry]] = {}
        self._order = 0

    def put(self, entry: BlockEntry) -> None:
        key = (entry.session_id, entry.type)
        if key in self.entries:  # already blocklisted: keep the original entry
            return
        self._order += 1
        entry.order = self._order
        self.entries[key] = entry
        self.by_value.setdefault((entry.type, entry.value), {})[key] = entry

    def drop(self, session_id: str, item_type: str) -> bool:
        entry = self.entries.pop((session_id, item_type), None)
        if entry is None:
            return False
        bucket = self.by_value.get((entry.type, entry.value), {})
        bucket.pop((session_id, item_type), None)
        if not bucket:
            self.by_value.pop((entry.type, entry.value), None)
        return True

    @property
    def last_order(self) -> int:
        """The order number of the latest entry put (for a state export)."""
        return self._order

    def restore(self, entries: Iterable[BlockEntry], last_order: int) -> None:
        """Replace every entry with `entries` (keeping their order numbers): a state import."""
        self.entries.clear()
        self.by_value.clear()
        for entry in entries:
            key = (entry.session_id, entry.type)
            self.entries[key] = entry
            self.by_value.setdefault((entry.type, entry.value), {})[key] = entry
        self._order = max([last_order, *(e.order for e in self.entries.values())])

    def matching(self, item_type: str, value: str) -> list[BlockEntry]:
        return sorted(self.by_value.get((item_type, value), {}).values(), key=lambda e: e.order)

    def newest_first(self, item_type: str | None = None) -> list[BlockEntry]:
        chosen = (e for e in self.entries.values() if item_type is None or e.type == item_type)
        return sorted(chosen, key=lambda e: (e.blocklisted_at, e.order), reverse=True)


def blocklist(tenant: Tenant) -> Blocklist:
    return tenant.component(Blocklist)


def find_all(tenant: Tenant, item_type: str, value: str) -> list[BlockEntry]:
    """The entries that block `value` (a face id, document key, E.164 number or lower-case address)."""
    return blocklist(tenant).matching(item_type, value)


def find(tenant: Tenant, item_type: str, value: str) -> BlockEntry | None:
    found = find_all(tenant, item_type, value)
    return found[0] if found else None


# ---------------------------------------------------------------- add / remove

def add(tenant: Tenant, session_id: str, item_types: Iterable[str]) -> list[BlockEntry]:
    """Blocklist the chosen records of a session (or phone/email verification); 404 if unknown."""
    now = tenant.clock.timestamp()
    book = blocklist(tenant)
    added = []
    for entry in _entries_for(tenant, session_id, set(item_types), now):
        book.put(entry)
        added.append(entry)
    return added


def remove(tenant: Tenant, session_id: str, item_types: Iterable[str]) -> int:
    """Delete the entries a session created for the chosen types; 404 if the session is unknown."""
    _require_subject(tenant, session_id)
    book = blocklist(tenant)
    return sum(1 for item_type in set(item_types) if book.drop(session_id, item_type))


def _require_subject(tenant: Tenant, session_id: str) -> Any:
    session = sessions_domain.book(tenant).get(session_id)
    if session is not None:
        return session
    from .otp import book as otp_book  # lazily: the OTP engine reads this module

    verification = otp_book(tenant).by_id.get(session_id)
    if verification is None:
        raise NotFound()
    return verification


def _entries_for(tenant: Tenant, session_id: str, item_types: set[str], now: float) -> list[BlockEntry]:
    from .otp import Verification
    from .otp.phone_facts import normalise_loosely

    subject = _require_subject(tenant, session_id)
    if isinstance(subject, Verification):
        kind = subject.kind
        if kind not in item_types:
            return []
        common = _common(subject.request_id, subject.session_number, subject.created_at, subject.vendor_data,
                         f"{kind.upper()}_VERIFICATION", now)
        if kind == PHONE:
            return [BlockEntry(PHONE, subject.target, phone_number=subject.target, **common)]
        return [BlockEntry(EMAIL, subject.target.lower(), email=subject.target, **common)]

    from .people import person_for

    session: Session = subject
    person = person_for(tenant, session)
    common = _common(session.session_id, session.session_number, session.created_at, session.vendor_data, None, now)
    entries = []
    if FACE in item_types:
        entries.append(BlockEntry(FACE, person.face_id, face_id=person.face_id,
                                  portrait_image=_portrait_url(tenant, session), **common))
    if DOCUMENT in item_types:
        entries.append(BlockEntry(
            DOCUMENT, person.document_key, document_type=person.document_type,
            document_number=person.document_number, issuing_state=person.issuing_state, **common))
    if PHONE in item_types and person.phone:
        number = normalise_loosely(person.phone)
        entries.append(BlockEntry(PHONE, number, phone_number=number, **common))
    if EMAIL in item_types and person.email:
        entries.append(BlockEntry(EMAIL, person.email.lower(), email=person.email, **common))
    return entries


def _portrait_url(tenant: Tenant, session: Session) -> str:
    """The face image of a session: the liveness reference image its decision links to."""
    base = tenant.config.public_base_url.rstrip("/")
    return f"{base}/_mock/media/{session.session_id}/liveness_reference.jpg"


def _common(
    session_id: str, number: int | None, created_at: float, vendor_data: str | None, api_service: str | None,
    now: float,
) -> dict[str, Any]:
    return {
        "session_id": session_id, "session_number": number, "session_created_at": created_at,
        "vendor_data": vendor_data, "api_service": api_service, "blocklisted_at": now, "order": 0,
    }


def session_status(tenant: Tenant, session_id: str) -> str | None:
    """The current status of an entry's source session (KYC session or verification)."""
    session = sessions_domain.book(tenant).get(session_id)
    if session is not None:
        return session.status
    from .otp import book as otp_book
    from .otp.render import session_status as verification_status

    verification = otp_book(tenant).by_id.get(session_id)
    return None if verification is None else verification_status(verification)


# ---------------------------------------------------------------- hooks

def decline_blocklisted(tenant: Tenant, session: Session, planned: dict[str, FeatureOutcome]) -> None:
    """Outcome policy: a finishing session whose person is blocklisted is declined on that feature."""
    book = blocklist(tenant)
    from .otp.config import otp_config

    config = otp_config(tenant)
    if not book.entries and not config.blocked_numbers and not config.blocked_emails:
        return
    if not any(feature in planned for feature, _ in POLICY_TARGETS.values()):
        return
    from .otp.engine import by_value_blocked
    from .otp.phone_facts import normalise_loosely
    from .people import person_for

    person = person_for(tenant, session)
    phone = normalise_loosely(person.phone) if person.phone else ""
    email = (person.email or "").lower()
    values = {FACE: person.face_id, DOCUMENT: person.document_key, PHONE: phone, EMAIL: email}
    for item_type, (feature, risk) in POLICY_TARGETS.items():
        outcome = planned.get(feature)
        value = values[item_type]
        if outcome is None or not value:
            continue
        listed = bool(book.matching(item_type, value))
        if not listed and item_type in (PHONE, EMAIL):
            listed = by_value_blocked(tenant, item_type, value)
        if listed and not any(w.risk == risk for w in outcome.warnings):
            outcome.flag(risk, st.DECLINED)


def forget_deleted(tenant: Tenant, session: Session) -> None:
    """A deleted session's entries leave the feed and stop matching."""
    book = blocklist(tenant)
    for item_type in ITEM_TYPES:
        book.drop(session.session_id, item_type)

