"""Users and businesses (`/v3/users/`, `/v3/businesses/`): the entities sessions build up, by `vendor_data`.

An entity is created by the first session of its `vendor_data` (a KYB workflow's session makes a
business, any other a user) or by the create route. What the sessions say (counts, statuses per
feature, first and last session, approved issuing states, e-mails and phones, the name) is derived
from them whenever the entity is read; what the API sets (names, metadata, status, lists) is kept.

Blocking: the system list of blocked users/businesses holds the entities whose status was set to
`BLOCKED` through update-status (and, for businesses, through PATCH); a new session of a listed
`vendor_data` is refused. A user PATCH changes the status without touching that list, as Didit's does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from . import statuses as st
from .errors import NotFound, ValidationFailed
from .rng import uuid4_of

if TYPE_CHECKING:
    from .sessions import NewSession, Session
    from .tenant import Tenant

USER = "user"
BUSINESS = "business"
ACTIVE, FLAGGED, BLOCKED = "ACTIVE", "FLAGGED", "BLOCKED"
STATUSES = (ACTIVE, FLAGGED, BLOCKED)
INVALID_STATUS = "Invalid status. Valid options are: ACTIVE, FLAGGED, BLOCKED"
BLOCKED_SESSION = "This user or business has been blocked and cannot create new verification sessions."
METADATA_NOT_OBJECT = "Metadata must be a JSON object."
#: A list's `count` is exact up to this many entities, then capped.
COUNT_CAP = 100
#: What an entity holds before the API sets a profile, metadata or lists: one shared, read-only
#: mapping (most entities are made by their first session and never changed); changes replace it.
NOTHING: Mapping[str, Any] = MappingProxyType({})
#: Decision feature -> the user's feature key.
USER_FEATURES = (
    "ID_VERIFICATION", "NFC", "LIVENESS", "FACE_MATCH", "POA", "QUESTIONNAIRE", "EMAIL_VERIFICATION", "PHONE",
    "AML", "IP_ANALYSIS", "AGE_ESTIMATION", "DATABASE_VALIDATION",
)
#: The fields each kind keeps as the API sets them.
PROFILE_FIELDS = {
    USER: ("full_name", "display_name", "date_of_birth"),
    BUSINESS: ("display_name", "legal_name", "registration_number", "country_code"),
}


@dataclass(slots=True)
class Entity:
    """A user or a business (`profile` holds only the fields given).

    `profile`, `metadata`, `lists` and `comments` are replaced, never changed in place, so an
    entity nobody changed shares the empty ones (`NOTHING`).
    """

    kind: str
    didit_internal_id: str
    vendor_data: str | None
    status: str
    profile: Mapping[str, Any]
    metadata: Mapping[str, Any]
    #: Lists set through the API (absent: derived from the approved sessions).
    lists: Mapping[str, list[Any]]
    created_at: float
    updated_at: float
    last_activity_at: float
    blocklisted: bool = False
    comments: tuple[dict[str, Any], ...] | list[dict[str, Any]] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "didit_internal_id": self.didit_internal_id, "vendor_data": self.vendor_data,
            "status": self.status, "profile": dict(self.profile), "metadata": dict(self.metadata),
            "lists": {k: list(v) for k, v in self.lists.items()}, "created_at": self.created_at,
            "updated_at": self.updated_at, "last_activity_at": self.last_activity_at,
            "blocklisted": self.blocklisted, "comments": list(self.comments),
        }


class EntityBook:
    """A tenant's users and businesses (deleted ones are gone)."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self._entities: dict[str, dict[str, Entity]] = {USER: {}, BUSINESS: {}}
        self._by_vendor: dict[tuple[str, str], Entity] = {}
        #: The entities first sessions made that nobody has read yet, built on the first read: (kind,
        #: vendor_data) -> (the bits of the id drawn at the session, created_at, updated_at, last_activity_at).
        #: Tuples of numbers, which the garbage collector stops watching (a list it would walk at every pass).
        self._unbuilt: dict[tuple[str, str], tuple[int, float, float, float]] = {}

    @property
    def entities(self) -> dict[str, dict[str, Entity]]:
        """Every entity by kind and `didit_internal_id`, in the order they were made."""
        if self._unbuilt:
            self._build()
        return self._entities

    def _build(self) -> None:
        unbuilt, self._unbuilt = self._unbuilt, {}
        for (kind, vendor_data), (bits, created_at, updated_at, last_activity_at) in unbuilt.items():
            self._add(Entity(kind, uuid4_of(bits), vendor_data, ACTIVE, NOTHING, NOTHING, NOTHING,
                             created_at, updated_at, last_activity_at))

    def by_vendor(self, kind: str, vendor_data: str) -> Entity | None:
        if self._unbuilt:
            self._build()
        return self._by_vendor.get((kind, vendor_data))

    def record_session(self, kind: str, session: Session) -> None:
        """A session of `session.vendor_data`: its entity's last activity, or a new entity (built when read)."""
        key = (kind, session.vendor_data)
        entity = self._by_vendor.get(key)
        if entity is not None:
            entity.last_activity_at = session.created_at
            return
        unbuilt = self._unbuilt.get(key)
        if unbuilt is not None:
            self._unbuilt[key] = (*unbuilt[:3], session.created_at)
        else:  # the id is drawn now, so that ids follow the order of creation as always
            self._unbuilt[key] = (self.tenant.rng.uuid4_bits(), session.created_at, self.tenant.clock.timestamp(),
                                  session.created_at)

    def _add(self, entity: Entity) -> None:
        self._entities[entity.kind][entity.didit_internal_id] = entity
        if entity.vendor_data is not None:
            self._by_vendor[(entity.kind, entity.vendor_data)] = entity

    def get(self, kind: str, vendor_data: str, message: str = "Not found.") -> Entity:
        found = self.by_vendor(kind, vendor_data)
        if found is None:
            raise NotFound(message)
        return found

    def blocks(self, vendor_data: str) -> bool:
        by_vendor = self._by_vendor  # an entity not built yet is new, hence active
        user, business = by_vendor.get((USER, vendor_data)), by_vendor.get((BUSINESS, vendor_data))
        return (user is not None and user.blocklisted) or (business is not None and business.blocklisted)

    def create(self, kind: str, vendor_data: str | None, values: dict[str, Any]) -> Entity:
        if self._unbuilt:  # those made earlier come first
            self._build()
        if vendor_data is not None and self.by_vendor(kind, vendor_data) is not None:
            label = "A user" if kind == USER else "A business"
            raise ValidationFailed.field("vendor_data", f"{label} with this vendor_data already exists.")
        now = self.tenant.clock.timestamp()
        status = values.get("status") or ACTIVE
        entity = Entity(
            kind=kind, didit_internal_id=self.tenant.rng.uuid4(), vendor_data=vendor_data, status=status,
            profile=NOTHING, metadata=NOTHING, lists=NOTHING,
            created_at=now, updated_at=now, last_activity_at=now, blocklisted=status == BLOCKED,
        )
        if values:  # a user made through the API (the first session of a vendor_data gives none)
            entity.profile = {k: value for k in PROFILE_FIELDS[kind] if (value := values.get(k)) is not None} \
                or NOTHING
            entity.metadata = dict(values.get("metadata") or {}) or NOTHING
            entity.lists = {k: list(values[k]) for k in ("approved_emails", "approved_phones", "issuing_states")
                            if values.get(k) is not None} or NOTHING
        self._add(entity)
        return entity

    def update(self, entity: Entity, values: dict[str, Any], sync_blocklist: bool) -> None:
        """A PATCH: each field given replaces the kept one; `<kind>.data.updated` names what changed
        and `<kind>.status.updated` tells a status change."""
        changes: dict[str, dict[str, Any]] = {}

        def change(name: str, previous: Any, current: Any) -> None:
            if previous != current:
                changes[name] = {"previous": previous, "current": current}

        for key in PROFILE_FIELDS[entity.kind]:
            if key in values:
                change(key, entity.profile.get(key), values[key])
                entity.profile = {**entity.profile, key: values[key]}
        if "metadata" in values:
            change("metadata", dict(entity.metadata), dict(values["metadata"] or {}))
            entity.metadata = dict(values["metadata"] or {})
        for key in ("approved_emails", "approved_phones", "issuing_states"):
            if key in values:
                change(key, entity.lists.get(key), list(values[key] or []))
                entity.lists = {**entity.lists, key: list(values[key] or [])}
        previous = entity.status
        if values.get("status") is not None:
            entity.status = values["status"]
            if sync_blocklist:
                entity.blocklisted = entity.status == BLOCKED
        self._touch(entity)
        if changes:
            self._emit(entity, "data.updated", {"changed_fields": sorted(changes), "changes": changes})
        if entity.status != previous:
            self._emit(entity, "status.updated", {"previous_status": previous})

    def set_status(self, entity: Entity, status: str) -> None:
        """update-status: the status, the system blocklist entry, and a STATUS_CHANGED comment."""
        previous = entity.status
        entity.status = status
        entity.blocklisted = status == BLOCKED
        if entity.kind == USER:
            entity.comments = [*entity.comments, {
                "uuid": self.tenant.rng.uuid4(), "comment_type": "STATUS_CHANGED",
                "comment": f"Status changed from {previous} to {status}", "actor_email": None, "actor_name": None,
                "previous_status": previous, "new_status": status, "previous_value": None, "new_value": None,
                "changed_fields": ["status"], "metadata": {}, "mentioned_emails": [],
                "created_at": iso(self.tenant.clock.timestamp()),
            }]
        self._touch(entity)
        if status != previous:
            self._emit(entity, "status.updated", {"previous_status": previous})

    def _emit(self, entity: Entity, what: str, extra: dict[str, Any]) -> None:
        """The `user.*` / `business.*` webhook of a change."""
        from .events import DomainEvent

        self.tenant.events.emit(DomainEvent(
            f"{entity.kind}.{what}", entity.kind, entity.didit_internal_id, entity.status,
            self.tenant.clock.timestamp(), {"vendor_data": entity.vendor_data, **extra}))

    def delete(self, kind: str, vendor_data: list[str] | None, ids: list[str] | None, everything: bool) -> int:
        book = self.entities[kind]
        if everything:
            doomed = list(book)
        else:
            wanted_vd = set(vendor_data or ())
            wanted_id = set(ids or ())
            doomed = [i for i, e in book.items() if i in wanted_id or (e.vendor_data is not None
                                                                        and e.vendor_data in wanted_vd)]
        for internal_id in doomed:
            entity = book.pop(internal_id)
            if entity.vendor_data is not None:
                self._by_vendor.pop((kind, entity.vendor_data), None)
        if kind == USER and doomed:
            from .user_faces import forget

            forget(self.tenant, doomed)
        return len(doomed)

    def _touch(self, entity: Entity) -> None:
        now = self.tenant.clock.timestamp()
        entity.updated_at = now
        entity.last_activity_at = now

    def restore(self, entities: list[Entity]) -> None:
        self._entities = {USER: {}, BUSINESS: {}}
        self._by_vendor = {}
        self._unbuilt = {}
        for entity in entities:
            self._add(entity)


def book(tenant: Tenant) -> EntityBook:
    return tenant.component(EntityBook)


def kind_of(session: Session) -> str:
    """A KYB workflow's session or a KYB registry retrieval is a business's; any other a user's."""
    if session.workflow.template == "kyb":
        return BUSINESS
    extra = session.workflow.extra
    return BUSINESS if extra and extra.get("api_service") == "KYB_REGISTRY" else USER


# ---------------------------------------------------------------- the session wiring

def guard_session(tenant: Tenant, request: NewSession) -> None:
    """A new session of a blocked user or business is refused."""
    entities = tenant.component(EntityBook)
    if request.vendor_data is not None and entities.blocks(request.vendor_data):
        raise ValidationFailed.field("vendor_data", BLOCKED_SESSION, as_list=False)


def record_session(tenant: Tenant, session: Session) -> None:
    """The first session of a vendor_data creates its user (or business)."""
    if session.vendor_data is not None:
        tenant.component(EntityBook).record_session(kind_of(session), session)


# ---------------------------------------------------------------- rendering

def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sessions_of(tenant: Tenant, entity: Entity) -> list[Session]:
    """The entity's live sessions, oldest first."""
    from .sessions import book as session_book

    if entity.vendor_data is None:
        return []
    found = session_book(tenant).by_vendor.get(entity.vendor_data) or []
    return [s for s in found if not s.deleted and kind_of(s) == entity.kind]


def _feature_statuses(sessions: list[Session]) -> dict[str, str]:
    """Each feature's status in the newest session that ran it (an imported session ran the features
    its decision names: none for one imported from a file)."""
    features: dict[str, str] = {}
    for session in sessions:
        imported = (session.imported_decision or {}).get("features")
        for name in imported if isinstance(imported, list) else session.workflow.features:
            outcome = (session.outcomes or {}).get(name)
            finished = session.status in (st.APPROVED, st.DECLINED, st.IN_REVIEW, st.KYC_EXPIRED)
            features[name] = outcome.status if outcome is not None and finished else st.NOT_FINISHED
    return features


def _derived(tenant: Tenant, entity: Entity) -> dict[str, Any]:
    from .people import person_for

    sessions = sessions_of(tenant, entity)
    approved = [s for s in sessions if s.status == st.APPROVED]
    features = _feature_statuses(sessions)
    if entity.kind == BUSINESS:
        overall = {"KYB": sessions[-1].status} if sessions else {}
        features = overall
    else:
        features = {k: v for k, v in features.items() if k in USER_FEATURES}
    issuing: list[str] = []
    emails: list[str] = []
    phones: list[str] = []
    name = born = None
    for session in approved:
        person = person_for(tenant, session)
        if session.workflow.has("ID_VERIFICATION"):
            name, born = person.full_name, person.date_of_birth.isoformat()
            if person.issuing_state not in issuing:
                issuing.append(person.issuing_state)
        if session.workflow.has("EMAIL_VERIFICATION") and person.email not in emails:
            emails.append(person.email)
        if session.workflow.has("PHONE") and person.phone not in phones:
            phones.append(person.phone)
    return {
        "session_count": len(sessions),
        "approved_count": len(approved),
        "declined_count": sum(s.status == st.DECLINED for s in sessions),
        "in_review_count": sum(s.status == st.IN_REVIEW for s in sessions),
        "features": features,
        "features_list": [{"feature": k, "status": v} for k, v in features.items()],
        "first_session_at": iso(sessions[0].created_at) if sessions else None,
        "last_session_at": iso(sessions[-1].created_at) if sessions else None,
        "issuing_states": issuing, "approved_emails": emails, "approved_phones": phones,
        "full_name": name, "date_of_birth": born,
    }


def entity_json(tenant: Tenant, entity: Entity, detail: bool = True) -> dict[str, Any]:
    """The user or business object (detail), or its list row (`detail=False`)."""
    derived = _derived(tenant, entity)
    profile = entity.profile
    body: dict[str, Any] = {"didit_internal_id": entity.didit_internal_id, "vendor_data": entity.vendor_data}
    if entity.kind == USER:
        full_name = profile.get("full_name") or derived["full_name"]
        body.update({
            "display_name": profile.get("display_name"), "full_name": full_name,
            "date_of_birth": profile.get("date_of_birth") or derived["date_of_birth"],
            "effective_name": profile.get("display_name") or full_name, "status": entity.status,
            "portrait_image_url": None,
        })
    else:
        body.update({
            "display_name": profile.get("display_name"), "legal_name": profile.get("legal_name"),
            "registration_number": profile.get("registration_number"), "country_code": profile.get("country_code"),
            "effective_name": profile.get("display_name") or profile.get("legal_name"), "status": entity.status,
        })
    body.update({k: derived[k] for k in ("session_count", "approved_count", "declined_count", "in_review_count")})
    if entity.kind == USER:
        for key in ("issuing_states", "approved_emails", "approved_phones"):
            body[key] = list(entity.lists[key]) if key in entity.lists else derived[key]
    body.update({
        "features": derived["features"], "features_list": derived["features_list"],
        "last_session_at": derived["last_session_at"], "first_session_at": derived["first_session_at"],
        "last_activity_at": iso(entity.last_activity_at), "tags": [], "created_at": iso(entity.created_at),
    })
    if detail:
        body["metadata"] = dict(entity.metadata)
        if entity.kind == USER:
            body["comments"] = list(entity.comments)
        body["updated_at"] = iso(entity.updated_at)
    return body


def listing(tenant: Tenant, kind: str) -> list[Entity]:
    """The entities by last session, newest first (those without sessions last, newest first)."""
    entities = list(tenant.component(EntityBook).entities[kind].values())

    def key(entity: Entity) -> tuple[float, float]:
        sessions = sessions_of(tenant, entity)
        return (sessions[-1].created_at if sessions else float("-inf"), entity.created_at)

    return sorted(reversed(entities), key=key, reverse=True)  # equal keys: the later made first
