"""The decision payload, the list row and the synthetic person behind each session.

Domain-level tests build a TenantRegistry directly (clock frozen at a fixed instant); a few HTTP
tests check that the routes serve the same renderings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timezone
from typing import Any

import httpx
import pytest

from didit_mock.domain import people
from didit_mock.domain import sessions as domain
from didit_mock.domain import statuses as st
from didit_mock.domain import workflows as wf
from didit_mock.domain.decision.id_verification import document_expiry_timestamp
from didit_mock.domain.decision.layout import ARRAY_OF, FEATURE_ARRAYS, TOP_LEVEL_KEYS, node_id_for
from didit_mock.domain.decision.rendering import list_row, render_decision, render_decision_v2
from didit_mock.domain.outcomes import SANDBOX_SLUGS, sandbox_scenario
from didit_mock.domain.people import person_for
from didit_mock.domain.sessions import NewSession, Session
from didit_mock.domain.tenant import Tenant, TenantConfig, TenantRegistry
from tests.conftest import create_session
from tests.contract.conformance import assert_conforms

DECISION = "/v3/session/{sessionId}/decision/"
SESSIONS = "/v3/sessions/"
FIXED_NOW = 1_780_000_000.0  # 2026-05-28T20:26:40Z


def make_tenant(seed: int = 11, key: str = "sk_test_decisions") -> Tenant:
    registry = TenantRegistry(global_seed=seed, defaults=TenantConfig(clock_start=FIXED_NOW, clock_frozen=True))
    tenant = registry.get(key)
    assert tenant is not None
    return tenant


def new_session(tenant: Tenant, workflow_id: str = wf.KYC_ID, **fields: Any) -> Session:
    workflow = wf.BUILTIN_WORKFLOWS.get(workflow_id)
    if workflow is not None and workflow.requires_portrait:
        fields.setdefault("portrait_digest", "portrait-digest")
    session, created = domain.create_session(tenant, NewSession(workflow_id=workflow_id, **fields))
    assert created
    return session


def finished(tenant: Tenant, workflow_id: str = wf.KYC_ID, status: str | None = None,
             features: dict[str, Any] | None = None, **fields: Any) -> Session:
    session = new_session(tenant, workflow_id, **fields)
    domain.finish_session(tenant, session, status, features)
    return session


def checked(tenant: Tenant, session: Session) -> dict[str, Any]:
    """The rendered decision, after the checks every decision must pass."""
    body = render_decision(tenant, session)
    assert_conforms("GET", DECISION, 200, body)
    json.dumps(body, allow_nan=False)
    for key in TOP_LEVEL_KEYS:
        assert key in body, key
    assert body["session_kind"] == "user" and body["environment"] == tenant.environment
    for array in FEATURE_ARRAYS:
        for item in body[array] or []:
            assert item["node_id"].startswith("feature_") and item["status"]
            for warning in item.get("warnings", []):
                assert warning["node_id"].startswith("feature_")
    return body


def assert_row_conforms(row: dict[str, Any]) -> None:
    """A list row checked against the schema of GET /v3/sessions/ 200, every key present."""
    assert_conforms("GET", SESSIONS, 200, {"count": 1, "next": None, "previous": None, "results": [row]})
    json.dumps(row, allow_nan=False)


def created_day(session: Session) -> date:
    return datetime.fromtimestamp(session.created_at, tz=timezone.utc).date()


# ---------------------------------------------------------------- conformance

def test_not_started_decision_has_every_key_and_null_features() -> None:
    tenant = make_tenant()
    session = new_session(tenant, vendor_data="user-1", metadata={"plan": "gold"},
                          contact_details={"email": "ada@example.com", "phone": None,
                                           "send_notification_emails": False, "email_lang": None})
    body = checked(tenant, session)
    assert body["status"] == st.NOT_STARTED
    assert all(body[array] is None for array in FEATURE_ARRAYS)
    assert body["registry_checks"] is None and body["key_people_checks"] is None
    assert body["document_verifications"] is None
    assert body["features"] == list(wf.BUILTIN_WORKFLOWS[wf.KYC_ID].features)
    assert body["workflow_id"] == wf.KYC_ID and body["session_url"] == session.url
    assert body["metadata"] == {"plan": "gold"} and body["vendor_data"] == "user-1"
    assert body["expected_details"] is None
    assert body["contact_details"] == {"email": "ada@example.com", "send_notification_emails": False, "phone": None}
    assert body["reviews"] == []
    assert body["created_at"].startswith("2026-05-28T20:26:40.")
    assert body["created_at"].endswith("Z") and body["expires_at"].endswith("Z")
    row = list_row(tenant, session)
    assert_row_conforms(row)
    assert row["document_type"] is None and row["full_name"] is None and row["additional_details"] is None
    assert row["features"] == [{"feature": f, "status": "Not Finished"} for f in body["features"]]
    assert row["email_address"] == {"email": "ada@example.com", "is_verified": False}


@pytest.mark.parametrize("workflow_id", list(wf.BUILTIN_WORKFLOWS))
def test_approved_session_of_every_builtin_workflow(workflow_id: str) -> None:
    tenant = make_tenant()
    session = finished(tenant, workflow_id, vendor_data="approved-user")
    body = checked(tenant, session)
    workflow = wf.BUILTIN_WORKFLOWS[workflow_id]
    assert body["status"] == st.APPROVED
    assert body["features"] == list(workflow.features)
    expected_arrays = {ARRAY_OF[f] for f in workflow.features}
    for array in FEATURE_ARRAYS:
        if array in expected_arrays:
            assert len(body[array]) == 1 and body[array][0]["status"] == st.APPROVED, array
        else:
            assert body[array] is None, array
    for feature in workflow.features:
        if feature != wf.AGE_ESTIMATION:
            assert body[ARRAY_OF[feature]][0]["node_id"] == node_id_for(feature)
    row = list_row(tenant, session)
    assert_row_conforms(row)
    assert [f["feature"] for f in row["features"]] == list(workflow.features)
    assert all(f["status"] == st.APPROVED for f in row["features"])


def test_complete_kyc_is_consistent_across_features() -> None:
    tenant = make_tenant()
    session = finished(tenant, wf.COMPLETE_KYC_ID, vendor_data="complete",
                       contact_details={"email": "grace@example.org", "phone": "+34612345678"})
    body = checked(tenant, session)
    person = person_for(tenant, session)
    idv = body["id_verifications"][0]
    assert (idv["first_name"], idv["last_name"], idv["full_name"]) == \
        (person.first_name, person.last_name, f"{person.first_name} {person.last_name}")
    assert idv["document_number"] == person.document_number and idv["issuing_state"] == person.issuing_state
    assert idv["age"] == person.age_on(created_day(session))
    assert date.fromisoformat(idv["expiration_date"]) > created_day(session)
    if idv["mrz"] is not None:
        assert idv["mrz"]["document_number"] == person.document_number[:9]
    nfc = body["nfc_verifications"][0]["chip_data"]
    assert nfc["document_number"] == person.document_number and nfc["last_name"] == person.last_name
    assert body["liveness_checks"][0]["score"] >= 80 and body["face_matches"][0]["score"] >= 80
    aml = body["aml_screenings"][0]
    assert aml["total_hits"] == 0 and aml["hits"] == []
    assert aml["screened_data"]["full_name"] == person.full_name
    phone = body["phone_verifications"][0]
    assert (phone["phone_number_prefix"], phone["phone_number"], phone["full_number"]) == \
        ("+34", "612345678", "+34612345678")
    assert (phone["country_code"], phone["country_name"], phone["carrier"]["type"]) == ("ES", "Spain", "mobile")
    assert body["email_verifications"][0]["email"] == "grace@example.org"
    poa = body["poa_verifications"][0]
    assert poa["name_on_document"] == person.full_name and poa["poa_parsed_address"]["city"] == person.city
    assert body["database_validations"][0]["match_type"] == "full_match"
    ip = body["ip_analyses"][0]
    assert ip["ip_address"] == person.ip_address and ip["ip_country_code"] == person.country_code
    row = list_row(tenant, session)
    assert_row_conforms(row)
    assert (row["full_name"], row["country"], row["document_type"]) == \
        (person.full_name, person.issuing_state, person.document_type)
    assert row["phone_number"] == {"number": "+34612345678", "is_verified": True}
    assert set(row["additional_details"]) == {"aml", "database_validation", "poa", "liveness", "face_match",
                                              "phone_verification", "email_verification"}


@pytest.mark.parametrize("slug", SANDBOX_SLUGS)
def test_each_sandbox_scenario(slug: str) -> None:
    tenant = make_tenant()
    session = finished(tenant, wf.KYC_ID, vendor_data=f"scenario-{slug}", sandbox_scenario=slug)
    body = checked(tenant, session)
    scenario = sandbox_scenario(slug)
    assert scenario is not None
    assert body["status"] == scenario.status
    if scenario.feature is not None:
        item = body[ARRAY_OF[scenario.feature]][0]
        assert item["status"] == scenario.status
        assert scenario.risk in [w["risk"] for w in item["warnings"]]
        log_type = "error" if scenario.status == st.DECLINED else "warning"
        assert log_type in [w["log_type"] for w in item["warnings"]]
    assert_row_conforms(list_row(tenant, session))


def test_scenario_effects_show_in_the_data() -> None:
    tenant = make_tenant()

    def decision(slug: str, workflow_id: str = wf.KYC_ID) -> tuple[Session, dict[str, Any]]:
        session = finished(tenant, workflow_id, sandbox_scenario=slug)
        return session, checked(tenant, session)

    session, body = decision("decline_document_expired")
    idv = body["id_verifications"][0]
    assert date.fromisoformat(idv["expiration_date"]) < created_day(session)
    assert "expired_document" not in idv
    _, body = decision("decline_minimum_age")
    assert body["id_verifications"][0]["age"] == 15
    assert body["liveness_checks"][0]["age_estimation"] < 19
    _, body = decision("decline_aml_hit")
    aml = body["aml_screenings"][0]
    assert aml["total_hits"] == 1 and len(aml["hits"]) == 1 and aml["score"] == 100.0
    assert aml["hits"][0]["datasets"] == ["Sanctions"] and aml["hits"][0]["caption"] == aml["screened_data"]["full_name"]
    _, body = decision("review_aml_possible_match")
    aml = body["aml_screenings"][0]
    assert aml["score"] == 85.0 and aml["hits"][0]["datasets"] == ["PEP"] and aml["status"] == st.IN_REVIEW
    _, body = decision("decline_face_match_low_similarity")
    assert body["face_matches"][0]["score"] == 23.5
    _, body = decision("decline_liveness_attack")
    assert body["liveness_checks"][0]["score"] == 12.4
    _, body = decision("decline_database_no_match", wf.COMPLETE_KYC_ID)
    assert body["database_validations"][0]["match_type"] == "no_match"
    _, body = decision("decline_mrz_validation")
    mrz = body["id_verifications"][0]["mrz"]
    assert mrz is None or mrz["errors"]
    _, body = decision("decline_poa_address_mismatch", wf.ADDRESS_ID)
    poa = body["poa_verifications"][0]
    assert poa["status"] == st.DECLINED and poa["poa_parsed_address"]["street_1"]


def test_in_review_and_declined_without_a_scenario() -> None:
    tenant = make_tenant()
    review = finished(tenant, wf.KYC_ID, status=st.IN_REVIEW)
    body = checked(tenant, review)
    assert body["status"] == st.IN_REVIEW
    flagged = [item for array in FEATURE_ARRAYS for item in body[array] or [] if item["status"] == st.IN_REVIEW]
    assert flagged and all(w["log_type"] == "warning" for w in flagged[0]["warnings"])
    assert_row_conforms(list_row(tenant, review))
    declined = finished(tenant, wf.KYC_ID, status=st.DECLINED)
    body = checked(tenant, declined)
    assert body["status"] == st.DECLINED and body["id_verifications"][0]["status"] == st.DECLINED
    abandoned = finished(tenant, wf.KYC_ID, status=st.ABANDONED)
    body = checked(tenant, abandoned)
    assert body["status"] == st.ABANDONED and all(body[a] is None for a in FEATURE_ARRAYS)


def test_outcome_data_overrides_and_special_keys() -> None:
    tenant = make_tenant()
    session = finished(tenant, wf.COMPLETE_KYC_ID, features={
        "ID_VERIFICATION": {"status": "Approved", "data": {"age": 30}},
        "FACE_MATCH": {"status": "Approved", "data": {"score": 97.25}},
        "DATABASE_VALIDATION": {"status": "In Review", "data": {"match_type": "partial_match"}},
        "LIVENESS": {"status": "Approved", "data": {"method": "ACTIVE_3D"}},
    })
    body = checked(tenant, session)
    assert body["status"] == st.IN_REVIEW
    assert body["id_verifications"][0]["age"] == 30
    assert person_for(tenant, session).age_on(created_day(session)) == 30
    assert body["face_matches"][0]["score"] == 97.25
    database = body["database_validations"][0]
    assert database["match_type"] == "partial_match" and database["validations"][0]["outcome_code"] == "PARTIAL_MATCH"
    liveness = body["liveness_checks"][0]
    assert liveness["method"] == "ACTIVE_3D" and liveness["face_quality"] is None


def test_age_estimation_feeds_the_liveness_check() -> None:
    tenant = make_tenant()
    session = finished(tenant, wf.AGE_ID, features={"AGE_ESTIMATION": "Declined"})
    body = checked(tenant, session)
    liveness = body["liveness_checks"][0]
    assert body["status"] == st.DECLINED and liveness["status"] == st.DECLINED
    assert liveness["age_estimation"] < 18
    assert [w["node_id"] for w in liveness["warnings"]] == ["feature_age_estimation_1"]
    exact = finished(tenant, wf.AGE_ID, features={"AGE_ESTIMATION": {"status": "Approved", "data": {"age": 42}}})
    assert render_decision(tenant, exact)["liveness_checks"][0]["age_estimation"] == 42.0


# ---------------------------------------------------------------- the person

def test_same_vendor_data_is_the_same_person_and_others_differ() -> None:
    tenant = make_tenant()
    first = finished(tenant, vendor_data="alice")
    again = finished(tenant, vendor_data="alice")
    other = finished(tenant, vendor_data="bob")
    a, b, c = (person_for(tenant, s) for s in (first, again, other))
    assert (a.full_name, a.document_number, a.face_id, a.document_key, a.date_of_birth) == \
        (b.full_name, b.document_number, b.face_id, b.document_key, b.date_of_birth)
    assert a.full_name != c.full_name and a.document_number != c.document_number and a.face_id != c.face_id
    ids = [render_decision(tenant, s)["id_verifications"][0] for s in (first, again)]
    assert ids[0]["full_name"] == ids[1]["full_name"] and ids[0]["document_number"] == ids[1]["document_number"]
    anonymous = [person_for(tenant, finished(tenant)) for _ in range(2)]
    assert anonymous[0].face_id != anonymous[1].face_id


def test_expected_details_are_respected() -> None:
    tenant = make_tenant()
    expected = {"first_name": "Carmen", "last_name": "Española Española", "date_of_birth": "1980-01-01",
                "gender": "F", "nationality": "ESP", "country": "ESP", "identification_number": "CAA000000",
                "address": "Avda de Madrid 34, Madrid, 28822"}
    session = finished(tenant, wf.COMPLETE_KYC_ID, expected_details=expected)
    body = checked(tenant, session)
    assert body["expected_details"] == expected
    idv = body["id_verifications"][0]
    assert (idv["first_name"], idv["last_name"], idv["full_name"]) == \
        ("Carmen", "Española Española", "Carmen Española Española")
    assert (idv["date_of_birth"], idv["gender"], idv["nationality"], idv["issuing_state"]) == \
        ("1980-01-01", "F", "ESP", "ESP")
    assert idv["document_number"] == "CAA000000" and idv["address"] == expected["address"]
    assert idv["issuing_state_name"] == "Spain" and idv["parsed_address"]["country"] == "ES"
    assert idv["age"] == 46
    poa = body["poa_verifications"][0]
    assert poa["expected_details_address"] == expected["address"]
    assert poa["name_match_score_expected_details"] == 100.0
    assert body["aml_screenings"][0]["screened_data"]["date_of_birth"] == "1980-01-01"
    same = finished(tenant, wf.KYC_ID, expected_details=expected)
    assert person_for(tenant, same).face_id == person_for(tenant, session).face_id


def test_contact_details_override_email_and_phone() -> None:
    tenant = make_tenant()
    session = finished(tenant, wf.COMPLETE_KYC_ID, vendor_data="contact",
                       contact_details={"email": "x@example.com", "phone": "+14155552671"})
    person = person_for(tenant, session)
    assert (person.email, person.phone) == ("x@example.com", "+14155552671")
    body = checked(tenant, session)
    assert body["email_verifications"][0]["email"] == "x@example.com"
    phone = body["phone_verifications"][0]
    assert (phone["phone_number_prefix"], phone["phone_number"], phone["country_code"]) == \
        ("+1", "4155552671", "US")
    plain = finished(tenant, wf.COMPLETE_KYC_ID, vendor_data="no-contact")
    body = checked(tenant, plain)
    assert body["contact_details"] is None
    generated = person_for(tenant, plain)
    assert body["phone_verifications"][0]["full_number"] == generated.phone
    assert body["email_verifications"][0]["email"] == generated.email and "@" in generated.email


def test_update_data_overrides_the_id_verification() -> None:
    tenant = make_tenant()
    session = finished(tenant, vendor_data="fix-me")
    before = render_decision(tenant, session)["id_verifications"][0]
    domain.update_data(tenant, session, "ID_VERIFICATION",
                       {"first_name": "Zoe", "document_number": "NEW12345", "expiration_date": "2040-02-29",
                        "document_type": "P"})
    after = checked(tenant, session)["id_verifications"][0]
    assert after["first_name"] == "Zoe" and after["full_name"] == f"Zoe {before['last_name']}"
    assert after["document_number"] == "NEW12345" and after["document_type"] == "Passport"
    assert person_for(tenant, session).document_key.endswith(":NEW12345")
    expiry = document_expiry_timestamp(tenant, session)
    assert expiry == datetime(2040, 2, 29, tzinfo=timezone.utc).timestamp()


def test_document_expiry_timestamp_and_kyc_expired() -> None:
    tenant = make_tenant()
    assert document_expiry_timestamp(tenant, new_session(tenant)) is None
    assert document_expiry_timestamp(tenant, finished(tenant, wf.AGE_ID)) is None
    session = finished(tenant, vendor_data="expiring")
    expiry = document_expiry_timestamp(tenant, session)
    idv = render_decision(tenant, session)["id_verifications"][0]
    assert expiry == datetime.fromisoformat(idv["expiration_date"]).replace(tzinfo=timezone.utc).timestamp()
    assert expiry > session.created_at
    tenant.clock.set(expiry - 1)
    tenant.tick()
    assert session.status == st.APPROVED
    tenant.clock.set(expiry)
    tenant.tick()
    assert session.status == st.KYC_EXPIRED
    assert checked(tenant, session)["status"] == st.KYC_EXPIRED


# ---------------------------------------------------------------- reviews, v2, imports, node ids

def test_reviews_come_from_status_updates() -> None:
    tenant = make_tenant()
    session = finished(tenant, status=st.IN_REVIEW)
    domain.update_status(tenant, session, st.DECLINED, comment="Duplicate account")
    domain.update_status(tenant, session, st.APPROVED)
    body = checked(tenant, session)
    assert [(r["user"], r["new_status"], r["comment"]) for r in body["reviews"]] == \
        [("API Client", "Declined", "Duplicate account"), ("API Client", "Approved", "")]
    assert body["status"] == st.APPROVED
    domain.update_status(tenant, session, st.RESUBMITTED)
    body = checked(tenant, session)
    assert body["status"] == st.RESUBMITTED and len(body["reviews"]) == 3


def test_v2_decision_has_singular_objects() -> None:
    tenant = make_tenant()
    session = finished(tenant, wf.COMPLETE_KYC_ID, vendor_data="legacy")
    v3, v2 = render_decision(tenant, session), render_decision_v2(tenant, session)
    for singular, plural in (("id_verification", "id_verifications"), ("nfc", "nfc_verifications"),
                             ("liveness", "liveness_checks"), ("face_match", "face_matches"),
                             ("phone", "phone_verifications"), ("email", "email_verifications"),
                             ("poa", "poa_verifications"), ("aml", "aml_screenings"),
                             ("ip_analysis", "ip_analyses"), ("database_validation", "database_validations")):
        expected = {k: v for k, v in v3[plural][0].items() if k != "node_id"}
        assert v2[singular] == expected
        assert plural not in v2
    assert (v2["session_id"], v2["status"], v2["vendor_data"]) == (session.session_id, "Approved", "legacy")
    assert render_decision_v2(tenant, new_session(tenant))["id_verification"] is None
    json.dumps(v2, allow_nan=False)


def test_imported_decision_keeps_the_shared_data() -> None:
    source_tenant, receiver = make_tenant(key="sk_test_source"), make_tenant(key="sk_test_receiver")
    source = finished(source_tenant, vendor_data="shared")
    shared = render_decision(source_tenant, source)
    clone = new_session(receiver, vendor_data="partner-user")
    clone.imported_decision = shared
    clone.shared_from_session = source.session_id
    clone.url = None  # type: ignore[assignment]
    clone.outcomes = {}
    clone.touch()
    body = checked(receiver, clone)
    assert body["session_id"] == clone.session_id and body["session_number"] == clone.session_number
    assert body["session_url"] is None and body["shared_from_session"] == source.session_id
    assert body["vendor_data"] == "partner-user"
    assert body["id_verifications"] == shared["id_verifications"]
    assert body["liveness_checks"] == shared["liveness_checks"]
    assert person_for(receiver, clone).full_name == shared["id_verifications"][0]["full_name"]


def test_node_ids() -> None:
    assert {f: node_id_for(f) for f in wf.FEATURE_ORDER} == {
        "ID_VERIFICATION": "feature_ocr_1", "NFC": "feature_nfc_1", "LIVENESS": "feature_liveness_1",
        "FACE_MATCH": "feature_face_match_1", "AGE_ESTIMATION": "feature_age_estimation_1",
        "POA": "feature_poa_1", "PHONE": "feature_phone_1", "EMAIL_VERIFICATION": "feature_email_1",
        "QUESTIONNAIRE": "feature_questionnaire_1", "DATABASE_VALIDATION": "feature_database_validation_1",
        "AML": "feature_aml_1", "IP_ANALYSIS": "feature_ip_1",
    }
    assert node_id_for("OCR") == "feature_ocr_1" and node_id_for("PROOF_OF_ADDRESS") == "feature_poa_1"


# ---------------------------------------------------------------- determinism and caching

def _script(tenant: Tenant) -> list[str]:
    bodies = []
    for index, workflow_id in enumerate(wf.BUILTIN_WORKFLOWS):
        session = finished(tenant, workflow_id, vendor_data=f"user-{index}")
        bodies.append(json.dumps(render_decision(tenant, session), sort_keys=False))
        bodies.append(json.dumps(list_row(tenant, session)))
    for slug in ("decline_aml_hit", "review_poa_partial_match"):
        session = finished(tenant, wf.COMPLETE_KYC_ID, sandbox_scenario=slug)
        bodies.append(json.dumps(render_decision(tenant, session)))
    bodies.append(json.dumps(render_decision(tenant, new_session(tenant))))
    return bodies


def test_same_seed_same_calls_give_identical_bytes() -> None:
    first, second = _script(make_tenant(seed=5)), _script(make_tenant(seed=5))
    assert first == second
    assert _script(make_tenant(seed=6)) != first


def test_rendering_is_cached_and_returns_fresh_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = make_tenant()
    session = finished(tenant, wf.COMPLETE_KYC_ID, vendor_data="cached")
    body = render_decision(tenant, session)
    row = list_row(tenant, session)

    def no_faker(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a cached rendering must not generate a person again")

    monkeypatch.setattr(people, "_generate", no_faker)
    body["id_verifications"][0]["first_name"] = "Mutated"
    row["features"].clear()
    again = render_decision(tenant, session)
    assert again["id_verifications"][0]["first_name"] != "Mutated"
    assert list_row(tenant, session)["features"]
    assert again == render_decision(tenant, session)


def test_import_does_not_create_faker_instances() -> None:
    code = ("import sys, didit_mock.domain.decision.rendering, didit_mock.domain.people as p; "
            "print(int('faker' in sys.modules), len(p._FAKERS))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.split() == ["0", "0"]


def test_every_decision_feature_has_a_builder() -> None:
    from didit_mock.domain.decision.assembly import BUILDERS

    assert set(BUILDERS) | {wf.LIVENESS, wf.AGE_ESTIMATION} == set(ARRAY_OF)  # liveness_item builds those two
    assert set(ARRAY_OF) <= set(wf.FEATURE_ORDER)


def test_node_ids_do_not_load_the_builders() -> None:
    code = ("import sys, didit_mock.domain.feature_status, didit_mock.domain.sessions; "
            "print(sorted(m for m in sys.modules if m.startswith('didit_mock.domain.decision.')))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "['didit_mock.domain.decision.layout']"


# ---------------------------------------------------------------- over HTTP

def complete(client: httpx.Client, session_id: str, status: str | None, **extra: Any) -> dict[str, Any]:
    response = client.post(f"/_mock/sessions/{session_id}/complete", json={"status": status, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_http_decision_and_list_rows_conform(client: httpx.Client) -> None:
    made = create_session(client, workflow_id=wf.COMPLETE_KYC_ID, vendor_data="http-user",
                          contact_details={"email": "http@example.com"})
    waiting = create_session(client, vendor_data="http-waiting")
    complete(client, made["session_id"], None, features={"ID_VERIFICATION": {"status": "Approved", "data": {"age": 33}}})
    body = client.get(f"/v3/session/{made['session_id']}/decision/").json()
    assert_conforms("GET", DECISION, 200, body)
    assert body["status"] == "Approved" and body["id_verifications"][0]["age"] == 33
    assert body["email_verifications"][0]["email"] == "http@example.com"
    again = client.get(f"/v3/session/{made['session_id']}/decision/").json()
    assert again == body
    page = client.get("/v3/sessions/").json()
    rows = {row["session_id"]: row for row in page["results"]}
    assert set(rows) >= {made["session_id"], waiting["session_id"]}
    for row in rows.values():
        assert_row_conforms(row)
    assert rows[made["session_id"]]["full_name"] == body["id_verifications"][0]["full_name"]
    assert rows[waiting["session_id"]]["status"] == "Not Started"
