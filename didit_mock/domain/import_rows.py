"""The canonical import files: each import type's columns, reading CSV and NDJSON, checking one row.

Didit documents only that a session template starts with the idempotency key `external_id`; the
other columns are the mock's (docs/imports.md lists them). A row is a `dict` of strings (CSV) or
JSON values (NDJSON); `check_row` answers the row's values or the first problem, worded as Didit
words its row errors (`status: invalid value 'unknown_status'`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from . import statuses as st

USER_VERIFICATION = "user_verification"
BUSINESS_VERIFICATION = "business_verification"
STATUS_RULES = "status_rules"
TRANSACTIONS = "transactions"
IMPORT_TYPES = (USER_VERIFICATION, BUSINESS_VERIFICATION, STATUS_RULES, TRANSACTIONS)
#: Import types whose rows become sessions (and users or businesses).
SESSION_TYPES = (USER_VERIFICATION, BUSINESS_VERIFICATION)
#: Import types the mock reads rows of (status rules are not emulated).
ROW_TYPES = (*SESSION_TYPES, TRANSACTIONS)
FORMATS = ("csv", "ndjson")

COLUMNS: dict[str, tuple[str, ...]] = {
    USER_VERIFICATION: (
        "external_id", "vendor_data", "status", "created_at", "first_name", "last_name", "date_of_birth",
        "document_type", "document_number", "issuing_state", "nationality", "email", "phone",
    ),
    BUSINESS_VERIFICATION: (
        "external_id", "vendor_data", "status", "created_at", "legal_name", "registration_number", "country_code",
    ),
    STATUS_RULES: ("status_key", "label", "base_status", "description"),
    TRANSACTIONS: (
        "external_id", "vendor_data", "direction", "amount", "currency", "created_at", "counterparty_name",
    ),
}
#: Didit's canonical session statuses of an imported row.
ROW_STATUSES = (st.APPROVED, st.DECLINED, st.IN_REVIEW, st.EXPIRED)
DOCUMENT_TYPES = ("P", "ID", "DL", "RP")
_DOCUMENT_TYPE = re.compile(f"^({'|'.join(DOCUMENT_TYPES)})$")
_ALPHA3 = re.compile(r"^[A-Z]{3}$")
_ALPHA2 = re.compile(r"^[A-Z]{2}$")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class FileProblem(Exception):
    """The whole file cannot be read (the job fails with this as its `last_error`)."""


@dataclass(frozen=True)
class RawRow:
    """One data row as read: its number (the first data row is 1) and its fields."""

    number: int
    fields: dict[str, Any]
    #: Set when the line itself cannot be read (NDJSON that is not a JSON object).
    problem: str | None = None


def template(import_type: str) -> str:
    """The CSV header of an import type."""
    return ",".join(COLUMNS[import_type]) + "\r\n"


def infer_format(name: str) -> str | None:
    """`csv` or `ndjson` from a file name or URL path, or None."""
    lowered = name.lower().rsplit("?", 1)[0]
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".ndjson", ".jsonl")):
        return "ndjson"
    return None


def read_rows(text: str, source_format: str, import_type: str) -> list[RawRow]:
    """The data rows of a file (blank lines skipped); `FileProblem` when it has no usable header or rows."""
    rows = _read_csv(text, import_type) if source_format == "csv" else _read_ndjson(text)
    if not rows:
        raise FileProblem("The import file has no data rows.")
    return rows


def _read_csv(text: str, import_type: str) -> list[RawRow]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None:
        raise FileProblem("The import file is empty.")
    names = [h.strip() for h in header]
    first = COLUMNS[import_type][0]
    if first not in names:
        raise FileProblem(f"Missing required column: {first}.")
    rows = []
    number = 0
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        number += 1
        fields = {name: values[i].strip() if i < len(values) else "" for i, name in enumerate(names) if name}
        rows.append(RawRow(number, fields))
    return rows


def _read_ndjson(text: str) -> list[RawRow]:
    rows = []
    number = 0
    for line in text.lstrip("\ufeff").splitlines():
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line)
        except ValueError:
            rows.append(RawRow(number, {}, "row: invalid JSON"))
            continue
        if not isinstance(value, dict):
            rows.append(RawRow(number, {}, "row: a JSON object is expected"))
            continue
        rows.append(RawRow(number, value))
    return rows


# ---------------------------------------------------------------- checking one row

class RowProblem(Exception):
    """A row that cannot be imported; the message is the row error's `error`."""


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if isinstance(value, (dict, list, bool)):
        raise RowProblem(f"{name}: invalid value {json.dumps(value)}")
    return str(value).strip()


def _required(fields: dict[str, Any], name: str) -> str:
    value = _text(fields, name)
    if not value:
        raise RowProblem(f"{name}: this field is required")
    return value


def _optional(fields: dict[str, Any], name: str, pattern: re.Pattern[str] | None = None,
              upper: bool = False) -> str | None:
    value = _text(fields, name)
    if not value:
        return None
    if upper:
        value = value.upper()
    if pattern is not None and not pattern.match(value):
        raise RowProblem(f"{name}: invalid value '{value}'")
    return value


def _date(fields: dict[str, Any], name: str) -> str | None:
    value = _text(fields, name)
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise RowProblem(f"{name}: invalid date '{value}' (use YYYY-MM-DD)") from None


def _instant(fields: dict[str, Any], name: str) -> float | None:
    value = _text(fields, name)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RowProblem(f"{name}: invalid date-time '{value}' (use ISO 8601)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _status(fields: dict[str, Any]) -> str:
    value = _required(fields, "status")
    for status in ROW_STATUSES:
        if value.casefold() == status.casefold():
            return status
    raise RowProblem(f"status: invalid value '{value}'")


def check_row(import_type: str, fields: dict[str, Any], now: float) -> dict[str, Any]:
    """The checked values of a session row (user or business verification), or `RowProblem`."""
    values: dict[str, Any] = {
        "external_id": _required(fields, "external_id"),
        "vendor_data": _optional(fields, "vendor_data"),
        "status": _status(fields),
    }
    created = _instant(fields, "created_at")
    if created is not None and created > now:
        raise RowProblem(f"created_at: '{_text(fields, 'created_at')}' is in the future")
    values["created_at"] = created
    if import_type == USER_VERIFICATION:
        values.update({
            "first_name": _optional(fields, "first_name"), "last_name": _optional(fields, "last_name"),
            "date_of_birth": _date(fields, "date_of_birth"),
            "document_type": _optional(fields, "document_type", _DOCUMENT_TYPE, upper=True),
            "document_number": _optional(fields, "document_number"),
            "issuing_state": _optional(fields, "issuing_state", _ALPHA3, upper=True),
            "nationality": _optional(fields, "nationality", _ALPHA3, upper=True),
            "email": _optional(fields, "email", _EMAIL), "phone": _optional(fields, "phone", _PHONE),
        })
    else:
        values.update({
            "legal_name": _optional(fields, "legal_name"),
            "registration_number": _optional(fields, "registration_number"),
            "country_code": _optional(fields, "country_code", _ALPHA2, upper=True),
        })
    return values


_CURRENCY = re.compile(r"^[A-Z0-9]{3,10}$")


def check_transaction_row(fields: dict[str, Any], now: float) -> dict[str, Any]:
    """The checked values of a transactions row, or `RowProblem`."""
    values: dict[str, Any] = {"external_id": _required(fields, "external_id")}
    if len(values["external_id"]) > 128:
        raise RowProblem("external_id: at most 128 characters")
    values["vendor_data"] = _required(fields, "vendor_data")
    direction = _required(fields, "direction").lower()
    if direction not in ("inbound", "outbound"):
        raise RowProblem(f"direction: invalid value '{_text(fields, 'direction')}'")
    values["direction"] = direction
    raw_amount = _required(fields, "amount")
    try:
        amount = float(raw_amount)
    except ValueError:
        amount = float("nan")
    if not amount > 0 or amount == float("inf"):
        raise RowProblem(f"amount: invalid value '{raw_amount}'")
    values["amount"] = amount
    currency = _required(fields, "currency").upper()
    if not _CURRENCY.match(currency):
        raise RowProblem(f"currency: invalid value '{_text(fields, 'currency')}'")
    values["currency"] = currency
    created = _instant(fields, "created_at")
    if created is not None and created > now:
        raise RowProblem(f"created_at: '{_text(fields, 'created_at')}' is in the future")
    values["created_at"] = created
    values["counterparty_name"] = _optional(fields, "counterparty_name")
    return values


def raw_row(fields: dict[str, Any]) -> dict[str, Any]:
    """The row as the errors list shows it (JSON values kept)."""
    return {str(k): v for k, v in fields.items()}
