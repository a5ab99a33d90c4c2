"""B2B sharing over HTTP between two tenants: share -> import, token rules and the one-import rule."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import jwt
import pytest

from didit_mock.server import MockServer
from tests.conftest import KYC_WORKFLOW, advance, create_session, new_key
from tests.contract.conformance import assert_conforms

SHARE = "/v3/session/{sessionId}/share/"
IMPORT = "/v3/session/import-shared/"
DECISION = "/v3/session/{sessionId}/decision/"


@pytest.fixture
def partner(server: MockServer) -> Iterator[httpx.Client]:
    """A second application (tenant) that receives shared sessions."""
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}, timeout=10) as http:
        yield http


def application_id(client: httpx.Client) -> str:
    response = client.get("/_mock/tenant")
    assert response.status_code == 200
    return response.json()["application_id"]


def finished(client: httpx.Client, status: str = "Approved", **fields: object) -> dict:
    session = create_session(client, **fields)
    done = client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": status})
    assert done.status_code == 200, done.text
    return done.json()


def share(client: httpx.Client, session_id: str, target: str, **extra: object) -> httpx.Response:
    return client.post(f"/v3/session/{session_id}/share/", json={"for_application_id": target, **extra})


def mint(client: httpx.Client, session_id: str, target: str, **extra: object) -> str:
    response = share(client, session_id, target, **extra)
    assert response.status_code == 200, response.text
    return response.json()["share_token"]


def redeem(client: httpx.Client, token: str, trust_review: bool = True, **extra: object) -> httpx.Response:
    return client.post(IMPORT, json={"share_token": token, "trust_review": trust_review, "workflow_id": KYC_WORKFLOW,
                                     **extra})


def without(body: dict, *keys: str) -> dict:
    return {k: v for k, v in body.items() if k not in keys}


# ---------------------------------------------------------------- the round trip

def test_share_then_import_keeping_the_review(client: httpx.Client, partner: httpx.Client) -> None:
    source = finished(client, "Approved", vendor_data="shared-user", metadata={"tier": "gold"})
    sid = source["session_id"]
    target = application_id(partner)

    response = share(client, sid, target, ttl_in_seconds=7200)
    assert response.status_code == 200
    body = response.json()
    assert_conforms("POST", SHARE, 200, body)
    assert body["for_application_id"] == target and body["session_kind"] == "user"
    header = jwt.get_unverified_header(body["share_token"])
    assert header["alg"] == "HS256"
    claims = jwt.decode(body["share_token"], options={"verify_signature": False})
    assert set(claims) == {"session_id", "from_application_id", "for_application_id", "iat", "exp"}
    assert claims["session_id"] == sid
    assert claims["from_application_id"] == application_id(client)
    assert claims["for_application_id"] == target
    assert claims["iat"] == int(client.get("/_mock/clock").json()["timestamp"])
    assert claims["exp"] - claims["iat"] == 7200

    imported = redeem(partner, body["share_token"], trust_review=True)
    assert imported.status_code == 201, imported.text
    clone = imported.json()
    assert_conforms("POST", IMPORT, 201, clone)
    assert_conforms("GET", DECISION, 200, without(clone, "shared_from_session"))
    assert clone["shared_from_session"] == sid
    assert clone["session_id"] != sid
    assert clone["session_number"] == 1
    assert clone["session_url"] is None
    assert clone["status"] == "Approved"
    assert clone["vendor_data"] == "shared-user"
    assert clone["workflow_id"] == KYC_WORKFLOW
    for array in ("id_verifications", "liveness_checks", "face_matches", "aml_screenings", "ip_analyses"):
        assert clone[array] == source[array], array

    again = partner.get(f"/v3/session/{clone['session_id']}/decision/")
    assert again.status_code == 200
    assert again.json()["shared_from_session"] == sid
    assert again.json()["id_verifications"] == source["id_verifications"]
    listed = partner.get("/v3/sessions/").json()
    assert [row["session_id"] for row in listed["results"]] == [clone["session_id"]]
    assert client.get(f"/v3/session/{clone['session_id']}/decision/").status_code == 404


def test_import_without_trust_is_in_review_with_a_vendor_data_override(client: httpx.Client,
                                                                        partner: httpx.Client) -> None:
    source = finished(client, "Declined", vendor_data="theirs")
    token = mint(client, source["session_id"], application_id(partner))
    imported = redeem(partner, token, trust_review=False, vendor_data="ours")
    assert imported.status_code == 201
    clone = imported.json()
    assert clone["status"] == "In Review"
    assert clone["vendor_data"] == "ours"
    assert client.get(f"/v3/session/{source['session_id']}/decision/").json()["status"] == "Declined"


def test_imported_session_reports_and_can_be_reviewed(client: httpx.Client, partner: httpx.Client) -> None:
    source = finished(client, "In Review")
    token = mint(client, source["session_id"], application_id(partner))
    clone = redeem(partner, token).json()
    assert clone["status"] == "In Review"
    pdf = partner.get(f"/v3/session/{clone['session_id']}/generate-pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    decided = partner.patch(f"/v3/session/{clone['session_id']}/update-status/", json={"new_status": "Approved"})
    assert decided.status_code == 200
    assert client.get(f"/v3/session/{source['session_id']}/decision/").json()["status"] == "In Review"


def test_a_source_is_imported_once_per_receiver(client: httpx.Client, partner: httpx.Client, server) -> None:
    source = finished(client)
    target = application_id(partner)
    assert redeem(partner, mint(client, source["session_id"], target)).status_code == 201

    for token in (mint(client, source["session_id"], target), mint(client, source["session_id"], target)):
        refused = redeem(partner, token)
        assert refused.status_code == 403
        assert refused.json() == {"detail": "This session has already been shared with your application."}
        assert_conforms("POST", IMPORT, 403, refused.json())

    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}) as third:
        assert redeem(third, mint(client, source["session_id"], application_id(third))).status_code == 201


# ---------------------------------------------------------------- token rules

def test_token_expiry_follows_the_receivers_clock(client: httpx.Client, partner: httpx.Client) -> None:
    first, second = finished(client), finished(client)
    target = application_id(partner)

    early = mint(client, first["session_id"], target, ttl_in_seconds=60)
    advance(client, 3600)  # the sharer's clock moving does not expire a token
    assert redeem(partner, early).status_code == 201

    late = mint(client, second["session_id"], target, ttl_in_seconds=60)
    claims = jwt.decode(late, options={"verify_signature": False})
    receiver_now = partner.get("/_mock/clock").json()["timestamp"]
    advance(partner, claims["exp"] - receiver_now + 1)
    expired = redeem(partner, late)
    assert expired.status_code == 400
    assert expired.json() == {"share_token": ["Share token has expired."]}
    assert_conforms("POST", IMPORT, 400, expired.json())


def test_token_for_another_application_is_refused(client: httpx.Client, partner: httpx.Client, server) -> None:
    token = mint(client, finished(client)["session_id"], application_id(partner))
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}) as third:
        response = redeem(third, token)
    assert response.status_code == 400
    assert response.json() == {"share_token": ["This token is not valid for this application."]}
    assert_conforms("POST", IMPORT, 400, response.json())


@pytest.mark.parametrize("kind", ["garbage", "foreign-key", "tampered"])
def test_invalid_tokens(client: httpx.Client, partner: httpx.Client, kind: str) -> None:
    target = application_id(partner)
    genuine = mint(client, finished(client)["session_id"], target)
    claims = jwt.decode(genuine, options={"verify_signature": False})
    if kind == "garbage":
        token = "not-a-jwt"
    elif kind == "foreign-key":
        token = jwt.encode(claims, "some-other-secret-that-is-long-enough-1234", algorithm="HS256")
    else:
        head, _, signature = genuine.split(".")
        forged = jwt.encode({**claims, "exp": claims["exp"] + 999999}, "x" * 32, algorithm="HS256").split(".")[1]
        token = f"{head}.{forged}.{signature}"
    response = redeem(partner, token)
    assert response.status_code == 400
    assert response.json() == {"share_token": ["Invalid share token."]}
    assert_conforms("POST", IMPORT, 400, response.json())


def test_deleted_source_cannot_be_imported(client: httpx.Client, partner: httpx.Client) -> None:
    source = finished(client)
    token = mint(client, source["session_id"], application_id(partner))
    assert client.delete(f"/v3/session/{source['session_id']}/delete/").status_code == 200
    response = redeem(partner, token)
    assert response.status_code == 400
    assert response.json() == {"share_token": ["Original session does not exist."]}
    assert_conforms("POST", IMPORT, 400, response.json())


# ---------------------------------------------------------------- share errors

def test_share_validation(client: httpx.Client, partner: httpx.Client) -> None:
    sid = finished(client)["session_id"]
    target = application_id(partner)
    cases = [
        ({}, {"for_application_id": ["This field is required."]}),
        ({"for_application_id": "nope"}, {"for_application_id": ["Must be a valid UUID."]}),
        ({"for_application_id": str(uuid.uuid4())}, {"for_application_id": ["Target application does not exist."]}),
        ({"for_application_id": application_id(client)},
         {"for_application_id": ["Cannot share a session with the same application."]}),
        ({"for_application_id": target, "ttl_in_seconds": 59},
         {"ttl_in_seconds": ["Ensure this value is greater than or equal to 60."]}),
        ({"for_application_id": target, "ttl_in_seconds": 86401},
         {"ttl_in_seconds": ["Ensure this value is less than or equal to 86400."]}),
    ]
    for payload, expected in cases:
        response = client.post(f"/v3/session/{sid}/share/", json=payload)
        assert response.status_code == 400, payload
        assert response.json() == expected
        assert_conforms("POST", SHARE, 400, response.json())


@pytest.mark.parametrize("status", ["Not Started", "In Progress", "Abandoned"])
def test_only_finished_sessions_can_be_shared(client: httpx.Client, partner: httpx.Client, status: str) -> None:
    sid = create_session(client)["session_id"]
    if status == "In Progress":
        client.post(f"/_mock/sessions/{sid}/start")
    elif status == "Abandoned":
        client.post(f"/_mock/sessions/{sid}/complete", json={"status": "Abandoned"})
    response = share(client, sid, application_id(partner))
    assert response.status_code == 400
    assert response.json() == {"detail": ['Only finished sessions ("Approved", "Declined", "In Review") can be shared.']}
    assert_conforms("POST", SHARE, 400, response.json())


def test_share_answers_401_and_404(client: httpx.Client, partner: httpx.Client, anon: httpx.Client) -> None:
    sid = finished(client)["session_id"]
    target = application_id(partner)
    missing = anon.post(f"/v3/session/{sid}/share/", json={"for_application_id": target})
    assert missing.status_code == 401
    assert missing.json() == {"detail": "Authentication credentials were not provided or are invalid."}
    assert_conforms("POST", SHARE, 401, missing.json())
    unknown = client.post(f"/v3/session/{uuid.uuid4()}/share/", json={"for_application_id": target})
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Not found."}
    assert_conforms("POST", SHARE, 404, unknown.json())
    foreign = partner.post(f"/v3/session/{sid}/share/", json={"for_application_id": application_id(client)})
    assert foreign.status_code == 404


def test_share_refused_key_is_401() -> None:
    with MockServer(freeze_clock=True, api_keys=["sk_test_known"]) as locked, \
            httpx.Client(base_url=locked.url, headers={"x-api-key": "sk_test_unknown"}) as stranger:
        response = stranger.post(f"/v3/session/{uuid.uuid4()}/share/", json={"for_application_id": str(uuid.uuid4())})
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided or are invalid."}


# ---------------------------------------------------------------- import errors

def test_import_validation_and_auth(client: httpx.Client, partner: httpx.Client, anon: httpx.Client) -> None:
    token = mint(client, finished(client)["session_id"], application_id(partner))
    cases = [
        ({}, {"share_token": ["This field is required."], "trust_review": ["This field is required."],
              "workflow_id": ["This field is required."]}),
        ({"share_token": token, "trust_review": True, "workflow_id": "x"}, {"workflow_id": ["Must be a valid UUID."]}),
        ({"share_token": token, "trust_review": "maybe", "workflow_id": KYC_WORKFLOW},
         {"trust_review": ["Must be a valid boolean."]}),
    ]
    for payload, expected in cases:
        response = partner.post(IMPORT, json=payload)
        assert response.status_code == 400, payload
        assert response.json() == expected
        assert_conforms("POST", IMPORT, 400, response.json())
    unauthenticated = anon.post(IMPORT, json={"share_token": token, "trust_review": True, "workflow_id": KYC_WORKFLOW})
    assert unauthenticated.status_code == 403
    assert_conforms("POST", IMPORT, 403, unauthenticated.json())


def test_unknown_workflow_is_404_only_for_strict_receivers(client: httpx.Client, server) -> None:
    strict_key, lenient_key = new_key(), new_key()
    assert client.post("/_mock/tenants", json={"api_key": strict_key, "strict_workflows": True}).status_code == 201
    unknown_workflow = str(uuid.uuid4())
    with httpx.Client(base_url=server.url, headers={"x-api-key": strict_key}) as strict, \
            httpx.Client(base_url=server.url, headers={"x-api-key": lenient_key}) as lenient:
        source = finished(client)["session_id"]
        token = mint(client, source, application_id(strict))
        refused = redeem(strict, token, workflow_id=unknown_workflow)
        assert refused.status_code == 404
        assert refused.json() == {"detail": "Workflow does not exist for this application."}
        assert_conforms("POST", IMPORT, 404, refused.json())
        assert redeem(strict, token).status_code == 201  # a failed import redeems nothing

        accepted = redeem(lenient, mint(client, source, application_id(lenient)), workflow_id=unknown_workflow)
        assert accepted.status_code == 201
        assert accepted.json()["workflow_id"] == unknown_workflow
