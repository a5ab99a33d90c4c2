"""`create_app(settings)`: the Starlette application with every route family and the ticker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from . import downloads
from .admin import auth as admin_auth
from .admin import billing as admin_billing
from .admin import dashboard, dashboard_account, openapi, scenarios, state
from .admin import otp as admin_otp
from .admin import routes as admin
from .admin import standalone as admin_standalone
from .admin import transactions as admin_transactions
from .admin import webhooks as admin_webhooks
from .domain.tenant import TenantConfig, TenantRegistry
from .handlers.handler_table import OPERATIONS as RULE_OPERATIONS
from .handlers.index import MODULES as HANDLER_MODULES
from .hosted import page as hosted
from .resources.families import COLLECTIONS
from .settings import Settings
from .web.api import NotFound, build_api
from .web.api_route import ApiRoute
from .web.errors import EXCEPTION_HANDLERS
from .web.gateway import Gateway

log = logging.getLogger("didit_mock")

#: Modules (under `didit_mock.handlers`) of handlers with real rules, marked `@operation(operation_id)`;
#: each is imported on the first call of one of its operations.
RULE_MODULES: tuple[str, ...] = HANDLER_MODULES
#: Modules of the other routes (admin API, hosted page, dashboard); each exposes `routes` and may
#: expose `install(app)` to wire itself (tenant hooks, background workers) into a new app.
ROUTE_MODULES: tuple[Any, ...] = (
    admin,
    admin_webhooks,
    hosted,
    admin_otp,
    openapi,
    scenarios,
    dashboard,
    dashboard_account,
    admin_auth,
    admin_billing,
    state,
    admin_standalone,
    admin_transactions,
    downloads,
)


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


def create_app(settings: Settings | None = None, registry: TenantRegistry | None = None) -> DiditApp:
    """The didit-mock ASGI application for `settings` (defaults from the environment)."""
    settings = settings or Settings.from_env()
    registry = registry or build_registry(settings)

    lazy_rules = {operation_id: module for operation_id, module in RULE_OPERATIONS.items() if module in RULE_MODULES}
    api = build_api((), COLLECTIONS, validate_responses=settings.validate_responses, lazy_rules=lazy_rules)
    routes: list[BaseRoute] = [api]
    for module in ROUTE_MODULES:
        routes.extend(getattr(module, "routes", ()))

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
    # One layer for the admin gate, journal, faults, rate limits and body rules (see api/gateway.py).
    app.add_middleware(Gateway, settings=settings, registry=registry, api=api)
    app.settings = settings
    app.registry = registry
    app.state.on_startup = []
    app.state.on_shutdown = []
    for module in ROUTE_MODULES:
        install = getattr(module, "install", None)
        if install is not None:
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
