"""The admin guard: other websites cannot drive /_mock, while same-origin use and the Didit API keep working."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from didit_mock.admin.dashboard import tenant_ref
from didit_mock.admin.guard import AdminGuard, exposure_warning, host_name, is_loopback
from didit_mock.admin.throttle import FailureThrottle
from didit_mock.server import MockServer, announcement, free_port
from didit_mock.settings import ENV_PREFIX, Settings

from .conftest import KYC_WORKFLOW, create_session, new_key

EVIL = "http://evil.example"
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def own() -> Iterator[MockServer]:
    """A server of this module alone: the attacks below would wipe every tenant of a shared one."""
    with MockServer(freeze_clock=True, public_base_url="http://didit.test:9999") as running:
        yield running


@pytest.fixture
def victim(own: MockServer) -> Iterator[httpx.Client]:
    """A tenant holding one session, whose survival shows the attacks changed nothing."""
    with httpx.Client(base_url=own.url, headers={"x-api-key": new_key()}, timeout=10) as http:
        create_session(http, vendor_data="victim")
        yield http


def sessions_of(client: httpx.Client) -> int:
    return int(client.get("/v3/sessions/").json()["count"])


# ---------------------------------------------------------------- cross-site requests

def test_a_cross_site_form_post_cannot_reset_every_tenant(own: MockServer, victim: httpx.Client) -> None:
    with httpx.Client(base_url=own.url, timeout=10) as page:
        refused = page.post("/_mock/reset?all=true", content=b"", headers={**FORM, "origin": EVIL})
        assert refused.status_code == 403, refused.text
        detail = refused.json()["detail"]
        assert "Cross-site request refused" in detail and EVIL in detail
        # The same form from a browser that sends no Origin still cannot: a form body on a JSON route.
        no_origin = page.post("/_mock/reset?all=true", content=b"a=1", headers=FORM)
        assert no_origin.status_code == 415, no_origin.text
        assert no_origin.json()["detail"].startswith('Unsupported media type "application/x-www-form-urlencoded"')
        fetched = page.post("/_mock/reset?all=true", headers={"sec-fetch-site": "cross-site"})
        assert fetched.status_code == 403 and "Sec-Fetch-Site: cross-site" in fetched.json()["detail"]
        neighbour = page.post("/_mock/reset?all=true", headers={"sec-fetch-site": "same-site"})
        assert neighbour.status_code == 403
        opaque = page.post("/_mock/reset?all=true", headers={"origin": "null"})
        assert opaque.status_code == 403
    assert sessions_of(victim) == 1


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain;charset=UTF-8", "multipart/form-data; boundary=x",
                                          "application/x-www-form-urlencoded"])
def test_a_text_or_multipart_body_cannot_replace_a_tenant(
    own: MockServer, victim: httpx.Client, content_type: str
) -> None:
    key = victim.headers["x-api-key"]
    # What a text/plain form can send (`name=value`), or a form's encoding of the same fields.
    body = (json.dumps({"api_key": key, "x": ""})[:-2] + '=x"}').encode()
    if "x-www-form" in content_type:
        body = urlencode({'{"api_key": "' + key + '", "x": "': '"}'}).encode()
    refused = httpx.post(own.url + "/_mock/tenants", content=body, headers={"content-type": content_type})
    assert refused.status_code == 415, refused.text
    assert sessions_of(victim) == 1


def test_same_origin_and_non_browser_clients_keep_working(own: MockServer, victim: httpx.Client) -> None:
    origin = own.url  # what a page of the server itself sends
    advanced = victim.post("/_mock/clock/advance", json={"seconds": 5},
                           headers={"origin": origin, "sec-fetch-site": "same-origin"})
    assert advanced.status_code == 200, advanced.text
    typed = victim.post("/_mock/clock/advance", json={"seconds": 5}, headers={"sec-fetch-site": "none"})
    assert typed.status_code == 200, typed.text
    public = victim.post("/_mock/clock/advance", json={"seconds": 5}, headers={"origin": "http://didit.test:9999"})
    assert public.status_code == 200, public.text  # the configured public base URL is the server too
    yaml_scenario = victim.put("/_mock/scenarios", content=b"name: mine\n", headers={"content-type": "application/yaml"})
    assert yaml_scenario.status_code == 200, yaml_scenario.text


def test_curl_without_a_content_type_keeps_working(own: MockServer, victim: httpx.Client) -> None:
    """`curl -d '{...}'` and `curl --data-binary @file.yaml` label their bodies as forms."""
    before = victim.get("/_mock/clock").json()["timestamp"]
    as_curl = victim.post("/_mock/clock/advance", content=b'{"seconds": 5}', headers=FORM)
    assert as_curl.status_code == 200, as_curl.text
    assert as_curl.json()["timestamp"] == before + 5
    yaml_file = victim.put("/_mock/scenarios", content=b"name: from-curl\n", headers=FORM)
    assert yaml_file.status_code == 200, yaml_file.text  # a PUT is never sent cross-site without consent
    bodiless = victim.post("/_mock/clock/freeze")  # `curl -X POST`: no body, no type
    assert bodiless.status_code == 200, bodiless.text


def test_the_dashboard_forms_work_from_the_dashboard(own: MockServer, victim: httpx.Client) -> None:
    key = victim.headers["x-api-key"]
    clock = f"/_mock/ui/t/{tenant_ref(key)}/clock"
    origin = {"origin": own.url, "sec-fetch-site": "same-origin"}
    before = victim.get("/_mock/clock").json()["timestamp"]
    with httpx.Client(base_url=own.url, timeout=10) as browser:
        page = browser.get(clock, headers={"sec-fetch-site": "none"})
        assert page.status_code == 200
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
        assert token is not None
        posted = browser.post(f"{clock}/advance", data={"csrf": token.group(1), "seconds": "60"}, headers=origin)
        assert posted.status_code == 303, posted.text
        # Chromium sends the dashboard's forms with `Origin: null` (the pages' no-referrer policy).
        chromium = browser.post(f"{clock}/advance", data={"csrf": token.group(1), "seconds": "60"},
                                headers={"origin": "null", "sec-fetch-site": "same-origin"})
        assert chromium.status_code == 303, chromium.text
        # The same form from another site is refused before its CSRF token is even looked at.
        forged = browser.post(f"{clock}/advance", data={"csrf": token.group(1), "seconds": "60"},
                              headers={"origin": EVIL, "sec-fetch-site": "cross-site"})
        assert forged.status_code == 403
    assert victim.get("/_mock/clock").json()["timestamp"] == before + 120  # twice, by the dashboard's own forms


# ---------------------------------------------------------------- Host names (DNS rebinding)

def test_a_rebound_host_cannot_read_the_state(own: MockServer, victim: httpx.Client) -> None:
    refused = httpx.get(own.url + "/_mock/state?all=true", headers={"host": "rebind.evil.example"})
    assert refused.status_code == 403, refused.text
    detail = refused.json()["detail"]
    assert '"rebind.evil.example"' in detail and "--allow-host rebind.evil.example" in detail
    assert victim.headers["x-api-key"] not in refused.text
    dashboard = httpx.get(own.url + "/_mock/ui", headers={"host": "rebind.evil.example:8790"})
    assert dashboard.status_code == 403


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST.", "app.localhost:3000", "[::1]:8790",
                                  "10.1.2.3:8790", "didit.test:9999", "didit.test"])
def test_names_the_server_is_reachable_by_are_allowed(own: MockServer, victim: httpx.Client, host: str) -> None:
    answer = victim.get("/_mock/tenant", headers={"host": host})
    assert answer.status_code == 200, (host, answer.text)


def test_the_didit_api_answers_any_host_and_origin(own: MockServer) -> None:
    headers = {"x-api-key": new_key(), "host": "api.anything.example", "origin": EVIL,
               "sec-fetch-site": "cross-site"}
    created = httpx.post(own.url + "/v3/session/", json={"workflow_id": KYC_WORKFLOW}, headers=headers)
    assert created.status_code == 201, created.text
    health = httpx.get(own.url + "/system/healthcheck", headers={"host": "rebind.evil.example"})
    assert health.status_code == 200
    hosted = httpx.get(created.json()["url"].replace("http://didit.test:9999", own.url),
                       headers={"host": "rebind.evil.example"})
    assert hosted.status_code == 200


def test_allowed_hosts_come_from_the_flag_and_the_bound_name() -> None:
    guard = AdminGuard(Settings(host="mock.lan", allowed_hosts=["didit-mock", ".corp.example"]))
    for host in ("didit-mock:8790", "mock.lan", "a.corp.example", "corp.example", "192.168.1.5", "[fe80::1]:80"):
        assert guard.host_allowed(host), host
    for host in ("evil.example", "didit-mock.evil.example", "corp.example.evil", "localhost.evil.example"):
        assert not guard.host_allowed(host), host
    assert AdminGuard(Settings(allowed_hosts=["*"])).host_allowed("anything.example")
    assert not AdminGuard(Settings(host="0.0.0.0")).host_allowed("0.0.0.0.evil.example")


def test_allow_host_reaches_the_server() -> None:
    with MockServer(allowed_hosts=["didit-mock"]) as running:
        answer = httpx.get(running.url + "/_mock/tenant", headers={"host": "didit-mock:8790", "x-api-key": new_key()})
        assert answer.status_code == 200, answer.text
        refused = httpx.get(running.url + "/_mock/tenant", headers={"host": "other-mock:8790", "x-api-key": new_key()})
        assert refused.status_code == 403


def test_host_names_are_read_as_browsers_send_them() -> None:
    assert host_name("Example.COM:8790") == "example.com"
    assert host_name("[::1]:8790") == "::1"
    assert host_name("localhost.") == "localhost"
    assert is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.com")


# ---------------------------------------------------------------- exposure warning

def test_an_exposed_server_without_a_token_is_warned_about() -> None:
    warning = exposure_warning(Settings(host="0.0.0.0"))
    assert warning is not None and "--admin-token" in warning and "0.0.0.0" in warning
    assert exposure_warning(Settings(host="192.168.1.5")) is not None
    assert exposure_warning(Settings(host="0.0.0.0", admin_token="t")) is None
    assert exposure_warning(Settings(host="127.0.0.1")) is None
    assert exposure_warning(Settings(host="localhost")) is None


# ---------------------------------------------------------------- wrong admin tokens

@pytest.fixture
def guarded() -> Iterator[MockServer]:
    with MockServer(admin_token="right-token") as running:
        yield running


def test_wrong_admin_tokens_are_throttled_per_client(guarded: MockServer) -> None:
    with httpx.Client(base_url=guarded.url, timeout=10) as attacker:
        for attempt in range(5):
            wrong = attacker.get("/_mock/tenants/none", headers={"x-admin-token": f"guess-{attempt}"})
            assert wrong.status_code == 401, wrong.text
        throttled = attacker.get("/_mock/state?all=true", headers={"authorization": "Bearer guess-6"})
        assert throttled.status_code == 429, throttled.text
        assert 1 <= int(throttled.headers["retry-after"]) <= 60
        assert "Too many wrong admin tokens" in throttled.json()["detail"]
        # Even the right token waits: guessing on cannot find it.
        assert attacker.get("/_mock/state?all=true", headers={"x-admin-token": "right-token"}).status_code == 429
    # Another client (a proxy's X-Forwarded-For, trusted from loopback by the server) is not held up.
    other = httpx.get(guarded.url + "/_mock/state?all=true",
                      headers={"x-admin-token": "right-token", "x-forwarded-for": "10.9.8.7"})
    assert other.status_code == 200, other.text
    # The Didit API is not throttled.
    health = httpx.get(guarded.url + "/system/healthcheck")
    assert health.status_code == 200


def test_requests_without_a_token_are_not_counted(guarded: MockServer) -> None:
    for _ in range(8):
        assert httpx.get(guarded.url + "/_mock/tenant").status_code == 401
    assert httpx.get(guarded.url + "/_mock/tenant", headers={"x-admin-token": "right-token",
                                                              "x-api-key": new_key()}).status_code == 200


def test_wrong_tokens_on_the_login_form_count_too(guarded: MockServer) -> None:
    with httpx.Client(base_url=guarded.url, timeout=10) as browser:
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', browser.get("/_mock/ui/login").text)
        assert csrf is not None
        for attempt in range(5):
            answer = browser.post("/_mock/ui/login", data={"csrf": csrf.group(1), "token": f"guess-{attempt}"})
            assert answer.status_code == 401
        throttled = browser.post("/_mock/ui/login", data={"csrf": csrf.group(1), "token": "right-token"})
        assert throttled.status_code == 429 and "retry-after" in throttled.headers


def test_the_throttle_forgets_failures_older_than_its_window() -> None:
    now = [1000.0]
    throttle = FailureThrottle(limit=3, window=60, now=lambda: now[0])
    for _ in range(3):
        assert throttle.retry_after("1.2.3.4") == 0
        throttle.failed("1.2.3.4")
        now[0] += 10
    assert throttle.retry_after("1.2.3.4") == 30  # the first failure leaves the window at 1060
    assert throttle.retry_after("5.6.7.8") == 0
    now[0] = 1060.0
    assert throttle.retry_after("1.2.3.4") == 0


def test_the_throttle_remembers_a_bounded_number_of_clients() -> None:
    now = [0.0]
    throttle = FailureThrottle(limit=1, window=60, now=lambda: now[0], max_clients=3)
    for client in ("a", "b", "c", "d"):
        throttle.failed(client)
        now[0] += 1
    assert throttle.retry_after("d") > 0
    assert throttle.retry_after("a") == 0  # the stalest client was forgotten to make room
    assert len(throttle._failures) == 3


def test_the_start_up_line_names_the_bound_address() -> None:
    assert announcement(["http://127.0.0.1:8790"], "http://127.0.0.1:8790") == (
        "didit-mock listening on http://127.0.0.1:8790 (Ctrl-C to stop)")
    assert announcement(["http://0.0.0.0:8790"], "http://127.0.0.1:8790") == (
        "didit-mock listening on http://0.0.0.0:8790 (every interface; open http://127.0.0.1:8790) (Ctrl-C to stop)")
    assert "open https://mock.example" in announcement(["http://127.0.0.1:8790"], "https://mock.example")


def test_serve_on_every_interface_warns_and_names_the_bound_address(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])  # this checkout's package, wherever installed
    process = subprocess.Popen([sys.executable, "-m", "didit_mock", "serve", "--host", "0.0.0.0", "--port", str(port)],
                               env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killer = threading.Timer(30, process.kill)  # a server that never announces itself fails the test, not the run
    killer.start()
    try:
        lines = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "listening on" in line:
                break
        output = "".join(lines)
        assert f"listening on http://0.0.0.0:{port} (every interface; open http://127.0.0.1:{port})" in output, output
        assert "WARNING" in output and "--admin-token" in output, output
    finally:
        killer.cancel()
        process.send_signal(signal.SIGTERM)
        process.wait(10)


def test_allowed_hosts_come_from_the_environment_and_the_flag() -> None:
    from didit_mock.cli import build_parser

    assert Settings.from_env({"DIDIT_MOCK_ALLOWED_HOSTS": "didit-mock, mock.lan"}).allowed_hosts == [
        "didit-mock", "mock.lan"]
    args = build_parser().parse_args(["serve", "--allow-host", "didit-mock", "--allow-host", "*"])
    assert args.allow_host == ["didit-mock", "*"]


def _scope(method: str, path: str, **headers: str) -> dict:
    return {"type": "http", "method": method, "path": path, "client": ("10.0.0.1", 5000),
            "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]}


def test_behind_a_proxy_the_public_origin_is_the_servers_own() -> None:
    guard = AdminGuard(Settings(public_base_url="https://mock.example:443/"))
    proxied = _scope("POST", "/_mock/clock/advance", host="127.0.0.1:8790", origin="https://mock.example")
    assert guard.refusal(proxied) is None
    direct = _scope("POST", "/_mock/clock/advance", host="mock.example", origin="https://mock.example")
    assert guard.refusal(direct) is None
    elsewhere = _scope("POST", "/_mock/clock/advance", host="127.0.0.1:8790", origin="https://mock.example.evil")
    refused = guard.refusal(elsewhere)
    assert refused is not None and refused.status_code == 403
