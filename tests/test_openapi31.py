"""The conversion of Didit's OpenAPI 3.0 description to the 3.1 form the mock serves."""

from __future__ import annotations

from didit_mock.spec.openapi31 import (
    OVERLAPPING_ONE_OF_NOTE,
    RELAXED_FORMAT_NOTE,
    any_of_for_overlapping_one_ofs,
    operation_31,
    relax_formats_contradicted_by_examples,
    to_openapi_31,
)


def test_nullable_becomes_a_null_type_and_enum_member() -> None:
    converted = to_openapi_31({
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["a", "b"], "nullable": True},
            "nullable": {"type": "integer"},  # a property of that name is a property, not the keyword
            "ref": {"$ref": "#/components/schemas/X", "nullable": True},
            "items": {"type": "array", "items": {"type": "string", "nullable": True}},
        },
    })
    properties = converted["properties"]
    assert properties["status"] == {"type": ["string", "null"], "enum": ["a", "b", None]}
    assert properties["nullable"] == {"type": "integer"}
    assert properties["ref"] == {"anyOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]}
    assert properties["items"]["items"] == {"type": ["string", "null"]}


def test_a_schema_example_becomes_json_schema_examples() -> None:
    converted = to_openapi_31({"type": "object", "example": {"a": 1},
                               "properties": {"example": {"type": "string", "example": "x"}}})
    assert converted["examples"] == [{"a": 1}] and "example" not in converted
    assert converted["properties"]["example"] == {"type": "string", "examples": ["x"]}


def test_operation_servers_go_and_media_examples_stay() -> None:
    operation = operation_31({
        "operationId": "op",
        "servers": [{"url": "https://apx.didit.me"}],
        "parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "nullable": True}}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"type": "object"}, "examples": {"one": {"value": {}}}}}},
        "responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": {"type": "string", "nullable": True}, "example": "x"}}}},
    })
    assert "servers" not in operation
    assert operation["parameters"][0]["schema"] == {"type": ["string", "null"]}
    assert operation["requestBody"]["content"]["application/json"]["examples"] == {"one": {"value": {}}}
    assert operation["responses"]["200"]["content"]["application/json"] == {
        "schema": {"type": ["string", "null"]}, "example": "x"}


def test_a_format_didits_examples_break_is_dropped_with_a_note() -> None:
    shared = {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"},
                                               "id": {"type": "string", "format": "uuid"}}}
    document = {
        "paths": {"/x/": {"get": {"responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Thing"},
            "example": {"at": "2025-01-01T10:00:00", "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6"}}}}}}}},
        "components": {"schemas": {"Thing": shared}},
    }
    relax_formats_contradicted_by_examples(document)
    assert "format" not in shared["properties"]["at"]
    assert RELAXED_FORMAT_NOTE in shared["properties"]["at"]["description"]
    assert shared["properties"]["id"]["format"] == "uuid"  # the example fits this one


def _one_of_document(options: list[dict]) -> dict:
    return {"paths": {"/x/": {"get": {"responses": {"200": {"description": "OK", "content": {
        "application/json": {"schema": {"oneOf": options}}}}}}}}, "components": {"schemas": {}}}


def test_a_one_of_whose_options_overlap_is_served_as_any_of() -> None:
    # Neither option requires anything: every object fits both, so no answer fits exactly one.
    overlapping = _one_of_document([{"type": "object", "properties": {"total": {"type": "integer"}}},
                                    {"type": "object", "properties": {"job_id": {"type": "string"}}}])
    any_of_for_overlapping_one_ofs(overlapping)
    schema = overlapping["paths"]["/x/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "oneOf" not in schema and len(schema["anyOf"]) == 2
    assert OVERLAPPING_ONE_OF_NOTE in schema["description"]

    distinct = _one_of_document([{"type": "object", "required": ["total"], "properties": {"total": {"type": "integer"}}},
                                 {"type": "string"}])
    any_of_for_overlapping_one_ofs(distinct)
    schema = distinct["paths"]["/x/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert len(schema["oneOf"]) == 2 and "anyOf" not in schema
