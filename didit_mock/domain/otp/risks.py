"""Warning objects of the standalone phone and email verifications (no `node_id`)."""

from __future__ import annotations

from typing import Any

PHONE_FEATURE = "PHONE"
EMAIL_FEATURE = "EMAIL"

#: risk -> (short description, long description), worded like Didit's examples.
DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "VERIFICATION_CODE_ATTEMPTS_EXCEEDED": (
        "Verification code attempts exceeded",
        "The system detected that the phone number has exceeded the maximum number of verification code "
        "attempts.",
    ),
    "VOIP_NUMBER_DETECTED": (
        "VoIP number detected",
        "The system detected that the phone number is a VoIP number, which is not allowed.",
    ),
    "DISPOSABLE_NUMBER_DETECTED": (
        "Disposable number detected",
        "The system detected that the phone number belongs to a disposable number service, which is not allowed.",
    ),
    "DUPLICATED_PHONE_NUMBER": (
        "Duplicated phone number",
        "The system detected that the phone number was already verified by another user.",
    ),
    "PHONE_NUMBER_IN_BLOCKLIST": (
        "Phone number in blocklist",
        "The system detected that the phone number is in the blocklist.",
    ),
    "HIGH_RISK_PHONE_NUMBER": (
        "High risk phone number",
        "The system detected that the phone number is high risk.",
    ),
    "EMAIL_CODE_ATTEMPTS_EXCEEDED": (
        "Email code attempts exceeded",
        "The system detected that the email has exceeded the maximum number of verification code attempts.",
    ),
    "DISPOSABLE_EMAIL_DETECTED": (
        "Disposable email detected",
        "The system detected that the email is disposable, which is not allowed.",
    ),
    "BREACHED_EMAIL_DETECTED": (
        "Breached email detected",
        "This email address was found in one or more known data breaches.",
    ),
    "UNDELIVERABLE_EMAIL_DETECTED": (
        "Undeliverable email detected",
        "The system detected that the email address cannot receive emails.",
    ),
    "DUPLICATED_EMAIL": (
        "Duplicated email",
        "The system detected that the email was already verified by another user.",
    ),
    "EMAIL_IN_BLOCKLIST": (
        "Email in blocklist",
        "The system detected that the email is in the blocklist.",
    ),
}


def warning(feature: str, risk: str, log_type: str, additional_data: Any = None) -> dict[str, Any]:
    """One warning object: `log_type` is `error` (declines), `warning` or `information`."""
    short, long = DESCRIPTIONS.get(risk, (risk.replace("_", " ").capitalize(), ""))
    return {
        "feature": feature,
        "risk": risk,
        "additional_data": additional_data,
        "log_type": log_type,
        "short_description": short,
        "long_description": long,
    }
