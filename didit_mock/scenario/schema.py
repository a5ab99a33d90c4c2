"""The scenario format: pydantic models (unknown keys are errors) and the exported JSON Schema.

A scenario document is a mapping; every part is optional:

* `tenants` (files only) registers API keys with their settings, `tenant` sets the settings of
  whichever tenants the scenario applies to;
* `workflows` and `strict_workflows`;
* `sessions`: rules matched in order on new sessions, each with an outcome and/or a timeline;
* `phone` / `email`: rules on numbers (E.164 prefixes) and addresses (globs) for the OTP engine;
* `faults`: injected latency, error statuses, 429s and dropped connections on API routes;
* `webhooks`: faults of the webhook sender (wrong secret, stale timestamp, duplicates, ...).

Cross-field rules that JSON Schema cannot say live in `semantic_errors`, which reports each
problem with the exact location of the offending value.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import re
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from ..domain import statuses as st
from ..domain.clock import parse_iso
from ..domain.otp.phone_facts import LINE_TYPE_VALUES
from ..domain.outcomes import FEATURE_ALIASES, SANDBOX_SLUGS, STEP_ALIASES, canonical_step, sandbox_scenario
from ..domain.risks import risk_problem
from ..domain.standalone.armed import ENDPOINTS
from ..domain.workflows import BUILTIN_WORKFLOWS

SCHEMA_ID = "https://didit-mock.local/scenario.schema.json"

Loc = tuple[str | int, ...]

# ---------------------------------------------------------------- vocabularies

TEMPLATES = ("KYC", "Adaptive Age Verification", "Biometric Authentication", "Address Verification",
             "Questionnaire")
FEATURE_NAMES = tuple(sorted(FEATURE_ALIASES))
CANONICAL_FEATURES = tuple(sorted(set(FEATURE_ALIASES.values())))
#: An outcome may also choose the KYB steps (for sessions of KYB workflows).
OUTCOME_FEATURE_NAMES = tuple(sorted(STEP_ALIASES))
CANONICAL_OUTCOME_FEATURES = tuple(sorted(set(STEP_ALIASES.values())))
PRESETS = tuple(slug for slug in SANDBOX_SLUGS if sandbox_scenario(slug) is not None)
FeatureStatus = Literal["Approved", "Declined", "In Review", "Not Finished"]
OutcomeStatus = Literal["Approved", "Declined", "In Review", "Abandoned"]
StepStatus = Literal["In Progress", "In Review", "Approved", "Declined", "Abandoned", "Expired", "Resubmitted"]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
HttpMethod = Literal[METHODS]  # type: ignore[valid-type]

_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_RISK = r"^[A-Z][A-Z0-9_]*$"
STANDALONE_ENDPOINTS = ENDPOINTS
_PHONE_PREFIX = re.compile(r"^\+[0-9]{1,15}\*?$")
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any) -> Any:
    """Seconds from a number or a string such as `30s`, `1.5m`, `2h`, `7d`, `250ms`."""
    if isinstance(value, str):
        found = _DURATION.match(value)
        if not found:
            raise ValueError(f"{value!r} is not a duration: use seconds (30) or a unit (30s, 5m, 2h, 1d, 250ms)")
        return float(found.group(1)) * _UNITS[found.group(2)]
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string such as 30s")
    return value


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    Field(ge=0),
    WithJsonSchema({
        "anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": _DURATION.pattern},
        ],
        "description": "Seconds, or a number with a unit: 250ms, 30s, 5m, 2h, 1d.",
    }),
]


class _Model(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")


# ---------------------------------------------------------------- string patterns

class Pattern(_Model):
    """A string condition: `exact`, `glob` (`*`, `?`, `[...]`) or `regex` (searched, not anchored).

    A plain string is a glob; numbers, booleans and null compare exactly with their JSON form.
    """

    exact: str | None = None
    glob: str | None = None
    regex: str | None = None
    _compiled: re.Pattern[str] | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"glob": data}
        if data is None or isinstance(data, (bool, int, float)):
            return {"exact": json.dumps(data)}
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> Pattern:
        given = [k for k in ("exact", "glob", "regex") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of exact, glob or regex")
        if self.regex is not None:
            try:
                self._compiled = re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return self

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        return {"anyOf": [{"type": "string", "description": "a glob"}, {"type": ["number", "boolean", "null"]},
                          schema]}

    def matches(self, value: Any) -> bool:
        """Whether `value` (a string, or any JSON value by its JSON text) satisfies the condition."""
        if value is None and self.exact is None:
            return False
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        if self.exact is not None:
            return text == self.exact
        if self.glob is not None:
            return fnmatch.fnmatchcase(text, self.glob)
        assert self._compiled is not None
        return self._compiled.search(text) is not None


# ---------------------------------------------------------------- tenants

class WebhookTarget(_Model):
    """Where the tenant's webhooks go (the application-level webhook URL)."""

    url: str = Field(pattern=r"^https?://\S+$", description="http:// or https:// URL of the receiver")
    secret: str | None = Field(None, min_length=1, description="the shared secret the signatures use")
    version: Literal["v1", "v2", "v3"] | None = None


class TenantSettings(_Model):
    """Settings of a tenant, applied when the scenario is loaded for it (or it is created)."""

    environment: Literal["live", "sandbox"] | None = None
    credits: float | None = Field(None, ge=0, description="live tenants pay one credit per session or OTP send")
    seed: int | None = Field(None, description="seed of the tenant's randomness (ids, codes, people, faults)")
    clock_start: str | None = Field(None, description="ISO-8601 instant the tenant clock starts at")
    clock_frozen: bool | None = Field(None, description="whether the tenant clock stands still until moved")
    webhook: WebhookTarget | None = None
    transaction_id_reuse: Literal["400", "return_existing"] | None = Field(
        None, description="a reused transaction_id: Didit's 400 (default) or the existing transaction")

    @field_validator("clock_start", mode="before")
    @classmethod
    def _instant(cls, value: Any) -> Any:
        if isinstance(value, datetime):  # YAML reads an unquoted timestamp as a datetime
            return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
        if isinstance(value, str):
            try:
                parse_iso(value)
            except ValueError:
                raise ValueError(f"{value!r} is not an ISO-8601 instant such as 2026-01-01T09:00:00Z") from None
        return value


class TenantSpec(TenantSettings):
    """A tenant of a scenario file: declaring any restricts the server to the declared keys."""

    api_key: str = Field(min_length=1, max_length=256, pattern=r"^[!-~]+$")
    application_id: str | None = Field(None, pattern=_UUID)


# ---------------------------------------------------------------- workflows

class WorkflowSpec(_Model):
    """A workflow of the tenant: an id, a built-in template and optionally its own features."""

    id: str = Field(pattern=_UUID, description="the workflow_id clients send")
    template: Literal[TEMPLATES] = "KYC"  # type: ignore[valid-type]
    label: str | None = None
    features: list[str] | None = Field(
        None, min_length=1, json_schema_extra={"items": {"enum": list(FEATURE_NAMES)}},
        description="features the workflow runs (default: the template's)",
    )
    expiration: Duration | None = Field(None, description="session lifetime, 1h to 28d (default 7d)")
    callback_url: str | None = Field(None, pattern=r"^https?://\S+$")


# ---------------------------------------------------------------- session rules

class SessionMatch(_Model):
    """Which new sessions a rule takes; every condition given must hold (none: every session)."""

    vendor_data: Pattern | None = None
    workflow: Pattern | None = Field(None, description="the workflow's id, label or template")
    expected_details: dict[str, Pattern] | None = Field(
        None, description="key (dots reach nested keys) -> condition on the session's expected_details")
    metadata: dict[str, Pattern] | None = Field(
        None, description="key (dots reach nested keys) -> condition on the session's metadata")


class FeatureSpec(_Model):
    """One feature's result: status, warnings (risk codes) and data of the decision item.

    A plain string is the status (`LIVENESS: Declined`).
    """

    status: FeatureStatus = "Approved"
    risks: list[Annotated[str, Field(pattern=_RISK)]] = Field(
        default_factory=list, description="risk codes of the warnings (log_type follows the status)")
    score: float | None = Field(None, ge=0, le=100)
    hits: int | None = Field(None, ge=0, le=5, description="AML: number of hits")
    age: float | None = Field(None, ge=0, lt=130,
                              description="ID_VERIFICATION: the person's age; AGE_ESTIMATION: the estimate")
    expired_document: bool = Field(False, description="ID_VERIFICATION: the document has expired")
    data: dict[str, Any] = Field(default_factory=dict, description="fields set on the decision item as given")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"status": data} if isinstance(data, str) else data

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        return {"anyOf": [{"enum": ["Approved", "Declined", "In Review", "Not Finished"]}, schema]}


class Outcome(_Model):
    """What the verification finds: the status it ends in and per-feature results."""

    status: OutcomeStatus | None = Field(
        None, description="the final status (default: from the features, else Approved)")
    preset: Literal[PRESETS] | None = Field(  # type: ignore[valid-type]
        None, description="a sandbox scenario slug whose result is the starting point")
    features: dict[str, FeatureSpec] = Field(
        default_factory=dict, json_schema_extra={"propertyNames": {"enum": list(OUTCOME_FEATURE_NAMES)}},
        description="per-feature results; KYB_REGISTRY, KYB_DOCUMENTS and KYB_KEY_PEOPLE apply to sessions of "
                    "workflows that run them")


class Step(_Model):
    """One step of a timeline: a status the session reaches `after` seconds from its creation."""

    after: Duration = 0.0
    status: StepStatus
    comment: str | None = Field(None, description="review comment of a manual decision step")


class SessionRule(_Model):
    """A rule for new sessions: the first rule that matches decides what happens to a session."""

    name: str | None = None
    match: SessionMatch = Field(default_factory=SessionMatch)
    outcome: Outcome | None = None
    timeline: list[Step] | None = Field(None, min_length=1)
    wait: bool = Field(False, description="leave the session to the hosted page or the admin API")


# ---------------------------------------------------------------- phone and email

class PhoneRule(_Model):
    """What the OTP engine does for numbers starting with `match` (an E.164 prefix, `*` optional)."""

    match: str = Field(pattern=_PHONE_PREFIX.pattern, description="E.164 prefix such as +1555 or +1555*")
    code: str | None = Field(None, pattern=r"^[0-9]{4,8}$", description="fixed code sent (quote it)")
    send_status: Literal["Blocked", "Retry"] | None = None
    reason: str | None = Field(None, description="reason of a Blocked send (suspicious, spam, repeated_attempts)")
    carrier: str | None = None
    line_type: Literal[LINE_TYPE_VALUES] | None = None  # type: ignore[valid-type]
    voip: bool = False
    disposable: bool = False
    high_risk: bool = False
    blocklisted: bool = False

    @property
    def prefix(self) -> str:
        return self.match.rstrip("*")


class EmailRule(_Model):
    """What the OTP engine does for addresses matching `match` (a case-insensitive glob)."""

    match: str = Field(min_length=1, pattern=r"@", description="glob such as *@example.com")
    code: str | None = Field(None, pattern=r"^[A-Za-z0-9]{4,8}$", description="fixed code sent (quote it)")
    send_status: Literal["Undeliverable", "Retry"] | None = None
    disposable: bool = False
    breached: bool = False
    blocklisted: bool = False


# ---------------------------------------------------------------- transactions and wallets

class TransactionRule(_Model):
    """The verdict of new transactions whose fields match (after screening and the tenant's rules).

    `match` keys are the rule fields of transaction monitoring (`txn_id`, `amount`, `currency`,
    `direction`, `transaction_type`, `subject.vendor_data`, `custom_values.<key>`...), values patterns.
    """

    name: str | None = None
    match: dict[str, Pattern] = Field(default_factory=dict)
    status: Literal["APPROVED", "IN_REVIEW", "DECLINED"]
    score: int | None = Field(None, ge=0, le=100)
    reason_code: str | None = None
    reason_label: str | None = None


class WalletRule(_Model):
    """The screening result of addresses matching `match` (a glob, case-insensitive), on `chain` if given."""

    match: str = Field(min_length=1, description="glob on the wallet address, e.g. 0xabc*")
    chain: str | None = None
    risk_score: int = Field(ge=0, le=100)
    category: str | None = Field(None, description="dominant risk category, e.g. mixer, sanctioned, scam")
    sanctions_hit: bool = False


# ---------------------------------------------------------------- faults

class Fault(_Model):
    """A fault injected into matching API calls of a tenant (never into /_mock routes).

    Which calls: all of them, or `first` N, `every` Nth, the listed `calls`, or each with
    `probability` (drawn from the tenant seed, so runs repeat); `times` caps how often it fires.
    """

    name: str | None = None
    path: str = Field("*", min_length=1, description="glob on the request path, e.g. /v3/session/*")
    method: Annotated[list[HttpMethod] | None, WithJsonSchema({
        "anyOf": [{"enum": list(METHODS)}, {"type": "array", "items": {"enum": list(METHODS)}}, {"type": "null"}],
        "description": "a method or a list of them (default: any)",
    })] = None
    first: int | None = Field(None, ge=1)
    every: int | None = Field(None, ge=1)
    calls: list[Annotated[int, Field(ge=1)]] | None = Field(None, min_length=1)
    probability: float | None = Field(None, gt=0, le=1)
    times: int | None = Field(None, ge=1)
    latency: Duration | None = Field(None, le=120, description="real seconds to wait before answering")
    status: int | None = Field(None, ge=400, le=599)
    body: Any = None
    headers: dict[str, str] | None = None
    retry_after: int | None = Field(None, ge=1, description="429/503: Retry-After seconds")
    drop: bool = Field(False, description="close the connection without answering")

    @field_validator("method", mode="before")
    @classmethod
    def _methods(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            return [v.upper() if isinstance(v, str) else v for v in value]
        return value


class WebhookFaults(_Model):
    """Faults of the webhook sender, for testing receivers."""

    wrong_secret: bool = False
    stale_timestamp: Duration | None = Field(None, description="seconds the X-Timestamp lags behind")
    duplicate: bool = False
    out_of_order: bool = False
    delay: Duration | None = Field(None, description="tenant-clock seconds before each delivery")

    def active(self) -> dict[str, Any]:
        """The webhook module's faults dict for these settings (switched-off faults omitted)."""
        values = {"wrong_secret": self.wrong_secret, "stale_timestamp": self.stale_timestamp or 0,
                  "duplicate": self.duplicate, "out_of_order": self.out_of_order, "delay": self.delay or 0}
        return {k: v for k, v in values.items() if v}


class StandaloneRule(_Model):
    """The outcome of matching standalone API calls (after outcomes armed through the admin API)."""

    name: str | None = None
    endpoint: Literal[STANDALONE_ENDPOINTS]  # type: ignore[valid-type]
    vendor_data: Pattern | None = Field(None, description="only calls whose vendor_data matches")
    status: Literal["Approved", "Declined", "In Review"] | None = None
    risks: list[Annotated[str, Field(pattern=_RISK)]] = Field(default_factory=list,
                                                              description="warning codes the call gets")
    scenario: str | None = Field(None, min_length=1, description="an outcome slug of docs/standalone.md")

    @model_validator(mode="after")
    def _something(self) -> StandaloneRule:
        if self.status is None and not self.risks and self.scenario is None:
            raise ValueError("give a status, risks or a scenario")
        return self


# ---------------------------------------------------------------- the document

class Scenario(_Model):
    """A didit-mock scenario."""

    model_config = ConfigDict(defer_build=True, extra="forbid", title="didit-mock scenario")

    version: Literal[1] = 1
    name: str | None = Field(None, min_length=1, description="default: the file name")
    description: str | None = None
    tenants: list[TenantSpec] = Field(default_factory=list, description="API keys (scenario files only)")
    tenant: TenantSettings | None = Field(None, description="settings of the tenants the scenario applies to")
    workflows: list[WorkflowSpec] = Field(default_factory=list)
    strict_workflows: bool | None = None
    sessions: list[SessionRule] = Field(default_factory=list)
    phone: list[PhoneRule] = Field(default_factory=list)
    email: list[EmailRule] = Field(default_factory=list)
    transactions: list[TransactionRule] = Field(default_factory=list)
    wallets: list[WalletRule] = Field(default_factory=list)
    faults: list[Fault] = Field(default_factory=list)
    webhooks: WebhookFaults | None = None
    standalone: list[StandaloneRule] = Field(default_factory=list,
                                             description="outcomes of standalone API calls (docs/standalone.md)")


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario document, for editors."""
    schema = Scenario.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


# ---------------------------------------------------------------- cross-field rules

_FINISHING = (st.APPROVED, st.DECLINED, st.IN_REVIEW, st.ABANDONED)
_DECIDED_BY_REVIEW = (st.APPROVED, st.DECLINED, st.RESUBMITTED)


def canonical_feature(name: str) -> str | None:
    key = str(name).strip().upper().replace("-", "_").replace(" ", "_")
    return FEATURE_ALIASES.get(key)


def outcome_feature(name: str) -> str | None:
    """The canonical name of a feature an outcome chooses (a KYC feature or a KYB step)."""
    return canonical_step(name)


def semantic_errors(scenario: Scenario) -> list[tuple[Loc, str]]:
    """Problems JSON Schema cannot express, each with the location of the value at fault."""
    errors: list[tuple[Loc, str]] = []
    _check_tenants(scenario, errors)
    seen_ids: dict[str, int] = {}
    for i, workflow in enumerate(scenario.workflows):
        loc: Loc = ("workflows", i)
        if workflow.id in BUILTIN_WORKFLOWS:
            errors.append((loc + ("id",), f"{workflow.id} is a built-in workflow id; choose another"))
        if workflow.id in seen_ids:
            errors.append((loc + ("id",), f"already defined at workflows[{seen_ids[workflow.id]}]"))
        seen_ids.setdefault(workflow.id, i)
        for j, feature in enumerate(workflow.features or []):
            if canonical_feature(feature) is None:
                errors.append((loc + ("features", j), _unknown_feature(feature)))
        if workflow.expiration is not None and not 3600 <= workflow.expiration <= 2419200:
            errors.append((loc + ("expiration",), "must be between 3600 (1h) and 2419200 (28d) seconds"))
    for i, rule in enumerate(scenario.sessions):
        _check_rule(rule, ("sessions", i), errors)
    for i, phone in enumerate(scenario.phone):
        loc = ("phone", i)
        if phone.reason is not None and phone.send_status != "Blocked":
            errors.append((loc + ("reason",), "a reason goes with send_status: Blocked"))
        if phone.voip and phone.line_type not in (None, "voip", "isp", "vpn"):
            errors.append((loc + ("voip",), f"voip: true contradicts line_type: {phone.line_type}"))
    for i, fault in enumerate(scenario.faults):
        _check_fault(fault, ("faults", i), errors)
    return errors


def _check_tenants(scenario: Scenario, errors: list[tuple[Loc, str]]) -> None:
    keys: dict[str, int] = {}
    for i, spec in enumerate(scenario.tenants):
        if spec.api_key in keys:
            errors.append((("tenants", i, "api_key"), f"API key already declared at tenants[{keys[spec.api_key]}]"))
        keys.setdefault(spec.api_key, i)


def _unknown_feature(name: str, outcome: bool = False) -> str:
    names, canonical = (OUTCOME_FEATURE_NAMES, CANONICAL_OUTCOME_FEATURES) if outcome else (
        FEATURE_NAMES, CANONICAL_FEATURES)
    close = difflib.get_close_matches(str(name).upper(), names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown feature {name!r}{hint}; features: {', '.join(canonical)}"


def _check_rule(rule: SessionRule, loc: Loc, errors: list[tuple[Loc, str]]) -> None:
    if rule.wait and (rule.outcome is not None or rule.timeline is not None):
        errors.append((loc + ("wait",), "a waiting rule leaves the outcome to the hosted page or the admin API: "
                                        "remove outcome and timeline, or wait"))
        return
    if not rule.wait and rule.outcome is None and rule.timeline is None:
        errors.append((loc, "say what happens to matching sessions: an outcome, a timeline, or wait: true"))
        return
    outcome = rule.outcome
    features: dict[str, FeatureSpec] = {}
    if outcome is not None:
        seen: dict[str, str] = {}
        for name, spec in outcome.features.items():
            floc = loc + ("outcome", "features", name)
            canonical = outcome_feature(name)
            if canonical is None:
                errors.append((floc, _unknown_feature(name, outcome=True)))
                continue
            if canonical in seen:
                errors.append((floc, f"{name} is the same feature as {seen[canonical]}"))
            seen[canonical] = name
            features[canonical] = spec
            for k, risk in enumerate(spec.risks):
                problem = risk_problem(canonical, risk, name)
                if problem is not None:
                    errors.append((floc + ("risks", k), problem))
            if spec.expired_document and canonical != "ID_VERIFICATION":
                errors.append((floc + ("expired_document",), "expired_document belongs to ID_VERIFICATION"))
            if spec.hits is not None and canonical != "AML":
                errors.append((floc + ("hits",), "hits belongs to AML"))
            if spec.age is not None and canonical not in ("ID_VERIFICATION", "AGE_ESTIMATION"):
                errors.append((floc + ("age",), "age belongs to ID_VERIFICATION or AGE_ESTIMATION"))
    flagged = {s.status for s in features.values()} & {st.DECLINED, st.IN_REVIEW, st.NOT_FINISHED}
    if outcome is not None and outcome.status == st.APPROVED and flagged:
        errors.append((loc + ("outcome", "status"), "the features decline or review the session, so it cannot "
                                                    "be Approved; remove the status or those feature results"))
    if rule.timeline is not None:
        _check_timeline(rule, features, loc, errors)


def _check_timeline(rule: SessionRule, features: dict[str, FeatureSpec], loc: Loc,
                    errors: list[tuple[Loc, str]]) -> None:
    """Walk the steps through the session state machine, as the engine will fire them."""
    assert rule.timeline is not None
    state, last_after, finished_with = st.NOT_STARTED, 0.0, None
    flagged = {s.status for s in features.values()} & {st.DECLINED, st.IN_REVIEW, st.NOT_FINISHED}
    for j, step in enumerate(rule.timeline):
        sloc = loc + ("timeline", j)
        if step.after < last_after:
            errors.append((sloc + ("after",), f"steps go forward in time: {step.after:g}s is before the previous "
                                              f"step's {last_after:g}s"))
        last_after = max(last_after, step.after)
        target = step.status
        if target == state:
            errors.append((sloc + ("status",), f"the session is already {state} here"))
            continue
        if target == st.IN_PROGRESS:
            ok = state in (st.NOT_STARTED, st.RESUBMITTED)
        elif target == st.EXPIRED:
            ok = state == st.NOT_STARTED
        elif state in (st.NOT_STARTED, st.IN_PROGRESS, st.RESUBMITTED):
            ok = target in _FINISHING
            if ok and finished_with is None:
                finished_with = (j, target)
        else:
            ok = target in _DECIDED_BY_REVIEW and state in st.OVERRIDABLE
            if target == st.RESUBMITTED and state == st.APPROVED:
                ok = False
        if not ok:
            errors.append((sloc + ("status",), _bad_transition(state, target)))
            return
        state = target
    if finished_with is not None and finished_with[1] == st.APPROVED and flagged:
        errors.append((loc + ("timeline", finished_with[0], "status"),
                       "the outcome's features decline or review the session, so it cannot finish Approved; "
                       "let it finish In Review and approve it in a later step"))
    if rule.outcome is not None and finished_with is None:
        errors.append((loc + ("outcome",), "the timeline never finishes the session, so the outcome would not be "
                                           "used: add a step In Review, Approved, Declined or Abandoned"))
        return
    explicit = rule.outcome.status if rule.outcome is not None else None
    if explicit is not None and state != explicit:
        errors.append((loc + ("outcome", "status"), f"the timeline ends {state} but outcome.status is {explicit}"))


def _bad_transition(state: str, target: str) -> str:
    if target == st.IN_PROGRESS:
        return f"a session that is {state} cannot go back to In Progress"
    if target == st.EXPIRED:
        return "only a session that is Not Started can expire"
    if target == st.IN_REVIEW:
        return f"a session that is {state} cannot be put In Review (manual decisions are Approved, Declined, " \
               "Resubmitted)"
    if target == st.RESUBMITTED and state in (st.NOT_STARTED, st.IN_PROGRESS):
        return "only a finished session can be Resubmitted"
    if target == st.RESUBMITTED:
        return "an Approved session has nothing to resubmit; resubmit from In Review or Declined"
    return f"a session that is {state} cannot become {target}"


def _check_fault(fault: Fault, loc: Loc, errors: list[tuple[Loc, str]]) -> None:
    triggers = [k for k in ("first", "every", "calls", "probability") if getattr(fault, k) is not None]
    if len(triggers) > 1:
        errors.append((loc + (triggers[1],), f"choose one of first, every, calls or probability (also {triggers[0]})"))
    if fault.latency is None and fault.status is None and not fault.drop:
        errors.append((loc, "say what the fault does: latency, status or drop"))
    if fault.drop:
        for key in ("status", "body", "headers", "retry_after"):
            if getattr(fault, key) is not None:
                errors.append((loc + (key,), f"a dropped connection has no {key}"))
    elif fault.status is None:
        for key in ("body", "headers", "retry_after"):
            if getattr(fault, key) is not None:
                errors.append((loc + (key,), f"{key} needs a status"))
    if fault.retry_after is not None and fault.status not in (None, 429, 503):
        errors.append((loc + ("retry_after",), "Retry-After goes with status 429 or 503"))
