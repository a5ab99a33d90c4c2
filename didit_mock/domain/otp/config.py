"""The per-tenant OTP test configuration: fixed codes, fraud ranges and forced outcomes.

Every tenant starts with the built-in ranges below; scenarios and the admin API
(`/_mock/otp/config`, `/_mock/phone/codes`, `/_mock/email/codes`) change them per tenant.

Built-in test ranges (all valid numbers for `phonenumbers`):

* ordinary: anything else, e.g. the NANP fictional lines `+1 NPA 555 01xx` (`+12025550143`);
* VoIP: `+1 500 555 xxxx` (Twilio-style magic numbers; carrier "CLEC LLC", line type `voip`,
  the spec's own VoIP example `+15005550006`) and every number `phonenumbers` types as VoIP;
* disposable: `+61 491 570 xxx` (Australia's range reserved for fiction);
* high risk: `+1 900 555 xxxx` (premium-rate lines, the classic SMS-pumping target);
* disposable email domains: mailinator.com, guerrillamail.com, yopmail.com, 10minutemail.com, ...;
* undeliverable email domains: the reserved TLDs `.invalid`, `.test`, `.localhost`, `.local`;
* breached emails: addresses whose local part starts with `breached` (`breached@example.com`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from ..tenant import Tenant

V = TypeVar("V")

BUILTIN_VOIP_CARRIERS: dict[str, dict[str, str]] = {"+1500555": {"name": "CLEC LLC", "type": "voip"}}
BUILTIN_DISPOSABLE_NUMBERS = ["+61491570"]
BUILTIN_HIGH_RISK_PREFIXES = ["+1900555"]
BUILTIN_DISPOSABLE_DOMAINS = [
    "mailinator.com", "guerrillamail.com", "guerrillamail.net", "guerrillamail.org", "sharklasers.com",
    "grr.la", "yopmail.com", "yopmail.net", "10minutemail.com", "10minutemail.net", "temp-mail.org",
    "tempmail.com", "tempmail.net", "throwawaymail.com", "trashmail.com", "getnada.com", "maildrop.cc",
    "dispostable.com", "fakeinbox.com", "mailnesia.com", "mintemail.com", "emailondeck.com", "mohmal.com",
    "burnermail.io", "spamgourmet.com", "tempr.email", "discard.email",
]
BUILTIN_UNDELIVERABLE_DOMAINS = ["invalid", "test", "localhost", "local"]
BUILTIN_BREACHED_EMAILS = ["breached*@*"]

PHONE_SEND_STATUSES = ("Blocked", "Retry")
EMAIL_SEND_STATUSES = ("Undeliverable", "Retry")


@dataclass
class OtpConfig:
    """What the emulated providers "know" about numbers and addresses, per tenant.

    Phone keys are E.164 prefixes (a full number is its own longest prefix; the longest
    matching prefix wins). Email keys are case-insensitive glob patterns on the address
    (`*@example.com`); domain lists match the domain and its subdomains.
    """

    #: prefix -> fixed code sent to matching numbers
    phone_codes: dict[str, str] = field(default_factory=dict)
    #: address pattern -> fixed code
    email_codes: dict[str, str] = field(default_factory=dict)
    disposable_numbers: list[str] = field(default_factory=lambda: list(BUILTIN_DISPOSABLE_NUMBERS))
    high_risk_prefixes: list[str] = field(default_factory=lambda: list(BUILTIN_HIGH_RISK_PREFIXES))
    #: prefix -> {"name": carrier name, "type": line type} (either may be omitted)
    carriers: dict[str, dict[str, str | None]] = field(
        default_factory=lambda: {k: dict(v) for k, v in BUILTIN_VOIP_CARRIERS.items()}
    )
    #: prefix -> {"status": "Blocked"|"Retry", "reason": ...}
    phone_send_status: dict[str, dict[str, str | None]] = field(default_factory=dict)
    #: by-value blocklist entries (like the Lists API), prefixes
    blocked_numbers: list[str] = field(default_factory=list)
    disposable_domains: list[str] = field(default_factory=lambda: list(BUILTIN_DISPOSABLE_DOMAINS))
    #: address patterns (globs) reported disposable whatever their domain (scenario `email` rules)
    disposable_emails: list[str] = field(default_factory=list)
    undeliverable_domains: list[str] = field(default_factory=lambda: list(BUILTIN_UNDELIVERABLE_DOMAINS))
    breached_emails: list[str] = field(default_factory=lambda: list(BUILTIN_BREACHED_EMAILS))
    #: address pattern -> {"status": "Undeliverable"|"Retry", "reason": ...}
    email_send_status: dict[str, dict[str, str | None]] = field(default_factory=dict)
    #: by-value blocklist entries, address patterns
    blocked_emails: list[str] = field(default_factory=list)
    #: sends allowed per phone number per rolling hour (the real cap is 4)
    hourly_send_cap: int = 4

    def to_dict(self) -> dict[str, Any]:
        return _copy(asdict(self))

    def update(self, changes: Mapping[str, Any]) -> None:
        """Replace the named fields; names that are not fields are ignored."""
        known = set(self.__dataclass_fields__)
        for name, value in changes.items():
            if name in known:
                setattr(self, name, _copy(value))

    def reset(self) -> None:
        self.update(OtpConfig().to_dict())


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _new_config(tenant: Tenant) -> OtpConfig:
    return OtpConfig()


def otp_config(tenant: Tenant) -> OtpConfig:
    """The tenant's OTP configuration (a component, created with the built-in ranges)."""
    return tenant.component(_new_config)


# ---------------------------------------------------------------- matching helpers

def longest_prefix(mapping: Mapping[str, V], number: str) -> V | None:
    """The value of the longest key of `mapping` that `number` starts with."""
    best: str | None = None
    for prefix in mapping:
        if number.startswith(prefix) and (best is None or len(prefix) > len(best)):
            best = prefix
    return None if best is None else mapping[best]


def any_prefix(prefixes: Iterable[str], number: str) -> bool:
    return any(number.startswith(p) for p in prefixes)


def glob_match(patterns: Iterable[str], address: str) -> str | None:
    """The first case-insensitive glob pattern that matches `address`."""
    lowered = address.lower()
    for pattern in patterns:
        if fnmatch.fnmatchcase(lowered, pattern.lower()):
            return pattern
    return None


def glob_lookup(mapping: Mapping[str, V], address: str) -> V | None:
    """The value of the most specific (longest) pattern matching `address`."""
    lowered = address.lower()
    hits = [p for p in mapping if fnmatch.fnmatchcase(lowered, p.lower())]
    return mapping[max(hits, key=len)] if hits else None


def domain_listed(domains: Iterable[str], domain: str) -> bool:
    """`domain` is one of `domains` or a subdomain of one (`x.mailinator.com`, `a.test`)."""
    domain = domain.lower().rstrip(".")
    for listed in domains:
        listed = listed.lower().strip(".")
        if domain == listed or domain.endswith("." + listed):
            return True
    return False
