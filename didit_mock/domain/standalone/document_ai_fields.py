"""Document AI's `fields` form value (§1.7): one JSON-array string of 1-30 field definitions.

Every problem is a 400 before any processing or billing, under `fields`, in the words Didit uses
where it publishes them (`fields must be a valid JSON array string.`, `Every fields item must have a
unique key.`) and in DRF's style otherwise.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..errors import ValidationFailed

MAX_FIELDS = 30
MAX_BYTES = 16 * 1024
KEY_PATTERN = re.compile(r"^[a-z0-9_]{1,64}$")
TYPES = ("text", "number", "date")
NOT_AN_ARRAY = "fields must be a valid JSON array string."
NOT_UNIQUE = "Every fields item must have a unique key."


@dataclass(frozen=True)
class FieldSpec:
    """One field to extract, normalised as the answer echoes it."""

    key: str
    name: str
    instruction: str
    type: str
    required: bool
    is_full_name: bool

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "instruction": self.instruction, "type": self.type,
                "required": self.required, "is_full_name": self.is_full_name}


def _problem(message: str) -> ValidationFailed:
    return ValidationFailed.field("fields", message)


def _flag(item: dict[str, Any], name: str, index: int) -> bool:
    value = item.get(name, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise _problem(f"fields[{index}].{name} must be a boolean.")


def _text(item: dict[str, Any], name: str, index: int, limit: int, default: str) -> str:
    value = item.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _problem(f"fields[{index}].{name} must be a string.")
    if len(value) > limit:
        raise _problem(f"fields[{index}].{name} must have at most {limit} characters.")
    return value


def parse_fields(raw: Any) -> list[FieldSpec]:
    """The checked field definitions of `raw` (the form's string), or a 400 under `fields`."""
    if isinstance(raw, list):  # a JSON body may carry the array itself
        items: Any = raw
    else:
        if not isinstance(raw, str) or not raw.strip().startswith("["):
            raise _problem(NOT_AN_ARRAY)
        if len(raw.encode("utf-8")) > MAX_BYTES:
            raise _problem("fields must be at most 16 KB.")
        try:
            items = json.loads(raw)
        except ValueError:
            raise _problem(NOT_AN_ARRAY) from None
    if not isinstance(items, list):
        raise _problem(NOT_AN_ARRAY)
    if not 1 <= len(items) <= MAX_FIELDS:
        raise _problem(f"fields must contain between 1 and {MAX_FIELDS} items.")
    found: list[FieldSpec] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _problem(f"fields[{index}] must be an object.")
        key = item.get("key")
        if not isinstance(key, str) or not KEY_PATTERN.match(key):
            raise _problem(f"fields[{index}].key must match ^[a-z0-9_]{{1,64}}$.")
        kind = item.get("type", "text") or "text"
        if kind not in TYPES:
            raise _problem(f'fields[{index}].type: "{kind}" is not a valid choice.')
        found.append(FieldSpec(
            key, _text(item, "name", index, 100, key), _text(item, "instruction", index, 500, ""), str(kind),
            _flag(item, "required", index), _flag(item, "is_full_name", index)))
    if len({f.key for f in found}) != len(found):
        raise _problem(NOT_UNIQUE)
    if sum(f.is_full_name for f in found) > 1:
        raise _problem("At most one fields item may set is_full_name.")
    return found
