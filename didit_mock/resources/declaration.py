"""How a collection of the generic store is declared: its operations, id, filters and transitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Transition:
    """An action endpoint that moves a document: from which states, to which field values.

    `sets` values may be `$now` (the tenant clock), `$body.<field>` (from the request or the values a
    handler passes), `$self.<path>` (the document before the change) or `{"$if": <value>, "then": ...,
    "else": ...}`; a member set to `$omit` is left out (of its object; at the top level the field
    keeps its value). The action is refused
    (`refused`) when `field` is not one of `allowed_from` (if given) or is one of `refused_when`.
    """

    operation: str
    sets: dict[str, Any] = field(default_factory=dict)
    field: str = "status"
    allowed_from: tuple[Any, ...] = ()
    refused_when: tuple[Any, ...] = ()
    refused: tuple[int, str] = (409, "This action is not allowed while the status is {current}.")


@dataclass(frozen=True)
class Collection:
    """A family served by the store. Operation ids name its list/create/get/update/delete routes.

    `shape_from` is the operation whose success schema is a document's shape (the get, else the
    create). `id_param` names the document in item paths; `parent_param` the parent document of a
    nested collection (its documents are listed, found and deleted under that parent only).
    """

    name: str
    shape_from: str
    id_param: str | None = None
    id_field: str = "uuid"
    list: str | None = None
    create: str | None = None
    get: str | None = None
    update: str | None = None
    delete: str | None = None
    parent: str | None = None
    parent_param: str | None = None
    #: Nested collections whose documents go when a document of this one is deleted.
    children: tuple[str, ...] = ()
    #: Query parameters that filter a list by the field of the same name.
    filters: tuple[str, ...] = ()
    #: "page" (`{count, next, previous, results}`) or "array".
    list_form: str = "page"
    number_field: str | None = None
    #: How a number is written (`{n}` is the number): Didit's cases are `CS-0001`.
    number_format: str = "{n}"
    defaults: dict[str, Any] = field(default_factory=dict)
    transitions: tuple[Transition, ...] = ()
    #: (field, values, message): update and delete answer 409 while the field holds one of the values.
    frozen_when: tuple[str, tuple[Any, ...], str] | None = None
    #: Request fields that name other documents (ids in the request, objects in the answer): not copied.
    references: tuple[str, ...] = ()
    #: A single document per tenant (read with `get`, changed with `update`), made on first read.
    singleton: bool = False
    #: Read-only views: only `list` and `get`, of documents other families write.
    read_only: bool = False

    def operations(self) -> dict[str, str]:
        """Operation id -> what it does ("list", "create", "get", "update", "delete", "transition")."""
        found = {op: role for role in ("list", "create", "get", "update", "delete")
                 if (op := getattr(self, role)) is not None}
        found.update({step.operation: "transition" for step in self.transitions})
        return found
