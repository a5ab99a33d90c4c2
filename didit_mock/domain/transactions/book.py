"""A tenant's transactions, tags and SDK tokens (a tenant component), and their saved state."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..errors import NotFound
from ..state import StateInvalid, StateSection

if TYPE_CHECKING:
    from ..tenant import Tenant

#: Fields of the stored document that are not part of Didit's detail shape.
INTERNAL_FIELDS = ("created_at",)
TOKEN_INVALID = "Invalid transaction token."
TOKEN_EXPIRED = "Transaction token expired."


@dataclass
class SdkToken:
    """A scoped token of the device endpoints (`POST /v3/transactions/sdk-token/`)."""

    token: str
    vendor_data: str
    expires_at: float
    max_uses: int | None
    uses: int = 0


class TransactionBook:
    """Transactions by uuid (creation order) and by `txn_id`; tags by name; SDK tokens."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.transactions: dict[str, dict[str, Any]] = {}
        self.by_txn_id: dict[str, str] = {}
        self.number = 0
        self.tags: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, SdkToken] = {}
        from .monitor import on_session_event  # the monitor builds on this book

        tenant.events.subscribe(lambda event: on_session_event(tenant, event))

    def get(self, uuid: str) -> dict[str, Any]:
        found = self.transactions.get(uuid)
        if found is None:
            raise NotFound()
        return found

    def by_client_id(self, txn_id: str) -> dict[str, Any] | None:
        key = self.by_txn_id.get(txn_id)
        return None if key is None else self.transactions.get(key)

    def add(self, transaction: dict[str, Any]) -> None:
        self.transactions[transaction["uuid"]] = transaction
        self.by_txn_id[transaction["txn_id"]] = transaction["uuid"]
        self.number = max(self.number, int(transaction["transaction_number"]))

    def tag(self, name: str, color: str | None) -> dict[str, Any]:
        """The application tag called `name` (upper-cased), made on first use."""
        key = name.strip().upper()
        if key not in self.tags:
            self.tags[key] = {"uuid": self.tenant.rng.uuid4(), "name": key, "color": color or "#007AFE",
                              "description": None, "source": "custom"}
        return copy.deepcopy(self.tags[key])

    # ------------------------------------------------ tokens

    def mint(self, vendor_data: str, ttl_seconds: int, max_uses: int | None) -> SdkToken:
        token = SdkToken(self.tenant.rng.token(43), vendor_data, self.tenant.clock.timestamp() + ttl_seconds,
                         max_uses)
        self.tokens[token.token] = token
        self.tenant.registry.index_token(token.token, self.tenant)
        return token

    def usable(self, value: str) -> SdkToken | str:
        """The token, or the refusal text (`Invalid transaction token.` / `Transaction token expired.`)."""
        token = self.tokens.get(value)
        if token is None or (token.max_uses is not None and token.uses >= token.max_uses):
            return TOKEN_INVALID
        if self.tenant.clock.timestamp() >= token.expires_at:
            return TOKEN_EXPIRED
        return token

    # ------------------------------------------------ state

    def export_state(self) -> dict[str, Any]:
        return {"transactions": copy.deepcopy(list(self.transactions.values())), "number": self.number,
                "tags": copy.deepcopy(self.tags), "tokens": [asdict(t) for t in self.tokens.values()]}

    @staticmethod
    def check_state(state: Any) -> None:
        if not isinstance(state, dict):
            raise ValueError("an object is expected")
        rows = state.get("transactions") or []
        if not isinstance(rows, list) or not all(isinstance(r, dict) and "uuid" in r and "txn_id" in r
                                                 and "transaction_number" in r for r in rows):
            raise ValueError("transactions: a list of transactions is expected")
        if not isinstance(state.get("number", 0), int):
            raise ValueError("number: a whole number is expected")
        if not isinstance(state.get("tags") or {}, dict):
            raise ValueError("tags: an object is expected")
        tokens = state.get("tokens") or []
        if not isinstance(tokens, list) or not all(isinstance(t, dict) and {"token", "vendor_data", "expires_at"}
                                                   <= set(t) for t in tokens):
            raise ValueError("tokens: a list of tokens is expected")

    def import_state(self, state: dict[str, Any]) -> None:
        self.check_state(state)
        self.transactions, self.by_txn_id, self.number = {}, {}, 0
        for row in state.get("transactions") or []:
            self.add(copy.deepcopy(row))
        self.number = max(self.number, int(state.get("number") or 0))
        self.tags = copy.deepcopy(state.get("tags") or {})
        self.tokens = {}
        for raw in state.get("tokens") or []:
            token = SdkToken(str(raw["token"]), str(raw["vendor_data"]), float(raw["expires_at"]),
                             raw.get("max_uses"), int(raw.get("uses") or 0))
            self.tokens[token.token] = token
            self.tenant.registry.index_token(token.token, self.tenant)


def detail(transaction: dict[str, Any]) -> dict[str, Any]:
    """The transaction as `GET /v3/transactions/{id}/` answers it."""
    return {k: v for k, v in transaction.items() if k not in INTERNAL_FIELDS}


def row(transaction: dict[str, Any]) -> dict[str, Any]:
    """The transaction as a row of `GET /v3/transactions/`."""
    meta = transaction.get("metadata") or {}
    subject, counterparty = meta.get("subject") or {}, meta.get("counterparty") or {}
    return {
        "uuid": transaction["uuid"], "transaction_number": transaction["transaction_number"],
        "txn_id": transaction["txn_id"], "transaction_type": transaction["transaction_type"],
        "action_type": transaction["action_type"], "status": transaction["status"],
        "direction": transaction["direction"], "amount": transaction["amount"], "currency": transaction["currency"],
        "preferred_currency_amount": transaction["preferred_currency_amount"],
        "preferred_currency_code": transaction["preferred_currency_code"],
        "payment_details": transaction["payment_details"], "score": transaction["score"],
        "severity": transaction["severity"], "subject_name": subject.get("full_name"),
        "subject_vendor_data": subject.get("vendor_data"),
        "subject_country": (subject.get("address") or {}).get("country"),
        "counterparty_name": counterparty.get("full_name"), "counterparty_vendor_data": counterparty.get("vendor_data"),
        "counterparty_country": (counterparty.get("address") or {}).get("country"),
        "tags": copy.deepcopy(transaction["tags"]), "txn_date": transaction["txn_date"],
        "created_at": transaction.get("created_at", transaction["txn_date"]),
        "decision_reason_code": transaction["decision_reason_code"],
        "decision_reason_label": transaction["decision_reason_label"], "assigned_to_name": None,
    }


# ---------------------------------------------------------------- the state section

def _export(tenant: Tenant) -> dict[str, Any]:
    return tenant.component(TransactionBook).export_state()


def _parse(value: Any, path: str) -> dict[str, Any]:
    try:
        TransactionBook.check_state(value)
    except ValueError as problem:
        raise StateInvalid(f"{path}: {problem}") from None
    return value


def _restore(tenant: Tenant, value: dict[str, Any]) -> None:
    tenant.component(TransactionBook).import_state(value)


#: The `extensions.transactions` section of the state document.
TRANSACTIONS_SECTION = StateSection("transactions", _export, _parse, _restore)
