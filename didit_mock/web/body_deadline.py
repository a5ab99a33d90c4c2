"""The body-read timeout: a request that declares a body and stops sending it gets a 408.

Without it, a client that sends headers with `Content-Length: 100` and no body holds its
connection (and the handler waiting for the body) for as long as it likes. The gateway wraps
`receive` with `timed`: each wait for the next piece of the body may last `Settings.body_timeout`
seconds, then the request is answered `408 {"detail": "..."}` and its connection closed.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Coroutine, Generator
from typing import Any

from starlette.types import Message, Receive

from ..domain.errors import DiditError
from .limits import BODY_METHODS
from .request_head import RequestHead


class BodyTimeout(DiditError):
    """408: the body stopped arriving for `seconds`."""

    status_code = 408

    def __init__(self, seconds: float):
        super().__init__(
            {"detail": f"Request timeout: no part of the request body arrived for {seconds:g} seconds."},
            headers={"Connection": "close"},
        )


def timed(receive: Receive, head: RequestHead, method: str, seconds: float) -> Receive:
    """`receive`, raising `BodyTimeout` when a piece of the body takes longer than `seconds`.

    Requests that declare no body (a GET without `Content-Length`, or `Content-Length: 0`) and a
    `seconds` of 0 keep `receive` as it is. Once the body is complete, `receive` is passed through
    untimed (a wait for the disconnect may last as long as the response does).
    """
    declared = head.content_length
    if not seconds or declared == "0" or not (declared or method in BODY_METHODS):
        return receive
    complete = False

    async def timed_receive() -> Message:
        nonlocal complete
        if complete:
            return await receive()
        message = await next_message(receive, seconds)
        if message["type"] != "http.request" or not message.get("more_body", False):
            complete = True
        return message

    return timed_receive


async def next_message(receive: Receive, seconds: float) -> Message:
    """`receive()`, raising `BodyTimeout` when it waits longer than `seconds` (0: no limit)."""
    waiting = receive()
    try:  # the first step: a body the server already holds is returned without waiting
        pending = waiting.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    if not seconds:
        return await _resumed(waiting, pending)
    try:  # the body is still on its way: wait for it, at most `seconds`
        async with asyncio.timeout(seconds):
            return await _resumed(waiting, pending)
    except TimeoutError:
        raise BodyTimeout(seconds) from None


@types.coroutine
def _resumed(waiting: Coroutine[Any, Any, Message], pending: Any) -> Generator[Any, Any, Message]:
    """Await the rest of `waiting`, a coroutine already stepped once that yielded `pending`.

    This is what `await` does for a coroutine (`yield from`), starting from a step taken outside
    it: what the event loop sends or throws in (a cancellation, the timeout's) goes on to `waiting`.
    Arming the timeout only here spares its timer for the common request whose body came with it.
    """
    while True:
        try:
            sent = yield pending
        except BaseException as thrown:  # noqa: BLE001 - cancellations and timeouts go on to `waiting`
            try:
                pending = waiting.throw(thrown)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
        else:
            try:
                pending = waiting.send(sent)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
