"""`didit-mock validate` and `didit-mock schema`, and refusing bad scenario files at start-up.

Every problem is printed as `path:line: reason`; the command is run both in-process
(`didit_mock.cli.main`) and as a real process (`python -m didit_mock`).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from didit_mock.cli import main
from didit_mock.scenario import ScenarioInvalid
from didit_mock.scenario.schema import json_schema_text
from didit_mock.server import MockServer, free_port

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "scenarios"
SHIPPED_SCHEMA = ROOT / "didit_mock" / "scenario" / "scenario.schema.json"

#: (file name, content, the expected message after "path:")
BROKEN = [
    ("syntax.yaml", 'name: syntax\nsessions:\n  - match: {vendor_data: "x"\n    outcome: {status: Approved}\n',
     "4: invalid YAML: expected ',' or '}', but got '<scalar>' (while parsing a flow mapping that starts at line 3)"),
    ("unknown-key.yaml", "name: typo\nsessions:\n  - match: {vendor_data: x}\n    outcom: {status: Declined}\n",
     "4: sessions[0]: unknown key 'outcom' (did you mean 'outcome'?); allowed here: name, match, outcome, "
     "timeline, wait"),
    ("bad-status.yaml", "sessions:\n  - match: {vendor_data: x}\n    outcome:\n      status: Aproved\n",
     "4: sessions[0].outcome.status: Input should be 'Approved', 'Declined', 'In Review' or 'Abandoned', "
     "got 'Aproved'"),
    ("unquoted-code.yaml", 'phone:\n  - match: "+1202555"\n    code: 123456\n',
     "3: phone[0].code: expected a string, got the number 123456: quote it (YAML reads unquoted digits as a number)"),
    ("bad-prefix.yaml", 'phone:\n  - match: "1202555"\n    code: "123456"\n',
     "2: phone[0].match: expected an E.164 prefix such as +1555 or +1555*, got '1202555'"),
    ("bad-regex.yaml", 'sessions:\n  - match:\n      vendor_data: {regex: "fraud-("}\n    outcome: {status: Declined}\n',
     "3: sessions[0].match.vendor_data: invalid regular expression: missing ), unterminated subpattern at position 6"),
    ("backwards.yaml", "sessions:\n  - match: {vendor_data: x}\n    timeline:\n      - {after: 1m, status: In Progress}\n"
                       "      - {after: 30s, status: Approved}\n",
     "5: sessions[0].timeline[1].after: steps go forward in time: 30s is before the previous step's 60s"),
    ("impossible.yaml", "sessions:\n  - match: {vendor_data: x}\n    timeline:\n      - {status: Declined}\n"
                        "      - {after: 5, status: In Review}\n",
     "5: sessions[0].timeline[1].status: a session that is Declined cannot be put In Review (manual decisions "
     "are Approved, Declined, Resubmitted)"),
    ("feature.yaml", "sessions:\n  - match: {vendor_data: x}\n    outcome:\n      features:\n        LIVENES: Declined\n",
     "5: sessions[0].outcome.features.LIVENES: unknown feature 'LIVENES' (did you mean 'LIVENESS'?); features: "
     "AGE_ESTIMATION, AML, DATABASE_VALIDATION, EMAIL_VERIFICATION, FACE_MATCH, ID_VERIFICATION, IP_ANALYSIS, "
     "KYB_DOCUMENTS, KYB_KEY_PEOPLE, KYB_REGISTRY, LIVENESS, NFC, PHONE, POA, QUESTIONNAIRE"),
    ("two-triggers.yaml", "faults:\n  - path: /v3/session/\n    first: 1\n    every: 2\n    status: 500\n",
     "4: faults[0].every: choose one of first, every, calls or probability (also first)"),
    ("drop-status.yaml", "faults:\n  - drop: true\n    status: 502\n",
     "3: faults[0].status: a dropped connection has no status"),
    ("nothing.yaml", "sessions:\n  - name: what now\n    match: {vendor_data: x}\n",
     "2: sessions[0]: say what happens to matching sessions: an outcome, a timeline, or wait: true"),
    ("missing.yaml", 'phone:\n  - code: "123456"\n', "2: phone[0]: missing required key 'match'"),
    ("duplicate-key.yaml", "name: dup\nfaults: []\nphone: []\nfaults: []\n",
     "4: duplicate key 'faults' (first at line 2)"),
    ("yes.yaml", 'faults:\n  - status: 500\n    headers: {X-Fault: yes}\n',
     "3: faults[0].headers.X-Fault: expected a string, got the boolean True: quote it (YAML reads yes, no, on, off "
     "as booleans)"),
    ("empty.yaml", "", "1: the document is empty: a scenario is a mapping with keys such as sessions, phone, email, "
                       "faults"),
    ("list.yaml", "- a\n- b\n", "1: a scenario is a mapping with keys such as sessions, phone, email, faults"),
]


@pytest.mark.parametrize(("name", "content", "expected"), BROKEN, ids=[case[0] for case in BROKEN])
def test_validate_reports_file_line_and_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                                               content: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    assert main(["validate", str(path)]) == 1
    assert capsys.readouterr().out.splitlines() == [f"{path}:{expected}"]


def test_validate_reports_every_problem_of_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "many.yaml"
    path.write_text("name: many\nsessions:\n  - match: {vendor_data: x}\n    outcome: {status: Nope}\n"
                    "phone:\n  - match: nope\n")
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{path}:4", f"{path}:6"]


def test_validate_a_folder_and_conflicts_between_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.yaml").write_text("name: team\ntenants: [{api_key: sk_test_shared}]\n")
    (tmp_path / "b.yml").write_text("name: team\ntenants:\n  - api_key: sk_test_shared\n")
    (tmp_path / "notes.txt").write_text("not a scenario")
    assert main(["validate", str(tmp_path), str(tmp_path / "gone.yaml")]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{tmp_path / 'gone.yaml'}: no such file or directory",
        f"{tmp_path / 'b.yml'}:1: scenario name 'team' is already used by {tmp_path / 'a.yaml'}",
        f"{tmp_path / 'b.yml'}:3: tenants[0].api_key: sk_test_shared is already declared in {tmp_path / 'a.yaml'}",
    ]


def test_validate_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "one.yaml").write_text('phone: [{match: "+1202555", code: "123456"}]\n')
    (tmp_path / "two.yaml").write_text("faults: [{path: /v3/sessions/, every: 2, status: 503}]\n")
    assert main(["validate", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "ok: 2 scenario(s)\n"


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "didit_mock", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})})


def test_validate_as_a_process(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nfaults:\n  - status: 700\n")
    done = run_cli("validate", str(bad), str(EXAMPLES))
    assert done.returncode == 1
    assert done.stdout.splitlines() == [f"{bad}:3: faults[0].status: Input should be less than or equal to 599"]
    done = run_cli("validate", str(EXAMPLES))
    assert (done.returncode, done.stdout) == (0, f"ok: {len(list(EXAMPLES.glob('*.yaml')))} scenario(s)\n")


# ---------------------------------------------------------------- the JSON Schema

def test_the_shipped_schema_is_current() -> None:
    """Regenerates didit_mock/scenario/scenario.schema.json when stale (and fails: commit the new one)."""
    current = json_schema_text()
    if SHIPPED_SCHEMA.read_text(encoding="utf-8") != current:
        SHIPPED_SCHEMA.write_text(current, encoding="utf-8")
        pytest.fail(f"{SHIPPED_SCHEMA} was stale and has been regenerated")


def test_schema_command_prints_the_shipped_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == SHIPPED_SCHEMA.read_text(encoding="utf-8")
    assert json.loads(printed)["title"] == "didit-mock scenario"
    done = run_cli("schema")
    assert (done.returncode, done.stdout) == (0, printed)


def test_editors_accept_the_examples_and_refuse_unknown_keys() -> None:
    """What an editor checks with the JSON Schema agrees with the loader on the shipped examples."""
    validator = jsonschema.Draft202012Validator(json.loads(SHIPPED_SCHEMA.read_text(encoding="utf-8")))
    for path in sorted(EXAMPLES.glob("*.yaml")):
        assert list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))) == [], path
    assert not validator.is_valid({"sessions": [{"match": {"vendor_data": "x"}, "outcom": {}}]})
    assert not validator.is_valid({"faults": [{"status": 429, "retry_after": 0}]})


# ---------------------------------------------------------------- refusing to start

BAD = "name: bad\nsessions:\n  - match: {vendor_data: x}\n    outcome: {status: Aproved}\n"


def test_mock_server_refuses_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    with pytest.raises(ScenarioInvalid) as refused:
        MockServer(scenarios=[str(bad)])
    assert str(refused.value).startswith(f"{bad}:4: sessions[0].outcome.status: Input should be 'Approved'")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("via", ["flag", "env"])
def test_serve_exits_with_the_message_before_binding(tmp_path: Path, via: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    port = free_port()
    if via == "flag":
        done = run_cli("serve", "--port", str(port), "--scenario", str(tmp_path / "fine.yaml"), "--scenario", str(bad))
    else:
        done = run_cli("serve", "--port", str(port), env={"DIDIT_MOCK_SCENARIOS": str(bad)})
    assert done.returncode == 1
    assert f"{bad}:4: sessions[0].outcome.status: Input should be 'Approved'" in done.stderr
    assert "listening" not in done.stdout
    if via == "flag":
        assert f"{tmp_path / 'fine.yaml'}: no such file or directory" in done.stderr
    assert port_is_free(port)
