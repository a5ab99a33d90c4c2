"""Scenario documents cannot stall or crash the server: size, nesting and alias limits, odd YAML.

A large or malicious `PUT /_mock/scenarios` is answered quickly while a concurrent healthcheck
keeps answering within 100 ms; NUL bytes, deep nesting and huge numbers are a 400 "Invalid
scenario." with the reason, reported by hot reload and by `serve --scenario` in one line.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from didit_mock.scenario import ScenarioInvalid, load_text
from didit_mock.scenario.reading import MAX_DOCUMENT_BYTES
from didit_mock.server import MockServer, free_port
from tests.conftest import new_key
from tests.scenario_helpers import scenarios_view, wait_until
from tests.test_scenario_validate import ROOT, port_is_free, run_cli

#: Nine levels of nine aliases in 355 bytes: 387 million strings once expanded.
ALIAS_BOMB = "\n".join([
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    *(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]" for prev, name in zip("abcdefgh", "bcdefghi", strict=True)),
    "sessions: *i",
]) + "\n"
#: 10,000 unknown keys (about 150 KB of JSON).
MANY_KEYS = json.dumps({f"unknown_key_{i}": i for i in range(10_000)})

#: (name, YAML text, the reason expected in the first error)
ODD_YAML = [
    ("nul", "name: nul\ndescription: a\x00b\n", "request:2: invalid YAML: the character U+0000 is not allowed"),
    ("deep", "name: deep\ndata: " + "[" * 500 + "\n", "request:2: the document is nested deeper than 64 levels"),
    ("huge-int", "name: huge\ntenant:\n  seed: " + "7" * 100_000 + "\n",
     "request:3: invalid YAML: cannot read the value '77777777777777777777...(100000 characters)' "
     "(Exceeds the limit (4300 digits) for integer string conversion: value has 100000 digits); quote it"),
]


class HealthProbe:
    """Polls /system/healthcheck from a thread and keeps the slowest answer time."""

    def __init__(self, url: str):
        self.url = url
        self.worst = 0.0
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as http:
            http.get("/system/healthcheck")  # the connection is open before timing starts
            while not self._stop.is_set():
                started = time.perf_counter()
                assert http.get("/system/healthcheck").status_code == 200
                self.worst = max(self.worst, time.perf_counter() - started)
                self.count += 1
                self._stop.wait(0.005)


def put(http: httpx.Client, text: str | bytes, content_type: str = "text/yaml") -> httpx.Response:
    content = text.encode("utf-8") if isinstance(text, str) else text
    return http.put("/_mock/scenarios", content=content, headers={"content-type": content_type})


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """`didit-mock serve` in its own process (the test's threads do not share its interpreter)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "didit_mock", "serve", "--port", str(port),
                                "--log-level", "warning"], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _healthy(url), "the server to answer")
        warm = httpx.put(url + "/_mock/scenarios", content=b"name: warm\n", headers={"x-api-key": new_key()})
        assert warm.status_code == 200  # the scenario machinery loads on first use, as a server's first request
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.parametrize(("body", "content_type", "reason"), [
    (MANY_KEYS, "application/json", "request:1: unknown key 'unknown_key_0'"),
    (ALIAS_BOMB, "text/yaml", "request:6: the document holds more than 100000 values once its aliases"),
], ids=["10000-unknown-keys", "alias-bomb"])
def test_a_large_or_malicious_body_is_refused_quickly_and_never_delays_a_healthcheck(
        served: str, body: str, content_type: str, reason: str) -> None:
    with httpx.Client(base_url=served, headers={"x-api-key": new_key()}, timeout=30) as http, \
            HealthProbe(served) as probe:
        wait_until(lambda: probe.count >= 3, "the first healthchecks")
        started = time.perf_counter()
        answer = put(http, body, content_type)
        took = time.perf_counter() - started
        wait_until(lambda: probe.count >= 6, "healthchecks after the PUT")
    assert answer.status_code == 400
    assert answer.json()["detail"] == "Invalid scenario."
    assert answer.json()["errors"][0].startswith(reason)
    assert took < 5.0, f"the 400 took {took:.1f}s"
    assert probe.worst < 0.1, f"a healthcheck waited {probe.worst * 1000:.0f} ms"


def test_documents_sent_at_once_are_read_one_at_a_time(server: MockServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers take turns with the event loop for the interpreter: many at once would starve it."""
    from didit_mock.admin import scenarios as route

    lock = threading.Lock()
    reading, most = [0], [0]
    overlap = threading.Event()

    def counting_load_text(*args: object, **kwargs: object) -> object:
        with lock:
            reading[0] += 1
            most[0] = max(most[0], reading[0])
            if reading[0] > 1:
                overlap.set()
        try:
            overlap.wait(0.3)  # a window in which another reader could start
            return load_text(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                reading[0] -= 1

    monkeypatch.setattr(route, "load_text", counting_load_text)

    def send() -> None:
        with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}, timeout=30) as http:
            assert put(http, "name: one at a time\n").status_code == 200

    senders = [threading.Thread(target=send) for _ in range(4)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(30)
    assert most[0] == 1


def test_every_problem_of_a_large_body_is_located_in_linear_time() -> None:
    started = time.perf_counter()
    with pytest.raises(ScenarioInvalid) as refused:
        load_text(MANY_KEYS, "request", as_json=True)
    assert time.perf_counter() - started < 3.0  # 43 s before: locating each error scanned every key
    problems = refused.value.problems
    assert len(problems) == 101 and problems[-1].message == "... and 9900 more problem(s) not shown"


def test_a_document_over_the_size_limit_is_refused(server: MockServer, tmp_path: Path) -> None:
    too_big = "description: " + "x" * MAX_DOCUMENT_BYTES + "\n"
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}, timeout=30) as http:
        answer = put(http, too_big)
        assert answer.status_code == 413
        assert answer.json() == {"detail": f"The scenario is too large: at most {MAX_DOCUMENT_BYTES} bytes."}
    path = tmp_path / "big.yaml"
    path.write_text(too_big)
    with pytest.raises(ScenarioInvalid) as refused:
        MockServer(scenarios=[str(path)])
    assert str(refused.value) == (f"{path}: the document is {len(too_big)} bytes; scenario documents are limited "
                                  f"to {MAX_DOCUMENT_BYTES} bytes (256 KiB)")


@pytest.mark.parametrize(("name", "text", "reason"), ODD_YAML, ids=[case[0] for case in ODD_YAML])
def test_odd_yaml_is_a_400_with_the_reason(client: httpx.Client, name: str, text: str, reason: str) -> None:
    answer = put(client, text)
    assert answer.status_code == 400, answer.text
    assert answer.json()["detail"] == "Invalid scenario."
    assert answer.json()["errors"][0].startswith(reason)


@pytest.mark.parametrize(("text", "reason"), [
    ("a: &a [*a]\n", "request:1: an alias (*name) refers to a node that contains it"),
    ("tenant:\n  clock_start: 2026-02-30\n",
     "request:2: invalid YAML: cannot read the value '2026-02-30' (day is out of range for month); quote it"),
], ids=["recursive-alias", "impossible-date"])
def test_other_unreadable_yaml_is_a_400_too(client: httpx.Client, text: str, reason: str) -> None:
    answer = put(client, text)
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0].startswith(reason)


@pytest.mark.parametrize(("text", "reason"), [
    ('{"tenant": {"seed": ' + "9" * 5000 + "}}", "scenario.json: invalid JSON: Exceeds the limit (4300 digits)"),
    ("[" * 200 + "]" * 200, "scenario.json: the document is nested deeper than 64 levels"),
    ("[" * 5000 + "]" * 5000, "scenario.json: the document is nested deeper than 64 levels"),
], ids=["huge-int", "deep", "deeper-than-the-stack"])
def test_unreadable_json_files_are_problems(text: str, reason: str) -> None:
    with pytest.raises(ScenarioInvalid) as refused:
        load_text(text, "scenario.json", as_json=True)
    assert str(refused.value).startswith(reason)


def test_hot_reload_reports_odd_yaml_and_keeps_the_last_good_set(tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text("name: odd\nfaults: [{path: /v3/sessions/, status: 503}]\n")
    with MockServer(scenarios=[str(path)]) as server, \
            httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}, timeout=10) as http:
        too_big = ("big", "description: " + "x" * MAX_DOCUMENT_BYTES + "\n", "request: the document is 262158 bytes")
        for failures, (_, text, reason) in enumerate([*ODD_YAML, ("bomb", ALIAS_BOMB, ""), too_big], start=1):
            path.write_text(text)
            view = wait_until(lambda n=failures: (v := scenarios_view(http))["failed_reloads"] >= n and v,
                              f"failed reload {failures}")
            assert view["failed_reloads"] == failures and view["generation"] == 1
            expected = reason.replace("request", str(path), 1) if reason else f"{path}:6: the document holds more"
            assert view["errors"][0].startswith(expected), view["errors"]
            assert http.get("/v3/sessions/").status_code == 503  # the last good set stays


@pytest.mark.parametrize(("name", "text", "reason"), ODD_YAML, ids=[case[0] for case in ODD_YAML])
def test_serve_refuses_odd_yaml_with_the_usual_message(tmp_path: Path, name: str, text: str, reason: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    port = free_port()
    done = run_cli("serve", "--port", str(port), "--scenario", str(path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "didit-mock: cannot load the scenarios:" and len(lines) == 2, done.stderr
    assert lines[1].startswith(reason.replace("request", str(path), 1))
    assert port_is_free(port)


def test_sigterm_stops_the_server_within_seconds_while_a_scenario_is_validated() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "didit_mock", "serve", "--port", str(port),
                                "--log-level", "warning"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    answers: list[int] = []
    try:
        wait_until(lambda: _healthy(url), "the server to answer")

        def put_many_keys() -> None:
            with contextlib.suppress(httpx.HTTPError):
                answers.append(httpx.put(url + "/_mock/scenarios", content=MANY_KEYS.encode(), timeout=30,
                                         headers={"x-api-key": new_key(), "content-type": "application/json"})
                               .status_code)

        sender = threading.Thread(target=put_many_keys)
        sender.start()
        wait_until(lambda: _healthy(url), "a healthcheck during the PUT")
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert time.monotonic() - started < 5
        sender.join(10)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert answers in ([], [400])


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/system/healthcheck", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_aliases_cannot_nest_a_document_past_the_depth_limit() -> None:
    levels = "\n".join(f"l{i}: &l{i} [*l{i - 1}]" if i else "l0: &l0 [x]" for i in range(70))
    with pytest.raises(ScenarioInvalid) as refused:
        load_text(levels + "\n", "s.yaml")
    assert str(refused.value) == "s.yaml:64: the document is nested deeper than 64 levels once its aliases (*name) " \
                                 "are expanded"
