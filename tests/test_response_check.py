"""The optional response check: an answer that breaks the spec is reported once, a good one never."""

from __future__ import annotations

from didit_mock.spec.table import api_operations
from didit_mock.web.http import json_response
from didit_mock.web.response_check import ResponseCheck

OPERATIONS = {op.operation_id: op for op in api_operations()}


def test_an_answer_that_breaks_the_schema_is_reported_once() -> None:
    check = ResponseCheck()
    create = OPERATIONS["post_v3_session_create"]
    wrong = json_response({"session_id": 7, "session_number": "one"}, 201)
    check(create, wrong)
    check(create, wrong)
    assert len(check.violations) == 1
    assert check.violations[0].startswith("POST /v3/session/ 201: ")


def test_a_conforming_answer_and_a_non_json_answer_are_not_reported() -> None:
    check = ResponseCheck()
    health = OPERATIONS["get_system_healthcheck"]
    check(health, json_response({"status": "ok", "timestamp": "2026-01-01T00:00:00.000Z"}))
    assert check.violations == []
