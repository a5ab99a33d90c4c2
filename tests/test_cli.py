"""The `didit-mock` command as a user runs it: flag errors, start-up errors, logs, Ctrl-C (by subprocess)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from didit_mock import __version__

ROOT = Path(__file__).resolve().parents[1]
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIDIT_MOCK_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return {**env, **extra}


def _run(*args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "didit_mock", *args], capture_output=True, text=True,
                          env=_env(**env), cwd=ROOT, timeout=timeout, check=False)


class Served:
    """A `didit-mock serve` process; `url` is read from its announcement."""

    def __init__(self, *args: str):
        self.process = subprocess.Popen([sys.executable, "-m", "didit_mock", "serve", *args], env=_env(), cwd=ROOT,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.announcement = self.process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", self.announcement)
        assert match, (self.announcement, self.stop())
        self.url = match.group(1)

    def stop(self) -> str:
        """SIGTERM, then everything it logged."""
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=20)
        return err


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_version() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"didit-mock {__version__}"


def test_an_unknown_serve_flag_shows_serves_usage() -> None:
    result = _run("serve", "--bogus")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: didit-mock serve ")
    assert "didit-mock serve: error: unrecognized arguments: --bogus" in result.stderr


@pytest.mark.parametrize(("flag", "value", "reason"), [
    ("--port", "99999", "99999 is not a port (1-65535, or 0 for any free port)"),
    ("--port", "-1", "-1 is not a port"),
    ("--port", "http", "'http' is not a whole number"),
    ("--log-level", "loud", "'loud' is not one of critical, error, warning, info, debug, trace"),
    ("--rate-limit-scale", "-1", "-1 is not a number above 0"),
    ("--rate-limit-scale", "0", "0 is not a number above 0"),
    ("--rate-limit-scale", "nan", "nan is not a number above 0"),
    ("--decision-rate-limit", "0", "0 is not a whole number from 1"),
    ("--journal-size", "-5", "-5 is not a whole number from 0"),
    ("--auth-mode", "open", "invalid choice: 'open'"),
    ("--public-base-url", "localhost:8790", "'localhost:8790' is not an http:// or https:// URL"),
    ("--webhook-url", "ftp://x", "'ftp://x' is not an http:// or https:// URL"),
])
def test_a_bad_flag_value_is_an_argparse_error_naming_the_flag(flag: str, value: str, reason: str) -> None:
    result = _run("serve", f"{flag}={value}")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("usage: didit-mock serve ")
    assert f"didit-mock serve: error: argument {flag}: {reason}" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(("variable", "value", "reason"), [
    ("DIDIT_MOCK_PORT", "70000", "70000 is not a port"),
    ("DIDIT_MOCK_PORT", "eighty", "'eighty' is not a whole number"),
    ("DIDIT_MOCK_LOG_LEVEL", "loud", "'loud' is not one of"),
    ("DIDIT_MOCK_RATE_LIMIT_SCALE", "-1", "-1.0 is not a number above 0"),
])
def test_a_bad_environment_variable_is_an_error_naming_it(variable: str, value: str, reason: str) -> None:
    result = _run("serve", **{variable: value})
    assert result.returncode == 2
    assert f"didit-mock serve: error: {variable}: {reason}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_busy_port_is_one_line_with_the_hint_before_any_start_up(busy_port: int) -> None:
    result = _run("serve", "--port", str(busy_port))
    assert result.returncode == 1
    assert result.stderr == (f"didit-mock: port {busy_port} is already in use on 127.0.0.1; "
                             "choose another with --port or DIDIT_MOCK_PORT\n")
    assert result.stdout == ""  # no "listening on", no "Application startup complete"


def test_a_busy_port_from_the_environment_says_the_same(busy_port: int) -> None:
    result = _run("serve", DIDIT_MOCK_PORT=str(busy_port))
    assert result.returncode == 1
    assert f"port {busy_port} is already in use" in result.stderr and "DIDIT_MOCK_PORT" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_host_that_does_not_resolve_is_one_line() -> None:
    result = _run("serve", "--host", "no-such-host.invalid", "--port", "0")
    assert result.returncode == 1
    assert result.stderr.startswith("didit-mock: cannot resolve the host 'no-such-host.invalid'")
    assert "--host or DIDIT_MOCK_HOST" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""


def test_port_zero_binds_a_free_port_and_announces_it() -> None:
    served = Served("--port", "0")
    try:
        port = int(served.url.rsplit(":", 1)[1])
        assert port > 0
        assert httpx.get(served.url + "/system/healthcheck", timeout=10).status_code == 200
        created = httpx.post(served.url + "/v3/session/", headers={"x-api-key": "k"}, timeout=10,
                             json={"workflow_id": "d1d17000-0000-4000-8000-000000000001"})
        assert created.json()["url"].startswith(f"http://127.0.0.1:{port}/")  # hosted URLs use the bound port
    finally:
        served.stop()
    assert served.process.returncode == 0


def test_uvicorns_lines_and_the_projects_share_one_format_and_refused_keys_are_announced() -> None:
    served = Served("--port", "0", "--api-key", "sk_only_this_one", "--access-log")
    try:
        refused = httpx.get(served.url + "/v3/sessions/", headers={"x-api-key": "another"}, timeout=10)
        httpx.get(served.url + "/v3/sessions/", headers={"x-api-key": "another"}, timeout=10)
    finally:
        log = served.stop()
    assert refused.status_code == 401 and refused.json() == {"detail": "Invalid API Key."}
    lines = log.splitlines()
    assert lines and all(LOG_LINE.match(line) for line in lines), log
    assert any(" INFO uvicorn.error: Application startup complete." in line for line in lines)
    assert any(" INFO uvicorn.access: " in line and "GET /v3/sessions/" in line for line in lines)
    [keys] = [line for line in lines if "only these API keys are accepted" in line]
    assert " WARNING didit_mock: " in keys and keys.endswith("any other key gets 401: sk_only_this_one")
    [why] = [line for line in lines if "didit_mock.auth" in line]  # once per refused key
    assert " WARNING didit_mock.auth: API key 'another' refused (Didit's 401/403 answer): the server accepts only " \
           "sk_only_this_one " in why


def _interrupted_at(target: str, raised: str = "KeyboardInterrupt") -> subprocess.CompletedProcess[str]:
    """`didit-mock serve` with a Ctrl-C (`raised`) raised at `target` (module:Class.function) during start-up."""
    module, function = target.split(":")
    owner, _, function = function.rpartition(".")
    holder = f"mod.{owner}" if owner else "mod"
    code = (f"import asyncio, importlib\nmod = importlib.import_module({module!r})\n"
            f"def interrupted(*args, **kwargs):\n    raise {raised}\n"
            f"setattr({holder}, {function!r}, interrupted)\n"
            "from didit_mock.cli import main\nraise SystemExit(main(['serve', '--port', '0']))\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), cwd=ROOT,
                          timeout=60, check=False)


@pytest.mark.parametrize("target", ["didit_mock.app:create_app", "didit_mock.server:bind_socket",
                                    "didit_mock.cli:build_parser"])
def test_ctrl_c_during_start_up_exits_quietly(target: str) -> None:
    result = _interrupted_at(target)
    assert result.returncode == 0
    assert "Traceback" not in result.stderr and "KeyboardInterrupt" not in result.stderr
    assert result.stdout == ""


def test_a_ctrl_c_that_cancels_uvicorns_main_task_before_it_starts_exits_quietly() -> None:
    """A SIGINT in the instant before uvicorn catches signals cancels its main task: CancelledError."""
    result = _interrupted_at("uvicorn.server:Server.serve", raised="asyncio.CancelledError")
    assert "Traceback" not in result.stderr and "CancelledError" not in result.stderr, result.stderr
    assert result.returncode == 0 and result.stdout == ""


def test_a_real_ctrl_c_while_uvicorn_starts_prints_no_traceback() -> None:
    """The key warning is logged between the app's creation and uvicorn's start-up: interrupt there."""
    process = subprocess.Popen([sys.executable, "-m", "didit_mock", "serve", "--port", "0", "--api-key", "k"],
                               env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    first = process.stderr.readline()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert "only these API keys are accepted" in first
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert process.returncode == 0


def test_keys_a_loaded_scenario_restricts_to_are_logged_at_start() -> None:
    served = Served("--port", "0", "--scenario", str(ROOT / "scenarios" / "live-tenant.yaml"))
    log = served.stop()
    [keys] = [line for line in log.splitlines() if "only these API keys are accepted" in line]
    assert keys.endswith("any other key gets 401: sk_live_scenario_example_key_0000000000000000000")


def test_the_validate_responses_flag_reaches_the_settings() -> None:
    from didit_mock.cli import build_parser

    assert build_parser().parse_args(["serve", "--validate-responses"]).validate_responses is True
    assert build_parser().parse_args(["serve"]).validate_responses is False
