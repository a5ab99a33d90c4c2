"""Start-up stays cheap: heavy dependencies load on first use, and `MockServer.start` reports failures.

The import checks run in a fresh interpreter (this test process has imported everything already).
"""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from didit_mock.server import MockServer

#: Loaded by the first request, scenario or command that needs them, never by starting the server.
LAZY = ("phonenumbers", "yaml", "faker", "fpdf", "jwt", "jinja2", "httpx", "didit_mock.scenario.schema")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {LAZY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return result.stdout.split()


def test_starting_an_in_process_server_loads_no_lazy_dependency() -> None:
    code = "from didit_mock.server import MockServer\nMockServer(warm_up=False).start().stop()"
    assert _loaded_after(code) == []  # the warm-up (on by default) loads them after start, in the background


def test_the_command_line_parser_loads_no_lazy_dependency() -> None:
    assert _loaded_after("from didit_mock.cli import build_parser\nbuild_parser()") == []


def test_the_lazy_dependencies_still_load_when_used() -> None:
    code = (
        "from didit_mock.domain.otp import OtpConfig, phone_facts\n"
        "from didit_mock.scenario import load_text\n"
        "assert phone_facts.lookup('+442079460000', OtpConfig()).line_type == 'fixed_line'\n"
        "assert load_text('name: probe\\n', 'probe').name == 'probe'\n"
    )
    assert {"phonenumbers", "yaml", "didit_mock.scenario.schema"} <= set(_loaded_after(code))


def test_start_fails_at_once_when_the_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = MockServer(port=taken.getsockname()[1])
        with pytest.raises(RuntimeError, match="did not start"):
            server.start(timeout=60)
        server.stop()
