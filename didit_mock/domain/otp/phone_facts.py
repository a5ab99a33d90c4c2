"""Phone numbers: E.164 parsing and what a carrier lookup would say about a number.

Country, carrier and line type come from the `phonenumbers` metadata (including
`phonenumbers.carrier`), overridden per prefix by the tenant's `OtpConfig.carriers`.

`phonenumbers` takes ~20 ms to import: it is imported by the functions that parse, on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .config import OtpConfig, any_prefix, longest_prefix

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber

#: `phonenumbers.PhoneNumberType` names -> Didit's `carrier.type` values.
LINE_TYPES = {
    "FIXED_LINE": "fixed_line",
    "MOBILE": "mobile",
    # NANP numbers do not tell fixed from mobile; a real lookup mostly answers mobile.
    "FIXED_LINE_OR_MOBILE": "mobile",
    "TOLL_FREE": "toll_free",
    "PREMIUM_RATE": "premium_rate",
    "SHARED_COST": "shared_cost",
    "VOIP": "voip",
    "PERSONAL_NUMBER": "other",
    "PAGER": "pager",
    "UAN": "universal_access",
    "VOICEMAIL": "voice_mail",
    "UNKNOWN": "unknown",
}
LINE_TYPE_VALUES = (
    "mobile", "fixed_line", "voip", "isp", "vpn", "toll_free", "premium_rate", "pager", "payphone",
    "satellite", "service", "shared_cost", "short_codes_commercial", "calling_cards", "local_rate",
    "universal_access", "voice_mail", "other", "unknown",
)
VIRTUAL_LINE_TYPES = frozenset({"voip", "isp", "vpn"})
#: Line types that cannot receive an OTP: send answers 400 "Invalid phone line type provided."
INELIGIBLE_LINE_TYPES = frozenset({"short_codes_commercial"})
#: Channels that need a mobile line; anything else falls back to SMS.
MOBILE_ONLY_CHANNELS = frozenset({"whatsapp", "telegram", "viber", "rcs", "zalo"})
CHANNELS = ("whatsapp", "sms", "telegram", "voice", "rcs", "viber", "zalo")

INVALID_NUMBER = "Invalid phone number provided."


def normalise(raw: str) -> str | None:
    """The E.164 form of a valid international number (`+` and country code), else None."""
    text = raw.strip()
    if not text:
        return None
    import phonenumbers

    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_loosely(raw: str) -> str:
    """E.164 when the number is valid, else the input without separators (for matching)."""
    text = raw.strip()
    exact = normalise(text) or (normalise("+" + text) if text[:1].isdigit() else None)
    if exact:
        return exact
    return "".join(ch for ch in text if ch.isdigit() or ch == "+")


@dataclass(frozen=True)
class PhoneFacts:
    """What the emulated carrier lookup reports about one number."""

    full_number: str
    prefix: str
    national_number: str
    country_code: str | None
    country_name: str
    carrier_name: str
    line_type: str
    is_disposable: bool
    is_high_risk: bool

    @property
    def is_virtual(self) -> bool:
        return self.line_type in VIRTUAL_LINE_TYPES

    def delivery_channel(self, preferred: str) -> str:
        """The channel that delivers: the preferred one, or SMS where it is unavailable."""
        if preferred in MOBILE_ONLY_CHANNELS and self.line_type != "mobile":
            return "sms"
        if preferred == "zalo" and self.country_code != "VN":
            return "sms"
        return preferred


def lookup(e164: str, config: OtpConfig) -> PhoneFacts:
    """Country, carrier, line type and risk flags of a valid E.164 number."""
    import phonenumbers

    parsed = phonenumbers.parse(e164, None)
    region = phonenumbers.region_code_for_number(parsed)
    country_code = region if region and region != "001" else None
    carrier_name = _carrier_name(parsed)
    line_type = _line_type(phonenumbers.number_type(parsed))
    override = longest_prefix(config.carriers, e164)
    if override:
        carrier_name = override.get("name") if override.get("name") is not None else carrier_name
        line_type = override.get("type") or line_type
    return PhoneFacts(
        full_number=e164,
        prefix=f"+{parsed.country_code}",
        national_number=phonenumbers.national_significant_number(parsed),
        country_code=country_code,
        country_name=_country_name(parsed) if country_code else "",
        carrier_name=str(carrier_name or ""),
        line_type=str(line_type),
        is_disposable=any_prefix(config.disposable_numbers, e164),
        is_high_risk=any_prefix(config.high_risk_prefixes, e164),
    )


def _line_type(number_type: int) -> str:
    """Didit's `carrier.type` for a `phonenumbers.PhoneNumberType` value."""
    from phonenumbers import PhoneNumberType

    return LINE_TYPES.get(PhoneNumberType.to_string(number_type), "unknown")


def _carrier_name(parsed: PhoneNumber) -> str:
    """The carrier from phonenumbers' metadata (imported on first use: it is slow to load)."""
    from phonenumbers import carrier

    return carrier.name_for_number(parsed, "en") or ""


def _country_name(parsed: PhoneNumber) -> str:
    """The country name from phonenumbers' geocoder (imported on first use: it is slow to load)."""
    from phonenumbers import geocoder

    return geocoder.country_name_for_number(parsed, "en") or ""
