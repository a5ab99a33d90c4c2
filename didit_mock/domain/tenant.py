"""Tenants: all state of one API key, and the registry that maps keys (and tokens) to tenants."""

from __future__ import annotations

import math
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .clock import Clock, WallClock, _system_time
from .errors import DiditError
from .events import EventBus
from .rng import TenantRandom, derive_seed
from .scheduler import Scheduler

if TYPE_CHECKING:
    from .wiring import Wiring

Environment = Literal["sandbox", "live"]
T = TypeVar("T")

LIVE_KEY_PREFIX = "sk_live_"
#: Default cap on tenants kept at once (`Settings.max_tenants`).
MAX_TENANTS = 10_000
#: A tenant unused for this many seconds (wall time) is idle: it may be dropped to make room.
IDLE_AFTER_SECONDS = 60.0


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
        #: When a request last named the tenant (wall time; the registry drops idle tenants first).
        self.last_used = registry.wall()
        self._components: dict[type, Any] = {}
        #: Changed since the state file last wrote it (set by writes and by jobs that ran).
        self.dirty = True

    @property
    def organization_id(self) -> str:
        """The application's organization: derived from the application id (no random draw)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"didit-mock:organization:{self.application_id}"))

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
            ran = self.scheduler.run_due()
            if ran:
                self.dirty = True
            return ran


TenantHook = Callable[[Tenant], None]


class TenantLimitReached(DiditError):
    """503: a new key while the registry holds `max_tenants` tenants and none of them is idle."""

    status_code = 503

    def __init__(self, max_tenants: int, idle_after: float, retry_after: float):
        super().__init__(
            {"detail": f"This server keeps at most {max_tenants} tenants (--max-tenants) and every one was used "
                       f"in the last {idle_after:g} seconds, so none can make room for a new API key. Try again "
                       "later, or reset the tenants you no longer need (POST /_mock/reset)."},
            headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
        )


#: Refused keys a registry remembers (each is reported once; a flood of random keys stops at this).
MAX_REFUSED_KEYS = 1000


class TenantRegistry:
    """Maps API keys to tenants; when keys are registered only those are accepted.

    With `max_tenants`, a new key past the cap first drops the least recently used tenant, if it
    has been idle for `idle_after` seconds (wall time); otherwise the new key is refused
    (`TenantLimitReached`). Imports (`install`) are not capped.
    """

    def __init__(
        self,
        global_seed: int = 0,
        allowed_keys: set[str] | None = None,
        defaults: TenantConfig | None = None,
        wall: WallClock = _system_time,
        wiring: Wiring | None = None,
        max_tenants: int = MAX_TENANTS,
        idle_after: float = IDLE_AFTER_SECONDS,
    ):
        self.global_seed = global_seed
        self.allowed_keys: set[str] = set(allowed_keys or ())
        self.defaults = defaults or TenantConfig()
        self.key_configs: dict[str, TenantConfig] = {}
        self.wall = wall
        self.max_tenants = max_tenants
        self.idle_after = idle_after
        self._tenants: dict[str, Tenant] = {}
        #: The keys of `_tenants`, least recently used first.
        self._recency: OrderedDict[str, None] = OrderedDict()
        self._by_application: dict[str, Tenant] = {}
        self._by_token: dict[str, Tenant] = {}
        self._lock = threading.RLock()
        self.on_create: list[TenantHook] = []
        if wiring is None:
            from .wiring import domain_wiring

            wiring = domain_wiring()
        #: This registry's cross-family hooks and policies (see `domain.wiring`).
        self.wiring: Wiring = wiring
        from .persistence import domain_sections

        #: How each stateful component is exported and imported, by name (`domain.state.StateSection`s):
        #: the domain's own, then those the app that owns this registry registers.
        self.state_sections: dict[str, Any] = domain_sections()
        #: Keys refused so far (at most `MAX_REFUSED_KEYS`), so that each is reported once.
        self.refused_keys: set[str] = set()
        #: State kept outside any tenant (the Auth API's accounts), one instance per kind.
        self._services: dict[type, Any] = {}

    def service(self, kind: Callable[[TenantRegistry], T]) -> T:
        """The registry's single instance of a state class kept outside any tenant, made on first use."""
        with self._lock:
            existing = self._services.get(kind)  # type: ignore[arg-type]
            if existing is None:
                existing = kind(self)
                self._services[kind] = existing  # type: ignore[index]
            return existing  # type: ignore[no-any-return]

    def provision(self, api_key: str, config: TenantConfig) -> Tenant:
        """A new tenant for a new key (a programmatic sign-up), accepted at once, keeping `config`."""
        with self._lock:
            self.key_configs[api_key] = config
            if self.allowed_keys:
                self.allowed_keys.add(api_key)
        tenant = self.get(api_key)
        assert tenant is not None
        return tenant

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
            self._touch(tenant)
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
                old = self._tenants.pop(api_key, None)
                if old is not None:
                    self._forget(old)
        tenant = self.get(api_key)
        assert tenant is not None
        return tenant

    def _create(self, api_key: str) -> Tenant:
        config = self.key_configs.get(api_key)
        if config is None:
            config = TenantConfig(**{**self.defaults.__dict__, "extra": dict(self.defaults.extra)})
        if self.max_tenants and len(self._tenants) >= self.max_tenants:
            self._make_room()
        tenant = Tenant(api_key, self, config, self.global_seed)
        self._tenants[api_key] = tenant
        self._recency[api_key] = None
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
            self._recency.clear()
            self._by_application.clear()
            self._by_token.clear()
            self._services.clear()

    def _touch(self, tenant: Tenant) -> None:
        """Mark `tenant` as just used: the last to be dropped for room."""
        tenant.last_used = self.wall()
        try:  # noqa: SIM105 (every request passes here: no context manager)
            self._recency.move_to_end(tenant.api_key)
        except KeyError:  # reset meanwhile
            pass

    def _make_room(self) -> None:
        """Drop least recently used tenants, while idle, until one more fits (call holding `_lock`)."""
        while len(self._tenants) >= self.max_tenants and self._recency:
            key = next(iter(self._recency))
            oldest = self._tenants.get(key)
            if oldest is None:  # a key without a tenant: nothing to drop
                del self._recency[key]
                continue
            unused_for = self.wall() - oldest.last_used
            if unused_for < self.idle_after:
                raise TenantLimitReached(self.max_tenants, self.idle_after, self.idle_after - unused_for)
            del self._tenants[key]
            self._forget(oldest)

    def _forget(self, tenant: Tenant) -> None:
        self._recency.pop(tenant.api_key, None)
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
                self._recency[tenant.api_key] = None
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
        tenant = self._by_token.get(token)
        if tenant is not None:
            self._touch(tenant)
        return tenant
