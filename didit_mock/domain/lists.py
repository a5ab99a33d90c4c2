"""Lists (`/v3/lists/`): the system blocklists, allowlists and custom lists of an application.

One store, two APIs: the system blocklists of faces, documents, phones and e-mails show the
session-derived entries of the blocklist (`domain.blocklist`, written by `/v3/blocklist/add/`) next
to the entries added here. An entry added here with `reference_session_id` is a blocklist entry of
that session (it appears in `GET /v3/blocklist/` too); one added with a `value` matches that value.
While a blocking entry exists, a finishing session whose person matches it is declined with the
`*_IN_BLOCKLIST` warning (`decline_listed`, an outcome policy of the registry's wiring).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import blocklist as bl
from . import statuses as st
from .clock import iso
from .errors import DiditError, NotFound, ValidationFailed

if TYPE_CHECKING:
    from .outcomes import FeatureOutcome
    from .sessions import Session
    from .tenant import Tenant

BLOCKLIST = "blocklist"
ALLOWLIST = "allowlist"
CUSTOM = "custom"
LIST_TYPES = (BLOCKLIST, ALLOWLIST, CUSTOM)
ENTRY_TYPES = ("face", "document", "phone", "email", "ip_address", "device_fingerprint", "wallet_address",
               "bank_account", "user", "business", "country", "key")
#: Entry types with a system blocklist (every type but `country` and `key`), and their list names.
SYSTEM_BLOCKLISTS = {
    "face": "Face blocklist", "document": "Document blocklist", "phone": "Phone blocklist",
    "email": "Email blocklist", "ip_address": "IP address blocklist",
    "device_fingerprint": "Device fingerprint blocklist", "wallet_address": "Wallet address blocklist",
    "bank_account": "Bank account blocklist", "user": "User blocklist", "business": "Business blocklist",
}
HIGH_RISK_COUNTRIES = "High Risk Countries"
#: Entry types whose system blocklist entries share the session-derived blocklist.
SHARED_TYPES = bl.ITEM_TYPES

SYSTEM_IMMUTABLE = "System lists cannot be modified."
SYSTEM_UNDELETABLE = "System lists cannot be deleted."
NO_BLOCKLIST_CREATE = "Blocklists cannot be created; use the system blocklist for this entry type."
DUPLICATE_NAME = "A list with this name already exists."
DUPLICATE_VALUE = "This value is already in the list."
VALUE_OR_SESSION = "Either value or reference_session_id is required."
NO_RECORD = "The session has no {kind} to add to this list."
_FINGERPRINT = re.compile(r"^[A-Za-z0-9\-_:.]{8,}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class ListRecord:
    uuid: str
    name: str
    description: str
    list_type: str
    entry_type: str
    is_system: bool
    created_at: float
    order: int


@dataclass
class Entry:
    """An entry added through the lists API with a value (session-derived ones live in the blocklist)."""

    uuid: str
    list_uuid: str
    value: str
    created_at: float
    order: int
    display_label: str = ""
    comment: str | None = None
    reference_object_uuid: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid, "value": self.value, "display_label": self.display_label, "comment": self.comment,
            "added_by": "api", "reference_session_id": None, "reference_session_number": None,
            "reference_object_uuid": self.reference_object_uuid, "metadata": self.metadata,
            "created_at": _iso(self.created_at),
        }


class ListBook:
    """A tenant's lists and value entries; the system lists exist from the start."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.lists: dict[str, ListRecord] = {}
        self.entries: dict[str, Entry] = {}
        self._order = 0
        self._add_system_lists(tenant.clock.timestamp())

    def _add_system_lists(self, now: float) -> None:
        for entry_type, name in SYSTEM_BLOCKLISTS.items():
            self._put_list(ListRecord(self._system_uuid(entry_type), name, "", BLOCKLIST, entry_type, True, now, 0))
        self._put_list(ListRecord(self._system_uuid("country"), HIGH_RISK_COUNTRIES, "", CUSTOM, "country", True,
                                  now, 0))

    def _system_uuid(self, entry_type: str) -> str:
        """System lists have ids derived from the application (no random draw)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"didit-mock:list:{self.tenant.application_id}:{entry_type}"))

    def _put_list(self, record: ListRecord) -> None:
        self._order += 1
        record.order = self._order
        self.lists[record.uuid] = record

    def next_order(self) -> int:
        self._order += 1
        return self._order

    def get(self, list_uuid: str) -> ListRecord:
        record = self.lists.get(list_uuid)
        if record is None:
            raise NotFound()
        return record

    def system_blocklist(self, entry_type: str) -> ListRecord:
        return self.lists[self._system_uuid(entry_type)]

    def value_entries(self, list_uuid: str) -> list[Entry]:
        return [e for e in self.entries.values() if e.list_uuid == list_uuid]

    def blocks(self, entry_type: str, value: str) -> bool:
        """Whether a value entry of the system blocklist of `entry_type` holds `value`."""
        list_uuid = self._system_uuid(entry_type)
        return any(e.list_uuid == list_uuid and e.value == value for e in self.entries.values())

    # ------------------------------------------------------------ state

    def export_state(self) -> dict[str, Any]:
        return {"lists": [asdict(r) for r in self.lists.values() if not r.is_system],
                "system_created_at": next((r.created_at for r in self.lists.values() if r.is_system), None),
                "entries": [asdict(e) for e in self.entries.values()], "order": self._order}

    def import_state(self, state: dict[str, Any]) -> None:
        self.lists.clear()
        self.entries.clear()
        self._order = 0
        created = state.get("system_created_at")
        self._add_system_lists(float(created) if created is not None else self.tenant.clock.timestamp())
        for item in state.get("lists", []):
            record = ListRecord(**item)
            self.lists[record.uuid] = record
        for item in state.get("entries", []):
            entry = Entry(**item)
            self.entries[entry.uuid] = entry
        self._order = max(int(state.get("order", 0)), self._order)


def book(tenant: Tenant) -> ListBook:
    return tenant.component(ListBook)


# ---------------------------------------------------------------- lists

def list_view(tenant: Tenant, record: ListRecord) -> dict[str, Any]:
    entries = entries_of(tenant, record)
    last = max((e["created_at"] for e in entries), default=None)
    return {
        "uuid": record.uuid, "name": record.name, "description": record.description,
        "list_type": record.list_type, "entry_type": record.entry_type, "is_system": record.is_system,
        "entry_count": len(entries), "last_entry_added_at": last, "created_at": _iso(record.created_at),
    }


def find_lists(tenant: Tenant, list_type: str | None, entry_type: str | None, newest_first: bool) -> list[ListRecord]:
    chosen = [r for r in book(tenant).lists.values()
              if (list_type is None or r.list_type == list_type) and (entry_type is None or r.entry_type == entry_type)]
    return sorted(chosen, key=lambda r: (r.created_at, r.order), reverse=newest_first)


def create_list(tenant: Tenant, name: str, description: str, list_type: str, entry_type: str) -> ListRecord:
    if list_type == BLOCKLIST:
        raise ValidationFailed.field("list_type", NO_BLOCKLIST_CREATE)
    lists = book(tenant)
    _unique_name(lists, name, None)
    record = ListRecord(tenant.rng.uuid4(), name, description, list_type, entry_type, False,
                        tenant.clock.timestamp(), 0)
    lists._put_list(record)
    return record


def update_list(tenant: Tenant, list_uuid: str, changes: dict[str, Any]) -> ListRecord:
    lists = book(tenant)
    record = lists.get(list_uuid)
    if record.is_system:
        raise DiditError({"detail": SYSTEM_IMMUTABLE}, 403)
    if "name" in changes:
        name = str(changes["name"])
        if not name.strip():
            raise ValidationFailed.field("name", "This field may not be blank.")
        _unique_name(lists, name, record.uuid)
        record.name = name
    if "description" in changes:
        record.description = str(changes["description"] or "")
    return record


def delete_list(tenant: Tenant, list_uuid: str) -> None:
    lists = book(tenant)
    record = lists.get(list_uuid)
    if record.is_system:
        raise DiditError({"detail": SYSTEM_UNDELETABLE}, 403)
    for entry in lists.value_entries(list_uuid):
        del lists.entries[entry.uuid]
    del lists.lists[list_uuid]


def _unique_name(lists: ListBook, name: str, own: str | None) -> None:
    if not name.strip():
        raise ValidationFailed.field("name", "This field may not be blank.")
    if any(r.name.casefold() == name.casefold() and r.uuid != own for r in lists.lists.values()):
        raise ValidationFailed.field("name", DUPLICATE_NAME)


# ---------------------------------------------------------------- entries

def entries_of(tenant: Tenant, record: ListRecord) -> list[dict[str, Any]]:
    """Every entry of a list, oldest first: value entries, and for the shared system blocklists the
    session-derived blocklist entries of that type."""
    lists = book(tenant)
    rows: list[tuple[float, int, dict[str, Any]]] = [
        (e.created_at, e.order, e.to_dict()) for e in lists.value_entries(record.uuid)]
    if record.is_system and record.list_type == BLOCKLIST and record.entry_type in SHARED_TYPES:
        for block in bl.blocklist(tenant).newest_first(record.entry_type):
            rows.append((block.blocklisted_at, -1, _block_view(tenant, block)))
    rows.sort(key=lambda row: (row[0], row[1]))
    return [row[2] for row in rows]


def search_entries(rows: list[dict[str, Any]], search: str | None) -> list[dict[str, Any]]:
    if not search:
        return rows
    needle = search.casefold()
    return [r for r in rows if needle in r["value"].casefold() or needle in r["display_label"].casefold()]


def _block_uuid(tenant: Tenant, session_id: str, item_type: str) -> str:
    name = f"didit-mock:list-entry:{tenant.application_id}:{session_id}:{item_type}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _block_view(tenant: Tenant, block: bl.BlockEntry) -> dict[str, Any]:
    return {
        "uuid": _block_uuid(tenant, block.session_id, block.type), "value": block.value, "display_label": "",
        "comment": None, "added_by": "api", "reference_session_id": block.session_id,
        "reference_session_number": block.session_number,
        "reference_object_uuid": block.face_id if block.type == bl.FACE else None,
        "metadata": {}, "created_at": _iso(block.blocklisted_at),
    }


def add_entry(tenant: Tenant, list_uuid: str, body: dict[str, Any]) -> dict[str, Any]:
    """A new entry: from a session's record (`reference_session_id`) or a value checked per type."""
    lists = book(tenant)
    record = lists.get(list_uuid)
    session_id = body.get("reference_session_id")
    if session_id and not body.get("value"):
        return _add_from_session(tenant, record, str(session_id))
    if not body.get("value"):
        raise ValidationFailed.field("value", VALUE_OR_SESSION)
    value = normalise_value(record.entry_type, str(body["value"]))
    if any(e.value == value for e in lists.value_entries(record.uuid)):
        raise ValidationFailed.field("value", DUPLICATE_VALUE)
    entry = Entry(
        uuid=tenant.rng.uuid4(), list_uuid=record.uuid, value=value, created_at=tenant.clock.timestamp(),
        order=lists.next_order(), display_label=str(body.get("display_label") or ""),
        comment=body.get("comment"), reference_object_uuid=body.get("reference_object_uuid"),
        metadata=dict(body.get("metadata") or {}),
    )
    lists.entries[entry.uuid] = entry
    return entry.to_dict()


def add_face(tenant: Tenant, list_uuid: str, comment: str | None) -> dict[str, Any]:
    """A face entry from an uploaded image: the value is a new face id (no image is kept)."""
    lists = book(tenant)
    record = lists.get(list_uuid)
    if record.entry_type != "face" or record.list_type not in (BLOCKLIST, ALLOWLIST):
        raise ValidationFailed.field("image", "Face upload is only available for face blocklists and allowlists.")
    face_id = tenant.rng.uuid4()
    entry = Entry(uuid=tenant.rng.uuid4(), list_uuid=record.uuid, value=face_id, created_at=tenant.clock.timestamp(),
                  order=lists.next_order(), comment=comment, reference_object_uuid=face_id)
    lists.entries[entry.uuid] = entry
    return entry.to_dict()


def _add_from_session(tenant: Tenant, record: ListRecord, session_id: str) -> dict[str, Any]:
    kind = record.entry_type
    if not (record.is_system and record.list_type == BLOCKLIST and kind in SHARED_TYPES):
        raise ValidationFailed.field("reference_session_id", "Entries of this list need a value.")
    added = bl.add(tenant, session_id, [kind])  # 404 for an unknown session
    existing = bl.blocklist(tenant).entries.get((session_id, kind))
    if not added and existing is None:
        raise ValidationFailed.field("reference_session_id", NO_RECORD.format(kind=kind.replace("_", " ")))
    assert existing is not None
    return _block_view(tenant, existing)


def delete_entry(tenant: Tenant, list_uuid: str, entry_uuid: str) -> None:
    lists = book(tenant)
    record = lists.get(list_uuid)
    entry = lists.entries.get(entry_uuid)
    if entry is not None and entry.list_uuid == record.uuid:
        del lists.entries[entry_uuid]
        return
    if record.is_system and record.list_type == BLOCKLIST and record.entry_type in SHARED_TYPES:
        blocks = bl.blocklist(tenant)
        for block in list(blocks.entries.values()):
            if block.type == record.entry_type and _block_uuid(tenant, block.session_id, block.type) == entry_uuid:
                blocks.drop(block.session_id, block.type)
                return
    raise NotFound()


def normalise_value(entry_type: str, raw: str) -> str:
    """The stored form of a value of `entry_type`, or a 400 naming the rule it breaks."""
    value = raw.strip()
    if not value:
        raise ValidationFailed.field("value", "This field may not be blank.")
    if entry_type == "email":
        if not _EMAIL.match(value):
            raise ValidationFailed.field("value", "Enter a valid email address.")
        return value.lower()
    if entry_type == "phone":
        from .otp.phone_facts import normalise

        number = normalise(value)
        if number is None:
            raise ValidationFailed.field("value", "Enter a valid international phone number (E.164).")
        return number
    if entry_type == "ip_address":
        try:
            return str(ipaddress.ip_network(value, strict=False)) if "/" in value else str(ipaddress.ip_address(value))
        except ValueError:
            raise ValidationFailed.field("value", "Enter a valid IPv4 or IPv6 address or CIDR range.") from None
    if entry_type == "device_fingerprint":
        if not _FINGERPRINT.match(value):
            raise ValidationFailed.field(
                "value", "A device fingerprint is at least 8 characters of letters, digits, '-', '_', ':' or '.'.")
        return value
    if entry_type == "country":
        from .people import COUNTRIES, country

        code = value.upper()
        if len(code) == 2 and re.fullmatch(r"[A-Z]{2}", code) and country(code).alpha3 != code:
            return country(code).alpha3
        if re.fullmatch(r"[A-Z]{3}", code) and (code in COUNTRIES or len(code) == 3):
            return code
        raise ValidationFailed.field("value", "Enter a valid ISO 3166-1 alpha-3 country code.")
    return value


# ---------------------------------------------------------------- the outcome policy

def decline_listed(tenant: Tenant, session: Session, planned: dict[str, FeatureOutcome]) -> None:
    """Outcome policy: a finishing session whose person matches a value entry of a system
    blocklist (face, document, phone, email) is declined on that feature with its warning."""
    lists = tenant.component(ListBook)
    if not lists.entries:
        return
    if not any(feature in planned for feature, _ in bl.POLICY_TARGETS.values()):
        return
    from .otp.phone_facts import normalise_loosely
    from .people import person_for

    person = person_for(tenant, session)
    values = {bl.FACE: person.face_id, bl.DOCUMENT: person.document_key,
              bl.PHONE: normalise_loosely(person.phone) if person.phone else "",
              bl.EMAIL: (person.email or "").lower()}
    for item_type, (feature, risk) in bl.POLICY_TARGETS.items():
        outcome = planned.get(feature)
        value = values[item_type]
        if outcome is None or not value or not lists.blocks(item_type, value):
            continue
        if not any(w.risk == risk for w in outcome.warnings):
            outcome.flag(risk, st.DECLINED)


def _iso(timestamp: float) -> str:
    return iso(datetime.fromtimestamp(timestamp, tz=timezone.utc))


# ---------------------------------------------------------------- persistence

def _export_state(tenant: Tenant) -> dict[str, Any]:
    return book(tenant).export_state()


def _parse_state(value: Any, path: str) -> dict[str, Any]:
    from .state import StateInvalid

    if not isinstance(value, dict):
        raise StateInvalid(f"{path}: an object is expected.")
    try:
        for item in value.get("lists", []):
            ListRecord(**item)
        for item in value.get("entries", []):
            Entry(**item)
        int(value.get("order", 0))
    except (TypeError, ValueError) as problem:
        raise StateInvalid(f"{path}: {problem}") from None
    return value


def _restore_state(tenant: Tenant, value: dict[str, Any]) -> None:
    book(tenant).import_state(value)


def state_section() -> Any:
    """The lists' section of the state document (`extensions.lists`)."""
    from .state import StateSection

    return StateSection("lists", _export_state, _parse_state, _restore_state)
