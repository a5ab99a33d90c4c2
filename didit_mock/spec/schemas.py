"""Schemas of the OpenAPI documents as self-contained JSON Schemas, and documents built from them.

`json_schema` inlines `$ref`s (a reference back into itself becomes `{}`, anything) and turns
OpenAPI 3.0's `nullable` into a `null` type. `sample` builds a document that a schema accepts,
preferring the description's own examples.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .document import api_document

Schema = dict[str, Any]
_DROPPED = frozenset({"example", "examples", "description", "title", "xml", "externalDocs", "deprecated",
                      "discriminator", "readOnly", "writeOnly", "nullable", "x-nullable"})
_NESTED = frozenset({"additionalProperties", "items", "not", "allOf", "anyOf", "oneOf"})


def resolve(ref: str, document: dict[str, Any] | None = None) -> Any:
    node: Any = document or api_document()
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def json_schema(schema: Schema | None, *, for_request: bool = False) -> Schema:
    """`schema` with every `$ref` inlined and `nullable` as a `null` type.

    For a request (`for_request`), read-only properties are neither required nor checked, and
    unknown properties are allowed (DRF ignores the fields a serializer does not declare).
    """
    return _convert(schema or {}, (), for_request)


def _convert(node: Any, seen: tuple[str, ...], for_request: bool) -> Any:
    if isinstance(node, list):
        return [_convert(item, seen, for_request) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            return {}
        return _convert(resolve(ref), (*seen, ref), for_request)
    out: Schema = {}
    for key, value in node.items():
        if key in _DROPPED or key.startswith("x-"):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {
                name: _convert(sub, seen, for_request) for name, sub in value.items()
                if not (for_request and isinstance(sub, dict) and sub.get("readOnly"))
            }
        elif key in _NESTED:
            out[key] = _convert(value, seen, for_request)
        elif key == "format" and value in ("binary", "byte"):
            continue
        else:
            out[key] = value
    if for_request:
        if out.get("additionalProperties") is False:
            del out["additionalProperties"]
        read_only = {name for name, sub in (node.get("properties") or {}).items()
                     if isinstance(sub, dict) and sub.get("readOnly")}
        if read_only and "required" in out:
            out["required"] = [name for name in out["required"] if name not in read_only]
    if node.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list) and "null" not in kind:
            out["type"] = [*kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if any(k in out for k in ("allOf", "oneOf", "anyOf")):  # null passes no branch: allow it beside
            out = {"anyOf": [out, {"type": "null"}]}
    return out


# ---------------------------------------------------------------- documents a schema accepts

_FORMAT_SAMPLES = {
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "date-time": "2026-01-01T00:00:00.000000Z",
    "date": "2026-01-01",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "ipv4": "192.0.2.1",
}


def sample(schema: Schema, depth: int = 0) -> Any:
    """A document that `schema` (an inlined JSON Schema from `json_schema`) accepts.

    Every property is filled in, so a shape-only answer shows the whole shape.
    """
    if depth > 12:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return next((v for v in schema["enum"] if v is not None), schema["enum"][0])
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    for combinator in ("allOf",):
        if combinator in schema:
            merged: dict[str, Any] = {}
            for part in schema[combinator]:
                value = sample(part, depth + 1)
                if isinstance(value, dict):
                    merged.update(value)
                else:
                    return value
            extra = {k: v for k, v in schema.items() if k != combinator}
            if extra.get("properties"):
                merged.update(sample(extra, depth + 1) or {})
            return merged
    for combinator in ("oneOf", "anyOf"):
        if schema.get(combinator):
            options = [o for o in schema[combinator] if o.get("type") != "null"] or schema[combinator]
            return sample(options[0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else ("array" if "items" in schema else None)
    if kind == "object":
        return {name: sample(sub, depth + 1) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        items = schema.get("items") or {}
        count = max(int(schema.get("minItems") or 0), 1 if items else 0)
        return [sample(items, depth + 1) for _ in range(count)]
    if kind == "string":
        text = _FORMAT_SAMPLES.get(schema.get("format", ""), "string")
        low = int(schema.get("minLength") or 0)
        high = schema.get("maxLength")
        if len(text) < low:
            text = text + "x" * (low - len(text))
        if isinstance(high, int) and len(text) > high:
            text = text[:high]
        return text
    if kind == "integer":
        return int(schema.get("minimum", 0) or 0)
    if kind == "number":
        return float(schema.get("minimum", 0) or 0)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return None


def blank(schema: Schema, depth: int = 0) -> Any:
    """An empty document of `schema`'s shape: nulls where allowed, empty lists, zero values.

    Strings with a format or an enum get a valid value (`sample`), so the blank document is one
    the schema accepts once its required values are filled in.
    """
    if depth > 12:
        return None
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "null" in kinds or (schema.get("enum") and None in schema["enum"]):
        return None
    if any("null" in (o.get("type") or []) for o in schema.get("anyOf", []) if isinstance(o, dict)):
        return None
    if "allOf" in schema or "oneOf" in schema or "anyOf" in schema or "enum" in schema or "const" in schema:
        return sample(schema, depth)
    if "object" in kinds or "properties" in schema:
        return {name: blank(sub, depth + 1) for name, sub in (schema.get("properties") or {}).items()}
    if "array" in kinds:
        return []
    if "string" in kinds:
        return sample(schema, depth) if schema.get("format") or schema.get("minLength") else ""
    return sample(schema, depth)


# ---------------------------------------------------------------- the overlay's corrections

def with_fixes(schema: Schema, fixes: Iterable[Any]) -> Schema:
    """`schema` (from `json_schema`) with the overlay's `SchemaFix`es applied, on copies.

    A fix names a property by dotted path (`[]` steps into an array's items) and the keywords to
    set there; a value of None removes the keyword, and `nullable: True` also admits null.
    """
    for fix in fixes:
        node = schema = dict(schema)
        for part in (fix.path.split(".") if fix.path else ()):
            if part == "[]":
                node["items"] = dict(node["items"])
                node = node["items"]
            else:
                properties = node["properties"] = dict(node["properties"])
                properties[part] = dict(properties.get(part, {}))
                node = properties[part]
        for keyword, value in fix.changes.items():
            if keyword == "nullable":
                _admit_null(node)
            elif value is None:
                node.pop(keyword, None)
            else:
                node[keyword] = value
    return schema


def _admit_null(node: Schema) -> None:
    kind = node.get("type")
    if isinstance(kind, str):
        node["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        node["type"] = [*kind, "null"]
    if isinstance(node.get("enum"), list) and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]
