"""The webhook sender: the edge that POSTs signed deliveries to the app, in the background.

One `WebhookSender` per app, started and stopped by the app lifespan. Domain code signals a
chain (target, session) whenever a delivery may be ready (a new event, a finished attempt, a
retry falling due on the tenant clock); the signal is thread-safe and never blocks, so a request
never waits for the receiver. A worker takes each signalled chain's ready delivery from the
tenant's `WebhookBook`, signs it there at send time, posts it with httpx (5 s timeout) and records
the outcome there. Every recorded attempt wakes the waiters of `GET /_mock/webhooks/wait`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .domain import webhooks
from .domain.tenant import Tenant
from .domain.webhooks import Attempt, ChainKey, Delivery, SendOutcome, SignedRequest

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("didit_mock.webhooks")

DEFAULT_TIMEOUT = 5.0
MAX_CONCURRENT_REQUESTS = 64


class WebhookSender:
    """Background delivery of every tenant's webhooks over HTTP."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, max_concurrency: int = MAX_CONCURRENT_REQUESTS):
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[Tenant, ChainKey]] | None = None
        self._client: httpx.AsyncClient | None = None  # created on the first send (lazy httpx import)
        self._worker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._early: list[tuple[Tenant, ChainKey]] = []
        self._changed: asyncio.Condition | None = None
        self._slots: asyncio.Semaphore | None = None

    # ------------------------------------------------ wiring

    def attach(self, tenant: Tenant) -> None:
        """Subscribe a tenant's webhook book to its events and route its signals here."""
        book = webhooks.book(tenant)
        book.notifier = lambda key: self.signal(tenant, key)
        if not book.subscribed:
            tenant.events.subscribe(book.on_event)
            book.subscribed = True

    def signal(self, tenant: Tenant, key: ChainKey) -> None:
        """Chain `key` of `tenant` may have a delivery ready (callable from any thread)."""
        loop, queue = self._loop, self._queue
        if loop is None or queue is None or loop.is_closed():
            self._early.append((tenant, key))
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            queue.put_nowait((tenant, key))
        else:
            loop.call_soon_threadsafe(queue.put_nowait, (tenant, key))

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._changed = asyncio.Condition()
        self._slots = asyncio.Semaphore(self.max_concurrency)
        self._worker = asyncio.create_task(self._run(), name="didit-mock-webhooks")
        early, self._early = self._early, []
        for item in early:
            self._queue.put_nowait(item)

    async def stop(self) -> None:
        tasks = [t for t in (self._worker, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            await self._client.aclose()
        self._worker, self._client, self._loop, self._queue = None, None, None, None
        self._tasks.clear()

    # ------------------------------------------------ the worker

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            tenant, key = await self._queue.get()
            task = asyncio.create_task(self._attempt(tenant, key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _attempt(self, tenant: Tenant, key: ChainKey) -> None:
        book = webhooks.book(tenant)
        with tenant.lock:
            delivery = book.take(key)
            if delivery is None:
                return
            try:
                request = book.sign(delivery)
            except Exception as exc:  # an unsignable payload must not block its chain
                book.abandon(delivery, repr(exc))
                return
            duplicate = bool(book.faults.get("duplicate"))
        again: SignedRequest | None = None
        try:
            outcome = await self.post(request)
            if duplicate and outcome.success:
                # The same bytes once more, before the chain moves on to the session's next event.
                again = SignedRequest(request.url, request.body, request.headers, request.timestamp, "duplicate")
                repeated = await self.post(again)
        except BaseException:
            with tenant.lock:
                book.release(key)
            raise
        with tenant.lock:
            book.record(delivery, request, outcome)
            if again is not None:
                book.record_extra(delivery, again, repeated)
        await self._notify()

    async def post(self, request: SignedRequest) -> SendOutcome:
        """POST one signed request; network failures become an outcome without a status."""
        import httpx  # on first use: importing it costs start-up time

        assert self._slots is not None
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False)
        async with self._slots:
            started = time.monotonic()
            try:
                response = await self._client.post(request.url, content=request.body, headers=request.headers)
            except httpx.TimeoutException as exc:
                return SendOutcome(None, None, _elapsed(started), f"timeout: {type(exc).__name__}")
            except httpx.ConnectError as exc:
                return SendOutcome(None, None, _elapsed(started), _connect_error(exc, request.url))
            except httpx.HTTPError as exc:
                return SendOutcome(None, None, _elapsed(started), f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # e.g. a URL httpx refuses: logged as a failed attempt
                return SendOutcome(None, None, _elapsed(started), f"{type(exc).__name__}: {exc}")
            body = response.text[: webhooks.MAX_RESPONSE_BODY]
            return SendOutcome(response.status_code, body, _elapsed(started), None)

    # ------------------------------------------------ replay and waiting

    async def replay(self, tenant: Tenant, delivery: Delivery) -> Attempt:
        """Send a delivery again now (fresh timestamp and signatures, same event_id); no retries."""
        book = webhooks.book(tenant)
        with tenant.lock:
            request = book.sign(delivery, "replay")
        outcome = await self.post(request)
        with tenant.lock:
            attempt = book.record_extra(delivery, request, outcome)
        await self._notify()
        return attempt

    async def wait_for(self, tenant: Tenant, found: Callable[[], Attempt | None], timeout: float) -> Attempt | None:
        """Wait (woken by every recorded attempt) until `found()` returns an attempt, or time out."""
        assert self._changed is not None
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                with tenant.lock:
                    result = found()
                if result is not None:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

    async def _notify(self) -> None:
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()


def _connect_error(exc: BaseException, url: str) -> str:
    """`ConnectError: connection refused to 127.0.0.1:9` (or the reason a connection failed)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
            return f"ConnectError: connection refused to {where}"
        if isinstance(cause, OSError) and "Name or service not known" in str(cause):
            return f"ConnectError: cannot resolve {parts.hostname}"
        cause = cause.__cause__ or cause.__context__
    return f"ConnectError: cannot connect to {where} ({exc})"


def _elapsed(started: float) -> int:
    return int(round((time.monotonic() - started) * 1000))


def install(app: Any) -> None:
    """Create the app's sender, run it in the lifespan, and attach every tenant (present and future)."""
    sender = WebhookSender()
    app.state.webhook_sender = sender
    app.state.on_startup.append(sender.start)
    app.state.on_shutdown.append(sender.stop)
    registry = app.registry
    registry.on_create.append(sender.attach)
    for tenant in registry.tenants():
        sender.attach(tenant)
