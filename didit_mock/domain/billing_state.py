"""The billing of a tenant in the state document (its balance settings and top-up checkouts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import billing as domain
from .state import StateInvalid, StateSection

if TYPE_CHECKING:
    from .tenant import Tenant


def _export(tenant: Tenant) -> dict[str, Any]:
    return domain.billing(tenant).export_state()


def _parse(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StateInvalid(f"{path}: an object is expected.")
    try:
        domain.BillingSettings(**value.get("settings", {}))
        for item in value.get("checkouts", []):
            domain.Checkout(**item)
    except TypeError as problem:
        raise StateInvalid(f"{path}: {problem}") from None
    return value


def _restore(tenant: Tenant, value: dict[str, Any]) -> None:
    domain.billing(tenant).import_state(value)


BILLING_SECTION = StateSection("billing", _export, _parse, _restore)
