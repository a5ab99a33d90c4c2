"""Query parameters checked against the spec, as Didit's filters (django-filter's forms) check them.

Each `in: query` parameter of an operation is read by its schema (with the overlay's fixes,
`spec.fixes`): a choice, an integer with its bounds, a UUID, a date or a date-time. Every bad
value is reported under the parameter's name in Django's words (`"X" is not a valid choice.`,
`Enter a valid date.`), all at once; an empty value is no filter, and unknown parameters are
ignored, as Django does. `limit`/`offset` are the paginator's (DRF falls back to the defaults
for a bad value) and booleans are read as django-filter's `NullBooleanField` (anything else is
no filter), so neither is refused. Handlers keep reading `call.query`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.datastructures import QueryParams

from ..domain.clock import parse_iso
from ..domain.errors import FIELD_REQUIRED, ValidationFailed
from ..spec.fixes import QUERY_PARAMETER_FIXES
from ..spec.operation import Operation
from ..spec.schemas import json_schema, with_fixes

QueryCheck = Callable[[QueryParams], None]
#: A parameter's check: None when the value is fine, else the message.
ValueCheck = Callable[[str], "str | None"]
_CACHE_KEY = "query_validator"
#: Read by the paginator, which falls back to its defaults for a value it cannot use.
PAGINATION = frozenset({"limit", "offset"})


def query_validator(operation: Operation) -> QueryCheck | None:
    """The check of `operation`'s query parameters (None when none can be refused), made once."""
    extras = operation.extras
    if _CACHE_KEY not in extras:
        extras[_CACHE_KEY] = _compile(operation)
    return extras[_CACHE_KEY]  # type: ignore[no-any-return]


def _compile(operation: Operation) -> QueryCheck | None:
    fixes = QUERY_PARAMETER_FIXES.get(operation.operation_id, {})
    checks: list[tuple[str, bool, ValueCheck | None]] = []
    for parameter in operation.query_parameters():
        if parameter.name in PAGINATION:
            continue
        schema = json_schema(parameter.schema)
        if parameter.name in fixes:
            schema = with_fixes(schema, [fixes[parameter.name]])
        check = value_check(schema)
        if check is not None or parameter.required:
            checks.append((parameter.name, parameter.required, check))
    if not checks:
        return None
    found = tuple(checks)

    def validate(query: QueryParams) -> None:
        errors: dict[str, list[str]] = {}
        for name, required, check in found:
            raw = query.get(name)
            if raw is None or raw == "":
                if required:
                    errors[name] = [FIELD_REQUIRED]
                continue
            problem = None if check is None else check(raw)
            if problem is not None:
                errors[name] = [problem]
        if errors:
            raise ValidationFailed(errors)

    return validate


def value_check(schema: dict[str, Any]) -> ValueCheck | None:
    """How a filter of `schema` refuses a value (None: it takes any)."""
    choices = schema.get("enum")
    if isinstance(choices, list):
        allowed = frozenset(str(c) for c in choices if c is not None)
        return lambda raw: None if raw in allowed else f'"{raw}" is not a valid choice.'
    kind = schema.get("type")
    if kind == "integer":
        return _integer(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return _parses(float, "Enter a number.")
    if kind != "string":
        return None
    return {
        "uuid": _parses(uuid.UUID, "Enter a valid UUID."),
        "date": _parses(date.fromisoformat, "Enter a valid date."),
        "date-time": _parses(parse_iso, "Enter a valid date/time."),
    }.get(schema.get("format") or "")


def _parses(read: Callable[[str], Any], message: str) -> ValueCheck:
    def check(raw: str) -> str | None:
        try:
            read(raw.strip())
        except ValueError:
            return message
        return None

    return check


def _integer(minimum: float | None, maximum: float | None) -> ValueCheck:
    def check(raw: str) -> str | None:
        try:
            value = int(raw.strip())
        except ValueError:
            return "Enter a whole number."
        if minimum is not None and value < minimum:
            return f"Ensure this value is greater than or equal to {minimum}."
        if maximum is not None and value > maximum:
            return f"Ensure this value is less than or equal to {maximum}."
        return None

    return check
