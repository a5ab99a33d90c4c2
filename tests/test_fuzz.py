"""Property-based fuzzing of every documented operation with schemathesis, over real HTTP.

Each operation of the served OpenAPI document (every operation of Didit's document and the
additions, those answered by their documented shape only included, and the admin routes) gets
positive and negative examples (bodies, query strings, path parameters; half of the `session_id`s
point at real sessions in several statuses). Two properties must hold: no answer is a 5xx, and
every answer whose status the document describes fits the declared schema (Didit's own schemas
for the Didit routes).

Bounded for CI: `DIDIT_MOCK_FUZZ_EXAMPLES` examples per operation (default 12), no coverage phase,
derandomized so a failure reproduces. Raise the figure for a deeper local run.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from didit_mock.admin.openapi import OPENAPI_PATH, build_document
from didit_mock.app import create_app
from didit_mock.server import MockServer
from didit_mock.settings import Settings
from didit_mock.spec.document import HTTP_METHODS

from .conftest import KYC_WORKFLOW, new_key

EXAMPLES = int(os.environ.get("DIDIT_MOCK_FUZZ_EXAMPLES", "12"))

#: Operations left out: long polls (they wait for their timeout) and the ones that point webhook
#: delivery at an arbitrary URL (the fuzzer would make the mock send requests off the loopback):
#: the admin webhook target, the legacy settings' `webhook_url`, the destinations' `url`.
EXCLUDED = [
    {"path": "/_mock/webhooks/wait"},
    {"path": "/_mock/webhook", "method": "POST"},
    {"path_regex": r"^/v3/webhook/", "method": ["POST", "PATCH"]},
]

CONFIG = schemathesis.Config.from_dict({
    "generation": {"max-examples": EXAMPLES},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
})
# The document a server built from default settings serves (test_served_document_is_the_fuzzed_one
# checks the running server serves the same one), loaded without a server at collection time.
schema = schemathesis.openapi.from_dict(build_document(create_app(Settings())), config=CONFIG)
for rule in EXCLUDED:
    schema = schema.exclude(**rule)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[MockServer]:
    """A server of its own: the fuzzer resets tenants, moves clocks and switches settings."""
    with MockServer(freeze_clock=True, seed=99, rate_limits=False) as running:
        yield running


@pytest.fixture
def fuzz_tenant(fuzz_server: MockServer) -> Iterator[tuple[str, list[dict]]]:
    """A fresh tenant with sessions in several statuses, for path parameters to point at."""
    key = new_key()
    with httpx.Client(base_url=fuzz_server.url, headers={"x-api-key": key}, timeout=10) as http:
        sessions = []
        for outcome in (None, "Approved", "Declined", "In Review"):
            created = http.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW, "vendor_data": "fuzz"})
            assert created.status_code == 201, created.text
            if outcome is not None:
                done = http.post(f"/_mock/sessions/{created.json()['session_id']}/complete", json={"status": outcome})
                assert done.status_code == 200, done.text
            sessions.append(created.json())
        yield key, sessions


def _point_at_real_sessions(case: schemathesis.Case, sessions: list[dict]) -> None:
    """Send half of the generated `session_id`s to one of the tenant's sessions instead."""
    generated = (case.path_parameters or {}).get("session_id")
    if not isinstance(generated, str):
        return
    digest = hashlib.sha256(generated.encode("utf-8", "surrogatepass")).digest()
    if digest[0] % 2:
        case.path_parameters["session_id"] = sessions[digest[1] % len(sessions)]["session_id"]


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_no_server_error_and_responses_match_the_document(
    case: schemathesis.Case, fuzz_server: MockServer, fuzz_tenant: tuple[str, list[dict]]
) -> None:
    key, sessions = fuzz_tenant
    _point_at_real_sessions(case, sessions)
    case.call_and_validate(
        base_url=fuzz_server.url,
        headers={"x-api-key": key, "Session-Token": sessions[0]["session_token"]},
        checks=[not_a_server_error, response_schema_conformance],
        timeout=30,
    )


def test_served_document_is_the_fuzzed_one(fuzz_server: MockServer) -> None:
    served = httpx.get(fuzz_server.url + OPENAPI_PATH, timeout=30).json()
    expected = build_document(fuzz_server.app)
    assert {k: v for k, v in served.items() if k != "servers"} == expected
    assert served["paths"].keys() == schema.raw_schema["paths"].keys()


def test_the_fuzz_run_covers_every_operation_but_the_excluded() -> None:
    documented = {(m.upper(), p) for p, item in schema.raw_schema["paths"].items() for m in item if m in HTTP_METHODS}
    assert len(documented) > 250  # Didit's 187 operations, the additions, the admin routes
    fuzzed = {(op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations())}
    excluded = documented - fuzzed
    assert excluded == {
        ("GET", "/_mock/webhooks/wait"), ("POST", "/_mock/webhook"), ("PATCH", "/v3/webhook/"),
        ("POST", "/v3/webhook/destinations/"), ("PATCH", "/v3/webhook/destinations/{destination_uuid}/"),
    }
