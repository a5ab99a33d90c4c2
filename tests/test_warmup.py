"""The start-up warm-up: the first phone send and the first finished session cost what later ones do."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys, time
from didit_mock.server import MockServer
from didit_mock.testing import DiditMock

with MockServer(warm_up={warm}) as server:
    assert server.wait_warm(60)
    with DiditMock.new_tenant(server.url) as mock:
        session = mock.create_session()
        began = time.perf_counter()
        mock.complete(session["session_id"])
        completed = time.perf_counter() - began
        began = time.perf_counter()
        sent = mock.http.post("/v3/phone/send/", json={{"phone_number": "+14155550123"}})
        phoned = time.perf_counter() - began
        assert sent.status_code == 200, sent.text
print(completed, phoned)
"""


def _first_calls(warm: bool) -> tuple[float, float]:
    """Seconds of the first `complete` and the first phone send in a fresh process."""
    result = subprocess.run([sys.executable, "-c", PROBE.format(warm=warm)], capture_output=True, text=True,
                            cwd=ROOT, timeout=120, check=True)
    completed, phoned = result.stdout.split()
    return float(completed), float(phoned)


def test_after_the_warm_up_the_first_calls_are_fast_and_without_it_they_are_not() -> None:
    cold_complete, cold_phone = _first_calls(warm=False)
    warm_complete, warm_phone = _first_calls(warm=True)
    assert cold_phone > 0.15  # phonenumbers' carrier and geocoder data: ~0.5 s on first use
    assert warm_phone < cold_phone / 3 and warm_phone < 0.15
    assert warm_complete < max(cold_complete, 0.1)  # faker and its providers are loaded already


def test_the_warm_up_touches_no_tenant_of_the_server() -> None:
    from didit_mock.server import MockServer

    with MockServer() as server:
        assert server.wait_warm(60)
        assert server.registry.tenants() == []


def test_the_warm_up_starts_after_serve_announces_and_logs_when_done() -> None:
    process = subprocess.Popen([sys.executable, "-m", "didit_mock", "serve", "--port", "0", "--log-level", "debug"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    try:
        assert "listening on" in process.stdout.readline()
        deadline = time.monotonic() + 60
        line = ""
        while "warm-up" not in line and time.monotonic() < deadline:
            line = process.stderr.readline()
        assert "DEBUG didit_mock: warm-up done in" in line
    finally:
        process.terminate()
        process.communicate(timeout=20)


SWITCHES = """
import sys, threading, time
from didit_mock import warmup

seen = []
original = warmup.warm_up
warmup.warm_up = lambda: (seen.append(sys.getswitchinterval()), original())
before = sys.getswitchinterval()
warmup.start_warm_up().join(120)
print(before, seen[0], sys.getswitchinterval())
"""


def test_the_warm_up_yields_the_interpreter_often_while_it_runs_and_restores_it_after() -> None:
    """A request arriving during the warm-up is not kept waiting a whole 5 ms switch interval, and the
    process (a test suite's, with the in-process server) keeps its own interval afterwards."""
    result = subprocess.run([sys.executable, "-c", SWITCHES], capture_output=True, text=True, cwd=ROOT, timeout=120,
                            check=True)
    before, during, after = map(float, result.stdout.split())
    assert during < before / 10 and after == before
