"""The served OpenAPI document: valid OpenAPI 3.1, every route listed, bodies from the models.

This file also holds the generator of `didit_mock/api/didit_responses.json` (Didit's documented
operations converted from OpenAPI 3.0 to 3.1). Regenerate it after updating Didit's document with
`DIDIT_MOCK_REGENERATE=1 pytest tests/test_openapi.py -k shipped` (or `python -m tests.test_openapi`).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from didit_mock.api import openapi
from didit_mock.api.openapi import DIDIT_RESPONSES, OPENAPI_PATH, route_operations
from didit_mock.server import MockServer
from tests.contract.conformance import spec as didit_spec

from .conftest import KYC_WORKFLOW, create_session

# ---------------------------------------------------------------- the generator of didit_responses.json

#: Keys of Didit's schemas left out of the shipped copy (examples are large and not needed to validate).
_DROPPED = ("example", "examples")


def to_openapi_31(node: Any) -> Any:
    """An OpenAPI 3.0 schema in 3.1 form: `nullable` becomes a `null` type (and enum member)."""
    if isinstance(node, list):
        return [to_openapi_31(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: to_openapi_31(sub) for name, sub in value.items()}
        else:
            out[key] = to_openapi_31(value)
    if out.pop("nullable", False):
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        elif kind is None and any(k in out for k in ("$ref", "allOf", "oneOf", "anyOf")):
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _media(content: dict[str, Any], keep_examples: bool) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for media_type, media in content.items():
        entry: dict[str, Any] = {}
        if "schema" in media:
            entry["schema"] = to_openapi_31(media["schema"])
        if keep_examples and "examples" in media:
            entry["examples"] = media["examples"]
        elif keep_examples and "example" in media:
            entry["examples"] = {"example": {"value": media["example"]}}
        result[media_type] = entry
    return result


def extract_didit_reference(spec: dict[str, Any]) -> dict[str, Any]:
    """Didit's operations (summary, description, query parameters, request body, responses) and schemas."""
    schemas = {name: to_openapi_31(schema) for name, schema in spec["components"]["schemas"].items()}
    operations: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            entry: dict[str, Any] = {"summary": operation.get("summary"), "description": operation.get("description")}
            query = [to_openapi_31(p) for p in operation.get("parameters", []) if p.get("in") == "query"]
            if query:
                entry["parameters"] = query
            if "requestBody" in operation:
                body = operation["requestBody"]
                entry["requestBody"] = {
                    "required": bool(body.get("required", False)),
                    "content": _media(body.get("content", {}), keep_examples=True),
                }
            entry["responses"] = {}
            for status, response in operation["responses"].items():
                converted: dict[str, Any] = {"description": response.get("description", "")}
                if "content" in response:
                    converted["content"] = _media(response["content"], keep_examples=False)
                    _relax_formats_contradicted_by_examples(response["content"], converted["content"], schemas)
                entry["responses"][status] = converted
            operations[openapi.didit_key(method, path)] = entry
    return {
        "source": f"{spec['info']['title']} {spec['info']['version']} (OpenAPI {spec['openapi']} subset), "
                  "converted to OpenAPI 3.1 by tests/test_openapi.py",
        "operations": operations,
        "schemas": schemas,
    }


RELAXED_FORMAT_NOTE = "(Didit's own examples send this without a UTC offset, so no `format` is asserted.)"


def _relax_formats_contradicted_by_examples(
    original: dict[str, Any], converted: dict[str, Any], schemas: dict[str, Any]
) -> None:
    """Drop a `format` that Didit's own response examples break (naive date-times marked date-time).

    The mock sends what the real API sends (its examples); the served document must not call that
    invalid. Validation runs on the converted objects themselves, so the failing nodes are edited.
    """
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource

    for media_type, media in original.items():
        schema = converted.get(media_type, {}).get("schema")
        examples = [media["example"]] if "example" in media else []
        examples += [e["value"] for e in (media.get("examples") or {}).values() if isinstance(e, dict) and "value" in e]
        if schema is None or not examples:
            continue
        document = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                    "components": {"schemas": schemas}, "checked": schema}
        registry = Registry().with_resource("urn:didit", Resource.from_contents(document))
        validator = Draft202012Validator({"$ref": "urn:didit#/checked"}, registry=registry,
                                         format_checker=FormatChecker())
        failing = [failure for example in examples for error in validator.iter_errors(example)
                   for failure in (error, *error.context)
                   if failure.validator == "format" and isinstance(failure.schema, dict)]
        for failure in failing:  # edited after validating: the validator walks these very dicts
            failure.schema.pop("format", None)
            described = failure.schema.get("description", "")
            if RELAXED_FORMAT_NOTE not in described:
                failure.schema["description"] = f"{described} {RELAXED_FORMAT_NOTE}".strip()


def rendered_reference() -> str:
    return json.dumps(extract_didit_reference(didit_spec()), ensure_ascii=False, indent=0, sort_keys=True) + "\n"


def test_shipped_didit_responses_are_current() -> None:
    expected = rendered_reference()
    if os.environ.get("DIDIT_MOCK_REGENERATE"):
        DIDIT_RESPONSES.write_text(expected, "utf-8")
    assert DIDIT_RESPONSES.read_text("utf-8") == expected, (
        "didit_responses.json is stale: DIDIT_MOCK_REGENERATE=1 pytest tests/test_openapi.py -k shipped"
    )


# ---------------------------------------------------------------- the served document

@pytest.fixture(scope="module")
def document(server: MockServer) -> dict[str, Any]:
    response = httpx.get(server.url + OPENAPI_PATH, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_document_is_valid_openapi_31(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    try:
        validate(document)
    except OpenAPIValidationError as exc:  # pragma: no cover - the message is the point
        pytest.fail(f"the served document is not valid OpenAPI: {exc}")


def test_every_route_of_the_app_is_documented(server: MockServer, document: dict[str, Any]) -> None:
    served = {(method, path) for method, path, _ in route_operations(server.app)}
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert served, "the app has no routes?"
    assert served - documented == set(), "routes missing from the document"
    assert documented - served == set(), "documented operations the app does not serve"
    # The seeds of the emulated API and the fixed admin routes are all there.
    for method, path in [
        ("POST", "/v3/session/"), ("GET", "/v3/session/{session_id}/decision/"), ("GET", "/v3/sessions/"),
        ("DELETE", "/v3/session/{session_id}/delete/"), ("POST", "/v3/sessions/delete/"),
        ("PATCH", "/v3/session/{session_id}/update-status/"), ("POST", "/v3/phone/send/"),
        ("POST", "/v3/blocklist/add/"), ("GET", "/system/healthcheck"), ("GET", "/_mock/tenant"),
        ("POST", "/_mock/clock/advance"), ("GET", OPENAPI_PATH),
    ]:
        assert (method, path) in documented, (method, path)


def test_every_route_has_a_unique_operation_id(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_path_parameters_are_declared(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (method, path)


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_session_bodies_come_from_the_pydantic_models(document: dict[str, Any]) -> None:
    from didit_mock.api.session_models import CreateSessionBody, UpdateStatusBody

    create = document["paths"]["/v3/session/"]["post"]["requestBody"]
    schema = _resolve(document, create["content"]["application/json"]["schema"])
    assert create["required"] is True
    assert set(schema["properties"]) == set(CreateSessionBody.model_fields)
    assert schema["required"] == ["workflow_id"]
    languages = schema["properties"]["language"]["anyOf"][0]["enum"]
    assert "pt-BR" in languages
    # Nested models are components too, reachable by $ref.
    assert "ExpectedDetails" in document["components"]["schemas"]
    assert "ContactDetails" in document["components"]["schemas"]

    update = document["paths"]["/v3/session/{session_id}/update-status/"]["patch"]["requestBody"]
    schema = _resolve(document, update["content"]["application/json"]["schema"])
    assert set(schema["properties"]) == set(UpdateStatusBody.model_fields)
    for name in ("DeleteBody", "BatchDeleteBody", "PhoneSendBody", "AdvanceBody"):
        assert name in document["components"]["schemas"], name


def test_didit_routes_describe_responses_as_didit_does(document: dict[str, Any]) -> None:
    didit = didit_spec()["paths"]
    create = document["paths"]["/v3/session/"]["post"]
    assert create["summary"] == didit["/v3/session/"]["post"]["summary"]
    created = create["responses"]["201"]["content"]["application/json"]["schema"]
    assert set(created["required"]) == set(didit["/v3/session/"]["post"]["responses"]["201"]["content"][
        "application/json"]["schema"]["required"])
    # OpenAPI 3.0's `nullable` became a null type.
    assert created["properties"]["vendor_data"]["type"] == ["string", "null"]
    decision = document["paths"]["/v3/session/{session_id}/decision/"]["get"]["responses"]
    assert "id_verifications" in decision["200"]["content"]["application/json"]["schema"]["properties"]
    # A malformed UUID is Django's HTML 404, so 404 documents HTML as well.
    assert "text/html" in decision["404"]["content"]
    # Query parameters of the list come from Didit's document.
    names = {p["name"] for p in document["paths"]["/v3/sessions/"]["get"]["parameters"]}
    assert {"limit", "offset", "vendor_data", "status"} <= names
    pdf = document["paths"]["/v3/session/{session_id}/generate-pdf/"]["get"]["responses"]["200"]
    assert "application/pdf" in pdf["content"]


def test_generic_answers_and_security_are_documented(document: dict[str, Any]) -> None:
    operation = document["paths"]["/v3/blocklist/add/"]["post"]
    for status in ("400", "401", "403", "405", "413", "415", "429"):
        assert status in operation["responses"], status
    assert operation["security"] == [{"ApiKeyAuth": []}]
    assert document["paths"]["/system/healthcheck"]["get"]["security"] == []
    arm = document["paths"]["/v3/session/{session_id}/sandbox/arm/"]["post"]
    assert arm["security"] == [{"SessionTokenAuth": []}]
    assert document["components"]["securitySchemes"]["ApiKeyAuth"]["name"] == "x-api-key"


def test_servers_name_the_url_the_document_was_fetched_from(server: MockServer, document: dict[str, Any]) -> None:
    assert document["servers"] == [{"url": server.url}]


def test_responses_of_the_mock_validate_against_the_served_document(
    client: httpx.Client, document: dict[str, Any]
) -> None:
    """The mock's own answers fit the schemas it serves (created session, decision, list, phone send)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry = Registry().with_resource("urn:served", Resource.from_contents(
        {**document, "$schema": "https://json-schema.org/draft/2020-12/schema"}))

    def check(method: str, path: str, response: httpx.Response) -> None:
        entry = document["paths"][path][method]["responses"][str(response.status_code)]
        if "$ref" in entry:
            entry = document["components"]["responses"][entry["$ref"].rsplit("/", 1)[1]]
        schema = entry["content"]["application/json"]["schema"]
        validator = Draft202012Validator(_absolute_refs(schema), registry=registry)
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(response.json())]
        assert not errors, (method, path, errors[:5])

    session = create_session(client, vendor_data="openapi", metadata={"k": 1})
    check("post", "/v3/session/", client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW}))
    check("get", "/v3/session/{session_id}/decision/", client.get(f"/v3/session/{session['session_id']}/decision/"))
    check("get", "/v3/sessions/", client.get("/v3/sessions/"))
    check("post", "/v3/phone/send/", client.post("/v3/phone/send/", json={"phone_number": "+14155552671"}))
    check("get", "/_mock/clock", client.get("/_mock/clock"))
    check("get", "/_mock/tenant", client.get("/_mock/tenant"))
    check("post", "/v3/session/", client.post("/v3/session/", json={}))


def test_didits_own_response_examples_fit_the_served_schemas(document: dict[str, Any]) -> None:
    """Every response example of Didit's document validates (formats included) where it is served."""
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource

    registry = Registry().with_resource("urn:served", Resource.from_contents(
        {**document, "$schema": "https://json-schema.org/draft/2020-12/schema"}))
    served = {openapi.didit_key(m, p): op for p, item in document["paths"].items() for m, op in item.items()}
    checked = 0
    for path, item in didit_spec()["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or openapi.didit_key(method, path) not in served:
                continue
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get("application/json", {})
                examples = [media["example"]] if "example" in media else []
                examples += [e["value"] for e in (media.get("examples") or {}).values() if "value" in e]
                if not examples:
                    continue
                entry = served[openapi.didit_key(method, path)]["responses"][status]
                if "schema" not in media:  # Didit documents an example but no schema
                    continue
                schema = entry["content"]["application/json"]["schema"]
                validator = Draft202012Validator(_absolute_refs(schema), registry=registry,
                                                 format_checker=FormatChecker())
                for example in examples:
                    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(example)]
                    assert not errors, (method, path, status, errors[:5])
                    checked += 1
    assert checked > 50


def _absolute_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ("urn:served" + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _absolute_refs(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_absolute_refs(v) for v in node]
    return node


def test_route_modules_can_declare_operations(monkeypatch: pytest.MonkeyPatch) -> None:
    """A route module's own `OPERATIONS` dict is merged over the seed table."""
    from didit_mock.api import blocklist

    monkeypatch.setattr(blocklist, "OPERATIONS", {("get", "/v3/blocklist/"): {"summary": "Declared by the module"}},
                        raising=False)
    merged = openapi.registered_operations()
    assert merged[("GET", "/v3/blocklist/")].summary == "Declared by the module"


if __name__ == "__main__":
    DIDIT_RESPONSES.write_text(rendered_reference(), "utf-8")
    print(f"wrote {DIDIT_RESPONSES}")
