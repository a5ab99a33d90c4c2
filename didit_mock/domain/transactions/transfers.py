"""Travel Rule transfers of outbound `travelRule` transactions, on the tenant clock (§1.24).

When the application has the Travel Rule enabled, an outbound travelRule transaction opens a
transfer, routed at once: below `threshold_amount` it is `NOT_APPLICABLE`; to a self-hosted
(`unhosted_wallet`) counterparty it waits for the user's ownership proof (`UNCONFIRMED_OWNERSHIP`,
the transaction `AWAITING_USER`); to a VASP of the directory (by the counterparty's institution
name) it waits for that VASP (`AWAITING_COUNTERPARTY` on its first rail); otherwise
`COUNTERPARTY_VASP_NOT_FOUND`. A waiting transfer expires after `confirmation_timeout_hours` and
the transaction takes `timeout_outcome` (HOLD: `IN_REVIEW`, REJECT: `DECLINED`, PROCEED: as is).
Every move fires `travel_rule.status.updated` (live applications).
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from ..clock import iso
from ..errors import DiditError, NotFound, ValidationFailed
from ..events import DomainEvent
from .travel_rule import DIRECTORY, TravelRuleBook, existing_book

if TYPE_CHECKING:
    from ..tenant import Tenant

STATUS_UPDATED = "travel_rule.status.updated"
WAITING = ("AWAITING_COUNTERPARTY", "UNCONFIRMED_OWNERSHIP", "ON_HOLD")
TERMINAL = ("FINISHED", "CANCELLED", "EXPIRED", "NOT_APPLICABLE", "COUNTERPARTY_VASP_GENERAL_DECLINE")
RESENDABLE = ("COUNTERPARTY_VASP_NOT_FOUND", "COUNTERPARTY_VASP_NOT_REACHABLE", "NOT_ENOUGH_COUNTERPARTY_DATA")
TIMEOUT_STATUS = {"HOLD": "IN_REVIEW", "REJECT": "DECLINED", "PROCEED": None}
NEITHER = "Provide payment_txn_id or an action (cancel, resend)."
ROUTING_DETAILS = {"NOT_APPLICABLE": "Below the Travel Rule threshold.",
                   "UNCONFIRMED_OWNERSHIP": "Waiting for the proof of wallet ownership.",
                   "COUNTERPARTY_VASP_NOT_FOUND": "No counterparty VASP was found for the destination.",
                   "COUNTERPARTY_VASP_NOT_REACHABLE": "The counterparty VASP has no reachable rail."}


def _amount(transaction: dict[str, Any]) -> Decimal:
    for key in ("amount_in_default_currency", "amount"):
        try:
            if transaction.get(key) is not None:
                return Decimal(str(transaction[key]))
        except InvalidOperation:
            continue
    return Decimal(0)


def _route(transaction: dict[str, Any], settings: dict[str, Any]) -> tuple[str, str | None, dict[str, Any] | None]:
    """(status, rail, counterparty VASP) of an outbound transfer."""
    if _amount(transaction) < Decimal(str(settings.get("threshold_amount") or "0")):
        return "NOT_APPLICABLE", None, None
    counterparty = (transaction.get("metadata") or {}).get("counterparty") or {}
    method = counterparty.get("payment_method") if isinstance(counterparty.get("payment_method"), dict) else {}
    if method.get("method_type") == "unhosted_wallet":
        return "UNCONFIRMED_OWNERSHIP", None, None
    institution = str((counterparty.get("institution_details") or {}).get("name") or "").casefold()
    vasp = next((v for v in DIRECTORY if institution and v["name"].casefold() == institution), None)
    if vasp is None:
        return "COUNTERPARTY_VASP_NOT_FOUND", None, None
    rail = vasp["reachable_rails"][0] if vasp["reachable_rails"] else None
    if rail is None:
        return "COUNTERPARTY_VASP_NOT_REACHABLE", None, None
    return "AWAITING_COUNTERPARTY", rail, {"name": vasp["name"], "lei": vasp["lei"], "dd_score": vasp["dd_score"]}


def open_transfer(tenant: Tenant, transaction: dict[str, Any]) -> dict[str, Any] | None:
    """The transfer of a new outbound travelRule transaction (None when the Travel Rule is off)."""
    book = tenant.component(TravelRuleBook)
    settings = book.current()
    if not settings["is_enabled"] or transaction["transaction_type"] != "travelRule" or \
            transaction["direction"] != "OUTBOUND":
        return None
    light = transaction.get("travel_rule") or {}
    now = iso(tenant.clock.now())
    transfer = {
        "uuid": light.get("uuid") or tenant.rng.uuid4(), "status": "ON_HOLD", "direction": "OUTBOUND", "rail": None,
        "protocol": light.get("protocol"), "ivms_version": "IVMS101.2023", "required": True,
        "ownership_confirmed": None, "deadline_at": None, "timeline": [], "counterparty_vasp": None,
        "originator_data": copy.deepcopy(light.get("originator_data") or {}),
        "beneficiary_data": copy.deepcopy(light.get("beneficiary_data") or {}), "created_at": now,
    }
    book.transfers[transaction["uuid"]] = transfer
    _reroute(tenant, transaction, transfer, settings)
    return transfer


def _internal_peer(tenant: Tenant, transaction: dict[str, Any]) -> tuple[Tenant, dict[str, Any]] | None:
    """Another application of this server with the Travel Rule on and the destination in its book."""
    counterparty = (transaction.get("metadata") or {}).get("counterparty") or {}
    wallet = str((counterparty.get("payment_method") or {}).get("account_id") or "").lower()
    if not wallet:
        return None
    for other in tenant.registry.tenants():
        if other is tenant:
            continue
        book = existing_book(other)
        if book is not None and book.settings and book.settings["is_enabled"]:
            entry = next((e for e in book.addresses.values() if e["address"].lower() == wallet), None)
            if entry is not None:
                return other, entry
    return None


PEER_LOCK_SECONDS = 5.0


def _deliver_internal(tenant: Tenant, transaction: dict[str, Any], transfer: dict[str, Any],
                      peer: Tenant, entry: dict[str, Any]) -> None:
    """Register the transfer at the beneficiary application (its lock taken with a timeout, so two
    applications sending to each other never wait forever)."""
    submit = tenant.registry.wiring.transaction_submitter
    if submit is None or not peer.lock.acquire(timeout=PEER_LOCK_SECONDS):
        move(tenant, transaction, transfer, "COUNTERPARTY_VASP_NOT_REACHABLE", "The beneficiary VASP did not answer.")
        return
    try:
        peer_book = peer.component(TravelRuleBook)
        subject = (transaction.get("metadata") or {}).get("subject") or {}
        body = {
            "transaction_id": f"tr-internal-{transfer['uuid']}", "transaction_category": "travelRule",
            "transaction_details": {"direction": "inbound", "amount": transaction["amount"],
                                    "currency": transaction["currency"], "currency_kind": transaction["currency_type"],
                                    "action_type": "deposit"},
            "subject": {"entity_type": entry["entity_type"] or "individual",
                        "vendor_data": entry["holder_vendor_data"] or entry["address"],
                        "full_name": entry["holder_name"] or "Unnamed holder",
                        "payment_method": {"method_type": "crypto_wallet", "account_id": entry["address"]}},
            "counterparty": {"entity_type": subject.get("entity_type") or "individual",
                             "full_name": subject.get("full_name") or "",
                             "institution_details": {"name": tenant.component(TravelRuleBook).current()["legal_name"]}},
            "include_crypto_screening": False,
        }
        inbound = submit(peer, body)
        verified = bool(entry["is_ownership_verified"])
        peer_transfer = {
            "uuid": peer.rng.uuid4(), "status": "ON_HOLD", "direction": "INBOUND", "rail": "INTERNAL",
            "protocol": transfer["protocol"], "ivms_version": transfer["ivms_version"], "required": True,
            "ownership_confirmed": True if verified else None, "deadline_at": None, "timeline": [],
            "counterparty_vasp": {"name": tenant.component(TravelRuleBook).current()["legal_name"],
                                  "lei": tenant.component(TravelRuleBook).current()["lei"], "dd_score": 0},
            "originator_data": copy.deepcopy(transfer["originator_data"]),
            "beneficiary_data": copy.deepcopy(transfer["beneficiary_data"]), "created_at": iso(peer.clock.now()),
        }
        peer_book.transfers[inbound["uuid"]] = peer_transfer
        tenant.component(TravelRuleBook).links[transaction["uuid"]] = [peer.application_id, inbound["uuid"]]
        peer_book.links[inbound["uuid"]] = [tenant.application_id, transaction["uuid"]]
        if verified:
            move(peer, inbound, peer_transfer, "COMPLETED", "Wallet ownership already verified.")
            move(tenant, transaction, transfer, "COMPLETED", "Accepted by the beneficiary VASP.")
        else:
            move(peer, inbound, peer_transfer, "UNCONFIRMED_OWNERSHIP", "Waiting for the beneficiary's confirmation.")
    finally:
        peer.lock.release()


def _linked(tenant: Tenant, transaction_uuid: str) -> tuple[Tenant, dict[str, Any], dict[str, Any]] | None:
    """The other side of an INTERNAL transfer: (its tenant, transaction, transfer)."""
    from .book import TransactionBook

    link = tenant.component(TravelRuleBook).links.get(transaction_uuid)
    other = None if link is None else tenant.registry.by_application(link[0])
    if other is None or link is None:
        return None
    transaction = other.component(TransactionBook).transactions.get(link[1])
    transfer = other.component(TravelRuleBook).transfers.get(link[1])
    return None if transaction is None or transfer is None else (other, transaction, transfer)


def _move_peer(tenant: Tenant, transaction_uuid: str, status: str, detail: str, declined: bool = False) -> None:
    """Move the other side of an INTERNAL transfer too (its lock taken with a timeout)."""
    found = _linked(tenant, transaction_uuid)
    if found is None:
        return
    other, transaction, transfer = found
    if not other.lock.acquire(timeout=PEER_LOCK_SECONDS):
        return
    try:
        if transfer["status"] not in TERMINAL:
            move(other, transaction, transfer, status, detail)
            if declined:
                _transaction_status(other, transaction, "DECLINED")
    finally:
        other.lock.release()


def _reroute(tenant: Tenant, transaction: dict[str, Any], transfer: dict[str, Any], settings: dict[str, Any]) -> None:
    status, rail, vasp = _route(transaction, settings)
    peer = _internal_peer(tenant, transaction) if status not in ("NOT_APPLICABLE", "UNCONFIRMED_OWNERSHIP") else None
    if peer is not None:
        legal = peer[0].component(TravelRuleBook).settings or {}
        status, rail, vasp = "AWAITING_COUNTERPARTY", "INTERNAL", {
            "name": legal.get("legal_name") or "", "lei": legal.get("lei") or "", "dd_score": 0}
    transfer["rail"], transfer["counterparty_vasp"] = rail, vasp
    transfer["required"] = status != "NOT_APPLICABLE"
    if status in WAITING:
        deadline = tenant.clock.timestamp() + 3600 * int(settings["confirmation_timeout_hours"])
        transfer["deadline_at"] = iso(datetime.fromtimestamp(deadline, tz=timezone.utc))
        tenant.component(TravelRuleBook).deadlines[transaction["uuid"]] = deadline
        schedule_timeout(tenant, transaction["uuid"], deadline)
    if rail == "EMAIL":
        token = tenant.rng.token(32)
        tenant.component(TravelRuleBook).pickups[token] = transaction["uuid"]
        tenant.registry.index_token(token, tenant)
    move(tenant, transaction, transfer, status, f"Routed over {rail}." if rail else ROUTING_DETAILS.get(status, ""))
    if peer is not None:
        _deliver_internal(tenant, transaction, transfer, *peer)
    if status == "UNCONFIRMED_OWNERSHIP" and settings["auto_wallet_verification"]:
        counterparty = (transaction.get("metadata") or {}).get("counterparty") or {}
        wallet = str((counterparty.get("payment_method") or {}).get("account_id") or "")
        widget = mint_widget(tenant, {"wallet_address": wallet, "chain": transaction["currency"],
                                      "holder_name": counterparty.get("full_name") or "",
                                      "vendor_data": transaction["vendor_data"], "transaction_id": transaction["uuid"]})
        transaction["action_required"] = {"type": "wallet_ownership", "url": widget["url"],
                                          "widget_session_id": widget["widget_session_id"],
                                          "expires_at": widget["expires_at"]}
    if status == "UNCONFIRMED_OWNERSHIP" and transaction["status"] == "APPROVED":
        _transaction_status(tenant, transaction, "AWAITING_USER")


def schedule_timeout(tenant: Tenant, transaction_uuid: str, deadline: float) -> None:
    tenant.scheduler.at(deadline, _expire, tenant, transaction_uuid)


def _expire(tenant: Tenant, transaction_uuid: str) -> None:
    from .book import TransactionBook

    transfer = tenant.component(TravelRuleBook).transfers.get(transaction_uuid)
    transaction = tenant.component(TransactionBook).transactions.get(transaction_uuid)
    if transfer is None or transaction is None or transfer["status"] not in WAITING:
        return
    deadline = tenant.component(TravelRuleBook).deadlines.get(transaction_uuid)
    if deadline is not None and deadline > tenant.clock.timestamp():
        return  # re-routed since: a later job decides
    move(tenant, transaction, transfer, "EXPIRED", "The counterparty did not answer in time.")
    outcome = TIMEOUT_STATUS[tenant.component(TravelRuleBook).current()["timeout_outcome"]]
    if outcome is not None:
        _transaction_status(tenant, transaction, outcome)


def _transaction_status(tenant: Tenant, transaction: dict[str, Any], status: str) -> None:
    from .monitor import change_status

    change_status(tenant, transaction, status, "TRAVEL_RULE")


def move(tenant: Tenant, transaction: dict[str, Any], transfer: dict[str, Any], status: str,
         detail: str = "") -> None:
    """Set the transfer's status (timeline, the transaction's light view, the webhook)."""
    transfer["status"] = status
    transfer["timeline"].append({"status": status, "at": iso(tenant.clock.now()), "detail": detail})
    light = transaction.get("travel_rule")
    if isinstance(light, dict):
        light["status"], light["required"] = status, transfer["required"]
    else:
        transaction["travel_rule"] = {
            "uuid": transfer["uuid"], "status": status, "protocol": transfer["protocol"],
            "required": transfer["required"], "obligations_count": 0,
            "originator_data": transfer["originator_data"], "beneficiary_data": transfer["beneficiary_data"],
            "metadata": {}}
    if tenant.is_sandbox:
        return
    payload = {"transaction_id": transaction["uuid"], "txn_id": transaction["txn_id"],
               "travel_rule_status": status, "rail": transfer["rail"], "direction": transfer["direction"],
               "vendor_data": transaction["vendor_data"]}
    tenant.events.emit(DomainEvent(STATUS_UPDATED, "transaction", transaction["uuid"], status,
                                   tenant.clock.timestamp(), {"transaction": payload}))


def transfer_of(tenant: Tenant, transaction_uuid: str) -> tuple[dict[str, Any], dict[str, Any]]:
    from .book import TransactionBook

    transaction = tenant.component(TransactionBook).get(transaction_uuid)
    transfer = tenant.component(TravelRuleBook).transfers.get(transaction_uuid)
    if transfer is None:
        raise NotFound()
    return transaction, transfer


def patch(tenant: Tenant, transaction_uuid: str, body: dict[str, Any]) -> dict[str, Any]:
    """`PATCH /v3/transactions/{id}/travel-rule/`: finish (payment_txn_id), cancel or resend."""
    transaction, transfer = transfer_of(tenant, transaction_uuid)
    status = transfer["status"]
    if body.get("payment_txn_id"):
        if status != "COMPLETED" or transfer["direction"] != "OUTBOUND":
            raise DiditError({"detail": f"Only a COMPLETED outbound transfer can be finished; this one is {status}."},
                             409)
        transaction["payment_txn_id"] = str(body["payment_txn_id"])
        move(tenant, transaction, transfer, "FINISHED", "Broadcast reported.")
        _move_peer(tenant, transaction_uuid, "FINISHED", "Broadcast reported by the originator.")
    elif body.get("action") == "cancel":
        if status in TERMINAL:
            raise DiditError({"detail": f"The transfer is already {status}."}, 409)
        move(tenant, transaction, transfer, "CANCELLED", "Cancelled by the originator.")
        _move_peer(tenant, transaction_uuid, "CANCELLED", "Cancelled by the originator.")
    elif body.get("action") == "resend":
        if status not in RESENDABLE:
            raise DiditError({"detail": f"Only a transfer in {', '.join(RESENDABLE)} can be resent; this one is "
                                        f"{status}."}, 409)
        _reroute(tenant, transaction, transfer, tenant.component(TravelRuleBook).current())
    else:
        raise ValidationFailed({"non_field_errors": [NEITHER]})
    return view(transfer)


def pickup_token(tenant: Tenant, transfer_uuid: str) -> str | None:
    """The pickup token e-mailed for a transfer (what the counterparty's link carries), if any."""
    book = tenant.component(TravelRuleBook)
    key = next((k for k, t in book.transfers.items() if t["uuid"] == transfer_uuid), None)
    if key is None:
        raise NotFound()
    return next((token for token, owner in book.pickups.items() if owner == key), None)


def advance(tenant: Tenant, transfer_uuid: str, status: str) -> dict[str, Any]:
    """The admin API's move of a transfer (the counterparty or the user acted)."""
    from .book import TransactionBook

    book = tenant.component(TravelRuleBook)
    key = next((k for k, t in book.transfers.items() if t["uuid"] == transfer_uuid), None)
    if key is None:
        raise NotFound()
    transfer, transaction = book.transfers[key], tenant.component(TransactionBook).get(key)
    if transfer["status"] in TERMINAL:
        raise DiditError({"detail": f"The transfer is already {transfer['status']}."}, 409)
    if status == "COMPLETED" and transfer["status"] == "UNCONFIRMED_OWNERSHIP":
        transfer["ownership_confirmed"] = True
    move(tenant, transaction, transfer, status, "Moved through the admin API.")
    if status == "COMPLETED" and transaction["status"] == "AWAITING_USER":
        _transaction_status(tenant, transaction, "APPROVED")
    elif status in ("COUNTERPARTY_VASP_GENERAL_DECLINE", "COUNTERPARTY_MISMATCHED_DATA"):
        _transaction_status(tenant, transaction, "DECLINED")
    return copy.deepcopy(transfer)


def reschedule(tenant: Tenant) -> None:
    """After a restore: the timeout jobs of the waiting transfers."""
    book = tenant.component(TravelRuleBook)
    for key, transfer in book.transfers.items():
        if transfer["status"] in WAITING and key in book.deadlines:
            schedule_timeout(tenant, key, book.deadlines[key])



# ---------------------------------------------------------------- inbound transfers (beneficiary side)

def view(transfer: dict[str, Any]) -> dict[str, Any]:
    """A transfer as answered: an inbound one hides the parties' data until ownership is confirmed."""
    shown = copy.deepcopy(transfer)
    if shown["direction"] == "INBOUND" and shown.get("ownership_confirmed") is not True:
        shown.pop("originator_data", None)
        shown.pop("beneficiary_data", None)
    return shown


def register_inbound(tenant: Tenant, body: dict[str, Any], submit: Any) -> tuple[dict[str, Any], bool]:
    """`POST /v3/travel-rule/inbound/`: (the answer, whether it is new). A deposit already registered
    (same `txid` and `wallet_address`) is answered again; else `submit(body)` stores a new inbound
    travelRule transaction, whose transfer is resolved against the wallet-address book."""
    book = tenant.component(TravelRuleBook)
    key = f"{body['txid']}|{body['wallet_address']}"
    known = book.inbound.get(key)
    if known is not None and known in book.transfers:
        from .book import TransactionBook

        transaction = tenant.component(TransactionBook).get(known)
        return {"transaction_id": known, "txn_id": transaction["txn_id"], "created": False,
                "travel_rule": view(book.transfers[known])}, False
    entry = next((e for e in book.addresses.values() if e["address"] == body["wallet_address"]), None)
    beneficiary = body.get("beneficiary_data") or {}
    vasp = body.get("originating_vasp") or {}
    holder = str((entry or {}).get("holder_name") or beneficiary.get("name") or "Unclaimed deposit")
    request = {
        "transaction_id": f"tr-inbound-{tenant.rng.token(16)}", "transaction_category": "travelRule",
        "transaction_details": {"direction": "inbound", "amount": body["amount"], "currency": body["currency"],
                                "currency_kind": "crypto", "payment_reference_id": body["txid"],
                                "action_type": "deposit"},
        "subject": {"entity_type": "individual",
                    "vendor_data": (entry or {}).get("holder_vendor_data") or body["wallet_address"],
                    "full_name": holder,
                    "payment_method": {"method_type": "crypto_wallet", "account_id": body["wallet_address"]}},
        "counterparty": {"entity_type": "company", "full_name": vasp.get("name") or "Unknown VASP",
                         "institution_details": {"name": vasp.get("name") or "", "code": vasp.get("lei") or ""}},
        "include_crypto_screening": False,
    }
    transaction = submit(request)
    if entry is None:
        status, confirmed = "NOT_ENOUGH_COUNTERPARTY_DATA", None
    elif entry["is_ownership_verified"]:
        status, confirmed = "COMPLETED", True
    else:
        status, confirmed = "UNCONFIRMED_OWNERSHIP", None
    transfer = {
        "uuid": tenant.rng.uuid4(), "status": status, "direction": "INBOUND",
        "rail": "TRP" if vasp.get("travel_address") else None, "protocol": "IVMS101", "ivms_version": "IVMS101.2023",
        "required": True, "ownership_confirmed": confirmed, "deadline_at": None, "timeline": [],
        "counterparty_vasp": {"name": vasp["name"], "lei": vasp.get("lei") or "", "dd_score": 0} if vasp.get("name")
        else None,
        "originator_data": copy.deepcopy(body.get("originator_data") or {}),
        "beneficiary_data": copy.deepcopy(beneficiary), "created_at": iso(tenant.clock.now()),
    }
    book.transfers[transaction["uuid"]] = transfer
    book.inbound[key] = transaction["uuid"]
    move(tenant, transaction, transfer, status, "Deposit registered.")
    return {"transaction_id": transaction["uuid"], "txn_id": transaction["txn_id"], "created": True,
            "travel_rule": view(transfer)}, True


def confirm_ownership(tenant: Tenant, transaction_uuid: str, confirmed: bool) -> dict[str, Any]:
    """The beneficiary confirms (or denies) that its customer owns the destination wallet."""
    transaction, transfer = transfer_of(tenant, transaction_uuid)
    book = tenant.component(TravelRuleBook)
    if transfer["status"] != "UNCONFIRMED_OWNERSHIP":
        raise DiditError({"detail": f"The transfer is {transfer['status']}, not UNCONFIRMED_OWNERSHIP."}, 409)
    account = next((m["account_id"] for m in transaction["payment_methods"] if m.get("account_id")), None)
    entry = next((e for e in book.addresses.values() if e["address"] == account), None)
    if transfer["direction"] == "INBOUND" and entry is None:
        raise DiditError({"detail": "The wallet address book entry of this transfer was deleted."}, 409)
    transfer["ownership_confirmed"] = confirmed
    if confirmed:
        if entry is not None:
            entry["is_ownership_verified"] = True
        move(tenant, transaction, transfer, "COMPLETED", "Wallet ownership confirmed.")
        if transaction["status"] == "AWAITING_USER":
            _transaction_status(tenant, transaction, "APPROVED")
        _move_peer(tenant, transaction_uuid, "COMPLETED", "Accepted by the beneficiary VASP.")
    else:
        move(tenant, transaction, transfer, "COUNTERPARTY_VASP_GENERAL_DECLINE", "Wallet ownership denied.")
        _transaction_status(tenant, transaction, "DECLINED")
        _move_peer(tenant, transaction_uuid, "COUNTERPARTY_VASP_GENERAL_DECLINE", "Declined by the beneficiary VASP.",
                   declined=True)
    return view(transfer)


# ---------------------------------------------------------------- the wallet-ownership widget

WIDGET_EXPIRED = "This wallet ownership session has expired."
SIGNING_CHAINS = ("ethereum", "eth", "bitcoin", "btc", "solana", "sol", "polygon", "matic", "bnb", "tron", "trx")


def mint_widget(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    """A wallet-ownership widget session (its token is found by `widget_context`, without a key)."""
    book = tenant.component(TravelRuleBook)
    minutes = int(body.get("expires_in_minutes") or 60)
    if body.get("satoshi_deposit_address"):
        minutes = max(minutes, 120)  # extended to cover the Satoshi test window
    expires = tenant.clock.timestamp() + 60 * max(minutes, 1)
    token = tenant.rng.token(32)
    session = {"widget_session_id": tenant.rng.uuid4(), "token": token,
               "url": f"{tenant.config.public_base_url.rstrip('/')}/wallet-ownership/{token}",
               "expires_at": iso(datetime.fromtimestamp(expires, tz=timezone.utc)), "expires": expires,
               "wallet_address": str(body["wallet_address"]), "chain": str(body["chain"]),
               "holder_name": body.get("holder_name") or "", "vendor_data": body.get("vendor_data") or "",
               "transaction_id": body.get("transaction_id"), "callback_url": body.get("callback_url") or "",
               "satoshi_deposit_address": body.get("satoshi_deposit_address")}
    book.widgets[token] = session
    tenant.registry.index_token(token, tenant)
    return {k: session[k] for k in ("widget_session_id", "token", "url", "expires_at")}


def widget_context(tenant: Tenant, token: str) -> dict[str, Any]:
    """`GET /v3/travel-rule/widget/{token}/`: 404 unknown, 410 expired unfinished."""
    book = tenant.component(TravelRuleBook)
    session = book.widgets.get(token)
    if session is None:
        raise NotFound()
    settings = book.current()
    transfer = book.transfers.get(str(session.get("transaction_id") or ""))
    done = next((step["at"] for step in (transfer or {}).get("timeline", [])
                 if step["status"] in ("COMPLETED", "FINISHED")), None)
    if done is None and tenant.clock.timestamp() >= session["expires"]:
        raise DiditError({"detail": WIDGET_EXPIRED}, 410)
    methods = (["MESSAGE_SIGNING"] if session["chain"].lower() in SIGNING_CHAINS else []) + \
        (["SCREENSHOT"] if settings["allow_screenshot_proof"] else []) + \
        (["SATOSHI_TEST"] if session.get("satoshi_deposit_address") else []) + \
        (["SELF_DECLARATION"] if settings["allow_self_declaration"] else [])
    return {"vasp_name": settings["legal_name"], "wallet_address": session["wallet_address"],
            "chain": session["chain"], "holder_name": session["holder_name"], "allowed_methods": methods,
            "transfer_status": None if transfer is None else transfer["status"],
            "callback_url": session["callback_url"], "expires_at": session["expires_at"], "completed_at": done,
            "proofs": [], "customization": None}


# ---------------------------------------------------------------- pickup by an e-mailed counterparty

PICKUP_CLOSED = "The pickup window has closed."


def _pickup(tenant: Tenant, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    key = tenant.component(TravelRuleBook).pickups.get(token)
    if key is None:
        raise NotFound()
    transaction, transfer = transfer_of(tenant, key)
    if transfer["status"] != "AWAITING_COUNTERPARTY":
        raise DiditError({"detail": PICKUP_CLOSED}, 410)
    return transaction, transfer


def pickup_info(tenant: Tenant, token: str) -> dict[str, Any]:
    """`GET /v3/travel-rule/pickup/{token}/`: what the counterparty VASP sees before answering."""
    transaction, transfer = _pickup(tenant, token)
    counterparty = (transaction.get("metadata") or {}).get("counterparty") or {}
    return {"originator_vasp_name": tenant.component(TravelRuleBook).current()["legal_name"],
            "amount": transaction["amount"], "currency": transaction["currency"],
            "beneficiary_wallet": str((counterparty.get("payment_method") or {}).get("account_id") or ""),
            "status": transfer["status"]}


def pickup_respond(tenant: Tenant, token: str, decision: str, beneficiary_name: str | None) -> dict[str, Any]:
    """The counterparty accepts (`COMPLETED`) or declines (the transaction is declined)."""
    transaction, transfer = _pickup(tenant, token)
    if decision == "accept":
        if beneficiary_name:
            transfer["beneficiary_data"] = {**transfer["beneficiary_data"], "name": beneficiary_name}
        move(tenant, transaction, transfer, "COMPLETED", "Accepted by the counterparty VASP.")
    else:
        move(tenant, transaction, transfer, "COUNTERPARTY_VASP_GENERAL_DECLINE", "Declined by the counterparty VASP.")
        _transaction_status(tenant, transaction, "DECLINED")
    return {"status": transfer["status"]}
