"""`Operation`: one method and path of the API, as its OpenAPI description states it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .document import ADDITION_MARK, HTTP_METHODS

JSON = "application/json"
MULTIPART = "multipart/form-data"


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    location: str  # "path", "query" or "header"
    required: bool
    schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Details:
    """What an operation's description says beyond routing: its bodies, examples and answers."""

    request_schemas: dict[str, Any]
    #: The documented example request body per media type (where the description gives one).
    request_examples: dict[str, Any]
    responses: dict[str, Any]


@dataclass(slots=True, eq=False)
class Operation:
    """One operation: its id, method, path template and what its description says of it.

    `segments` is the path template split at `/`, with `None` where a parameter stands;
    `path_names` names those parameters in order. Schemas are raw (with `$ref`s to the document).
    The request schemas, examples and responses (`details`) are read from the document on first
    use: the server routes and checks parameters from the compact table (`spec/operations.json`).
    """

    operation_id: str
    method: str
    path: str
    tags: tuple[str, ...]
    summary: str
    segments: tuple[str | None, ...]
    path_names: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    request_types: tuple[str, ...]
    security: tuple[str, ...] | None
    addition: bool
    #: The first documented 2xx status (200 when none is documented).
    success_status: int
    details_: Details | None = None
    #: Filled in from the overlay when the operation table is built.
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def details(self) -> Details:
        if self.details_ is None:
            from .document import api_document

            self.details_ = details_of(api_document()["paths"][self.path][self.method.lower()])
        return self.details_

    @property
    def request_schemas(self) -> dict[str, Any]:
        return self.details.request_schemas

    @property
    def request_examples(self) -> dict[str, Any]:
        return self.details.request_examples

    @property
    def responses(self) -> dict[str, Any]:
        return self.details.responses

    def path_parameter(self, name: str) -> Parameter | None:
        for parameter in self.parameters:
            if parameter.location == "path" and parameter.name == name:
                return parameter
        return None

    def query_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "query")

    def response_schema(self, status: int) -> dict[str, Any] | None:
        """The JSON schema of the response for `status` (or its `NXX` range), None when bodiless."""
        entry = self.responses.get(str(status)) or self.responses.get(f"{str(status)[0]}XX")
        if not entry:
            return None
        media = (entry.get("content") or {}).get(JSON)
        return None if media is None else media.get("schema")

    def response_example(self, status: int) -> Any:
        """The documented example of the response for `status`, if any (the first of `examples`)."""
        entry = self.responses.get(str(status)) or {}
        return _example((entry.get("content") or {}).get(JSON) or {})

    def __repr__(self) -> str:
        return f"<Operation {self.operation_id} {self.method} {self.path}>"


def split_template(path: str) -> tuple[tuple[str | None, ...], tuple[str, ...]]:
    segments: list[str | None] = []
    names: list[str] = []
    for part in path.split("/")[1:]:
        if part.startswith("{") and part.endswith("}"):
            segments.append(None)
            names.append(part[1:-1])
        else:
            segments.append(part)
    return tuple(segments), tuple(names)


def details_of(raw: dict[str, Any]) -> Details:
    content = (raw.get("requestBody") or {}).get("content") or {}
    return Details(
        request_schemas={kind: media.get("schema") or {} for kind, media in content.items()},
        request_examples={kind: example for kind, media in content.items()
                          if (example := _example(media)) is not None},
        responses=dict(raw.get("responses") or {}),
    )


def success_status_of(responses: dict[str, Any]) -> int:
    """The first documented 2xx status (200 when none is documented)."""
    for status in sorted(responses):
        if status.startswith("2") and status.isdigit():
            return int(status)
    return 200


def operations_of(document: dict[str, Any]) -> list[Operation]:
    """Every operation of an OpenAPI 3.0 document, in the document's order (details read now)."""
    found: list[Operation] = []
    for path, item in document["paths"].items():
        shared = [p for p in item.get("parameters", []) if isinstance(p, dict)]
        for method in HTTP_METHODS:
            raw = item.get(method)
            if raw is None:
                continue
            parameters: dict[tuple[str, str], Parameter] = {}
            for p in (*shared, *raw.get("parameters", [])):
                if "$ref" in p:
                    p = _resolve(document, p["$ref"])
                parameters[(p["in"], p["name"])] = Parameter(
                    p["name"], p["in"], bool(p.get("required")), p.get("schema") or {}
                )
            content = (raw.get("requestBody") or {}).get("content") or {}
            segments, names = split_template(path)
            security = raw.get("security")
            details = details_of(raw)
            found.append(Operation(
                operation_id=raw.get("operationId") or f"{method}_{path}",
                method=method.upper(),
                path=path,
                tags=tuple(raw.get("tags") or ()),
                summary=raw.get("summary") or "",
                segments=segments,
                path_names=names,
                parameters=tuple(parameters.values()),
                request_types=tuple(content),
                security=None if security is None else tuple(name for entry in security for name in entry),
                addition=bool(raw.get(ADDITION_MARK)),
                success_status=success_status_of(details.responses),
                details_=details,
            ))
    return found


def compact(operations: list[Operation], document: dict[str, Any]) -> list[list[Any]]:
    """The routing part of `operations` as plain JSON (parameter schemas with their `$ref`s inlined)."""
    return [[op.operation_id, op.method, op.path, list(op.tags), op.summary,
             [[p.name, p.location, p.required, _inlined(document, p.schema)] for p in op.parameters],
             list(op.request_types), None if op.security is None else list(op.security), op.addition,
             op.success_status] for op in operations]


def from_compact(rows: list[list[Any]]) -> list[Operation]:
    """Operations from `compact` rows; their details are read from the document when first asked."""
    found: list[Operation] = []
    for op_id, method, path, tags, summary, parameters, request_types, security, addition, status in rows:
        segments, names = split_template(path)
        found.append(Operation(
            operation_id=op_id, method=method, path=path, tags=tuple(tags), summary=summary, segments=segments,
            path_names=names, parameters=tuple(Parameter(*p) for p in parameters),
            request_types=tuple(request_types), security=None if security is None else tuple(security),
            addition=addition, success_status=status,
        ))
    return found


def _inlined(document: dict[str, Any], node: Any, seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, list):
        return [_inlined(document, item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref not in seen:
        return _inlined(document, _resolve(document, ref), (*seen, ref))
    return {key: _inlined(document, value, seen) for key, value in node.items()}


def _example(media: dict[str, Any]) -> Any:
    if "example" in media:
        return media["example"]
    for example in (media.get("examples") or {}).values():
        if isinstance(example, dict) and "value" in example:
            return example["value"]
    return None


def _resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = document
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node  # type: ignore[no-any-return]
