"""Which tenant a request speaks for, and the auth errors the real API answers."""

from __future__ import annotations

from starlette.requests import Request

from ..domain.errors import (
    CREDENTIALS_INVALID,
    INVALID_API_KEY,
    PERMISSION_DENIED,
    NotAuthenticated,
    PermissionDenied,
)
from ..domain.tenant import Tenant, TenantRegistry
from ..settings import Settings
from .request_head import RequestHead


def registry_of(request: Request) -> TenantRegistry:
    return request.app.registry  # type: ignore[no-any-return]


def settings_of(request: Request) -> Settings:
    return request.app.settings  # type: ignore[no-any-return]


def authenticate(request: Request, *, unauthorized_401: bool = False) -> Tenant:
    """The tenant of the request's `x-api-key`, with its due jobs run.

    Missing key: 403 "You do not have permission..." (401 for routes such as share that answer
    401). Refused key: 401 "Invalid API Key." by default, or 403 in the spec's auth mode.
    """
    head = RequestHead.of(request.scope)
    tenant = head.key_tenant  # set when the gateway has looked up an accepted key
    if tenant is not None:
        tenant.tick()
        return tenant
    api_key = head.api_key
    if unauthorized_401 and not api_key:
        raise NotAuthenticated(CREDENTIALS_INVALID)
    if not api_key:
        raise PermissionDenied(PERMISSION_DENIED)
    tenant = head.tenant_of_key(registry_of(request))
    if tenant is None:
        if unauthorized_401:
            raise NotAuthenticated(CREDENTIALS_INVALID)
        if settings_of(request).auth_mode == "spec":
            raise PermissionDenied(PERMISSION_DENIED)
        raise NotAuthenticated(INVALID_API_KEY)
    tenant.tick()
    return tenant


def peek_tenant(request: Request) -> Tenant | None:
    """The tenant named by the request's key, if accepted, without raising."""
    return RequestHead.of(request.scope).tenant_of_key(registry_of(request))
