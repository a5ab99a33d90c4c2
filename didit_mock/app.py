"""`create_app(settings)`: the Starlette application with every route family and the ticker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp

from .api import (
    admin,
    admin_otp,
    blocklist,
    dashboard,
    feature_status,
    hosted,
    openapi,
    scenarios,
    session_lifecycle,
    sessions,
    state,
    system,
    verifications,
    webhooks,
)
from .api.endpoints import use_lean_endpoints
from .api.gateway import Gateway
from .api.router import DiditRouter
from .domain.tenant import TenantConfig, TenantRegistry
from .settings import Settings

log = logging.getLogger("didit_mock")

#: Route families, in matching order (the hottest first: requests are matched route by route).
#: Each module exposes `routes` and may expose
#: `install(app)` to wire itself (tenant hooks, background workers) into a new app.
ROUTE_MODULES: list[Any] = [
    sessions,
    verifications,
    system,
    session_lifecycle,
    feature_status,
    admin,
    webhooks,
    hosted,
    blocklist,
    admin_otp,
    openapi,
    scenarios,
    dashboard,
    state,
]


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
    )


def build_registry(settings: Settings) -> TenantRegistry:
    return TenantRegistry(
        global_seed=settings.seed, allowed_keys=set(settings.api_keys), defaults=tenant_defaults(settings),
        max_tenants=settings.max_tenants,
    )


class DiditApp(Starlette):
    """Starlette without its exception and server-error layers.

    The stack is the user middleware (the gateway, which also answers unexpected errors with a
    500) around the router (`DiditRouter`, which renders what routes raise).

    `settings` and `registry` are plain attributes, not `app.state` entries: the handlers read
    them on every request (`api.auth.registry_of`), and `State.__getattr__` is seven times slower.
    """

    settings: Settings
    registry: TenantRegistry

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = self.router.middleware_stack  # the router's own stack: `DiditRouter.app`
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app


def create_app(settings: Settings | None = None, registry: TenantRegistry | None = None) -> DiditApp:
    """The didit-mock ASGI application for `settings` (defaults from the environment)."""
    settings = settings or Settings.from_env()
    registry = registry or build_registry(settings)

    routes: list[Route] = []
    for module in ROUTE_MODULES:
        routes.extend(module.routes)
    use_lean_endpoints(routes)

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

    app = DiditApp(routes=routes, lifespan=lifespan)
    app.router = DiditRouter(routes=routes, redirect_slashes=False, lifespan=lifespan)
    # One layer for the admin gate, journal, faults, rate limits and body rules (see api/gateway.py).
    app.add_middleware(Gateway, settings=settings, registry=registry)
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
