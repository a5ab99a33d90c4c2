"""The records of the OTP engine: verifications, their lifecycle, the per-tenant book, requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import statuses as st
from ..scheduler import JobId
from ..tenant import Tenant
from . import email_facts
from .email_facts import EmailFacts
from .phone_facts import PhoneFacts
from .risks import EMAIL_FEATURE, PHONE_FEATURE

PHONE = "phone"
EMAIL = "email"

CODE_TTL_SECONDS = 300
MAX_WRONG_CODES = 3
HOUR = 3600

PENDING = st.NOT_FINISHED


@dataclass
class LifecycleEvent:
    """One entry of a verification's `lifecycle` (with the fee it cost)."""

    type: str
    at: float
    details: dict[str, Any] | None
    fee: float = 0


@dataclass
class Verification:
    """One phone or email verification: its code, its counters and its audit trail."""

    kind: str
    request_id: str
    session_number: int
    target: str
    created_at: float
    expires_at: float
    vendor_data: str | None = None
    metadata: Any = None
    channel: str | None = None
    actual_channel: str | None = None
    code_size: int = 6
    alphanumeric: bool = False
    locale: str | None = None
    signals: dict[str, Any] = field(default_factory=dict)
    code: str | None = None
    sends: int = 0
    wrong_codes: int = 0
    status: str = PENDING
    send_status: str = "Success"
    send_reason: str | None = None
    verified_at: float | None = None
    finished_at: float | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    lifecycle: list[LifecycleEvent] = field(default_factory=list)
    facts: PhoneFacts | EmailFacts | None = None
    expiry_job: JobId | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return pairing_key(self.kind, self.target)

    @property
    def feature(self) -> str:
        return PHONE_FEATURE if self.kind == PHONE else EMAIL_FEATURE

    def is_pending(self, now: float) -> bool:
        return self.status == PENDING and now < self.expires_at

    @property
    def attempts_left(self) -> int:
        return max(0, MAX_WRONG_CODES - self.wrong_codes)

    def record(self, kind: str, at: float, details: dict[str, Any] | None, fee: float = 0) -> None:
        self.lifecycle.append(LifecycleEvent(kind, at, details, fee))


def pairing_key(kind: str, target: str) -> str:
    return target if kind == PHONE else email_facts.key(target)


class OtpBook:
    """A tenant's verifications, indexed by id and by (kind, number or address)."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.by_id: dict[str, Verification] = {}
        self.by_target: dict[tuple[str, str], list[Verification]] = {}
        self.phone_sends: dict[str, list[float]] = {}

    def add(self, verification: Verification) -> None:
        self.by_id[verification.request_id] = verification
        self.by_target.setdefault((verification.kind, verification.key), []).append(verification)

    def history(self, kind: str, target: str) -> list[Verification]:
        """Every verification of a number or address, oldest first."""
        return self.by_target.get((kind, pairing_key(kind, target)), [])

    def latest(self, kind: str, target: str) -> Verification | None:
        found = self.history(kind, target)
        return found[-1] if found else None

    def pending(self, kind: str, target: str, now: float) -> Verification | None:
        """The most recent verification still waiting for its code (created < 5 minutes ago)."""
        for verification in reversed(self.history(kind, target)):
            if verification.is_pending(now):
                return verification
        return None

    def sends_last_hour(self, number: str, now: float) -> list[float]:
        recent = [t for t in self.phone_sends.get(number, []) if t > now - HOUR]
        self.phone_sends[number] = recent
        return recent


def book(tenant: Tenant) -> OtpBook:
    return tenant.component(OtpBook)


# ---------------------------------------------------------------- requests

@dataclass
class PhoneSend:
    """A validated POST /v3/phone/send/ request."""

    phone_number: str  # E.164, already validated
    code_size: int = 6
    locale: str | None = None
    channel: str = "whatsapp"
    signals: dict[str, Any] = field(default_factory=dict)
    vendor_data: str | None = None
    metadata: Any = None


@dataclass
class EmailSend:
    """A validated POST /v3/email/send/ request."""

    email: str  # already validated
    code_size: int = 6
    alphanumeric: bool = False
    locale: str = "en"
    white_label: bool = False
    signals: dict[str, Any] = field(default_factory=dict)
    vendor_data: str | None = None
    metadata: Any = None


@dataclass
class Check:
    """A validated POST /v3/{phone,email}/check/ request."""

    target: str  # E.164 number or address, already validated
    code: str
    #: risk action name -> "NO_ACTION" | "DECLINE" (e.g. "voip_number_action")
    actions: dict[str, str] = field(default_factory=dict)

    def declines(self, action: str) -> bool:
        return self.actions.get(action) == "DECLINE"
