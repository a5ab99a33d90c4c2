"""AML screening and the email, phone and IP risk APIs (§1.8, §1.10)."""

from __future__ import annotations

import ipaddress
from typing import Any

from ..domain.errors import ValidationFailed
from ..domain.otp.phone_facts import INVALID_NUMBER
from ..domain.otp.phone_facts import normalise as normalise_phone
from ..domain.standalone import aml, record, registry, risk
from ..web.operations import Call, operation

INVALID_IP = "Enter a valid IPv4 or IPv6 address."
IDEMPOTENCY_KEY_MAX = 255


def _alpha2_codes() -> frozenset[str]:
    import phonenumbers

    regions = {r for r in phonenumbers.SUPPORTED_REGIONS if len(r) == 2 and r.isalpha()}
    return frozenset(regions | {"AQ", "BV", "GS", "HM", "PN", "TF", "UM"})


@operation("post_v3aml")
async def screen(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    body = dict(call.body or {})
    nationality = body.get("nationality")
    if isinstance(nationality, str) and nationality.upper() not in _alpha2_codes():
        raise ValidationFailed.field("nationality", "Invalid ISO 3166-1 alpha-2 country code.")
    key = call.request.headers.get("idempotency-key")
    if key is not None and len(key) > IDEMPOTENCY_KEY_MAX:
        raise ValidationFailed.field("Idempotency-Key",
                                     f"Ensure this field has no more than {IDEMPOTENCY_KEY_MAX} characters.")
    with tenant.lock:
        book = tenant.component(aml.IdempotencyBook)
        if key:
            replayed = book.replay(key, body)
            if replayed is not None:
                return replayed
        record.check_credits(tenant)
        answer = aml.screen(tenant, body)
        record.debit(tenant)
        if key:
            book.keep(key, body, answer)
        return answer


@operation("post_v3database-validation")
async def database_validation(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    body = dict(call.body or {})
    with tenant.lock:
        record.check_credits(tenant)
        answer = registry.validate(tenant, body)
        record.debit(tenant)
        return answer


def _check_signals(body: dict[str, Any]) -> None:
    signals = body.get("signals")
    if isinstance(signals, dict) and signals.get("ip") is not None:
        try:
            ipaddress.ip_address(str(signals["ip"]))
        except ValueError:
            raise ValidationFailed({"signals": {"ip": [INVALID_IP]}}) from None


@operation("post_v3email_risk")
async def email_risk(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    body = dict(call.body or {})
    _check_signals(body)
    with tenant.lock:
        record.check_credits(tenant, record.NO_CREDITS_RISK)
        answer = risk.email_risk(tenant, body)
        record.debit(tenant)
        return answer


@operation("post_v3phone_risk")
async def phone_risk(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    body = dict(call.body or {})
    _check_signals(body)
    raw = str(body.get("phone_number", "")).replace(" ", "")
    e164 = normalise_phone(raw)
    if e164 is None and raw.startswith(risk.VOIP_PREFIXES) and raw[1:].isdigit() and len(raw) <= 16:
        e164 = raw  # the spec's example VoIP range is reserved for fiction, yet Didit scores it
    if e164 is None:
        raise ValidationFailed.field("phone_number", INVALID_NUMBER)
    with tenant.lock:
        record.check_credits(tenant, record.NO_CREDITS_RISK)
        answer = risk.phone_risk(tenant, body, e164)
        record.debit(tenant)
        return answer


@operation("post_v3ip_risk")
async def ip_risk(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    body = dict(call.body or {})
    try:
        ipaddress.ip_address(str(body.get("ip_address", "")))
    except ValueError:
        raise ValidationFailed.field("ip_address", INVALID_IP) from None
    with tenant.lock:
        record.check_credits(tenant, record.NO_CREDITS_RISK)
        answer = risk.ip_risk(tenant, body)
        record.debit(tenant)
        return answer
