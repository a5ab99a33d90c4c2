"""Request bodies and queries checked against the spec's schemas, with DRF's messages.

One mechanism for every operation that has no hand-written rules: the operation's JSON schema
(`spec.schemas.json_schema`) compiled once with `jsonschema_rs`; values are first read as DRF's
fields read them (a number for a string field, `"true"` for a boolean, `"5"` for an integer),
then every problem is reported under its field, in DRF's words and nesting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema_rs

from ..domain.errors import FIELD_REQUIRED, ValidationFailed, not_a_dictionary
from ..spec.operation import Operation
from ..spec.schemas import json_schema
from .drf import descend, display, lists_for_indexes, type_name

Validator = Callable[[Any], Any]
_CACHE_KEY = "request_validators"
_BOOL_TRUE = frozenset({"true", "True", "TRUE", "1", "yes", "on", 1})
_BOOL_FALSE = frozenset({"false", "False", "FALSE", "0", "no", "off", 0})


def request_validator(operation: Operation, media_type: str) -> Validator | None:
    """The compiled check of `operation`'s body for `media_type` (None when it declares no body)."""
    cache: dict[str, Validator | None] = operation.extras.setdefault(_CACHE_KEY, {})
    if media_type in cache:
        return cache[media_type]
    raw = operation.request_schemas.get(media_type)
    if raw is None and operation.request_schemas:
        raw = next(iter(operation.request_schemas.values()))
    checker = None if raw is None else compile_schema(json_schema(raw, for_request=True))
    cache[media_type] = checker
    return checker


def compile_schema(schema: dict[str, Any]) -> Validator:
    """A function that returns the document read as DRF reads it, or raises a DRF-shaped 400."""
    compiled = jsonschema_rs.Draft4Validator(schema, validate_formats=True)
    declared = frozenset(schema.get("properties") or ())

    def validate(document: Any) -> Any:
        if not isinstance(document, dict) and _top_is_object(compiled):
            raise not_a_dictionary(document)
        value = coerce(schema, document)
        if compiled.is_valid(value):
            # DRF's validated data holds the declared fields only.
            return {k: v for k, v in value.items() if k in declared} if declared and isinstance(value, dict) else value
        raise ValidationFailed(drf_errors(compiled, value))

    return validate


def drf_errors(compiled: Any, value: Any) -> Any:
    """Every problem of `value`, as DRF reports them: `{"field": ["msg"]}`, nested like the data."""
    result: dict[Any, Any] = {}
    for error in compiled.iter_errors(value):
        path = list(error.instance_path)
        kind = error.kind
        if kind.name == "required":
            path.append(kind.property)
        place = path or ["non_field_errors"]
        messages = descend(result, place[:-1]).setdefault(place[-1], [])
        if isinstance(messages, list):
            text = message(kind, error.instance)
            if text not in messages:
                messages.append(text)
    return lists_for_indexes(result) or {"non_field_errors": ["Invalid data."]}


def _top_is_object(compiled: Any) -> bool:
    return not compiled.is_valid([]) or not compiled.is_valid("")


def message(kind: Any, instance: Any) -> str:
    """DRF's text for one problem."""
    name = kind.name
    if name == "required":
        return FIELD_REQUIRED
    if name == "type":
        if instance is None:
            return "This field may not be null."
        wanted = [t for t in kind.types if t != "null"]
        first = wanted[0] if wanted else "string"
        return {
            "string": "Not a valid string.",
            "integer": "A valid integer is required.",
            "number": "A valid number is required.",
            "boolean": "Must be a valid boolean.",
            "object": f'Expected a dictionary of items but got type "{type_name(instance)}".',
            "array": f'Expected a list of items but got type "{type_name(instance)}".',
        }.get(first, "Invalid value.")
    if name == "enum":
        if instance is None:
            return "This field may not be null."
        return f'"{instance if isinstance(instance, str) else display(instance)}" is not a valid choice.'
    if name == "maxLength":
        return f"Ensure this field has no more than {kind.limit} characters."
    if name == "minLength":
        return "This field may not be blank." if kind.limit == 1 else (
            f"Ensure this field has at least {kind.limit} characters.")
    if name == "maximum":
        return f"Ensure this value is less than or equal to {_number(kind.limit)}."
    if name == "minimum":
        return f"Ensure this value is greater than or equal to {_number(kind.limit)}."
    if name == "exclusiveMaximum":
        return f"Ensure this value is less than {_number(kind.limit)}."
    if name == "exclusiveMinimum":
        return f"Ensure this value is greater than {_number(kind.limit)}."
    if name == "maxItems":
        return f"Ensure this field has no more than {kind.limit} elements."
    if name == "minItems":
        return "This list may not be empty." if kind.limit == 1 else (
            f"Ensure this field has at least {kind.limit} elements.")
    if name == "format":
        return {
            "uuid": "Must be a valid UUID.",
            "email": "Enter a valid email address.",
            "date": "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            "date-time": "Datetime has wrong format. Use one of these formats instead: "
                         "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
            "uri": "Enter a valid URL.",
            "ipv4": "Enter a valid IPv4 address.",
        }.get(kind.format, "Invalid value.")
    if name == "pattern":
        return "This value does not match the required pattern."
    if name == "uniqueItems":
        return "Items must be unique."
    return "Invalid value."


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


# ---------------------------------------------------------------- DRF's reading of values

def coerce(schema: dict[str, Any], value: Any) -> Any:
    """`value` as DRF's fields for `schema` would read it, leaving what they would refuse as is."""
    if isinstance(value, dict):
        properties = schema.get("properties")
        if not properties:
            return value
        return {key: coerce(properties[key], item) if key in properties else item for key, item in value.items()}
    if isinstance(value, list):
        items = schema.get("items")
        return [coerce(items, item) for item in value] if isinstance(items, dict) else value
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if value is None or type(value).__name__ in ("dict", "list"):
        return value
    if "string" in kinds and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if "boolean" in kinds and not isinstance(value, bool):
        if value in _BOOL_TRUE and not isinstance(value, float):
            return True
        if value in _BOOL_FALSE and not isinstance(value, float):
            return False
        return value
    if "integer" in kinds and isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        return value
    if "integer" in kinds and isinstance(value, float) and value.is_integer():
        return int(value)
    if "number" in kinds and isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return value
    return value
