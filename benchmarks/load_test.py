"""Load test: concurrent clients against one didit-mock, checking that no invariant breaks.

Run: `python -m benchmarks.load_test` (3 tenants x 16 clients, about 3000 requests) or
`python -m benchmarks.load_test --quick` (the smoke run tests/test_load_smoke.py makes). Loopback
only and bounded in time (`--time-limit`; running over it counts as a failure). By default it
starts `didit-mock serve` in a subprocess on a free port; `--url http://127.0.0.1:8790` targets a
running server instead.

Several tenants work at once. In each, concurrent clients (asyncio tasks) create sessions (some
racing with the same `vendor_data`), complete them and override some decisions, and run phone OTP
flows where wrong and right codes race. A local receiver takes every webhook. It prints figures
and exits 1 on any broken invariant:

* session numbers: unique and gap-free per tenant (sessions and OTP verifications share them),
  and racing creates with one `vendor_data` give one session;
* OTP: at most 3 wrong codes are counted, exactly one terminal answer per verification, and a
  verification with fewer than 3 wrong codes is approved;
* webhooks: every event delivered exactly once, in order per session, correctly signed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

KYC_WORKFLOW = "d1d17000-0000-4000-8000-000000000001"
WEBHOOK_SECRET = "load-test-webhook-secret"
MAX_WRONG_CODES = 3
TERMINAL = ("Approved", "Declined")


@dataclass(frozen=True)
class Plan:
    """How much load: tenants at once, concurrent clients per tenant, and the work of each tenant."""

    tenants: int
    clients: int
    sessions: int
    duplicate_pairs: int
    otp_flows: int
    time_limit: float


QUICK = Plan(tenants=2, clients=8, sessions=24, duplicate_pairs=6, otp_flows=10, time_limit=60)
FULL = Plan(tenants=3, clients=16, sessions=200, duplicate_pairs=30, otp_flows=60, time_limit=240)


# ---------------------------------------------------------------- the webhook receiver

@dataclass(frozen=True)
class Received:
    tenant: str
    arrival: int
    body: bytes
    signature: str

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """A loopback HTTP server recording every POST; the path names the tenant (`/t/<name>`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver.lock:
                    receiver.items.append(Received(self.path.rsplit("/", 1)[-1], len(receiver.items), body,
                                                   self.headers.get("x-signature", "")))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, tenant: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/t/{tenant}"

    def of(self, tenant: str) -> list[Received]:
        with self.lock:
            return [item for item in self.items if item.tenant == tenant]

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- HTTP with timings

class Clients:
    """One pooled httpx.AsyncClient for every tenant, and the latency of every call by operation."""

    def __init__(self, base_url: str, connections: int):
        # Idle connections are dropped well before uvicorn's 5 s keep-alive timeout, so a request is
        # never sent on a connection the server is closing (the response would be lost).
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=1.0)
        self.http = httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits)
        self.latencies: dict[str, list[float]] = defaultdict(list)

    async def call(self, op: str, key: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        started = time.perf_counter()
        response = await self.http.request(method, path, headers={"x-api-key": key}, **kwargs)
        self.latencies[op].append(time.perf_counter() - started)
        return response

    async def close(self) -> None:
        await self.http.aclose()


# ---------------------------------------------------------------- one tenant's work

@dataclass
class TenantRun:
    name: str
    key: str
    sessions: dict[str, int] = field(default_factory=dict)  # session_id -> number
    expected_events: dict[str, list[str]] = field(default_factory=dict)  # subject id -> statuses in order
    duplicate_groups: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    verifications: list[str] = field(default_factory=list)  # request ids
    otp_answers: dict[str, tuple[int, list[str]]] = field(default_factory=dict)  # number -> (wrong sent, answers)
    violations: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        self.violations.append(f"[{self.name}] {message}")


def _expect(response: httpx.Response, status: int, what: str) -> dict[str, Any]:
    if response.status_code != status:
        raise AssertionError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
    return response.json()


async def session_flow(clients: Clients, run: TenantRun, index: int) -> None:
    """Create, complete, and for every third session override the decision."""
    body = {"workflow_id": KYC_WORKFLOW, "vendor_data": f"{run.name}-user-{index}"}
    created = _expect(await clients.call("create", run.key, "POST", "/v3/session/", json=body), 201, "create")
    session_id = created["session_id"]
    run.sessions[session_id] = created["session_number"]
    statuses = run.expected_events[session_id] = []
    final = "Approved" if index % 2 else "Declined"
    response = await clients.call("complete", run.key, "POST", f"/_mock/sessions/{session_id}/complete",
                                  json={"status": final})
    _expect(response, 200, "complete session")
    statuses += ["In Progress", final]
    if index % 3 == 0:
        override = "Declined" if final == "Approved" else "Approved"
        response = await clients.call("update-status", run.key, "PATCH", f"/v3/session/{session_id}/update-status/",
                                      json={"new_status": override, "comment": "load test"})
        _expect(response, 200, "update status")
        statuses.append(override)


async def duplicate_creates(clients: Clients, run: TenantRun, group: int) -> None:
    """Two racing creates with the same vendor_data (the unfinished session is reused)."""
    vendor = f"{run.name}-dup-{group}"
    body = {"workflow_id": KYC_WORKFLOW, "vendor_data": vendor}
    answers = await asyncio.gather(*(clients.call("create", run.key, "POST", "/v3/session/", json=body)
                                     for _ in range(2)))
    for response in answers:
        _record_duplicate(run, vendor, _expect(response, 201, "create duplicate"))


def _record_duplicate(run: TenantRun, vendor: str, created: dict[str, Any]) -> None:
    run.duplicate_groups[vendor].add(created["session_id"])
    run.sessions[created["session_id"]] = created["session_number"]
    run.expected_events.setdefault(created["session_id"], [])


async def otp_flow(clients: Clients, run: TenantRun, index: int) -> None:
    """Send a code, then race `index % 6` wrong codes against the right one."""
    number = f"+1415555{(index * 7) % 10000:04d}"
    sent = _expect(await clients.call("otp-send", run.key, "POST", "/v3/phone/send/", json={"phone_number": number}),
                   200, "phone send")
    if sent["status"] != "Success":
        run.fail(f"phone send to {number} answered {sent['status']}")
        return
    readout = await clients.call("otp-code", run.key, "GET", f"/_mock/phone/{number}/code")
    code = _expect(readout, 200, "read code")["code"]
    wrong_code = code[:-1] + str((int(code[-1]) + 1) % 10)
    wrong = index % 6
    codes = [wrong_code] * wrong + [code]
    checks = await asyncio.gather(*(
        clients.call("otp-check", run.key, "POST", "/v3/phone/check/", json={"phone_number": number, "code": attempt})
        for attempt in codes
    ))
    answers = [_expect(response, 200, "phone check")["status"] for response in checks]
    terminal = [a for a in answers if a in TERMINAL]
    run.verifications.append(sent["request_id"])
    run.otp_answers[number] = (wrong, answers)
    run.expected_events[sent["request_id"]] = ["In Progress", *terminal[:1]]
    readout = _expect(await clients.call("otp-code", run.key, "GET", f"/_mock/phone/{number}/code"), 200, "read code")
    if readout["attempts_left"] < 0:
        run.fail(f"{number}: attempts_left went negative ({readout['attempts_left']})")


def check_otp(run: TenantRun) -> None:
    for number, (wrong, answers) in run.otp_answers.items():
        terminal = [a for a in answers if a in TERMINAL]
        failed = answers.count("Failed")
        if len(terminal) != 1:
            run.fail(f"{number}: {len(terminal)} terminal answers to one verification: {answers}")
        if failed > MAX_WRONG_CODES - 1:
            run.fail(f"{number}: {failed} 'Failed' answers, more wrong codes than allowed: {answers}")
        if wrong < MAX_WRONG_CODES and terminal != ["Approved"]:
            run.fail(f"{number}: {wrong} wrong codes, yet not approved: {answers}")
        unexpected = [a for a in answers if a not in (*TERMINAL, "Failed", "Expired or Not Found")]
        if unexpected:
            run.fail(f"{number}: unexpected check answers {unexpected}")


async def check_session_numbers(clients: Clients, run: TenantRun) -> None:
    """Unique and gap-free, across the sessions listed and the OTP verifications."""
    response = await clients.call("list", run.key, "GET", "/v3/sessions/", params={"limit": 100_000})
    listed = _expect(response, 200, "list")
    rows = {row["session_id"]: row["session_number"] for row in listed["results"]}
    if listed["count"] != len(run.sessions) or rows != run.sessions:
        lost = set(run.sessions) - set(rows)
        extra = set(rows) - set(run.sessions)
        run.fail(f"listed sessions differ from created ones: count {listed['count']} vs {len(run.sessions)}, "
                 f"lost {sorted(lost)[:5]}, unexpected {sorted(extra)[:5]}")
    numbers = list(rows.values())
    for request_id in run.verifications:
        decision = _expect(await clients.call("decision", run.key, "GET", f"/v3/session/{request_id}/decision/"),
                           200, "verification decision")
        numbers.append(decision["session_number"])
    duplicated = sorted(n for n in set(numbers) if numbers.count(n) > 1)
    if duplicated:
        run.fail(f"duplicated session numbers: {duplicated[:10]}")
    if sorted(set(numbers)) != list(range(1, len(set(numbers)) + 1)):
        missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        run.fail(f"session numbers have gaps: missing {missing[:10]}")
    for vendor, ids in run.duplicate_groups.items():
        if len(ids) != 1:
            run.fail(f"racing creates with vendor_data {vendor!r} made {len(ids)} sessions")


def check_webhooks(received: list[Received], run: TenantRun) -> None:
    """Every expected event once, in order per subject, signed with the tenant's secret."""
    seen_events: dict[str, int] = defaultdict(int)
    by_subject: dict[str, list[str]] = defaultdict(list)
    for item in sorted(received, key=lambda r: r.arrival):
        payload = item.payload
        seen_events[payload["event_id"]] += 1
        by_subject[payload["session_id"]].append(payload["status"])
        expected = hmac.new(WEBHOOK_SECRET.encode(), item.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, item.signature):
            run.fail(f"bad X-Signature on event {payload['event_id']}")
    duplicated = [event for event, count in seen_events.items() if count > 1]
    if duplicated:
        run.fail(f"{len(duplicated)} events delivered more than once, e.g. {duplicated[:3]}")
    for subject, statuses in run.expected_events.items():
        if by_subject.get(subject, []) != statuses:
            run.fail(f"webhooks of {subject}: received {by_subject.get(subject, [])}, expected {statuses}")
    unknown = set(by_subject) - set(run.expected_events)
    if unknown:
        run.fail(f"webhooks for unknown subjects: {sorted(unknown)[:5]}")


# ---------------------------------------------------------------- orchestration

@dataclass
class Report:
    plan: Plan
    elapsed: float
    requests: int
    latencies: dict[str, list[float]]
    webhooks: int
    violations: list[str]

    def lines(self) -> Iterator[str]:
        rps = self.requests / self.elapsed if self.elapsed else 0.0
        yield (f"didit-mock load test: {self.plan.tenants} tenants x {self.plan.clients} clients, "
               f"{self.requests} requests in {self.elapsed:.2f} s ({rps:.0f} req/s), {self.webhooks} webhooks received")
        yield f"{'operation':<14}{'count':>8}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}"
        for op, values in sorted(self.latencies.items()):
            ordered = sorted(values)
            p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
            yield (f"{op:<14}{len(values):>8}{statistics.median(values) * 1000:>10.1f}{p95 * 1000:>10.1f}"
                   f"{ordered[-1] * 1000:>10.1f}")
        if self.violations:
            yield f"BROKEN INVARIANTS ({len(self.violations)}):"
            yield from (f"  - {v}" for v in self.violations[:50])
        else:
            yield "every invariant held: session numbers, OTP attempts, webhook delivery and order"


async def _setup_tenant(clients: Clients, receiver: Receiver, name: str) -> TenantRun:
    run = TenantRun(name=name, key=f"sk_test_load-{name}-{uuid.uuid4().hex[:12]}")
    _expect(await clients.call("admin", run.key, "POST", "/_mock/ratelimits", json={"enabled": False}), 200,
            "rate limits")
    _expect(await clients.call("admin", run.key, "POST", "/_mock/webhook",
                               json={"url": receiver.url(name), "secret": WEBHOOK_SECRET}), 200, "webhook")
    return run


async def _wait_for_webhooks(receiver: Receiver, runs: list[TenantRun], deadline: float) -> None:
    wanted = {run.name: sum(len(v) for v in run.expected_events.values()) for run in runs}
    while time.monotonic() < deadline:
        if all(len(receiver.of(name)) >= count for name, count in wanted.items()):
            await asyncio.sleep(0.3)  # a late duplicate would show up now
            return
        await asyncio.sleep(0.05)
    for run in runs:
        got = len(receiver.of(run.name))
        if got < wanted[run.name]:
            run.fail(f"only {got} of {wanted[run.name]} webhooks arrived before the time limit")


async def _bounded(run: TenantRun, gate: asyncio.Semaphore, work: Coroutine[Any, Any, None]) -> None:
    async with gate:
        try:
            await work
        except Exception as exc:  # a failed request is a broken invariant, not a crash
            run.fail(f"{type(exc).__name__}: {exc}")


def _interleave(*lists: list[Any]) -> list[Any]:
    """Round-robin over the lists, so every kind of work runs from the start."""
    longest = max((len(items) for items in lists), default=0)
    return [items[i] for i in range(longest) for items in lists if i < len(items)]


async def run_load_async(base_url: str, plan: Plan) -> Report:
    started = time.monotonic()
    deadline = started + plan.time_limit
    clients = Clients(base_url, connections=plan.clients * plan.tenants * 2)
    with Receiver() as receiver:
        runs = [await _setup_tenant(clients, receiver, f"t{i}") for i in range(plan.tenants)]
        tasks = []
        for run in runs:
            gate = asyncio.Semaphore(plan.clients)  # `clients` flows of a tenant at a time
            work = _interleave(
                [session_flow(clients, run, i) for i in range(plan.sessions)],
                [duplicate_creates(clients, run, g) for g in range(plan.duplicate_pairs)],
                [otp_flow(clients, run, i) for i in range(plan.otp_flows)],
            )
            tasks += [asyncio.ensure_future(_bounded(run, gate, w)) for w in work]
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            runs[0].fail("the work did not finish within the time limit")
        for run in runs:
            check_otp(run)
            await check_session_numbers(clients, run)
        await _wait_for_webhooks(receiver, runs, deadline)
        for run in runs:
            check_webhooks(receiver.of(run.name), run)
        webhooks = len(receiver.items)
    await clients.close()
    elapsed = time.monotonic() - started
    if elapsed > plan.time_limit:
        runs[0].fail(f"the run took {elapsed:.1f} s, over its {plan.time_limit:.0f} s limit")
    return Report(plan, elapsed, sum(len(v) for v in clients.latencies.values()), dict(clients.latencies), webhooks,
                  [v for run in runs for v in run.violations])


def run_load(base_url: str, plan: Plan) -> Report:
    """Drive `plan` against the server at `base_url`; every violation is in the report."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run_load_async(base_url, plan))
    # Called where an event loop already runs (e.g. after Playwright's sync API): use a thread of its own.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(lambda: asyncio.run(run_load_async(base_url, plan))).result()


# ---------------------------------------------------------------- the server

def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def spawned_server(timeout: float = 20.0) -> Iterator[str]:
    """`didit-mock serve` in a subprocess on a free loopback port (its clients are not in its GIL).

    Its log goes to a temporary file (a pipe nobody reads would stall it once full), printed when
    the server does not start or exits with an error.
    """
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIDIT_MOCK_")}
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "didit_mock", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--no-rate-limits", "--log-level", "warning"],
            env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    if httpx.get(url + "/system/healthcheck", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"didit-mock did not start:\n{log.read()}")
                time.sleep(0.05)
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait(5)
            log.seek(0)
            output = log.read()
            if code != 0 or "Traceback" in output:
                print(f"didit-mock exited with {code}; its log:\n{output[-5000:]}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="the small run the test suite makes")
    parser.add_argument("--url", help="a running didit-mock (default: start one on a free port)")
    parser.add_argument("--tenants", type=int)
    parser.add_argument("--clients", type=int, help="concurrent clients per tenant")
    parser.add_argument("--sessions", type=int, help="sessions created and completed per tenant")
    parser.add_argument("--otp", type=int, help="phone OTP flows per tenant")
    parser.add_argument("--time-limit", type=float, help="seconds before the run counts as broken")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    plan = Plan(
        tenants=args.tenants or base.tenants, clients=args.clients or base.clients,
        sessions=args.sessions if args.sessions is not None else base.sessions,
        duplicate_pairs=base.duplicate_pairs, otp_flows=args.otp if args.otp is not None else base.otp_flows,
        time_limit=args.time_limit or base.time_limit,
    )
    if args.url:
        report = run_load(args.url.rstrip("/"), plan)
    else:
        with spawned_server() as url:
            report = run_load(url, plan)
    for line in report.lines():
        print(line)
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
