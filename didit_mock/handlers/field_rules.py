"""Hand-written checks of single values, for what the spec's schemas cannot say.

Each is a `FieldRule` (`web.validation`): it gets a value the schema accepted and returns the
value to keep (often normalised), or raises `ValueError` with DRF's message. Handlers name them
by path in their `BodyRules`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ..domain.otp import email_facts, phone_facts

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_CANONICAL = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ALPHA3 = re.compile(r"^[A-Z]{3}$")


def canonical_uuid(value: str) -> str:
    """A UUID in canonical form (hyphens, lower case), or DRF's message."""
    if type(value) is str and len(value) == 36 and _CANONICAL.match(value):
        return value  # already canonical, as clients send them
    if not isinstance(value, str) or not _UUID.match(value.strip()):
        raise ValueError("Must be a valid UUID.")
    hex_digits = value.strip().replace("-", "").lower()
    return f"{hex_digits[:8]}-{hex_digits[8:12]}-{hex_digits[12:16]}-{hex_digits[16:20]}-{hex_digits[20:]}"


def email_address(value: str) -> str:
    """The address with its domain lower-cased when Django's EmailValidator accepts it."""
    normalised = email_facts.normalise(value)
    if normalised is None:
        raise ValueError(email_facts.INVALID_EMAIL)
    return normalised


def phone_number(value: str) -> str:
    """The E.164 form of a valid international number (the `phonenumbers` library decides)."""
    normalised = phone_facts.normalise(value)
    if normalised is None:
        raise ValueError(phone_facts.INVALID_NUMBER)
    return normalised


def ip_address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError("Enter a valid IPv4 or IPv6 address.") from None


def alpha3(value: str) -> str:
    """An ISO 3166-1 alpha-3 country code, upper-cased."""
    code = value.upper()
    if not _ALPHA3.match(code):
        raise ValueError("Enter a valid ISO 3166-1 alpha-3 country code.")
    return code


def pattern(expression: str, message: str) -> Any:
    """A rule refusing a string that does not match `expression` with `message`."""
    compiled = re.compile(expression)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(message)
        return value

    return check


def choice(choices: tuple[str, ...], message: str) -> Any:
    """A rule refusing a value outside `choices` with `message`."""
    allowed = frozenset(choices)

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(message)
        return value

    return check
