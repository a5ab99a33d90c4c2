"""The generic resource store: a tenant's JSON documents, by collection, with their real state.

A collection is declared as data (`resources.declaration.Collection`); the store keeps its
documents in creation order, makes ids with the tenant's random generator and times with its
clock, filters and pages them, applies declared transitions, and exports and imports its whole
state (the `Stateful` protocol of `domain.persistence`).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..domain.clock import iso
from ..domain.errors import DiditError, NotFound

if TYPE_CHECKING:
    from ..domain.tenant import Tenant
    from .declaration import Collection, Transition

Document = dict[str, Any]

#: A member declared as `"$omit"` is left out of the object it belongs to.
OMIT = "$omit"
OMITTED = object()


class ResourceStore:
    """Every declared collection of one tenant (a tenant component)."""

    state_key = "resources"

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        #: collection name -> id -> document, in creation order.
        self.documents: dict[str, dict[str, Document]] = {}
        #: collection name -> id -> the id of the parent document (nested collections).
        self.parents: dict[str, dict[str, str]] = {}
        #: collection name -> the last number given (collections with a `number_field`).
        self.numbers: dict[str, int] = {}

    # ---------------------------------------------------------------- reading

    def all(self, collection: Collection, parent: str | None = None) -> list[Document]:
        rows = self.documents.get(collection.name, {})
        if parent is None:
            return list(rows.values())
        owners = self.parents.get(collection.name, {})
        return [doc for key, doc in rows.items() if owners.get(key) == parent]

    def get(self, collection: Collection, key: str, parent: str | None = None) -> Document:
        document = self.documents.get(collection.name, {}).get(key)
        if document is None or (parent is not None and self.parents.get(collection.name, {}).get(key) != parent):
            raise NotFound()
        return document

    def find(self, collection: Collection, filters: dict[str, str], parent: str | None = None) -> list[Document]:
        """The documents whose fields equal the given filters (`a__in` takes a comma-separated list)."""
        rows = self.all(collection, parent)
        for name, wanted in filters.items():
            if name.endswith("__in"):
                allowed = {part.strip() for part in wanted.split(",") if part.strip()}
                field = name[:-4]
                rows = [doc for doc in rows if str(_field(doc, field)) in allowed]
            else:
                rows = [doc for doc in rows if _matches(_field(doc, name), wanted)]
        return rows

    # ---------------------------------------------------------------- writing

    def create(self, collection: Collection, template: Document, body: Document, parent: str | None = None) -> Document:
        """A new document: the declared shape, the request's fields over it, then id, number and times."""
        document = copy.deepcopy(template)
        document.update({k: copy.deepcopy(v) for k, v in body.items()
                         if (k in template or not template) and k not in collection.references})
        document.update(copy.deepcopy(collection.defaults))
        key = self.tenant.rng.uuid4()
        document[collection.id_field] = key
        if collection.number_field:
            number = self.numbers.get(collection.name, 0) + 1
            self.numbers[collection.name] = number
            document[collection.number_field] = collection.number_format.format(n=number)
        now = self.now()
        for name in ("created_at", "updated_at"):
            if name in template:
                document[name] = now
        self.documents.setdefault(collection.name, {})[key] = document
        if parent is not None:
            self.parents.setdefault(collection.name, {})[key] = parent
        return document

    def update(self, collection: Collection, key: str, body: Document, parent: str | None = None) -> Document:
        document = self.get(collection, key, parent)
        refused = collection.frozen_when
        if refused is not None and document.get(refused[0]) in refused[1]:
            raise DiditError({"detail": refused[2]}, 409)
        document.update({k: copy.deepcopy(v) for k, v in body.items() if k in document})
        if "updated_at" in document:
            document["updated_at"] = self.now()
        return document

    def delete(self, collection: Collection, key: str, parent: str | None = None) -> Document:
        document = self.get(collection, key, parent)
        refused = collection.frozen_when
        if refused is not None and document.get(refused[0]) in refused[1]:
            raise DiditError({"detail": refused[2]}, 409)
        del self.documents[collection.name][key]
        self.parents.get(collection.name, {}).pop(key, None)
        for child in collection.children:
            owners = self.parents.get(child, {})
            for child_key in [k for k, owner in owners.items() if owner == key]:
                self.documents.get(child, {}).pop(child_key, None)
                owners.pop(child_key, None)
        return document

    def transition(self, collection: Collection, key: str, step: Transition, body: Document) -> Document:
        """Apply a declared action: refuse it from the wrong state, else set its fields."""
        document = self.get(collection, key)
        refused = collection.frozen_when
        if refused is not None and document.get(refused[0]) in refused[1] and step.field == refused[0]:
            raise DiditError({"detail": refused[2]}, 409)
        self.check(step, document)
        values = {name: value for name, spec in step.sets.items()
                  if (value := self.value(spec, body, document)) is not OMITTED}
        document.update(values)
        if "updated_at" in document:
            document["updated_at"] = self.now()
        return document

    @staticmethod
    def check(step: Transition, document: Document) -> None:
        """Refuse `step` (its declared error) when the document is not in a state it starts from."""
        current = document.get(step.field)
        if (step.allowed_from and current not in step.allowed_from) or current in step.refused_when:
            status, message = step.refused
            raise DiditError({"detail": message.format(current=current)}, status)

    def value(self, spec: Any, body: Document, document: Document | None = None) -> Any:
        """A declared value: `$now`, `$body.<field>`, `$self.<path>`, `{"$if": <value>, "then": ...,
        "else": ...}`, or the value itself (objects value by value, leaving out the members whose
        value is `$omit`)."""
        if isinstance(spec, dict) and "$if" in spec:
            test = self.value(spec["$if"], body, document)
            chosen = spec["then"] if test not in (None, "", False) else spec.get("else")
            return self.value(chosen, body, document)
        if isinstance(spec, dict):
            return {name: value for name, item in spec.items()
                    if (value := self.value(item, body, document)) is not OMITTED}
        if spec == OMIT:
            return OMITTED
        if spec == "$now":
            return self.now()
        if isinstance(spec, str) and spec.startswith("$body."):
            return copy.deepcopy(body.get(spec[len("$body."):]))
        if isinstance(spec, str) and spec.startswith("$self."):
            return copy.deepcopy(_field(document or {}, spec[len("$self."):]))
        return copy.deepcopy(spec)

    def now(self) -> str:
        return iso(self.tenant.clock.now())

    # ---------------------------------------------------------------- the Stateful protocol

    def export_state(self) -> dict[str, Any]:
        return {
            "documents": {name: copy.deepcopy(rows) for name, rows in self.documents.items() if rows},
            "parents": {name: dict(owners) for name, owners in self.parents.items() if owners},
            "numbers": dict(self.numbers),
        }

    @staticmethod
    def check_state(state: dict[str, Any]) -> None:
        """Raise ValueError naming the place when `state` is not an exported store."""
        for name, rows in (state.get("documents") or {}).items():
            if not isinstance(rows, dict) or not all(isinstance(doc, dict) for doc in rows.values()):
                raise ValueError(f"documents.{name}: an object of documents by id is expected")
        for key in ("parents", "numbers"):
            value = state.get(key) or {}
            if not isinstance(value, dict):
                raise ValueError(f"{key}: an object is expected")
        for name, number in (state.get("numbers") or {}).items():
            if not isinstance(number, int) or isinstance(number, bool) or number < 0:
                raise ValueError(f"numbers.{name}: a whole number is expected")

    def import_state(self, state: dict[str, Any]) -> None:
        self.check_state(state)
        self.documents = {name: copy.deepcopy(rows) for name, rows in (state.get("documents") or {}).items()}
        self.parents = {name: {str(k): str(v) for k, v in owners.items()}
                        for name, owners in (state.get("parents") or {}).items()}
        self.numbers = dict(state.get("numbers") or {})

def _field(document: Document, name: str) -> Any:
    value: Any = document
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _matches(value: Any, wanted: str) -> bool:
    if isinstance(value, bool):
        return wanted.lower() in (("true", "1") if value else ("false", "0"))
    if isinstance(value, list):
        return wanted in [str(v) for v in value]
    if isinstance(value, dict):
        return wanted in (str(value.get("uuid")), str(value.get("id")))
    return str(value) == wanted
