"""Request bodies and queries checked against the spec's schemas, with DRF's messages.

One mechanism for every operation: the operation's JSON schema (`spec.schemas.json_schema`,
with the overlay's fixes) compiled once with `jsonschema_rs`; values are first read as DRF's
fields read them (a number for a string field, `"true"` for a boolean, `"5"` for an integer),
then every problem is reported under its field, in DRF's words and nesting. What a schema cannot
say (a phone number's validity, a rule across fields) is a `FieldRule` the handler names by path
(`BodyRules`); it runs on what the schema accepted and reports the same way.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..domain.errors import FIELD_REQUIRED, ValidationFailed, not_a_dictionary
from ..spec.fixes import request_schema_fixes
from ..spec.operation import Operation
from ..spec.schemas import json_schema, with_fixes
from . import drf
from .drf import descend, lists_for_indexes

Validator = Callable[[Any], Any]
#: A hand-written check of one value the schema accepted: the value to keep, or `ValueError(message)`.
FieldRule = Callable[[Any], Any]
_CACHE_KEY = "request_validators"
#: What `format: uuid` is checked as: the reading (`reader`) turns every spelling DRF's UUIDField
#: accepts into the canonical one, so what is left must be canonical. (The checker's own `uuid`
#: format takes any 32 characters between separators.)
UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_CANONICAL_UUID = re.compile(UUID_PATTERN)
_BOOL_TRUE = frozenset({"true", "True", "TRUE", "1", "yes", "on", 1})
_BOOL_FALSE = frozenset({"false", "False", "FALSE", "0", "no", "off", 0})


@dataclass(frozen=True)
class BodyRules:
    """What the spec's schema cannot say about a body, by dotted path (`""` is the whole body).

    A rule runs on a value that is present, not null, and free of schema errors (nested ones
    included); its `ValueError` is reported under that path, beside the schema's own errors. A
    field's own rule runs after those of the fields under it (it sees their results); the whole
    body's rules run last, only when nothing else failed (DRF's `validate`), and report under
    `non_field_errors`. A `[]` step names every item of a list (`nodes.[].feature`). A rule whose
    answer Didit shapes its own way (a message under another field, a `detail`) raises that
    `ValidationFailed` itself.
    """

    fields: Mapping[str, FieldRule] = field(default_factory=dict)


def request_validator(operation: Operation, media_type: str, rules: BodyRules | None = None) -> Validator | None:
    """The compiled check of `operation`'s body for `media_type` (None when it declares no body).

    Compiled on first use and kept on the operation, by media type and rules (the rules are
    module constants, named by identity).
    """
    cache: dict[Any, Validator | None] | None = operation.extras.get(_CACHE_KEY)
    if cache is None:
        cache = operation.extras[_CACHE_KEY] = {}
    key = media_type if rules is None else (media_type, id(rules))
    if key in cache:
        return cache[key]
    raw = operation.request_schemas.get(media_type)
    if raw is None and operation.request_schemas:
        raw = next(iter(operation.request_schemas.values()))
    checker = None
    if raw is not None:
        schema = with_fixes(json_schema(raw, for_request=True), request_schema_fixes(operation.operation_id))
        checker = compile_schema(schema, rules)
    cache[key] = checker
    return checker


def compile_schema(schema: dict[str, Any], rules: BodyRules | None = None) -> Validator:
    """A function that returns the document read as DRF reads it, or raises a DRF-shaped 400."""
    import jsonschema_rs  # with the first body check, not with the server

    compiled = jsonschema_rs.Draft4Validator(_uuid_as_pattern(schema), validate_formats=True)
    declared = frozenset(schema.get("properties") or ())
    # The rules by the top-level field they concern (in their order), those of the whole body last.
    by_field: dict[str, list[tuple[tuple[str, ...], FieldRule]]] = {}
    whole: list[FieldRule] = []
    for path, rule in (rules.fields.items() if rules else ()):
        if path:
            parts = tuple(path.split("."))
            by_field.setdefault(parts[0], []).append((parts, rule))
        else:
            whole.append(rule)
    has_rules = bool(by_field or whole)
    # Per top-level field: its own rule (run after those of the fields under it) and those under it.
    rule_plan = {name: (next((r for p, r in steps if len(p) == 1), None), tuple((p, r) for p, r in steps if len(p) > 1))
                 for name, steps in by_field.items()}
    is_object = _top_is_object(compiled)
    read, read_as_sent = reader(schema), reader(schema, uuids=False)
    # `coerce` keeps a serializer's declared fields only; an open object keeps the rest until here.
    keep_declared = bool(declared) and "additionalProperties" in schema

    def validate(document: Any) -> Any:
        if not isinstance(document, dict) and is_object:
            raise not_a_dictionary(document)
        value = read_as_sent(document)
        if compiled.is_valid(value):
            errors: dict[Any, Any] = {}
        else:
            value = read(document)  # a UUID in another spelling, or a problem to report
            errors = {} if compiled.is_valid(value) else error_tree(compiled, value)
        if errors and not has_rules:
            raise ValidationFailed(lists_for_indexes(errors) or {"non_field_errors": ["Invalid data."]})
        # DRF's validated data holds the declared fields only.
        if keep_declared and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k in declared}
        if has_rules and isinstance(value, dict):
            for name, current in value.items():
                plan = rule_plan.get(name)
                if plan is None or current is None:
                    continue
                top_rule, nested = plan
                for path, rule in nested:
                    _apply(rule, path, value, errors)
                if top_rule is not None and name not in errors:
                    try:
                        value[name] = top_rule(current)
                    except ValueError as exc:
                        errors[name] = [str(exc)]
            for rule in whole:
                value = _apply(rule, (), value, errors)
        if errors:
            raise ValidationFailed(lists_for_indexes(errors))
        return value

    return validate


def _uuid_as_pattern(node: Any) -> Any:
    """`node` with `format: uuid` checked as the canonical spelling (see `UUID_PATTERN`)."""
    if isinstance(node, list):
        return [_uuid_as_pattern(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _uuid_as_pattern(value) for key, value in node.items()}
    if out.get("format") == "uuid" and "pattern" not in out:
        del out["format"]
        out["pattern"] = UUID_PATTERN
    return out


def _apply(rule: FieldRule, path: tuple[Any, ...], document: Any, errors: dict[Any, Any]) -> Any:
    """`document` with the value at `path` replaced by what `rule` makes of it (or its error noted).

    A `[]` step in `path` runs the rule on every item of that list (errors under the item's index).
    """
    if "[]" in path:
        at = path.index("[]")
        items = _value_at(document, path[:at])
        if isinstance(items, list):
            for index in range(len(items)):
                _apply(rule, (*path[:at], index, *path[at + 1:]), document, errors)
        return document
    if errors and _refused(errors, path):
        return document
    if not path:
        try:
            return rule(document)
        except ValueError as exc:
            errors.setdefault("non_field_errors", []).append(str(exc))
            return document
    container = _value_at(document, path[:-1])
    last = path[-1]
    if isinstance(container, dict):
        current = container.get(last)
    elif isinstance(container, list) and isinstance(last, int) and last < len(container):
        current = container[last]
    else:
        return document
    if current is None:
        return document
    try:
        container[last] = rule(current)
    except ValueError as exc:
        messages = descend(errors, path[:-1]).setdefault(last, [])
        if isinstance(messages, list):
            messages.append(str(exc))
    return document


def _value_at(document: Any, path: tuple[Any, ...]) -> Any:
    """The value at `path` (keys of objects, indexes of lists), or None."""
    node = document
    for part in path:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    return node


def _refused(errors: dict[Any, Any], path: tuple[Any, ...]) -> bool:
    """Whether the schema reported a problem at `path`, under it, or at a value above it."""
    node: Any = errors
    for part in path:
        if not isinstance(node, dict):
            return True
        if part not in node:
            return False
        node = node[part]
    return bool(node)


def drf_errors(compiled: Any, value: Any) -> Any:
    """Every problem of `value`, as DRF reports them: `{"field": ["msg"]}`, nested like the data."""
    return lists_for_indexes(error_tree(compiled, value)) or {"non_field_errors": ["Invalid data."]}


def error_tree(compiled: Any, value: Any) -> dict[Any, Any]:
    """Every problem of `value` by path (list indexes as int keys, see `drf.lists_for_indexes`)."""
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
    return result


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
            "string": drf.NOT_A_STRING,
            "integer": drf.NOT_AN_INTEGER,
            "number": drf.NOT_A_NUMBER,
            "boolean": drf.NOT_A_BOOLEAN,
            "object": drf.not_a_dictionary_of(instance),
            "array": drf.not_a_list_of(instance),
        }.get(first, "Invalid value.")
    if name == "enum":
        if instance is None:
            return "This field may not be null."
        return drf.not_a_choice(instance)
    if name == "maxLength":
        return drf.too_long(kind.limit)
    if name == "minLength":
        return drf.too_short(kind.limit)
    if name == "maximum":
        return drf.at_most(_number(kind.limit))
    if name == "minimum":
        return drf.at_least(_number(kind.limit))
    if name == "exclusiveMaximum":
        return f"Ensure this value is less than {_number(kind.limit)}."
    if name == "exclusiveMinimum":
        return f"Ensure this value is greater than {_number(kind.limit)}."
    if name == "maxItems":
        return f"Ensure this field has no more than {kind.limit} elements."
    if name == "minItems":
        return drf.LIST_EMPTY if kind.limit == 1 else f"Ensure this field has at least {kind.limit} elements."
    if name == "format":
        return {
            "uuid": drf.NOT_A_UUID,
            "email": "Enter a valid email address.",
            "date": drf.NOT_A_DATE,
            "date-time": "Datetime has wrong format. Use one of these formats instead: "
                         "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
            "uri": "Enter a valid URL.",
            "ipv4": "Enter a valid IPv4 address.",
        }.get(kind.format, "Invalid value.")
    if name == "pattern":
        if kind.pattern == UUID_PATTERN:
            return drf.NOT_A_UUID
        return "This value does not match the required pattern."
    if name == "uniqueItems":
        return "Items must be unique."
    return "Invalid value."


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


# ---------------------------------------------------------------- DRF's reading of values

def coerce(schema: dict[str, Any], value: Any) -> Any:
    """`value` as DRF's fields for `schema` would read it, leaving what they would refuse as is."""
    return reader(schema)(value)


Reader = Callable[[Any], Any]


def reader(schema: dict[str, Any], uuids: bool = True) -> Reader:
    """A function reading values as DRF's fields for `schema` would (see `coerce`), built once.

    `uuids=False` leaves UUID strings as they are: a document whose UUIDs are already canonical
    (nearly every one) is read so, and only read again when the check refuses it.
    """
    kind = schema.get("type")
    kinds = frozenset(kind if isinstance(kind, list) else [kind])
    scalar = _scalar_reader(kinds)
    if uuids and schema.get("format") == "uuid" and "string" in kinds:
        scalar = _uuid_reader(scalar)
    properties = schema.get("properties")
    items = schema.get("items")
    if properties:
        fields = {name: reader(sub, uuids) for name, sub in properties.items()}
        # Fields where a string is read as it is: no call for the most common value.
        texts = frozenset(name for name, sub in properties.items() if _takes_text_as_is(sub, uuids))
        closed = "additionalProperties" not in schema  # a serializer: its validated data has its fields only

        def read_object(value: Any) -> Any:
            if isinstance(value, dict):
                if closed:
                    return {key: item if type(item) is str and key in texts else fields[key](item)
                            for key, item in value.items() if key in fields}
                return {key: fields[key](item) if key in fields else item for key, item in value.items()}
            return value if isinstance(value, list) else scalar(value)

        return read_object
    if isinstance(items, dict):
        read_item = reader(items, uuids)

        def read_list(value: Any) -> Any:
            if isinstance(value, list):
                return [read_item(item) for item in value]
            return value if isinstance(value, dict) else scalar(value)

        return read_list
    return scalar


def _takes_text_as_is(schema: dict[str, Any], uuids: bool) -> bool:
    kind = schema.get("type")
    if uuids and schema.get("format") == "uuid":
        return False
    return kind is None or kind == "string" or (isinstance(kind, list) and "string" in kind)


def _uuid_reader(otherwise: Reader) -> Reader:
    """DRF's UUIDField: any spelling `uuid.UUID` reads (no hyphens, capitals, braces) is the canonical
    form; anything else is left for the `uuid` format to refuse."""

    def read(value: Any) -> Any:
        if type(value) is not str:
            return otherwise(value)
        if len(value) == 36 and _CANONICAL_UUID.match(value):
            return value
        try:
            return str(uuid.UUID(value))
        except ValueError:
            return value

    return read


def _same(value: Any) -> Any:
    return value


def _scalar_reader(kinds: frozenset[Any]) -> Reader:
    """The reading of a value that is not an object or a list (those are left as they are)."""
    is_string, is_boolean = "string" in kinds, "boolean" in kinds
    is_integer, is_number = "integer" in kinds, "number" in kinds
    if not (is_string or is_boolean or is_integer or is_number):
        return _same

    def read(value: Any) -> Any:
        kind = type(value)
        if kind is str and is_string:
            return value
        if value is None or isinstance(value, (dict, list)):
            return value
        if is_string and isinstance(value, (int, float)) and kind is not bool:
            return str(value)
        if is_boolean and kind is not bool:
            if kind is not float and value in _BOOL_TRUE:
                return True
            if kind is not float and value in _BOOL_FALSE:
                return False
            return value
        if is_integer and isinstance(value, str):
            text = value.strip()
            return int(text) if text.lstrip("-").isdigit() else value
        if is_integer and isinstance(value, float) and value.is_integer():
            return int(value)
        if is_number and isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                return value
        return value

    return read
