"""The state file stays durable while the server runs: a SIGKILL loses at most about a second,
a failed write is an error exit, and nothing a killed write leaves behind survives a start."""

from __future__ import annotations

import contextlib
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import create_session, new_key
from tests.test_state import WAIT, _ready, _serve, _stop, free_port

#: How long the journal may take to hold an acknowledged change (its interval is one second).
DURABLE_WITHIN = 3.0


def journal_holds(journal: Path, key: str, sessions: int) -> bool:
    """Whether the journal's last line for `key` holds `sessions` sessions."""
    if not journal.exists():
        return False
    last = None
    for line in journal.read_text("utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("api_key") == key:
            last = entry
    return bool(last and len(last["tenant"]["sessions"]["sessions"]) == sessions)


def wait_until_journal_holds(journal: Path, key: str, sessions: int) -> None:
    """Until the server's own writer (about once a second) has journaled the change, at most a bound."""
    deadline = time.monotonic() + DURABLE_WITHIN
    while not journal_holds(journal, key, sessions):
        assert time.monotonic() < deadline, f"the journal did not get {sessions} session(s) of {key}"
        time.sleep(0.05)


@contextlib.contextmanager
def served(state_file: Path, port: int, key: str, *, kill: bool = False) -> Iterator[httpx.Client]:
    """`didit-mock serve --state-file` in a subprocess, and a client of `key`; stopped with SIGTERM,
    or killed with SIGKILL (`kill`), when the block ends."""
    process = _serve(port, state_file)
    url = f"http://127.0.0.1:{port}"
    try:
        _ready(process, url)
        with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=10) as http:
            yield http
    finally:
        if kill:
            process.send_signal(signal.SIGKILL)
            process.wait(WAIT)
        else:
            _stop(process)
            assert process.returncode in (0, -signal.SIGTERM)


def test_a_sigkill_after_a_burst_of_creates_loses_nothing_older_than_a_second(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    journal = tmp_path / "state.json.journal"
    port, key = free_port(), new_key()
    with served(state_file, port, key, kill=True) as http:
        made = [create_session(http, vendor_data=f"burst-{n}")["session_id"] for n in range(25)]
        wait_until_journal_holds(journal, key, 25)
    with served(state_file, port, key) as http:
        listed = http.get("/v3/sessions/", params={"limit": 100}).json()
        assert sorted(row["session_id"] for row in listed["results"]) == sorted(made)
        assert not journal.exists()  # the start compacted the journal into the document
        document = json.loads(state_file.read_text("utf-8"))
        assert key in {tenant["api_key"] for tenant in document["tenants"]}


def test_a_line_cut_short_by_a_crash_is_ignored_and_the_rest_is_kept(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    port, key = free_port(), new_key()
    with served(state_file, port, key) as http:
        kept = create_session(http, vendor_data="kept")["session_id"]
    journal = tmp_path / "state.json.journal"
    journal.write_text('{"api_key": "' + key + '", "deleted": tr', "utf-8")  # a write killed halfway
    with served(state_file, port, key) as http:
        assert http.get(f"/v3/session/{kept}/decision/").status_code == 200


def test_a_reset_tenant_is_not_brought_back_by_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    journal = tmp_path / "state.json.journal"
    port, key = free_port(), new_key()
    with served(state_file, port, key, kill=True) as http:
        create_session(http)
        wait_until_journal_holds(journal, key, 1)
        assert http.post("/_mock/reset").status_code == 200
        wait_until_journal_holds(journal, key, 0)
    with served(state_file, port, key) as http:
        assert http.get("/v3/sessions/").json()["count"] == 0


def test_a_write_that_fails_at_shutdown_is_an_error_exit_with_its_reason(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    state_file = folder / "state.json"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = _serve(port, state_file)
    try:
        _ready(process, url)
        with httpx.Client(base_url=url, headers={"x-api-key": new_key()}, timeout=10) as http:
            create_session(http)
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()
    finally:
        _stop(process)
    stderr = process.stderr.read() if process.stderr else ""
    assert process.returncode == 1
    assert f"didit-mock: cannot write the state file {state_file}: the directory {folder} no longer exists" in stderr
    assert "Traceback" not in stderr


def test_temporary_files_of_a_killed_write_are_removed_at_start(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    leftover = tmp_path / ".didit-mock-state-abc123.tmp"
    leftover.write_text('{"format": "didit-mock-st', "utf-8")
    port = free_port()
    process = _serve(port, state_file)
    try:
        _ready(process, f"http://127.0.0.1:{port}")
        assert not leftover.exists()
    finally:
        _stop(process)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_a_restart_on_another_port_moves_every_link_to_it(tmp_path: Path) -> None:
    """The hosted links, media links and the tenant's base URL follow the server to its new port."""
    state_file = tmp_path / "state.json"
    first, second, key = free_port(), free_port(), new_key()
    with served(state_file, first, key) as http:
        made = create_session(http, vendor_data="moved")
        http.post(f"/_mock/sessions/{made['session_id']}/complete", json={"status": "Approved"})
        before = http.get(f"/v3/session/{made['session_id']}/decision/").text
    assert f"127.0.0.1:{first}/" in before
    with served(state_file, second, key) as http:
        decision = http.get(f"/v3/session/{made['session_id']}/decision/")
        listed = http.get("/v3/sessions/").json()["results"][0]
        new = create_session(http, vendor_data="after")
        tenant = http.get("/_mock/tenant").json()
        hosted = httpx.get(decision.json()["session_url"])
    old_base, new_base = f"http://127.0.0.1:{first}", f"http://127.0.0.1:{second}"
    assert old_base not in decision.text and old_base not in json.dumps(listed)
    assert decision.text == before.replace(old_base, new_base)
    assert new["url"].startswith(new_base + "/session/")
    assert tenant["settings"]["public_base_url"] == new_base
    assert hosted.status_code == 200
