"""The image, built from the Dockerfile and run for real with podman: health check, a session, SIGTERM.

Marked `container` (deselect with `-m "not container"`). Skipped, with the reason, where podman
cannot run. Where `python:3.11-slim` cannot be pulled, `scripts/make-base-image` makes a stand-in
(Debian with its python3, by debootstrap) under that name, once; the build then reuses podman's
layer cache, so a run after a source change rebuilds only the package layer.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from didit_mock.server import free_port

from .conftest import KYC_WORKFLOW

pytestmark = pytest.mark.container

ROOT = Path(__file__).resolve().parents[1]
BASE_IMAGE = "python:3.11-slim"
IMAGE = "localhost/didit-mock:container-test"
RUN_FLAGS = ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
HEALTHY_WITHIN = 60.0
STOPPED_WITHIN = 5.0


def _podman(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def _podman_unusable() -> str | None:
    """Why podman cannot run containers here, or None."""
    if shutil.which("podman") is None:
        return "podman is not installed (apt-get install podman)"
    if shutil.which("runc") is None:
        return "the runc runtime is not installed (apt-get install runc)"
    try:
        info = subprocess.run(["podman", "info"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"podman info failed: {exc}"
    if info.returncode != 0:
        return f"podman cannot run here: {info.stderr.strip().splitlines()[-1:]}"
    return None


@pytest.fixture(scope="module")
def image() -> str:
    reason = _podman_unusable()
    if reason:
        pytest.skip(reason)
    if _podman("image", "exists", BASE_IMAGE, check=False).returncode != 0:
        made = subprocess.run([str(ROOT / "scripts" / "make-base-image")], capture_output=True, text=True,
                              timeout=1200, check=False)
        assert made.returncode == 0, f"scripts/make-base-image failed:\n{made.stderr[-3000:]}"
    # `--format docker`: the OCI format has no HEALTHCHECK. `chroot`: no nested namespaces needed.
    _podman("build", "--isolation=chroot", "--format", "docker", "-q", "-t", IMAGE, str(ROOT), timeout=1200)
    return IMAGE


@pytest.fixture
def container(image: str) -> Iterator[tuple[str, str]]:
    """A running container of the image: (name, URL of its published port)."""
    name = f"didit-mock-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    _podman("run", "-d", "--name", name, *RUN_FLAGS, "-p", f"127.0.0.1:{port}:8790", image)
    try:
        yield name, f"http://127.0.0.1:{port}"
    finally:
        _podman("rm", "-f", "-t", "0", name, check=False)


def _wait_healthy(name: str) -> None:
    """Run the image's own HEALTHCHECK until it passes (each run takes a moment: no sleep needed)."""
    deadline = time.monotonic() + HEALTHY_WITHIN
    last = None
    while time.monotonic() < deadline:
        last = _podman("healthcheck", "run", name, check=False)
        if last.returncode == 0:
            return
        if _podman("inspect", "--format", "{{.State.Running}}", name).stdout.strip() != "true":
            break
    logs = _podman("logs", name, check=False)
    raise AssertionError(f"not healthy: {last.stdout if last else ''}{last.stderr if last else ''}\n"
                         f"{logs.stdout}{logs.stderr}")


def test_the_image_serves_a_session_and_stops_on_sigterm(container: tuple[str, str]) -> None:
    name, url = container
    _wait_healthy(name)
    headers = {"x-api-key": "sk_container_test"}
    created = httpx.post(f"{url}/v3/session/", json={"workflow_id": KYC_WORKFLOW, "vendor_data": "c-1"},
                         headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    session_id = created.json()["session_id"]
    decision = httpx.get(f"{url}/v3/session/{session_id}/decision/", headers=headers, timeout=10)
    assert decision.status_code == 200, decision.text
    assert decision.json()["session_id"] == session_id and decision.json()["status"] == "Not Started"

    began = time.monotonic()
    _podman("stop", "-t", "30", name)  # SIGTERM; SIGKILL only after 30 s
    stopped_in = time.monotonic() - began
    state = _podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
    assert state == "0", _podman("logs", name, check=False).stderr
    assert stopped_in < STOPPED_WITHIN
    logs = _podman("logs", name, check=False)
    assert "didit-mock listening on http://0.0.0.0:8790 (every interface; open http://127.0.0.1:8790)" in logs.stdout
    assert "Application shutdown complete." in logs.stderr
