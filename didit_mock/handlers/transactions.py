"""Transaction monitoring: create/list/get, the SDK token and its device routes, backtests (§1.22, §2.4)."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from ..domain import users as users_domain
from ..domain.clock import iso
from ..domain.errors import DiditError, NotFound, ValidationFailed
from ..domain.tenant import Tenant
from ..domain.transactions import library, monitor
from ..domain.transactions import rules as rule_engine
from ..domain.transactions.book import TOKEN_INVALID, SdkToken, TransactionBook, detail, row
from ..domain.transactions.intake import for_schema_check
from ..resources.families import COLLECTIONS
from ..resources.store import ResourceStore
from ..spec.schemas import blank, json_schema
from ..spec.table import api_operations
from ..web.http import read_json
from ..web.operations import Call, operation
from ..web.pagination import page_bounds, page_urls
from ..web.validation import compile_schema, request_validator

DEFAULT_LIMIT = 50
#: `count` of the list is exact up to this many rows, then capped (`total_transactions` is exact).
COUNT_CAP = 100
MAX_TTL = 86400
#: Tenant setting (`TenantConfig.extra`) that makes a reused `transaction_id` answer the existing one.
REUSE_SWITCH = "compat.transaction_id_reuse"
RULES = next(c for c in COLLECTIONS if c.name == "transaction-rules")
CASES = next(c for c in COLLECTIONS if c.name == "cases")


@cache
def _case_template() -> dict[str, Any]:
    shape = next(op for op in api_operations() if op.operation_id == CASES.shape_from)
    return blank(json_schema(shape.response_schema(shape.success_status)))


def _open_case(tenant: Tenant) -> monitor.CaseOpener:
    """Opens the case of an `open_case` action in the store's cases (one per applicant, or per
    rule and applicant, while it is open)."""
    store = tenant.component(ResourceStore)

    def open_case(rule: dict[str, Any], transaction: dict[str, Any], action: dict[str, Any]) -> None:
        grouping = str(action.get("grouping") or "by_applicant")
        vendor_data = transaction["vendor_data"]
        for case in store.all(CASES):
            origin = case.get("origin") or {}
            if (case.get("source") == "TRANSACTION_RULE" and case.get("status") != "RESOLVED"
                    and origin.get("vendor_data") == vendor_data
                    and (grouping == "by_applicant" or origin.get("rule") == rule.get("uuid"))):
                return
        body = {"title": f"{rule.get('title') or 'Transaction rule'}: {vendor_data}",
                "description": rule.get("description") or f"Opened by the rule {rule.get('title')!r}."}
        case = store.create(CASES, _case_template(), body)
        case["source"] = "TRANSACTION_RULE"
        if action.get("blueprint"):
            case["blueprint"] = action["blueprint"]
        case["origin"] = {"rule": rule.get("uuid"), "vendor_data": vendor_data,
                          "transaction": transaction["uuid"] if action.get("attach_matched_transaction", True)
                          else None}

    return open_case


def _tenant_rules(tenant: Tenant) -> list[dict[str, Any]]:
    return tenant.component(ResourceStore).all(RULES)


def _check(call: Call, document: Any) -> dict[str, Any]:
    validator = request_validator(call.operation, "application/json")
    checked = for_schema_check(document)
    if validator is not None:
        validator(checked)
    assert isinstance(document, dict)
    return document


def refuse_blocked_participants(tenant: Tenant, body: dict[str, Any]) -> None:
    """A BLOCKED user or business cannot take part in a transaction (families §1.22)."""
    entities = users_domain.book(tenant)
    for role in ("subject", "counterparty"):
        party = body.get(role)
        vendor_data = party.get("vendor_data") if isinstance(party, dict) else None
        if isinstance(vendor_data, str) and entities.blocks(vendor_data):
            raise ValidationFailed.field(
                "vendor_data", f"The individual '{vendor_data}' is in the blocklist and cannot participate in "
                               "transactions.")


def submit_transaction(tenant: Tenant, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    refuse_blocked_participants(tenant, body)
    reuse = tenant.config.extra.get(REUSE_SWITCH) == "return_existing"
    return monitor.submit(tenant, body, _tenant_rules(tenant), _open_case(tenant), reuse_existing=reuse)


@operation("createTransaction", body=None)
async def create_transaction(call: Call) -> Any:
    tenant = call.tenant
    body = _check(call, await read_json(call.request))
    with tenant.lock:
        transaction, _ = submit_transaction(tenant, body)
        return detail(transaction)


@operation("listTransactions")
def list_transactions(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    limit, offset = page_bounds(call.query, DEFAULT_LIMIT)
    with tenant.lock:
        rows = sorted(tenant.component(TransactionBook).transactions.values(),
                      key=lambda t: (t["txn_date"], t["transaction_number"]), reverse=True)
        total = len(rows)
        following, preceding = page_urls(call.request, total, limit, offset)
        return {"count": min(total, COUNT_CAP), "next": following, "previous": preceding,
                "total_transactions": total, "results": [row(t) for t in rows[offset:offset + limit]]}


@operation("getTransaction")
def get_transaction(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return detail(tenant.component(TransactionBook).get(call.path["transaction_id"]))


# ---------------------------------------------------------------- the SDK token and the device routes

def _whole(value: Any, name: str, *, minimum: int, maximum: int | None = None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().lstrip("-").isdigit():
        raise ValidationFailed.field(name, "A valid integer is required.")
    number = int(value)
    if number < minimum:
        raise ValidationFailed.field(name, f"Ensure this value is greater than or equal to {minimum}.")
    if maximum is not None and number > maximum:
        raise ValidationFailed.field(name, f"Ensure this value is less than or equal to {maximum}.")
    return number


@operation("createTransactionSdkToken", body=None)
async def create_sdk_token(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    document = await read_json(call.request)
    if not isinstance(document, dict):
        raise ValidationFailed({"non_field_errors": ["Invalid data. Expected a dictionary."]})
    vendor_data = document.get("vendor_data", document.get("vendorData"))
    if not isinstance(vendor_data, str) or not vendor_data.strip():
        raise ValidationFailed.field("vendor_data", "This field is required." if vendor_data in (None, "")
                                     else "Not a valid string.")
    ttl = _whole(document.get("ttl_seconds", document.get("ttlSeconds")), "ttl_seconds", minimum=1,
                 maximum=MAX_TTL)
    max_uses = _whole(document.get("max_uses", document.get("maxUses")), "max_uses", minimum=1)
    with tenant.lock:
        token = tenant.component(TransactionBook).mint(vendor_data, ttl or 900, max_uses)
        return {"sdk_token": token.token, "expires_at": iso(tenant.clock.now() + timedelta(seconds=ttl or 900))}


def _token_of(call: Call) -> tuple[Tenant, SdkToken]:
    """The tenant and token of `X-Transaction-Token`, or the documented 401."""
    value = call.request.headers.get("x-transaction-token", "")
    tenant = call.registry.by_token(value) if value else None
    if tenant is None:
        raise DiditError({"detail": TOKEN_INVALID}, 401)
    tenant.tick()
    with tenant.lock:
        token = tenant.component(TransactionBook).usable(value)
    if isinstance(token, str):
        raise DiditError({"detail": token}, 401)
    return tenant, token


#: Device (camelCase) keys -> the create request's keys.
_V1_TOP = {"txnId": "transaction_id", "txnDate": "transaction_at", "zoneId": "time_zone",
           "type": "transaction_category", "info": "transaction_details", "subject": "subject",
           "counterparty": "counterparty", "props": "custom_properties", "travelRule": "travel_rule_details",
           "includeCryptoScreening": "include_crypto_screening"}
_V1_INFO = {"currencyType": "currency_kind", "amountInDefaultCurrency": "amount_in_default_currency",
            "defaultCurrencyCode": "default_currency", "paymentDetails": "payment_details",
            "paymentTxnId": "payment_reference_id", "type": "action_type"}
_V1_PARTY = {"type": "entity_type", "fullName": "full_name", "firstName": "first_name", "lastName": "last_name",
             "dob": "date_of_birth", "institutionInfo": "institution_details", "device": "device_context",
             "paymentMethod": "payment_method", "externalUserId": "vendor_data"}
_V1_METHOD = {"type": "method_type", "accountId": "account_id", "issuingCountry": "issuing_country"}
_V1_TRAVEL = {"obligationsCount": "obligations_count", "originatorData": "originator_data",
              "beneficiaryData": "beneficiary_data"}


def _renamed(value: Any, names: dict[str, str]) -> Any:
    return {names.get(k, k): v for k, v in value.items()} if isinstance(value, dict) else value


def _from_device(document: dict[str, Any], vendor_data: str) -> dict[str, Any]:
    """A device submission as a create request, its subject forced to the token's `vendor_data`."""
    body = {_V1_TOP[k]: v for k, v in document.items() if k in _V1_TOP}
    body["transaction_details"] = _renamed(body.get("transaction_details"), _V1_INFO)
    for name in ("subject", "counterparty"):
        party = _renamed(body.get(name), _V1_PARTY)
        if isinstance(party, dict):
            party["payment_method"] = _renamed(party.get("payment_method"), _V1_METHOD)
            if party["payment_method"] is None:
                del party["payment_method"]
            body[name] = party
    if isinstance(body.get("subject"), dict):
        body["subject"]["vendor_data"] = vendor_data
    if "travel_rule_details" in body:
        body["travel_rule_details"] = _renamed(body["travel_rule_details"], _V1_TRAVEL)
    return {k: v for k, v in body.items() if v is not None}


@cache
def _create_validator() -> Any:
    shape = next(op for op in api_operations() if op.operation_id == "createTransaction")
    return request_validator(shape, "application/json")


@cache
def _device_validator() -> Any:
    shape = next(op for op in api_operations() if op.operation_id == "submitTransactionFromSdk")
    return compile_schema(json_schema(shape.request_schemas["application/json"], for_request=True))


@operation("submitTransactionFromSdk", body=None)
async def submit_from_sdk(call: Call) -> Any:
    tenant, token = _token_of(call)
    document = await read_json(call.request)
    _device_validator()(document)
    body = _from_device(document, token.vendor_data)
    if body.get("transaction_category") is not None and rule_engine.category(body["transaction_category"]) is None:
        raise ValidationFailed({"type": ["Unsupported transaction category."]})
    _create_validator()(for_schema_check(body))
    with tenant.lock:
        if isinstance(tenant.component(TransactionBook).usable(token.token), str):
            raise DiditError({"detail": TOKEN_INVALID}, 401)
        transaction, _ = submit_transaction(tenant, body)
        token.uses += 1
        return detail(transaction)


@operation("getTransactionFromSdk")
def get_from_sdk(call: Call) -> dict[str, Any]:
    tenant, token = _token_of(call)
    with tenant.lock:
        transaction = tenant.component(TransactionBook).get(call.path["transaction_id"])
        if transaction["vendor_data"] != token.vendor_data:
            raise NotFound()
        return detail(transaction)


# ---------------------------------------------------------------- backtest

@operation("backtestTransactionRules")
def backtest(call: Call) -> dict[str, Any]:
    """The rule of the body run over the stored transactions of the last `period_days` (nothing changes)."""
    tenant = call.tenant
    body = call.body or {}
    days = int(body.get("period_days") or 90)
    rule = {"conditions": body.get("conditions") or [], "aggregation": body.get("aggregation") or [],
            "evaluation_mode": body.get("evaluation_mode") or "ALL", "scope": body.get("scope") or {}}
    with tenant.lock:
        now = tenant.clock.now()
        start = now - timedelta(days=days)
        stored = sorted(tenant.component(TransactionBook).transactions.values(),
                        key=lambda t: (rule_engine.txn_time(t), t["transaction_number"]))
        evaluated = matched = 0
        entities: set[str] = set()
        for index, transaction in enumerate(stored):
            when = rule_engine.txn_time(transaction)
            if not start <= when <= now:
                continue
            evaluated += 1
            # Each transaction is judged as it was when it arrived: aggregations see only earlier ones.
            if rule_engine.matches(rule, transaction, stored[:index + 1], when):
                matched += 1
                entities.add(str(transaction["vendor_data"]))
        return {"evaluated": evaluated, "matched": matched, "affected_entities": len(entities), "period_days": days}


# ---------------------------------------------------------------- the preset library

@cache
def rule_template() -> dict[str, Any]:
    shape = next(op for op in api_operations() if op.operation_id == RULES.shape_from)
    return blank(json_schema(shape.response_schema(shape.success_status)))


def _installed(tenant: Tenant) -> dict[str, dict[str, Any]]:
    return {str(r["library_key"]): r for r in _tenant_rules(tenant)
            if r.get("source") == "PRESET" and r.get("library_key")}


@operation("listTransactionRuleLibrary")
def list_library(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    limit, offset = page_bounds(call.query, DEFAULT_LIMIT)
    rows = library.entries(call.query.get("bundle"), call.query.get("category"), call.query.get("search"))
    with tenant.lock:
        installed = _installed(tenant)
    for entry in rows:
        entry["is_installed"] = entry["library_key"] in installed
    following, preceding = page_urls(call.request, len(rows), limit, offset)
    return {"count": len(rows), "next": following, "previous": preceding, "results": rows[offset:offset + limit]}


def _keys(call: Call) -> list[str]:
    body = call.body or {}
    if not body.get("library_keys") and not body.get("bundle"):
        raise ValidationFailed({"non_field_errors": ["Provide library_keys or bundle."]})
    try:
        return library.selected(body.get("library_keys"), body.get("bundle"))
    except ValueError as unknown:
        raise ValidationFailed.field("library_keys", f"Unknown library key(s): {unknown}.") from None


@operation("installTransactionRuleLibrary")
def install_library(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    keys = _keys(call)
    with tenant.lock:
        store = tenant.component(ResourceStore)
        installed = _installed(tenant)
        added = [key for key in keys if key not in installed]
        for key in added:
            rule = store.create(RULES, rule_template(), library.rule_fields(key))
            rule["source"], rule["library_key"] = "PRESET", key
        return {"installed_library_keys": added, "installed_count": len(added)}


@operation("uninstallTransactionRuleLibrary")
def uninstall_library(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    keys = _keys(call)
    with tenant.lock:
        store = tenant.component(ResourceStore)
        installed = _installed(tenant)
        removed = [installed[key] for key in keys if key in installed]
        for rule in removed:
            store.delete(RULES, rule["uuid"])
        return {"uninstalled_count": len(removed)}
