"""The served OpenAPI document: valid OpenAPI 3.1, every route listed, the API as Didit describes it."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from didit_mock.admin import openapi
from didit_mock.admin.openapi import OPENAPI_PATH, route_operations
from didit_mock.server import MockServer
from didit_mock.spec.document import HTTP_METHODS, api_document, didit_document

from .conftest import KYC_WORKFLOW, create_session

DECISION = "/v3/session/{sessionId}/decision/"


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


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method.upper(), path): operation for path, item in document["paths"].items()
            for method, operation in item.items() if method in HTTP_METHODS}


def test_every_route_of_the_app_is_documented(server: MockServer, document: dict[str, Any]) -> None:
    served = {(method, path) for method, path, _ in route_operations(server.app)}
    api = server.app.api
    served |= {(op.method, op.path) for op in api.table}
    served |= {(op.method, alias) for op in api.table for alias in api.placements[op.operation_id].aliases}
    documented = set(_operations(document))
    assert served - documented == set(), "routes missing from the document"
    assert documented - served == set(), "documented operations the app does not serve"
    # Every operation of Didit's document and of the additions, the fixed admin routes too.
    assert {(m.upper(), p) for p, item in api_document()["paths"].items() for m in item if m in HTTP_METHODS} <= served
    for method, path in [
        ("POST", "/v3/session/"), ("GET", DECISION), ("GET", "/v3/sessions/"), ("POST", "/v3/lists/"),
        ("POST", "/auth/v2/programmatic/register/"), ("GET", "/system/healthcheck"), ("GET", "/_mock/tenant"),
        ("POST", "/_mock/clock/advance"), ("GET", OPENAPI_PATH),
    ]:
        assert (method, path) in documented, (method, path)


def test_every_route_has_a_unique_operation_id(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for op in _operations(document).values()]
    assert len(ids) == len(set(ids))


def test_api_operations_keep_didits_operation_ids_and_descriptions(document: dict[str, Any]) -> None:
    operations = _operations(document)
    for path, item in api_document()["paths"].items():
        for method, source in item.items():
            if method not in HTTP_METHODS:
                continue
            served = operations[(method.upper(), path)]
            assert served["operationId"] == source["operationId"], (method, path)
            assert served.get("summary") == source.get("summary"), (method, path)
            assert set(served["responses"]) >= set(source["responses"]), (method, path)
            assert ("requestBody" in served) == ("requestBody" in source), (method, path)
            names = {(p["in"], p["name"]) for p in source.get("parameters", [])}
            assert names <= {(p["in"], p["name"]) for p in served.get("parameters", [])}, (method, path)
            assert "servers" not in served, (method, path)
    for path, item in document["paths"].items():  # the auth API's own host is not the mock's
        assert "servers" not in item, path


def test_additions_and_shape_only_operations_are_marked(server: MockServer, document: dict[str, Any]) -> None:
    operations = _operations(document)
    additions = {(m.upper(), p) for p, item in api_document()["paths"].items() for m, op in item.items()
                 if m in HTTP_METHODS and op.get("x-didit-mock-addition")}
    marked = {key for key, op in operations.items() if op.get("x-didit-mock-addition")}
    assert marked == additions
    assert ("GET", "/v3/lists/") in marked and ("POST", "/v3/blocklist/add/") in marked
    assert ("POST", "/v3/session/") not in marked

    api = server.app.api
    # Every operation has rules or a store declaration now: none is marked; one that loses them is.
    shape_only = {(op.method, op.path) for op in api.table if api.handlers[op.operation_id].kind == "shape"}
    assert {key for key, op in operations.items() if op.get("x-didit-mock-shape-only")} == shape_only
    assert ("POST", "/v3/session/") not in shape_only


def test_path_parameters_are_declared(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        shared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            declared = shared | {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (method, path)


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_api_bodies_are_didits_and_admin_bodies_come_from_the_models(document: dict[str, Any]) -> None:
    from didit_mock.admin.routes import AdvanceBody

    create = document["paths"]["/v3/session/"]["post"]["requestBody"]
    didit = didit_document()["paths"]["/v3/session/"]["post"]["requestBody"]
    assert create["required"] is didit.get("required", False)
    schema = _resolve(document, create["content"]["application/json"]["schema"])
    didit_schema = didit["content"]["application/json"]["schema"]
    if "$ref" in didit_schema:
        didit_schema = didit_document()["components"]["schemas"][didit_schema["$ref"].rsplit("/", 1)[1]]
    assert set(schema["properties"]) == set(didit_schema["properties"])
    assert "workflow_id" in schema["required"]
    assert "examples" in create["content"]["application/json"]  # Didit's request examples are kept

    advance = document["paths"]["/_mock/clock/advance"]["post"]["requestBody"]
    schema = _resolve(document, advance["content"]["application/json"]["schema"])
    assert set(schema["properties"]) == set(AdvanceBody.model_fields)
    for name in ("AdvanceBody", "CompleteBody", "CreateTenantBody"):
        assert name in document["components"]["schemas"], name


def test_didit_routes_describe_responses_as_didit_does(document: dict[str, Any]) -> None:
    didit = didit_document()["paths"]
    create = document["paths"]["/v3/session/"]["post"]
    assert create["summary"] == didit["/v3/session/"]["post"]["summary"]
    assert create["tags"] == didit["/v3/session/"]["post"]["tags"]
    created = create["responses"]["201"]["content"]["application/json"]["schema"]
    assert set(created["required"]) == set(didit["/v3/session/"]["post"]["responses"]["201"]["content"][
        "application/json"]["schema"]["required"])
    # OpenAPI 3.0's `nullable` became a null type, a schema's `example` JSON Schema's `examples`.
    assert created["properties"]["vendor_data"]["type"] == ["string", "null"]
    assert "nullable" not in created["properties"]["vendor_data"]
    assert created["properties"]["session_id"]["examples"] == ["11111111-2222-3333-4444-555555555555"]
    decision = document["paths"][DECISION]["get"]["responses"]
    assert "id_verifications" in decision["200"]["content"]["application/json"]["schema"]["properties"]
    # A malformed UUID is Django's HTML 404, so 404 documents HTML as well.
    assert "text/html" in decision["404"]["content"]
    names = {p["name"] for p in document["paths"]["/v3/sessions/"]["get"]["parameters"]}
    assert {"limit", "offset", "vendor_data", "status"} <= names
    pdf = document["paths"]["/v3/session/{sessionId}/generate-pdf/"]["get"]
    assert "application/pdf" in pdf["responses"]["200"]["content"]
    # The slash-less form the mock also serves is the same operation.
    alias = document["paths"]["/v3/session/{sessionId}/generate-pdf"]["get"]
    assert alias["x-didit-mock-alias-of"] == pdf["operationId"]
    assert alias["responses"] == pdf["responses"] and alias["operationId"] != pdf["operationId"]


def test_generic_answers_and_security_are_documented(document: dict[str, Any]) -> None:
    for path, method in [("/v3/blocklist/add/", "post"), ("/v3/session/", "post"), ("/_mock/clock/advance", "post")]:
        responses = document["paths"][path][method]["responses"]
        for status in ("400", "401", "403", "404", "405", "413", "415", "429"):
            assert status in responses, (path, status)
    # Didit's own 400 stays where it documents one; the generic answer fills the others.
    assert "$ref" not in document["paths"]["/v3/session/"]["post"]["responses"]["400"]
    assert document["paths"]["/v3/session/"]["post"]["responses"]["413"] == {"$ref": "#/components/responses/413"}
    assert document["paths"]["/v3/blocklist/add/"]["post"]["security"] == [{"ApiKeyAuth": []}]
    assert document["paths"]["/system/healthcheck"]["get"]["security"] == []
    arm = document["paths"]["/v3/session/{sessionId}/sandbox/arm/"]["post"]
    assert arm["security"] == [{"SessionTokenAuth": []}]
    # Didit states no security for the case API: the overlay's auth profile (an API key) does.
    cases = document["paths"]["/v3/organization/{organization_id}/application/{application_id}/cases/"]["get"]
    assert "security" not in didit_document()["paths"][
        "/v3/organization/{organization_id}/application/{application_id}/cases/"]["get"]
    assert cases["security"] == [{"ApiKeyAuth": []}]
    assert document["components"]["securitySchemes"]["ApiKeyAuth"]["name"] == "x-api-key"
    assert "tenant" in document["components"]["securitySchemes"]["ApiKeyAuth"]["description"]


def test_servers_name_the_url_the_document_was_fetched_from(server: MockServer, document: dict[str, Any]) -> None:
    assert document["servers"] == [{"url": server.url}]


def _validator(document: dict[str, Any], schema: dict[str, Any], **options: Any) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry = Registry().with_resource("urn:served", Resource.from_contents(
        {**document, "$schema": "https://json-schema.org/draft/2020-12/schema"}))
    return Draft202012Validator(_absolute_refs(schema), registry=registry, **options)


def test_responses_of_the_mock_validate_against_the_served_document(
    client: httpx.Client, document: dict[str, Any]
) -> None:
    """The mock's own answers fit the schemas it serves (created session, decision, list, phone send)."""

    def check(method: str, path: str, response: httpx.Response) -> None:
        entry = document["paths"][path][method]["responses"][str(response.status_code)]
        if "$ref" in entry:
            entry = document["components"]["responses"][entry["$ref"].rsplit("/", 1)[1]]
        schema = entry["content"]["application/json"]["schema"]
        errors = [f"{list(e.absolute_path)}: {e.message}"
                  for e in _validator(document, schema).iter_errors(response.json())]
        assert not errors, (method, path, errors[:5])

    session = create_session(client, vendor_data="openapi", metadata={"k": 1})
    check("post", "/v3/session/", client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW}))
    check("get", DECISION, client.get(f"/v3/session/{session['session_id']}/decision/"))
    check("get", "/v3/sessions/", client.get("/v3/sessions/"))
    check("post", "/v3/phone/send/", client.post("/v3/phone/send/", json={"phone_number": "+14155552671"}))
    check("get", "/_mock/clock", client.get("/_mock/clock"))
    check("get", "/_mock/tenant", client.get("/_mock/tenant"))
    check("post", "/v3/session/", client.post("/v3/session/", json={}))
    # A shape-only answer fits its schema too: tests/test_shape_only.py (no operation is shape only today).


def test_didits_own_response_examples_fit_the_served_schemas(document: dict[str, Any]) -> None:
    """Every response example of Didit's document and the additions validates, formats included."""
    from jsonschema import FormatChecker

    operations = _operations(document)
    checked = 0
    for path, item in api_document()["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get("application/json", {})
                examples = [media["example"]] if "example" in media else []
                examples += [e["value"] for e in (media.get("examples") or {}).values() if "value" in e]
                if not examples or "schema" not in media:  # Didit documents an example but no schema
                    continue
                entry = operations[(method.upper(), path)]["responses"][status]
                validator = _validator(document, entry["content"]["application/json"]["schema"],
                                       format_checker=FormatChecker())
                for example in examples:
                    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(example)]
                    assert not errors, (method, path, status, errors[:5])
                    checked += 1
    assert checked > 200


def _absolute_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ("urn:served" + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _absolute_refs(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_absolute_refs(v) for v in node]
    return node


def test_route_modules_can_declare_operations(monkeypatch: pytest.MonkeyPatch) -> None:
    """A route module's own `OPERATIONS` dict is merged over the seed table."""
    from didit_mock.admin import state

    monkeypatch.setattr(state, "OPERATIONS", {("get", "/_mock/state"): {"summary": "Declared by the module"}})
    merged = openapi.registered_operations()
    assert merged[("GET", "/_mock/state")].summary == "Declared by the module"


def test_the_first_build_does_not_hold_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """While the document is being built, the server answers other requests."""
    started, release = threading.Event(), threading.Event()
    real = openapi.build_document

    def held(app: Any) -> dict[str, Any]:
        started.set()
        assert release.wait(10)
        return real(app)

    monkeypatch.setattr(openapi, "build_document", held)
    with MockServer() as fresh, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(httpx.get, fresh.url + OPENAPI_PATH, timeout=30)
        assert started.wait(10)
        try:
            health = httpx.get(fresh.url + "/system/healthcheck", timeout=5)
        finally:
            release.set()
        assert health.status_code == 200
        assert pending.result().status_code == 200
