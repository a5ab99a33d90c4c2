"""The tenant's blocklist as a state section (the entry's `blocklist`: its entries and last order number)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from .blocklist import BlockEntry, blocklist
from .state import Reader, StateInvalid, StateSection, dataclass_from, unique
from .tenant import Tenant

ITEM_TYPES = ("face", "document", "phone", "email")


def _export(tenant: Tenant) -> dict[str, Any]:
    book = blocklist(tenant)
    return {"blocklist": {
        "last_order": book.last_order,
        "entries": [{f.name: getattr(e, f.name) for f in fields(BlockEntry)} for e in book.entries.values()],
    }}


def _parse(data: Any, path: str) -> tuple[list[BlockEntry], int]:
    r = Reader(data, path).obj("blocklist")
    kinds = {f.name: "str?" for f in fields(BlockEntry)}
    kinds.update({"type": "str", "value": "str", "session_id": "str", "session_number": "int?",
                  "session_created_at": "float", "blocklisted_at": "float", "order": "int"})
    entries = []
    for item in r.items("entries"):
        entry = dataclass_from(BlockEntry, item, kinds)
        if entry.type not in ITEM_TYPES:
            raise StateInvalid(f"{item.at('type')}: {entry.type!r} is not face, document, phone or email.")
        entries.append(entry)
    unique([(e.session_id, e.type) for e in entries], r.at("entries"), "(session_id, type)")
    return entries, r("last_order", "int")


def _restore(tenant: Tenant, parsed: tuple[list[BlockEntry], int]) -> None:
    entries, last_order = parsed
    blocklist(tenant).restore(entries, last_order)


BLOCKLIST_SECTION = StateSection("blocklist", _export, _parse, _restore, fields=("blocklist",))
