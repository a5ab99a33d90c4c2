"""Pydantic validation errors rewritten in Django REST Framework's words and nesting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..domain.errors import FIELD_REQUIRED

if TYPE_CHECKING:
    from pydantic import ValidationError

_PREFIX = "Value error, "


def drf_errors(error: ValidationError) -> dict[str, Any]:
    """`{"field": ["msg"]}`, nested as DRF nests: `{"options": {"code_size": ["msg"]}}`."""
    result: dict[Any, Any] = {}
    for item in error.errors(include_url=False):
        loc = [part for part in item["loc"] if not _is_union_tag(part)] or ["non_field_errors"]
        messages = descend(result, loc[:-1]).setdefault(loc[-1], [])
        if isinstance(messages, list):
            message = drf_message(item)
            if message not in messages:
                messages.append(message)
    return lists_for_indexes(result)


def descend(root: dict[Any, Any], path: Sequence[Any]) -> dict[Any, Any]:
    """The dict at `path` under `root`, made on the way (a value in the way becomes a dict).

    DRF nests both ways: error messages under their field path, and form fields named `a.b`.
    """
    node = root
    for part in path:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    return node


def lists_for_indexes(node: Any) -> Any:
    """Errors of list items as DRF reports them.

    A list of objects (a nested serializer with `many=True`) gives a list of per-item errors, `{}`
    for valid items; a list of values (a `ListField`) gives the bad items' messages by index:
    `{"ids": {"1": ["Must be a valid UUID."]}}`.
    """
    if not isinstance(node, dict):
        return node
    converted = {k: lists_for_indexes(v) for k, v in node.items()}
    if converted and all(isinstance(k, int) for k in converted) \
            and all(isinstance(v, (dict, list)) and not _messages(v) for v in converted.values()):
        size = max(converted) + 1
        return [converted.get(i, {}) for i in range(size)]
    return {str(k): v for k, v in converted.items()}


def _messages(value: Any) -> bool:
    """Whether `value` is a field's list of messages (not the errors of an object)."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_union_tag(part: object) -> bool:
    if isinstance(part, int):
        return False
    text = str(part)
    return text.startswith(("function-", "constrained-")) or text in ("str", "int", "float", "bool", "dict")


# ---------------------------------------------------------------- DRF's words, for every checker

NOT_A_STRING = "Not a valid string."
NOT_AN_INTEGER = "A valid integer is required."
NOT_A_NUMBER = "A valid number is required."
NOT_A_BOOLEAN = "Must be a valid boolean."
NOT_A_UUID = "Must be a valid UUID."
NOT_A_DATE = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
LIST_EMPTY = "This list may not be empty."


def not_a_dictionary_of(value: Any) -> str:
    return f'Expected a dictionary of items but got type "{type_name(value)}".'


def not_a_list_of(value: Any) -> str:
    return f'Expected a list of items but got type "{type_name(value)}".'


def not_a_choice(value: Any) -> str:
    return f'"{display(value)}" is not a valid choice.'


def too_long(limit: Any) -> str:
    return f"Ensure this field has no more than {limit} characters."


def too_short(limit: Any) -> str:
    return "This field may not be blank." if limit == 1 else f"Ensure this field has at least {limit} characters."


def at_most(limit: Any) -> str:
    return f"Ensure this value is less than or equal to {limit}."


def at_least(limit: Any) -> str:
    return f"Ensure this value is greater than or equal to {limit}."


def drf_message(item: dict[str, Any]) -> str:
    """DRF's text for one problem a pydantic model found."""
    kind = item["type"]
    ctx = item.get("ctx") or {}
    value = item.get("input")
    if kind == "missing":
        return FIELD_REQUIRED
    if kind in ("literal_error", "enum"):
        return not_a_choice(value)
    if kind in ("string_type",):
        return NOT_A_STRING
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return NOT_AN_INTEGER
    if kind in ("float_type", "float_parsing"):
        return NOT_A_NUMBER
    if kind in ("bool_type", "bool_parsing"):
        return NOT_A_BOOLEAN
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return not_a_dictionary_of(value)
    if kind == "list_type":
        return not_a_list_of(value)
    if kind in ("uuid_type", "uuid_parsing", "uuid_version"):
        return NOT_A_UUID
    if kind == "less_than_equal":
        return at_most(ctx.get("le"))
    if kind == "greater_than_equal":
        return at_least(ctx.get("ge"))
    if kind == "string_too_long":
        return too_long(ctx.get("max_length"))
    if kind == "string_too_short":
        return too_short(ctx.get("min_length"))
    if kind == "too_short":
        return LIST_EMPTY
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"):
        return NOT_A_DATE
    if kind in ("datetime_type", "datetime_parsing", "datetime_from_date_parsing"):
        return "Datetime has wrong format."
    if kind == "value_error" or kind == "assertion_error":
        message = str(item.get("msg", ""))
        return message[len(_PREFIX):] if message.startswith(_PREFIX) else message
    if kind == "extra_forbidden":
        return "Unexpected field."
    return str(item.get("msg", "Invalid value."))


def display(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def type_name(value: Any) -> str:
    return {list: "list", str: "str", int: "int", float: "float", bool: "bool", dict: "dict"}.get(
        type(value), "NoneType" if value is None else type(value).__name__
    )
