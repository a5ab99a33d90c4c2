"""Loading scenario documents: YAML (or JSON) with line numbers, validated into `Scenario` models.

Every problem is reported as `source:line: where: reason`, the line taken from the YAML node the
pydantic error location (or a cross-field rule) points at. Nothing here touches a tenant.

PyYAML and the scenario models load on first use (a server without scenarios never needs them).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .problems import Problem, ScenarioInvalid, capped
from .reading import MAX_DOCUMENT_BYTES, duplicate_keys, parse_json, parse_yaml, paused_gc, too_large

if TYPE_CHECKING:
    from pydantic import ValidationError
    from yaml.nodes import Node

    from .locating import Locator
    from .schema import Loc, Scenario

# The schema and its pydantic models load with the first scenario read, not with the server.

SERVER = "server"
TENANT = "tenant"
YAML_SUFFIXES = (".yaml", ".yml")

__all__ = ["SERVER", "TENANT", "LoadedScenario", "Problem", "ScenarioInvalid", "load_file", "load_paths",
           "load_paths_or_raise", "load_text", "validate"]


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and where it came from (a file, or a tenant's PUT)."""

    scenario: Scenario
    source: str
    name: str
    scope: str = SERVER
    fingerprint: str = ""
    #: Lines of the few places later checks point at (name, tenants, their keys): the document's
    #: nodes themselves are not kept, so a loaded scenario costs memory in proportion to its data.
    lines: dict[Loc, int | None] = field(default_factory=dict, compare=False, repr=False)

    def covers(self, api_key: str) -> bool:
        """Whether the scenario applies to the tenant of `api_key` (no `tenants`: every tenant)."""
        return not self.scenario.tenants or any(t.api_key == api_key for t in self.scenario.tenants)

    def line_of(self, loc: Loc) -> int | None:
        return self.lines.get(loc)

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
    from .locating import Locator

    with paused_gc():
        data, node = parse_json(text, source) if as_json else parse_yaml(text, source)
        scenario = validate(data, source, node, found=duplicate_keys(node, source))
        locator = Locator(node)
        remembered: list[Loc] = [("name",), ("tenants",)]
        remembered += [("tenants", i, "api_key") for i in range(len(scenario.tenants))]
        lines = {loc: locator.find(loc)[0] for loc in remembered}
        del data, node, locator  # freed here, by reference counting, while the collector is paused
    name = scenario.name or default_name or source
    digest = hashlib.sha256(json.dumps([name, scenario.model_dump(mode="json")], sort_keys=True).encode()).hexdigest()
    return LoadedScenario(scenario, source, name, scope, digest[:16], lines)


def validate(data: Any, source: str, node: Node | None = None, found: Sequence[Problem] = ()) -> Scenario:
    """The `Scenario` of parsed data, or `ScenarioInvalid` with every problem in one pass.

    When the schema refuses parts of the document, the cross-field rules still check the parts
    it accepts, so a bad status does not hide a broken timeline further down. `found`: problems
    the reading already found (duplicate keys), reported with the others.
    """
    from pydantic import ValidationError

    from .locating import Locator, pydantic_problems
    from .schema import Scenario, semantic_errors

    locator = Locator(node)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [*found, *pydantic_problems(exc, source, locator)]
        accepted = _accepted_part(data, exc)
        if accepted is not None:
            part, kept = accepted
            problems += _semantic_problems(semantic_errors(part), source, locator, kept)
            problems += _semantic_problems(_number_surprises(part, locator, kept), source, locator, kept)
        raise ScenarioInvalid(capped(problems, source)) from None
    problems = [*found, *_semantic_problems(semantic_errors(scenario), source, locator, {}),
                *_semantic_problems(_number_surprises(scenario, locator, {}), source, locator, {})]
    if problems:
        raise ScenarioInvalid(capped(problems, source))
    return scenario


def _accepted_part(data: Any, error: ValidationError) -> tuple[Scenario, dict[str, list[int]]] | None:
    """The document without the keys and list items the schema refused, and which items stayed."""
    from pydantic import ValidationError

    from .schema import Scenario

    if not isinstance(data, dict):
        return None
    refused_items: dict[Any, set[int]] = {}
    refused_keys: set[Any] = set()
    for item in error.errors(include_url=False):
        loc = item["loc"]
        if not loc:
            return None
        if len(loc) > 1 and isinstance(loc[1], int) and isinstance(data.get(loc[0]), list):
            refused_items.setdefault(loc[0], set()).add(loc[1])
        else:
            refused_keys.add(loc[0])
    part: dict[Any, Any] = {}
    kept: dict[str, list[int]] = {}
    for key, value in data.items():
        if key in refused_keys:
            continue
        if key in refused_items:
            kept[key] = [i for i in range(len(value)) if i not in refused_items[key]]
            value = [value[i] for i in kept[key]]
        part[key] = value
    try:
        return Scenario.model_validate(part), kept
    except ValidationError:
        return None


def _number_surprises(scenario: Scenario, locator: Locator, kept: dict[str, list[int]]) -> list[tuple[Loc, str]]:
    """Match conditions written as numbers YAML reads differently (`vendor_data: 012345` is 5349)."""
    from .locating import yaml_number_surprise

    found: list[tuple[Loc, str]] = []
    indices = kept.get("sessions")
    for i, rule in enumerate(scenario.sessions):
        match = rule.match
        conditions: list[tuple[Loc, Any]] = [(("vendor_data",), match.vendor_data), (("workflow",), match.workflow)]
        for group in ("expected_details", "metadata"):
            conditions += [((group, key), pattern) for key, pattern in (getattr(match, group) or {}).items()]
        for sub, pattern in conditions:
            if pattern is None or pattern.exact is None:
                continue
            where = indices[i] if indices else i
            node = locator.find(("sessions", where, "match", *sub))[2]
            try:  # a number became its JSON text; an explicit `exact:` string may not be JSON at all
                value = json.loads(pattern.exact)
            except ValueError:
                continue
            surprise = yaml_number_surprise(node, value)
            if surprise:
                found.append((("sessions", i, "match", *sub), f"the condition compares with the number "
                                                              f"{pattern.exact}: {surprise}"))
    return found


def _semantic_problems(errors: list[tuple[Loc, str]], source: str, locator: Locator,
                       kept: dict[str, list[int]]) -> list[Problem]:
    """Cross-field problems at their lines; `kept` maps indices of a partial document back."""
    problems = []
    for loc, message in errors:
        if kept and len(loc) > 1 and isinstance(loc[1], int) and loc[0] in kept:
            loc = (loc[0], kept[str(loc[0])][loc[1]], *loc[2:])
            message = _renumber(message, kept)
        line, path, _ = locator.find(loc)
        problems.append(Problem(source, line, f"{path}: {message}" if path else message))
    return problems


def _renumber(message: str, kept: dict[str, list[int]]) -> str:
    """`workflows[0]` in a message about a partial document -> the index in the whole one."""
    def original(found: re.Match[str]) -> str:
        indices = kept.get(found.group(1))
        index = int(found.group(2))
        return f"{found.group(1)}[{indices[index] if indices and index < len(indices) else index}]"

    return re.sub(r"\b([a-z_]+)\[([0-9]+)\]", original, message)


def load_file(path: Path, source: str | None = None) -> LoadedScenario:
    """Load one scenario file (its name defaults to the file name without extension)."""
    label = source or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise ScenarioInvalid([Problem(label, None, too_large(size))])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioInvalid([Problem(label, None, f"cannot read the file: {exc}")]) from None
    return load_text(text, label, default_name=path.stem, as_json=path.suffix == ".json")


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
        except Exception as exc:  # noqa: BLE001 - a file must never stop the server or the reloader
            problems.append(Problem(str(path), None, f"cannot load the file: {type(exc).__name__}: {exc}"))
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
