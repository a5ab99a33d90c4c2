"""Every operation of the vendored spec and its additions answers its documented success status to
a valid request, and the answer validates against the spec's schema for that status.

Operations with rules are produced by the hand-written cases of `test_contract.py` (a session to
decide, a code to check); the others are produced here from the spec alone: a body built from the
request schema, path parameters naming the caller's application and, for a generic-store item,
a document the test creates first.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from didit_mock.app import create_app
from didit_mock.resources.families import COLLECTIONS
from didit_mock.server import MockServer
from didit_mock.spec.operation import Operation
from didit_mock.spec.schemas import json_schema, sample
from didit_mock.web.shape import SHAPE_ONLY_HEADER
from tests.contract.conformance import assert_conforms
from tests.contract.test_contract import CASES

API = create_app().api
OPERATIONS = list(API.table)
RULES = [op for op in OPERATIONS if API.handlers[op.operation_id].kind == "rules"]
GENERIC = [op for op in OPERATIONS if API.handlers[op.operation_id].kind != "rules"]
UNKNOWN_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

#: Rules operations whose success answer is not produced by a contract case, and why.
RULES_WAIVED = {
    "list_session_webhooks": "covered by tests/test_webhooks.py (the log needs a delivered webhook)",
    "get_session_webhook": "covered by tests/test_webhooks.py (the log needs a delivered webhook)",
    "resend_session_webhook": "covered by tests/test_webhooks.py (the log needs a delivered webhook)",
    "blocklist_add": "covered by tests/test_blocklist.py (needs a finished session with a face)",
    "blocklist_remove": "covered by tests/test_blocklist.py (needs a finished session with a face)",
    "blocklist_list": "covered by tests/test_blocklist.py",
    "get_legacy_webhook": "covered by tests/test_webhooks.py",
    "update_legacy_webhook": "covered by tests/test_webhooks.py",
    "validate_regulatory_report": "covered by tests/test_resource_store.py (valid and invalid reports)",
    **{op: "the documented 200 is a `oneOf` whose branches overlap: produced and checked branch by branch by "
           "tests/test_aml_monitoring.py"
       for op in ("toggle_vendor_users_ongoing_monitoring", "toggle_vendor_businesses_ongoing_monitoring",
                  "toggle_business_sessions_ongoing_monitoring")},
    **{op: "the mock computes no networks: every network view is a 404 (its contract case)"
       for op in ("get_network_graph", "list_network_members", "list_network_signals", "get_network_timeline",
                  "get_network_map")},
}


def _collection_of(operation_id: str) -> tuple[Any, str] | None:
    for collection in COLLECTIONS:
        role = collection.operations().get(operation_id)
        if role is not None:
            return collection, role
    return None


def request_body(operation: Operation) -> Any:
    if not operation.request_schemas:
        return None
    media = "application/json" if "application/json" in operation.request_schemas else next(
        iter(operation.request_schemas))
    example = operation.request_examples.get(media)
    if isinstance(example, dict):
        return example
    return sample(json_schema(operation.request_schemas[media], for_request=True))


class Caller:
    """Requests of one fresh tenant, with the documents of the store made on demand."""

    def __init__(self, http: httpx.Client):
        self.http = http
        tenant = http.get("/_mock/tenant").json()
        self.ids = {"organization_id": tenant["organization_id"], "application_id": tenant["application_id"]}

    def path(self, operation: Operation, made: dict[str, str]) -> str:
        path = operation.path
        for name in operation.path_names:
            value = made.get(name) or self.ids.get(name) or UNKNOWN_ID
            path = path.replace("{" + name + "}", value)
        return path

    def make(self, operation_id: str) -> dict[str, str]:
        """Documents for the path of an item operation of the store: its parent, then itself."""
        found = _collection_of(operation_id)
        if found is None:
            return {}
        collection, role = found
        made: dict[str, str] = {}
        chain = [collection]
        while chain[0].parent is not None:
            chain.insert(0, next(c for c in COLLECTIONS if c.name == chain[0].parent))
        for level, step in enumerate(chain):
            if step.singleton or step.read_only or step.create is None:
                continue
            if level == len(chain) - 1 and role in ("list", "create"):
                break
            creator = API.table.by_id[step.create]
            body = PARENT_BODIES.get(step.create) or request_body(creator)
            if callable(body):
                body = body(self)
            response = self.http.request(creator.method, self.path(creator, made), json=body)
            assert response.status_code == creator.success_status, response.text
            if step.id_param:
                made[step.id_param] = response.json()[step.id_field]
        return made


def _report_body(caller: Caller) -> dict[str, str]:
    """A standalone report names a case and a template that exist (the example's ids do not: a 400)."""
    org = "/v3/organization/{organization_id}/application/{application_id}".format(**caller.ids)
    made = caller.http.post(f"{org}/cases/", json={"title": "every operation"}).json()
    template = caller.http.post(f"{org}/report-templates/", json={"name": "t", "jurisdiction": "US",
                                                                   "report_type": "SAR"}).json()
    return {"case": made["uuid"], "template": template["uuid"]}


#: Bodies that make a parent document where the spec's example cannot (and why).
PARENT_BODIES: dict[str, Any] = {
    # The example names a blueprint that does not exist (a 400, as Didit answers).
    "create_case": {"title": "every operation"},
    # The sample attaches a file never uploaded to the case (a 400: attachments must belong to it).
    "create_case_note": {"comment": "every operation"},
    "create_standalone_regulatory_report": _report_body,
}


@pytest.fixture(scope="module")
def caller() -> Any:
    with MockServer(freeze_clock=True) as server, httpx.Client(
            base_url=server.url, headers={"x-api-key": "sk_test_every_operation"}, timeout=10) as http:
        yield Caller(http)


READ_ONLY_EMPTY = {
    "get_network": "a sandbox application has no networks: an unknown id is a 404",
}
#: Operations whose documented success schema no document can satisfy, and why.
SPEC_WAIVED: dict[str, str] = {}
#: Transitions tried from the state they need: the action that brings a fresh document there.
PREPARE = {
    "reopen_case": ("resolve_case", {"resolution": "FALSE_POSITIVE"}),
    "finalize_regulatory_report": ("validate_regulatory_report", None),
}


@pytest.mark.parametrize("operation", GENERIC, ids=lambda op: op.operation_id)
def test_every_operation_without_rules_answers_its_documented_success(caller: Caller, operation: Operation) -> None:
    made = caller.make(operation.operation_id)
    if operation.operation_id in PREPARE:
        step, step_body = PREPARE[operation.operation_id]
        before = API.table.by_id[step]
        prepared = caller.http.request(before.method, caller.path(before, made), json=step_body)
        assert prepared.status_code == before.success_status, prepared.text
    body = request_body(operation)
    response = caller.http.request(operation.method, caller.path(operation, made),
                                   json=body if operation.method != "GET" else None)
    if operation.operation_id in READ_ONLY_EMPTY:
        assert response.status_code == 404, response.text
        return
    assert response.status_code == operation.success_status, response.text
    kind = API.handlers[operation.operation_id].kind
    assert (response.headers.get(SHAPE_ONLY_HEADER) == "true") == (kind == "shape")
    if response.status_code == 204 or not response.content:
        return
    if response.headers.get("content-type", "").startswith("application/json") and \
            operation.operation_id not in SPEC_WAIVED:
        assert_conforms(operation.method, operation.path, response.status_code, response.json())


def test_every_rules_operation_has_a_contract_case_for_its_success() -> None:
    produced = {(method, path, status) for method, path, status in CASES}
    missing = []
    for operation in RULES:
        key = (operation.method, operation.path, str(operation.success_status))
        if key not in produced and operation.operation_id not in RULES_WAIVED:
            missing.append(operation.operation_id)
    assert not missing, f"rules operations with no contract case for their success: {missing}"


def test_every_operation_of_the_spec_and_the_additions_is_routed() -> None:
    assert len(OPERATIONS) == 187 + 24
    assert not [op for op in OPERATIONS if op.operation_id not in API.handlers]
