"""Users and businesses as a section of the state document (`extensions.entities`)."""

from __future__ import annotations

from typing import Any

from .state import Reader, StateInvalid, StateSection, check
from .tenant import Tenant
from .users import BUSINESS, STATUSES, USER, Entity, EntityBook


def _export(tenant: Tenant) -> list[dict[str, Any]]:
    book = tenant.component(EntityBook)
    return [e.to_json() for kind in (USER, BUSINESS) for e in book.entities[kind].values()]


def _parse(value: Any, path: str) -> list[Entity]:
    if not isinstance(value, list):
        raise StateInvalid(f"{path}: a list is expected.")
    entities = []
    seen: set[tuple[str, str]] = set()
    for i, raw in enumerate(value):
        r = Reader(raw, f"{path}[{i}]")
        lists = r("lists", "object")
        for name, items in lists.items():
            check(items, "list", f"{r.at('lists')}.{name}")
        entity = Entity(
            kind=r.choice("kind", (USER, BUSINESS)), didit_internal_id=r("didit_internal_id", "str"),
            vendor_data=r("vendor_data", "str?"), status=r.choice("status", STATUSES), profile=r("profile", "object"),
            metadata=r("metadata", "object"), lists=lists, created_at=r("created_at", "float"),
            updated_at=r("updated_at", "float"), last_activity_at=r("last_activity_at", "float"),
            blocklisted=r("blocklisted", "bool", False),
            comments=[check(c, "object", f"{r.at('comments')}[{j}]") for j, c in enumerate(r("comments", "list", []))],
        )
        if entity.vendor_data is not None:
            key = (entity.kind, entity.vendor_data)
            if key in seen:
                raise StateInvalid(f"{r.at('vendor_data')}: {entity.vendor_data!r} appears twice.")
            seen.add(key)
        entities.append(entity)
    return entities


def _restore(tenant: Tenant, entities: list[Entity]) -> None:
    tenant.component(EntityBook).restore(entities)


ENTITIES_SECTION = StateSection("entities", _export, _parse, _restore)
