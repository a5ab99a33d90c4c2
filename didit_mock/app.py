"""`create_app(settings)`: the Starlette application with every route family and the ticker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from . import webhook_delivery
from .admin import scenarios, state
from .domain.tenant import Tenant, TenantConfig, TenantRegistry
from .handlers.handler_table import OPERATIONS as RULE_OPERATIONS
from .handlers.index import MODULES as HANDLER_MODULES
from .resources.families import COLLECTIONS
from .settings import Settings
from .web.api import NotFound, build_api
from .web.api_route import ApiRoute
from .web.errors import EXCEPTION_HANDLERS
from .web.gateway import Gateway
from .web.lazy_routes import LazyRoutes

log = logging.getLogger("didit_mock")

#: Modules (under `didit_mock.handlers`) of handlers with real rules, marked `@operation(operation_id)`;
#: each is imported on the first call of one of its operations.
RULE_MODULES: tuple[str, ...] = HANDLER_MODULES
#: The other routes (admin API, dashboard, downloads): modules under `didit_mock` exposing `routes`,
#: each imported on the first request whose path starts with one of its prefixes (`web.lazy_routes`).
#: The modules wiring an app are loaded at once.
ROUTE_MODULES: tuple[tuple[str, tuple[str, ...]] | tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("hosted.page", ("/favicon.ico", "/session/"), ("/session/",)),  # also /{language}/session/{token}
    ("admin.routes", ("/_mock/clock", "/_mock/ratelimits", "/_mock/requests", "/_mock/reset", "/_mock/sessions",
                      "/_mock/tenant")),
    ("admin.auth", ("/_mock/auth/",)),
    ("admin.webhooks", ("/_mock/webhook",)),
    ("admin.otp", ("/_mock/email/", "/_mock/otp/", "/_mock/phone/")),
    ("admin.openapi", ("/_mock/openapi.json",)),
    ("admin.dashboard", ("/_mock/ui",)),
    ("admin.dashboard_account", ("/_mock/ui/t/",)),
    ("admin.billing", ("/_mock/billing",)),
    ("admin.standalone", ("/_mock/fixtures/", "/_mock/kyb/", "/_mock/standalone/")),
    ("admin.transactions", ("/_mock/transactions/", "/_mock/travel-rule/")),
    ("admin.imports", ("/_mock/imports/",)),
    ("downloads", ("/files/",)),
)
#: Modules whose routes load with the app, and `install(app)` what wires each into a new app (tenant
#: hooks, state sections, background workers), in this order.
EAGER_ROUTE_MODULES: tuple[Any, ...] = (scenarios, state)
INSTALLS: tuple[Any, ...] = (webhook_delivery.install, scenarios.install, state.install)


def tenant_defaults(settings: Settings) -> TenantConfig:
    return TenantConfig(
        strict_workflows=settings.strict_workflows,
        clock_frozen=settings.freeze_clock,
        webhook_url=settings.webhook_url,
        webhook_secret=settings.webhook_secret,
        public_base_url=settings.base_url,
        decision_rate_limit=settings.decision_rate_limit,
        rate_limits_enabled=settings.rate_limits,
        rate_limit_scale=settings.rate_limit_scale,
        delete_returns_204=settings.delete_returns_204,
        extra={"compat": list(settings.compat)} if settings.compat else {},
    )


def build_registry(settings: Settings) -> TenantRegistry:
    return TenantRegistry(
        global_seed=settings.seed, allowed_keys=set(settings.api_keys), defaults=tenant_defaults(settings),
        max_tenants=settings.max_tenants,
    )


class DiditApp(Starlette):
    """The Starlette app of one server.

    `settings` and `registry` are plain attributes, not `app.state` entries: the handlers read
    them on every request, and `State.__getattr__` is seven times slower.
    """

    settings: Settings
    registry: TenantRegistry
    api: ApiRoute
    gateway: Gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An HTTP request enters at the gateway, which answers the errors of its handling itself (`web.gateway`).

        Inside it, what is not an operation of the API goes through Starlette's exception layer and
        router; Starlette's own stack serves the lifespan.
        """
        if scope["type"] == "http":
            scope["app"] = self
            await self.gateway(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, registry: TenantRegistry | None = None) -> DiditApp:
    """The didit-mock ASGI application for `settings` (defaults from the environment)."""
    settings = settings or Settings.from_env()
    registry = registry or build_registry(settings)

    lazy_rules = {operation_id: module for operation_id, module in RULE_OPERATIONS.items() if module in RULE_MODULES}
    api = build_api((), COLLECTIONS, validate_responses=settings.validate_responses, lazy_rules=lazy_rules)
    routes: list[BaseRoute] = [api]
    for module in EAGER_ROUTE_MODULES:
        routes.extend(module.routes)
    routes.extend(LazyRoutes(f"{__package__}.{entry[0]}", *entry[1:]) for entry in ROUTE_MODULES)

    @contextlib.asynccontextmanager
    async def lifespan(app: DiditApp) -> AsyncIterator[None]:
        ticker = asyncio.create_task(_tick_forever(app))
        for start in app.state.on_startup:
            await start()
        try:
            yield
        finally:
            ticker.cancel()
            for stop in reversed(app.state.on_shutdown):
                await stop()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    app = DiditApp(routes=routes, lifespan=lifespan, exception_handlers=dict(EXCEPTION_HANDLERS))
    app.router.redirect_slashes = False
    app.router.default = NotFound(app.router.routes)
    app.api = api
    # One outer layer for the admin gate, journal, faults, rate limits and body rules (see web/gateway.py).
    app.gateway = Gateway(ExceptionMiddleware(app.router, handlers=dict(EXCEPTION_HANDLERS)),
                          settings=settings, registry=registry, api=api)
    app.settings = settings
    app.registry = registry
    app.state.on_startup = []
    app.state.on_shutdown = []
    app.state.dashboard_secret = secrets.token_bytes(32)  # behind the dashboard forms' CSRF tokens
    registry.wiring.transaction_submitter = _submit_transaction
    for install in INSTALLS:
        install(app)
    return app


async def _tick_forever(app: DiditApp) -> None:
    """Fire due jobs of every tenant, so transitions happen even when no request arrives."""
    settings = app.settings
    registry = app.registry
    while True:
        await asyncio.sleep(settings.tick_interval)
        for tenant in registry.tenants():
            try:
                tenant.tick()
            except Exception:  # a failing job must not stop the ticker
                log.exception("scheduled job failed for a tenant")


def _submit_transaction(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    """How another family (a Travel Rule deposit between two applications) submits a transaction:
    monitored with the receiving application's own rules."""
    from .handlers.transactions import submit_transaction  # the handlers load on first use

    return submit_transaction(tenant, body)[0]
