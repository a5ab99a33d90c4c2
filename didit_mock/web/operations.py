"""Operations served by handlers: the `@operation` mark, the `Call` a handler gets, the dispatch.

A handler is a function named after the operation it serves::

    @operation("get_v3_sessions")
    async def list_sessions(call: Call) -> Response | dict: ...

It gets a `Call`: the tenant (authenticated by the operation's auth profile from the overlay), the
path parameters, the query and the checked body. Authentication, the request checks (the query
parameters and the body against the spec, plus the handler's `BodyRules` for what a schema cannot
say), error rendering and the success status happen here, once, around every operation.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..domain.errors import DiditError, NotAuthenticated, PermissionDenied
from ..spec.operation import JSON, Operation
from ..spec.overlay import Placement
from .http import PARSED_JSON, json_response, read_json
from .query import query_validator
from .request_head import RequestHead
from .validation import BodyRules, request_validator

if TYPE_CHECKING:
    from ..domain.tenant import Tenant, TenantRegistry
    from ..settings import Settings

#: The attribute `@operation` leaves on a handler.
MARK = "__didit_operation__"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class HandlerSpec:
    """What `@operation` says of a handler."""

    operation_id: str
    #: "spec": the body is checked against the operation's schema; `BodyRules`: against the schema,
    #: then by those rules (what the schema cannot say); None: the handler reads the body itself.
    body: str | BodyRules | None = "spec"
    #: Authenticate only when the handler asks (`call.tenant`): the real API finds the resource
    #: first for these, so an unknown id is a 404 even without a key.
    resolve_first: bool = False
    #: The body is checked when the handler asks (`await call.checked_body()`), once it has found
    #: the resource: the real API answers an unknown session (or one in the wrong state) before a
    #: bad body. Otherwise it is checked before the handler runs and given as `call.body`.
    body_on_demand: bool = False


def operation(
    operation_id: str, *, body: str | BodyRules | None = "spec", resolve_first: bool = False,
    body_on_demand: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a function as the handler of `operation_id`."""

    def mark(function: Callable[..., Any]) -> Callable[..., Any]:
        setattr(function, MARK, HandlerSpec(operation_id, body, resolve_first, body_on_demand))
        return function

    return mark


@dataclass(frozen=True)
class Handler:
    function: Callable[[Call], Any]
    spec: HandlerSpec
    is_async: bool
    #: "rules" (a handler with real behaviour), "store" (the generic resource store) or "shape".
    kind: str = "rules"


def handlers_in(modules: Iterable[ModuleType], kind: str = "rules") -> dict[str, Handler]:
    """Every function marked with `@operation` in `modules`, by operation id."""
    found: dict[str, Handler] = {}
    for module in modules:
        for value in vars(module).values():
            spec = getattr(value, MARK, None)
            if isinstance(spec, HandlerSpec):
                if spec.operation_id in found:
                    raise ValueError(f"two handlers for {spec.operation_id}")
                found[spec.operation_id] = Handler(value, spec, inspect.iscoroutinefunction(value), kind)
    return found


class Call:
    """One request to an operation, as its handler sees it."""

    __slots__ = ("scope", "operation", "placement", "path", "body", "_receive", "_send", "_request", "_tenant",
                 "_registry", "_settings", "_body_rule")

    def __init__(self, scope: Scope, receive: Receive, send: Send, operation: Operation, placement: Placement,
                 path: dict[str, str]):
        self.scope = scope
        self.operation = operation
        self.placement = placement
        self.path = path
        self.body: Any = None
        self._receive = receive
        self._send = send
        self._request: Request | None = None
        self._tenant: Tenant | None = None
        self._body_rule: str | BodyRules | None = None
        app = scope["app"]
        self._registry: TenantRegistry = app.registry
        self._settings: Settings = app.settings

    @property
    def request(self) -> Request:
        """The Starlette request (made when a handler first asks for it)."""
        request = self._request
        if request is None:
            request = self._request = Request(self.scope, self._receive, self._send)
        return request

    @property
    def registry(self) -> TenantRegistry:
        return self._registry

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def query(self) -> QueryParams:
        return self.request.query_params

    @property
    def tenant(self) -> Tenant:
        """The caller's tenant, authenticated by the operation's auth profile (its due jobs run)."""
        tenant = self._tenant
        if tenant is None:
            tenant = self._tenant = authenticate(self.scope, self.placement, self._registry, self._settings)
        return tenant

    async def checked_body(self) -> Any:
        """The body, checked as the handler's `@operation` says (for `body_on_demand` handlers)."""
        return await check_body(self, self._body_rule)

    def peek_tenant(self) -> Tenant | None:
        """The tenant of the request's key if it is accepted, without refusing anything."""
        return RequestHead.of(self.scope).tenant_of_key(self._registry)


def authenticate(scope: Scope, placement: Placement, registry: TenantRegistry, settings: Settings) -> Tenant:
    """The tenant of the request's API key, or the profile's refusal."""
    profile = placement.auth
    head = RequestHead.of(scope)
    tenant = head.key_tenant if head.key_resolved else None
    if tenant is None:
        if not head.api_key:
            raise _refusal(*profile.missing)
        tenant = head.tenant_of_key(registry)
        if tenant is None:
            refused = profile.refused
            if profile.docs_mode_refused is not None and settings.auth_mode == "docs":
                refused = profile.docs_mode_refused
            raise _refusal(*refused)
    tenant.tick()
    return tenant


def _refusal(status: int, body: dict[str, Any]) -> DiditError:
    if status == 401:
        error: DiditError = NotAuthenticated()
        error.body = dict(body)
        return error
    denied = PermissionDenied()
    denied.body = dict(body)
    denied.status_code = status
    return denied


async def check_body(call: Call, rule: str | BodyRules | None) -> Any:
    """The request body, checked as `rule` says (see `HandlerSpec.body`)."""
    scope = call.scope
    if rule is None or scope["method"] not in BODY_METHODS:
        return None
    operation = call.operation
    schemas = operation.request_schemas
    if not schemas:
        return None
    # The gateway has parsed a JSON body already; any other is read here.
    document = scope[PARSED_JSON] if PARSED_JSON in scope else await read_json(call.request)
    # One schema serves every media type; the request's is read only when there is a choice.
    media_type = JSON if len(schemas) == 1 else RequestHead.of(scope).media_type or JSON
    validator = request_validator(operation, media_type, rule if isinstance(rule, BodyRules) else None)
    return document if validator is None else validator(document)


async def run(call: Call, handler: Handler) -> Response:
    """The handler's answer: its `Response`, or its document as JSON with the success status."""
    if not handler.spec.resolve_first and call.placement.auth.credential == "x-api-key":
        call.tenant  # noqa: B018 - authenticate before anything else, as the real API does
    if call.scope["query_string"]:
        check_query = query_validator(call.operation)
        if check_query is not None:
            check_query(call.request.query_params)
    if handler.spec.body_on_demand:
        call._body_rule = handler.spec.body
    else:
        call.body = await check_body(call, handler.spec.body)
    result = handler.function(call)
    if handler.is_async:
        result = await result  # type: ignore[misc]
    if isinstance(result, Response):
        return result
    return json_response(result, call.operation.success_status)


Runner = Callable[[Call, Handler], Awaitable[Response]]
