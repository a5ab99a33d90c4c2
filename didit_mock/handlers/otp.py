"""Standalone phone and email verification: POST /v3/{phone,email}/{send,check}/."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from starlette.responses import Response

from ..domain import otp
from ..domain.otp import email_facts, phone_facts
from ..web.http import json_response
from ..web.operations import Call, operation

DRF = ConfigDict(defer_build=True, extra="ignore", coerce_numbers_to_str=True)

EMAIL_LOCALES = (
    "en", "ar", "bn", "bg", "bs", "ca", "cs", "da", "de", "el", "es", "et", "fa", "fi", "fr", "he", "hi", "hr",
    "hu", "hy", "id", "it", "ja", "ka", "kk", "ko", "ky", "lt", "lv", "cnr", "mk", "mn", "ms", "nl", "no", "pl",
    "pt-BR", "pt", "ro", "ru", "sk", "sl", "so", "sq", "sr", "sv", "th", "tr", "uk", "uz", "vi", "zh-CN",
    "zh-TW", "zh",
)
_PHONE_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2,3})?$")
_PHONE_CODE = re.compile(r"^[0-9]{4,8}$")
_EMAIL_CODE = re.compile(r"^[A-Za-z0-9]{4,8}$")


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("This field may not be null.")
    return value


def _phone_number(value: str) -> str:
    normalised = phone_facts.normalise(value)
    if normalised is None:
        raise ValueError(phone_facts.INVALID_NUMBER)
    return normalised


def _email(value: str) -> str:
    normalised = email_facts.normalise(value)
    if normalised is None:
        raise ValueError(email_facts.INVALID_EMAIL)
    return normalised


def _phone_code(value: str) -> str:
    if not _PHONE_CODE.match(value):
        raise ValueError("Invalid code format. Enter 4 to 8 numeric digits.")
    return value


def _email_code(value: str) -> str:
    if not _EMAIL_CODE.match(value):
        raise ValueError("Invalid code format. Enter 4 to 8 letters or digits.")
    return value


def _phone_locale(value: str) -> str:
    if not _PHONE_LOCALE.match(value):
        raise ValueError("This value does not match the required pattern.")
    return value


def _email_locale(value: str) -> str:
    if value not in EMAIL_LOCALES:
        raise ValueError(f"Invalid locale. Supported locales are {', '.join(EMAIL_LOCALES)}.")
    return value


PhoneNumber = Annotated[str, Field(min_length=1, max_length=20), BeforeValidator(_not_null),
                        AfterValidator(_phone_number)]
EmailAddress = Annotated[str, Field(min_length=1), BeforeValidator(_not_null), AfterValidator(_email)]
CodeSize = Annotated[int, Field(ge=4, le=8), BeforeValidator(_not_null)]
Action = Literal["NO_ACTION", "DECLINE"]


class Signals(BaseModel):
    model_config = DRF
    ip: str | None = None
    device_id: str | None = Field(None, max_length=255)
    device_platform: Literal["android", "ios", "ipados", "tvos", "web"] | None = None
    device_model: str | None = Field(None, max_length=255)
    os_version: str | None = Field(None, max_length=64)
    app_version: str | None = Field(None, max_length=64)
    user_agent: str | None = Field(None, max_length=512)

    @field_validator("ip")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise ValueError("Enter a valid IPv4 or IPv6 address.") from None


class _Echo(BaseModel):
    """`vendor_data` and `metadata`, stored on the verification and echoed back."""

    model_config = DRF
    signals: Signals | None = None
    vendor_data: str | None = None
    metadata: Any = None

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, dict):
            kind = {list: "list", str: "str", int: "int", float: "float", bool: "bool"}.get(type(value), "value")
            raise ValueError(f'Expected a dictionary of items but got type "{kind}".')
        return value

    def signal_values(self) -> dict[str, Any]:
        return self.signals.model_dump(exclude_none=True) if self.signals else {}


class PhoneOptions(BaseModel):
    model_config = DRF
    code_size: CodeSize = 6
    locale: Annotated[str, Field(max_length=5), AfterValidator(_phone_locale)] | None = None
    preferred_channel: Literal["whatsapp", "sms", "telegram", "voice", "rcs", "viber", "zalo"] = "whatsapp"


class PhoneSendBody(_Echo):
    phone_number: PhoneNumber
    options: PhoneOptions | None = None


class EmailOptions(BaseModel):
    model_config = DRF
    code_size: CodeSize = 6
    alphanumeric_code: bool = False
    locale: Annotated[str, AfterValidator(_email_locale)] = "en"
    use_white_label_customization: bool = False


class EmailSendBody(_Echo):
    email: EmailAddress
    options: EmailOptions | None = None


class PhoneCheckBody(BaseModel):
    model_config = DRF
    phone_number: PhoneNumber
    code: Annotated[str, Field(min_length=1), BeforeValidator(_not_null), AfterValidator(_phone_code)]
    duplicated_phone_number_action: Action = "NO_ACTION"
    disposable_number_action: Action = "NO_ACTION"
    voip_number_action: Action = "NO_ACTION"
    enable_social: bool = False
    phone_no_social_presence_action: Action = "NO_ACTION"


class EmailCheckBody(BaseModel):
    model_config = DRF
    email: EmailAddress
    code: Annotated[str, Field(min_length=1, max_length=10), BeforeValidator(_not_null),
                    AfterValidator(_email_code)]
    duplicated_email_action: Action = "NO_ACTION"
    breached_email_action: Action = "NO_ACTION"
    disposable_email_action: Action = "NO_ACTION"
    enable_social: bool = False
    email_no_social_presence_action: Action = "NO_ACTION"


# ---------------------------------------------------------------- routes

@operation("post_v3phone_send", body=PhoneSendBody)
async def phone_send(call: Call) -> Response:
    tenant = call.tenant
    body: PhoneSendBody = call.body
    options = body.options or PhoneOptions()
    send = otp.PhoneSend(
        phone_number=body.phone_number, code_size=options.code_size, locale=options.locale,
        channel=options.preferred_channel, signals=body.signal_values(), vendor_data=body.vendor_data,
        metadata=body.metadata,
    )
    with tenant.lock:
        return json_response(otp.send_phone(tenant, send))


@operation("post_v3phone_check", body=PhoneCheckBody)
async def phone_check(call: Call) -> Response:
    tenant = call.tenant
    body: PhoneCheckBody = call.body
    check = otp.Check(body.phone_number, body.code, {
        "duplicated_phone_number_action": body.duplicated_phone_number_action,
        "disposable_number_action": body.disposable_number_action,
        "voip_number_action": body.voip_number_action,
    })
    with tenant.lock:
        return json_response(otp.check_phone(tenant, check))


@operation("post_v3email_send", body=EmailSendBody)
async def email_send(call: Call) -> Response:
    tenant = call.tenant
    body: EmailSendBody = call.body
    options = body.options or EmailOptions()
    send = otp.EmailSend(
        email=body.email, code_size=options.code_size, alphanumeric=options.alphanumeric_code,
        locale=options.locale, white_label=options.use_white_label_customization, signals=body.signal_values(),
        vendor_data=body.vendor_data, metadata=body.metadata,
    )
    with tenant.lock:
        return json_response(otp.send_email(tenant, send))


@operation("post_v3email_check", body=EmailCheckBody)
async def email_check(call: Call) -> Response:
    tenant = call.tenant
    body: EmailCheckBody = call.body
    check = otp.Check(body.email, body.code, {
        "duplicated_email_action": body.duplicated_email_action,
        "breached_email_action": body.breached_email_action,
        "disposable_email_action": body.disposable_email_action,
    })
    with tenant.lock:
        return json_response(otp.check_email(tenant, check))

