"""The rule evaluator and wallet checks, without a server: operators, groups, windows, formats."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from didit_mock.domain.errors import ValidationFailed
from didit_mock.domain.transactions import rules, wallets
from didit_mock.domain.transactions.intake import decimal_text

NOW = datetime(2026, 5, 17, 12, 0, tzinfo=timezone.utc)


def tx(amount: str = "100", vendor_data: str = "u1", at: str = "2026-05-17T11:30:00Z", **extra: object) -> dict:
    return {"amount": amount, "currency": "EUR", "direction": "OUTBOUND", "transaction_type": "finance",
            "action_type": "withdrawal", "txn_date": at, "props": extra.pop("props", {}),
            "metadata": {"subject": {"vendor_data": vendor_data, "full_name": "Maria Garcia",
                                     "address": {"country": "ESP"}}, "counterparty": {}}, **extra}


@pytest.mark.parametrize(("operator", "actual", "expected", "result"), [
    ("eq", "EUR", "eur", True), ("eq", 100.0, "100", True), ("ne", "EUR", "USD", True),
    ("gt", 100.0, 99, True), ("lte", 100.0, 100, True), ("lt", None, 5, False),
    ("in", "ESP", ["FRA", "ESP"], True), ("not_in", "ESP", "FRA,DEU", True),
    ("contains", "Maria Garcia", "garcia", True), ("not_contains", "Maria", "x", True),
    ("contains_any", "Maria Garcia", ["xx", "mar"], True), ("regex", "INV-2026", r"^INV-\d+$", True),
    ("fuzzy_match", "Maria Garcia", "Maria Garsia", True), ("fuzzy_match", "Maria", "John", False),
    ("is_empty", "", None, True), ("is_not_null", "x", None, True),
])
def test_operators(operator: str, actual: object, expected: object, result: bool) -> None:
    assert rules.compare(operator, actual, expected) is result


def test_missing_fields_exist_only_for_exists_operators() -> None:
    data = rules.facts(tx())
    missing = rules.lookup(data, "custom_values.nope")
    assert rules.compare("not_exists", missing, None) and not rules.compare("exists", missing, None)
    assert rules.compare("ne", missing, "x") and not rules.compare("eq", missing, None)


def test_groups_and_field_values() -> None:
    current = tx(props={"limit": 50})
    rule = {"conditions": [
        {"field": "amount", "operator": "gt", "value": 1000, "group_index": 0},
        {"field": "subject.address.country", "operator": "eq", "value": "ESP", "group_index": 1},
        {"field": "amount", "operator": "gt", "value": "custom_values.limit", "value_type": "field", "group_index": 1},
    ]}
    assert rules.matches(rule, current, [current], NOW)  # group 1 holds; groups are OR-ed
    rule["conditions"][1]["groups_logic"] = "AND"
    rule["conditions"][0]["groups_logic"] = "AND"
    assert not rules.matches(rule, current, [current], NOW)


def test_windows_filters_and_metrics() -> None:
    old = tx("500", at="2026-05-16T11:00:00Z")
    other = tx("900", vendor_data="u2")
    recent = [tx("100"), tx("300", at="2026-05-17T11:59:00Z")]
    history = [old, other, *recent]
    per_subject = {"subject_vendor_data": rules.CURRENT}
    assert rules.aggregate({"metric": "sum", "window": "1d", "filters": per_subject}, recent[1], history, NOW) == 400
    assert rules.aggregate({"metric": "count", "window": "2d", "filters": per_subject}, recent[1], history, NOW) == 3
    assert rules.aggregate({"metric": "max", "window": "24h"}, recent[1], history, NOW) == 900
    assert rules.aggregate({"metric": "distinct_count", "field": "subject_vendor_data", "window": "1w"},
                           recent[1], history, NOW) == 2
    assert rules.window_seconds("30m") == 1800 and rules.window_seconds("7") == 7 * 86400


def test_scope() -> None:
    rule = {"scope": {"transaction_types": ["gambling_bet"], "directions": ["outbound"]},
            "conditions": [{"field": "amount", "operator": "gt", "value": 0}]}
    assert not rules.matches(rule, tx(), [tx()], NOW)
    bet = tx(transaction_type="gamblingBet")
    assert rules.matches(rule, bet, [bet], NOW)


@pytest.mark.parametrize(("address", "chain"), [
    ("0x28c6c06298d514db089934071355e5743bf21d60", "eth"), ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "BTC"),
    ("1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "BTC"), ("TJRabPrwbZy45sbavfcjinPJC18kjpRTv8", "TRX"),
    ("rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh", "XRP"), ("DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L", "DOGE"),
    ("7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV", "SOL"), ("TJRabPrwbZy45sbavfcjinPJC18kjpRTv8", "USDT"),
])
def test_valid_addresses(address: str, chain: str) -> None:
    assert wallets.check_address(address, chain) == (address, chain.upper())


@pytest.mark.parametrize(("address", "chain"), [
    ("0x28c6c06298d514db089934071355e5743bf21d6", "ETH"), ("0x28c6", "BNB"), ("bc1", "BTC"),
    ("TJRabPrwbZy45sbavfcjinPJC18kjpRTv8", "ETH"), ("1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "LIGHTNING"),
])
def test_invalid_addresses(address: str, chain: str) -> None:
    with pytest.raises(ValidationFailed):
        wallets.check_address(address, chain)


def test_signatures_are_per_application() -> None:
    first = wallets.screen("secret-a", "0x28c6c06298d514db089934071355e5743bf21d60", "ETH")
    assert wallets.verified("secret-a", first)["risk_score"] == 72
    with pytest.raises(ValidationFailed):
        wallets.verified("secret-b", first)


@pytest.mark.parametrize(("raw", "text"), [("10.00", "10"), (1500, "1500"), ("0.50", "0.5"),
                                           ("0.123456789012345678", "0.123456789012345678"), ("1E+3", "1000")])
def test_amounts_are_exact(raw: object, text: str) -> None:
    assert decimal_text(raw, "amount") == text


def test_too_many_decimals_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        decimal_text("0.1234567890123456789", "amount")
