"""Tenant state as JSON: the document's frame; each stateful component persists itself through a section.

The document is plain JSON (no pickle), versioned::

    {"format": "didit-mock-state", "version": 1, "tenants": [{...}, ...]}

A tenant entry holds the frame's own fields: its identity and settings, its clock (a frozen clock
keeps its instant, a running one its offset from the wall clock) and the exact state of its random
generator (so ids made after a restore are the ids a never-restarted server would have made).
Everything else belongs to the components and is exported and imported by their `StateSection`s,
registered per registry: the domain's own (`domain.persistence`: workflows, sessions, OTP, the
blocklist, webhooks, rate-limit windows, the B2B import ledger) sit in the entry's top-level fields
of version 1 (`StateSection.fields`); the others (the request journal, scenarios, the generic
store, ...) under `extensions.<name>`.

Caches (rendered decisions, synthetic people, PDF reports) are derived, so they are not exported.
Scheduled jobs cannot be serialised: after an import each section re-arms its own (session and
document expiry, OTP expiry, webhook deliveries and retries, scenario timelines).

An import first reads and checks the whole document and builds every tenant aside; only then are
they swapped into the registry, at once. A malformed document raises `StateInvalid` (its message
names the place, such as `tenants[0].sessions[2].status`) and changes nothing.
"""

from __future__ import annotations

import importlib
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from .rng import TenantRandom
from .tenant import Tenant, TenantConfig, TenantRegistry

FORMAT = "didit-mock-state"
VERSION = 1
#: The tenant entry's fields the frame itself writes (sections may not claim them).
FRAME_FIELDS = ("api_key", "application_id", "environment", "seed", "config", "key_config", "clock", "rng",
                "extensions")


class StateInvalid(ValueError):
    """A state document that cannot be imported; the message says where and why."""


# ---------------------------------------------------------------- the sections of the components

@dataclass(frozen=True)
class StateSection:
    """One component's part of a tenant entry: how it is exported, checked, restored and re-armed.

    * `export(tenant)`: the JSON value (for a section with `fields`: an object of exactly those fields);
    * `parse(data, path)`: check and convert the exported value, raising `StateInvalid` with `path`
      in the message, before any tenant is built. A section with `needs` is called
      `parse(data, path, earlier)`, `earlier` holding the parsed value of each section it names;
    * `prepare(tenant, parsed)`: on the new tenant before the registry's `on_create` hooks;
    * `restore(tenant, parsed)`: after them, under the tenant lock, in section order;
    * `rearm(tenant)`: once every section is restored, re-create the scheduled jobs of the state;
    * `tokens(parsed)`: the session tokens the state holds (the registry routes them to the tenant;
      a token another tenant keeps refuses the import);
    * `relink(value, move)`: the exported value of a tenant imported from a server at another base
      URL, with `move` applied to what links to that server (by default, `move(value)`: all of it).

    `fields` names the tenant entry's own fields the section is stored in (the core state of
    version 1); `parse` then gets an object of those of them that are present, with the tenant's
    path. Without `fields` the value sits at `extensions.<name>`. `needs` and `after` name the
    sections this one depends on (`needs`: to parse it, `after`: to restore it): they are parsed,
    restored and re-armed before it.
    """

    name: str
    export: Callable[[Tenant], Any]
    parse: Callable[..., Any]
    restore: Callable[[Tenant, Any], None]
    prepare: Callable[[Tenant, Any], None] | None = None
    after: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    rearm: Callable[[Tenant], None] | None = None
    tokens: Callable[[Any], Iterable[str]] | None = None
    relink: Callable[[Any, Callable[[Any], Any]], Any] | None = None


class LazySection:
    """A section whose module loads when a state is first exported or imported, not with the server.

    Its `name`, `after`, `needs` and `fields` (what registering and ordering read) are declared
    here; the rest comes from the section `target` names: `"package.module:NAME"`, a section or a
    function returning one. A test checks that the declared attributes are the section's own.
    """

    def __init__(self, name: str, target: str, *, after: tuple[str, ...] = (), needs: tuple[str, ...] = (),
                 fields: tuple[str, ...] = ()):
        self.name = name
        self.target = target
        self.after = after
        self.needs = needs
        self.fields = fields
        self._section: StateSection | None = None

    def section(self) -> StateSection:
        """The section itself (its module is imported now)."""
        if self._section is None:
            module, _, attribute = self.target.partition(":")
            found = getattr(importlib.import_module(module), attribute)
            self._section = found() if callable(found) and not isinstance(found, StateSection) else found
        return self._section

    def __getattr__(self, attribute: str) -> Any:  # export, parse, prepare, restore, rearm, tokens
        return getattr(self.section(), attribute)


def register_section(registry: TenantRegistry, section: StateSection | LazySection) -> None:
    """Add (or replace, by name) a section of `registry`'s tenants; their exports and imports include it.

    A registry starts with the domain's own sections (`domain.persistence`); each app registers
    those of its own components (`create_app`), so two apps in one process persist independently.
    """
    taken = set(FRAME_FIELDS).intersection(section.fields)
    for other in registry.state_sections.values():
        if other.name != section.name:
            taken.update(set(other.fields).intersection(section.fields))
    if taken:
        raise ValueError(f"state section {section.name!r}: the field(s) {sorted(taken)} are taken")
    registry.state_sections[section.name] = section


def ordered_sections(registry: TenantRegistry) -> list[StateSection]:
    """The registry's sections, each after those it names in `needs` and `after` (otherwise in
    registration order)."""
    sections: dict[str, StateSection] = registry.state_sections
    order: list[StateSection] = []
    placed: set[str] = set()
    visiting: list[str] = []

    def place(section: StateSection) -> None:
        if section.name in placed:
            return
        if section.name in visiting:
            raise ValueError(f"state sections depend on each other in a cycle: {' -> '.join(visiting)}")
        visiting.append(section.name)
        for name in (*section.needs, *section.after):
            needed = sections.get(name)
            if needed is None:
                raise ValueError(f"state section {section.name!r} needs {name!r}, which is not registered")
            place(needed)
        visiting.pop()
        placed.add(section.name)
        order.append(section)

    for section in sections.values():
        place(section)
    return order


# ---------------------------------------------------------------- reading JSON with clear errors

_REQUIRED = object()
_KIND_NAMES = {
    "str": "a string", "int": "an integer", "float": "a number", "bool": "a boolean", "object": "an object",
    "list": "a list", "json": "a JSON value",
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def join_path(path: str, name: str) -> str:
    """`path.name` (just `name` at the root)."""
    return f"{path}.{name}" if path else name


def check(value: Any, kind: str, path: str) -> Any:
    """`value` as `kind` (str, int, float, bool, object, list or json; a trailing `?` allows null).

    Objects, lists and JSON values come back as deep copies; numbers must be finite.
    """
    nullable = kind.endswith("?")
    base = kind.rstrip("?")
    if value is None:
        if nullable or base == "json":
            return None
        raise StateInvalid(f"{path}: must not be null.")
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "object": isinstance(value, dict),
        "list": isinstance(value, list),
        "json": True,
    }[base]
    if not ok:
        raise StateInvalid(f"{path}: expected {_KIND_NAMES[base]}, got {_kind(value)}.")
    if base == "float":
        if not math.isfinite(value):
            raise StateInvalid(f"{path}: expected a finite number.")
        return float(value)
    if base in ("object", "list", "json"):
        return json_copy(value, path)
    return value


def json_copy(value: Any, path: str = "") -> Any:
    """A deep copy of a JSON value (tuples become lists); anything not JSON is refused."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise StateInvalid(f"{path or 'value'}: expected a finite number.")
        return value
    if isinstance(value, dict):
        copied = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise StateInvalid(f"{path or 'value'}: object keys must be strings.")
            copied[key] = json_copy(item, join_path(path, key))
        return copied
    if isinstance(value, (list, tuple)):
        return [json_copy(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise StateInvalid(f"{path or 'value'}: {type(value).__name__} is not a JSON value.")


class Reader:
    """A JSON object of the document, read field by field; errors name the field's path."""

    def __init__(self, value: Any, path: str):
        if not isinstance(value, dict):
            raise StateInvalid(f"{path or 'the document'}: expected an object, got {_kind(value)}.")
        self.data = value
        self.path = path

    def at(self, name: str) -> str:
        return join_path(self.path, name)

    def __call__(self, name: str, kind: str, default: Any = _REQUIRED) -> Any:
        if name not in self.data:
            if default is _REQUIRED:
                raise StateInvalid(f"{self.at(name)}: this field is required.")
            return default
        return check(self.data[name], kind, self.at(name))

    def choice(self, name: str, choices: Iterable[str | None], default: Any = _REQUIRED) -> Any:
        value = self(name, "json", default)
        allowed = list(choices)
        if value not in allowed:
            shown = ", ".join("null" if c is None else repr(c) for c in allowed)
            raise StateInvalid(f"{self.at(name)}: {value!r} is not one of {shown}.")
        return value

    def obj(self, name: str) -> Reader:
        return Reader(self(name, "object"), self.at(name))

    def items(self, name: str, default: Any = _REQUIRED) -> list[Reader]:
        """A list of objects, each as a `Reader`."""
        values = self(name, "list", default)
        return [Reader(item, f"{self.at(name)}[{i}]") for i, item in enumerate(values or [])]

    def floats(self, name: str) -> list[float]:
        return [check(v, "float", f"{self.at(name)}[{i}]") for i, v in enumerate(self(name, "list"))]


def dataclass_from(kind: type, reader: Reader, kinds: dict[str, str]) -> Any:
    """An instance of the dataclass `kind`, each field read with its kind in `kinds`."""
    values = {}
    for f in fields(kind):
        if f.name in kinds:
            values[f.name] = reader(f.name, kinds[f.name])
    return kind(**values)


def unique(values: Iterable[Any], path: str, what: str) -> None:
    """Refuse a value that appears twice (`<path>: <what> <value> appears twice.`)."""
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise StateInvalid(f"{path}: {what} {value!r} appears twice.")
        seen.add(value)


# ---------------------------------------------------------------- export

def export_registry(registry: TenantRegistry) -> dict[str, Any]:
    """The state document of every tenant of the registry."""
    return document([export_tenant(t) for t in registry.tenants()])


def document(tenants: list[dict[str, Any]]) -> dict[str, Any]:
    """A state document holding the exported `tenants`."""
    return {"format": FORMAT, "version": VERSION, "tenants": tenants}


def export_tenant(tenant: Tenant) -> dict[str, Any]:
    """One tenant's state as JSON (its due jobs are run first, so nothing is half-way)."""
    tenant.tick()
    with tenant.lock:
        key_config = tenant.registry.key_configs.get(tenant.api_key)
        entry: dict[str, Any] = {
            "api_key": tenant.api_key,
            "application_id": tenant.application_id,
            "environment": tenant.environment,
            "seed": tenant.seed,
            "config": _config_json(tenant.config),
            "key_config": _config_json(key_config) if key_config is not None else None,
            "clock": tenant.clock.export_state(),
            "rng": _rng_json(tenant.rng),
        }
        extensions: dict[str, Any] = {}
        for section in ordered_sections(tenant.registry):
            value = section.export(tenant)
            if section.fields:
                entry.update({name: value[name] for name in section.fields})
            else:
                extensions[section.name] = value
        entry["extensions"] = extensions
        return entry


def _config_json(config: TenantConfig) -> dict[str, Any]:
    return {f.name: json_copy(getattr(config, f.name), f.name) for f in fields(TenantConfig)}


def _rng_json(rng: TenantRandom) -> list[Any]:
    version, internal, gauss_next = rng.state()  # type: ignore[misc]
    return [version, list(internal), gauss_next]


# ---------------------------------------------------------------- import: reading

@dataclass
class _Parsed:
    """One tenant entry, read and checked, ready to be built into a `Tenant`."""

    api_key: str
    application_id: str
    environment: str
    seed: int
    config: dict[str, Any]
    key_config: dict[str, Any] | None
    clock: dict[str, Any]
    rng: tuple[Any, ...]
    #: The parsed value of each section the entry holds, by name, in section order.
    sections: dict[str, Any] = field(default_factory=dict)
    #: The session tokens the sections hold.
    tokens: list[str] = field(default_factory=list)


def read_document(data: Any) -> list[Reader]:
    """The tenant entries of a state document (format and version checked)."""
    root = Reader(data, "")
    found = root("format", "json", None)
    if found != FORMAT:
        raise StateInvalid(f'format: expected "{FORMAT}", got {found!r}.')
    version = root("version", "json", None)
    if version != VERSION:
        raise StateInvalid(f"version: this server reads version {VERSION}, got {version!r}.")
    return root.items("tenants")


def _parse_tenant(r: Reader, sections: list[StateSection]) -> _Parsed:
    api_key = r("api_key", "str")
    if not api_key.strip() or api_key != api_key.strip():
        raise StateInvalid(f"{r.at('api_key')}: must be a non-empty key without surrounding spaces.")
    parsed = _Parsed(
        api_key=api_key,
        application_id=r("application_id", "str"),
        environment=r.choice("environment", ("sandbox", "live")),
        seed=r("seed", "int"),
        config=_parse_config(r.obj("config")),
        key_config=_parse_config(Reader(r("key_config", "object?"), r.at("key_config")))
        if r("key_config", "object?", None) is not None else None,
        clock=_parse_clock(r.obj("clock")),
        rng=_parse_rng(r("rng", "list"), r.at("rng")),
    )
    extensions = r("extensions", "object", {})
    for section in sections:
        if section.fields:
            data: Any = {name: r.data[name] for name in section.fields if name in r.data}
            path = r.path
        elif section.name in extensions:
            data, path = extensions[section.name], join_path(r.at("extensions"), section.name)
        else:
            continue
        if section.needs:
            earlier = {name: parsed.sections.get(name) for name in section.needs}
            value = section.parse(data, path, earlier)
        else:
            value = section.parse(data, path)
        parsed.sections[section.name] = value
        if section.tokens is not None:
            parsed.tokens.extend(section.tokens(value))
    return parsed


_CONFIG_KINDS = {
    "strict_workflows": "bool", "environment": "str?", "application_id": "str?", "credits": "float?",
    "seed": "int?", "clock_start": "float?", "clock_frozen": "bool", "webhook_url": "str?",
    "webhook_secret": "str?", "public_base_url": "str", "decision_rate_limit": "int", "rate_limits_enabled": "bool",
    "rate_limit_scale": "float", "delete_returns_204": "bool", "extra": "object",
}


def _parse_config(r: Reader) -> dict[str, Any]:
    defaults = TenantConfig()
    values = {}
    for f in fields(TenantConfig):
        kind = _CONFIG_KINDS.get(f.name, "json")
        values[f.name] = r(f.name, kind, getattr(defaults, f.name))
    if values["environment"] not in (None, "sandbox", "live"):
        raise StateInvalid(f"{r.at('environment')}: must be sandbox, live or null.")
    if values["decision_rate_limit"] < 1 or values["rate_limit_scale"] <= 0:
        raise StateInvalid(f"{r.path}: rate limits must be positive.")
    return values


def _parse_clock(r: Reader) -> dict[str, Any]:
    return {"timestamp": r("timestamp", "float"), "frozen": r("frozen", "bool"), "offset": r("offset", "float", 0.0)}


def _parse_rng(value: list[Any], path: str) -> tuple[Any, ...]:
    """`random.Random.getstate()` as exported: [version, [625 ints], gauss_next]."""
    if len(value) != 3 or not isinstance(value[1], list):
        raise StateInvalid(f"{path}: expected [version, [state ints], gauss_next].")
    version, internal, gauss_next = value
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in internal):
        raise StateInvalid(f"{path}[1]: the generator state must be a list of integers.")
    state = (version, tuple(internal), gauss_next)
    try:
        random.Random().setstate(state)
    except (TypeError, ValueError, OverflowError) as exc:
        raise StateInvalid(f"{path}: not a random generator state ({exc}).") from None
    return state


# ---------------------------------------------------------------- import: building and swapping

def import_tenant(registry: TenantRegistry, data: Any) -> Tenant:
    """Import one exported tenant (`export_tenant`'s dict), replacing or creating the tenant of its key."""
    return _import(registry, [Reader(data, "tenant")])[0]


def import_registry(registry: TenantRegistry, data: Any) -> list[Tenant]:
    """Import a state document: every tenant it names is replaced (or created), all or nothing."""
    return _import(registry, read_document(data))


def _import(registry: TenantRegistry, entries: list[Reader]) -> list[Tenant]:
    sections = ordered_sections(registry)
    parsed = [_parse_tenant(_on_this_server(registry, r, sections), sections) for r in entries]
    unique([p.api_key for p in parsed], "tenants", "api_key")
    unique([p.application_id for p in parsed], "tenants", "application_id")
    replaced = {p.api_key for p in parsed}
    for i, p in enumerate(parsed):
        owner = registry.by_application(p.application_id)
        if owner is not None and owner.api_key not in replaced:
            raise StateInvalid(f"tenants[{i}].application_id: another tenant ({owner.api_key}) already uses "
                               f"{p.application_id}.")
    seen: set[str] = set()
    for p in parsed:
        for token in p.tokens:
            owner = registry.by_token(token)
            if (owner is not None and owner.api_key not in replaced) or token in seen:
                raise StateInvalid(f"session token {token!r} of {p.api_key} is already in use.")
            seen.add(token)
    built = [_build(registry, p, sections) for p in parsed]
    tokens = {token: tenant for tenant, p in zip(built, parsed, strict=True) for token in p.tokens}
    for p in parsed:
        if p.key_config is not None:
            registry.key_configs[p.api_key] = TenantConfig(**p.key_config)
    registry.install(built, tokens)
    return built


def _on_this_server(registry: TenantRegistry, entry: Reader, sections: list[StateSection]) -> Reader:
    """A tenant exported by a server at another address (another port, say), as if made on this one.

    A tenant's `public_base_url` is always its server's: every URL the tenant's state holds that
    begins with it (hosted links, media and file links, the tenant's own config) is moved to this
    server's base URL, except where a section's `relink` keeps what was already sent as it was sent.
    """
    config = entry.data.get("config")
    old = config.get("public_base_url") if isinstance(config, dict) else None
    new = registry.defaults.public_base_url
    if not isinstance(old, str) or not old or old.rstrip("/") == new.rstrip("/"):
        return entry

    def move(value: Any) -> Any:
        return _rebased(value, old.rstrip("/"), new.rstrip("/"))

    extensions = entry.data.get("extensions")
    fields: dict[str, Any] = {}  # the entry's own fields, as the sections holding them moved them
    parts: dict[str, Any] = {}  # the extensions, likewise
    for section in sections:
        relink = section.relink
        if relink is None:
            continue
        if section.fields:
            fields.update(relink({name: entry.data[name] for name in section.fields if name in entry.data}, move))
        elif isinstance(extensions, dict) and section.name in extensions:
            parts[section.name] = relink(extensions[section.name], move)
    moved = {key: fields[key] if key in fields else move(value) for key, value in entry.data.items()
             if key != "extensions"}
    if isinstance(extensions, dict):
        moved["extensions"] = {name: parts[name] if name in parts else move(part) for name, part in extensions.items()}
    elif "extensions" in entry.data:
        moved["extensions"] = extensions  # not an object: parsing says so
    return Reader(moved, entry.path)


def _rebased(value: Any, old: str, new: str) -> Any:
    """`value` with each string that is `old` or begins with `old/` (or `old?`) beginning with `new` instead."""
    if isinstance(value, str):
        if value.startswith(old) and (len(value) == len(old) or value[len(old)] in "/?#"):
            return new + value[len(old):]
        return value
    if isinstance(value, dict):
        return {key: _rebased(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_rebased(item, old, new) for item in value]
    return value


def _build(registry: TenantRegistry, p: _Parsed, sections: list[StateSection]) -> Tenant:
    """A new tenant holding the parsed state, not yet in the registry (so a failure changes nothing)."""
    defaults = registry.key_configs.get(p.api_key) or registry.defaults
    # Built with the default `strict_workflows`: a scenario the hooks push records that as the value to undo to.
    tenant = Tenant(p.api_key, registry, TenantConfig(**{**p.config, "strict_workflows": defaults.strict_workflows}),
                    registry.global_seed)
    _apply_identity(tenant, p)
    held = [s for s in sections if s.name in p.sections]
    for section in held:
        if section.prepare is not None:
            section.prepare(tenant, p.sections[section.name])
    for hook in registry.on_create:  # as for any new tenant: webhook sender, scenario engine
        hook(tenant)
    with tenant.lock:
        for section in held:
            section.restore(tenant, p.sections[section.name])
        _apply_identity(tenant, p)  # the document wins over what the hooks set (e.g. scenario settings)
        _rearm(tenant, held)
    return tenant


def _apply_identity(tenant: Tenant, p: _Parsed) -> None:
    tenant.environment = p.environment  # type: ignore[assignment]
    tenant.seed = p.seed
    tenant.application_id = p.application_id
    for name, value in p.config.items():
        setattr(tenant.config, name, json_copy(value, name))
    tenant.clock.import_state(p.clock)
    tenant.rng = TenantRandom(p.seed)
    tenant.rng.set_state(p.rng)


def rearm(tenant: Tenant) -> None:
    """Re-create the scheduled jobs of restored state, section by section (each at its due time;
    past-due ones run at the next tick)."""
    _rearm(tenant, ordered_sections(tenant.registry))


def _rearm(tenant: Tenant, sections: Iterable[StateSection]) -> None:
    for section in sections:
        if section.rearm is not None:
            section.rearm(tenant)
