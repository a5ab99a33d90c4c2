"""The gateway: every rule that applies to a request before routing, in one pass over it.

One pure-ASGI layer, the outermost of the app, reads the headers once and applies, outermost
first:

0. the server-error answer: an unexpected exception is logged and answered with Didit's JSON 500
   on a connection that stays usable (raised on to the server, which cuts the connection, only
   when a response had already started);
1. the admin guard on `/_mock` paths (`admin_guard`): allowed Host names, no cross-site
   requests, and the admin token (`admin.refusal`), throttled after wrong tokens;
2. the request journal of the tenant the request names (`journal.journal_for`), which
   records what the client saw, including every refusal below;
3. the tenant's scenario faults (`scenario.faults`): latency, a status, a dropped connection;
4. the rate limits (`domain.ratelimit`), so a refused request reaches no handler;
5. the body rules (`limits`): size, media type, JSON sanity; the parsed document is handed on;
   a body that stops arriving for `Settings.body_timeout` seconds is a 408 (`body_deadline`);
6. the complete `Allow` header on 405s.

A request for an operation of the API then goes straight to its handler (`ApiRoute.serve`), since
the operation is already found; anything else goes on to the app's exception layer and router.

One layer instead of a stack of six keeps the cost of these rules to one header scan, one
wrapper around `send` and one body read per request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..admin import token as admin
from ..admin.guard import AdminGuard
from ..domain import ratelimit
from ..domain.errors import DiditError
from ..domain.tenant import TenantLimitReached, TenantRegistry
from ..journal import journal_for, kept, tenant_of_request
from ..scenario.faults import apply_fault, fault_for
from ..settings import Settings
from ..spec.overlay import FREE_FORM_FIELDS
from . import body_deadline, limits
from .api_route import found_for
from .errors import error_response, server_error
from .request_head import HEAD, RequestHead

if TYPE_CHECKING:
    from .api_route import ApiRoute

#: Operations under these paths count against the rate limits (the healthcheck and the auth API do not).
LIMITED_PREFIXES = ("/v1/", "/v2/", "/v3/")


class Watched:
    """`send` as the gateway hands it on: completing `Allow` on 405s, and keeping the response's
    start, its first bytes and its size for the journal.

    A call returns `send`'s awaitable: awaited like `send`, without a coroutine of its own for
    each message. The `send` it wraps is its `__wrapped__`.
    """

    __slots__ = ("__wrapped__", "_scope", "start", "head", "size")

    def __init__(self, send: Send, scope: Scope):
        self.__wrapped__ = send  # the `send` it wraps, as `functools.wraps` names it
        self._scope = scope
        self.start: Message | None = None
        self.head = b""
        self.size = 0

    def __call__(self, message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            if message["status"] == 405:
                message = limits.with_allow_header(self._scope, message)
            self.start = message
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            self.head = kept(self.head, chunk) if self.size else chunk
            self.size += len(chunk)
        return self.__wrapped__(message)


class Gateway:
    """Admin gate, journal, faults, rate limits, body rules and `Allow` headers (see the module doc)."""

    def __init__(self, app: ASGIApp, settings: Settings, registry: TenantRegistry, api: ApiRoute):
        self.app = app
        self.settings = settings
        self.registry = registry
        self.api = api
        self.guard = AdminGuard(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan (the server runs without websockets)
            await self.app(scope, receive, send)
            return
        head = RequestHead.of(scope)
        scope[HEAD] = head
        path: str = scope["path"]
        on_admin = admin.is_admin_path(path)
        if on_admin:
            refusal = self.guard.refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        try:
            tenant = tenant_of_request(self.registry, head, path)
        except TenantLimitReached as full:  # a new key while every kept tenant is in use
            await error_response(full)(scope, receive, send)
            return
        if tenant is not None and scope["method"] not in ("GET", "HEAD"):
            tenant.dirty = True  # for the state file: this request may change the tenant
        journal = journal_for(tenant, path, self.settings.journal_size)
        if journal is not None:
            timestamp = tenant.clock.timestamp()  # type: ignore[union-attr]
            began = time.perf_counter()
        # What the journal records of the answer: taken whole from an operation's response, or
        # watched message by message (`Watched`) for the other answers.
        response_start: Message | None = None
        response_head = b""
        response_size = 0
        watched: Watched | None = None

        # Faults and rate limits apply to the API calls of a key, not to session-token or admin calls.
        api_tenant = tenant if head.api_key and not on_admin else None
        method: str = scope["method"]
        seconds = self.settings.body_timeout  # a body that stops arriving for this long: 408
        try:
            try:
                found = found_for(self.api.table, scope) if not on_admin else None
                operation = None if found is None else found.operation(method)
                placement = None if operation is None else self.api.placements[operation.operation_id]
                if api_tenant is not None:
                    rate_scope = None if placement is None else placement.rate
                    decision = fault_for(api_tenant, method, path, rate_scope)
                    if decision is not None:
                        watched = Watched(send, scope)
                        if await apply_fault(decision, body_deadline.timed(receive, head, method, seconds), watched):
                            return
                        watched = None  # a delay only: the request goes on
                    if operation is not None and path.startswith(LIMITED_PREFIXES):
                        ratelimit.admit(api_tenant, method, rate_scope)  # RateLimited: 429
                limit = self.settings.max_body_bytes
                limits.refuse_declared_size(head, limit)
                if method in limits.BODY_METHODS and path.startswith(limits.CHECKED_PREFIXES):
                    # The gateway reads the body itself; it is handed on whole (`replay`).
                    first = await body_deadline.next_message(receive, seconds)
                    body = limits.single_body(first, limit)
                    if body is None:
                        body = await limits.read_body(body_deadline.timed(receive, head, method, seconds), limit,
                                                      first)
                    if journal is not None:
                        head.body_read(body)
                    if on_admin:
                        self.guard.check_body(scope, head, body)  # 415: a body any web page can send
                    api = path.startswith(limits.API_PREFIXES)
                    if limits.is_form(head, body, api=api):
                        scope, body = await limits.form_as_json(scope, head, body)
                    else:
                        free_form = placement.free_form if placement is not None else FREE_FORM_FIELDS
                        scope, body = limits.checked(scope, head, body, api=api, free_form=free_form)
                    receive = limits.replay(body, receive)
                elif head.content_length not in ("", "0") or method in limits.BODY_METHODS:
                    receive = limits.counting(body_deadline.timed(receive, head, method, seconds), limit,
                                              head.body_read if journal is not None else None)
                # else: a GET or HEAD without a declared body; their handlers never read one
            except DiditError as refused:
                watched = Watched(send, scope)
                await error_response(refused)(scope, receive, watched)
                return
            if operation is None:
                watched = Watched(send, scope)
                await self.app(scope, receive, watched)
            else:  # an operation of the API: straight to its handler, past the router
                path_values = found.values  # type: ignore[union-attr]
                response = await self.api.answer(
                    scope, receive, send, operation, placement,  # type: ignore[arg-type]
                    dict(zip(operation.path_names, path_values, strict=True)) if path_values else {})
                body = getattr(response, "body", None)
                if body is None:  # a body sent in parts: the journal copies it as it goes
                    watched = Watched(send, scope)
                    await response(scope, receive, watched)
                else:  # the journal takes the answer as it is, without watching each message
                    response_start = {"status": response.status_code, "headers": response.raw_headers}
                    response_head, response_size = body, len(body)
                    await response(scope, receive, send)
        except Exception as exc:
            if response_start is not None or (watched is not None and watched.start is not None):
                raise  # too late for a 500: the server cuts the connection
            watched = Watched(send, scope)
            await server_error(scope, exc)(scope, receive, watched)
        finally:
            if journal is not None:
                if watched is not None and watched.start is not None:
                    response_start, response_head, response_size = watched.start, watched.head, watched.size
                journal.record(scope, response_start, time.perf_counter() - began, timestamp, head.content_type,
                               head.body_head, head.body_size, response_head, response_size)
