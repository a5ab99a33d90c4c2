"""The tenant's OTP verifications, phone send history and OTP settings as a state section (`otp`).

Verifications draw their `session_number` from the sessions' counter, so the section comes after
`sessions` and checks that no number is taken twice and each is below `sessions.next_number`.
Pending verifications get their expiry back after an import.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from ..session_state import NAME as SESSIONS
from ..session_state import ParsedSessions
from ..state import Reader, StateInvalid, StateSection, check, dataclass_from, join_path, json_copy, unique
from ..tenant import Tenant
from .config import OtpConfig, otp_config
from .email_facts import EmailFacts
from .phone_facts import PhoneFacts
from .records import PENDING, LifecycleEvent, Verification, book

NAME = "otp"


class ParsedOtp:
    """The section's parsed value."""

    def __init__(self, verifications: list[Verification], sends: dict[str, list[float]], config: dict[str, Any]):
        self.verifications = verifications
        self.sends = sends
        self.config = config


# ---------------------------------------------------------------- export

def _export(tenant: Tenant) -> dict[str, Any]:
    otp = book(tenant)
    return {"otp": {
        "verifications": [_verification_json(v) for v in otp.by_id.values()],
        "phone_sends": {number: list(times) for number, times in otp.phone_sends.items()},
        "config": otp_config(tenant).to_dict(),
    }}


def _verification_json(v: Verification) -> dict[str, Any]:
    facts: dict[str, Any] | None = None
    if v.facts is not None:
        facts = {"kind": "phone" if isinstance(v.facts, PhoneFacts) else "email",
                 **{f.name: json_copy(getattr(v.facts, f.name), f.name) for f in fields(v.facts)}}
    return {
        "kind": v.kind, "request_id": v.request_id, "session_number": v.session_number, "target": v.target,
        "created_at": v.created_at, "expires_at": v.expires_at, "vendor_data": v.vendor_data,
        "metadata": json_copy(v.metadata), "channel": v.channel, "actual_channel": v.actual_channel,
        "code_size": v.code_size, "alphanumeric": v.alphanumeric, "locale": v.locale,
        "signals": json_copy(v.signals), "code": v.code, "sends": v.sends, "wrong_codes": v.wrong_codes,
        "status": v.status, "send_status": v.send_status, "send_reason": v.send_reason,
        "verified_at": v.verified_at, "finished_at": v.finished_at, "warnings": json_copy(v.warnings),
        "lifecycle": [{"type": e.type, "at": e.at, "details": json_copy(e.details), "fee": e.fee}
                      for e in v.lifecycle],
        "facts": facts,
    }


# ---------------------------------------------------------------- import

def _parse(data: Any, path: str, earlier: dict[str, Any]) -> ParsedOtp:
    sessions: ParsedSessions = earlier[SESSIONS]
    r = Reader(data, path).obj("otp")
    items = r.items("verifications")
    verifications = [_parse_verification(v) for v in items]
    unique([v.request_id for v in verifications], r.at("verifications"), "request_id")
    taken = set(sessions.numbers())
    for verification, item in zip(verifications, items, strict=True):
        number = verification.session_number
        if number in taken:
            raise StateInvalid(f"{item.at('session_number')}: {number} is already the number of a session or "
                               "of another verification.")
        if number >= sessions.next_number:
            raise StateInvalid(f"{item.at('session_number')}: must be less than sessions.next_number "
                               f"({sessions.next_number}).")
        taken.add(number)
    sends_r = Reader(r("phone_sends", "object"), r.at("phone_sends"))
    sends = {number: sends_r.floats(number) for number in sends_r.data}
    config_r = r.obj("config")
    config: dict[str, Any] = {}
    for name, default in OtpConfig().to_dict().items():
        kind = "int" if isinstance(default, int) else "object" if isinstance(default, dict) else "list"
        config[name] = config_r(name, kind, default)
    for name in ("phone_codes", "email_codes"):
        for key, code in config[name].items():
            check(code, "str", join_path(config_r.at(name), key))
    for name, value in config.items():
        if isinstance(value, list):
            for i, item in enumerate(value):
                check(item, "str", f"{config_r.at(name)}[{i}]")
        elif isinstance(value, dict) and name not in ("phone_codes", "email_codes"):
            for key, item in value.items():
                check(item, "object", join_path(config_r.at(name), key))
    return ParsedOtp(verifications, sends, config)


def _number(r: Reader, name: str, default: float) -> float:
    """A finite number kept as written (a fee of `0` stays an integer, so a decision renders it the same)."""
    value = r(name, "json", default)
    check(value, "float", r.at(name))
    return value  # type: ignore[no-any-return]


def _parse_facts(r: Reader) -> PhoneFacts | EmailFacts | None:
    if r("facts", "object?", None) is None:
        return None
    facts_r = r.obj("facts")
    if facts_r.choice("kind", ("phone", "email")) == "phone":
        return dataclass_from(PhoneFacts, facts_r, {  # type: ignore[no-any-return]
            "full_number": "str", "prefix": "str", "national_number": "str", "country_code": "str?",
            "country_name": "str", "carrier_name": "str", "line_type": "str", "is_disposable": "bool",
            "is_high_risk": "bool"})
    breaches = tuple(check(b, "object", f"{facts_r.at('breaches')}[{i}]")
                     for i, b in enumerate(facts_r("breaches", "list")))
    return EmailFacts(facts_r("email", "str"), facts_r("domain", "str"), facts_r("is_disposable", "bool"),
                      facts_r("is_undeliverable", "bool"), breaches)


def _parse_verification(r: Reader) -> Verification:
    return Verification(
        kind=r.choice("kind", ("phone", "email")), request_id=r("request_id", "str"),
        session_number=r("session_number", "int"), target=r("target", "str"), created_at=r("created_at", "float"),
        expires_at=r("expires_at", "float"), vendor_data=r("vendor_data", "str?", None),
        metadata=r("metadata", "json", None), channel=r("channel", "str?", None),
        actual_channel=r("actual_channel", "str?", None), code_size=r("code_size", "int"),
        alphanumeric=r("alphanumeric", "bool"), locale=r("locale", "str?", None), signals=r("signals", "object", {}),
        code=r("code", "str?"), sends=r("sends", "int"), wrong_codes=r("wrong_codes", "int"),
        status=r("status", "str"), send_status=r("send_status", "str"), send_reason=r("send_reason", "str?", None),
        verified_at=r("verified_at", "float?", None), finished_at=r("finished_at", "float?", None),
        warnings=[check(w, "object", f"{r.at('warnings')}[{i}]") for i, w in enumerate(r("warnings", "list"))],
        lifecycle=[LifecycleEvent(e("type", "str"), e("at", "float"), e("details", "object?", None),
                                  _number(e, "fee", 0)) for e in r.items("lifecycle")],
        facts=_parse_facts(r),
    )


def _restore(tenant: Tenant, parsed: ParsedOtp) -> None:
    otp = book(tenant)
    for verification in parsed.verifications:
        otp.add(verification)
    otp.phone_sends = parsed.sends
    otp_config(tenant).update(parsed.config)


def _rearm(tenant: Tenant) -> None:
    """The expiry of every pending verification."""
    from .engine import arm_expiry  # with the first state that holds OTP verifications, not at start

    for verification in book(tenant).by_id.values():
        if verification.status == PENDING:
            arm_expiry(tenant, verification)


OTP_SECTION = StateSection(NAME, _export, _parse, _restore, needs=(SESSIONS,), fields=("otp",), rearm=_rearm)
