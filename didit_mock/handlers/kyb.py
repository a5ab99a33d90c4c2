"""The KYB registry (§1.11) and the KYB corrections of a business session (§1.26)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response

from ..domain import kyb
from ..domain.errors import ValidationFailed, not_a_dictionary
from ..web.http import json_response
from ..web.operations import Call, operation
from .sessions import resolve_then_authenticate

_COUNTRY = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_ALPHA2 = re.compile(r"^[A-Z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{3,48}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EITHER = "Either 'name' or 'registration_number' is required."


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _webhook_url(value: Any) -> str | None:
    if value in (None, ""):
        return None
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed.field("webhook_url", "Enter a valid URL.")
    return str(value)


@operation("post_v3_kyb_search")
async def search(call: Call) -> dict[str, Any]:
    body = dict(call.body or {})
    country_code = str(body.get("country_code") or "").strip().upper()
    errors: dict[str, list[str]] = {}
    if not _COUNTRY.match(country_code) or country_code == "US":
        errors["country_code"] = ["country_code must be a 2-letter ISO code."]
    name, number = _text(body.get("name")), _text(body.get("registration_number"))
    if name is None and number is None:
        errors["non_field_errors"] = [EITHER]
    if errors:
        raise ValidationFailed(errors)
    query = kyb.SearchQuery(country_code, name, number, str(body.get("search_type") or "contains"),
                            body.get("vendor_data"), body.get("metadata"), _webhook_url(body.get("webhook_url")))
    tenant = call.tenant
    with tenant.lock:
        return kyb.search(tenant, query)


async def _retrieve(call: Call, tier: str) -> Response:
    body = dict(call.body or {})
    request = kyb.Retrieval(tier, str(body["kyb_response_id"]), body.get("vendor_data"), body.get("metadata"),
                            bool(body.get("save_api_request", True)))
    tenant = call.tenant
    with tenant.lock:
        status, answer = kyb.retrieve(tenant, request)
    return json_response(answer, status)


@operation("post_v3_kyb_select")
async def select(call: Call) -> Response:
    return await _retrieve(call, "basic")


@operation("post_v3_kyb_shareholders")
async def shareholders(call: Call) -> Response:
    return await _retrieve(call, "shareholders")


@operation("post_v3_kyb_ubo")
async def ubo(call: Call) -> Response:
    return await _retrieve(call, "ubo")


# ---------------------------------------------------------------- session data

def _company_changes(raw: Any) -> dict[str, Any]:
    """The checked corrections of a company record (the spec's lengths and enums are checked before)."""
    if not isinstance(raw, dict):
        raise not_a_dictionary(raw)
    changes = dict(raw)
    errors: dict[str, list[str]] = {}
    if "country_code" in changes:
        code = str(changes["country_code"] or "").upper()
        if not _ALPHA2.match(code):
            errors["country_code"] = ["country_code must be a 2-letter ISO 3166-1 alpha-2 code."]
        changes["country_code"] = code
    currency = changes.get("registered_capital_currency")
    if currency is not None:
        if not _CURRENCY.match(str(currency).upper()):
            errors["registered_capital_currency"] = [
                "Currency must be a 3-letter ISO 4217 code (e.g. USD, EUR, GBP)."]
        changes["registered_capital_currency"] = str(currency).upper()
    if "phone" in changes and not _PHONE.match(str(changes["phone"] or "")):
        errors["phone"] = ["Invalid phone number format."]
    for name in ("incorporation_date", "registration_date", "dissolution_date"):
        value = changes.get(name)
        if value is not None and not _is_date(value):
            errors[name] = ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]
    amount = changes.get("registered_capital_amount")
    if amount is not None:
        changes["registered_capital_amount"] = f"{float(amount):.2f}"
    if errors:
        raise ValidationFailed(errors)
    return changes


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@operation("patch_v3_session_kyb_company_update_data", resolve_first=True)
async def update_company(call: Call) -> Response:
    """Correct the registry record of a business session's company; answers the whole record."""
    tenant, session = resolve_then_authenticate(call, deleted_message="Not found.")
    changes = _company_changes(call.body if call.body is not None else {})
    with tenant.lock:
        data = kyb.company_session(tenant, session, call.path["companyUuid"])
        return json_response(kyb.update_company(tenant, session, data, changes))


@operation("patch_v3_session_kyb_party_update", resolve_first=True)
async def update_party(call: Call) -> dict[str, Any]:
    """Skip (or bring back) an officer or owner of the business session's company."""
    body = dict(call.body or {})
    tenant, session = resolve_then_authenticate(call)
    with tenant.lock:
        return kyb.skip_party(tenant, session, call.path["partyUuid"], bool(body["is_skipped"]))
