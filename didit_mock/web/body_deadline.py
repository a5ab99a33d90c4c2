"""The body-read timeout: a request that declares a body and stops sending it gets a 408.

Without it, a client that sends headers with `Content-Length: 100` and no body holds its
connection (and the handler waiting for the body) for as long as it likes. The gateway wraps
`receive` with `timed`: each wait for the next piece of the body may last `Settings.body_timeout`
seconds, then the request is answered `408 {"detail": "..."}` and its connection closed.
"""

from __future__ import annotations

import asyncio

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
        try:
            async with asyncio.timeout(seconds):
                message = await receive()
        except TimeoutError:
            raise BodyTimeout(seconds) from None
        if message["type"] != "http.request" or not message.get("more_body", False):
            complete = True
        return message

    return timed_receive
