"""update-data and update-poa-data: validating corrections and answering the current record.

Corrections are stored through `domain.sessions.update_data` as overrides of the feature's
decision item; `extra_fields` and the structured address are stored as per-key override maps
(a `None` value removes the key from the merged view), so a later `null` can clear them again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..domain import sessions as domain
from ..domain import statuses as st
from ..domain.errors import NotFound, ValidationFailed, not_a_dictionary
from ..domain.events import DATA_UPDATED, DomainEvent
from ..domain.sessions import Session
from ..domain.tenant import Tenant

ADDRESS_KEYS = ("address_type", "city", "region", "street_1", "street_2", "postal_code", "country")
UNSUPPORTED_ADDRESS_KEY = "Unsupported key. Allowed keys: " + ", ".join(ADDRESS_KEYS)
DATE_FORMAT_ERROR = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

KYC_DOCUMENT_TYPES = ("P", "DL", "ID", "RP", "SSC", "HIC", "WP", "TC", "VISA", "PSC", "BC", "OTHER")
KYC_DOCUMENT_ALIASES = {"Passport": "P", "Identity Card": "ID", "Driver's License": "DL", "Residence Permit": "RP",
                        "Health Insurance Card": "HIC", "Tax Card": "TC"}
POA_DOCUMENT_TYPES = ("UTILITY_BILL", "BANK_STATEMENT", "GOVERNMENT_ISSUED_DOCUMENT", "OTHER_POA_DOCUMENT", "UNKNOWN")
POA_KNOWN_EXTRAS = ("bank_account_number", "bank_iban", "bank_sort_code", "bank_routing_number", "bank_swift_bic",
                    "bank_branch_name", "bank_branch_address", "document_phone_number", "additional_names")


@dataclass(frozen=True)
class RecordKind:
    """Which record an endpoint corrects: the decision feature, its array and its field list."""

    feature: str
    array: str
    label: str  # "KYC" or "POA", as in "The session does not have a KYC."
    address_field: str
    fields: tuple[str, ...]
    strings: dict[str, int | None]
    dates: tuple[str, ...]


KYC = RecordKind(
    feature="ID_VERIFICATION", array="id_verifications", label="KYC", address_field="parsed_address",
    fields=("document_type", "document_subtype", "document_number", "personal_number", "date_of_birth",
            "date_of_issue", "expiration_date", "issuing_state", "first_name", "last_name", "gender", "address",
            "place_of_birth", "nationality", "marital_status", "extra_fields", "parsed_address"),
    strings={"document_subtype": 128, "document_number": 255, "personal_number": 255, "first_name": 255,
             "last_name": 255, "address": 255, "place_of_birth": 255, "nationality": 32},
    dates=("date_of_birth", "date_of_issue", "expiration_date"),
)
POA = RecordKind(
    feature="POA", array="poa_verifications", label="POA", address_field="poa_parsed_address",
    fields=("issuing_state", "document_type", "document_language", "issuer", "issue_date", "poa_address",
            "name_on_document", "extra_fields", "poa_parsed_address", "poa_formatted_address"),
    strings={"document_language": 50, "issuer": 255, "name_on_document": 255, "poa_address": None},
    dates=("issue_date",),
)


# ---------------------------------------------------------------- countries

def _alpha3_codes() -> frozenset[str]:
    from faker.providers.address import Provider

    from ..domain.people import COUNTRIES

    return frozenset(Provider.alpha_3_country_codes) | frozenset(COUNTRIES) | {"PRI", "MAC", "XKX"}


def _alpha2_codes() -> frozenset[str]:
    from faker.providers.address import Provider

    from ..domain.people import COUNTRIES

    return frozenset(Provider.alpha_2_country_codes) | {c.alpha2 for c in COUNTRIES.values()} | {"PR", "MO", "XK"}


# ---------------------------------------------------------------- finding the record

def require_record(session: Session, kind: RecordKind, node_id: Any) -> None:
    """404 unless the session ran the feature (and, when given, at that workflow node)."""
    from ..domain.decision.layout import node_id_for

    if not session.outcomes or kind.feature not in session.outcomes:
        raise NotFound(f"The session does not have a {kind.label}.")
    if node_id not in (None, "") and str(node_id) != node_id_for(kind.feature):
        raise NotFound(f"The session does not have a {kind.label} for node '{node_id}'.")


def _item(kind: RecordKind, decision: dict[str, Any]) -> dict[str, Any]:
    items = decision.get(kind.array)
    return dict(items[-1]) if isinstance(items, list) and items and isinstance(items[-1], dict) else {}


def current_record(kind: RecordKind, decision: dict[str, Any], session: Session) -> dict[str, Any]:
    """The full current record (every updatable field), from the decision item and the stored fixes."""
    item = _item(kind, decision)
    overrides = session.data_overrides.get(kind.feature, {})
    for key, value in overrides.items():  # imported sessions render the source's data: show the fixes
        if key in kind.fields and not isinstance(value, dict):
            item[key] = value
    return _kyc_record(item, overrides) if kind is KYC else _poa_record(item, overrides)


def _address_view(current: Any, overrides: dict[str, Any] | None) -> dict[str, Any] | None:
    merged = {k: v for k, v in (current or {}).items() if k in (*ADDRESS_KEYS, "formatted_address")}
    merged.update(overrides or {})
    shown = {k: v for k, v in merged.items() if v is not None}
    if not shown:
        return None
    shown["formatted_address"] = merged.get("formatted_address") or _formatted(merged)
    return shown


def _extras_view(current: Any, overrides: dict[str, Any] | None) -> dict[str, Any]:
    merged = dict(current or {})
    merged.update(overrides or {})
    removed = {k for k, v in (overrides or {}).items() if v is None}
    return {k: v for k, v in merged.items() if k not in removed}


def _kyc_record(item: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    from ..domain.people import DOCUMENT_CODES

    document_type = item.get("document_type")
    if document_type is not None:
        document_type = DOCUMENT_CODES.get(document_type, document_type)
        if document_type not in KYC_DOCUMENT_TYPES:
            document_type = "OTHER"
    gender = item.get("gender")
    marital = item.get("marital_status")
    return {
        "document_type": document_type,
        "document_subtype": item.get("document_subtype"),
        "document_number": item.get("document_number"),
        "personal_number": item.get("personal_number"),
        "date_of_birth": item.get("date_of_birth"),
        "date_of_issue": item.get("date_of_issue"),
        "expiration_date": item.get("expiration_date"),
        "issuing_state": item.get("issuing_state"),
        "first_name": item.get("first_name"),
        "last_name": item.get("last_name"),
        "gender": gender if gender in ("M", "F", "U") else None if gender is None else "U",
        "address": item.get("address"),
        "place_of_birth": item.get("place_of_birth"),
        "nationality": item.get("nationality"),
        "marital_status": marital if marital in ("SINGLE", "MARRIED", "DIVORCED", "WIDOWED") else "UNKNOWN",
        "extra_fields": _extras_view(item.get("extra_fields"), overrides.get("extra_fields")),
        "parsed_address": _address_view(item.get("parsed_address"), overrides.get("parsed_address")),
    }


def _poa_record(item: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    from ..domain.people import country

    issuing = item.get("issuing_state")
    if isinstance(issuing, str) and len(issuing) == 2:
        issuing = country(issuing).alpha3
    document_type = item.get("document_type")
    extras = _extras_view(item.get("extra_fields"), overrides.get("extra_fields"))
    for key in POA_KNOWN_EXTRAS:
        extras.setdefault(key, [] if key == "additional_names" else None)
    if extras.get("additional_names") is None:
        extras["additional_names"] = []
    address = _address_view(item.get("poa_parsed_address"), overrides.get("poa_parsed_address"))
    return {
        "issuing_state": issuing,
        "document_type": document_type if document_type in POA_DOCUMENT_TYPES else "UNKNOWN",
        "document_language": item.get("document_language"),
        "issuer": item.get("issuer"),
        "issue_date": item.get("issue_date"),
        "poa_address": item.get("poa_address"),
        "name_on_document": item.get("name_on_document"),
        "extra_fields": extras,
        "poa_parsed_address": address,
        "poa_formatted_address": (address or {}).get("formatted_address", item.get("poa_formatted_address")),
    }


def _formatted(address: dict[str, Any]) -> str | None:
    parts = [address.get(k) for k in ("street_1", "street_2", "city", "region", "postal_code", "country")]
    text = ", ".join(str(p) for p in parts if p not in (None, ""))
    return text or None


# ---------------------------------------------------------------- validation

def validate_changes(kind: RecordKind, raw: Any) -> dict[str, Any]:
    """The overrides a PATCH body asks for, validated in DRF's words (every field error at once)."""
    if not isinstance(raw, dict):
        raise not_a_dictionary(raw)
    errors: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    for name in kind.fields:
        if name not in raw or name == "poa_formatted_address":
            continue
        value = raw[name]
        try:
            if name in kind.strings:
                changes[name] = _string(value, kind.strings[name])
            elif name in kind.dates:
                changes[name] = _date(value)
            elif name == "issuing_state":
                changes[name] = _issuing_state(value, kind)
            elif name == "document_type":
                changes[name] = _document_type(value, kind)
            elif name == "gender":
                changes[name] = _choice(value, ("M", "F", "U"), nullable=True)
            elif name == "marital_status":
                changes[name] = _choice(value, ("SINGLE", "MARRIED", "DIVORCED", "WIDOWED", "UNKNOWN"), nullable=False)
            elif name == "extra_fields":
                changes[name] = _extra_fields(value, kind)
            elif name == kind.address_field:
                changes[name] = _address(value)
        except _FieldError as exc:
            errors[name] = exc.body
    if errors:
        raise ValidationFailed(errors)
    return changes


class _FieldError(Exception):
    def __init__(self, body: Any):
        super().__init__(body)
        self.body = body


def _string(value: Any, max_length: int | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _FieldError(["Not a valid string."])
    text = str(value)
    if max_length is not None and len(text) > max_length:
        raise _FieldError([f"Ensure this field has no more than {max_length} characters."])
    return text


def _date(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE.match(value.strip()):
        raise _FieldError([DATE_FORMAT_ERROR])
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise _FieldError([DATE_FORMAT_ERROR]) from None


def _choice(value: Any, choices: tuple[str, ...], *, nullable: bool) -> str | None:
    if value is None:
        if nullable:
            return None
        raise _FieldError(["This field may not be null."])
    if not isinstance(value, str) or value not in choices:
        raise _FieldError([f'"{value}" is not a valid choice.'])
    return value


def _document_type(value: Any, kind: RecordKind) -> str | None:
    if kind is KYC:
        value = KYC_DOCUMENT_ALIASES.get(value, value) if isinstance(value, str) else value
        return _choice(value, KYC_DOCUMENT_TYPES, nullable=True)
    return _choice(value, POA_DOCUMENT_TYPES, nullable=False)


def _issuing_state(value: Any, kind: RecordKind) -> str | None:
    if value is None:
        return None
    code = value.strip().upper() if isinstance(value, str) else ""
    if code not in _alpha3_codes():
        raise _FieldError(["Invalid ISO 3166-1 alpha-3 country code for issuing_state."])
    if kind is POA:  # the POA item shows alpha-2, as the decision does
        from ..domain.people import COUNTRIES

        known = COUNTRIES.get(code)
        return known.alpha2 if known is not None else code
    return code


def _extra_fields(value: Any, kind: RecordKind) -> dict[str, Any] | None:
    """Per-key overrides: a value sets the key, null or "" removes it; None (clear them all) for null."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _FieldError(["This field must be a JSON object."])
    if kind is POA and "additional_names" in value:
        names = value["additional_names"]
        if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise _FieldError({"additional_names": "Must be a list or null."})
    return {str(k): (None if v in (None, "") else v) for k, v in value.items()}


def _address(value: Any) -> dict[str, Any] | None:
    """Per-key address fixes (null removes a key); None (clear them all) for null."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _FieldError(["This field must be a JSON object."])
    errors: dict[str, str] = {}
    address: dict[str, Any] = {}
    for key, item in value.items():
        if key not in ADDRESS_KEYS:
            errors[str(key)] = UNSUPPORTED_ADDRESS_KEY
            continue
        if item is not None and not isinstance(item, str):
            errors[key] = "Not a valid string."
            continue
        if key == "country" and item is not None:
            item = item.strip().upper()
            if item not in _alpha2_codes():
                errors[key] = "Invalid ISO 3166-1 alpha-2 country code."
                continue
        address[key] = item
    if errors:
        raise _FieldError(errors)
    return address


# ---------------------------------------------------------------- applying

def merge_overrides(kind: RecordKind, session: Session, changes: dict[str, Any]) -> dict[str, Any]:
    """Turn per-request changes into the overrides to store (accumulating per-key maps)."""
    stored = session.data_overrides.get(kind.feature, {})
    merged = dict(changes)
    for name in ("extra_fields", kind.address_field):
        if name in changes:
            fixes = changes[name]
            merged[name] = {} if fixes is None else {**stored.get(name, {}), **fixes}
    return merged


def apply_changes(tenant: Tenant, session: Session, kind: RecordKind, changes: dict[str, Any],
                  current: dict[str, Any]) -> None:
    """Store the corrections; KYC fires `data.updated` for any valid field, POA only on a real change."""
    if not changes:
        return
    overrides = merge_overrides(kind, session, changes)
    if kind.address_field in overrides:
        address = dict(overrides[kind.address_field])
        if address:
            base = dict(current.get(kind.address_field) or {})
            base.pop("formatted_address", None)
            view = {**base, **address}
            address["formatted_address"] = _formatted({k: v for k, v in view.items() if v is not None})
        overrides[kind.address_field] = address
        if kind is POA:
            overrides["poa_formatted_address"] = address.get("formatted_address") or current.get(
                "poa_formatted_address")
    changed = domain.update_data(tenant, session, kind.feature, overrides)
    if not changed and kind is KYC:
        now = tenant.clock.timestamp()
        tenant.events.emit(DomainEvent(DATA_UPDATED, "session", session.session_id, session.status, now))
    if changed and kind is KYC and "expiration_date" in changes and session.status == st.APPROVED:
        domain._schedule_document_expiry(tenant, session)
