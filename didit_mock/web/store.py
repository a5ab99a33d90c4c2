"""HTTP handlers for the collections of the generic resource store, one per declared operation."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from starlette.responses import Response

from ..domain.errors import NotFound
from ..resources.declaration import Collection, Transition
from ..resources.store import Document, ResourceStore
from ..spec.operation import JSON, Operation
from ..spec.schemas import blank, json_schema
from ..spec.table import OperationTable
from .operations import Call, Handler, HandlerSpec
from .pagination import page_bounds, page_urls

DEFAULT_LIMIT = 50
#: Path parameters that name the application in console paths (`/v3/organization/{}/application/{}/`).
ORGANIZATION, APPLICATION = "organization_id", "application_id"


def store_of(call: Call) -> ResourceStore:
    return call.tenant.component(ResourceStore)


def store_handlers(collections: Iterable[Collection], table: OperationTable) -> dict[str, Handler]:
    """A handler for every operation the declared collections serve."""
    by_name = {c.name: c for c in collections}
    handlers: dict[str, Handler] = {}
    for collection in by_name.values():
        template = Template(table.by_id[collection.shape_from], collection.singleton)
        parent = by_name.get(collection.parent) if collection.parent else None
        for operation_id, role in collection.operations().items():
            if role == "transition":
                step = next(s for s in collection.transitions if s.operation == operation_id)
                function = _transition(collection, step)
            else:
                function = _ROLES[role](collection, template, parent, table.by_id[operation_id].success_status)
            handlers[operation_id] = Handler(function, HandlerSpec(operation_id), is_async=False, kind="store")
    return handlers


class Template:
    """A collection's new document as the spec shapes it, built on first use (not with the server).

    A singleton starts as Didit documents its defaults (the documented example of its answer).
    """

    def __init__(self, shape: Operation, singleton: bool):
        self.shape = shape
        self.singleton = singleton
        self._built: Document | None = None

    def __call__(self) -> Document:
        if self._built is None:
            shape = self.shape
            example = shape.response_example(shape.success_status)
            if self.singleton and isinstance(example, dict):
                self._built = example
            else:
                self._built = blank(json_schema(shape.response_schema(shape.success_status)))
        return self._built


def _scope(call: Call, parent: Collection | None, collection: Collection) -> str | None:
    """Check the console path's application and the parent document; the parent's id, if any."""
    path = call.path
    tenant = call.tenant
    if ORGANIZATION in path and (path[ORGANIZATION] != tenant.organization_id
                                 or path.get(APPLICATION) != tenant.application_id):
        raise NotFound()
    if parent is None or collection.parent_param is None:
        return None
    key = path[collection.parent_param]
    call.tenant.component(ResourceStore).get(parent, key)
    return key


def _list(collection: Collection, template: Template, parent: Collection | None, status: int) -> Callable[..., Any]:
    def handler(call: Call) -> Any:
        owner = _scope(call, parent, collection)
        filters = {name: value for name in collection.filters if (value := call.query.get(name)) not in (None, "")}
        with call.tenant.lock:
            rows = list(reversed(store_of(call).find(collection, filters, owner)))
        if collection.list_form == "array":
            return rows
        limit, offset = page_bounds(call.query, DEFAULT_LIMIT)
        following, preceding = page_urls(call.request, len(rows), limit, offset)
        page = _list_extras(call)
        page.update({"count": len(rows), "next": following, "previous": preceding,
                     "results": rows[offset:offset + limit]})
        return page

    return handler


def _list_extras(call: Call) -> dict[str, Any]:
    """What a list answer holds beyond the page (such as the networks list's `kpis`), empty."""
    operation = call.operation
    extras = operation.extras.get("list_extras")
    if extras is None:
        built = blank(json_schema(operation.response_schema(operation.success_status)))
        extras = operation.extras["list_extras"] = built if isinstance(built, dict) else {}
    return copy.deepcopy(extras)


def request_fields(operation: Operation) -> dict[str, Any]:
    """The top-level fields of `operation`'s JSON body, by name (their schemas, `$ref`s inlined)."""
    return json_schema(operation.request_schemas.get(JSON), for_request=True).get("properties") or {}


def created_fields(call: Call, body: Document | None = None) -> Document:
    """A create's body (`call.body` unless given) with the defaults its request schema documents
    for the fields it leaves out (as DRF's serializer fills them in)."""
    defaults = {name: copy.deepcopy(field["default"]) for name, field in request_fields(call.operation).items()
                if isinstance(field, dict) and "default" in field}
    return {**defaults, **(call.body if body is None else body or {})}


def _create(collection: Collection, template: Template, parent: Collection | None, status: int) -> Callable[..., Any]:
    def handler(call: Call) -> Any:
        owner = _scope(call, parent, collection)
        with call.tenant.lock:
            document = store_of(call).create(collection, template(), created_fields(call), owner)
        return _json(document, status)

    return handler


def _get(collection: Collection, template: Template, parent: Collection | None, status: int) -> Callable[..., Any]:
    def handler(call: Call) -> Any:
        owner = _scope(call, parent, collection)
        with call.tenant.lock:
            store = store_of(call)
            if collection.singleton:
                return singleton_view(collection, _singleton(store, collection, template()))
            return store.get(collection, call.path[collection.id_param or ""], owner)

    return handler


def _singleton(store: ResourceStore, collection: Collection, template: Document) -> Document:
    rows = store.all(collection)
    return rows[0] if rows else store.create(collection, template, {})


def singleton_view(collection: Collection, document: Document) -> Document:
    """A singleton as the API shows it: without the store's id (Didit's singletons have none)."""
    return {key: value for key, value in document.items() if key != collection.id_field}


def singleton_document(store: ResourceStore, collection: Collection, shape: Operation) -> Document:
    """A singleton's one document (made from `shape`'s documented answer on first use), as its get reads it."""
    example = shape.response_example(shape.success_status)
    template = example if isinstance(example, dict) else blank(json_schema(shape.response_schema(shape.success_status)))
    return _singleton(store, collection, template)


def _update(collection: Collection, template: Template, parent: Collection | None, status: int) -> Callable[..., Any]:
    def handler(call: Call) -> Any:
        owner = _scope(call, parent, collection)
        with call.tenant.lock:
            store = store_of(call)
            if collection.singleton:
                key = _singleton(store, collection, template())[collection.id_field]
                return singleton_view(collection, store.update(collection, key, call.body or {}, owner))
            return store.update(collection, call.path[collection.id_param or ""], call.body or {}, owner)

    return handler


def _delete(collection: Collection, template: Template, parent: Collection | None, status: int) -> Callable[..., Any]:
    def handler(call: Call) -> Any:
        owner = _scope(call, parent, collection)
        with call.tenant.lock:
            store_of(call).delete(collection, call.path[collection.id_param or ""], owner)
        return Response(status_code=status)

    return handler


def _transition(collection: Collection, step: Transition) -> Callable[..., Any]:
    def handler(call: Call) -> Any:
        _scope(call, None, collection)
        with call.tenant.lock:
            return store_of(call).transition(collection, call.path[collection.id_param or ""], step, call.body or {})

    return handler


def _json(document: Any, status: int) -> Any:
    if status == 200:
        return document
    from .http import json_response

    return json_response(document, status)


_ROLES = {"list": _list, "create": _create, "get": _get, "update": _update, "delete": _delete}
