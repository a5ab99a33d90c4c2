"""The operation table: a request's method and path to its `Operation` and path parameters.

Paths are matched segment by segment in a tree; a literal segment wins over a parameter, and a
parameter declared `format: uuid` matches only a canonical UUID (lower-case, hyphenated), as
Django's `<uuid:...>` converter does: anything else is no match (the router's HTML 404).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache

from .document import api_document
from .operation import Operation, operations_of, split_template

_CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def is_canonical_uuid(text: str) -> bool:
    return len(text) == 36 and _CANONICAL_UUID.match(text) is not None


@dataclass(slots=True)
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    uuid: _Node | None = None
    text: _Node | None = None
    methods: dict[str, Operation] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Found:
    """The operations of a matched path, by method, and the values of its parameters in order."""

    methods: dict[str, Operation]
    values: tuple[str, ...]

    def operation(self, method: str) -> Operation | None:
        found = self.methods.get(method)
        if found is None and method == "HEAD":
            found = self.methods.get("GET")
        return found

    def allowed(self) -> list[str]:
        return list(self.methods)


class OperationTable:
    """Every operation, by id and by (method, path)."""

    def __init__(self, operations: Iterable[Operation], aliases: Iterable[tuple[str, Operation]] = ()):
        """`aliases` are further path templates of an operation (same parameters, in order)."""
        self.operations: list[Operation] = list(operations)
        self.by_id: dict[str, Operation] = {}
        self._root = _Node()
        for operation in self.operations:
            if operation.operation_id in self.by_id:
                raise ValueError(f"duplicate operationId {operation.operation_id}")
            self.by_id[operation.operation_id] = operation
            self._insert(operation.segments, operation)
        for template, operation in aliases:
            self._insert(split_template(template)[0], operation)

    def _insert(self, segments: tuple[str | None, ...], operation: Operation) -> None:
        node = self._root
        names = iter(operation.path_names)
        for segment in segments:
            if segment is not None:
                child = node.literal.get(segment)
                if child is None:
                    child = node.literal[segment] = _Node()
                node = child
                continue
            parameter = operation.path_parameter(next(names))
            if parameter is not None and parameter.schema.get("format") == "uuid":
                node.uuid = node.uuid or _Node()
                node = node.uuid
            else:
                node.text = node.text or _Node()
                node = node.text
        if operation.method in node.methods:
            raise ValueError(f"{operation.method} {operation.path} is declared twice")
        node.methods[operation.method] = operation

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)

    def __len__(self) -> int:
        return len(self.operations)

    def find(self, path: str) -> Found | None:
        """The operations of `path` (a request path), or None when no operation has that path."""
        if not path.startswith("/"):
            return None
        parts = path.split("/")[1:]
        found = _descend(self._root, parts)
        if found is not None:
            return found
        values: list[str] = []
        node = _walk(self._root, parts, 0, values)
        if node is None:
            return None
        return Found(node.methods, tuple(values))


def _descend(node: _Node, parts: list[str]) -> Found | None:
    """The common case without backtracking: a literal segment, else a UUID, else any text."""
    values: list[str] = []
    for part in parts:
        child = node.literal.get(part)
        if child is None:
            if not part:
                return None
            if node.uuid is not None and is_canonical_uuid(part):
                child = node.uuid
            elif node.text is not None:
                child = node.text
            else:
                return None
            values.append(part)
        node = child
    return Found(node.methods, tuple(values)) if node.methods else None


def _walk(node: _Node, parts: list[str], index: int, values: list[str]) -> _Node | None:
    if index == len(parts):
        return node if node.methods else None
    part = parts[index]
    child = node.literal.get(part)
    if child is not None:
        found = _walk(child, parts, index + 1, values)
        if found is not None:
            return found
    if not part:
        return None
    for candidate, accepts in ((node.uuid, is_canonical_uuid), (node.text, None)):
        if candidate is None or (accepts is not None and not accepts(part)):
            continue
        values.append(part)
        found = _walk(candidate, parts, index + 1, values)
        if found is not None:
            return found
        values.pop()
    return None


@cache
def api_operations() -> tuple[Operation, ...]:
    """Every operation of Didit's document and the additions (read once per process)."""
    return tuple(operations_of(api_document()))
