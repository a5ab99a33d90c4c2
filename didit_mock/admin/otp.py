"""Admin routes of the OTP emulation: read the codes "sent", fix codes, tune fraud ranges.

* `GET /_mock/phone/{number}/code`, `GET /_mock/email/{address}/code`: the latest verification's
  `{"code", "attempts_left", "expires_at", "request_id", "status"}` (404 when there is none).
* `GET|POST /_mock/phone/codes` `{"prefix": "+1555", "code": "123456"}` (`"code": null` removes).
* `GET|POST /_mock/email/codes` `{"pattern": "*@example.com", "code": "ABC123"}`.
* `GET|PATCH /_mock/otp/config` (PATCH replaces the fields it names), `POST /_mock/otp/config/reset`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain import otp
from ..domain.errors import NotFound
from ..domain.otp import email_facts, phone_facts
from ..domain.otp.config import EMAIL_SEND_STATUSES, PHONE_SEND_STATUSES
from ..web.auth import authenticate
from ..web.http import json_response, parse_body

_PREFIX = re.compile(r"^\+[0-9]*$")
_PHONE_CODE = re.compile(r"^[0-9]{4,8}$")
_EMAIL_CODE = re.compile(r"^[A-Za-z0-9]{4,8}$")


def _prefix(value: str) -> str:
    compact = re.sub(r"[\s().-]", "", value)
    if not _PREFIX.match(compact):
        raise ValueError('Enter an E.164 prefix such as "+1555" (a "+" and digits).')
    return compact


def _phone_code(value: str) -> str:
    if not _PHONE_CODE.match(value):
        raise ValueError("Enter 4 to 8 numeric digits.")
    return value


def _email_code(value: str) -> str:
    if not _EMAIL_CODE.match(value):
        raise ValueError("Enter 4 to 8 letters or digits.")
    return value


def _pattern(value: str) -> str:
    if not value.strip():
        raise ValueError("This field may not be blank.")
    return value.strip().lower()


Prefix = Annotated[str, AfterValidator(_prefix)]
Pattern = Annotated[str, AfterValidator(_pattern)]
Strict = ConfigDict(defer_build=True, extra="forbid")


class PhoneCodeBody(BaseModel):
    model_config = Strict
    prefix: Prefix
    code: Annotated[str, AfterValidator(_phone_code)] | None


class EmailCodeBody(BaseModel):
    model_config = Strict
    pattern: Pattern
    code: Annotated[str, AfterValidator(_email_code)] | None


class Carrier(BaseModel):
    model_config = Strict
    name: str | None = None
    type: Literal[phone_facts.LINE_TYPE_VALUES] | None = None  # type: ignore[valid-type]


class PhoneSendStatus(BaseModel):
    model_config = Strict
    status: Literal[PHONE_SEND_STATUSES]  # type: ignore[valid-type]
    reason: str | None = None


class EmailSendStatus(BaseModel):
    model_config = Strict
    status: Literal[EMAIL_SEND_STATUSES]  # type: ignore[valid-type]
    reason: str | None = None


class ConfigPatch(BaseModel):
    """Every field is optional; the ones present replace the tenant's current value."""

    model_config = Strict
    phone_codes: dict[Prefix, Annotated[str, AfterValidator(_phone_code)]] | None = None
    email_codes: dict[Pattern, Annotated[str, AfterValidator(_email_code)]] | None = None
    disposable_numbers: list[Prefix] | None = None
    high_risk_prefixes: list[Prefix] | None = None
    carriers: dict[Prefix, Carrier] | None = None
    phone_send_status: dict[Prefix, PhoneSendStatus] | None = None
    blocked_numbers: list[Prefix] | None = None
    disposable_domains: list[Pattern] | None = None
    disposable_emails: list[Pattern] | None = None
    undeliverable_domains: list[Pattern] | None = None
    breached_emails: list[Pattern] | None = None
    email_send_status: dict[Pattern, EmailSendStatus] | None = None
    blocked_emails: list[Pattern] | None = None
    hourly_send_cap: int | None = Field(None, ge=0, le=10_000)

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("This field may not be null.")
        return value


# ---------------------------------------------------------------- code read-out

def _number_param(raw: str) -> str:
    text = raw.strip()
    number = phone_facts.normalise(text) or (phone_facts.normalise("+" + text) if text[:1].isdigit() else None)
    if number is None:
        raise NotFound()
    return number


async def phone_code(request: Request) -> Response:
    tenant = authenticate(request)
    number = _number_param(request.path_params["number"])
    with tenant.lock:
        found = otp.code_readout(tenant, otp.PHONE, number)
    if found is None:
        raise NotFound()
    return json_response(found)


async def email_code(request: Request) -> Response:
    tenant = authenticate(request)
    address = email_facts.normalise(request.path_params["address"])
    if address is None:
        raise NotFound()
    with tenant.lock:
        found = otp.code_readout(tenant, otp.EMAIL, address)
    if found is None:
        raise NotFound()
    return json_response(found)


# ---------------------------------------------------------------- fixed codes

async def phone_codes(request: Request) -> Response:
    tenant = authenticate(request)
    config = otp.otp_config(tenant)
    if request.method == "POST":
        body = await parse_body(request, PhoneCodeBody)
        with tenant.lock:
            _set_or_drop(config.phone_codes, body.prefix, body.code)
    return json_response({"codes": [{"prefix": k, "code": v} for k, v in sorted(config.phone_codes.items())]})


async def email_codes(request: Request) -> Response:
    tenant = authenticate(request)
    config = otp.otp_config(tenant)
    if request.method == "POST":
        body = await parse_body(request, EmailCodeBody)
        with tenant.lock:
            _set_or_drop(config.email_codes, body.pattern, body.code)
    return json_response({"codes": [{"pattern": k, "code": v} for k, v in sorted(config.email_codes.items())]})


def _set_or_drop(mapping: dict[str, str], key: str, code: str | None) -> None:
    if code is None:
        mapping.pop(key, None)
    else:
        mapping[key] = code


# ---------------------------------------------------------------- configuration

async def get_config(request: Request) -> Response:
    tenant = authenticate(request)
    return json_response(otp.otp_config(tenant).to_dict())


async def patch_config(request: Request) -> Response:
    tenant = authenticate(request)
    body = await parse_body(request, ConfigPatch)
    changes = body.model_dump(exclude_unset=True, mode="json")
    config = otp.otp_config(tenant)
    with tenant.lock:
        config.update(changes)
        return json_response(config.to_dict())


async def reset_config(request: Request) -> Response:
    tenant = authenticate(request)
    config = otp.otp_config(tenant)
    with tenant.lock:
        config.reset()
        return json_response(config.to_dict())


routes = [
    Route("/_mock/phone/codes", phone_codes, methods=["GET", "POST"]),
    Route("/_mock/email/codes", email_codes, methods=["GET", "POST"]),
    Route("/_mock/phone/{number}/code", phone_code, methods=["GET"]),
    Route("/_mock/email/{address}/code", email_code, methods=["GET"]),
    Route("/_mock/otp/config", get_config, methods=["GET"]),
    Route("/_mock/otp/config", patch_config, methods=["PATCH", "PUT"]),
    Route("/_mock/otp/config/reset", reset_config, methods=["POST"]),
]
