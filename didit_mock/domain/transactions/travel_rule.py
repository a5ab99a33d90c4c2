"""Travel Rule set-up of an application: its settings (VASP profile), its wallet-address book,
the VASP directory it sees, and its transfers' state (§1.24; the rules are in `transfers`)."""

from __future__ import annotations

import copy
import hashlib
import re
from typing import TYPE_CHECKING, Any

from ..clock import iso
from ..errors import NotFound, ValidationFailed
from ..state import StateInvalid, StateSection

if TYPE_CHECKING:
    from ..tenant import Tenant

LEGAL_NAME_REQUIRED = "legal_name is required to enable travel rule."
DUPLICATE_ADDRESS = "A wallet address entry with this address and chain already exists."
BAD_TRAVEL_ADDRESS = "Enter a valid travel address."
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_TRAVEL_ADDRESS = re.compile(rf"^ta[{_B58}]{{8,}}$")
NETWORKS = ("gtr", "trust", "verifyvasp", "sygna")
#: VASPs of the directory that are not Didit customers (fictional), with their due-diligence results.
DIRECTORY: tuple[dict[str, Any], ...] = (
    {"name": "Aurora Digital Assets GmbH", "lei": "5299000AURORA0000001", "jurisdiction": "DE",
     "dd_status": "COMPLETED", "dd_score": 82, "reachable_rails": ["TRP", "EMAIL"], "is_didit_customer": False,
     "dd_score_breakdown": {"licensing": 30, "aml_program": 28, "sanctions": 24},
     "dd_assessed_at": "2026-03-02T10:00:00Z"},
    {"name": "Borealis Exchange Ltd", "lei": "2138000BOREALIS00002", "jurisdiction": "GB", "dd_status": "IN_PROGRESS",
     "dd_score": 0, "reachable_rails": ["GTR"], "is_didit_customer": False, "dd_score_breakdown": {},
     "dd_assessed_at": None},
    {"name": "Test Custody Services SA", "lei": "9598000TESTCUST00003", "jurisdiction": "ES",
     "dd_status": "COMPLETED", "dd_score": 74, "reachable_rails": ["EMAIL"], "is_didit_customer": False,
     "dd_score_breakdown": {"licensing": 25, "aml_program": 25, "sanctions": 24},
     "dd_assessed_at": "2026-01-15T09:30:00Z"},
)


def _default_settings(tenant: Tenant) -> dict[str, Any]:
    digest = hashlib.sha256(f"travel-address:{tenant.application_id}".encode()).digest()
    number = int.from_bytes(digest[:16], "big")
    encoded = ""
    while number:
        number, rest = divmod(number, 58)
        encoded = _B58[rest] + encoded
    return {
        "is_enabled": False, "jurisdiction": "EU", "name_matching_strictness": "DEFAULT",
        "confirmation_timeout_hours": 48, "timeout_outcome": "HOLD", "threshold_amount": "0.00",
        "legal_name": "", "lei": "", "compliance_email": "", "is_discoverable": True,
        "inbound_auto_accept": False, "allow_self_declaration": False, "allow_screenshot_proof": True,
        "auto_wallet_verification": True, "vasp_attribution_enabled": True, "travel_address": f"ta{encoded}",
        "disabled_networks": [],
    }


class TravelRuleBook:
    """An application's Travel Rule settings (made on first read) and wallet-address book."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.settings: dict[str, Any] | None = None
        self.addresses: dict[str, dict[str, Any]] = {}
        #: transaction uuid -> its Travel Rule transfer (`TravelRuleTransferDetail`).
        self.transfers: dict[str, dict[str, Any]] = {}
        #: transaction uuid -> the exact instant (tenant clock) its waiting transfer expires.
        self.deadlines: dict[str, float] = {}
        #: "txid|wallet_address" of a registered inbound deposit -> its transaction uuid.
        self.inbound: dict[str, str] = {}
        #: wallet-ownership widget sessions by token.
        self.widgets: dict[str, dict[str, Any]] = {}
        #: pickup token (e-mailed to the counterparty VASP) -> transaction uuid.
        self.pickups: dict[str, str] = {}
        #: transaction uuid -> [application_id, transaction uuid] of the other side of an INTERNAL transfer.
        self.links: dict[str, list[str]] = {}

    def current(self) -> dict[str, Any]:
        if self.settings is None:
            self.settings = _default_settings(self.tenant)
        return self.settings

    def view(self) -> dict[str, Any]:
        settings = copy.deepcopy(self.current())
        disabled = {str(n).lower() for n in settings["disabled_networks"]}
        settings["networks"] = {name: {"rail": name.upper(), "mode": "off" if name in disabled else "unavailable",
                                       "platform_available": False, "connected": False} for name in NETWORKS}
        return settings

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        """A partial upsert (even through PUT); enabling needs a legal name."""
        merged = {**self.current(), **{k: copy.deepcopy(v) for k, v in changes.items() if k in self.current()
                                       and k != "travel_address"}}
        if merged["is_enabled"] and not str(merged.get("legal_name") or "").strip():
            raise ValidationFailed.field("legal_name", LEGAL_NAME_REQUIRED)
        if "threshold_amount" in changes:
            try:
                merged["threshold_amount"] = f"{float(str(changes['threshold_amount'])):.2f}"
            except ValueError:
                raise ValidationFailed.field("threshold_amount", "A valid number is required.") from None
        self.settings = merged
        return self.view()

    # ------------------------------------------------ the wallet-address book

    def add_address(self, body: dict[str, Any]) -> dict[str, Any]:
        address, chain = str(body["address"]).strip(), str(body.get("chain") or "").strip().lower()
        if any(e["address"] == address and e["chain"] == chain for e in self.addresses.values()):
            raise ValidationFailed.field("address", DUPLICATE_ADDRESS)
        _check_travel_address(body.get("travel_address"))
        declared = bool(body.get("self_declared", False))
        entry = {"uuid": self.tenant.rng.uuid4(), "address": address, "chain": chain,
                 "holder_vendor_data": body.get("holder_vendor_data") or "",
                 "holder_name": body.get("holder_name") or "", "entity_type": body.get("entity_type") or "individual",
                 "is_ownership_verified": declared, "created_at": iso(self.tenant.clock.now()),
                 "self_declared": declared, "travel_address": body.get("travel_address") or ""}
        self.addresses[entry["uuid"]] = entry
        return copy.deepcopy(entry)

    def address(self, uuid: str) -> dict[str, Any]:
        entry = self.addresses.get(uuid)
        if entry is None:
            raise NotFound()
        return entry

    def update_address(self, uuid: str, changes: dict[str, Any]) -> dict[str, Any]:
        entry = self.address(uuid)
        _check_travel_address(changes.get("travel_address"))
        fields = ("holder_name", "holder_vendor_data", "entity_type", "travel_address")
        entry.update({k: changes[k] for k in fields if k in changes and changes[k] is not None})
        return {k: entry[k] for k in fields}

    def newest_first(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(e) for e in reversed(list(self.addresses.values()))]

    # ------------------------------------------------ state

    def export_state(self) -> dict[str, Any]:
        return {"settings": copy.deepcopy(self.settings), "addresses": copy.deepcopy(list(self.addresses.values())),
                "transfers": copy.deepcopy(self.transfers), "deadlines": dict(self.deadlines),
                "inbound": dict(self.inbound),
                "widgets": copy.deepcopy(self.widgets), "pickups": dict(self.pickups),
                "links": copy.deepcopy(self.links)}

    def import_state(self, state: dict[str, Any]) -> None:
        self.settings = copy.deepcopy(state.get("settings"))
        self.addresses = {e["uuid"]: copy.deepcopy(e) for e in state.get("addresses") or []}
        self.transfers = copy.deepcopy(state.get("transfers") or {})
        self.deadlines = {str(k): float(v) for k, v in (state.get("deadlines") or {}).items()}
        self.inbound = {str(k): str(v) for k, v in (state.get("inbound") or {}).items()}
        self.widgets = copy.deepcopy(state.get("widgets") or {})
        self.pickups = {str(k): str(v) for k, v in (state.get("pickups") or {}).items()}
        self.links = {str(k): [str(x) for x in v] for k, v in (state.get("links") or {}).items()}
        for token in [*self.widgets, *self.pickups]:
            self.tenant.registry.index_token(token, self.tenant)


def _check_travel_address(value: Any) -> None:
    if value not in (None, "") and not (isinstance(value, str) and _TRAVEL_ADDRESS.match(value)):
        raise ValidationFailed.field("travel_address", BAD_TRAVEL_ADDRESS)


def existing_book(tenant: Tenant) -> TravelRuleBook | None:
    """The tenant's book if it has one (looking at other applications creates nothing)."""
    found = tenant._components.get(TravelRuleBook)  # noqa: SLF001 - a read-only peek at the components
    return found if isinstance(found, TravelRuleBook) else None


def directory(own: Tenant, others: list[Tenant], search: str | None) -> list[dict[str, Any]]:
    """The VASPs an application sees, name-sorted: discoverable Didit customers (other enabled
    applications of this server) and the fictional directory; never itself."""
    found = [copy.deepcopy(v) for v in DIRECTORY]
    for tenant in others:
        if tenant is own:
            continue
        book = existing_book(tenant)
        settings = None if book is None else book.settings
        if settings and settings["is_enabled"] and settings["is_discoverable"]:
            found.append({"name": settings["legal_name"], "lei": settings["lei"],
                          "jurisdiction": settings["jurisdiction"], "dd_status": "COMPLETED", "dd_score": 0,
                          "reachable_rails": ["INTERNAL"], "is_didit_customer": True, "dd_score_breakdown": {},
                          "dd_assessed_at": None})
    needle = (search or "").strip().casefold()
    found = [v for v in found if needle in v["name"].casefold()] if needle else found
    return sorted(found, key=lambda v: v["name"].casefold())


def _export(tenant: Tenant) -> dict[str, Any]:
    return tenant.component(TravelRuleBook).export_state()


def _parse(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("addresses") or [], list) or \
            not all(isinstance(e, dict) and "uuid" in e for e in value.get("addresses") or []) or \
            not isinstance(value.get("settings") or {}, dict) or not isinstance(value.get("transfers") or {}, dict) or \
            not all(isinstance(v, (int, float)) for v in (value.get("deadlines") or {}).values()):
        raise StateInvalid(f"{path}: an object with settings and addresses is expected.")
    return value


def _restore(tenant: Tenant, value: dict[str, Any]) -> None:
    from .transfers import reschedule  # transfers build on this book

    tenant.component(TravelRuleBook).import_state(value)
    reschedule(tenant)


#: The `extensions.travel_rule` section of the state document.
TRAVEL_RULE_SECTION = StateSection("travel_rule", _export, _parse, _restore)
