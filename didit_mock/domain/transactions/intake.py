"""A create request (`POST /v3/transactions/`) read into the stored transaction document.

The request is read as Didit reads it: category and direction aliases, camelCase device keys,
`person` for `individual`, amounts as exact decimal strings with trailing zeros stripped.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..clock import iso, parse_iso
from ..errors import ValidationFailed
from .rules import category

UNSUPPORTED_CATEGORY = "Unsupported transaction category."
SUBJECT_IDENTITY = "subject.vendor_data and subject.full_name are required."
DUPLICATE = "A transaction with this transaction_id already exists."
CRYPTO = frozenset({"BTC", "ETH", "LTC", "XRP", "BCH", "DOGE", "TRX", "SOL", "MATIC", "BNB", "USDT", "USDC",
                    "ADA", "DOT", "AVAX", "XLM", "DAI"})
PREFERRED_CURRENCY = "USD"
_DIRECTIONS = {"inbound": "INBOUND", "in": "INBOUND", "outbound": "OUTBOUND", "out": "OUTBOUND"}
#: camelCase spellings of device keys -> the stored names.
_DEVICE_ALIASES = {"userAgent": "user_agent", "browserFamily": "browser_family", "browserVersion": "browser_version",
                   "osFamily": "os_family", "osVersion": "os_version", "acceptLang": "accept_language",
                   "sessionId": "session_id", "sessionAgeMs": "session_age_ms",
                   "persistentDeviceId": "persistent_device_id", "networkContext": "network_context"}
_NETWORK_ALIASES = {"ip": "ip_address", "countryCode3": "ip_country_code", "lat": "latitude", "lon": "longitude"}
#: The schema's enum spelling of each stored category (what the request check accepts).
_ENUM_SPELLING = {"travelRule": "travel_rule", "userPlatformEvent": "user_event",
                  "auditTrailEvent": "audit_trail_event", "gamblingBet": "gambling_bet",
                  "gamblingLimitChange": "gambling_limit_change", "gamblingBonusChange": "gambling_bonus_change"}


def for_schema_check(body: Any) -> Any:
    """A copy of `body` the spec's schema accepts where Didit accepts aliases (category, direction).

    An unknown category is refused here with Didit's own message.
    """
    if not isinstance(body, dict):
        return body
    checked = copy.deepcopy(body)
    raw = checked.get("transaction_category")
    if raw is not None:
        stored = category(raw)
        if stored is None:
            raise ValidationFailed({"non_field_errors": [UNSUPPORTED_CATEGORY]})
        checked["transaction_category"] = _ENUM_SPELLING.get(stored, stored)
    details = checked.get("transaction_details")
    if isinstance(details, dict) and isinstance(details.get("direction"), str):
        details["direction"] = details["direction"].strip().lower()
    subject = checked.get("subject")
    if isinstance(subject, dict) and not (_text(subject.get("vendor_data")) and _text(subject.get("full_name"))):
        raise ValidationFailed.field("subject", SUBJECT_IDENTITY)
    return checked


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def decimal_text(value: Any, field: str) -> str:
    """An amount as Didit stores it: exact, at most 18 decimal places, trailing zeros stripped."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed({"transaction_details": {field: ["A valid number is required."]}}) from None
    if not number.is_finite():
        raise ValidationFailed({"transaction_details": {field: ["A valid number is required."]}})
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > 18 and number != number.quantize(Decimal(10) ** -18):
        raise ValidationFailed({"transaction_details": {field: [
            "Ensure that there are no more than 18 decimal places."]}})
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _device(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {}
    device = {_DEVICE_ALIASES.get(k, k): copy.deepcopy(v) for k, v in raw.items()}
    network = device.get("network_context")
    if isinstance(network, dict):
        device["network_context"] = {_NETWORK_ALIASES.get(k, k): v for k, v in network.items()}
    return device


def _participant(raw: Any) -> dict[str, Any]:
    """A subject or counterparty as stored in `metadata`: as submitted, empty objects filled."""
    if not isinstance(raw, dict) or not raw:
        return {}
    party = copy.deepcopy(raw)
    if "device" in party and "device_context" not in party:
        party["device_context"] = party.pop("device")
    if str(party.get("entity_type") or "").lower() == "person":
        party["entity_type"] = "individual"
    for name in ("address", "institution_details"):
        party[name] = party.get(name) if isinstance(party.get(name), dict) else {}
    party["device_context"] = _device(party.get("device_context"))
    return party


def _party(uuid: str, role: str, party: dict[str, Any]) -> dict[str, Any]:
    entity = str(party.get("entity_type") or "individual").lower()
    method = party.get("payment_method") if isinstance(party.get("payment_method"), dict) else {}
    if role != "APPLICANT" and method.get("method_type") == "unhosted_wallet":
        entity = "unhostedWallet"
    elif entity not in ("individual", "company"):
        entity = "external"
    vendor_data = party.get("vendor_data")
    kind = "EXTERNAL" if not vendor_data or entity in ("external", "unhostedWallet") else (
        "BUSINESS" if entity == "company" else "USER")
    return {
        "uuid": uuid, "role": role, "entity_type": entity, "kind": kind, "vendor_data": vendor_data,
        "full_name": party.get("full_name"), "first_name": party.get("first_name"),
        "last_name": party.get("last_name"), "country_code": party["address"].get("country"),
        "dob": party.get("date_of_birth"), "address": party["address"],
        "institution_info": party["institution_details"], "device": party["device_context"],
        "external_party_snapshot": None if kind != "EXTERNAL" else {"full_name": party.get("full_name")},
    }


def _payment_method(uuid: str, role: str, party: dict[str, Any], owner_kind: str) -> dict[str, Any] | None:
    method = party.get("payment_method")
    if not isinstance(method, dict) or not method:
        return None
    kind = str(method.get("method_type") or "other")
    kind = {"ewallet": "e_wallet"}.get(kind, kind)
    if kind not in ("bank_card", "bank_account", "e_wallet", "crypto_wallet", "unhosted_wallet", "other"):
        kind = "other"
    account, country = method.get("account_id"), method.get("issuing_country")
    fingerprint = hashlib.sha256(f"{method.get('method_type')}:{account}:{country}".encode()).hexdigest()
    return {
        "uuid": uuid, "payment_method_type": kind, "label": account, "fingerprint": fingerprint,
        "account_id": account, "issuing_country": country, "owner_kind": owner_kind,
        "vendor_data": party.get("vendor_data"), "owner_name": party.get("full_name"),
        "institution_info": party.get("institution_details") or {}, "details": {},
        "external_owner_snapshot": None if owner_kind != "EXTERNAL" else {"full_name": party.get("full_name")},
        "role": role,
    }


def build(body: dict[str, Any], *, uuids: Any, number: int, environment: str, now: datetime) -> dict[str, Any]:
    """The stored transaction of a checked create request (`uuids()` gives each new id)."""
    details = body["transaction_details"]
    stored_category = category(body["transaction_category"]) or "finance"
    direction = _DIRECTIONS.get(str(details["direction"]).strip().lower(), "OUTBOUND")
    zone = body.get("time_zone")
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationFailed.field("time_zone", f'"{zone}" is not a valid time zone.') from None
    when = now
    if body.get("transaction_at"):
        try:
            when = parse_iso(str(body["transaction_at"]))
        except ValueError:
            raise ValidationFailed.field("transaction_at", "Datetime has wrong format.") from None
    amount = decimal_text(details["amount"], "amount")
    currency = str(details["currency"]).strip().upper()
    converted = details.get("amount_in_default_currency")
    default_code = str(details.get("default_currency") or PREFERRED_CURRENCY).upper()
    if converted is not None:
        converted = decimal_text(converted, "amount_in_default_currency")
    elif currency == default_code:
        converted = amount
    subject = _participant(body["subject"])
    counterparty = _participant(body.get("counterparty"))
    uuid = uuids()
    parties = [_party(uuids(), "APPLICANT", subject)]
    if counterparty:
        parties.append(_party(uuids(), "COUNTERPARTY", counterparty))
    methods = []
    roles = ("SOURCE", "DESTINATION") if direction == "OUTBOUND" else ("DESTINATION", "SOURCE")
    for party, role, view in zip((subject, counterparty), roles, parties + [None], strict=False):
        if party and view is not None:
            method = _payment_method(uuids(), role, party, view["kind"])
            if method is not None:
                methods.append(method)
    travel = body.get("travel_rule_details")
    snapshot = body.get("network_snapshot")
    created = iso(now)
    action = details.get("action_type") or stored_category
    return {
        "uuid": uuid, "environment": environment, "transaction_number": number, "txn_id": str(body["transaction_id"]),
        "txn_date": iso(when), "zone_id": zone, "transaction_type": stored_category, "action_type": action,
        "direction": direction, "status": "APPROVED", "source": "LIVE", "amount": amount, "currency": currency,
        "currency_type": details.get("currency_kind") or ("crypto" if currency in CRYPTO else "fiat"),
        "amount_in_default_currency": converted, "default_currency_code": default_code,
        "preferred_currency_amount": converted if default_code == PREFERRED_CURRENCY else None,
        "preferred_currency_code": PREFERRED_CURRENCY,
        "payment_details": details.get("payment_details"), "payment_txn_id": details.get("payment_reference_id"),
        "score": 0, "severity": None, "decision_reason_code": None, "decision_reason_label": None,
        "vendor_data": subject.get("vendor_data"),
        "metadata": {"subject": subject, "counterparty": counterparty},
        "props": copy.deepcopy(body.get("custom_properties") or {}),
        "tags": [], "parties": parties, "payment_methods": methods, "documents": [],
        "activities": [{"uuid": uuids(), "activity_type": "TRANSACTION_CREATED", "source": "TRANSACTION",
                        "status": "APPROVED", "title": action, "description": "Transaction recorded.",
                        "metadata": {}, "occurred_at": created}],
        "alerts": [], "rule_runs": [], "provider_results": [],
        "travel_rule": None if not isinstance(travel, dict) else {
            "uuid": uuids(), "status": travel.get("status"), "protocol": travel.get("protocol"),
            "required": bool(travel.get("required", False)),
            "obligations_count": int(travel.get("obligations_count") or 0),
            "originator_data": travel.get("originator_data") or {},
            "beneficiary_data": travel.get("beneficiary_data") or {}, "metadata": travel.get("metadata") or {}},
        "network_snapshot": None if not isinstance(snapshot, dict) else {
            "uuid": uuids(), "nodes": snapshot.get("nodes") or [], "edges": snapshot.get("edges") or [],
            "metrics": snapshot.get("metrics") or {}},
        "remediation": None, "action_required": None, "cost_breakdown": None,
        "created_at": created,
    }
