"""The scenario engine: applies loaded scenarios to the registry and its tenants.

Everything goes through the domain functions the other edges use: keys are registered with
`TenantRegistry.register_key`, sessions move with `start_session` / `finish_session` /
`update_status` / `set_status` (so their webhooks fire), OTP behaviour is the OTP engine's
per-tenant `OtpConfig`, webhook faults the webhook book's `faults` dict.

Which scenarios apply to a tenant: the server's (from files) that cover its key, and its own
(`PUT /_mock/scenarios`). The tenant's own comes first when rules are matched and is applied last
when settings are pushed, so it wins both ways. What a scenario pushes into a tenant (workflows,
strict workflows, OTP entries, webhook faults) is undone exactly when the set is replaced; tenant
settings (credits, seed, clock, environment, webhook URL) are applied when one of their values changes
(a reload that edits something else leaves the tenant's clock and balance alone) and are not undone.
"""

from __future__ import annotations

import fnmatch
import logging
import math
import random
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain import ratelimit, webhooks
from ..domain import sessions as sessions_domain
from ..domain import statuses as st
from ..domain.clock import parse_iso
from ..domain.errors import DiditError
from ..domain.otp.config import otp_config
from ..domain.outcomes import plan_outcome, sandbox_scenario
from ..domain.rng import TenantRandom, derive_seed
from ..domain.sessions import Session
from ..domain.tenant import Tenant, TenantConfig, TenantRegistry
from ..domain.workflows import BUILTIN_WORKFLOWS, KYB_OUTCOME_FEATURES, Workflow
from .loader import TENANT, LoadedScenario, Problem, load_paths_or_raise

if TYPE_CHECKING:  # the models load with the first scenario (the gateway's fault step imports this module)
    from .schema import Fault, Outcome, SessionMatch, SessionRule, Step, TenantSettings, TenantSpec

log = logging.getLogger("didit_mock.scenarios")

_MISSING = object()


# ---------------------------------------------------------------- undoable changes

class _Undo:
    """Changes made to a tenant's state, each with the step that takes it back."""

    def __init__(self) -> None:
        self._steps: list[Callable[[], None]] = []

    def set_attr(self, owner: Any, name: str, value: Any) -> None:
        old = getattr(owner, name)
        setattr(owner, name, value)
        self._steps.append(lambda: setattr(owner, name, old))

    def set_item(self, mapping_of: Callable[[], dict[Any, Any]], key: Any, value: Any) -> None:
        """Set `key` of the dict `mapping_of()` (looked up again on undo: it may have been replaced)."""
        mapping = mapping_of()
        old = mapping.get(key, _MISSING)
        mapping[key] = value

        def undo() -> None:
            current = mapping_of()
            if old is _MISSING:
                current.pop(key, None)
            else:
                current[key] = old

        self._steps.append(undo)

    def add_item(self, list_of: Callable[[], list[Any]], value: Any) -> None:
        items = list_of()
        if value in items:
            return
        items.append(value)

        def undo() -> None:
            current = list_of()
            if value in current:
                current.remove(value)

        self._steps.append(undo)

    def rollback(self) -> None:
        while self._steps:
            self._steps.pop()()


# ---------------------------------------------------------------- per-tenant state

@dataclass
class FaultCounter:
    """How often a fault matched a call and fired, and on which calls."""

    calls: int = 0
    fired: int = 0
    indices: list[int] = field(default_factory=list)


class TenantScenarios:
    """A tenant's scenarios (its component): the server's that cover it, its own, and their effects."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.server: list[LoadedScenario] = []
        self.own: LoadedScenario | None = None
        self.counters: dict[tuple[str, int], FaultCounter] = {}
        #: session_id -> "scenario name / rule" that took it
        self.session_rules: dict[str, str] = {}
        self._undo = _Undo()
        #: (scope, scenario name, "tenants" | "tenant") -> the settings last applied from that block
        self._settings_applied: dict[tuple[str, str, str], dict[str, Any]] = {}

    @property
    def covers_nothing(self) -> bool:
        """No scenario, the server's or the tenant's own, covers the tenant (most tenants)."""
        return not self.server and self.own is None

    @property
    def active(self) -> list[LoadedScenario]:
        """In matching order: the tenant's own scenario first, then the server's in load order."""
        return ([self.own] if self.own is not None else []) + self.server

    def refresh(self) -> None:
        """Undo what the previous set pushed into the tenant and push the current set (under its lock)."""
        with self.tenant.lock:
            self._undo.rollback()
            for loaded in [*self.server, *([self.own] if self.own else [])]:
                self._apply_settings(loaded)
                self._push(loaded)
            live = {item.fingerprint for item in self.active}
            self.counters = {k: v for k, v in self.counters.items() if k[0] in live}

    # ------------------------------------------------ settings (a value is applied when it changes)

    def _apply_settings(self, loaded: LoadedScenario) -> None:
        from .schema import TenantSettings

        scenario = loaded.scenario
        blocks: list[tuple[str, TenantSettings]] = [
            ("tenants", spec) for spec in scenario.tenants if spec.api_key == self.tenant.api_key]
        if scenario.tenant is not None:
            blocks.append(("tenant", scenario.tenant))
        for kind, block in blocks:
            slot = (loaded.scope, loaded.name, kind)
            values = block.model_dump(exclude_none=True, exclude={"api_key", "application_id"})
            before = self._settings_applied.get(slot, {})
            changed = {k: v for k, v in values.items() if before.get(k) != v}
            self._settings_applied[slot] = values
            if changed:
                apply_settings(self.tenant, TenantSettings.model_validate(changed))

    def forget_own_settings(self) -> None:
        """The next refresh applies every setting of the tenant's own scenario (a new PUT)."""
        self._settings_applied = {k: v for k, v in self._settings_applied.items() if k[0] != TENANT}

    # ------------------------------------------------ pushed state (undone on replacement)

    def _push(self, loaded: LoadedScenario) -> None:
        tenant, undo, scenario = self.tenant, self._undo, loaded.scenario
        if scenario.strict_workflows is not None:
            undo.set_attr(tenant.config, "strict_workflows", scenario.strict_workflows)
        book = sessions_domain.workflows(tenant)
        for spec in scenario.workflows:
            undo.set_item(lambda: book.custom, spec.id, _workflow(spec))
        config = otp_config(tenant)
        for phone in scenario.phone:
            prefix = phone.prefix
            if phone.code is not None:
                undo.set_item(lambda: config.phone_codes, prefix, phone.code)
            if phone.send_status is not None:
                undo.set_item(lambda: config.phone_send_status, prefix,
                              {"status": phone.send_status, "reason": phone.reason})
            carrier: dict[str, str | None] = {}
            if phone.carrier is not None:
                carrier["name"] = phone.carrier
            line_type = phone.line_type or ("voip" if phone.voip else None)
            if line_type is not None:
                carrier["type"] = line_type
            if carrier:
                undo.set_item(lambda: config.carriers, prefix, carrier)
            if phone.disposable:
                undo.add_item(lambda: config.disposable_numbers, prefix)
            if phone.high_risk:
                undo.add_item(lambda: config.high_risk_prefixes, prefix)
            if phone.blocklisted:
                undo.add_item(lambda: config.blocked_numbers, prefix)
        for email in scenario.email:
            pattern = email.match
            if email.code is not None:
                undo.set_item(lambda: config.email_codes, pattern, email.code)
            if email.send_status is not None:
                undo.set_item(lambda: config.email_send_status, pattern, {"status": email.send_status, "reason": None})
            if email.disposable:
                undo.add_item(lambda: config.disposable_emails, pattern)
            if email.breached:
                undo.add_item(lambda: config.breached_emails, pattern)
            if email.blocklisted:
                undo.add_item(lambda: config.blocked_emails, pattern)
        if scenario.webhooks is not None:
            hooks = webhooks.book(tenant)
            for key, value in scenario.webhooks.active().items():
                undo.set_item(lambda: hooks.faults, key, value)

    # ------------------------------------------------ session rules

    def rule_for(self, session: Session) -> tuple[LoadedScenario, int, SessionRule] | None:
        """The first rule (own scenario first) whose conditions the new session meets."""
        for loaded in self.active:
            for index, rule in enumerate(loaded.scenario.sessions):
                if session_matches(rule.match, session):
                    return loaded, index, rule
        return None

    # ------------------------------------------------ view

    def view(self) -> dict[str, Any]:
        faults = []
        for loaded in self.active:
            for index, fault in enumerate(loaded.scenario.faults):
                counter = self.counters.get((loaded.fingerprint, index), FaultCounter())
                faults.append({"scenario": loaded.name, "index": index, "name": fault.name, "calls": counter.calls,
                               "fired": counter.fired, "fired_on_calls": list(counter.indices)})
        return {
            "api_key": self.tenant.api_key,
            "own": self.own.view() if self.own is not None else None,
            "active": [item.name for item in self.active],
            "faults": faults,
            "sessions": dict(self.session_rules),
        }


def scenarios_of(tenant: Tenant) -> TenantScenarios:
    """The tenant's scenario state."""
    return tenant.component(TenantScenarios)


def apply_settings(tenant: Tenant, settings: TenantSettings) -> None:
    """Set a tenant's environment, credits, seed, clock, webhook and compat switches in place."""
    if settings.environment is not None:
        tenant.environment = settings.environment
        tenant.config.environment = settings.environment
    if settings.credits is not None:
        tenant.config.credits = settings.credits
    if settings.seed is not None and tenant.seed != settings.seed:
        tenant.seed = settings.seed
        tenant.config.seed = settings.seed
        tenant.rng = TenantRandom(settings.seed)
    if settings.clock_start is not None:
        tenant.clock.set(parse_iso(settings.clock_start))
    if settings.clock_frozen:
        tenant.clock.freeze()
    if settings.webhook is not None:
        webhooks.book(tenant).configure(settings.webhook.url, settings.webhook.secret, settings.webhook.version)
    if settings.transaction_id_reuse is not None:
        tenant.config.extra["compat.transaction_id_reuse"] = settings.transaction_id_reuse


def _workflow(spec: Any) -> Workflow:
    from .schema import canonical_feature

    base = next(w for w in BUILTIN_WORKFLOWS.values() if w.label == spec.template)
    features = tuple(dict.fromkeys(canonical_feature(f) or f for f in spec.features)) if spec.features \
        else base.features
    return Workflow(
        workflow_id=spec.id,
        label=spec.label or spec.template,
        template=base.template,
        features=features,
        expiration_seconds=int(spec.expiration) if spec.expiration is not None else base.expiration_seconds,
        requires_portrait=base.requires_portrait,
        builtin=False,
        callback_url=spec.callback_url,
    )


# ---------------------------------------------------------------- matching sessions

def session_matches(match: SessionMatch, session: Session) -> bool:
    """Whether every condition of `match` holds for the session."""
    if match.vendor_data is not None and not match.vendor_data.matches(session.vendor_data):
        return False
    workflow = session.workflow
    if match.workflow is not None and not any(
            match.workflow.matches(v) for v in (workflow.workflow_id, workflow.label, workflow.template)):
        return False
    for wanted, actual in ((match.expected_details, session.expected_details), (match.metadata, session.metadata)):
        for key, pattern in (wanted or {}).items():
            if not pattern.matches(_lookup(actual, key)):
                return False
    return True


def _lookup(data: Any, dotted: str) -> Any:
    if isinstance(data, dict) and dotted in data:
        return data[dotted]
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


# ---------------------------------------------------------------- outcomes and timelines

def outcome_features(outcome: Outcome | None) -> dict[str, dict[str, Any]]:
    """A scenario outcome in `finish_session`'s format: {"FEATURE": {"status", "risks", "data"}}."""
    if outcome is None:
        return {}
    from .schema import outcome_feature

    result: dict[str, dict[str, Any]] = {}
    preset = sandbox_scenario(outcome.preset) if outcome.preset else None
    if preset is not None and preset.feature is not None and preset.risk is not None:
        result[preset.feature] = {"status": preset.status, "risks": [preset.risk], "data": dict(preset.data)}
    for name, spec in outcome.features.items():
        feature = outcome_feature(name) or name
        data = dict(spec.data)
        if spec.score is not None:
            data["score"] = spec.score
        if spec.hits is not None:
            data["total_hits"] = spec.hits
        if spec.age is not None:  # a document's age is whole years, an estimate has decimals
            data["age"] = int(spec.age) if feature == "ID_VERIFICATION" else spec.age
        if spec.expired_document:
            data["expired_document"] = True
        result[feature] = {"status": spec.status, "risks": list(spec.risks), "data": data}
    return result


def _steps_of(session: Session, features: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The choices that apply to the session: a KYB step only when its workflow runs it."""
    kyb = session.workflow.kyb_features
    return {name: choice for name, choice in features.items() if name not in KYB_OUTCOME_FEATURES or name in kyb}


def outcome_status(outcome: Outcome | None) -> str | None:
    if outcome is None:
        return None
    if outcome.status is not None:
        return outcome.status
    preset = sandbox_scenario(outcome.preset) if outcome.preset else None
    return preset.status if preset is not None else None


def _in_review(features: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The features as a session In Review shows them: what would decline waits for a reviewer."""
    return {name: {**choice, "status": st.IN_REVIEW} if choice["status"] == st.DECLINED else choice
            for name, choice in features.items()}


class _Run:
    """One session's timeline under one rule: fires its steps through the domain functions."""

    def __init__(self, tenant: Tenant, session: Session, rule: SessionRule, label: str):
        self.tenant = tenant
        self.session = session
        self.rule = rule
        self.label = label
        self.features = _steps_of(session, outcome_features(rule.outcome))
        self.status = outcome_status(rule.outcome)
        self.outcome_applied = False
        #: the status the timeline left the session in; anyone else moving it stops the timeline
        self.expected: str | None = session.status

    def schedule(self) -> None:
        steps: Sequence[Step | None] = self.rule.timeline or [None]
        for step in steps:
            after = step.after if step is not None else 0.0
            self.tenant.scheduler.at(self.session.created_at + after, lambda step=step: self.fire(step))

    def fire(self, step: Step | None) -> None:
        """Reach the step's status, unless a test, a person or the service moved the session meanwhile."""
        session = self.session
        if session.deleted or self.expected is None:
            return
        if session.status != self.expected:
            log.info("scenario %s: session %s was moved to %s outside the timeline, which stops", self.label,
                     session.session_id, session.status)
            self.expected = None
            return
        target = step.status if step is not None else None
        try:
            self._fire(target, step.comment if step is not None else None)
            self.expected = session.status
        except DiditError as exc:
            log.info("scenario %s: step %s skipped for session %s: %s", self.label, target, session.session_id,
                     exc.body)
            self.expected = session.status
        except Exception:  # a scheduled job must never break the request that ticks the clock
            log.exception("scenario %s: step %s failed for session %s", self.label, target, session.session_id)

    def _fire(self, target: str | None, comment: str | None) -> None:
        tenant, session, current = self.tenant, self.session, self.session.status
        if target == st.IN_PROGRESS:
            sessions_domain.start_session(tenant, session)
        elif target == st.EXPIRED:
            if current == st.NOT_STARTED:
                sessions_domain.set_status(tenant, session, st.EXPIRED)
        elif current in (st.NOT_STARTED, st.IN_PROGRESS, st.RESUBMITTED) and (target is None or target in st.OUTCOMES):
            if self.outcome_applied:  # finishing again after a resubmission: the user fixed what failed
                sessions_domain.finish_session(tenant, session, target)
                return
            self.outcome_applied = True
            status = target or self.status
            features = _in_review(self.features) if status == st.IN_REVIEW else self.features
            sessions_domain.finish_session(tenant, session, status, features or None)
        elif target in (st.APPROVED, st.DECLINED, st.RESUBMITTED) and current in st.OVERRIDABLE \
                and current != target:
            if target != st.RESUBMITTED and self.features:
                natural, outcomes = plan_outcome(tenant, session, self.status, self.features)
                if natural == target:  # the reviewer confirms the findings: show them as found
                    session.outcomes = outcomes
            sessions_domain.update_status(tenant, session, target, comment)


def on_session_created(tenant: Tenant, session: Session) -> None:
    """CREATE hook: the first matching rule takes the session (and schedules its timeline)."""
    state = scenarios_of(tenant)
    if state.covers_nothing:
        return
    found = state.rule_for(session)
    if found is None:
        return
    loaded, index, rule = found
    label = f"{loaded.name} / {rule.name or f'sessions[{index}]'}"
    state.session_rules[session.session_id] = label
    if not rule.wait:
        _Run(tenant, session, rule, label).schedule()


def install_session_hook(registry: TenantRegistry) -> None:
    """Attach scenario rules' timelines to the new sessions of `registry`'s tenants, and let the
    `standalone:` rules choose the outcomes of standalone calls, and the transaction and wallet rules
    the verdicts of transaction monitoring."""
    registry.wiring.add(registry.wiring.session_created, on_session_created)
    registry.wiring.add(registry.wiring.standalone_rules, standalone_directive)
    registry.wiring.add(registry.wiring.transaction_outcomes, transaction_outcome)
    registry.wiring.add(registry.wiring.wallet_profiles, wallet_profile)


def standalone_directive(tenant: Tenant, endpoint: str, vendor_data: str | None) -> Any:
    """The outcome the first matching `standalone:` rule (own scenario first) gives this call, or None."""
    state = scenarios_of(tenant)
    if state.covers_nothing:
        return None
    from ..domain.standalone.armed import Directive

    for loaded in state.active:
        for rule in loaded.scenario.standalone:
            if rule.endpoint != endpoint:
                continue
            if rule.vendor_data is not None and not rule.vendor_data.matches(vendor_data):
                continue
            return Directive(rule.status, tuple(rule.risks), rule.scenario, vendor_data)
    return None


def transaction_outcome(tenant: Tenant, transaction: dict[str, Any]) -> dict[str, Any] | None:
    """The verdict of the first scenario transaction rule whose fields all match."""
    state = scenarios_of(tenant)
    if state.covers_nothing:
        return None
    from ..domain.transactions.rules import MISSING, facts, lookup

    data = {**facts(transaction), "amount": transaction.get("amount")}
    for loaded in state.active:
        for rule in loaded.scenario.transactions:
            found = {name: lookup(data, name) for name in rule.match}
            if all(found[name] is not MISSING and pattern.matches(found[name])
                   for name, pattern in rule.match.items()):
                return {"status": rule.status, "score": rule.score, "reason_code": rule.reason_code,
                        "reason_label": rule.reason_label,
                        "rule": f"{loaded.name} / {rule.name or 'transactions'}"}
    return None


def wallet_profile(tenant: Tenant, address: str, chain: str) -> dict[str, Any] | None:
    """The screening profile of the first scenario wallet rule matching the address (and chain)."""
    state = scenarios_of(tenant)
    if state.covers_nothing:
        return None
    from ..domain.transactions.wallets import chosen_profile

    for loaded in state.active:
        for rule in loaded.scenario.wallets:
            if fnmatch.fnmatchcase(address.lower(), rule.match.lower()) and \
                    (rule.chain is None or rule.chain.upper() == chain):
                return chosen_profile(address, chain, rule.risk_score, rule.category, rule.sanctions_hit)
    return None


# ---------------------------------------------------------------- faults

@dataclass
class FaultDecision:
    """What the gateway's fault step does to one request."""

    latency: float = 0.0
    drop: bool = False
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)


def fault_applies(fault: Fault, method: str, path: str) -> bool:
    if fault.method is not None and method.upper() not in fault.method:
        return False
    return fnmatch.fnmatchcase(path, fault.path)


def fault_triggered(fault: Fault, call: int, seed: int, scenario: str, index: int) -> bool:
    """Whether the `call`-th matching call (1-based) is hit; probabilities come from the seed."""
    if fault.first is not None:
        return call <= fault.first
    if fault.every is not None:
        return call % fault.every == 0
    if fault.calls is not None:
        return call in fault.calls
    if fault.probability is not None:
        return random.Random(derive_seed(seed, "fault", scenario, index, call)).random() < fault.probability
    return True


def decide_faults(tenant: Tenant, method: str, path: str, rate_scope: str | None = None) -> FaultDecision | None:
    """Count the request against every matching fault of the tenant; the faults it triggers, or None."""
    state = scenarios_of(tenant)
    if state.covers_nothing:
        return None
    decision: FaultDecision | None = None
    with tenant.lock:
        for loaded in state.active:
            for index, fault in enumerate(loaded.scenario.faults):
                if not fault_applies(fault, method, path):
                    continue
                counter = state.counters.setdefault((loaded.fingerprint, index), FaultCounter())
                counter.calls += 1
                if fault.times is not None and counter.fired >= fault.times:
                    continue
                if not fault_triggered(fault, counter.calls, tenant.seed, loaded.name, index):
                    continue
                counter.fired += 1
                counter.indices.append(counter.calls)
                decision = decision or FaultDecision()
                decision.names.append(fault.name or f"{loaded.name} / faults[{index}]")
                decision.latency += fault.latency or 0.0
                if decision.drop or decision.status is not None:
                    continue
                if fault.drop:
                    decision.drop = True
                elif fault.status is not None:
                    decision.status = fault.status
                    decision.body, decision.headers = _fault_response(tenant, fault, method, rate_scope)
    return decision


_DEFAULT_DETAILS = {
    500: "A server error occurred.",
    502: "Bad gateway.",
    503: "Service temporarily unavailable, try again later.",
    504: "Gateway timeout.",
}


def _fault_response(tenant: Tenant, fault: Fault, method: str, rate_scope: str | None) -> tuple[Any, dict[str, str]]:
    status = fault.status
    assert status is not None
    headers: dict[str, str] = {}
    body = fault.body
    if status == 429:
        retry_after = fault.retry_after or 1
        scopes = ratelimit.scopes_for(method, rate_scope, sandbox=False,
                                      decision_limit=tenant.config.decision_rate_limit) \
            or [ratelimit.GENERIC_GET if method.upper() in ("GET", "HEAD") else ratelimit.GENERIC_WRITE]
        limit = ratelimit.limiter(tenant).limit(scopes[0])
        headers = {
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(math.ceil(tenant.clock.timestamp() + retry_after)),
        }
        if body is None:
            body = {"detail": ratelimit.SCOPES[scopes[0]].message.format(limit=limit, retry_after=retry_after)}
    elif fault.retry_after is not None:
        headers["Retry-After"] = str(fault.retry_after)
    if body is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        body = {"detail": _DEFAULT_DETAILS.get(status, f"{phrase}.")}
    headers.update(fault.headers or {})
    return body, headers


# ---------------------------------------------------------------- the engine

class ScenarioEngine:
    """The server's scenarios: the file set (replaced atomically on reload) and each tenant's own."""

    def __init__(self, registry: TenantRegistry, fixed_keys: Iterable[str] = ()):
        self.registry = registry
        self.fixed_keys = set(fixed_keys)
        self.paths: list[str] = []
        self.scenarios: list[LoadedScenario] = []
        self.errors: list[Problem] = []
        self.generation = 0
        self.failed_reloads = 0
        self._keys: dict[str, tuple[str, str | None]] = {}
        self._lock = threading.RLock()
        install_session_hook(registry)
        registry.on_create.append(self._on_create)
        for tenant in registry.tenants():
            self._on_create(tenant)

    # ------------------------------------------------ files

    def load(self, paths: Sequence[str | Path]) -> None:
        """Load the files and folders `paths` (raises `ScenarioInvalid`, changing nothing)."""
        loaded = load_paths_or_raise(paths)
        self.paths = [str(p) for p in paths]
        self.replace(loaded)

    def replace(self, loaded: list[LoadedScenario]) -> None:
        """Make `loaded` the server's scenario set, for every tenant at once."""
        with self._lock:
            self.scenarios = list(loaded)
            self.errors = []
            self.generation += 1
            self._sync_keys()
            for tenant in self.registry.tenants():
                self._refresh(tenant)
        log.info("scenarios: generation %d, %d scenario(s) loaded", self.generation, len(loaded))

    def reload_failed(self, problems: Sequence[Problem]) -> None:
        """A reload found problems: keep the last good set, remember (and log) why."""
        with self._lock:
            self.errors = list(problems)
            self.failed_reloads += 1
        for problem in problems:
            log.error("scenario reload refused, keeping the last good set: %s", problem)

    def _sync_keys(self) -> None:
        """Register the declared API keys; forget keys no file declares any more."""
        wanted: dict[str, TenantSpec] = {}
        for item in self.scenarios:
            for spec in item.scenario.tenants:
                wanted.setdefault(spec.api_key, spec)
        for key, spec in wanted.items():
            fingerprint = spec.model_dump_json()
            previous = self._keys.get(key)
            if previous is not None and previous[0] == fingerprint:
                continue
            config = self._config(spec)
            self._keys[key] = (fingerprint, spec.application_id)
            if previous is None or previous[1] != spec.application_id:
                self.registry.register_key(key, config)  # a new tenant with these settings
            else:
                self.registry.key_configs[key] = config  # settings change in place on refresh
        for key in [k for k in self._keys if k not in wanted]:
            del self._keys[key]
            self.registry.key_configs.pop(key, None)
            if key not in self.fixed_keys:
                self.registry.allowed_keys.discard(key)
            self.registry.reset(key)

    def _config(self, spec: TenantSpec) -> TenantConfig:
        defaults = self.registry.defaults
        config = TenantConfig(**{**defaults.__dict__, "extra": dict(defaults.extra)})
        if spec.environment is not None:
            config.environment = spec.environment
        if spec.application_id is not None:
            config.application_id = spec.application_id
        if spec.credits is not None:
            config.credits = spec.credits
        if spec.seed is not None:
            config.seed = spec.seed
        if spec.clock_start is not None:
            config.clock_start = parse_iso(spec.clock_start).timestamp()
        if spec.clock_frozen is not None:
            config.clock_frozen = spec.clock_frozen
        if spec.webhook is not None:
            config.webhook_url = spec.webhook.url
            config.webhook_secret = spec.webhook.secret
        return config

    # ------------------------------------------------ tenants

    def _on_create(self, tenant: Tenant) -> None:
        self._refresh(tenant)

    def _refresh(self, tenant: Tenant) -> None:
        state = scenarios_of(tenant)
        state.server = [item for item in self.scenarios if item.covers(tenant.api_key)]
        state.refresh()

    def set_own(self, tenant: Tenant, loaded: LoadedScenario) -> None:
        """Replace the tenant's own scenario (`PUT /_mock/scenarios`); its settings apply anew."""
        state = scenarios_of(tenant)
        with tenant.lock:
            state.forget_own_settings()
            state.own = loaded
            state.refresh()

    def drop_own(self, tenant: Tenant) -> bool:
        state = scenarios_of(tenant)
        with tenant.lock:
            had = state.own is not None
            state.own = None
            state.refresh()
        return had

    # ------------------------------------------------ view

    def view(self, tenant: Tenant | None = None) -> dict[str, Any]:
        """`GET /_mock/scenarios`: the server's set, its reload state, and the caller's own."""
        with self._lock:
            body: dict[str, Any] = {
                "generation": self.generation,
                "paths": list(self.paths),
                "scenarios": [item.view() for item in self.scenarios],
                "errors": [str(p) for p in self.errors],
                "problems": [p.as_dict() for p in self.errors],
                "failed_reloads": self.failed_reloads,
            }
        if tenant is not None:
            with tenant.lock:
                body["tenant"] = scenarios_of(tenant).view()
        return body
