"""Scenario faults on the wire: a tenant's faults injected into its API calls.

The gateway (`api/gateway.py`) applies them inside the request journal (which records what the
client saw) and before the rate limits (an injected 429 is not counted in the real windows). Only
requests that name a tenant by `x-api-key` are considered, and never `/_mock/*` (the control
surface stays reliable).

* latency: real time (`asyncio.sleep`), before the request goes on or the fault answers;
* a status: the fault's JSON body (or a Didit-like default), with `Retry-After` and the
  `X-RateLimit-*` headers for 429;
* drop: the connection is closed without a response (the client sees "server disconnected").
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from starlette.types import Receive, Send

from .engine import FaultDecision, decide_faults, scenarios_of

if TYPE_CHECKING:
    from ..domain.tenant import Tenant

log = logging.getLogger("didit_mock.scenarios")


def fault_for(tenant: Tenant, method: str, path: str, rate_scope: str | None = None) -> FaultDecision | None:
    """The faults this API call of `tenant` triggers (counted), or None.

    `rate_scope` is the operation's own rate-limit scope, whose text a 429 fault answers.
    """
    if scenarios_of(tenant).covers_nothing:  # most requests: no call into the fault engine
        return None
    decision = decide_faults(tenant, method, path, rate_scope)
    if decision is not None:
        log.info("fault on %s %s: %s", method, path, ", ".join(decision.names))
    return decision


async def apply_fault(decision: FaultDecision, receive: Receive, send: Send) -> bool:
    """Wait the fault's latency, then drop or answer; False when the request should go on."""
    if decision.latency > 0:
        await asyncio.sleep(decision.latency)
    if decision.drop:
        await drop_connection(receive, send)
        return True
    if decision.status is not None:
        await _respond(decision, send)
        return True
    return False


async def _respond(decision: FaultDecision, send: Send) -> None:
    assert decision.status is not None
    body: bytes
    if isinstance(decision.body, str):
        body, content_type = decision.body.encode("utf-8"), "text/plain; charset=utf-8"
    else:
        body = json.dumps(decision.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        content_type = "application/json"
    headers = {"content-type": content_type, **{k.lower(): v for k, v in decision.headers.items()},
               "content-length": str(len(body))}
    await send({"type": "http.response.start", "status": decision.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]})
    await send({"type": "http.response.body", "body": body})


async def drop_connection(receive: Receive, send: Send) -> None:
    """Close the client's connection without a response.

    The request body is read first: closing a socket with unread bytes would reset the connection
    (RST) instead of closing it, and the client would see a different error depending on timing.
    The server's transport is reached through the `send` callables the layers wrap (closures, or
    objects naming the callable they wrap `__wrapped__`; uvicorn's `send` is a method of the
    request cycle, which holds the transport). Closing it makes the
    client see a connection closed before any response. Where no transport can be found (another
    server), a response is started and abandoned, which servers turn into a cut connection.
    """
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    transport = _find_transport(send)
    if transport is not None:
        transport.close()
        for _ in range(3):  # let the server notice the disconnection before the app returns
            await asyncio.sleep(0)
        return
    await send({"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"1")]})


def _find_transport(send: Any, depth: int = 0) -> Any:
    owner = getattr(send, "__self__", None)
    transport = getattr(owner, "transport", None)
    if transport is not None and callable(getattr(transport, "close", None)):
        return transport
    if depth >= 8:
        return None
    wrapped = getattr(send, "__wrapped__", None)  # a callable object wrapping `send`
    if wrapped is not None and wrapped is not send:
        found = _find_transport(wrapped, depth + 1)
        if found is not None:
            return found
    for cell in getattr(send, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if callable(value):
            found = _find_transport(value, depth + 1)
            if found is not None:
                return found
    return None
