"""didit-mock benchmarks: start-up, throughput and latency, memory, list-page flatness.

Run: `python -m benchmarks.bench` (full, a few minutes) or `python -m benchmarks.bench --quick`
(a smoke run of every measurement, used by the test suite). Loopback only, bounded in time.
Prints a markdown table. Uses `wrk` when installed, else a bounded asyncio client.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import itertools
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import httpx

API_KEY = "sk_test_benchmark"
KYC = "d1d17000-0000-4000-8000-000000000001"
BARE_SESSION_ID = "11111111-2222-3333-4444-555555555555"
ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 32


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_us: float = float("nan")  # the server's CPU time (user + system) per request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, timeout: float = 30.0) -> float:
    """Seconds until `url` first answers 200 (polling every millisecond).

    Polls with `http.client`: an httpx client per attempt would spend ~25 ms of CPU building its
    SSL context, taken from the server that is starting on the same machine.
    """
    parts = urlsplit(url)
    start = time.perf_counter()
    deadline = start + timeout
    while time.perf_counter() < deadline:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=0.5)
        try:
            connection.request("GET", parts.path or "/")
            if connection.getresponse().status == 200:
                return time.perf_counter() - start
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.001)
    raise RuntimeError(f"{url} not ready after {timeout}s")


class Process:
    """A server subprocess, stopped on exit."""

    def __init__(self, args: list[str], port: int, ready_path: str = "/system/healthcheck", timeout: float = 60):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_ready(self.url + ready_path, timeout)
        self.startup = time.perf_counter() - started

    def cpu_seconds(self) -> float:
        """User and system CPU time the server has used (Linux `/proc`; NaN elsewhere)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_args(port: int) -> list[str]:
    return [sys.executable, "-m", "didit_mock", "serve", "--port", str(port), "--no-rate-limits",
            "--log-level", "warning"]


# ---------------------------------------------------------------- load generation

LUA_COMMON = """
local counter = 0
local thread_id = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
function done(summary, latency, requests)
  io.write(string.format('{"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def lua_script(body: str) -> str:
    return LUA_COMMON + textwrap.dedent(body)


def run_wrk(name: str, url: str, script: str, seconds: float, threads: int = 2) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        path = handle.name
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{CONNECTIONS}", f"-d{max(1, int(seconds))}s", "-s", path, url],
            capture_output=True, text=True, timeout=seconds + 60, check=True,
        ).stdout
    finally:
        os.unlink(path)
    line = next(row for row in out.splitlines() if row.startswith("{"))
    data = json.loads(line)
    duration = data["duration_us"] / 1e6
    return Result(name, data["requests"] / duration, data["p50_us"] / 1000, data["p99_us"] / 1000,
                  data["requests"], data["errors"])


async def _asyncio_load(name: str, make_request, seconds: float) -> Result:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                index = next(counter)
                started = time.perf_counter()
                ok = await make_request(client, index)
                latencies.append(time.perf_counter() - started)
                errors += 0 if ok else 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    return Result(name, len(latencies) / elapsed, statistics.median(latencies) * 1000 if latencies else float("nan"),
                  p99 * 1000, len(latencies), errors)


BOUNDARY = "didit-mock-bench-boundary"


def face_match_body() -> bytes:
    """A multipart face match of two 256x256 PNGs (the mock's own fixture selfies of two people)."""
    from didit_mock.admin.standalone import fixture_png

    parts = []
    for field, person in (("user_image", "bench-a"), ("ref_image", "bench-b")):
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{field}.png"\r\n'
                     f"Content-Type: image/png\r\n\r\n".encode() + fixture_png("selfie", person, None) + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


#: Numbers each load run, so that no run repeats another's vendor_data or phone numbers (a repeated
#: vendor_data would reuse the unfinished session instead of creating one; a repeated number would
#: reach the OTP send limit).
_RUNS = itertools.count(1)


def load(name: str, base: str, kind: str, seconds: float, session_id: str = "") -> Result:
    """Drive one workload: create, decision, list, store, otp or face-match."""
    run = next(_RUNS) % 100
    headers = f'wrk.headers["x-api-key"] = "{API_KEY}"\nwrk.headers["Content-Type"] = "application/json"\n'
    if shutil.which("wrk"):
        scripts = {
            "create": headers + """
function request()
  counter = counter + 1
  return wrk.format("POST", "/v3/session/", nil,
    '{"workflow_id":"WORKFLOW","vendor_data":"load-RUN-' .. tid .. '-' .. counter .. '"}')
end
""".replace("WORKFLOW", KYC).replace("RUN", str(run)),
            "decision": headers + f'wrk.method = "GET"\nwrk.path = "/v3/session/{session_id}/decision/"\n',
            "list": headers + 'wrk.method = "GET"\nwrk.path = "/v3/sessions/?limit=50"\n',
            "store": headers + f'wrk.method = "GET"\nwrk.path = "/v3/transactions/rules/{session_id}/"\n',
            "otp": headers + """
function request()
  counter = counter + 1
  local n = math.floor((counter + 1) / 2)
  local number = string.format("+346RUN%d%05d", tid, n % 100000)
  if counter % 2 == 1 then
    return wrk.format("POST", "/v3/phone/send/", nil, '{"phone_number":"' .. number .. '"}')
  end
  return wrk.format("POST", "/v3/phone/check/", nil, '{"phone_number":"' .. number .. '","code":"123456"}')
end
""".replace("RUN", f"{run:02d}"),
        }
        if kind != "face-match":
            return run_wrk(name, base, lua_script(scripts[kind]), seconds)
        with tempfile.NamedTemporaryFile("wb", suffix=".multipart", delete=False) as body_file:
            body_file.write(face_match_body())
        try:
            script = headers + f"""
local body_file = io.open("{body_file.name}", "rb")
wrk.body = body_file:read("*a")
body_file:close()
wrk.method = "POST"
wrk.path = "/v3/face-match/"
wrk.headers["Content-Type"] = "multipart/form-data; boundary={BOUNDARY}"
"""
            return run_wrk(name, base, lua_script(script), seconds)
        finally:
            os.unlink(body_file.name)
    api = {"x-api-key": API_KEY}
    multipart = {**api, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    images = face_match_body() if kind == "face-match" else b""

    async def make(client: httpx.AsyncClient, index: int) -> bool:
        if kind == "create":
            r = await client.post(base + "/v3/session/",
                                  json={"workflow_id": KYC, "vendor_data": f"load-{run}-{index}"}, headers=api)
        elif kind == "decision":
            r = await client.get(f"{base}/v3/session/{session_id}/decision/", headers=api)
        elif kind == "list":
            r = await client.get(base + "/v3/sessions/?limit=50", headers=api)
        elif kind == "store":
            r = await client.get(f"{base}/v3/transactions/rules/{session_id}/", headers=api)
        elif kind == "face-match":
            r = await client.post(base + "/v3/face-match/", content=images, headers=multipart)
        else:
            number = f"+346{run:02d}0{index % 100000:05d}"
            r = await client.post(base + "/v3/phone/send/", json={"phone_number": number}, headers=api)
            r = await client.post(base + "/v3/phone/check/", json={"phone_number": number, "code": "123456"},
                                  headers=api)
        return r.status_code < 400

    return asyncio.run(_asyncio_load(name, make, seconds))


# ---------------------------------------------------------------- measurements

def prepare(base: str, sessions: int = 1) -> str:
    """Create and complete `sessions` sessions; returns the id of the last one."""
    with httpx.Client(base_url=base, headers={"x-api-key": API_KEY}, timeout=30) as client:
        client.post("/_mock/phone/codes", json={"prefix": "+346", "code": "123456"})
        session_id = ""
        for index in range(sessions):
            created = client.post("/v3/session/", json={"workflow_id": KYC, "vendor_data": f"prep-{index}"})
            session_id = created.json()["session_id"]
            client.post(f"/_mock/sessions/{session_id}/complete", json={"status": "Approved"})
        return session_id


def prepare_store(base: str) -> str:
    """A document of the generic store (a transaction rule); returns its id."""
    with httpx.Client(base_url=base, headers={"x-api-key": API_KEY}, timeout=30) as client:
        made = client.post("/v3/transactions/rules/", json={"title": "bench", "category": "AMOUNT", "mode": "TEST"})
        return str(made.json()["uuid"])


def startup_times(repeats: int) -> tuple[float, float, float]:
    """Median seconds: CLI process start to first healthcheck 200, the same for the bare app (the
    runs alternate), and the in-process MockServer start."""
    cli, bare = [], []
    for _ in range(repeats):
        port = free_port()
        with Process(serve_args(port), port) as proc:
            cli.append(proc.startup)
        port = free_port()
        with Process([sys.executable, "-m", "benchmarks.bare_app", str(port)], port) as proc:
            bare.append(proc.startup)
    code = ("import time; t=time.perf_counter(); from didit_mock.server import MockServer; "
            "s=MockServer().start(); print(time.perf_counter()-t); s.stop()")
    inproc = [float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                   check=True).stdout.strip().splitlines()[-1]) for _ in range(repeats)]
    return statistics.median(cli), statistics.median(bare), statistics.median(inproc)


def memory_and_list(sessions: int, seconds: float) -> dict[str, float]:
    """RSS idle and with `sessions` completed sessions; list-page latency at 100 vs that many."""
    figures: dict[str, float] = {}
    port = free_port()
    with Process(serve_args(port), port) as idle:
        httpx.get(idle.url + "/v3/sessions/", headers={"x-api-key": API_KEY})
        figures["rss_idle_mb"] = idle.rss_mb()
    for count in (100, sessions):
        port = free_port()
        args = [sys.executable, "-m", "benchmarks.populated_server", "--port", str(port), "--sessions", str(count)]
        with Process(args, port, timeout=900) as server:
            result = load(f"list page ({count:,} sessions)", server.url, "list", seconds)
            figures[f"list_p50_ms_{count}"] = result.p50_ms
            figures[f"list_rps_{count}"] = result.rps
            figures[f"rss_mb_{count}"] = server.rss_mb()
    return figures


def median_result(name: str, runs: list[Result]) -> Result:
    """One row for several runs of a workload: the median of each figure, the sum of the counts."""
    return Result(name, statistics.median(r.rps for r in runs), statistics.median(r.p50_ms for r in runs),
                  statistics.median(r.p99_ms for r in runs), sum(r.requests for r in runs),
                  sum(r.errors for r in runs), statistics.median(r.cpu_us for r in runs))


def measured(process: Process, name: str, kind: str, seconds: float, session_id: str = "") -> Result:
    """`load` against `process`, with the server's CPU time per request."""
    before = process.cpu_seconds()
    result = load(name, process.url, kind, seconds, session_id)
    spent = process.cpu_seconds() - before
    result.cpu_us = spent / result.requests * 1e6 if result.requests else float("nan")
    return result


def throughput(seconds: float, rounds: int = 1) -> list[tuple[Result, Result | None, Result | None]]:
    """Each workload against didit-mock and, for create and decision, the bare app.

    The servers run side by side and the runs alternate (bare, ours, bare, ours, ...) for
    `rounds` rounds, so a slow spell of the machine weighs on all of them; each figure is the
    median. Create and decision are also run against a server without the request journal
    (`--journal-size 0`), to show what the journal costs. The bare app runs twice: on uvicorn's
    own protocol (the budgets' reference) and on didit-mock's (what the app's code costs alone).
    """
    bare_port, port, quiet_port, other_port = free_port(), free_port(), free_port(), free_port()
    images_port, same_port = free_port(), free_port()
    bare_args = [sys.executable, "-m", "benchmarks.bare_app", str(bare_port)]
    same_args = [sys.executable, "-m", "benchmarks.bare_app", str(same_port), "--mock-protocol"]
    quiet_args = [*serve_args(quiet_port), "--journal-size", "0"]
    with Process(bare_args, bare_port) as bare, Process(same_args, same_port) as same, \
            Process(serve_args(port), port) as server, \
            Process(quiet_args, quiet_port) as quiet, Process(serve_args(other_port), other_port) as other, \
            Process(serve_args(images_port), images_port) as images:
        # Create and decision run on servers that see nothing else, so that the state the other
        # workloads leave behind (OTP records, say) does not weigh on the comparison.
        servers = {"ours": (server, prepare(server.url, sessions=100)),
                   "quiet": (quiet, prepare(quiet.url, sessions=100)),
                   "other": (other, prepare(other.url, sessions=100)),
                   "store": (other, prepare_store(other.url)),
                   "images": (images, "")}  # saved face matches pile up sessions on a server of their own
        baselines = {"create": "", "decision": BARE_SESSION_ID, "store": BARE_SESSION_ID, "face-match": ""}
        plan = [  # row, workload, server
            ("session create", "create", "ours"),
            ("decision GET (completed)", "decision", "ours"),
            ("session create, journal off", "create", "quiet"),
            ("decision GET, journal off", "decision", "quiet"),
            ("list page (limit 50)", "list", "other"),
            ("generic store GET (a transaction rule)", "store", "store"),
            ("phone send + check", "otp", "other"),
            ("standalone face match (two 256x256 PNGs)", "face-match", "images"),
        ]
        runs: dict[str, list[Result]] = {}
        for _ in range(rounds):
            for kind, bare_id in baselines.items():
                bare_kind = "decision" if kind == "store" else kind  # the bare app's GET
                runs.setdefault("bare " + kind, []).append(measured(bare, "bare " + kind, bare_kind, seconds, bare_id))
                runs.setdefault("same " + kind, []).append(measured(same, "same " + kind, bare_kind, seconds, bare_id))
            for name, kind, which in plan:
                process, session_id = servers[which]
                runs.setdefault(name, []).append(measured(process, name, kind, seconds, session_id))
    return [
        (median_result(name, runs[name]),
         median_result("bare " + kind, runs["bare " + kind]) if kind in baselines else None,
         median_result("same " + kind, runs["same " + kind]) if kind in baselines else None)
        for name, kind, _ in plan
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run of every measurement")
    parser.add_argument("--seconds", type=float, default=None, help="duration of each load run")
    parser.add_argument("--sessions", type=int, default=None, help="sessions for the memory measurement")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds of the load runs")
    args = parser.parse_args(argv)
    seconds = args.seconds or (1 if args.quick else 4)
    rounds = args.rounds or (1 if args.quick else 5)
    sessions = args.sessions or (2_000 if args.quick else 100_000)

    cli_start, bare_start, inproc_start = startup_times(1 if args.quick else 9)
    rows = throughput(seconds, rounds)
    mem = memory_and_list(sessions, seconds)

    generator = "wrk" if shutil.which("wrk") else "asyncio client"
    print(f"## didit-mock benchmark — {date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load: {generator}, {CONNECTIONS} connections, "
          f"{rounds} alternating round(s) of {seconds:g}s per workload\n")
    print("| measurement | result | budget |")
    print("|---|---|---|")
    print(f"| `didit-mock serve` start to first healthcheck 200 | {cli_start * 1000:.0f} ms "
          f"(x{cli_start / bare_start:.2f} of the bare app's {bare_start * 1000:.0f} ms) | < x1.5 of bare |")
    print(f"| in-process MockServer / fixture start | {inproc_start * 1000:.0f} ms | < 150 ms |")
    print(f"| RSS idle | {mem['rss_idle_mb']:.0f} MB | |")
    print(f"| RSS with {sessions:,} completed sessions | {mem[f'rss_mb_{sessions}']:.0f} MB | < 400 MB |")
    flat = mem[f"list_p50_ms_{sessions}"] / mem["list_p50_ms_100"]
    print(f"| list page p50 at 100 vs {sessions:,} sessions | {mem['list_p50_ms_100']:.2f} ms vs "
          f"{mem[f'list_p50_ms_{sessions}']:.2f} ms (x{flat:.2f}) | flat |")
    print()
    print("| workload | req/s | p50 ms | p99 ms | errors | share of bare Starlette | server CPU per request "
          "| share of bare Starlette on didit-mock's protocol |")
    print("|---|---|---|---|---|---|---|---|")
    for result, bare, same in rows:
        share = f"{result.rps / bare.rps:.0%} of {bare.rps:,.0f} req/s" if bare else "—"
        cpu = f"{result.cpu_us:.0f} µs" + (f" (bare {bare.cpu_us:.0f} µs)" if bare else "")
        same_share = (f"{result.rps / same.rps:.0%} of {same.rps:,.0f} req/s ({same.cpu_us:.0f} µs)"
                      if same else "—")
        print(f"| {result.name} | {result.rps:,.0f} | {result.p50_ms:.2f} | {result.p99_ms:.2f} | {result.errors} | "
              f"{share} | {cpu} | {same_share} |")
    failures = sum(r.errors for r, _, _ in rows)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
