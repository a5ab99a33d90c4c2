"""Checks a response against the API's own description: Didit's vendored OpenAPI document plus the
additions (the operations Didit serves but does not document), as the package ships them."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource

from didit_mock.spec.document import api_document


def spec() -> dict[str, Any]:
    """Didit's OpenAPI 3.0 document with the additions merged in (read once per process)."""
    return api_document()


@lru_cache(maxsize=1)
def _registry() -> Registry:
    return Registry().with_resource("urn:didit-spec", Resource.opaque(_rewrite_refs(spec())))


def response_schema(method: str, path: str, status: int) -> dict[str, Any] | None:
    """The JSON schema of a documented response, or None when the spec documents no body."""
    operation = spec()["paths"][path][method.lower()]
    responses = operation["responses"]
    entry = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    if entry is None:
        raise AssertionError(f"{method} {path} does not document status {status}")
    if "$ref" in entry:
        entry = _resolve(entry["$ref"])
    content = entry.get("content", {})
    media = content.get("application/json")
    return None if media is None else media.get("schema")


def _resolve(ref: str) -> Any:
    node: Any = spec()
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _rewrite_refs(node: Any) -> Any:
    """Point local `$ref`s at the registered document, and let `nullable` enums take null.

    OpenAPI 3.0.3 says `nullable: true` adds null to the allowed values; validators disagree on
    whether an `enum` without null still refuses it, so null is added to such enums explicitly.
    """
    if isinstance(node, dict):
        rewritten = {
            k: ("urn:didit-spec" + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rewrite_refs(v))
            for k, v in node.items()
        }
        if rewritten.get("nullable") is True and isinstance(rewritten.get("enum"), list) and None not in rewritten["enum"]:
            rewritten["enum"] = [*rewritten["enum"], None]
        if rewritten.get("nullable") is True and \
                any(k in rewritten for k in ("oneOf", "anyOf", "allOf")):
            # `nullable` beside a combinator: null is allowed, whatever the combined schemas say.
            rest = {k: v for k, v in rewritten.items() if k != "nullable"}
            return {"anyOf": [rest, {"enum": [None]}]}
        return rewritten
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def conformance_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    schema = response_schema(method, path, status)
    if schema is None:
        return []
    validator = OAS30Validator(_rewrite_refs(schema), registry=_registry())
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(body)]


def assert_conforms(method: str, path: str, status: int, body: Any) -> None:
    """Fail with every violation when `body` breaks the documented schema of that response."""
    errors = conformance_errors(method, path, status, body)
    assert not errors, f"{method} {path} {status} breaks Didit's OpenAPI document:\n" + "\n".join(errors[:30])
