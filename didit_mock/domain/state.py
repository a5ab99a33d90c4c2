"""Tenant state as JSON: export it, import it, and a restored tenant answers exactly as before.

The document is plain JSON (no pickle), versioned::

    {"format": "didit-mock-state", "version": 1, "tenants": [{...}, ...]}

A tenant entry holds its identity and settings, its clock (a frozen clock keeps its instant, a
running one its offset from the wall clock), the exact state of its random generator (so ids made
after a restore are the ids a never-restarted server would have made), the session counter, the
sessions (deleted ones are gone), custom workflows, OTP verifications and configuration, the
blocklist, the webhook configuration, pending deliveries and delivery log, the rate-limit windows,
the B2B import ledger, and `extensions`: state owned outside the domain (the request journal, the
tenant's own scenario), exported and imported by `StateSection`s that the edges register.

Caches (rendered decisions, synthetic people, PDF reports) are derived, so they are not exported.
Scheduled jobs cannot be serialised: the import re-creates them from the state (session and
document expiry, OTP expiry, webhook deliveries and retries; sections re-arm their own).

An import first reads and checks the whole document and builds every tenant aside; only then are
they swapped into the registry, at once. A malformed document raises `StateInvalid` (its message
names the place, such as `tenants[0].sessions[2].status`) and changes nothing.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from . import statuses as st
from .blocklist import BlockEntry, blocklist
from .outcomes import FeatureOutcome, RiskWarning
from .ratelimit import SCOPES, limiter
from .rng import TenantRandom
from .sessions import Review, Session, _schedule_document_expiry, _schedule_expiry
from .sessions import book as session_book
from .sessions import workflows as workflow_book
from .sharing import ImportLedger
from .tenant import Tenant, TenantConfig, TenantRegistry
from .webhooks import (
    Attempt,
    Delivery,
    Destination,
    LegacyWebhook,
    SendOutcome,
    SignedRequest,
)
from .webhooks import book as webhook_book
from .workflow_versions import WorkflowVersion
from .workflow_versions import catalog as workflow_catalog
from .workflows import BUILTIN_WORKFLOWS, Workflow

FORMAT = "didit-mock-state"
VERSION = 1

#: Session statuses whose expiry job (Expired / Abandoned) is re-armed on import.
_EXPIRING = (st.NOT_STARTED, st.IN_PROGRESS, st.RESUBMITTED)


class StateInvalid(ValueError):
    """A state document that cannot be imported; the message says where and why."""


# ---------------------------------------------------------------- sections owned by the edges

@dataclass(frozen=True)
class StateSection:
    """State kept outside the domain (e.g. the request journal), exported under `extensions.<name>`.

    `parse(data, path)` checks and converts the exported value (raising `StateInvalid`) before any
    tenant is built; `prepare(tenant, parsed)` runs on the new tenant before the registry's
    `on_create` hooks, `restore(tenant, parsed)` after the domain state is in place.
    """

    name: str
    export: Callable[[Tenant], Any]
    parse: Callable[[Any, str], Any]
    restore: Callable[[Tenant, Any], None]
    prepare: Callable[[Tenant, Any], None] | None = None


def register_section(registry: TenantRegistry, section: StateSection) -> None:
    """Add (or replace, by name) a section of `registry`'s tenants; their exports and imports include it.

    Each app registers the sections of its own components (`create_app`), so two apps in one
    process persist independently.
    """
    registry.state_sections[section.name] = section


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


def _join(path: str, name: str) -> str:
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
            copied[key] = json_copy(item, _join(path, key))
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
        return _join(self.path, name)

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


def _dataclass_from(kind: type, reader: Reader, kinds: dict[str, str]) -> Any:
    """An instance of the dataclass `kind`, each field read with its kind in `kinds`."""
    values = {}
    for f in fields(kind):
        if f.name in kinds:
            values[f.name] = reader(f.name, kinds[f.name])
    return kind(**values)


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
        return {
            "api_key": tenant.api_key,
            "application_id": tenant.application_id,
            "environment": tenant.environment,
            "seed": tenant.seed,
            "config": _config_json(tenant.config),
            "key_config": _config_json(key_config) if key_config is not None else None,
            "clock": tenant.clock.export_state(),
            "rng": _rng_json(tenant.rng),
            "workflows": [workflow_json(w) for w in workflow_book(tenant).custom.values()],
            "workflow_versions": [v.to_json() for v in workflow_catalog(tenant).versions.values()],
            "retired_workflows": sorted(workflow_catalog(tenant).retired),
            "sessions": _sessions_json(tenant),
            "otp": _otp_json(tenant),
            "blocklist": _blocklist_json(tenant),
            "webhooks": _webhooks_json(tenant),
            "rate_limits": limiter(tenant).export_windows(),
            "shared_imports": [
                {"from_application_id": source_app, "session_id": source_id, "clone_id": clone_id}
                for (source_app, source_id), clone_id in tenant.component(ImportLedger).imported.items()
            ],
            "extensions": {name: section.export(tenant) for name, section in tenant.registry.state_sections.items()},
        }


def _config_json(config: TenantConfig) -> dict[str, Any]:
    return {f.name: json_copy(getattr(config, f.name), f.name) for f in fields(TenantConfig)}


def _rng_json(rng: TenantRandom) -> list[Any]:
    version, internal, gauss_next = rng.state()  # type: ignore[misc]
    return [version, list(internal), gauss_next]


def workflow_json(workflow: Workflow) -> dict[str, Any]:
    return {
        "workflow_id": workflow.workflow_id,
        "label": workflow.label,
        "template": workflow.template,
        "features": list(workflow.features),
        "version": workflow.version,
        "expiration_seconds": workflow.expiration_seconds,
        "requires_portrait": workflow.requires_portrait,
        "builtin": workflow.builtin,
        "callback_url": workflow.callback_url,
        "extra": json_copy(workflow.extra, "extra"),
    }


def _same_workflow(a: Workflow | None, b: Workflow) -> bool:
    return a is not None and a == b and a.extra == b.extra


def _sessions_json(tenant: Tenant) -> dict[str, Any]:
    sessions = session_book(tenant)
    custom = workflow_book(tenant).custom
    rows = []
    for s in sessions.by_id.values():
        known = custom.get(s.workflow.workflow_id) or BUILTIN_WORKFLOWS.get(s.workflow.workflow_id)
        rows.append({
            "session_id": s.session_id,
            "session_number": s.session_number,
            "session_token": s.session_token,
            "workflow_id": s.workflow.workflow_id,
            "workflow": None if _same_workflow(known, s.workflow) else workflow_json(s.workflow),
            "url": s.url,
            "created_at": s.created_at,
            "expires_at": s.expires_at,
            "vendor_data": s.vendor_data,
            "metadata": json_copy(s.metadata, "metadata"),
            "callback": s.callback,
            "callback_method": s.callback_method,
            "language": s.language,
            "contact_details": json_copy(s.contact_details, "contact_details"),
            "expected_details": json_copy(s.expected_details, "expected_details"),
            "portrait_digest": s.portrait_digest,
            "sandbox_scenario": s.sandbox_scenario,
            "status": s.status,
            "started_at": s.started_at,
            "finished_at": s.finished_at,
            "outcomes": None if s.outcomes is None else [_outcome_json(o, key) for key, o in s.outcomes.items()],
            "data_overrides": json_copy(s.data_overrides, "data_overrides"),
            "reviews": [_review_json(r) for r in s.reviews],
            "timeline": [[status, at] for status, at in s.timeline],
            "shared_from_session": s.shared_from_session,
            "imported_decision": json_copy(s.imported_decision, "imported_decision"),
            "resubmit_nodes": json_copy(s.resubmit_nodes, "resubmit_nodes"),
            "revision": s.revision,
        })
    return {"next_number": sessions.peek_number(), "sessions": rows}


def _outcome_json(outcome: FeatureOutcome, key: str) -> dict[str, Any]:
    return {
        "key": key,
        "feature": outcome.feature,
        "status": outcome.status,
        "warnings": [
            {"risk": w.risk, "log_type": w.log_type, "feature": w.feature, "short_description": w.short_description,
             "long_description": w.long_description, "additional_data": json_copy(w.additional_data)}
            for w in outcome.warnings
        ],
        "data": json_copy(outcome.data, "data"),
    }


def _review_json(review: Review) -> dict[str, Any]:
    return {
        "uuid": review.uuid, "activity_type": review.activity_type, "actor_type": review.actor_type,
        "actor_display": review.actor_display, "new_status": review.new_status,
        "previous_status": review.previous_status, "comment": review.comment, "created_at": review.created_at,
        "changed_fields": list(review.changed_fields), "previous_value": json_copy(review.previous_value),
        "new_value": json_copy(review.new_value), "actor_email": review.actor_email,
    }


def _otp_json(tenant: Tenant) -> dict[str, Any]:
    from .otp import book as otp_book
    from .otp import otp_config

    otp = otp_book(tenant)
    return {
        "verifications": [_verification_json(v) for v in otp.by_id.values()],
        "phone_sends": {number: list(times) for number, times in otp.phone_sends.items()},
        "config": otp_config(tenant).to_dict(),
    }


def _verification_json(v: Any) -> dict[str, Any]:
    from .otp.phone_facts import PhoneFacts

    facts: dict[str, Any] | None = None
    if v.facts is not None:
        facts = {"kind": "phone" if isinstance(v.facts, PhoneFacts) else "email",
                 **{f.name: json_copy(getattr(v.facts, f.name), f.name) for f in fields(v.facts)}}
    return {
        "kind": v.kind, "request_id": v.request_id, "session_number": v.session_number, "target": v.target,
        "created_at": v.created_at, "expires_at": v.expires_at, "vendor_data": v.vendor_data,
        "metadata": json_copy(v.metadata), "channel": v.channel, "actual_channel": v.actual_channel,
        "code_size": v.code_size, "alphanumeric": v.alphanumeric, "locale": v.locale,
        "signals": json_copy(v.signals), "code": v.code, "sends": v.sends, "wrong_codes": v.wrong_codes,
        "status": v.status, "send_status": v.send_status, "send_reason": v.send_reason,
        "verified_at": v.verified_at, "finished_at": v.finished_at, "warnings": json_copy(v.warnings),
        "lifecycle": [{"type": e.type, "at": e.at, "details": json_copy(e.details), "fee": e.fee}
                      for e in v.lifecycle],
        "facts": facts,
    }


def _blocklist_json(tenant: Tenant) -> dict[str, Any]:
    book = blocklist(tenant)
    return {
        "last_order": book.last_order,
        "entries": [{f.name: getattr(e, f.name) for f in fields(BlockEntry)} for e in book.entries.values()],
    }


def _webhooks_json(tenant: Tenant) -> dict[str, Any]:
    book = webhook_book(tenant)
    return {
        "legacy": {f.name: getattr(book.legacy, f.name) for f in fields(LegacyWebhook)},
        "destinations": [
            {**{f.name: getattr(d, f.name) for f in fields(Destination)},
             "subscribed_events": list(d.subscribed_events)}
            for d in book.destinations.values()
        ],
        "faults": json_copy(book.faults, "faults"),
        "deliveries": [
            {"id": d.id, "event_id": d.event_id, "target_key": d.target_key, "destination_uuid": d.destination_uuid,
             "url": d.url, "webhook_version": d.webhook_version, "secret": d.secret, "session_id": d.session_id,
             "webhook_type": d.webhook_type, "status": d.status, "payload": json_copy(d.payload, "payload"),
             "created_at": d.created_at, "not_before": d.not_before, "state": d.state, "exhausted": d.exhausted}
            for d in book.deliveries.values()
        ],
        "attempts": [
            {"uuid": a.uuid, "delivery_id": a.delivery.id, "number": a.number, "trigger": a.trigger,
             "created_at": a.created_at,
             "request": {"url": a.request.url, "body": a.request.body.decode("utf-8"),
                         "headers": dict(a.request.headers), "timestamp": a.request.timestamp,
                         "trigger": a.request.trigger},
             "outcome": {"status": a.outcome.status, "body": a.outcome.body, "elapsed_ms": a.outcome.elapsed_ms,
                         "error": a.outcome.error},
             "will_retry": a.will_retry, "next_retry_at": a.next_retry_at, "exhausted": a.exhausted}
            for a in book.attempts
        ],
        "pending": [d.id for d in book.pending()],
    }


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
    workflows: list[Workflow]
    workflow_versions: tuple[list[WorkflowVersion], list[str]]
    next_number: int
    sessions: list[Session]
    otp: Any
    blocklist: tuple[list[BlockEntry], int]
    webhooks: dict[str, Any]
    rate_limits: dict[str, list[float]]
    shared_imports: dict[tuple[str, str], str]
    extensions: dict[str, Any] = field(default_factory=dict)


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


def _parse_tenant(r: Reader, sections: dict[str, StateSection]) -> _Parsed:
    api_key = r("api_key", "str")
    if not api_key.strip() or api_key != api_key.strip():
        raise StateInvalid(f"{r.at('api_key')}: must be a non-empty key without surrounding spaces.")
    custom = [_parse_workflow(w) for w in r.items("workflows")]
    by_id = {w.workflow_id: w for w in custom}
    sessions_r = r.obj("sessions")
    sessions = [_parse_session(s, by_id) for s in sessions_r.items("sessions")]
    _unique([s.session_id for s in sessions], sessions_r.at("sessions"), "session_id")
    _unique([s.session_token for s in sessions], sessions_r.at("sessions"), "session_token")
    otp = _parse_otp(r.obj("otp"))
    numbers = [s.session_number for s in sessions] + [v.session_number for v in otp[0]]
    _unique(numbers, r.path, "session_number")
    next_number = sessions_r("next_number", "int")
    if next_number < 1 or any(n >= next_number for n in numbers):
        raise StateInvalid(f"{sessions_r.at('next_number')}: must be greater than every session_number.")
    extensions = r("extensions", "object", {})
    return _Parsed(
        api_key=api_key,
        application_id=r("application_id", "str"),
        environment=r.choice("environment", ("sandbox", "live")),
        seed=r("seed", "int"),
        config=_parse_config(r.obj("config")),
        key_config=_parse_config(Reader(r("key_config", "object?"), r.at("key_config")))
        if r("key_config", "object?", None) is not None else None,
        clock=_parse_clock(r.obj("clock")),
        rng=_parse_rng(r("rng", "list"), r.at("rng")),
        workflows=custom,
        workflow_versions=_parse_workflow_versions(r),
        next_number=next_number,
        sessions=sessions,
        otp=otp,
        blocklist=_parse_blocklist(r.obj("blocklist")),
        webhooks=_parse_webhooks(r.obj("webhooks")),
        rate_limits=_parse_rate_limits(Reader(r("rate_limits", "object"), r.at("rate_limits"))),
        shared_imports={
            (i("from_application_id", "str"), i("session_id", "str")): i("clone_id", "str")
            for i in r.items("shared_imports")
        },
        extensions={
            name: section.parse(extensions[name], _join(r.at("extensions"), name))
            for name, section in sections.items() if name in extensions
        },
    )


def _unique(values: list[Any], path: str, what: str) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise StateInvalid(f"{path}: {what} {value!r} appears twice.")
        seen.add(value)


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


def _parse_workflow(r: Reader) -> Workflow:
    features = tuple(check(f, "str", f"{r.at('features')}[{i}]") for i, f in enumerate(r("features", "list")))
    expiration = r("expiration_seconds", "int")
    if expiration <= 0:
        raise StateInvalid(f"{r.at('expiration_seconds')}: must be positive.")
    return Workflow(
        workflow_id=r("workflow_id", "str"), label=r("label", "str"), template=r("template", "str"),
        features=features, version=r("version", "int"), expiration_seconds=expiration,
        requires_portrait=r("requires_portrait", "bool"), builtin=r("builtin", "bool"),
        callback_url=r("callback_url", "str?"), extra=r("extra", "object", {}),
    )


def _parse_workflow_versions(r: Reader) -> tuple[list[WorkflowVersion], list[str]]:
    """The API-made workflow versions (absent from documents written before they existed)."""
    versions = []
    for item in r.items("workflow_versions", []):
        status = item.choice("status", ("draft", "published"))
        features = [check(f, "object", f"{item.at('features')}[{i}]") for i, f in enumerate(item("features", "list"))]
        for i, f in enumerate(features):
            if not isinstance(f.get("feature"), str) or not isinstance(f.get("config", {}), dict):
                raise StateInvalid(f"{item.at('features')}[{i}]: expected {{feature, config}}.")
        versions.append(WorkflowVersion(
            uuid=item("uuid", "str"), workflow_id=item("workflow_id", "str"), label=item("label", "str"),
            version=item("version", "int"), status=status, is_default=item("is_default", "bool"), features=features,
            options=item("options", "object"), created_at=item("created_at", "float"),
            updated_at=item("updated_at", "float"), published_at=item("published_at", "float?"),
            url_token=item("url_token", "str"), extra=item("extra", "object", {}),
        ))
    _unique([v.uuid for v in versions], r.at("workflow_versions"), "uuid")
    retired = [check(g, "str", f"{r.at('retired_workflows')}[{i}]")
               for i, g in enumerate(r("retired_workflows", "list", []))]
    return versions, retired


def _parse_session(r: Reader, custom: dict[str, Workflow]) -> Session:
    workflow_id = r("workflow_id", "str")
    inline = r("workflow", "object?", None)
    if inline is not None:
        workflow = _parse_workflow(Reader(inline, r.at("workflow")))
    else:
        found = custom.get(workflow_id) or BUILTIN_WORKFLOWS.get(workflow_id)
        if found is None:
            raise StateInvalid(f"{r.at('workflow_id')}: unknown workflow {workflow_id!r} (not built in, not in "
                               "the tenant's workflows, and no inline `workflow`).")
        workflow = found
    outcomes_raw = r("outcomes", "list?", None)
    outcomes = None
    if outcomes_raw is not None:
        outcomes = {}
        for item in r.items("outcomes"):
            outcome = FeatureOutcome(
                feature=item("feature", "str"),
                status=item.choice("status", st.FEATURE_STATUSES + st.SESSION_STATUSES),
                warnings=[_dataclass_from(RiskWarning, w, {
                    "risk": "str", "log_type": "str", "feature": "str", "short_description": "str",
                    "long_description": "str", "additional_data": "json"}) for w in item.items("warnings")],
                data=item("data", "object"),
            )
            outcomes[item("key", "str", outcome.feature)] = outcome
    overrides = r("data_overrides", "object")
    for name, value in overrides.items():
        check(value, "object", _join(r.at("data_overrides"), name))
    timeline = []
    for i, entry in enumerate(r("timeline", "list")):
        where = f"{r.at('timeline')}[{i}]"
        if not isinstance(entry, list) or len(entry) != 2:
            raise StateInvalid(f"{where}: expected [status, timestamp].")
        timeline.append((check(entry[0], "str", f"{where}[0]"), check(entry[1], "float", f"{where}[1]")))
    resubmit = r("resubmit_nodes", "list?", None)
    if resubmit is not None:
        for i, node in enumerate(resubmit):
            node_r = Reader(node, f"{r.at('resubmit_nodes')}[{i}]")
            node_r("node_id", "str")
            node_r("feature", "str")
    return Session(
        session_id=r("session_id", "str"),
        session_number=r("session_number", "int"),
        session_token=r("session_token", "str"),
        workflow=workflow,
        url=r("url", "str?"),
        created_at=r("created_at", "float"),
        expires_at=r("expires_at", "float?"),
        vendor_data=r("vendor_data", "str?", None),
        metadata=r("metadata", "json", None),
        callback=r("callback", "str?", None),
        callback_method=r("callback_method", "str", "initiator"),
        language=r("language", "str?", None),
        contact_details=r("contact_details", "object?", None),
        expected_details=r("expected_details", "object?", None),
        portrait_digest=r("portrait_digest", "str?", None),
        sandbox_scenario=r("sandbox_scenario", "str?", None),
        status=r.choice("status", st.SESSION_STATUSES),
        started_at=r("started_at", "float?", None),
        finished_at=r("finished_at", "float?", None),
        outcomes=outcomes,
        data_overrides=overrides,
        reviews=[_parse_review(x) for x in r.items("reviews", [])],
        timeline=timeline,
        shared_from_session=r("shared_from_session", "str?", None),
        imported_decision=r("imported_decision", "object?", None),
        resubmit_nodes=resubmit,
        revision=r("revision", "int", 0),
    )


def _parse_review(r: Reader) -> Review:
    changed = [check(c, "str", f"{r.at('changed_fields')}[{i}]") for i, c in enumerate(r("changed_fields", "list"))]
    return Review(
        uuid=r("uuid", "str"), activity_type=r("activity_type", "str"), actor_type=r("actor_type", "str"),
        actor_display=r("actor_display", "str"), new_status=r("new_status", "str?"),
        previous_status=r("previous_status", "str?"), comment=r("comment", "str?"), created_at=r("created_at", "float"),
        changed_fields=changed, previous_value=r("previous_value", "json", None),
        new_value=r("new_value", "json", None),
        actor_email=r("actor_email", "str?", None),
    )


def _parse_otp(r: Reader) -> tuple[list[Any], dict[str, list[float]], dict[str, Any]]:
    from .otp import OtpConfig

    verifications = [_parse_verification(v) for v in r.items("verifications")]
    _unique([v.request_id for v in verifications], r.at("verifications"), "request_id")
    sends_r = Reader(r("phone_sends", "object"), r.at("phone_sends"))
    sends = {number: sends_r.floats(number) for number in sends_r.data}
    config_r = r.obj("config")
    defaults = OtpConfig().to_dict()
    config: dict[str, Any] = {}
    for name, default in defaults.items():
        kind = "int" if isinstance(default, int) else "object" if isinstance(default, dict) else "list"
        config[name] = config_r(name, kind, default)
    for name in ("phone_codes", "email_codes"):
        for key, code in config[name].items():
            check(code, "str", _join(config_r.at(name), key))
    for name, value in config.items():
        if isinstance(value, list):
            for i, item in enumerate(value):
                check(item, "str", f"{config_r.at(name)}[{i}]")
        elif isinstance(value, dict) and name not in ("phone_codes", "email_codes"):
            for key, item in value.items():
                check(item, "object", _join(config_r.at(name), key))
    return verifications, sends, config


def _parse_verification(r: Reader) -> Any:
    from .otp import Verification
    from .otp.email_facts import EmailFacts
    from .otp.phone_facts import PhoneFacts
    from .otp.records import LifecycleEvent

    facts_raw = r("facts", "object?", None)
    facts: Any = None
    if facts_raw is not None:
        facts_r = Reader(facts_raw, r.at("facts"))
        if facts_r.choice("kind", ("phone", "email")) == "phone":
            facts = _dataclass_from(PhoneFacts, facts_r, {
                "full_number": "str", "prefix": "str", "national_number": "str", "country_code": "str?",
                "country_name": "str", "carrier_name": "str", "line_type": "str", "is_disposable": "bool",
                "is_high_risk": "bool"})
        else:
            breaches = tuple(check(b, "object", f"{facts_r.at('breaches')}[{i}]")
                             for i, b in enumerate(facts_r("breaches", "list")))
            facts = EmailFacts(facts_r("email", "str"), facts_r("domain", "str"), facts_r("is_disposable", "bool"),
                               facts_r("is_undeliverable", "bool"), breaches)
    return Verification(
        kind=r.choice("kind", ("phone", "email")), request_id=r("request_id", "str"),
        session_number=r("session_number", "int"), target=r("target", "str"), created_at=r("created_at", "float"),
        expires_at=r("expires_at", "float"), vendor_data=r("vendor_data", "str?", None),
        metadata=r("metadata", "json", None), channel=r("channel", "str?", None),
        actual_channel=r("actual_channel", "str?", None), code_size=r("code_size", "int"),
        alphanumeric=r("alphanumeric", "bool"), locale=r("locale", "str?", None), signals=r("signals", "object", {}),
        code=r("code", "str?"), sends=r("sends", "int"), wrong_codes=r("wrong_codes", "int"),
        status=r("status", "str"), send_status=r("send_status", "str"), send_reason=r("send_reason", "str?", None),
        verified_at=r("verified_at", "float?", None), finished_at=r("finished_at", "float?", None),
        warnings=[check(w, "object", f"{r.at('warnings')}[{i}]") for i, w in enumerate(r("warnings", "list"))],
        lifecycle=[LifecycleEvent(e("type", "str"), e("at", "float"), e("details", "object?", None),
                                  e("fee", "float", 0)) for e in r.items("lifecycle")],
        facts=facts,
    )


def _parse_blocklist(r: Reader) -> tuple[list[BlockEntry], int]:
    kinds = {f.name: "str?" for f in fields(BlockEntry)}
    kinds.update({"type": "str", "value": "str", "session_id": "str", "session_number": "int?",
                  "session_created_at": "float", "blocklisted_at": "float", "order": "int"})
    entries = []
    for item in r.items("entries"):
        entry = _dataclass_from(BlockEntry, item, kinds)
        if entry.type not in ("face", "document", "phone", "email"):
            raise StateInvalid(f"{item.at('type')}: {entry.type!r} is not face, document, phone or email.")
        entries.append(entry)
    _unique([(e.session_id, e.type) for e in entries], r.at("entries"), "(session_id, type)")
    return entries, r("last_order", "int")


def _parse_webhooks(r: Reader) -> dict[str, Any]:
    legacy = _dataclass_from(LegacyWebhook, r.obj("legacy"), {
        "url": "str?", "version": "str", "secret": "str?", "capture_method": "str", "data_retention_months": "int?"})
    destinations = []
    for item in r.items("destinations"):
        events = [check(e, "str", f"{item.at('subscribed_events')}[{i}]")
                  for i, e in enumerate(item("subscribed_events", "list"))]
        destinations.append(Destination(
            uuid=item("uuid", "str"), label=item("label", "str"), url=item("url", "str"),
            enabled=item("enabled", "bool"), webhook_version=item("webhook_version", "str"),
            secret_shared_key=item("secret_shared_key", "str"), subscribed_events=events,
            created_at=item("created_at", "float"), updated_at=item("updated_at", "float"),
        ))
    deliveries: dict[str, Delivery] = {}
    for item in r.items("deliveries"):
        delivery = _dataclass_from(Delivery, item, {
            "id": "str", "event_id": "str", "target_key": "str", "destination_uuid": "str?", "url": "str",
            "webhook_version": "str", "secret": "str", "session_id": "str", "webhook_type": "str", "status": "str",
            "payload": "object", "created_at": "float", "not_before": "float", "exhausted": "bool"})
        delivery.state = item.choice("state", ("pending", "delivered", "failed"))
        if delivery.id in deliveries:
            raise StateInvalid(f"{item.at('id')}: delivery {delivery.id!r} appears twice.")
        deliveries[delivery.id] = delivery
    attempts = []
    for item in r.items("attempts"):
        delivery_id = item("delivery_id", "str")
        owner = deliveries.get(delivery_id)
        if owner is None:
            raise StateInvalid(f"{item.at('delivery_id')}: no delivery {delivery_id!r}.")
        request_r, outcome_r = item.obj("request"), item.obj("outcome")
        headers = request_r("headers", "object")
        for name, value in headers.items():
            check(value, "str", _join(request_r.at("headers"), name))
        request = SignedRequest(request_r("url", "str"), request_r("body", "str").encode("utf-8"), headers,
                                request_r("timestamp", "int"), request_r("trigger", "str"))
        outcome = _dataclass_from(SendOutcome, outcome_r, {
            "status": "int?", "body": "str?", "elapsed_ms": "int?", "error": "str?"})
        attempt = Attempt(
            uuid=item("uuid", "str"), delivery=owner, number=item("number", "int"), trigger=item("trigger", "str"),
            created_at=item("created_at", "float"), request=request, outcome=outcome,
            will_retry=item("will_retry", "bool"), next_retry_at=item("next_retry_at", "float?"),
            exhausted=item("exhausted", "bool"),
        )
        owner.attempts.append(attempt)
        attempts.append(attempt)
    _unique([a.uuid for a in attempts], r.at("attempts"), "uuid")
    pending = []
    for i, ref in enumerate(r("pending", "list")):
        delivery = deliveries.get(check(ref, "str", f"{r.at('pending')}[{i}]"))
        if delivery is None or delivery.state != "pending":
            raise StateInvalid(f"{r.at('pending')}[{i}]: {ref!r} is not a pending delivery.")
        pending.append(delivery)
    _unique([d.id for d in pending], r.at("pending"), "delivery")
    return {"legacy": legacy, "destinations": destinations, "faults": r("faults", "object"),
            "deliveries": deliveries, "attempts": attempts, "pending": pending}


def _parse_rate_limits(r: Reader) -> dict[str, list[float]]:
    windows = {}
    for name in r.data:
        if name not in SCOPES:
            raise StateInvalid(f"{r.at(name)}: unknown rate-limit scope.")
        windows[name] = r.floats(name)
    return windows


# ---------------------------------------------------------------- import: building and swapping

def import_tenant(registry: TenantRegistry, data: Any) -> Tenant:
    """Import one exported tenant (`export_tenant`'s dict), replacing or creating the tenant of its key."""
    return _import(registry, [Reader(data, "tenant")])[0]


def import_registry(registry: TenantRegistry, data: Any) -> list[Tenant]:
    """Import a state document: every tenant it names is replaced (or created), all or nothing."""
    return _import(registry, read_document(data))


def _import(registry: TenantRegistry, entries: list[Reader]) -> list[Tenant]:
    parsed = [_parse_tenant(r, registry.state_sections) for r in entries]
    _unique([p.api_key for p in parsed], "tenants", "api_key")
    _unique([p.application_id for p in parsed], "tenants", "application_id")
    replaced = {p.api_key for p in parsed}
    for i, p in enumerate(parsed):
        owner = registry.by_application(p.application_id)
        if owner is not None and owner.api_key not in replaced:
            raise StateInvalid(f"tenants[{i}].application_id: another tenant ({owner.api_key}) already uses "
                               f"{p.application_id}.")
    seen: set[str] = set()
    for p in parsed:
        for session in p.sessions:
            owner = registry.by_token(session.session_token)
            if (owner is not None and owner.api_key not in replaced) or session.session_token in seen:
                raise StateInvalid(f"session token {session.session_token!r} of {p.api_key} is already in use.")
            seen.add(session.session_token)
    built = [_build(registry, p) for p in parsed]
    tokens = {s.session_token: tenant for tenant, p in zip(built, parsed, strict=True) for s in p.sessions}
    for p in parsed:
        if p.key_config is not None:
            registry.key_configs[p.api_key] = TenantConfig(**p.key_config)
    registry.install(built, tokens)
    return built


def _build(registry: TenantRegistry, p: _Parsed) -> Tenant:
    """A new tenant holding the parsed state, not yet in the registry (so a failure changes nothing)."""
    defaults = registry.key_configs.get(p.api_key) or registry.defaults
    # Built with the default `strict_workflows`: a scenario the hooks push records that as the value to undo to.
    tenant = Tenant(p.api_key, registry, TenantConfig(**{**p.config, "strict_workflows": defaults.strict_workflows}),
                    registry.global_seed)
    _apply_identity(tenant, p)
    for name, parsed in p.extensions.items():
        prepare = registry.state_sections[name].prepare
        if prepare is not None:
            prepare(tenant, parsed)
    for hook in registry.on_create:  # as for any new tenant: webhook sender, scenario engine
        hook(tenant)
    with tenant.lock:
        _restore_components(tenant, p)
        for name, parsed in p.extensions.items():
            registry.state_sections[name].restore(tenant, parsed)
        _apply_identity(tenant, p)  # the document wins over what the hooks set (e.g. scenario settings)
        rearm(tenant)
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


def _restore_components(tenant: Tenant, p: _Parsed) -> None:
    from .otp import book as otp_book
    from .otp import otp_config

    custom = workflow_book(tenant).custom
    custom.clear()
    custom.update({w.workflow_id: w for w in p.workflows})
    workflow_catalog(tenant).restore(*p.workflow_versions)

    sessions = session_book(tenant)
    for session in p.sessions:
        sessions.add(session)
    sessions.restart_numbers(p.next_number)

    verifications, sends, config = p.otp
    otp = otp_book(tenant)
    for verification in verifications:
        otp.add(verification)
    otp.phone_sends = sends
    otp_config(tenant).update(config)

    entries, last_order = p.blocklist
    blocklist(tenant).restore(entries, last_order)

    hooks = webhook_book(tenant)
    data = p.webhooks
    hooks.legacy = data["legacy"]
    hooks.destinations = {d.uuid: d for d in data["destinations"]}
    hooks.faults.clear()
    hooks.faults.update(data["faults"])
    hooks.deliveries = data["deliveries"]
    hooks.attempts = data["attempts"]
    hooks.attempts_by_uuid = {a.uuid: a for a in data["attempts"]}
    for delivery in data["pending"]:
        hooks.requeue(delivery)

    limiter(tenant).restore_windows(p.rate_limits)
    tenant.component(ImportLedger).imported = dict(p.shared_imports)


def rearm(tenant: Tenant) -> None:
    """Re-create the scheduled jobs of restored state: session and document expiry, OTP expiry,
    webhook deliveries and retries (each at its due time; past-due ones run at the next tick)."""
    from .otp import book as otp_book
    from .otp.engine import arm_expiry
    from .otp.records import PENDING

    for session in session_book(tenant).by_id.values():
        if session.status in _EXPIRING and session.expires_at is not None:
            _schedule_expiry(tenant, session)
        elif session.status == st.APPROVED:
            _schedule_document_expiry(tenant, session)
    for verification in otp_book(tenant).by_id.values():
        if verification.status == PENDING:
            arm_expiry(tenant, verification)
    hooks = webhook_book(tenant)
    for delivery in hooks.pending():
        key = delivery.chain_key
        tenant.scheduler.at(delivery.not_before, lambda key=key: hooks.signal(key))
