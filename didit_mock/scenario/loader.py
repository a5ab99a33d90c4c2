"""Loading scenario documents: YAML (or JSON) with line numbers, validated into `Scenario` models.

Every problem is reported as `source:line: where: reason`, the line taken from the YAML node the
pydantic error location (or a cross-field rule) points at. Nothing here touches a tenant.

PyYAML and the scenario models load on first use (a server without scenarios never needs them).
"""

from __future__ import annotations

import hashlib
import json
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from yaml.nodes import Node

    from .schema import Loc, Scenario

SERVER = "server"
TENANT = "tenant"
YAML_SUFFIXES = (".yaml", ".yml")

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


@dataclass(frozen=True)
class Problem:
    """One reason a document is refused, at a line of its source (None: the whole file)."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}" if self.line else f"{self.source}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "message": self.message, "text": str(self)}


class ScenarioInvalid(Exception):
    """A document (or a set of files) that cannot be loaded; `problems` says why and where."""

    def __init__(self, problems: Sequence[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from (a file, or a tenant's PUT)."""

    scenario: Scenario
    source: str
    name: str
    scope: str = SERVER
    fingerprint: str = ""
    node: Node | None = field(default=None, compare=False, repr=False)

    def covers(self, api_key: str) -> bool:
        """Whether the scenario applies to the tenant of `api_key` (no `tenants`: every tenant)."""
        return not self.scenario.tenants or any(t.api_key == api_key for t in self.scenario.tenants)

    def line_of(self, loc: Loc) -> int | None:
        return locate(self.node, loc)[0] if self.node is not None else None

    def view(self) -> dict[str, Any]:
        """What the admin API shows of the scenario."""
        s = self.scenario
        return {
            "name": self.name,
            "description": s.description,
            "source": self.source,
            "scope": self.scope,
            "tenants": [t.api_key for t in s.tenants],
            "rules": {"workflows": len(s.workflows), "sessions": len(s.sessions), "phone": len(s.phone),
                      "email": len(s.email), "faults": len(s.faults), "webhooks": s.webhooks is not None},
            "fingerprint": self.fingerprint,
            "document": s.model_dump(mode="json", exclude_defaults=True),
        }


# ---------------------------------------------------------------- one document

def load_text(
    text: str,
    source: str,
    *,
    default_name: str | None = None,
    scope: str = SERVER,
    as_json: bool = False,
) -> LoadedScenario:
    """Parse and validate one document; raises `ScenarioInvalid` with every problem found."""
    from .schema import Scenario, semantic_errors

    data, node = _parse_json(text, source) if as_json else _parse_yaml(text, source)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = _pydantic_problems(exc, source, node)
        raise ScenarioInvalid(sorted(problems, key=lambda p: p.line or 0)) from None
    problems = []
    for loc, message in semantic_errors(scenario):
        line, path = locate(node, loc)
        problems.append(Problem(source, line, f"{path}: {message}" if path else message))
    if problems:
        raise ScenarioInvalid(sorted(problems, key=lambda p: p.line or 0))
    name = scenario.name or default_name or source
    digest = hashlib.sha256(json.dumps([name, scenario.model_dump(mode="json")], sort_keys=True).encode()).hexdigest()
    return LoadedScenario(scenario, source, name, scope, digest[:16], node)


def load_file(path: Path, source: str | None = None) -> LoadedScenario:
    """Load one scenario file (its name defaults to the file name without extension)."""
    label = source or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioInvalid([Problem(label, None, f"cannot read the file: {exc}")]) from None
    return load_text(text, label, default_name=path.stem, as_json=path.suffix == ".json")


def _parse_yaml(text: str, source: str) -> tuple[Any, Node | None]:
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioInvalid([Problem(source, 1, "the document is empty: a scenario is a mapping with keys "
                                                      "such as sessions, phone, email, faults")])
        duplicates = list(_duplicate_keys(node, source))
        if duplicates:
            raise ScenarioInvalid(duplicates)
        return loader.construct_document(node), node
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = str(exc.problem or exc.context or "unreadable")
        if exc.context and exc.problem:
            started = f" that starts at line {exc.context_mark.line + 1}" if exc.context_mark else ""
            reason += f" ({exc.context}{started})"
        raise ScenarioInvalid([Problem(source, mark.line + 1 if mark else None, f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioInvalid([Problem(source, None, f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()


def _parse_json(text: str, source: str) -> tuple[Any, Node | None]:
    import yaml

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioInvalid([Problem(source, exc.lineno, f"invalid JSON: {exc.msg}")]) from None
    try:  # JSON is (almost always) YAML too: its nodes give the line numbers
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        node = None
    return data, node


def _duplicate_keys(node: Node, source: str) -> Iterable[Problem]:
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    if isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                line = key.start_mark.line + 1
                if key.value in seen and key.value != "<<":
                    yield Problem(source, line, f"duplicate key {key.value!r} (first at line {seen[key.value]})")
                seen.setdefault(key.value, line)
            yield from _duplicate_keys(value, source)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item, source)


# ---------------------------------------------------------------- locations and messages

def locate(node: Node | None, loc: Loc) -> tuple[int | None, str]:
    """The line of the node a pydantic location points at (its key's line) and the dotted path."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    line = node.start_mark.line + 1 if node is not None else None
    current = node
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _is_tag(part):
            continue
        else:
            path += f".{part}" if path else str(part)
        if isinstance(current, MappingNode) and isinstance(part, str):
            pair = next(((k, v) for k, v in current.value if isinstance(k, ScalarNode) and k.value == part), None)
            if pair is None:
                current = None
                continue
            line, current = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(current, SequenceNode) and isinstance(part, int) and 0 <= part < len(current.value):
            current = current.value[part]
            line = current.start_mark.line + 1
        else:
            current = None
    return line, path


def _is_tag(part: object) -> bool:
    """Parts pydantic adds to a location for validators and union members."""
    return isinstance(part, str) and (part.startswith(("function-", "constrained-")) or "[" in part)


def _pydantic_problems(error: ValidationError, source: str, node: Node | None) -> list[Problem]:
    problems: list[Problem] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        kind = item["type"]
        if kind in ("extra_forbidden", "missing") and loc:
            parent, key = loc[:-1], loc[-1]
            line, path = locate(node, parent)
            if kind == "extra_forbidden":
                line = locate(node, loc)[0]  # the line of the unknown key itself
                message = f"unknown key {key!r}" + _suggestion(parent, str(key))
            else:
                message = f"missing required key {key!r}"
        else:
            line, path = locate(node, loc)
            message = _message(item)
        if not path and kind in ("model_type", "model_attributes_type", "dict_type"):
            message = "a scenario is a mapping with keys such as sessions, phone, email, faults"
        text = f"{path}: {message}" if path else message
        problem = Problem(source, line, text)
        if problem not in problems:
            problems.append(problem)
    return problems


def _message(item: Any) -> str:
    kind, message, value = item["type"], str(item["msg"]), item.get("input")
    if message.startswith("Value error, "):
        return message[len("Value error, "):]
    if kind == "string_pattern_mismatch":
        pattern = str((item.get("ctx") or {}).get("pattern", ""))
        return f"expected {_FRIENDLY_PATTERNS.get(pattern, 'a string matching ' + pattern)}, got {value!r}"
    if kind == "string_type" and isinstance(value, bool):
        return f"expected a string, got the boolean {value!r}: quote it (YAML reads yes, no, on, off as booleans)"
    if kind == "string_type" and isinstance(value, (int, float)):
        return f"expected a string, got the number {value!r}: quote it (YAML reads unquoted digits as a number)"
    if kind in ("literal_error", "enum"):
        return f"{message}, got {value!r}"
    if kind in ("int_parsing", "float_parsing", "bool_parsing", "int_type", "float_type", "bool_type",
                "list_type", "dict_type", "model_type", "string_type"):
        return f"{message}, got {_describe(value)}"
    return message


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
    import difflib

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


# ---------------------------------------------------------------- files and folders

def expand(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """The scenario files named by `paths`: files as given, folders by their *.yaml/*.yml (sorted)."""
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), None, "no such file or directory"))
    return list(dict.fromkeys(files)), problems


def load_paths(paths: Iterable[str | Path]) -> tuple[list[LoadedScenario], list[Problem]]:
    """Every scenario of the files and folders `paths`, and every problem (of any file)."""
    files, problems = expand(paths)
    loaded: list[LoadedScenario] = []
    for path in files:
        try:
            loaded.append(load_file(path))
        except ScenarioInvalid as exc:
            problems.extend(exc.problems)
    problems.extend(_conflicts(loaded))
    return loaded, problems


def load_paths_or_raise(paths: Iterable[str | Path]) -> list[LoadedScenario]:
    loaded, problems = load_paths(paths)
    if problems:
        raise ScenarioInvalid(problems)
    return loaded


def _conflicts(loaded: list[LoadedScenario]) -> list[Problem]:
    """Two files may not share a scenario name or declare the same API key."""
    problems: list[Problem] = []
    names: dict[str, LoadedScenario] = {}
    keys: dict[str, LoadedScenario] = {}
    for item in loaded:
        first = names.setdefault(item.name, item)
        if first is not item:
            problems.append(Problem(item.source, item.line_of(("name",)) or 1,
                                    f"scenario name {item.name!r} is already used by {first.source}"))
        for i, spec in enumerate(item.scenario.tenants):
            owner = keys.setdefault(spec.api_key, item)
            if owner is not item:
                problems.append(Problem(item.source, item.line_of(("tenants", i, "api_key")),
                                        f"tenants[{i}].api_key: {spec.api_key} is already declared in {owner.source}"))
    return problems
