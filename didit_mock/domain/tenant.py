"""Tenants: all state of one API key, and the registry that maps keys (and tokens) to tenants."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from .clock import Clock, WallClock, _system_time
from .events import EventBus
from .rng import TenantRandom, derive_seed
from .scheduler import Scheduler

Environment = Literal["sandbox", "live"]
T = TypeVar("T")

LIVE_KEY_PREFIX = "sk_live_"


def environment_for_key(api_key: str) -> Environment:
    """Keys prefixed `sk_live_` belong to a live application, anything else to a sandbox one."""
    return "live" if api_key.startswith(LIVE_KEY_PREFIX) else "sandbox"


@dataclass
class TenantConfig:
    """Per-tenant settings; the registry's defaults apply unless a scenario or the admin API overrides."""

    strict_workflows: bool = False
    environment: Environment | None = None
    application_id: str | None = None
    credits: float | None = None
    seed: int | None = None
    clock_start: float | None = None
    clock_frozen: bool = False
    webhook_url: str | None = None
    webhook_secret: str | None = None
    public_base_url: str = "http://127.0.0.1:8790"
    decision_rate_limit: int = 600
    rate_limits_enabled: bool = True
    rate_limit_scale: float = 1.0
    delete_returns_204: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Tenant:
    """Everything one API key owns: clock, randomness, scheduler, event bus and feature state.

    Feature modules keep their state in components: `tenant.component(OtpBook)` creates an
    `OtpBook(tenant)` the first time it is asked for and returns the same one afterwards.
    Mutations happen under `tenant.lock`, so parallel requests cannot break an invariant.
    """

    def __init__(self, api_key: str, registry: TenantRegistry, config: TenantConfig, global_seed: int):
        self.api_key = api_key
        self.registry = registry
        self.config = config
        self.environment: Environment = config.environment or environment_for_key(api_key)
        seed = config.seed if config.seed is not None else derive_seed(global_seed, api_key)
        self.seed = seed
        self.rng = TenantRandom(seed)
        self.application_id = config.application_id or self.rng.uuid4()
        self.clock = Clock(registry.wall, start=config.clock_start, frozen=config.clock_frozen)
        self.scheduler = Scheduler(self.clock)
        self.events = EventBus()
        self.lock = threading.RLock()
        self._components: dict[type, Any] = {}

    @property
    def is_sandbox(self) -> bool:
        return self.environment == "sandbox"

    def component(self, kind: Callable[[Tenant], T]) -> T:
        """The tenant's single instance of a feature's state class, created on first use."""
        existing = self._components.get(kind)  # type: ignore[arg-type]
        if existing is None:
            existing = kind(self)
            self._components[kind] = existing  # type: ignore[index]
        return existing

    def tick(self) -> int:
        """Run every scheduled job whose time has come on this tenant's clock.

        The look at the queue's head is taken without the lock (most ticks find nothing due): a
        job that falls due meanwhile runs at the next tick, as it would have had the tick come first.
        """
        if not self.scheduler.has_due():
            return 0
        with self.lock:
            return self.scheduler.run_due()


TenantHook = Callable[[Tenant], None]


#: Refused keys a registry remembers (each is reported once; a flood of random keys stops at this).
MAX_REFUSED_KEYS = 1000


class TenantRegistry:
    """Maps API keys to tenants; when keys are registered only those are accepted."""

    def __init__(
        self,
        global_seed: int = 0,
        allowed_keys: set[str] | None = None,
        defaults: TenantConfig | None = None,
        wall: WallClock = _system_time,
    ):
        self.global_seed = global_seed
        self.allowed_keys: set[str] = set(allowed_keys or ())
        self.defaults = defaults or TenantConfig()
        self.key_configs: dict[str, TenantConfig] = {}
        self.wall = wall
        self._tenants: dict[str, Tenant] = {}
        self._by_application: dict[str, Tenant] = {}
        self._by_token: dict[str, Tenant] = {}
        self._lock = threading.RLock()
        self.on_create: list[TenantHook] = []
        #: Keys refused so far (at most `MAX_REFUSED_KEYS`), so that each is reported once.
        self.refused_keys: set[str] = set()

    def accepts(self, api_key: str) -> bool:
        if not api_key:
            return False
        return not self.allowed_keys or api_key in self.allowed_keys

    def note_refused(self, api_key: str) -> bool:
        """Remember a refused key; True the first time it is seen (to report it once)."""
        if api_key in self.refused_keys or len(self.refused_keys) >= MAX_REFUSED_KEYS:
            return False
        self.refused_keys.add(api_key)
        return True

    def get(self, api_key: str) -> Tenant | None:
        """The tenant of an accepted key (created on first use), or None for a refused key."""
        tenant = self._tenants.get(api_key)
        if tenant is not None:
            return tenant
        if not self.accepts(api_key):
            return None
        with self._lock:
            tenant = self._tenants.get(api_key)
            if tenant is None:
                tenant = self._create(api_key)
        return tenant

    def register_key(self, api_key: str, config: TenantConfig | None = None) -> Tenant:
        """Accept only registered keys from now on; `config` overrides the defaults for this key."""
        with self._lock:
            self.allowed_keys.add(api_key)
            if config is not None:
                self.key_configs[api_key] = config
                self._tenants.pop(api_key, None)
        tenant = self.get(api_key)
        assert tenant is not None
        return tenant

    def _create(self, api_key: str) -> Tenant:
        config = self.key_configs.get(api_key)
        if config is None:
            config = TenantConfig(**{**self.defaults.__dict__, "extra": dict(self.defaults.extra)})
        tenant = Tenant(api_key, self, config, self.global_seed)
        self._tenants[api_key] = tenant
        self._by_application[tenant.application_id] = tenant
        for hook in self.on_create:
            hook(tenant)
        return tenant

    def reset(self, api_key: str) -> Tenant | None:
        """Forget everything the tenant of `api_key` holds; the next use starts afresh."""
        with self._lock:
            old = self._tenants.pop(api_key, None)
            if old is not None:
                self._forget(old)
        return self.get(api_key)

    def reset_all(self) -> None:
        with self._lock:
            self._tenants.clear()
            self._by_application.clear()
            self._by_token.clear()

    def _forget(self, tenant: Tenant) -> None:
        self._by_application.pop(tenant.application_id, None)
        for token in [t for t, owner in self._by_token.items() if owner is tenant]:
            del self._by_token[token]

    def install(self, tenants: list[Tenant], tokens: dict[str, Tenant] | None = None) -> None:
        """Put fully built tenants (a state import) in place of their keys' tenants, all at once.

        No `on_create` hook runs: the builder ran them. `tokens` are the hosted-session tokens to index.
        """
        with self._lock:
            for tenant in tenants:
                old = self._tenants.pop(tenant.api_key, None)
                if old is not None:
                    self._forget(old)
            for tenant in tenants:
                self._tenants[tenant.api_key] = tenant
                self._by_application[tenant.application_id] = tenant
                if self.allowed_keys:
                    self.allowed_keys.add(tenant.api_key)
            self._by_token.update(tokens or {})

    def tenants(self) -> list[Tenant]:
        return list(self._tenants.values())

    def by_application(self, application_id: str) -> Tenant | None:
        return self._by_application.get(application_id)

    def index_token(self, token: str, tenant: Tenant) -> None:
        """Remember which tenant owns a hosted-session token (tokens are global, like URLs)."""
        self._by_token[token] = tenant

    def by_token(self, token: str) -> Tenant | None:
        return self._by_token.get(token)
