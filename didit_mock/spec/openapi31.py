"""The API document (Didit's with the additions) in OpenAPI 3.1 form, as the mock serves it.

OpenAPI 3.0's `nullable` becomes a `null` type (and enum member), a schema's `example` becomes
JSON Schema's `examples`, and a `format` that Didit's own response examples break is dropped
(`relax_formats_contradicted_by_examples`): the mock answers what the real API sends, and the
served description must not call that invalid. A response `oneOf` whose options overlap (a
document of one option fits another too, so no answer can fit exactly one) becomes the `anyOf`
it means (`any_of_for_overlapping_one_ofs`). Per-path and per-operation `servers` go: the mock
serves every operation at its own address.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from .document import HTTP_METHODS, api_document

OPENAPI_31 = "3.1.0"
RELAXED_FORMAT_NOTE = "(Didit's own examples send this without a UTC offset, so no `format` is asserted.)"
OVERLAPPING_ONE_OF_NOTE = "(Didit's document says `oneOf`, but its options overlap: served as `anyOf`.)"
_SCHEMA_KEYS = frozenset({"items", "not", "additionalProperties"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})


def to_openapi_31(schema: Any) -> Any:
    """An OpenAPI 3.0 schema in 3.1 form: `nullable` becomes a `null` type, `example` `examples`."""
    if isinstance(schema, list):
        return [to_openapi_31(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: to_openapi_31(sub) for name, sub in value.items()}
        elif key in _SCHEMA_KEYS and isinstance(value, dict) or key in _SCHEMA_LISTS:
            out[key] = to_openapi_31(value)
        elif key == "example":
            out.setdefault("examples", [copy.deepcopy(value)])
        else:
            out[key] = copy.deepcopy(value)
    if out.pop("nullable", False):
        kind = out.get("type")
        if any(k in out for k in ("$ref", "allOf", "oneOf", "anyOf")):  # null passes no branch: allow it beside
            out = {"anyOf": [out, {"type": "null"}]}
        elif isinstance(kind, str):
            out["type"] = [kind, "null"]
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
    return out


def _media_31(content: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {}
    for media_type, media in content.items():
        entry = {k: copy.deepcopy(v) for k, v in media.items() if k != "schema"}
        if "schema" in media:
            entry["schema"] = to_openapi_31(media["schema"])
        converted[media_type] = entry
    return converted


def _parameter_31(parameter: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy({k: v for k, v in parameter.items() if k != "schema"})
    if "schema" in parameter:
        out["schema"] = to_openapi_31(parameter["schema"])
    return out


def _response_31(response: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy({k: v for k, v in response.items() if k not in ("content", "headers")})
    if "content" in response:
        out["content"] = _media_31(response["content"])
    if "headers" in response:
        out["headers"] = {name: _parameter_31(header) for name, header in response["headers"].items()}
    return out


def operation_31(operation: dict[str, Any]) -> dict[str, Any]:
    """One operation object in 3.1 form (schemas converted, `servers` left out)."""
    out: dict[str, Any] = {}
    for key, value in operation.items():
        if key == "servers":
            continue
        if key == "parameters":
            out[key] = [_parameter_31(p) for p in value]
        elif key == "requestBody":
            body = copy.deepcopy({k: v for k, v in value.items() if k != "content"})
            out[key] = {**body, "content": _media_31(value.get("content") or {})}
        elif key == "responses":
            out[key] = {status: _response_31(response) for status, response in value.items()}
        else:
            out[key] = copy.deepcopy(value)
    return out


@cache
def api_document_31() -> dict[str, Any]:
    """`api_document()` in 3.1 form (paths and components; no `servers`). Shared: copy before editing."""
    source = api_document()
    paths: dict[str, Any] = {}
    for path, item in source["paths"].items():
        converted: dict[str, Any] = {}
        for key, value in item.items():
            if key in HTTP_METHODS:
                converted[key] = operation_31(value)
            elif key == "parameters":
                converted[key] = [_parameter_31(p) for p in value]
            elif key != "servers":
                converted[key] = copy.deepcopy(value)
        paths[path] = converted
    components = source.get("components", {})
    document = {
        "openapi": OPENAPI_31,
        "info": copy.deepcopy(source["info"]),
        "paths": paths,
        "components": {
            "schemas": {name: to_openapi_31(s) for name, s in components.get("schemas", {}).items()},
            "responses": {name: _response_31(r) for name, r in components.get("responses", {}).items()},
            "securitySchemes": copy.deepcopy(components.get("securitySchemes", {})),
        },
    }
    relax_formats_contradicted_by_examples(document)
    any_of_for_overlapping_one_ofs(document)
    return document


def relax_formats_contradicted_by_examples(document: dict[str, Any]) -> None:
    """Drop every `format` of a response schema that Didit's own response examples break.

    The examples are validated against the converted schemas themselves (components included),
    so the failing nodes are the ones edited, after validating: the validator walks these dicts.
    """
    failing: list[dict[str, Any]] = []
    for item in document["paths"].values():
        for method in HTTP_METHODS:
            for response in (item.get(method) or {}).get("responses", {}).values():
                for media in (response.get("content") or {}).values():
                    failing.extend(_format_failures(media, document))
    for schema in failing:
        schema.pop("format", None)
        described = schema.get("description", "")
        if RELAXED_FORMAT_NOTE not in described:
            schema["description"] = f"{described} {RELAXED_FORMAT_NOTE}".strip()


def _format_failures(media: dict[str, Any], document: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema nodes whose `format` an example of `media` breaks."""
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource

    schema = media.get("schema")
    examples = [media["example"]] if "example" in media else []
    examples += [e["value"] for e in (media.get("examples") or {}).values() if isinstance(e, dict) and "value" in e]
    if schema is None or not examples:
        return []
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "paths": document["paths"],
            "components": document["components"], "checked": schema}
    registry = Registry().with_resource("urn:didit", Resource.from_contents(root))  # type: ignore[var-annotated]
    validator = Draft202012Validator({"$ref": "urn:didit#/checked"}, registry=registry, format_checker=FormatChecker())
    return [failure.schema for example in examples for error in validator.iter_errors(example)
            for failure in (error, *error.context)
            if failure.validator == "format" and isinstance(failure.schema, dict)]


def any_of_for_overlapping_one_ofs(document: dict[str, Any]) -> None:
    """Turn each response `oneOf` whose options overlap into `anyOf`, noting it in the description.

    Options overlap when the document built from one option (every property filled in) fits
    another option too; then no answer of that shape fits exactly one, real or emulated.
    """
    found: list[dict[str, Any]] = []
    for item in document["paths"].values():
        for method in HTTP_METHODS:
            for response in (item.get(method) or {}).get("responses", {}).values():
                for media in (response.get("content") or {}).values():
                    _collect_one_ofs(media.get("schema"), found)
    for kind in ("schemas", "responses"):
        _collect_one_ofs(document["components"].get(kind), found)
    for node in found:
        if _options_overlap(node["oneOf"], document):
            node["anyOf"] = node.pop("oneOf")
            described = node.get("description", "")
            node["description"] = f"{described} {OVERLAPPING_ONE_OF_NOTE}".strip()


def _collect_one_ofs(node: Any, found: list[dict[str, Any]]) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("oneOf"), list):
            found.append(node)
        for value in node.values():
            _collect_one_ofs(value, found)
    elif isinstance(node, list):
        for value in node:
            _collect_one_ofs(value, found)


def _options_overlap(options: list[Any], document: dict[str, Any]) -> bool:
    from jsonschema import Draft202012Validator

    from .schemas import sample

    inlined = [_inline(option, document, ()) for option in options]
    validators = [Draft202012Validator(option) for option in inlined]
    for option in inlined:
        built = sample(option)
        if sum(1 for validator in validators if validator.is_valid(built)) > 1:
            return True
    return False


def _inline(node: Any, document: dict[str, Any], seen: tuple[str, ...]) -> Any:
    """`node` with its local `$ref`s replaced by what they name (a reference back into itself: `{}`)."""
    if isinstance(node, list):
        return [_inline(item, document, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        if ref in seen:
            return {}
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return _inline(target, document, (*seen, ref))
    return {key: _inline(value, document, seen) for key, value in node.items()}
