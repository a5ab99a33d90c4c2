"""Biometric templates: image-free face templates retained when a session is deleted with retention.

A session deleted with `retain_face_embeddings: true` (and a vendor_data) leaves an `active`
template until its `expires_at` on the tenant clock, when it is purged (`instruction_source:
"expiry"`); purged templates are never listed and their GET is a 404. Purging by id or in bulk
reports `purged` or `already_purged`.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .clock import iso, parse_iso
from .errors import NotFound, ValidationFailed

if TYPE_CHECKING:
    from .tenant import Tenant

ACTIVE, PURGED = "active", "purged"
STATUSES = ("pending", "active", "expired", "held_out_of_use", "purge_pending", "purge_failed")
SOURCE_TYPES = ("session_delete", "automatic_retention", "backfill")
ORDERINGS = ("retained_at", "-retained_at", "expires_at", "-expires_at")
NOT_FOUND = "Biometric template not found."
BAD_RANGE = "Must be on or after retained_from."


@dataclass
class Template:
    uuid: str
    vendor_data: str
    provenance_reference: str
    retained_at: float
    expires_at: float
    instruction_class: str
    instruction_id: str
    retention_override: bool | None
    order: int
    status: str = ACTIVE
    purged_at: float | None = None
    instruction_source: str = "api"

    def view(self, tenant: Tenant) -> dict[str, Any]:
        return {
            "uuid": self.uuid, "vendor_user_uuid": vendor_user_uuid(tenant, self.vendor_data),
            "vendor_data": self.vendor_data, "source_type": "session_delete",
            "provenance_reference": self.provenance_reference, "retention_policy": "delete_with_session",
            "retention_override": self.retention_override, "retained_at": _iso(self.retained_at),
            "expires_at": _iso(self.expires_at), "retained_by": tenant.application_id,
            "retained_by_type": "API_KEY", "instruction_class": self.instruction_class,
            "instruction_source": self.instruction_source, "instruction_id": self.instruction_id,
            "held_out_of_use": False, "status": self.status,
            "purged_at": _iso(self.purged_at) if self.purged_at is not None else None,
        }


class TemplateBook:
    """A tenant's templates, in retention order."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.templates: dict[str, Template] = {}
        self._order = 0

    def expire(self) -> None:
        """Purge the active templates whose `expires_at` has passed on the tenant clock."""
        now = self.tenant.clock.timestamp()
        for template in self.templates.values():
            if template.status == ACTIVE and now >= template.expires_at:
                template.status = PURGED
                template.purged_at = template.expires_at
                template.instruction_source = "expiry"

    def add(self, template: Template) -> None:
        self._order += 1
        template.order = self._order
        self.templates[template.uuid] = template

    def export_state(self) -> dict[str, Any]:
        return {"templates": [asdict(t) for t in self.templates.values()], "order": self._order}

    def import_state(self, state: dict[str, Any]) -> None:
        self.templates = {t["uuid"]: Template(**t) for t in state.get("templates", [])}
        self._order = int(state.get("order", 0))


def book(tenant: Tenant) -> TemplateBook:
    found = tenant.component(TemplateBook)
    found.expire()
    return found


def vendor_user_uuid(tenant: Tenant, vendor_data: str) -> str:
    """The User of a vendor_data, as an id derived from the application (no random draw)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"didit-mock:vendor-user:{tenant.application_id}:{vendor_data}"))


def retain(tenant: Tenant, template_uuid: str, vendor_data: str, *, retention_days: int | None,
           deadline: str | None, instruction_class: str, instruction_id: str | None) -> Template:
    """The template a session deletion with retention leaves (`template_uuid` from the deletion)."""
    now = tenant.clock.timestamp()
    if deadline is not None:
        try:
            expires = parse_iso(deadline).timestamp()
        except ValueError:
            expires = now + 365 * 86_400
    else:
        expires = now + (retention_days or 365) * 86_400
    template = Template(template_uuid, vendor_data, tenant.rng.uuid4(), now, expires, instruction_class,
                        instruction_id or "", True, 0)
    tenant.component(TemplateBook).add(template)
    return template


def _parse_time(name: str, value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        return parse_iso(value).timestamp()
    except ValueError:
        raise ValidationFailed.field(name, "Enter a valid date/time.") from None


def check_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters of a listing, count or bulk purge, checked (400 naming the field)."""
    status = filters.get("status") or None
    if status is not None and status not in STATUSES:
        raise ValidationFailed.field("status", f'"{status}" is not a valid choice.')
    source = filters.get("source_type") or None
    if source is not None and source not in SOURCE_TYPES:
        raise ValidationFailed.field("source_type", f'"{source}" is not a valid choice.')
    start = _parse_time("retained_from", filters.get("retained_from"))
    end = _parse_time("retained_to", filters.get("retained_to"))
    if start is not None and end is not None and end < start:
        raise ValidationFailed.field("retained_to", BAD_RANGE)
    return {"vendor_data": (filters.get("vendor_data") or "").casefold(),
            "vendor_user_uuid": filters.get("vendor_user_uuid") or None, "status": status,
            "source_type": source, "start": start, "end": end}


def find(tenant: Tenant, checked: dict[str, Any], ordering: str = "-retained_at") -> list[Template]:
    """The unpurged templates matching checked filters, in `ordering`."""
    chosen = []
    for template in book(tenant).templates.values():
        if template.status == PURGED:
            continue
        if checked["vendor_data"] and checked["vendor_data"] not in template.vendor_data.casefold():
            continue
        user = checked["vendor_user_uuid"]
        if user and user != vendor_user_uuid(tenant, template.vendor_data):
            continue
        if checked["status"] and template.status != checked["status"]:
            continue
        if checked["source_type"] and checked["source_type"] != "session_delete":
            continue
        # Times are shown to the microsecond: compare at that precision.
        if checked["start"] is not None and template.retained_at < checked["start"] - 1e-6:
            continue
        if checked["end"] is not None and template.retained_at > checked["end"] + 1e-6:
            continue
        chosen.append(template)
    key = ordering.lstrip("-")
    chosen.sort(key=lambda t: (getattr(t, key), t.order), reverse=ordering.startswith("-"))
    return chosen


def get(tenant: Tenant, template_uuid: str) -> Template:
    template = book(tenant).templates.get(template_uuid)
    if template is None or template.status == PURGED:
        raise NotFound(NOT_FOUND)
    return template


def purge(tenant: Tenant, template_uuid: str) -> dict[str, str]:
    template = book(tenant).templates.get(template_uuid)
    if template is None:
        raise NotFound(NOT_FOUND)
    return _purge(tenant, template)


def _purge(tenant: Tenant, template: Template) -> dict[str, str]:
    if template.status == PURGED:
        return {"uuid": template.uuid, "outcome": "already_purged"}
    template.status = PURGED
    template.purged_at = tenant.clock.timestamp()
    template.instruction_source = "explicit_template_purge"
    return {"uuid": template.uuid, "outcome": "purged"}


def bulk_purge(tenant: Tenant, body: dict[str, Any]) -> list[dict[str, str]]:
    """Purge by ids, or every template matching the filters with `delete_all`; all or nothing."""
    if body.get("delete_all"):
        targets = find(tenant, check_filters(body), "retained_at")
    else:
        ids = body.get("template_uuids")
        if not ids:
            raise ValidationFailed.field("template_uuids", "This field is required unless delete_all is true.")
        templates = book(tenant).templates
        unknown = [i for i in ids if str(i).lower() not in templates]
        if unknown:
            raise ValidationFailed.field("template_uuids", f"Biometric template not found: {unknown[0]}.")
        targets = [templates[str(i).lower()] for i in dict.fromkeys(ids)]
    return [_purge(tenant, t) for t in targets]


def _iso(timestamp: float) -> str:
    return iso(datetime.fromtimestamp(timestamp, tz=timezone.utc))


# ---------------------------------------------------------------- persistence

def state_section() -> Any:
    """The templates' section of the state document (`extensions.biometric_templates`)."""
    from .state import StateInvalid, StateSection

    def export(tenant: Tenant) -> dict[str, Any]:
        return tenant.component(TemplateBook).export_state()

    def parse(value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise StateInvalid(f"{path}: an object is expected.")
        try:
            for item in value.get("templates", []):
                Template(**item)
        except TypeError as problem:
            raise StateInvalid(f"{path}: {problem}") from None
        return value

    def restore(tenant: Tenant, value: dict[str, Any]) -> None:
        tenant.component(TemplateBook).import_state(value)

    return StateSection("biometric_templates", export, parse, restore)
