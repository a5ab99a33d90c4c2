"""The generic store's state as a section of the state document (`extensions.resources`)."""

from __future__ import annotations

from typing import Any

from ..domain.state import StateInvalid, StateSection
from ..domain.tenant import Tenant
from .store import ResourceStore


def _export(tenant: Tenant) -> dict[str, Any]:
    return tenant.component(ResourceStore).export_state()


def _parse(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StateInvalid(f"{path}: an object is expected.")
    try:
        ResourceStore.check_state(value)
    except ValueError as problem:
        raise StateInvalid(f"{path}.{problem}") from None
    return value


def _restore(tenant: Tenant, value: dict[str, Any]) -> None:
    tenant.component(ResourceStore).import_state(value)


RESOURCES_SECTION = StateSection("resources", _export, _parse, _restore)
