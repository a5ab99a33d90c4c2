"""The OTP state machine of the standalone phone and email verifications.

A send creates a pending verification (a session-like record whose `request_id` is a session
id) that lives 5 minutes from the first send; one more send while it is pending is a `Retry`
of the same verification; a further send starts a new one. A check finds the most recent
pending verification of (tenant, number|address): three wrong codes decline it, the right
code approves it unless a risk declines it. Every function here runs under `tenant.lock`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from .. import statuses as st
from ..clock import iso, iso_offset
from ..errors import PermissionDenied, RateLimited, ValidationFailed
from ..events import STATUS_UPDATED, DomainEvent
from ..tenant import Tenant
from . import email_facts, phone_facts
from .config import glob_lookup, glob_match, longest_prefix, otp_config
from .email_facts import EmailFacts
from .phone_facts import PhoneFacts
from .records import (
    CODE_TTL_SECONDS,
    EMAIL,
    MAX_WRONG_CODES,
    PENDING,
    PHONE,
    Check,
    EmailSend,
    PhoneSend,
    Verification,
    book,
    pairing_key,
)
from .risks import EMAIL_FEATURE, PHONE_FEATURE, warning

log = logging.getLogger("didit_mock.otp")

MAX_SENDS_PER_VERIFICATION = 2
PHONE_SEND_FEE = 0.0709
EMAIL_SEND_FEE = 0.03

HOURLY_CAP_MESSAGE = (
    "Maximum verification attempts reached for this phone number. Only {cap} authentication attempts are "
    "allowed per hour. Try again later or use a different number."
)
NO_CREDITS_MESSAGE = "You don't have enough credits to perform this request."
INVALID_LINE_TYPE = "Invalid phone line type provided."
CODE_CORRECT = "The verification code is correct."
CODE_INCORRECT = "The verification code is incorrect. Attempts remaining: {left}"
CODE_MAX_ATTEMPTS = "The verification code is incorrect. Maximum attempts reached."
NOT_FOUND_MESSAGE = "No pending {kind} verification found in the last 5 minutes."
UNDELIVERABLE_REASON = "email_can_not_be_delivered"
BLOCKED_REASON = "suspicious"


# ---------------------------------------------------------------- sending

def send_phone(tenant: Tenant, request: PhoneSend) -> dict[str, Any]:
    """POST /v3/phone/send/: the 200 body, or a 400/403/429 error."""
    config = otp_config(tenant)
    otp = book(tenant)
    now = tenant.clock.timestamp()
    number = request.phone_number
    facts = phone_facts.lookup(number, config)
    if facts.line_type in phone_facts.INELIGIBLE_LINE_TYPES:
        raise ValidationFailed.detail(INVALID_LINE_TYPE)
    recent = otp.sends_last_hour(number, now)
    if len(recent) >= config.hourly_send_cap:
        raise RateLimited(HOURLY_CAP_MESSAGE.format(cap=config.hourly_send_cap))

    forced = longest_prefix(config.phone_send_status, number) or {}
    blocked = _phone_block(tenant, number, facts, forced)
    pending = otp.pending(PHONE, number, now)
    retry = blocked is None and pending is not None and pending.sends < MAX_SENDS_PER_VERIFICATION
    if blocked is None and not retry:
        _charge_credit(tenant)
    recent.append(now)

    actual = facts.delivery_channel(request.channel)
    if blocked is not None:
        reason, risk = blocked
        verification = _new_verification(tenant, PHONE, number, request.vendor_data, request.metadata, now)
        verification.channel = request.channel
        verification.sends = 1
        verification.send_status, verification.send_reason = "Blocked", reason
        verification.record("PHONE_VERIFICATION_BLOCKED", now, {
            "status": "Blocked", "reason": reason, "channel": request.channel, "actual_channel": None})
        verification.warnings.append(warning(PHONE_FEATURE, risk, "error"))
        _finalise(tenant, verification, st.DECLINED, risk, facts)
        return _send_body(verification, "Blocked", reason)

    if retry:
        assert pending is not None
        verification = pending
        verification.sends += 1
        verification.actual_channel = actual
        verification.record("PHONE_VERIFICATION_RETRY_MESSAGE_SENT", now, {
            "status": "Retry", "reason": None, "channel": request.channel, "actual_channel": actual},
            PHONE_SEND_FEE)
    else:
        verification = _new_verification(tenant, PHONE, number, request.vendor_data, request.metadata, now)
        verification.channel, verification.actual_channel = request.channel, actual
        verification.code_size, verification.locale = request.code_size, request.locale
        verification.signals = dict(request.signals)
        verification.code = longest_prefix(config.phone_codes, number) or tenant.rng.digits(request.code_size)
        verification.sends = 1
        verification.record("PHONE_VERIFICATION_MESSAGE_SENT", now, {
            "status": "Success", "reason": None, "channel": request.channel, "actual_channel": actual},
            PHONE_SEND_FEE)
        _start(tenant, verification)
    verification.record("PHONE_DELIVERY_DELIVERED", now, {"channel": actual, "status": "delivered"})
    log.info("phone OTP %s sent to %s over %s (request_id=%s)", verification.code, number, actual,
             verification.request_id)
    status = "Retry" if retry or forced.get("status") == "Retry" else "Success"
    return _send_body(verification, status, None)


def _phone_block(
    tenant: Tenant, number: str, facts: PhoneFacts, forced: dict[str, Any]
) -> tuple[str, str] | None:
    """(reason, risk) when the anti-fraud layer refuses to send, else None."""
    if is_blocklisted(tenant, PHONE, number):
        return BLOCKED_REASON, "PHONE_NUMBER_IN_BLOCKLIST"
    if facts.is_high_risk:
        return BLOCKED_REASON, "HIGH_RISK_PHONE_NUMBER"
    if forced.get("status") == "Blocked":
        return str(forced.get("reason") or BLOCKED_REASON), "HIGH_RISK_PHONE_NUMBER"
    return None


def send_email(tenant: Tenant, request: EmailSend) -> dict[str, Any]:
    """POST /v3/email/send/: the 200 body, or a 403 error."""
    config = otp_config(tenant)
    otp = book(tenant)
    now = tenant.clock.timestamp()
    address = request.email
    facts = email_facts.lookup(address, config)
    forced = glob_lookup(config.email_send_status, address) or {}
    undeliverable = facts.is_undeliverable or forced.get("status") == "Undeliverable"
    pending = otp.pending(EMAIL, address, now)
    retry = not undeliverable and pending is not None and pending.sends < MAX_SENDS_PER_VERIFICATION
    if not undeliverable and not retry:
        _charge_credit(tenant)

    if undeliverable:
        reason = UNDELIVERABLE_REASON
        verification = _new_verification(tenant, EMAIL, address, request.vendor_data, request.metadata, now)
        verification.sends = 1
        verification.send_status, verification.send_reason = "Undeliverable", reason
        verification.record("EMAIL_VERIFICATION_MESSAGE_SENT", now, {"status": "Undeliverable", "reason": reason})
        verification.warnings.append(warning(EMAIL_FEATURE, "UNDELIVERABLE_EMAIL_DETECTED", "error"))
        _finalise(tenant, verification, st.DECLINED, "UNDELIVERABLE_EMAIL_DETECTED",
                  _with_undeliverable(facts))
        return _send_body(verification, "Undeliverable", reason)

    fixed = glob_lookup(config.email_codes, address)
    if retry:
        assert pending is not None
        verification = pending
        verification.sends += 1
        verification.code = fixed or _email_code(tenant, verification.code_size, verification.alphanumeric)
        verification.record("EMAIL_VERIFICATION_RETRY_MESSAGE_SENT", now, {"status": "Retry", "reason": None})
    else:
        verification = _new_verification(tenant, EMAIL, address, request.vendor_data, request.metadata, now)
        verification.code_size, verification.alphanumeric = request.code_size, request.alphanumeric
        verification.locale, verification.signals = request.locale, dict(request.signals)
        verification.code = fixed or _email_code(tenant, request.code_size, request.alphanumeric)
        verification.sends = 1
        verification.record("EMAIL_VERIFICATION_MESSAGE_SENT", now, {"status": "Success", "reason": None},
                            EMAIL_SEND_FEE)
        _start(tenant, verification)
    log.info("email OTP %s sent to %s (request_id=%s)", verification.code, address, verification.request_id)
    status = "Retry" if retry or forced.get("status") == "Retry" else "Success"
    return _send_body(verification, status, None)


def _email_code(tenant: Tenant, size: int, alphanumeric: bool) -> str:
    return tenant.rng.alphanumeric(size) if alphanumeric else tenant.rng.digits(size)


def _with_undeliverable(facts: EmailFacts) -> EmailFacts:
    return EmailFacts(facts.email, facts.domain, facts.is_disposable, True, facts.breaches)


def _charge_credit(tenant: Tenant) -> None:
    """Live tenants with a credit balance pay one credit per `Success` send (403 without)."""
    credits = tenant.config.credits
    if credits is None or tenant.is_sandbox:
        return
    if credits < 1:
        raise PermissionDenied(NO_CREDITS_MESSAGE, key="error")
    tenant.config.credits = credits - 1


def _new_verification(
    tenant: Tenant, kind: str, target: str, vendor_data: str | None, metadata: Any, now: float
) -> Verification:
    from ..sessions import book as session_book  # session numbers are shared with KYC sessions

    verification = Verification(
        kind=kind,
        request_id=tenant.rng.uuid4(),
        session_number=session_book(tenant).next_number(),
        target=target,
        created_at=now,
        expires_at=now + CODE_TTL_SECONDS,
        vendor_data=vendor_data,
        metadata=metadata,
    )
    book(tenant).add(verification)
    return verification


def _start(tenant: Tenant, verification: Verification) -> None:
    """A new pending verification: announce it and schedule its expiry."""
    arm_expiry(tenant, verification)
    _emit(tenant, verification, st.IN_PROGRESS, verification.created_at)


def arm_expiry(tenant: Tenant, verification: Verification) -> None:
    """Schedule the expiry of a pending verification (a new one, or one restored by a state import)."""

    def expire() -> None:
        if verification.status == PENDING:
            at = tenant.clock.timestamp()
            verification.record(f"{verification.kind.upper()}_VERIFICATION_EXPIRED", at, None)
            _finalise(tenant, verification, st.EXPIRED, None, None, at=at)

    verification.expiry_job = tenant.scheduler.at(verification.expires_at, expire)


def _finalise(
    tenant: Tenant,
    verification: Verification,
    status: str,
    reason: str | None,
    facts: PhoneFacts | EmailFacts | None,
    at: float | None = None,
) -> None:
    """Approved, Declined or Expired: the final lifecycle event and a `status.updated` event."""
    now = tenant.clock.timestamp() if at is None else at
    if verification.expiry_job is not None:
        tenant.scheduler.cancel(verification.expiry_job)
        verification.expiry_job = None
    verification.status = status
    verification.finished_at = now
    if facts is not None:
        verification.facts = facts
    prefix = f"{verification.kind.upper()}_VERIFICATION"
    if status == st.APPROVED:
        verification.record(f"{prefix}_APPROVED", now, None)
    elif status == st.DECLINED:
        verification.record(f"{prefix}_DECLINED", now, {"reason": reason} if reason else None)
    _emit(tenant, verification, status, now)


def _emit(tenant: Tenant, verification: Verification, status: str, at: float) -> None:
    """`status.updated` for the verification (its webhook echoes vendor_data and metadata)."""
    extra: dict[str, Any] = {"vendor_data": verification.vendor_data, "metadata": verification.metadata}
    tenant.events.emit(DomainEvent(STATUS_UPDATED, verification.kind, verification.request_id, status, at, extra))


def _send_body(verification: Verification, status: str, reason: str | None) -> dict[str, Any]:
    return {
        "request_id": verification.request_id,
        "status": status,
        "reason": reason,
        "vendor_data": verification.vendor_data,
        "metadata": verification.metadata,
    }


# ---------------------------------------------------------------- checking

def check_phone(tenant: Tenant, request: Check) -> dict[str, Any]:
    """POST /v3/phone/check/: always a 200 body (Approved, Declined, Failed, Expired or Not Found)."""
    return _check(tenant, PHONE, request)


def check_email(tenant: Tenant, request: Check) -> dict[str, Any]:
    """POST /v3/email/check/: always a 200 body (Approved, Declined, Failed, Expired or Not Found)."""
    return _check(tenant, EMAIL, request)


def _check(tenant: Tenant, kind: str, request: Check) -> dict[str, Any]:
    from .render import report  # lazily: render reads the blocklist, which reads this module

    now = tenant.clock.timestamp()
    created_at = _iso_offset(now)
    verification = book(tenant).pending(kind, request.target, now)
    if verification is None:
        return {
            "request_id": tenant.rng.uuid4(),
            "status": "Expired or Not Found",
            "message": NOT_FOUND_MESSAGE.format(kind=kind),
            "vendor_data": None,
            "metadata": None,
            "created_at": created_at,
        }
    assert verification.code is not None
    correct = request.code.upper() == verification.code.upper() if kind == EMAIL \
        else request.code == verification.code
    if correct:
        verification.record("VALID_CODE_ENTERED", now, {"code_tried": request.code, "status": st.APPROVED})
        verification.verified_at = now
        facts, risks = _assess(tenant, verification, request)
        verification.warnings.extend(risks)
        declining = next((w["risk"] for w in risks if w["log_type"] == "error"), None)
        _finalise(tenant, verification, st.DECLINED if declining else st.APPROVED, declining, facts)
        status, message = verification.status, CODE_CORRECT
    else:
        verification.wrong_codes += 1
        verification.record("INVALID_CODE_ENTERED", now, {"code_tried": request.code, "status": "Failed"})
        if verification.wrong_codes < MAX_WRONG_CODES:
            return {
                "request_id": tenant.rng.uuid4(),
                "status": "Failed",
                "message": CODE_INCORRECT.format(left=verification.attempts_left),
                kind: None,
                "vendor_data": verification.vendor_data,
                "metadata": verification.metadata,
                "created_at": created_at,
            }
        risk = "VERIFICATION_CODE_ATTEMPTS_EXCEEDED" if kind == PHONE else "EMAIL_CODE_ATTEMPTS_EXCEEDED"
        verification.warnings.append(warning(verification.feature, risk, "error"))
        _finalise(tenant, verification, st.DECLINED, risk, current_facts(tenant, verification))
        status, message = st.DECLINED, CODE_MAX_ATTEMPTS
    return {
        "request_id": verification.request_id,
        "status": status,
        "message": message,
        kind: report(tenant, verification),
        "vendor_data": verification.vendor_data,
        "metadata": verification.metadata,
        "created_at": created_at,
    }


def current_facts(tenant: Tenant, verification: Verification) -> PhoneFacts | EmailFacts:
    """The facts frozen at finalisation, or a fresh lookup while the verification is pending."""
    if verification.facts is not None:
        return verification.facts
    config = otp_config(tenant)
    if verification.kind == PHONE:
        return phone_facts.lookup(verification.target, config)
    return email_facts.lookup(verification.target, config)


def _assess(
    tenant: Tenant, verification: Verification, request: Check
) -> tuple[PhoneFacts | EmailFacts, list[dict[str, Any]]]:
    """The lookups run on a correct code, and the warnings they raise (errors decline)."""
    facts = current_facts(tenant, verification)
    feature = verification.feature
    risks: list[dict[str, Any]] = []

    def flag(risk: str, declines: bool, additional_data: Any = None) -> None:
        risks.append(warning(feature, risk, "error" if declines else "information", additional_data))

    duplicate = approved_elsewhere(tenant, verification)
    if isinstance(facts, PhoneFacts):
        if is_blocklisted(tenant, PHONE, verification.target):
            flag("PHONE_NUMBER_IN_BLOCKLIST", True)
        if facts.is_high_risk:
            flag("HIGH_RISK_PHONE_NUMBER", True)
        if facts.is_disposable:
            flag("DISPOSABLE_NUMBER_DETECTED", request.declines("disposable_number_action"))
        if facts.is_virtual:
            flag("VOIP_NUMBER_DETECTED", request.declines("voip_number_action"))
        if duplicate is not None:
            flag("DUPLICATED_PHONE_NUMBER", request.declines("duplicated_phone_number_action"),
                 {"duplicated_session_id": duplicate.request_id})
    else:
        if is_blocklisted(tenant, EMAIL, verification.target):
            flag("EMAIL_IN_BLOCKLIST", True)
        if facts.is_undeliverable:
            flag("UNDELIVERABLE_EMAIL_DETECTED", True)
        if facts.is_breached:
            flag("BREACHED_EMAIL_DETECTED", request.declines("breached_email_action"))
        if facts.is_disposable:
            flag("DISPOSABLE_EMAIL_DETECTED", request.declines("disposable_email_action"))
        if duplicate is not None:
            flag("DUPLICATED_EMAIL", request.declines("duplicated_email_action"),
                 {"duplicated_session_id": duplicate.request_id})
    return facts, risks


def different_user(a: str | None, b: str | None) -> bool:
    """Two verifications belong to different users when both name one and the names differ."""
    return a is not None and b is not None and a != b


def approved_elsewhere(tenant: Tenant, verification: Verification) -> Verification | None:
    """An earlier Approved verification of the same number/address by another vendor_data."""
    for other in book(tenant).history(verification.kind, verification.target):
        if other is not verification and other.status == st.APPROVED \
                and different_user(other.vendor_data, verification.vendor_data):
            return other
    return None


def is_blocklisted(tenant: Tenant, kind: str, target: str) -> bool:
    """On the session-derived blocklist, a value entry of the system blocklist (lists API), or a
    by-value entry of the OTP config."""
    from .. import blocklist, lists  # lazily: the blocklist resolves verification ids through this module

    key = pairing_key(kind, target)
    if blocklist.find(tenant, kind, key) is not None or lists.book(tenant).blocks(kind, key):
        return True
    return by_value_blocked(tenant, kind, target)


def by_value_blocked(tenant: Tenant, kind: str, target: str) -> bool:
    config = otp_config(tenant)
    if kind == PHONE:
        return any(target.startswith(p) for p in config.blocked_numbers)
    return glob_match(config.blocked_emails, target) is not None


# ---------------------------------------------------------------- read-out

def code_readout(tenant: Tenant, kind: str, target: str) -> dict[str, Any] | None:
    """The latest verification's code for `/_mock/{phone|email}/.../code`, or None."""
    verification = book(tenant).latest(kind, target)
    if verification is None:
        return None
    return {
        "code": verification.code,
        "attempts_left": verification.attempts_left,
        "expires_at": _iso(verification.expires_at),
        "request_id": verification.request_id,
        "status": verification.status,
    }


def _iso(ts: float) -> str:
    return iso(datetime.fromtimestamp(ts, tz=timezone.utc))


def _iso_offset(ts: float) -> str:
    return iso_offset(datetime.fromtimestamp(ts, tz=timezone.utc))
