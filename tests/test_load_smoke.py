"""The load test's quick mode: concurrent tenants and clients break no invariant.

`python -m benchmarks.load_test --quick` starts `didit-mock serve` on a free loopback port, runs
concurrent session, duplicate-create and OTP flows in two tenants, receives every webhook, and
exits 0 only when session numbers, OTP attempt counts and webhook delivery (once, in order,
signed) all hold. The checkers themselves are tested on broken data below.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from benchmarks import load_test
from benchmarks.load_test import Received, TenantRun, check_otp, check_webhooks


def test_quick_load_run_keeps_every_invariant(capsys: pytest.CaptureFixture[str]) -> None:
    code = load_test.main(["--quick"])
    output = capsys.readouterr().out
    assert code == 0, output
    assert "every invariant held" in output
    assert "req/s" in output and "webhooks received" in output


def _delivery(tenant: str, arrival: int, payload: dict, secret: str = load_test.WEBHOOK_SECRET) -> Received:
    body = json.dumps(payload).encode()
    return Received(tenant, arrival, body, hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())


def test_webhook_checker_sees_duplicates_disorder_missing_events_and_bad_signatures() -> None:
    run = TenantRun("t", "sk_test_x", expected_events={"s1": ["In Progress", "Approved"], "s2": ["In Progress"]})
    events = [
        _delivery("t", 0, {"event_id": "e2", "session_id": "s1", "status": "Approved"}),
        _delivery("t", 1, {"event_id": "e1", "session_id": "s1", "status": "In Progress"}),
        _delivery("t", 2, {"event_id": "e1", "session_id": "s1", "status": "In Progress"}),
        _delivery("t", 3, {"event_id": "e9", "session_id": "s9", "status": "Approved"}, secret="wrong"),
    ]
    check_webhooks(events, run)
    text = "\n".join(run.violations)
    assert "delivered more than once" in text
    assert "webhooks of s1" in text  # out of order (and duplicated)
    assert "webhooks of s2: received [], expected ['In Progress']" in text
    assert "bad X-Signature" in text
    assert "unknown subjects" in text

    clean = TenantRun("t", "sk_test_x", expected_events={"s1": ["In Progress", "Approved"]})
    check_webhooks([_delivery("t", 0, {"event_id": "a", "session_id": "s1", "status": "In Progress"}),
                    _delivery("t", 1, {"event_id": "b", "session_id": "s1", "status": "Approved"})], clean)
    assert clean.violations == []


def test_otp_checker_sees_too_many_attempts_and_double_decisions() -> None:
    run = TenantRun("t", "sk_test_x", otp_answers={
        "+1": (4, ["Failed", "Failed", "Failed", "Declined", "Expired or Not Found"]),
        "+2": (1, ["Failed", "Approved", "Approved"]),
        "+3": (2, ["Failed", "Failed", "Declined"]),
        "+4": (3, ["Failed", "Failed", "Declined", "Expired or Not Found"]),
    })
    check_otp(run)
    text = "\n".join(run.violations)
    assert "+1: 3 'Failed' answers" in text
    assert "+2: 2 terminal answers" in text
    assert "+3: 2 wrong codes, yet not approved" in text
    assert "+4" not in text
