"""Standalone phone and email verification: POST /v3/{phone,email}/{send,check}/."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..domain import otp
from ..web.http import json_response
from ..web.operations import Call, operation
from ..web.validation import BodyRules
from . import field_rules

EMAIL_LOCALES = (
    "en", "ar", "bn", "bg", "bs", "ca", "cs", "da", "de", "el", "es", "et", "fa", "fi", "fr", "he", "hi", "hr",
    "hu", "hy", "id", "it", "ja", "ka", "kk", "ko", "ky", "lt", "lv", "cnr", "mk", "mn", "ms", "nl", "no", "pl",
    "pt-BR", "pt", "ro", "ru", "sk", "sl", "so", "sq", "sr", "sv", "th", "tr", "uk", "uz", "vi", "zh-CN",
    "zh-TW", "zh",
)

# What the schemas cannot say (see `spec.fixes` for where Didit's answers differ from its schemas).
_SIGNALS = {"signals.ip": field_rules.ip_address}
PHONE_SEND = BodyRules({"phone_number": field_rules.phone_number, **_SIGNALS})
PHONE_CHECK = BodyRules({
    "phone_number": field_rules.phone_number,
    "code": field_rules.pattern(r"^[0-9]{4,8}$", "Invalid code format. Enter 4 to 8 numeric digits."),
})
EMAIL_SEND = BodyRules({
    "email": field_rules.email_address,
    "options.locale": field_rules.choice(
        EMAIL_LOCALES, f"Invalid locale. Supported locales are {', '.join(EMAIL_LOCALES)}."),
    **_SIGNALS,
})
EMAIL_CHECK = BodyRules({
    "email": field_rules.email_address,
    "code": field_rules.pattern(r"^[A-Za-z0-9]{4,8}$", "Invalid code format. Enter 4 to 8 letters or digits."),
})


def _signals(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (body.get("signals") or {}).items() if v is not None}


# ---------------------------------------------------------------- routes

@operation("post_v3phone_send", body=PHONE_SEND)
async def phone_send(call: Call) -> Response:
    tenant = call.tenant
    body: dict[str, Any] = call.body
    options = body.get("options") or {}
    send = otp.PhoneSend(
        phone_number=body["phone_number"], code_size=options.get("code_size", 6), locale=options.get("locale"),
        channel=options.get("preferred_channel", "whatsapp"), signals=_signals(body),
        vendor_data=body.get("vendor_data"), metadata=body.get("metadata"),
    )
    with tenant.lock:
        return json_response(otp.send_phone(tenant, send))


@operation("post_v3phone_check", body=PHONE_CHECK)
async def phone_check(call: Call) -> Response:
    tenant = call.tenant
    body: dict[str, Any] = call.body
    check = otp.Check(body["phone_number"], body["code"], _actions(
        body, "duplicated_phone_number_action", "disposable_number_action", "voip_number_action"))
    with tenant.lock:
        return json_response(otp.check_phone(tenant, check))


@operation("post_v3email_send", body=EMAIL_SEND)
async def email_send(call: Call) -> Response:
    tenant = call.tenant
    body: dict[str, Any] = call.body
    options = body.get("options") or {}
    send = otp.EmailSend(
        email=body["email"], code_size=options.get("code_size", 6),
        alphanumeric=options.get("alphanumeric_code", False), locale=options.get("locale", "en"),
        white_label=options.get("use_white_label_customization", False), signals=_signals(body),
        vendor_data=body.get("vendor_data"), metadata=body.get("metadata"),
    )
    with tenant.lock:
        return json_response(otp.send_email(tenant, send))


@operation("post_v3email_check", body=EMAIL_CHECK)
async def email_check(call: Call) -> Response:
    tenant = call.tenant
    body: dict[str, Any] = call.body
    check = otp.Check(body["email"], body["code"], _actions(
        body, "duplicated_email_action", "breached_email_action", "disposable_email_action"))
    with tenant.lock:
        return json_response(otp.check_email(tenant, check))


def _actions(body: dict[str, Any], *names: str) -> dict[str, str]:
    return {name: body.get(name, "NO_ACTION") for name in names}
