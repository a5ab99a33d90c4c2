"""Email addresses: Django's syntax rules and what deliverability and breach lookups report."""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from .config import OtpConfig, domain_listed, glob_match

INVALID_EMAIL = "Enter a valid email address."

# Django's EmailValidator (the one DRF's EmailField runs): dot-atom or quoted local part,
# a dotted domain with a 2-63 character TLD, `localhost`, or an address literal (case-insensitive).
_USER = (
    r"(^[-!#$%&'*+/=?^_`{}|~0-9A-Z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Z]+)*\Z"
    r'|^"([\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])*"\Z)'
)
_DOMAIN = r"((?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+)(?:[A-Z0-9-]{2,63}(?<!-))\Z"
_LITERAL = r"\[([A-F0-9:.]+)\]\Z"
_DOMAIN_ALLOWLIST = ("localhost",)
MAX_EMAIL_LENGTH = 320


@functools.cache
def _pattern(source: str) -> re.Pattern[str]:
    """`source` compiled case-insensitively, on first use (`_USER` and `_DOMAIN` take ~1 ms each)."""
    return re.compile(source, re.IGNORECASE)


def normalise(raw: str) -> str | None:
    """The address with its domain lower-cased when Django would accept it, else None."""
    value = raw.strip()
    if not value or "@" not in value or len(value) > MAX_EMAIL_LENGTH:
        return None
    user, domain = value.rsplit("@", 1)
    if not _pattern(_USER).match(user):
        return None
    if domain.lower() not in _DOMAIN_ALLOWLIST and not _valid_domain(domain):
        return None
    return f"{user}@{domain.lower()}"


def _valid_domain(domain: str) -> bool:
    if _pattern(_DOMAIN).match(domain):
        return True
    literal = _pattern(_LITERAL).match(domain)
    if literal:
        try:
            ipaddress.ip_address(literal.group(1))
        except ValueError:
            return False
        return True
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return bool(_pattern(_DOMAIN).match(ascii_domain))


def key(address: str) -> str:
    """The pairing key of an address (case-insensitive)."""
    return address.lower()


#: The breach every built-in breached address is found in (shape of the spec's example).
SAMPLE_BREACH: dict[str, Any] = {
    "name": "ExampleApp",
    "domain": "exampleapp.com",
    "breach_date": "2019-03-21",
    "breach_emails_count": 763117,
    "description": "In March 2019, the social platform ExampleApp suffered a data breach that exposed "
                   "email addresses and passwords.",
    "logo_path": "https://media.didit-mock.local/logos/ExampleApp.png",
    "data_classes": ["email_addresses", "passwords"],
    "is_verified": True,
}


@dataclass(frozen=True)
class EmailFacts:
    """What the deliverability, disposable-provider and breach lookups report."""

    email: str
    domain: str
    is_disposable: bool
    is_undeliverable: bool
    breaches: tuple[dict[str, Any], ...]

    @property
    def is_breached(self) -> bool:
        return bool(self.breaches)


def lookup(address: str, config: OtpConfig) -> EmailFacts:
    domain = address.rsplit("@", 1)[1].lower()
    breached = glob_match(config.breached_emails, address) is not None
    return EmailFacts(
        email=address,
        domain=domain,
        is_disposable=domain_listed(config.disposable_domains, domain)
        or glob_match(config.disposable_emails, address) is not None,
        is_undeliverable=domain_listed(config.undeliverable_domains, domain),
        breaches=(dict(SAMPLE_BREACH),) if breached else (),
    )
