"""The preset rule library (`/v3/transactions/rules/library/`): rules as data, by library key.

Didit's library holds 150+ presets; the mock carries a representative few per bundle, each a
working rule for the evaluator (conditions, aggregations per subject on the tenant clock).
"""

from __future__ import annotations

import copy
from typing import Any

PER_SUBJECT = {"subject_vendor_data": "__current__"}


def _preset(key: str, title: str, description: str, category: str, bundle: str, *, mode: str = "ACTIVE",
            conditions: list[dict[str, Any]] | None = None, aggregation: list[dict[str, Any]] | None = None,
            actions: list[dict[str, Any]], scope: dict[str, Any] | None = None, evaluation_mode: str = "ALL",
            severity: str = "MEDIUM", tags: tuple[str, ...] = (), industries: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "library_key": key, "title": title, "description": description, "category": category,
        "evaluation_mode": evaluation_mode,
        "scope": {"transaction_types": [], "directions": [], "action_types": [], **(scope or {})},
        "conditions": conditions or [], "aggregation": aggregation or [], "actions": actions,
        "metadata": {"default_mode": mode, "severity": severity}, "bundle": bundle, "tags": list(tags),
        "industries": list(industries), "source": "PRESET",
    }


PRESETS: tuple[dict[str, Any], ...] = (
    _preset("large-transaction", "Large transaction", "A single transaction of 10,000 or more.", "finance",
            "finance", conditions=[{"field": "amount", "operator": "gte", "value": 10000}],
            actions=[{"type": "add_score", "value": 40}], tags=("threshold",), industries=("fintech", "banking")),
    _preset("structuring-inbound", "Structuring - inbound",
            "20+ inbound transfers under 10,000 from one subject in 30 days.", "aml_ctf", "aml_ctf",
            scope={"directions": ["INBOUND"]},
            conditions=[{"field": "amount", "operator": "lt", "value": 10000}],
            aggregation=[{"metric": "count", "operator": "gte", "value": 20, "window": "30d",
                          "filters": {**PER_SUBJECT, "direction": "INBOUND"}}],
            actions=[{"type": "add_score", "value": 35}], tags=("structuring",)),
    _preset("structuring-outbound", "Structuring - outbound",
            "20+ outbound transfers under 10,000 from one subject in 30 days.", "aml_ctf", "aml_ctf",
            scope={"directions": ["OUTBOUND"]},
            conditions=[{"field": "amount", "operator": "lt", "value": 10000}],
            aggregation=[{"metric": "count", "operator": "gte", "value": 20, "window": "30d",
                          "filters": {**PER_SUBJECT, "direction": "OUTBOUND"}}],
            actions=[{"type": "add_score", "value": 35}], tags=("structuring",)),
    _preset("velocity-24h", "High velocity - 24 hours", "10 or more transactions from one subject in a day.",
            "finance", "finance",
            aggregation=[{"metric": "count", "operator": "gte", "value": 10, "window": "1d", "filters": PER_SUBJECT}],
            actions=[{"type": "add_score", "value": 30}], tags=("velocity",)),
    _preset("daily-volume-50k", "Daily volume above 50,000", "One subject moves 50,000 or more in a day.",
            "finance", "finance",
            aggregation=[{"metric": "sum", "field": "amount", "operator": "gte", "value": 50000, "window": "1d",
                          "filters": PER_SUBJECT}],
            actions=[{"type": "change_status", "value": "IN_REVIEW"}], severity="HIGH", tags=("volume",)),
    _preset("high-risk-country", "High-risk counterparty country",
            "Counterparty in a FATF high-risk jurisdiction.", "aml_ctf", "aml_ctf",
            conditions=[{"field": "counterparty_country", "operator": "in", "value": ["PRK", "IRN", "MMR"]}],
            actions=[{"type": "change_status", "value": "IN_REVIEW"}], severity="HIGH", tags=("geography",)),
    _preset("crypto-large-withdrawal", "Large crypto withdrawal", "An outbound crypto transfer worth 5,000 or more.",
            "crypto", "crypto_monitoring", scope={"directions": ["OUTBOUND"]},
            conditions=[{"field": "currency_type", "operator": "eq", "value": "crypto"},
                        {"field": "amount_in_default_currency", "operator": "gte", "value": 5000}],
            actions=[{"type": "add_score", "value": 30}], tags=("crypto",)),
    _preset("crypto-new-wallet-burst", "Many destination wallets",
            "One subject pays 5 or more distinct wallets in a day.", "crypto", "crypto_monitoring",
            aggregation=[{"metric": "distinct_count", "field": "counterparty.payment_method.account_id",
                          "operator": "gte", "value": 5, "window": "1d", "filters": PER_SUBJECT}],
            actions=[{"type": "add_score", "value": 25}], tags=("crypto",)),
    _preset("travel-rule-over-threshold", "Travel Rule transfer above 1,000",
            "Travel Rule transfers of 1,000 or more are reviewed.", "travel_rule", "travel_rule", mode="TEST",
            scope={"transaction_types": ["travelRule"]},
            conditions=[{"field": "amount", "operator": "gte", "value": 1000}],
            actions=[{"type": "change_status", "value": "IN_REVIEW"}], tags=("travel_rule",)),
    _preset("gambling-deposit-spike", "Deposit spike", "Deposits of 5,000 or more in a day by one player.",
            "gambling", "responsible_gaming",
            aggregation=[{"metric": "sum", "field": "amount", "operator": "gte", "value": 5000, "window": "1d",
                          "filters": {**PER_SUBJECT, "action_type": "deposit"}}],
            actions=[{"type": "add_score", "value": 30}], tags=("affordability",), industries=("gambling",)),
    _preset("gambling-limit-raises", "Repeated limit increases", "3 or more limit changes by one player in a week.",
            "gambling", "responsible_gaming", scope={"transaction_types": ["gamblingLimitChange"]},
            aggregation=[{"metric": "count", "operator": "gte", "value": 3, "window": "7d",
                          "filters": {**PER_SUBJECT, "transaction_type": "gamblingLimitChange"}}],
            actions=[{"type": "change_status", "value": "IN_REVIEW"}], tags=("limits",), industries=("gambling",)),
    _preset("caller-risk-flag", "Activity marked high-risk by the caller",
            "Custom property risk_flag set to true.", "finance", "finance",
            conditions=[{"field": "custom_values.risk_flag", "operator": "eq", "value": True}],
            actions=[{"type": "add_score", "value": 20}], tags=("custom",)),
)
BY_KEY = {preset["library_key"]: preset for preset in PRESETS}


def entries(bundle: str | None = None, category: str | None = None, search: str | None = None) -> list[dict[str, Any]]:
    """The presets a library query admits, as copies."""
    found = []
    needle = (search or "").strip().casefold()
    for preset in PRESETS:
        if bundle and preset["bundle"] != bundle or category and preset["category"] != category:
            continue
        if needle and not any(needle in str(preset[k]).casefold() for k in ("library_key", "title", "description")):
            continue
        found.append(copy.deepcopy(preset))
    return found


def selected(library_keys: Any, bundle: Any) -> list[str]:
    """The keys an install request names (unknown keys are a ValueError naming them)."""
    if isinstance(library_keys, list) and library_keys:
        unknown = [str(k) for k in library_keys if k not in BY_KEY]
        if unknown:
            raise ValueError(", ".join(unknown))
        return list(dict.fromkeys(str(k) for k in library_keys))
    return [p["library_key"] for p in PRESETS if p["bundle"] == bundle]


def rule_fields(key: str) -> dict[str, Any]:
    """The rule an installed preset becomes."""
    preset = copy.deepcopy(BY_KEY[key])
    return {"title": preset["title"], "description": preset["description"], "category": preset["category"],
            "mode": preset["metadata"]["default_mode"], "evaluation_mode": preset["evaluation_mode"],
            "scope": preset["scope"], "conditions": preset["conditions"], "aggregation": preset["aggregation"],
            "actions": preset["actions"], "metadata": {}, "severity": preset["metadata"]["severity"]}
