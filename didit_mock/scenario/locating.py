"""Where a problem is, and how to say it: pydantic locations to YAML lines, errors to messages.

`Locator` indexes each mapping's keys the first time a location passes through it, so locating
every error of a document costs time in proportion to the document, not to its square.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from .problems import MAX_REPORTED, Problem

if TYPE_CHECKING:
    from yaml.nodes import Node

    from .schema import Loc

_FRIENDLY_PATTERNS = {
    r"^\+[0-9]{1,15}\*?$": "an E.164 prefix such as +1555 or +1555*",
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$": "a lower-case UUID",
    r"^[A-Z][A-Z0-9_]*$": "an upper-case risk code such as LIVENESS_FACE_ATTACK",
    r"^[0-9]{4,8}$": '4 to 8 digits, quoted (code: "123456")',
    r"^[A-Za-z0-9]{4,8}$": '4 to 8 letters or digits, quoted (code: "A1B2C3")',
    r"^https?://\S+$": "an http:// or https:// URL",
    r"^[!-~]+$": "printable ASCII without spaces",
    r"@": "an address glob such as *@example.com",
}
_NOT_A_MAPPING = "a scenario is a mapping with keys such as sessions, phone, email, faults"


class Locator:
    """Lines and dotted paths of the nodes of one document (None: no nodes, e.g. unreadable JSON)."""

    def __init__(self, root: Node | None):
        self.root = root
        self._keys: dict[int, dict[str, tuple[Node, Node]]] = {}

    def find(self, loc: Loc) -> tuple[int | None, str, Node | None]:
        """The line of the node `loc` points at (its key's line), the dotted path, and the node."""
        from yaml.nodes import MappingNode, SequenceNode

        current = self.root
        line = current.start_mark.line + 1 if current is not None else None
        path = ""
        for part in loc:
            if isinstance(part, int):
                path += f"[{part}]"
            elif _is_tag(part):
                continue
            else:
                path += f".{part}" if path else str(part)
            if isinstance(current, MappingNode) and isinstance(part, str):
                pair = self._pairs(current).get(part)
                if pair is None:
                    current = None
                    continue
                line, current = pair[0].start_mark.line + 1, pair[1]
            elif isinstance(current, SequenceNode) and isinstance(part, int) and 0 <= part < len(current.value):
                current = current.value[part]
                line = current.start_mark.line + 1
            else:
                current = None
        return line, path, current

    def _pairs(self, mapping: Node) -> dict[str, tuple[Node, Node]]:
        from yaml.nodes import ScalarNode

        index = self._keys.get(id(mapping))
        if index is None:
            index = {}
            for key, value in mapping.value:
                if isinstance(key, ScalarNode):
                    index.setdefault(key.value, (key, value))
            self._keys[id(mapping)] = index
        return index


def locate(node: Node | None, loc: Loc) -> tuple[int | None, str]:
    """The line and dotted path of `loc` in the document `node` (one-off; see `Locator`)."""
    line, path, _ = Locator(node).find(loc)
    return line, path


def _is_tag(part: object) -> bool:
    """Parts pydantic adds to a location for validators and union members."""
    return isinstance(part, str) and (part.startswith(("function-", "constrained-")) or "[" in part)


def pydantic_problems(error: ValidationError, source: str, locator: Locator) -> list[Problem]:
    """Every error of a failed validation, as problems at their lines (duplicates once)."""
    problems: dict[Problem, None] = {}
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        kind = item["type"]
        if kind in ("extra_forbidden", "missing") and loc:
            parent, key = loc[:-1], loc[-1]
            line, path, _ = locator.find(parent)
            if kind == "extra_forbidden":
                line = locator.find(loc)[0]  # the line of the unknown key itself
                hinted = len(problems) < MAX_REPORTED  # past those, the hints would not be shown anyway
                message = f"unknown key {key!r}" + (_suggestion(parent, str(key)) if hinted else "")
            else:
                message = f"missing required key {key!r}"
        else:
            line, path, node = locator.find(loc)
            message = _message(item, node)
        if not path and kind in ("model_type", "model_attributes_type", "dict_type"):
            message = _NOT_A_MAPPING
        problems[Problem(source, line, f"{path}: {message}" if path else message)] = None
    return list(problems)


def _message(item: Any, node: Node | None) -> str:
    kind, message, value = item["type"], str(item["msg"]), item.get("input")
    if message.startswith("Value error, "):
        return message[len("Value error, "):]
    if kind == "string_pattern_mismatch":
        pattern = str((item.get("ctx") or {}).get("pattern", ""))
        return f"expected {_FRIENDLY_PATTERNS.get(pattern, 'a string matching ' + pattern)}, got {value!r}"
    if kind == "string_type" and isinstance(value, bool):
        return f"expected a string, got the boolean {value!r}: quote it (YAML reads yes, no, on, off as booleans)"
    if kind == "string_type" and isinstance(value, (int, float)):
        surprise = yaml_number_surprise(node, value)
        if surprise:
            return f"expected a string, got the number {value!r}: {surprise}"
        return f"expected a string, got the number {value!r}: quote it (YAML reads unquoted digits as a number)"
    if kind in ("literal_error", "enum"):
        return f"{message}, got {value!r}"
    if kind in ("int_parsing", "float_parsing", "bool_parsing", "int_type", "float_type", "bool_type",
                "list_type", "dict_type", "model_type", "string_type"):
        return f"{message}, got {_describe(value)}"
    return message


def yaml_number_surprise(node: Node | None, value: Any) -> str | None:
    """How YAML turned the unquoted text of `node` into a different-looking number, if it did.

    `012345` is octal (5349), `0x1F` hexadecimal, `1:30` base 60 (90), `+1555` loses its plus
    sign, `1_000` its underscores.
    """
    from yaml.nodes import ScalarNode

    if not isinstance(node, ScalarNode) or node.style not in (None, "") or isinstance(value, bool):
        return None
    text = node.value.strip()
    if text == repr(value) or text == str(value):
        return None
    digits = text.lstrip("+-")
    if digits.startswith("0") and len(digits) > 1 and digits.isdigit():
        how = "an octal number (a leading 0)"
    elif digits[:2].lower() == "0x":
        how = "a hexadecimal number"
    elif digits[:2].lower() == "0b":
        how = "a binary number"
    elif ":" in digits:
        how = "a base-60 number (digits separated by colons)"
    elif text.startswith("+"):
        how = "a number without its plus sign"
    else:
        how = "a number"
    return f"YAML reads the unquoted {text} as {how}; quote it (\"{text}\") to keep it as written"


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _suggestion(parent: Loc, key: str) -> str:
    allowed = _fields_at(parent)
    if not allowed:
        return ""
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{hint}; allowed here: {', '.join(allowed)}"


def _fields_at(loc: Loc) -> list[str]:
    """The keys the model at `loc` accepts (for "did you mean" hints)."""
    from .schema import Scenario

    kind: Any = Scenario
    for part in loc:
        if _is_tag(part):
            continue
        kind = _unwrap(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel) and isinstance(part, str):
            info = kind.model_fields.get(part)
            if info is None:
                return []
            kind = info.annotation
        elif typing.get_origin(kind) in (list, dict):
            kind = typing.get_args(kind)[-1]
        else:
            return []
    kind = _unwrap(kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return list(kind.model_fields)
    return []


def _unwrap(kind: Any) -> Any:
    """`X | None` and `Annotated[X, ...]` -> X."""
    while True:
        origin = typing.get_origin(kind)
        if origin is typing.Annotated:
            kind = typing.get_args(kind)[0]
            continue
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if origin in (typing.Union, types.UnionType) and len(args) == 1:
            kind = args[0]
            continue
        return kind
