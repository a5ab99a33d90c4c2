"""What a scenario author is told: risk codes checked per feature, every problem in one pass, and
the YAML surprises (octal, base 60, lost plus signs) explained.

The admin `complete` route checks risk codes the same way, answering in DRF's shape.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from didit_mock.cli import main
from didit_mock.domain.risks import FEATURE_RISKS
from didit_mock.scenario import ScenarioInvalid, load_text
from didit_mock.scenario.reading import MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_VALUES
from tests.conftest import create_session

LIVENESS_RISKS = ", ".join(FEATURE_RISKS["LIVENESS"])
AML_RISKS = ", ".join(FEATURE_RISKS["AML"])


def problems_of(text: str) -> list[str]:
    with pytest.raises(ScenarioInvalid) as refused:
        load_text(text, "s.yaml")
    return [str(p) for p in refused.value.problems]


def declined_with(feature: str, risks: str) -> str:
    return f"sessions:\n  - outcome:\n      features:\n        {feature}: {{status: Declined, risks: [{risks}]}}\n"


def test_an_unknown_risk_code_is_refused_with_the_features_codes() -> None:
    assert problems_of(declined_with("LIVENESS", "TOTALLY_MADE_UP_RISK")) == [
        "s.yaml:4: sessions[0].outcome.features.LIVENESS.risks[0]: unknown risk 'TOTALLY_MADE_UP_RISK' for "
        f"LIVENESS; LIVENESS risks: {LIVENESS_RISKS}"]


def test_a_misspelt_risk_code_gets_a_did_you_mean() -> None:
    assert problems_of(declined_with("face", "LOW_LIVENESS_SCORE, LIVENES_FACE_ATTAK")) == [
        "s.yaml:4: sessions[0].outcome.features.face.risks[1]: unknown risk 'LIVENES_FACE_ATTAK' for face "
        f"(did you mean 'LIVENESS_FACE_ATTACK'?); face risks: {LIVENESS_RISKS}"]


def test_a_risk_code_of_another_feature_is_refused() -> None:
    assert problems_of(declined_with("AML", "LIVENESS_FACE_ATTACK")) == [
        "s.yaml:4: sessions[0].outcome.features.AML.risks[0]: LIVENESS_FACE_ATTACK is a risk of LIVENESS and "
        f"AGE_ESTIMATION, not of AML; AML risks: {AML_RISKS}"]


def test_the_risk_codes_the_mock_produces_are_accepted() -> None:
    text = "".join(f"  - outcome: {{features: {{{feature}: {{status: Declined, risks: [{', '.join(codes)}]}}}}}}\n"
                   for feature, codes in FEATURE_RISKS.items())
    assert load_text("sessions:\n" + text, "s.yaml").scenario.sessions[0].outcome is not None


def test_every_problem_of_a_file_is_reported_in_one_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "many.yaml"
    path.write_text("sessions:\n"
                    "  - outcome: {status: Aproved}\n"
                    "  - match: {vendor_data: x}\n"
                    "    timeline:\n"
                    "      - {after: 1m, status: In Progress}\n"
                    "      - {after: 30s, status: Approved}\n"
                    "  - outcome: {features: {AML: {status: Declined, risks: [MADE_UP]}}}\n"
                    "workflows:\n"
                    "  - {id: not-a-uuid}\n"
                    "  - {id: 5ca1ab1e-0000-4000-8000-000000000001, features: [LIVENES]}\n"
                    "faults:\n"
                    "  - drop: true\n"
                    "    status: 502\n")
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[0:2] for line in lines] == [
        [f"{path}:2", "sessions[0].outcome.status"],  # the schema's error ...
        [f"{path}:6", "sessions[1].timeline[1].after"],  # ... no longer hides the cross-field ones
        [f"{path}:7", "sessions[2].outcome.features.AML.risks[0]"],
        [f"{path}:9", "workflows[0].id"],
        [f"{path}:10", "workflows[1].features[0]"],  # indices of the whole file, not of the accepted part
        [f"{path}:13", "faults[0].status"],
    ]


@pytest.mark.parametrize(("value", "explained"), [
    ("012345", 'got the number 5349: YAML reads the unquoted 012345 as an octal number (a leading 0); quote it '
               '("012345") to keep it as written'),
    ("0x1F2E", 'got the number 7982: YAML reads the unquoted 0x1F2E as a hexadecimal number; quote it ("0x1F2E")'),
    ("1:30", 'got the number 90: YAML reads the unquoted 1:30 as a base-60 number (digits separated by colons); '
             'quote it ("1:30")'),
    ("+4930", 'got the number 4930: YAML reads the unquoted +4930 as a number without its plus sign; quote it '
              '("+4930")'),
])
def test_yaml_number_surprises_are_explained(value: str, explained: str) -> None:
    text = f"faults:\n  - status: 500\n    headers: {{X-Code: {value}}}\n"
    [problem] = problems_of(text)
    assert problem.startswith(f"s.yaml:3: faults[0].headers.X-Code: expected a string, {explained}")


def test_a_plain_number_keeps_the_short_hint() -> None:
    assert problems_of('phone:\n  - match: "+1202555"\n    code: 123456\n') == [
        "s.yaml:3: phone[0].code: expected a string, got the number 123456: quote it (YAML reads unquoted digits "
        "as a number)"]


def test_admin_complete_refuses_unknown_risk_codes_in_drf_shape(client: httpx.Client) -> None:
    session = create_session(client)
    path = f"/_mock/sessions/{session['session_id']}/complete"
    made_up = client.post(path, json={"status": "Declined", "features": {"AML": {"status": "Declined",
                                                                                 "risk": "MADE_UP"}}})
    assert made_up.status_code == 400
    assert made_up.json() == {"features": {"AML": [f"Unknown risk 'MADE_UP' for AML; AML risks: {AML_RISKS}."]}}
    typo = client.post(path, json={"features": {"AML": {"status": "In Review", "risks": ["POSIBLE_MATCH_FOUND"]}}})
    assert typo.json()["features"]["AML"][0].startswith(
        "Unknown risk 'POSIBLE_MATCH_FOUND' for AML (did you mean 'POSSIBLE_MATCH_FOUND'?)")
    elsewhere = client.post(path, json={"features": {"LIVENESS": {"status": "Declined",
                                                                  "risks": ["POSSIBLE_MATCH_FOUND"]}}})
    assert elsewhere.status_code == 400
    assert elsewhere.json()["features"]["LIVENESS"][0].startswith(
        "POSSIBLE_MATCH_FOUND is a risk of AML, not of LIVENESS;")
    assert client.get(f"/v3/session/{session['session_id']}/decision/").json()["status"] == "Not Started"
    fine = client.post(path, json={"features": {"AML": {"status": "Declined", "risk": "POSSIBLE_MATCH_FOUND"}}})
    assert fine.status_code == 200 and fine.json()["status"] == "Declined"


def test_the_docs_list_each_features_risk_codes_and_the_limits() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "scenarios.md").read_text(encoding="utf-8")
    for feature, codes in FEATURE_RISKS.items():
        assert f"| `{feature}` | " + ", ".join(f"`{code}`" for code in codes) + " |" in text, feature
    assert f"larger than 256 KiB ({MAX_DOCUMENT_BYTES:,} bytes)" in text
    assert f"nested deeper than {MAX_DEPTH} levels" in text
    assert f"more than {MAX_VALUES:,} values once its aliases" in text


def test_duplicate_keys_do_not_hide_the_other_problems() -> None:
    assert problems_of("name: one\nphone: [{match: nope}]\nname: two\n") == [
        "s.yaml:2: phone[0].match: expected an E.164 prefix such as +1555 or +1555*, got 'nope'",
        "s.yaml:3: duplicate key 'name' (first at line 1)",
    ]


def test_a_match_condition_yaml_reads_as_another_number_is_refused() -> None:
    assert problems_of("sessions:\n  - outcome: {status: Nope}\n"
                       "  - match: {vendor_data: 012345, metadata: {tier: 0x10, count: 5}}\n"
                       "    outcome: {status: Approved}\n") == [
        "s.yaml:2: sessions[0].outcome.status: Input should be 'Approved', 'Declined', 'In Review' or "
        "'Abandoned', got 'Nope'",
        "s.yaml:3: sessions[1].match.vendor_data: the condition compares with the number 5349: YAML reads the "
        'unquoted 012345 as an octal number (a leading 0); quote it ("012345") to keep it as written',
        "s.yaml:3: sessions[1].match.metadata.tier: the condition compares with the number 16: YAML reads the "
        'unquoted 0x10 as a hexadecimal number; quote it ("0x10") to keep it as written',
    ]
