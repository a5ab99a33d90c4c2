"""State export and import (`GET|PUT /_mock/state`) and the `--state-file` kept across a restart.

The round trip is export -> reset -> import: afterwards the tenant answers byte for byte as
before, its random generator continues where it stood, and every pending rule (session expiry,
OTP expiry, webhook retries, scenario timelines) still fires when the clock passes it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from didit_mock.app import create_app
from didit_mock.domain import state as domain_state
from didit_mock.domain.tenant import TenantConfig, TenantRegistry
from didit_mock.server import MockServer, free_port
from didit_mock.settings import Settings
from tests.conftest import KYC_WORKFLOW, advance, create_session, new_key
from tests.contract.conformance import assert_conforms

DAY = 24 * 3600
START = "2025-03-01T12:00:00Z"
WAIT = 10.0  # seconds: every wait in this file is bounded


# ---------------------------------------------------------------- helpers

def export(client: httpx.Client, **params: str) -> dict[str, Any]:
    response = client.get("/_mock/state", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["format"] == "didit-mock-state" and body["version"] == 1
    return body


def put_state(client: httpx.Client, document: Any, status: int = 200) -> dict[str, Any]:
    response = client.put("/_mock/state", json=document)
    assert response.status_code == status, response.text
    return response.json()


def reset(client: httpx.Client) -> None:
    assert client.post("/_mock/reset").status_code == 200


def round_trip(client: httpx.Client) -> dict[str, Any]:
    """Export the tenant, empty it, import the export back; returns the document."""
    document = export(client)
    text = json.dumps(document)  # only JSON crosses
    reset(client)
    imported = put_state(client, json.loads(text))
    assert [t["api_key"] for t in imported["imported"]] == [client.headers["x-api-key"]]
    return document


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """A document without the parts every request changes (the journal, the rate-limit windows)."""
    copy = json.loads(json.dumps(document))
    for tenant in copy["tenants"]:
        tenant["extensions"].pop("journal", None)
        tenant.pop("rate_limits")
    return copy


def raw(client: httpx.Client, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, (path, response.text)
    return response.content


def complete(client: httpx.Client, session_id: str, status: str | None = None, **features: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"features": features} if features else {}
    if status is not None:
        body["status"] = status
    response = client.post(f"/_mock/sessions/{session_id}/complete", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def status_of(client: httpx.Client, session_id: str) -> str:
    response = client.get(f"/v3/session/{session_id}/decision/")
    assert response.status_code == 200, response.text
    return response.json()["status"]


def put_scenario(client: httpx.Client, text: str) -> None:
    response = client.put("/_mock/scenarios", content=text.encode(), headers={"content-type": "application/yaml"})
    assert response.status_code == 200, response.text


@pytest.fixture
def tenant(server: MockServer) -> Iterator[httpx.Client]:
    """A fresh tenant with a fixed seed and a frozen clock at START."""
    key = new_key()
    with httpx.Client(base_url=server.url, headers={"x-api-key": key}, timeout=WAIT + 5) as http:
        created = http.post("/_mock/tenants", json={"api_key": key, "seed": 4242, "clock_start": START,
                                                    "frozen": True})
        assert created.status_code == 201, created.text
        yield http


@pytest.fixture
def partner(server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}, timeout=10) as http:
        yield http


# ---------------------------------------------------------------- the round trip

SCENARIO = """
sessions:
  - name: fraud
    match: {vendor_data: "fraud-*"}
    outcome:
      status: Declined
      features:
        LIVENESS: {status: Declined, risks: [LIVENESS_FACE_ATTACK]}
"""


def test_round_trip_gives_byte_identical_answers(tenant: httpx.Client, partner: httpx.Client) -> None:
    put_scenario(tenant, SCENARIO)
    not_started = create_session(tenant, vendor_data="waiting", metadata={"plan": "basic"})
    warned = create_session(tenant, vendor_data="warned", contact_details={"email": "warned@example.com"})
    complete(tenant, warned["session_id"], "Approved",
             AML={"status": "Approved", "risk": "POSSIBLE_MATCH_FOUND", "data": {"score": 42.5}},
             IP_ANALYSIS={"status": "Approved", "risks": ["VPN_OR_TOR_DETECTED"]})
    fraud = create_session(tenant, vendor_data="fraud-7")
    advance(tenant, 1)  # the scenario's rule fires
    resubmitted = create_session(tenant, vendor_data="again")
    complete(tenant, resubmitted["session_id"], "Declined")
    patched = tenant.patch(f"/v3/session/{resubmitted['session_id']}/update-status/",
                           json={"new_status": "Resubmitted", "comment": "try again"})
    assert patched.status_code == 200, patched.text
    assert tenant.patch(f"/v3/session/{warned['session_id']}/update-data/",
                        json={"first_name": "Renamed"}).status_code == 200
    note = tenant.post(f"/v3/sessions/{warned['session_id']}/reviews/", json={"comment": "checked by hand"})
    assert note.status_code == 201, note.text
    source = create_session(partner, vendor_data="shared-user")
    complete(partner, source["session_id"], "Approved")
    target = tenant.get("/_mock/tenant").json()["application_id"]
    token = partner.post(f"/v3/session/{source['session_id']}/share/", json={"for_application_id": target})
    assert token.status_code == 200, token.text
    clone = tenant.post("/v3/session/import-shared/", json={
        "share_token": token.json()["share_token"], "trust_review": True, "workflow_id": KYC_WORKFLOW})
    assert clone.status_code == 201, clone.text

    ids = [s["session_id"] for s in (not_started, warned, fraud, resubmitted)] + [clone.json()["session_id"]]
    assert [status_of(tenant, sid) for sid in ids] == ["Not Started", "Approved", "Declined", "Resubmitted",
                                                         "Approved"]
    paths = ["/v3/sessions/", "/v3/sessions/?vendor_data=warned", "/v3/blocklist/", "/_mock/tenant",
             *(f"/v3/session/{sid}/decision/" for sid in ids), *(f"/v3/sessions/{sid}/reviews/" for sid in ids)]
    before = {path: raw(tenant, path) for path in paths}
    warned_decision = json.loads(before[f"/v3/session/{warned['session_id']}/decision/"])
    aml = warned_decision["aml_screenings"][0]
    assert [w["risk"] for w in aml["warnings"]] == ["POSSIBLE_MATCH_FOUND"]

    document = round_trip(tenant)

    after = {path: raw(tenant, path) for path in paths}
    assert after == before
    assert comparable(export(tenant)) == comparable(document)  # a second export is the same document
    assert_conforms("GET", "/v3/session/{sessionId}/decision/", 200,
                    json.loads(after[f"/v3/session/{warned['session_id']}/decision/"]))
    # The scenario is the tenant's own again: a new matching session is declined by it.
    later = create_session(tenant, vendor_data="fraud-8")
    advance(tenant, 1)
    assert status_of(tenant, later["session_id"]) == "Declined"
    own = tenant.get("/_mock/scenarios").json()["tenant"]
    assert own["own"]["name"] == "request"
    assert own["sessions"][fraud["session_id"]] == "request / fraud"


def test_the_export_is_plain_json_with_the_documented_sections(tenant: httpx.Client) -> None:
    create_session(tenant, vendor_data="someone")
    document = export(tenant)
    (entry,) = document["tenants"]
    assert entry["api_key"] == tenant.headers["x-api-key"]
    assert entry["seed"] == 4242 and entry["clock"]["frozen"] is True
    version, internal, gauss = entry["rng"]
    assert version == 3 and len(internal) == 625 and all(isinstance(i, int) for i in internal) and gauss is None
    assert entry["sessions"]["next_number"] == 2
    for name in ("workflows", "otp", "blocklist", "webhooks", "rate_limits", "shared_imports", "extensions"):
        assert name in entry
    assert set(entry["extensions"]) >= {"journal", "scenarios"}


def test_random_generator_continues_as_if_nothing_happened(server: MockServer, tenant: httpx.Client) -> None:
    create_session(tenant, vendor_data="first")
    round_trip(tenant)
    restored = [create_session(tenant, vendor_data=f"after-{i}") for i in range(2)]

    twin_key = new_key()  # the same seed and the same requests, never exported
    with httpx.Client(base_url=server.url, headers={"x-api-key": twin_key}, timeout=10) as twin:
        created = twin.post("/_mock/tenants", json={"api_key": twin_key, "seed": 4242, "clock_start": START,
                                                    "frozen": True})
        assert created.status_code == 201
        create_session(twin, vendor_data="first")
        never = [create_session(twin, vendor_data=f"after-{i}") for i in range(2)]
    for a, b in zip(restored, never, strict=True):
        assert (a["session_id"], a["session_token"], a["session_number"]) == \
            (b["session_id"], b["session_token"], b["session_number"])


# ---------------------------------------------------------------- OTP, blocklist, webhooks

def test_pending_otp_codes_survive_with_their_attempts(tenant: httpx.Client) -> None:
    number, address = "+12025550143", "someone@example.com"
    sent = tenant.post("/v3/phone/send/", json={"phone_number": number})
    assert sent.status_code == 200, sent.text
    assert tenant.post("/v3/email/send/", json={"email": address}).status_code == 200
    phone = tenant.get(f"/_mock/phone/{quote(number)}/code").json()
    wrong = "".join("1" if c != "1" else "2" for c in phone["code"])
    failed = tenant.post("/v3/phone/check/", json={"phone_number": number, "code": wrong})
    assert failed.json()["status"] == "Failed"
    email = tenant.get(f"/_mock/email/{quote(address)}/code").json()

    round_trip(tenant)

    assert tenant.get(f"/_mock/phone/{quote(number)}/code").json() == {**phone, "attempts_left": 2}
    assert tenant.get(f"/_mock/email/{quote(address)}/code").json() == email
    checked = tenant.post("/v3/phone/check/", json={"phone_number": number, "code": phone["code"]})
    assert checked.status_code == 200
    assert checked.json()["status"] == "Approved"
    assert checked.json()["request_id"] == sent.json()["request_id"]
    advance(tenant, 301)  # the email code's expiry was re-armed
    assert tenant.get(f"/_mock/email/{quote(address)}/code").json()["status"] == "Expired"


def test_blocklist_survives_and_still_declines(tenant: httpx.Client) -> None:
    bad = create_session(tenant, vendor_data="bad-actor")
    complete(tenant, bad["session_id"], "Approved")
    added = tenant.post("/v3/blocklist/add/", json={"session_id": bad["session_id"], "blocklist_face": True,
                                                      "blocklist_document": True})
    assert added.status_code == 200, added.text
    listed = raw(tenant, "/v3/blocklist/")

    round_trip(tenant)

    assert raw(tenant, "/v3/blocklist/") == listed
    again = create_session(tenant, vendor_data="bad-actor")
    decision = complete(tenant, again["session_id"])
    assert decision["status"] == "Declined"
    risks = {w["risk"] for item in decision["liveness_checks"] + decision["id_verifications"]
             for w in item["warnings"]}
    assert {"FACE_IN_BLOCKLIST", "ID_DOCUMENT_IN_BLOCKLIST"} <= risks


def test_webhook_settings_survive_and_a_pending_retry_is_sent(tenant: httpx.Client) -> None:
    closed = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens: every attempt fails
    assert tenant.patch("/v3/webhook/", json={"webhook_url": closed, "webhook_version": "v3"}).status_code == 200
    destination = tenant.post("/v3/webhook/destinations/", json={
        "label": "audit", "url": closed + "/audit", "subscribed_events": ["data.updated"]})
    assert destination.status_code in (200, 201), destination.text
    settings = raw(tenant, "/v3/webhook/")
    destinations = raw(tenant, "/v3/webhook/destinations/")
    session = create_session(tenant)
    complete(tenant, session["session_id"], "Approved")  # In Progress, then Approved: one chain of two
    first = tenant.get("/_mock/webhooks/wait", params={"session_id": session["session_id"], "delivered": "false",
                                                       "timeout": WAIT})
    assert first.status_code == 200, first.text
    assert first.json()["will_retry"] is True

    round_trip(tenant)

    assert raw(tenant, "/v3/webhook/") == settings
    assert raw(tenant, "/v3/webhook/destinations/") == destinations
    log = tenant.get("/_mock/webhooks", params={"session_id": session["session_id"]}).json()
    assert [a["uuid"] for a in log["results"]] == [first.json()["uuid"]]
    assert [p["status"] for p in log["pending"]] == ["In Progress", "Approved"]
    advance(tenant, 60)  # the retry falls due on the restored tenant
    retry = tenant.get("/_mock/webhooks/wait", params={"session_id": session["session_id"], "trigger": "retry",
                                                       "delivered": "false", "timeout": WAIT})
    assert retry.status_code == 200, retry.text
    assert retry.json()["attempt"] == 2 and retry.json()["event_id"] == first.json()["event_id"]


# ---------------------------------------------------------------- time rules after an import

def test_pending_expiries_fire_after_the_import(tenant: httpx.Client) -> None:
    idle = create_session(tenant)
    started = create_session(tenant, vendor_data="started")
    assert tenant.post(f"/_mock/sessions/{started['session_id']}/start").status_code == 200
    approved = create_session(tenant, vendor_data="approved")
    complete(tenant, approved["session_id"], "Approved")
    soon = (datetime.fromisoformat(START.replace("Z", "+00:00")) + timedelta(days=3)).date().isoformat()
    assert tenant.patch(f"/v3/session/{approved['session_id']}/update-data/",
                        json={"expiration_date": soon}).status_code == 200

    round_trip(tenant)

    advance(tenant, 2 * DAY)
    assert status_of(tenant, approved["session_id"]) == "Approved"
    advance(tenant, 2 * DAY)
    assert status_of(tenant, approved["session_id"]) == "Kyc Expired"
    assert status_of(tenant, idle["session_id"]) == "Not Started"
    advance(tenant, 3 * DAY)
    assert status_of(tenant, idle["session_id"]) == "Expired"
    assert status_of(tenant, started["session_id"]) == "Abandoned"


TIMELINE = """
sessions:
  - name: slow review
    match: {vendor_data: "slow-*"}
    outcome: {status: Approved}
    timeline:
      - {after: 0, status: In Progress}
      - {after: 10m, status: In Review}
      - {after: 1h, status: Approved, comment: looks fine}
"""


def test_scenario_timelines_resume_after_the_import(tenant: httpx.Client) -> None:
    put_scenario(tenant, TIMELINE)
    session = create_session(tenant, vendor_data="slow-1")
    advance(tenant, 1)
    assert status_of(tenant, session["session_id"]) == "In Progress"

    round_trip(tenant)

    assert status_of(tenant, session["session_id"]) == "In Progress"
    advance(tenant, 600)
    assert status_of(tenant, session["session_id"]) == "In Review"
    advance(tenant, 3000)
    decision = tenant.get(f"/v3/session/{session['session_id']}/decision/").json()
    assert decision["status"] == "Approved"
    assert decision["reviews"][-1]["comment"] == "looks fine"


def test_the_journal_survives(tenant: httpx.Client) -> None:
    create_session(tenant)
    before = tenant.get("/_mock/requests").json()["results"]
    round_trip(tenant)
    assert tenant.get("/_mock/requests").json()["results"] == before  # the export's own GET came after it
    tenant.get("/_mock/clock")
    after = tenant.get("/_mock/requests").json()["results"]
    assert after[:-1] == before
    assert after[-1]["path"] == "/_mock/clock" and after[-1]["id"] == before[-1]["id"] + 1


# ---------------------------------------------------------------- the routes' contract

def test_every_tenant_with_all_and_none_without_a_key(tenant: httpx.Client, partner: httpx.Client,
                                                      anon: httpx.Client) -> None:
    create_session(partner)
    keys = {t["api_key"] for t in export(anon, all="true")["tenants"]}
    assert {tenant.headers["x-api-key"], partner.headers["x-api-key"]} <= keys
    assert anon.get("/_mock/state").status_code == 403
    assert [t["api_key"] for t in export(tenant)["tenants"]] == [tenant.headers["x-api-key"]]


@pytest.mark.parametrize("body, fragment", [
    (b"not json", "JSON parse error"),
    (b"[]", "expected an object"),
    (b'{"format": "other", "version": 1, "tenants": []}', "format"),
    (b'{"format": "didit-mock-state", "version": 99, "tenants": []}', "version"),
    (b'{"format": "didit-mock-state", "version": 1, "tenants": [{}]}', "tenants[0].api_key"),
    (b'{"format": "didit-mock-state", "version": 1, "tenants": {}}', "tenants: expected a list"),
])
def test_garbage_is_a_400(tenant: httpx.Client, body: bytes, fragment: str) -> None:
    create_session(tenant)
    before = comparable(export(tenant))
    response = tenant.put("/_mock/state", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert fragment in response.json()["detail"]
    assert comparable(export(tenant)) == before


def test_a_bad_tenant_anywhere_changes_no_tenant(tenant: httpx.Client, partner: httpx.Client) -> None:
    create_session(tenant, vendor_data="kept")
    create_session(partner, vendor_data="also kept")
    mine, theirs = export(tenant), export(partner)
    changed = json.loads(json.dumps(mine))
    changed["tenants"][0]["sessions"]["sessions"][0]["vendor_data"] = "replaced"
    broken = json.loads(json.dumps(theirs))
    broken["tenants"][0]["sessions"]["sessions"][0]["status"] = "Bogus"
    document = {**mine, "tenants": changed["tenants"] + broken["tenants"]}
    response = tenant.put("/_mock/state", json=document)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid state document: tenants[1].sessions.sessions[0].status:")
    assert comparable(export(tenant)) == comparable(mine)
    assert comparable(export(partner)) == comparable(theirs)
    for bad_rng in ([3, [1, 2, 3], None], "nope"):
        broken = json.loads(json.dumps(mine))
        broken["tenants"][0]["rng"] = bad_rng
        assert tenant.put("/_mock/state", json=broken).status_code == 400
    assert comparable(export(tenant)) == comparable(mine)


def test_import_creates_a_tenant_under_its_key(server: MockServer, tenant: httpx.Client) -> None:
    session = create_session(tenant, vendor_data="moved")
    document = export(tenant)
    moved_key = new_key()
    document["tenants"][0]["api_key"] = moved_key
    document["tenants"][0]["application_id"] = "0d0d0d0d-0000-4000-8000-000000000001"
    for row in document["tenants"][0]["sessions"]["sessions"]:
        row["session_token"] = row["session_token"][::-1]
    imported = put_state(tenant, document)["imported"]
    assert imported[0]["api_key"] == moved_key and imported[0]["sessions"] == 1
    with httpx.Client(base_url=server.url, headers={"x-api-key": moved_key}, timeout=10) as moved:
        assert status_of(moved, session["session_id"]) == "Not Started"
    assert status_of(tenant, session["session_id"]) == "Not Started"  # the source is untouched


def test_an_application_id_of_another_tenant_is_refused(tenant: httpx.Client, partner: httpx.Client) -> None:
    document = export(tenant)
    document["tenants"][0]["application_id"] = partner.get("/_mock/tenant").json()["application_id"]
    response = tenant.put("/_mock/state", json=document)
    assert response.status_code == 400
    assert "already uses" in response.json()["detail"]


# ---------------------------------------------------------------- the domain API

def test_domain_round_trip_without_a_server() -> None:
    registry = TenantRegistry(global_seed=3, defaults=TenantConfig(clock_frozen=True, clock_start=1.75e9))
    tenant = registry.get("k")
    assert tenant is not None
    from didit_mock.domain import sessions as sessions_domain

    with tenant.lock:
        session, _ = sessions_domain.create_session(tenant, sessions_domain.NewSession(KYC_WORKFLOW, "v"))
    exported = domain_state.export_tenant(tenant)
    restored = domain_state.import_tenant(registry, json.loads(json.dumps(exported)))
    assert registry.get("k") is restored is not tenant
    assert registry.by_token(session.session_token) is restored
    assert domain_state.export_tenant(restored) == exported
    assert restored.rng.uuid4() == tenant.rng.uuid4()
    with pytest.raises(domain_state.StateInvalid, match=r"tenant\.sessions\.next_number"):
        domain_state.import_tenant(registry, {**exported, "sessions": {**exported["sessions"], "next_number": 1}})
    assert registry.get("k") is restored


def test_every_field_of_the_state_records_is_exported() -> None:
    """A field added to a state record later must be exported too (or left out here on purpose)."""
    from dataclasses import fields

    from didit_mock.domain import blocklist, otp, webhooks
    from didit_mock.domain import sessions as sessions_domain
    from didit_mock.domain.outcomes import FeatureOutcome, RiskWarning
    from didit_mock.domain.sessions import Review, Session

    registry = TenantRegistry(global_seed=3, defaults=TenantConfig(clock_frozen=True, clock_start=1.75e9))
    tenant = registry.get("k")
    assert tenant is not None
    hooks = webhooks.book(tenant)
    tenant.events.subscribe(hooks.on_event)
    with tenant.lock:
        hooks.configure("http://127.0.0.1:9/hook", "secret")
        hooks.create_destination({"label": "d", "url": "http://127.0.0.1:9/d", "subscribed_events": ["data.updated"]})
        session, _ = sessions_domain.create_session(tenant, sessions_domain.NewSession(KYC_WORKFLOW, "v"))
        sessions_domain.finish_session(tenant, session, "Declined")
        sessions_domain.add_review(tenant, session, activity_type="NOTE", new_status=None, previous_status=None,
                                   comment="c")
        otp.send_phone(tenant, otp.PhoneSend("+12025550143"))
        blocklist.add(tenant, session.session_id, ["face"])
        delivery = hooks.take(hooks.pending_keys()[0])
        assert delivery is not None
        hooks.record(delivery, hooks.sign(delivery), webhooks.SendOutcome(500, "no", 3))
    entry = domain_state.export_tenant(tenant)

    def covers(record: dict[str, Any], kind: type, skipped: set[str] | None = None) -> None:
        missing = {f.name for f in fields(kind)} - (skipped or set()) - set(record)
        assert not missing, (kind.__name__, missing)

    covers(entry["config"], TenantConfig)
    row = entry["sessions"]["sessions"][0]
    covers(row, Session, {"workflow", "deleted", "expiry_job"})
    covers(row["outcomes"][0], FeatureOutcome)
    covers(row["outcomes"][0]["warnings"][0], RiskWarning)
    covers(row["reviews"][0], Review)
    covers(entry["otp"]["verifications"][0], otp.Verification, {"expiry_job"})
    covers(entry["blocklist"]["entries"][0], blocklist.BlockEntry)
    hooks_json = entry["webhooks"]
    covers(hooks_json["legacy"], webhooks.LegacyWebhook)
    covers(hooks_json["destinations"][0], webhooks.Destination)
    covers(hooks_json["deliveries"][0], webhooks.Delivery, {"attempts"})
    covers(hooks_json["attempts"][0], webhooks.Attempt, {"delivery"})
    covers(hooks_json["attempts"][0]["request"], webhooks.SignedRequest)
    covers(hooks_json["attempts"][0]["outcome"], webhooks.SendOutcome)
    restored = domain_state.import_tenant(registry, json.loads(json.dumps(entry)))
    assert domain_state.export_tenant(restored) == entry


def _registry() -> TenantRegistry:
    return TenantRegistry(global_seed=3, defaults=TenantConfig(clock_frozen=True, clock_start=1.75e9))


def test_every_registry_starts_with_the_domain_sections_in_dependency_order() -> None:
    registry = _registry()
    names = [s.name for s in domain_state.ordered_sections(registry)]
    assert names[:7] == ["workflows", "sessions", "otp", "blocklist", "webhooks", "rate_limits", "shared_imports"]
    assert names.index("workflows") < names.index("sessions") < names.index("otp")


def test_a_section_reads_what_it_needs_and_is_restored_after_it() -> None:
    """A section registered before the one it needs still comes after it, gets its parsed value,
    is restored once it is in place, and re-arms after every restore."""
    from didit_mock.domain import sessions as sessions_domain

    registry, seen = _registry(), []

    def parse(data: Any, path: str, earlier: dict[str, Any]) -> Any:
        seen.append(("parse", path, [s.session_id for s in earlier["sessions"].sessions]))
        return domain_state.check(data, "int", path)

    def restore(tenant: Any, parsed: Any) -> None:
        seen.append(("restore", parsed, len(sessions_domain.book(tenant).by_id)))

    counter = domain_state.StateSection("counter", lambda t: 7, parse, restore, needs=("sessions",),
                                        rearm=lambda t: seen.append(("rearm",)))
    registry.state_sections = {"counter": counter, **registry.state_sections}  # registered first on purpose
    tenant = registry.get("k")
    assert tenant is not None
    with tenant.lock:
        session, _ = sessions_domain.create_session(tenant, sessions_domain.NewSession(KYC_WORKFLOW, "v"))
    entry = domain_state.export_tenant(tenant)
    assert entry["extensions"]["counter"] == 7 and "counter" not in entry
    domain_state.import_tenant(registry, json.loads(json.dumps(entry)))
    assert seen == [("parse", "tenant.extensions.counter", [session.session_id]), ("restore", 7, 1), ("rearm",)]
    with pytest.raises(domain_state.StateInvalid, match=r"^tenant\.extensions\.counter: expected an integer"):
        domain_state.import_tenant(registry, {**entry, "extensions": {**entry["extensions"], "counter": "x"}})


def test_sections_that_cannot_be_ordered_or_placed_are_refused() -> None:
    registry = _registry()
    noop = {"export": lambda t: None, "parse": lambda d, p: d, "restore": lambda t, v: None}
    with pytest.raises(ValueError, match="taken"):
        domain_state.register_section(registry, domain_state.StateSection("mine", **noop, fields=("sessions",)))
    with pytest.raises(ValueError, match="taken"):
        domain_state.register_section(registry, domain_state.StateSection("mine", **noop, fields=("clock",)))
    domain_state.register_section(registry, domain_state.StateSection("a", **noop, after=("b",)))
    with pytest.raises(ValueError, match="'b', which is not registered"):
        domain_state.ordered_sections(registry)
    domain_state.register_section(registry, domain_state.StateSection("b", **noop, after=("a",)))
    with pytest.raises(ValueError, match="cycle"):
        domain_state.ordered_sections(registry)


def test_otp_numbers_are_checked_against_the_sessions() -> None:
    from didit_mock.domain import otp
    from didit_mock.domain import sessions as sessions_domain

    registry = _registry()
    tenant = registry.get("k")
    assert tenant is not None
    with tenant.lock:
        sessions_domain.create_session(tenant, sessions_domain.NewSession(KYC_WORKFLOW, "v"))
        otp.send_phone(tenant, otp.PhoneSend("+12025550143"))
    entry = domain_state.export_tenant(tenant)
    (row,) = entry["otp"]["verifications"]
    taken = entry["sessions"]["sessions"][0]["session_number"]
    clash = {**entry, "otp": {**entry["otp"], "verifications": [{**row, "session_number": taken}]}}
    with pytest.raises(domain_state.StateInvalid, match=rf"^tenant\.otp\.verifications\[0\]\.session_number: {taken} "
                                                        "is already the number of a session"):
        domain_state.import_tenant(registry, clash)
    ahead = {**entry, "otp": {**entry["otp"], "verifications": [{**row, "session_number": 99}]}}
    with pytest.raises(domain_state.StateInvalid, match=r"^tenant\.otp\.verifications\[0\]\.session_number: "
                                                        r"must be less than sessions\.next_number"):
        domain_state.import_tenant(registry, ahead)
    missing = {k: v for k, v in entry.items() if k != "webhooks"}
    with pytest.raises(domain_state.StateInvalid, match=r"^tenant\.webhooks: this field is required"):
        domain_state.import_tenant(registry, missing)
    assert registry.get("k") is tenant  # nothing was swapped in


# ---------------------------------------------------------------- the state file across a restart

def _serve(port: int, state_file: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "DIDIT_MOCK_SEED": "77"}
    return subprocess.Popen(
        [sys.executable, "-m", "didit_mock", "serve", "--port", str(port), "--state-file", str(state_file),
         "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _ready(process: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {process.communicate()[1]}")
        try:
            if httpx.get(url + "/system/healthcheck", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the server did not become ready")


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("the server did not stop on SIGTERM") from None


def test_state_file_keeps_everything_across_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    key = new_key()
    first = _serve(port, state_file)
    try:
        _ready(first, url)
        with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=10) as http:
            waiting = create_session(http, vendor_data="waiting")
            done = create_session(http, vendor_data="done")
            complete(http, done["session_id"], "Declined")
            paths = ["/v3/sessions/", *(f"/v3/session/{s['session_id']}/decision/" for s in (waiting, done))]
            before = {path: raw(http, path) for path in paths}
    finally:
        _stop(first)
    assert first.returncode in (0, -signal.SIGTERM), first.stderr.read() if first.stderr else ""
    saved = json.loads(state_file.read_text("utf-8"))
    assert saved["format"] == "didit-mock-state"
    assert key in {t["api_key"] for t in saved["tenants"]}
    assert not [p for p in tmp_path.iterdir() if p.name != "state.json"]  # no temporary file left behind

    second = _serve(port, state_file)
    try:
        _ready(second, url)
        with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=10) as http:
            assert {path: raw(http, path) for path in paths} == before
            third = create_session(http, vendor_data="after")
    finally:
        _stop(second)

    fresh = tmp_path / "fresh" / "state.json"  # the same requests on a server that never restarted
    fresh.parent.mkdir()
    once = _serve(port, fresh)
    try:
        _ready(once, url)
        with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=10) as http:
            create_session(http, vendor_data="waiting")
            complete(http, create_session(http, vendor_data="done")["session_id"], "Declined")
            assert create_session(http, vendor_data="after")["session_id"] == third["session_id"]
    finally:
        _stop(once)


def test_a_bad_state_file_stops_the_start(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text('{"format": "didit-mock-state", "version": 1, "tenants": [{"api_key": 5}]}')
    process = _serve(free_port(), state_file)
    try:
        _, stderr = process.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("a bad state file did not stop the start") from None
    assert process.returncode == 1
    assert f"cannot load the state file {state_file}: tenants[0].api_key: expected a string" in stderr
    missing = tmp_path / "no-such-directory" / "state.json"
    process = _serve(free_port(), missing)
    _, stderr = process.communicate(timeout=WAIT)
    assert process.returncode == 1
    assert f"cannot use the state file {missing}: the directory" in stderr


# ---------------------------------------------------------------- documents written by earlier servers

FIXTURES = Path(__file__).parent / "fixtures"


def _as_in(value: Any, model: Any) -> Any:
    """`value` cut to the keys of `model` (objects of a newer export may hold sections `model` lacks)."""
    if isinstance(value, dict) and isinstance(model, dict):
        return {key: _as_in(value[key], model[key]) if key in value else value.get(key) for key in model}
    if isinstance(value, list) and isinstance(model, list) and len(value) == len(model):
        return [_as_in(v, m) for v, m in zip(value, model, strict=True)]
    return value


def _links_moved(value: Any, old: str, new: str) -> Any:
    """`value` with every string that is a link on `old` (begins with it) on `new` instead."""
    if isinstance(value, str):
        return new + value[len(old):] if value.startswith(old) else value
    if isinstance(value, dict):
        return {key: _links_moved(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_links_moved(item, old, new) for item in value]
    return value


def test_a_version_1_document_of_an_earlier_server_imports_and_answers_the_same() -> None:
    """`fixtures/state_v1.json` was written before the core state moved onto state sections
    (`fixtures/make_state_v1.py`): it still imports, exports back to the same document, and the
    restored tenant answers the bodies the earlier server gave (with this server's links)."""
    text = (FIXTURES / "state_v1.json").read_text()
    answers_text = (FIXTURES / "state_v1_answers.json").read_text()
    # A server of its own: the fixture's seeds give application ids other tests' tenants may hold.
    with MockServer(freeze_clock=True, seed=1234, validate_responses=True) as fresh:
        # Its links were the earlier server's: they are this server's once imported. What the request
        # journal recorded (bodies holding links) stays as the clients saw it.
        earlier = json.loads(text)["tenants"][0]["config"]["public_base_url"]
        assert earlier in text and earlier != fresh.url
        document = _links_moved(json.loads(text), earlier, fresh.url)
        assert document != json.loads(text)
        answers = json.loads(answers_text.replace(earlier, fresh.url))
        imported = domain_state.import_registry(fresh.app.registry, json.loads(text))
        assert [t.api_key for t in imported] == [t["api_key"] for t in document["tenants"]]
        again = json.loads(json.dumps(domain_state.document([domain_state.export_tenant(t) for t in imported])))
        assert _as_in(again, document) == document
        with httpx.Client(base_url=fresh.url, headers={"x-api-key": imported[0].api_key}, timeout=WAIT) as http:
            answered = {path: raw(http, path).decode() for path in answers}
    assert answered == answers


def test_each_lazily_loaded_section_declares_what_its_section_says() -> None:
    """A family's section loads with the first state export or import; what registering and ordering
    read before that (name, after, needs, fields) is declared beside it and must be the section's own."""
    from didit_mock.admin.state import AUTH_SECTION, FAMILY_SECTIONS
    from didit_mock.domain.persistence import DOMAIN_SECTIONS

    for lazy in (*DOMAIN_SECTIONS, AUTH_SECTION, *FAMILY_SECTIONS):
        real = lazy.section()
        assert (lazy.name, lazy.after, lazy.needs, lazy.fields) == (real.name, real.after, real.needs, real.fields)
        assert lazy.export is real.export and lazy.restore is real.restore


def test_links_move_to_the_importing_server_but_what_was_sent_stays_as_sent() -> None:
    """A tenant made by a server at another address: its links move to this server's base URL,
    except in the request journal and in the webhooks already sent (the payloads and requests
    clients received); webhooks still to send move too."""
    old, new = "http://127.0.0.1:8790", "http://127.0.0.1:9000"
    registry = create_app(Settings.from_env(environ={}, port=0)).registry  # with the app's state sections
    registry.defaults.public_base_url = new + "/"
    link = old + "/session/abc"
    entry = {
        "config": {"public_base_url": old},
        "sessions": {"sessions": [{"url": link, "note": "http://127.0.0.1:87900/elsewhere"}]},
        "webhooks": {
            "deliveries": [{"state": "delivered", "payload": {"session_url": link}},
                           {"state": "pending", "payload": {"session_url": link}}],
            "attempts": [{"request": {"url": old + "/_mock/webhook/receiver"}}],
            "legacy": {"url": old + "/_mock/webhook/receiver"},
        },
        "extensions": {"journal": {"entries": [{"path": link}]}, "media": {"link": old + "?a=1"}},
    }
    sections = domain_state.ordered_sections(registry)
    moved = domain_state._on_this_server(registry, domain_state.Reader(entry, "tenants[0]"), sections).data
    assert moved["config"]["public_base_url"] == new
    assert moved["sessions"]["sessions"][0] == {"url": new + "/session/abc", "note": "http://127.0.0.1:87900/elsewhere"}
    sent, pending = moved["webhooks"]["deliveries"]
    assert sent["payload"]["session_url"] == link and pending["payload"]["session_url"] == new + "/session/abc"
    assert moved["webhooks"]["attempts"] == entry["webhooks"]["attempts"]
    assert moved["webhooks"]["legacy"]["url"] == new + "/_mock/webhook/receiver"
    assert moved["extensions"]["journal"] == entry["extensions"]["journal"]
    assert moved["extensions"]["media"]["link"] == new + "?a=1"
    assert entry["config"]["public_base_url"] == old  # the document read is not changed
