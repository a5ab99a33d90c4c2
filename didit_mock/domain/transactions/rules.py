"""Transaction rules as data: conditions, aggregations over past transactions, and their actions.

A rule (the document of `/v3/transactions/rules/`) matches a transaction when its scope admits it
and its conditions and aggregations hold (`evaluation_mode` ALL or ANY; conditions that carry a
`group_index` form groups joined by `group_logic` inside and `groups_logic` between them).
Fields are dotted paths of `facts(transaction)`: `amount`, `currency`, `direction`,
`transaction_type`, `subject.vendor_data`, `custom_values.<key>`...
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from ..clock import parse_iso

_MISSING = object()
#: What `lookup` answers for a field the data does not have.
MISSING = _MISSING
CURRENT = "__current__"
_WINDOW = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "": 86400}
#: Category spellings accepted on requests and rule scopes -> the stored (echoed) value.
CATEGORIES = {
    "finance": "finance", "kyc": "kyc",
    "travel_rule": "travelRule", "travelrule": "travelRule",
    "user_event": "userPlatformEvent", "userplatformevent": "userPlatformEvent",
    "user_platform_event": "userPlatformEvent",
    "audit_trail_event": "auditTrailEvent", "audittrailevent": "auditTrailEvent",
    "gambling_bet": "gamblingBet", "gamblingbet": "gamblingBet",
    "gambling_limit_change": "gamblingLimitChange", "gamblinglimitchange": "gamblingLimitChange",
    "gambling_bonus_change": "gamblingBonusChange", "gamblingbonuschange": "gamblingBonusChange",
}


def category(value: Any) -> str | None:
    """The stored spelling of a transaction category, or None when it is not one."""
    return CATEGORIES.get(str(value).strip().lower()) if isinstance(value, str) else None


def facts(transaction: dict[str, Any]) -> dict[str, Any]:
    """What rule fields and aggregation filters read from a stored transaction."""
    meta = transaction.get("metadata") or {}
    subject = meta.get("subject") or {}
    counterparty = meta.get("counterparty") or {}
    return {
        "amount": _number(transaction.get("amount")),
        "amount_in_default_currency": _number(transaction.get("amount_in_default_currency")),
        "currency": transaction.get("currency"),
        "currency_type": transaction.get("currency_type"),
        "direction": transaction.get("direction"),
        "transaction_type": transaction.get("transaction_type"),
        "action_type": transaction.get("action_type"),
        "txn_id": transaction.get("txn_id"),
        "payment_details": transaction.get("payment_details"),
        "payment_txn_id": transaction.get("payment_txn_id"),
        "score": transaction.get("score"),
        "subject": subject,
        "counterparty": counterparty,
        "subject_vendor_data": subject.get("vendor_data"),
        "subject_name": subject.get("full_name"),
        "subject_country": (subject.get("address") or {}).get("country"),
        "counterparty_vendor_data": counterparty.get("vendor_data"),
        "counterparty_name": counterparty.get("full_name"),
        "counterparty_country": (counterparty.get("address") or {}).get("country"),
        "custom_values": transaction.get("props") or {},
        "props": transaction.get("props") or {},
    }


def lookup(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in str(path).split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _equal(left: Any, right: Any) -> bool:
    a, b = _number(left), _number(right)
    if a is not None and b is not None and not isinstance(left, str) and not isinstance(right, str):
        return a == b
    if a is not None and b is not None and (isinstance(left, (int, float)) or isinstance(right, (int, float))):
        return a == b
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    return bool(left == right)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [value]


def compare(operator: str, actual: Any, expected: Any) -> bool:
    """Whether `actual` (`_MISSING` when the field is absent) satisfies `operator expected`."""
    present = actual is not _MISSING
    value = actual if present else None
    if operator == "exists":
        return present
    if operator == "not_exists":
        return not present
    if operator == "is_null":
        return value is None
    if operator == "is_not_null":
        return value is not None
    if operator in ("is_empty", "is_not_empty"):
        empty = value in (None, "", [], {})
        return empty if operator == "is_empty" else not empty
    if operator == "eq":
        return present and _equal(value, expected)
    if operator == "ne":
        return not (present and _equal(value, expected))
    if operator in ("gt", "gte", "lt", "lte"):
        a, b = _number(value), _number(expected)
        if a is None or b is None:
            return False
        return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[operator]
    if operator in ("in", "not_in"):
        inside = present and any(_equal(value, item) for item in _as_list(expected))
        return inside if operator == "in" else not inside
    if operator in ("contains", "not_contains"):
        found = _contains(value, expected)
        return found if operator == "contains" else not found
    if operator == "contains_any":
        return any(_contains(value, item) for item in _as_list(expected))
    if operator == "regex":
        try:
            return value is not None and re.search(str(expected), str(value)) is not None
        except re.error:
            return False
    if operator == "fuzzy_match":
        if value is None or expected is None:
            return False
        return difflib.SequenceMatcher(None, str(value).casefold(), str(expected).casefold()).ratio() >= 0.8
    return False


def _contains(value: Any, item: Any) -> bool:
    if isinstance(value, list):
        return any(_equal(element, item) for element in value)
    if isinstance(value, dict):
        return str(item) in value
    return value is not None and str(item).casefold() in str(value).casefold()


def condition_holds(condition: dict[str, Any], data: dict[str, Any]) -> bool:
    expected = condition.get("value")
    if condition.get("value_type") == "field" and isinstance(expected, str):
        found = lookup(data, expected)
        expected = None if found is _MISSING else found
    return compare(str(condition.get("operator") or "eq"), lookup(data, str(condition.get("field") or "")), expected)


def window_seconds(window: Any) -> float | None:
    """`"1d"`, `"24h"`, `"30m"`, `"2w"`, `"90s"` (a bare number is days); None for no window."""
    if window in (None, ""):
        return None
    match = _WINDOW.match(str(window))
    if match is None:
        return None
    return int(match.group(1)) * _UNITS[match.group(2)]


def txn_time(transaction: dict[str, Any]) -> datetime:
    return parse_iso(str(transaction["txn_date"]))


def aggregate(spec: dict[str, Any], current: dict[str, Any], history: Iterable[dict[str, Any]],
              now: datetime) -> float:
    """The metric of `spec` over the transactions of `history` that its window and filters admit."""
    current_facts = facts(current)
    seconds = window_seconds(spec.get("window"))
    start = None if seconds is None else now - timedelta(seconds=seconds)
    filters = spec.get("filters") if isinstance(spec.get("filters"), dict) else {}
    values: list[Any] = []
    field = str(spec.get("field") or "amount")
    for transaction in history:
        when = txn_time(transaction)
        if when > now or (start is not None and when < start):
            continue
        data = facts(transaction)
        if not all(_filter_admits(data, name, wanted, current_facts) for name, wanted in filters.items()):
            continue
        values.append(lookup(data, field))
    metric = str(spec.get("metric") or "count")
    if metric == "count":
        return float(len(values))
    if metric == "distinct_count":
        return float(len({repr(v) for v in values if v is not _MISSING and v is not None}))
    numbers = [n for n in (_number(v) for v in values if v is not _MISSING) if n is not None]
    if not numbers:
        return 0.0
    if metric == "sum":
        return sum(numbers)
    if metric == "max":
        return max(numbers)
    if metric == "min":
        return min(numbers)
    return sum(numbers) / len(numbers)  # avg


def _filter_admits(data: dict[str, Any], name: str, wanted: Any, current: dict[str, Any]) -> bool:
    actual = lookup(data, name)
    if wanted == CURRENT:
        wanted = lookup(current, name)
        if wanted is _MISSING:
            return False
    if name == "transaction_type":
        wanted = category(wanted) or wanted
    if isinstance(wanted, list):
        return compare("in", actual, wanted)
    return compare("eq", actual, wanted)


def in_scope(rule: dict[str, Any], transaction: dict[str, Any]) -> bool:
    scope = rule.get("scope") if isinstance(rule.get("scope"), dict) else {}
    types = [category(t) or t for t in scope.get("transaction_types") or []]
    if types and transaction.get("transaction_type") not in types:
        return False
    directions = [str(d).upper() for d in scope.get("directions") or []]
    if directions and transaction.get("direction") not in directions:
        return False
    actions = [str(a).casefold() for a in scope.get("action_types") or []]
    return not actions or str(transaction.get("action_type") or "").casefold() in actions


def matches(rule: dict[str, Any], transaction: dict[str, Any], history: list[dict[str, Any]],
            now: datetime) -> bool:
    """Whether `rule` fires on `transaction` (`history`: the tenant's transactions, it included)."""
    if not in_scope(rule, transaction):
        return False
    data = facts(transaction)
    conditions = [c for c in rule.get("conditions") or [] if isinstance(c, dict)]
    aggregations = [a for a in rule.get("aggregation") or [] if isinstance(a, dict)]
    checks: list[bool] = []
    if any("group_index" in c for c in conditions):
        checks.append(_groups_hold(conditions, data))
    else:
        checks.extend(condition_holds(c, data) for c in conditions)
    for spec in aggregations:
        metric = aggregate(spec, transaction, history, now)
        checks.append(compare(str(spec.get("operator") or "gte"), metric, spec.get("value")))
    if not checks:
        return False
    return any(checks) if str(rule.get("evaluation_mode") or "ALL").upper() == "ANY" else all(checks)


def _groups_hold(conditions: list[dict[str, Any]], data: dict[str, Any]) -> bool:
    groups: dict[int, list[dict[str, Any]]] = {}
    for condition in conditions:
        groups.setdefault(int(condition.get("group_index") or 0), []).append(condition)
    results = []
    between = "OR"
    for index in sorted(groups):
        members = groups[index]
        inside = str(members[0].get("group_logic") or "AND").upper()
        between = str(members[0].get("groups_logic") or between).upper()
        held = [condition_holds(c, data) for c in members]
        results.append(any(held) if inside == "OR" else all(held))
    return all(results) if between == "AND" else any(results)
