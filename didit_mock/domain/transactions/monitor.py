"""Monitoring a new transaction: crypto screening, the tenant's rules, the verdict, the events.

A transaction is created `APPROVED`; a high-risk wallet puts it `IN_REVIEW` (`WALLET_HIGH_RISK`);
each matching ACTIVE rule adds its score, alert, tags and notes, may set a status target and open
a case (TEST rules are recorded, nothing applied). The summed score decides the status through
the review and decline thresholds; a status target wins over a milder one and `DECLINED` always
wins. Sandbox applications store transactions but send no webhooks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..clock import iso
from ..errors import ValidationFailed
from ..events import DomainEvent
from . import rules as rule_engine
from . import wallets
from .book import TransactionBook
from .intake import DUPLICATE, build

if TYPE_CHECKING:
    from ..tenant import Tenant

CREATED = "transaction.created"
STATUS_UPDATED = "transaction.status.updated"
#: Score thresholds of the application (Didit's values are unpublished; these are the mock's).
REVIEW_AT, DECLINE_AT = 50, 80
STATUS_RANK = {"APPROVED": 0, "IN_REVIEW": 1, "AWAITING_USER": 2, "DECLINED": 3}
SEVERITY_RANK = {None: -1, "UNKNOWN": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}
WALLET_HIGH_RISK = ("WALLET_HIGH_RISK", "Destination wallet flagged as high risk")
RULE_MATCHED = "RULE_MATCHED"
#: Called for each `open_case` action: (rule, transaction, action).
CaseOpener = Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], None]


@dataclass
class Verdict:
    """What screening and rules decided, before it is written on the transaction."""

    score: int = 0
    status: str = "APPROVED"
    severity: str | None = None
    reason: tuple[str, str] | None = None
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    fired: list[dict[str, Any]] = field(default_factory=list)
    #: The workflow of the remediation session an AWAITING_USER target asks for.
    workflow_id: str | None = None

    def target(self, status: str, reason: tuple[str, str] | None) -> None:
        if STATUS_RANK.get(status, 0) > STATUS_RANK[self.status]:
            self.status = status
            self.reason = reason

    def raise_severity(self, severity: str | None) -> None:
        if SEVERITY_RANK.get(severity, -1) > SEVERITY_RANK.get(self.severity, -1):
            self.severity = severity


def screening_address(transaction: dict[str, Any]) -> str | None:
    """The wallet crypto screening looks at: the counterparty's, else (a tx-hash inbound) the subject's."""
    meta = transaction["metadata"]
    for party in (meta.get("counterparty") or {}, meta.get("subject") or {}):
        method = party.get("payment_method") if isinstance(party.get("payment_method"), dict) else {}
        if method.get("account_id"):
            return str(method["account_id"])
    return None


def wants_screening(body: dict[str, Any], transaction: dict[str, Any]) -> bool:
    """`include_crypto_screening` true, or null/absent on a crypto transaction (the app default: on)."""
    flag = body.get("include_crypto_screening")
    if flag is False:
        return False
    return flag is True or transaction["currency_type"] == "crypto"


def _screen(tenant: Tenant, transaction: dict[str, Any], address: str, verdict: Verdict, now: str) -> None:
    chain = transaction["currency"]
    try:
        address, chain = wallets.check_address(address, chain)
    except ValidationFailed:
        transaction["provider_results"].append({
            "uuid": tenant.rng.uuid4(), "provider": wallets.PROVIDER, "result_type": "WALLET_SCREENING",
            "status": "ERROR", "severity": None, "score": 0,
            "summary": f"The address is not a valid {chain} address; screening skipped.",
            "payload": {"wallet_address": address, "blockchain": chain}, "created_at": now})
        return
    result = wallets.profile_for(tenant.registry.wiring.wallet_profiles, tenant, address, chain)
    transaction["provider_results"].append({
        "uuid": tenant.rng.uuid4(), "provider": result["provider"], "result_type": "WALLET_SCREENING",
        "status": result["status"], "severity": result["severity"], "score": result["risk_score"],
        "summary": result["summary"], "payload": result, "created_at": now})
    if wallets.is_high_risk(result):
        verdict.score = max(verdict.score, int(result["risk_score"]))
        verdict.raise_severity(result["severity"])
        verdict.target("IN_REVIEW", WALLET_HIGH_RISK)
        transaction["alerts"].append({
            "uuid": tenant.rng.uuid4(), "title": WALLET_HIGH_RISK[1],
            "description": "Provider risk score exceeded the configured threshold.",
            "severity": result["severity"], "status": "OPEN", "source": "PROVIDER",
            "metadata": {"wallet_address": address, "blockchain": chain,
                         "dominant_risk_category": result["dominant_risk_category"]},
            "created_at": now, "due_at": None})


def _apply_rule(tenant: Tenant, book: TransactionBook, rule: dict[str, Any], transaction: dict[str, Any],
                verdict: Verdict, now: str) -> None:
    active = rule.get("mode") == "ACTIVE"
    delta, target, summary, extra = 0, None, [], {}
    for action in rule.get("actions") or []:
        if not isinstance(action, dict):
            continue
        kind = action.get("type")
        if kind == "add_score":
            delta += int(action.get("value") or 0)
        elif kind == "change_status":
            target = str(action.get("value") or action.get("status") or "").upper() or None
            summary.append(f"change_status:{target}")
            if target == "AWAITING_USER" and active:
                verdict.workflow_id = verdict.workflow_id or str(
                    action.get("workflow_id") or action.get("remediation_workflow_id") or "") or None
        elif kind == "add_tags" and active and (action.get("tag_name") or action.get("tag_uuid")):
            tag = (book.tag(str(action["tag_name"]), action.get("tag_color")) if action.get("tag_name")
                   else next((copy.deepcopy(t) for t in book.tags.values() if t["uuid"] == action["tag_uuid"]), None))
            if tag is not None and all(t["uuid"] != tag["uuid"] for t in transaction["tags"]):
                transaction["tags"].append(tag)
            summary.append(f"add_tags:{tag['name'] if tag else action.get('tag_uuid')}")
        elif kind == "add_note" and active:
            transaction["activities"].append({
                "uuid": tenant.rng.uuid4(), "activity_type": "TRANSACTION_NOTE_ADDED", "source": "RULE",
                "status": None, "title": "Rule Engine", "description": str(action.get("note") or action.get("value")),
                "metadata": {"rule": rule.get("uuid"), "author": "Rule Engine"}, "occurred_at": now})
            summary.append("add_note")
        elif kind == "add_to_list":
            extra["list_id"] = action.get("list_id")
            summary.append("add_to_list")
        elif kind == "open_case":
            if active:
                verdict.cases.append((rule, action))
            summary.append("open_case")
    if delta:
        summary.insert(0, f"score {'+' if delta >= 0 else ''}{delta}")
    severity = rule.get("severity") or (wallets.severity_of(max(delta, 0)) if delta > 0 else None)
    transaction["rule_runs"].append({
        "uuid": tenant.rng.uuid4(), "rule": rule.get("uuid"), "rule_title": rule.get("title") or "",
        "rule_description": rule.get("description"), "rule_category": rule.get("category") or "",
        "matched": True, "is_test": not active, "mode": rule.get("mode") or "ACTIVE", "severity": severity,
        "score_delta": delta, "status_target": target, "action_summary": "; ".join(summary) or None,
        "metadata": extra, "created_at": now})
    if not active:
        return
    verdict.fired.append(rule)
    verdict.score += delta
    verdict.raise_severity(severity)
    if target in STATUS_RANK:
        verdict.target(target, (RULE_MATCHED, str(rule.get("title") or "")))
    transaction["alerts"].append({
        "uuid": tenant.rng.uuid4(), "title": str(rule.get("title") or "Rule matched"),
        "description": rule.get("description"), "severity": severity or "UNKNOWN", "status": "OPEN",
        "source": "RULE", "metadata": {"rule": rule.get("uuid")}, "created_at": now, "due_at": None})


def evaluate(tenant: Tenant, book: TransactionBook, transaction: dict[str, Any], body: dict[str, Any],
             rules: list[dict[str, Any]]) -> Verdict:
    """Screen and run the rules on `transaction` (not yet stored), writing runs, alerts and tags on it."""
    now_moment = tenant.clock.now()
    now = iso(now_moment)
    verdict = Verdict()
    address = screening_address(transaction)
    if address and wants_screening(body, transaction):
        _screen(tenant, transaction, address, verdict, now)
    history = [*book.transactions.values(), transaction]
    for rule in rules:
        if rule.get("mode") in ("ACTIVE", "TEST") and rule_engine.matches(rule, transaction, history, now_moment):
            _apply_rule(tenant, book, rule, transaction, verdict, now)
    verdict.score = max(0, min(100, verdict.score))
    if verdict.score >= DECLINE_AT:
        verdict.target("DECLINED", verdict.reason or (RULE_MATCHED, "Risk score above the decline threshold"))
    elif verdict.score >= REVIEW_AT:
        verdict.target("IN_REVIEW", verdict.reason or (RULE_MATCHED, "Risk score above the review threshold"))
    for hook in tenant.registry.wiring.transaction_outcomes:
        chosen = hook(tenant, transaction)
        if chosen is not None:
            _choose(verdict, chosen)
            break
    return verdict


def _choose(verdict: Verdict, chosen: dict[str, Any]) -> None:
    """A verdict a test chose (scenario rules) replaces the computed one."""
    verdict.status = str(chosen["status"])
    if chosen.get("score") is not None:
        verdict.score = int(chosen["score"])
        verdict.severity = wallets.severity_of(verdict.score) if verdict.score else verdict.severity
    verdict.reason = None if verdict.status == "APPROVED" else (
        str(chosen.get("reason_code") or "SCENARIO_RULE"), str(chosen.get("reason_label") or chosen.get("rule") or ""))


def count_run(rule: dict[str, Any], status: str, now: str) -> None:
    """The rule's counters after it fired on a transaction that ended `status`."""
    rule["run_count"] = int(rule.get("run_count") or 0) + 1
    key = {"APPROVED": "approved_count", "IN_REVIEW": "reviewed_count", "DECLINED": "declined_count",
           "AWAITING_USER": "awaiting_user_count"}[status]
    rule[key] = int(rule.get(key) or 0) + 1
    runs = rule["run_count"]
    for name in ("approved", "reviewed", "declined"):
        rule[f"{name}_pct"] = round(100.0 * int(rule.get(f"{name}_count") or 0) / runs, 2)
    rule["latest_triggered_at"] = now


def submit(tenant: Tenant, body: dict[str, Any], rules: list[dict[str, Any]], open_case: CaseOpener,
           *, reuse_existing: bool = False) -> tuple[dict[str, Any], bool]:
    """Store and monitor a checked create request: (the transaction, whether it is new).

    A reused `transaction_id` is a 400, or the existing transaction when `reuse_existing`.
    """
    book = tenant.component(TransactionBook)
    existing = book.by_client_id(str(body["transaction_id"]))
    if existing is not None:
        if reuse_existing:
            return existing, False
        raise ValidationFailed.field("transaction_id", DUPLICATE)
    if len(str(body["transaction_id"])) > 128:
        raise ValidationFailed.field("transaction_id", "Ensure this field has no more than 128 characters.")
    transaction = build(body, uuids=tenant.rng.uuid4, number=book.number + 1, environment=tenant.environment,
                        now=tenant.clock.now())
    verdict = evaluate(tenant, book, transaction, body, rules)
    now = iso(tenant.clock.now())
    transaction["score"] = verdict.score
    transaction["severity"] = verdict.severity
    if verdict.status != "APPROVED":
        transaction["status"] = verdict.status
        code, label = verdict.reason or (RULE_MATCHED, "")
        transaction["decision_reason_code"], transaction["decision_reason_label"] = code, label
        transaction["activities"].append(_status_activity(tenant, "APPROVED", verdict.status, now))
    if transaction["status"] == "AWAITING_USER":
        _remediate(tenant, transaction, verdict.workflow_id)
    book.add(transaction)
    for rule in verdict.fired:
        count_run(rule, transaction["status"], now)
    for rule, action in verdict.cases:
        open_case(rule, transaction, action)
    emit(tenant, CREATED, transaction)
    if transaction["status"] != "APPROVED":
        emit(tenant, STATUS_UPDATED, transaction, previous="APPROVED")
    if transaction["status"] != "DECLINED":
        from .transfers import open_transfer  # transfers build on the monitor's status changes

        open_transfer(tenant, transaction)
    return transaction, True


def _remediate(tenant: Tenant, transaction: dict[str, Any], workflow_id: str | None) -> None:
    """The hosted verification session the subject completes to release an AWAITING_USER transaction."""
    from ..sessions import NewSession, create_session  # sessions are a neighbour family, imported late

    if not workflow_id:
        return
    session, _ = create_session(tenant, NewSession(workflow_id, vendor_data=transaction["vendor_data"],
                                                   metadata={"transaction_id": transaction["uuid"]}))
    link = {"session_id": session.session_id, "session_token": session.session_token, "url": session.url,
            "status": session.status}
    transaction["remediation"] = dict(link)
    transaction["action_required"] = {"type": "verification_session", **link}


def on_session_event(tenant: Tenant, event: DomainEvent) -> None:
    """A finished remediation session releases its transaction: Approved -> APPROVED, else DECLINED."""
    if event.subject != "session" or event.webhook_type != "status.updated" or \
            event.status not in ("Approved", "Declined"):
        return
    book = tenant.component(TransactionBook)
    for transaction in book.transactions.values():
        remediation = transaction.get("remediation") or {}
        if remediation.get("session_id") == event.session_id and transaction["status"] == "AWAITING_USER":
            remediation["status"] = event.status
            change_status(tenant, transaction, "APPROVED" if event.status == "Approved" else "DECLINED", "SESSION")


def _status_activity(tenant: Tenant, previous: str, status: str, now: str) -> dict[str, Any]:
    return {"uuid": tenant.rng.uuid4(), "activity_type": "TRANSACTION_STATUS_CHANGED", "source": "TRANSACTION",
            "status": status, "title": f"{previous} -> {status}", "description": "Transaction status changed.",
            "metadata": {"previous_status": previous}, "occurred_at": now}


def change_status(tenant: Tenant, transaction: dict[str, Any], status: str, source: str = "MANUAL") -> None:
    """Move a stored transaction to `status` (the admin API's resolution), firing its webhook."""
    previous = transaction["status"]
    if previous == status:
        return
    now = iso(tenant.clock.now())
    transaction["status"] = status
    activity = _status_activity(tenant, previous, status, now)
    activity["source"] = source
    transaction["activities"].append(activity)
    if status != "AWAITING_USER":
        transaction["action_required"] = None
    emit(tenant, STATUS_UPDATED, transaction, previous=previous)


def webhook_payload(transaction: dict[str, Any], previous: str | None = None) -> dict[str, Any]:
    payload = {
        "transaction_id": transaction["uuid"], "txn_id": transaction["txn_id"], "status": transaction["status"],
        "score": transaction["score"], "severity": transaction["severity"], "amount": transaction["amount"],
        "currency": transaction["currency"], "direction": transaction["direction"],
        "vendor_data": transaction["vendor_data"], "action_required": copy.deepcopy(transaction["action_required"]),
        "decision_reason_code": transaction["decision_reason_code"],
    }
    if previous is not None:
        payload["previous_status"] = previous
    return payload


def emit(tenant: Tenant, webhook_type: str, transaction: dict[str, Any], previous: str | None = None) -> None:
    """Tell the tenant's webhook destinations (live applications only: sandbox ones send none)."""
    if tenant.is_sandbox:
        return
    tenant.events.emit(DomainEvent(webhook_type, "transaction", transaction["uuid"], transaction["status"],
                                   tenant.clock.timestamp(), {"transaction": webhook_payload(transaction, previous)}))
