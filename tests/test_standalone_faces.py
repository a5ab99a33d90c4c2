"""The standalone image APIs over HTTP: passive liveness, face match, age estimation, ID verification."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from tests.conftest import create_session, twice_from_scratch


def png(width: int = 256, height: int = 256, color: tuple[int, int, int] = (120, 90, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


TINY = png(1, 1, (255, 255, 255))
PHOTO = png()
OTHER_PHOTO = png(color=(10, 200, 30))


def fixture(client: httpx.Client, name: str = "selfie", **query: str) -> bytes:
    response = client.get(f"/_mock/fixtures/{name}.png", params=query)
    assert response.status_code == 200, response.text
    return response.content


def liveness(client: httpx.Client, image: bytes = PHOTO, name: str = "selfie.png", **data: str) -> httpx.Response:
    return client.post("/v3/passive-liveness/", files={"user_image": (name, image, "image/png")}, data=data)


# ---------------------------------------------------------------- passive liveness

def test_a_usable_selfie_is_approved_with_one_face(client: httpx.Client) -> None:
    response = liveness(client, vendor_data="user-1", metadata='{"order": 7}')
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"request_id", "liveness", "vendor_data", "metadata", "created_at"}
    result = body["liveness"]
    assert result["status"] == "Approved" and result["method"] == "PASSIVE"
    assert 91 <= result["score"] <= 99 and result["warnings"] == []
    assert len(result["user_image"]["entities"]) == 1
    assert body["vendor_data"] == "user-1" and body["metadata"] == {"order": 7}
    assert body["created_at"].endswith("+00:00")


def test_the_tiny_png_has_no_face(client: httpx.Client) -> None:
    result = liveness(client, TINY).json()["liveness"]
    assert result["status"] == "Declined" and result["score"] is None
    assert result["user_image"] == {"entities": [], "best_angle": None}
    assert [w["risk"] for w in result["warnings"]] == ["NO_FACE_DETECTED"]
    assert result["warnings"][0]["log_type"] == "error" and "node_id" not in result["warnings"][0]


def test_the_threshold_is_applied_at_or_below(client: httpx.Client) -> None:
    result = liveness(client, face_liveness_score_decline_threshold="100").json()["liveness"]
    assert result["status"] == "Declined"
    assert [w["risk"] for w in result["warnings"]] == ["LOW_LIVENESS_SCORE"]


def test_file_and_field_errors_in_drf_words(client: httpx.Client) -> None:
    missing = client.post("/v3/passive-liveness/", data={"vendor_data": "x"})
    assert missing.status_code == 400 and missing.json() == {"user_image": ["No file was submitted."]}
    text = liveness(client, b"hello", name="notes.txt")
    assert text.json() == {"user_image": ["File extension \u201ctxt\u201d is not allowed. Allowed extensions are: "
                                          "tiff, jpg, jpeg, png, webp."]}
    big = liveness(client, b"\x89PNG" + b"0" * (5 * 1024 * 1024), name="big.png")
    assert big.json() == {"user_image": ["File size should not exceed 5 MB"]}
    fake = liveness(client, b"not an image at all", name="selfie.jpg")
    assert fake.status_code == 400 and fake.json() == {"error": "Invalid user image format."}
    out_of_range = liveness(client, face_liveness_score_decline_threshold="101", save_api_request="maybe")
    assert out_of_range.json() == {
        "face_liveness_score_decline_threshold": ["Ensure this value is less than or equal to 100."],
        "save_api_request": ["Must be a valid boolean."],
    }
    metadata = liveness(client, metadata="[1, 2]")
    assert metadata.json() == {"metadata": ["Metadata must be a JSON object."]}
    long = liveness(client, vendor_data="é" * 1001)
    assert long.json() == {"vendor_data": ["vendor_data is too long (maximum 2000 bytes)."]}


def test_no_key_is_a_403_before_the_body_is_read(anon: httpx.Client) -> None:
    response = liveness(anon)
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}


def test_the_same_call_gives_the_same_bytes_on_the_same_seed(server, api_key: str) -> None:
    answers = twice_from_scratch(server, api_key, lambda http: liveness(http, vendor_data="same").content)
    assert answers[0] == answers[1]


def test_a_saved_call_is_an_api_session_with_its_decision(client: httpx.Client) -> None:
    body = liveness(client, vendor_data="saved-user").json()
    request_id = body["request_id"]
    listed = client.get("/v3/sessions/", params={"vendor_data": "saved-user"}).json()
    assert [row["session_id"] for row in listed["results"]] == [request_id]
    assert listed["results"][0]["status"] == "Approved"
    decision = client.get(f"/v3/session/{request_id}/decision/").json()
    assert decision["workflow_id"] is None and decision["session_url"] is None
    assert decision["liveness_checks"][0]["score"] == body["liveness"]["score"]
    assert decision["features"] == ["LIVENESS"]


def test_a_saved_call_makes_the_user_of_its_vendor_data(client: httpx.Client) -> None:
    liveness(client, vendor_data="first-seen-by-api")
    user = client.get("/v3/users/first-seen-by-api/")
    assert user.status_code == 200, user.text
    assert user.json()["session_count"] == 1
    liveness(client, vendor_data="first-seen-by-api")  # the same user again, not a second one
    assert [u["vendor_data"] for u in client.get("/v3/users/").json()["results"]] == ["first-seen-by-api"]
    assert client.get("/v3/users/first-seen-by-api/").json()["session_count"] == 2


def test_an_unsaved_call_leaves_nothing(client: httpx.Client) -> None:
    body = liveness(client, vendor_data="ghost", save_api_request="false").json()
    assert body["liveness"]["status"] == "Approved"
    assert client.get("/v3/sessions/").json()["count"] == 0
    assert client.get("/v3/users/").json()["count"] == 0
    assert client.get(f"/v3/session/{body['request_id']}/decision/").status_code == 404


def test_a_saved_call_fires_status_updated(client: httpx.Client) -> None:
    client.post("/_mock/webhook", json={"url": "http://127.0.0.1:9/hook", "secret": "s"})
    body = liveness(client, vendor_data="hooked").json()
    def events() -> set[tuple[str, str, str]]:  # one event, however many delivery attempts
        sent = client.get("/_mock/webhooks").json()
        return {(d["event_id"], d["session_id"], d["webhook_type"]) for d in sent["results"] + sent["pending"]}

    found = events()
    assert [(s, t) for _, s, t in found] == [(body["request_id"], "status.updated")]
    liveness(client, vendor_data="quiet", save_api_request="false")
    assert events() == found


def test_a_blocklisted_face_declines_the_same_persons_selfie(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="banned")
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    added = client.post("/v3/blocklist/add/", json={"session_id": session["session_id"], "blocklist_face": True})
    assert added.status_code in (200, 201), added.text
    result = liveness(client, vendor_data="banned").json()["liveness"]
    assert result["status"] == "Declined"
    assert [w["risk"] for w in result["warnings"]] == ["FACE_IN_BLOCKLIST"]
    assert liveness(client, vendor_data="someone-else").json()["liveness"]["status"] == "Approved"


def test_an_armed_outcome_answers_the_next_call_only(client: httpx.Client) -> None:
    armed = client.post("/_mock/standalone/passive-liveness/outcomes",
                        json={"status": "Declined", "risks": ["LIVENESS_FACE_ATTACK"]})
    assert armed.status_code == 201, armed.text
    first = liveness(client).json()["liveness"]
    assert first["status"] == "Declined" and first["score"] == 12.5
    assert [w["risk"] for w in first["warnings"]] == ["LOW_LIVENESS_SCORE", "LIVENESS_FACE_ATTACK"]
    assert liveness(client).json()["liveness"]["status"] == "Approved"


def test_an_outcome_armed_for_one_vendor_data_waits_for_it(client: httpx.Client) -> None:
    client.post("/_mock/standalone/passive-liveness/outcomes",
                json={"status": "Declined", "risks": ["NO_FACE_DETECTED"], "vendor_data": "target"})
    assert liveness(client, vendor_data="other").json()["liveness"]["status"] == "Approved"
    assert liveness(client, vendor_data="target").json()["liveness"]["warnings"][0]["risk"] == "NO_FACE_DETECTED"
    assert client.get("/_mock/standalone/outcomes").json() == {}


def test_bad_directives_are_400s(client: httpx.Client) -> None:
    assert client.post("/_mock/standalone/passive-liveness/outcomes", json={"status": "Maybe"}).status_code == 400
    assert client.post("/_mock/standalone/nothing/outcomes", json={"status": "Declined"}).status_code == 404


def test_a_fixture_image_carries_its_person_and_scenario(client: httpx.Client) -> None:
    attack = fixture(client, person="fixture-user", scenario="decline_liveness_attack")
    assert attack == fixture(client, person="fixture-user", scenario="decline_liveness_attack")
    result = liveness(client, attack).json()["liveness"]
    assert result["status"] == "Declined"
    assert [w["risk"] for w in result["warnings"]] == ["LOW_LIVENESS_SCORE", "LIVENESS_FACE_ATTACK"]
    multiple = liveness(client, fixture(client, scenario="multiple_faces")).json()["liveness"]
    assert multiple["status"] == "Approved" and len(multiple["user_image"]["entities"]) == 2
    assert client.get("/_mock/fixtures/nothing.png").status_code == 404


# ---------------------------------------------------------------- face match

def face_match(client: httpx.Client, user: bytes, ref: bytes, **data: str) -> httpx.Response:
    return client.post("/v3/face-match/", data=data, files={"user_image": ("u.png", user, "image/png"),
                                                            "ref_image": ("r.png", ref, "image/png")})


def test_the_same_person_matches_and_strangers_do_not(client: httpx.Client) -> None:
    same = face_match(client, PHOTO, PHOTO).json()["face_match"]
    assert same["status"] == "Approved" and 90 <= same["score"] <= 99.9
    strangers = face_match(client, PHOTO, OTHER_PHOTO).json()["face_match"]
    assert strangers["status"] == "Declined" and strangers["score"] <= 25
    assert [w["risk"] for w in strangers["warnings"]] == ["LOW_FACE_MATCH_SIMILARITY"]
    assert strangers["warnings"][0]["feature"] == "FACEMATCH"
    swapped = face_match(client, OTHER_PHOTO, PHOTO).json()["face_match"]
    assert swapped["score"] == strangers["score"]  # symmetric


def test_vendor_data_names_the_person_of_both_images(client: httpx.Client) -> None:
    result = face_match(client, PHOTO, OTHER_PHOTO, vendor_data="one-person").json()["face_match"]
    assert result["status"] == "Approved"
    fixtures = face_match(client, fixture(client, person="a"), fixture(client, person="a")).json()["face_match"]
    assert fixtures["status"] == "Approved"
    assert face_match(client, fixture(client, person="a"), fixture(client, person="b")).json()[
        "face_match"]["status"] == "Declined"


def test_tiny_images_have_no_reference(client: httpx.Client) -> None:
    saved = face_match(client, TINY, TINY).json()["face_match"]
    assert saved["status"] == "Declined" and saved["score"] is None
    assert [w["risk"] for w in saved["warnings"]] == ["NO_REFERENCE_IMAGE"]
    unsaved = face_match(client, TINY, TINY, save_api_request="false").json()["face_match"]
    assert unsaved["score"] == 0


def test_face_match_threshold_and_missing_image(client: httpx.Client) -> None:
    assert face_match(client, PHOTO, PHOTO, face_match_score_decline_threshold="100").json()[
        "face_match"]["status"] == "Declined"
    missing = client.post("/v3/face-match/", files={"user_image": ("u.png", PHOTO, "image/png")})
    assert missing.json() == {"ref_image": ["No file was submitted."]}
    fake = face_match(client, PHOTO, b"nope")
    assert fake.json() == {"error": "Invalid ref image format."}


def test_the_saved_face_match_has_its_decision(client: httpx.Client) -> None:
    body = face_match(client, PHOTO, PHOTO).json()
    decision = client.get(f"/v3/session/{body['request_id']}/decision/").json()
    assert decision["face_matches"][0]["score"] == body["face_match"]["score"]


# ---------------------------------------------------------------- age estimation

def age(client: httpx.Client, image: bytes = PHOTO, **data: str) -> httpx.Response:
    return client.post("/v3/age-estimation/", data=data, files={"user_image": ("a.png", image, "image/png")})


def test_age_estimation_approves_an_adult_and_applies_the_threshold(client: httpx.Client) -> None:
    result = age(client, vendor_data="adult").json()["age_estimation"]
    assert result["status"] == "Approved" and result["age_estimation"] > 0
    strict = age(client, vendor_data="adult", age_estimation_decline_threshold="100").json()["age_estimation"]
    assert strict["status"] == "Declined"
    assert [w["risk"] for w in strict["warnings"]] == ["AGE_BELOW_MINIMUM"]
    assert strict["age_estimation"] == result["age_estimation"]


def test_age_estimation_of_a_tiny_image(client: httpx.Client) -> None:
    result = age(client, TINY).json()["age_estimation"]
    assert result["status"] == "Declined" and result["age_estimation"] is None and result["score"] is None
    assert [w["risk"] for w in result["warnings"]] == ["NO_FACE_DETECTED", "AGE_NOT_DETECTED"]


def test_a_minor_fixture_is_declined(client: httpx.Client) -> None:
    result = age(client, fixture(client, scenario="decline_minimum_age")).json()["age_estimation"]
    assert result["age_estimation"] == 16.5 and result["status"] == "Declined"
    assert age(client, fixture(client, scenario="decline_minimum_age"),
               age_estimation_decline_threshold="0").json()["age_estimation"]["status"] == "Approved"


def test_the_saved_age_estimation_decision(client: httpx.Client) -> None:
    body = age(client, vendor_data="aged").json()
    decision = client.get(f"/v3/session/{body['request_id']}/decision/").json()
    assert decision["liveness_checks"][0]["age_estimation"] == body["age_estimation"]["age_estimation"]


# ---------------------------------------------------------------- ID verification

def idv(client: httpx.Client, front: bytes = PHOTO, back: bytes | None = None, **data: str) -> httpx.Response:
    files = {"front_image": ("front.png", front, "image/png")}
    if back is not None:
        files["back_image"] = ("back.png", back, "image/png")
    return client.post("/v3/id-verification/", data=data, files=files)


def test_the_document_is_the_persons_document(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="doc-user")
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    from_session = client.get(f"/v3/session/{session['session_id']}/decision/").json()["id_verifications"][0]
    result = idv(client, back=OTHER_PHOTO, vendor_data="doc-user").json()["id_verification"]
    assert result["status"] == "Approved" and result["warnings"] == [] and result["barcodes"] == []
    for name in ("full_name", "document_number", "date_of_birth", "issuing_state", "document_type"):
        assert result[name] == from_session[name]
    assert result["front_image_camera_front"] is None and result["back_image"]


def test_a_tiny_document_is_declined_with_nothing_read(client: httpx.Client) -> None:
    result = idv(client, TINY).json()["id_verification"]
    assert result["status"] == "Declined" and result["document_type"] is None and result["mrz"] == {}
    assert [w["risk"] for w in result["warnings"]] == [
        "NAME_NOT_DETECTED", "DATE_OF_BIRTH_NOT_DETECTED", "DOCUMENT_NUMBER_NOT_DETECTED"]


@pytest.mark.parametrize(("action", "status", "log_type"), [("DECLINE", "Declined", "error"),
                                                             ("NO_ACTION", "Approved", "information")])
def test_the_mrz_action_is_applied(client: httpx.Client, action: str, status: str, log_type: str) -> None:
    front = fixture(client, "id-front", scenario="decline_mrz_validation")
    result = idv(client, front, invalid_mrz_action=action).json()["id_verification"]
    assert result["status"] == status
    assert [(w["risk"], w["log_type"]) for w in result["warnings"]] == [("MRZ_VALIDATION_FAILED", log_type)]


def test_id_verification_errors(client: httpx.Client) -> None:
    assert idv(client, invalid_mrz_action="REVIEW").json() == {"invalid_mrz_action": ['"REVIEW" is not a valid choice.']}
    assert client.post("/v3/id-verification/", data={}).json() == {"front_image": ["No file was submitted."]}
    client.post("/_mock/standalone/id-verification/outcomes", json={"scenario": "decline_could_not_recognize_document"})
    unrecognized = idv(client)
    assert unrecognized.status_code == 400 and unrecognized.json() == {"error": "COULD_NOT_RECOGNIZE_DOCUMENT"}


def test_an_expired_document_declines(client: httpx.Client) -> None:
    client.post("/_mock/standalone/id-verification/outcomes", json={"status": "Declined"})
    result = idv(client).json()["id_verification"]
    assert result["status"] == "Declined" and [w["risk"] for w in result["warnings"]] == ["DOCUMENT_EXPIRED"]


# ---------------------------------------------------------------- pytest helpers

def test_the_helpers_arm_an_outcome_and_fetch_a_fixture(server) -> None:
    from didit_mock.testing import DiditMock, DiditMockError

    with DiditMock.new_tenant(server.url) as mock:
        mock.arm_outcome("face-match", "Declined", vendor_data="helper-user")
        selfie = mock.fixture_image("selfie", person="helper-user")
        assert selfie == mock.fixture_image("selfie", person="helper-user")
        files = {"user_image": ("u.png", selfie, "image/png"), "ref_image": ("r.png", selfie, "image/png")}
        declined = mock.http.post("/v3/face-match/", files=files, data={"vendor_data": "helper-user"}).json()
        assert declined["face_match"]["status"] == "Declined"
        mock.arm_outcome("passive-liveness", scenario="no_face", sticky=True)
        mock.disarm_outcomes()
        approved = mock.http.post("/v3/passive-liveness/", files={"user_image": ("u.png", selfie, "image/png")})
        assert approved.json()["liveness"]["status"] == "Approved"
        with pytest.raises(DiditMockError):
            mock.arm_outcome("nowhere", "Declined")
        with pytest.raises(DiditMockError):
            mock.fixture_image("nothing")


def test_the_blocklist_hit_names_its_session(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="named-ban")
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    client.post("/v3/blocklist/add/", json={"session_id": session["session_id"], "blocklist_face": True})
    hit = liveness(client, vendor_data="named-ban").json()["liveness"]["warnings"][0]
    assert hit["additional_data"]["blocklisted_session_id"] == session["session_id"]


def test_another_users_face_is_a_duplicate_that_does_not_decline(client: httpx.Client) -> None:
    first = liveness(client, fixture(client, person="alice"), vendor_data="alice").json()
    assert first["liveness"]["warnings"] == []
    second = liveness(client, fixture(client, person="alice"), vendor_data="mallory").json()["liveness"]
    assert second["status"] == "Approved"
    assert [(w["risk"], w["log_type"]) for w in second["warnings"]] == [("DUPLICATED_FACE", "information")]
    assert second["warnings"][0]["additional_data"]["duplicated_session_id"] == first["request_id"]


def test_an_unsaved_id_verification_returns_its_images_inline(client: httpx.Client) -> None:
    import base64

    result = idv(client, back=OTHER_PHOTO, save_api_request="false").json()["id_verification"]
    for name in ("front_image", "back_image", "portrait_image"):
        assert base64.b64decode(result[name]).startswith(b"\xff\xd8"), name  # a JPEG
    assert client.get("/v3/sessions/").json()["count"] == 0


def test_a_pdf_document_is_read_and_a_fake_one_refused(client: httpx.Client) -> None:
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    files = {"front_image": ("scan.pdf", pdf, "application/pdf")}
    assert client.post("/v3/id-verification/", files=files).json()["id_verification"]["status"] == "Approved"
    fake = client.post("/v3/id-verification/", files={"front_image": ("scan.pdf", b"nope", "application/pdf")})
    assert fake.status_code == 400 and fake.json() == {"error": "Failed to convert front image PDF."}
    locked = client.post("/v3/id-verification/", files={"front_image": ("scan.pdf", pdf + b"/Encrypt", "x/pdf")})
    assert locked.json() == {"detail": "The PDF is encrypted. Please upload a decrypted PDF or a photo instead."}
    liveness_pdf = liveness(client, pdf, name="selfie.pdf")
    assert liveness_pdf.json()["user_image"][0].startswith("File extension \u201cpdf\u201d is not allowed.")


# ---------------------------------------------------------------- face search

def search(client: httpx.Client, image: bytes = PHOTO, **data: str) -> httpx.Response:
    return client.post("/v3/face-search/", data=data, files={"user_image": ("s.png", image, "image/png")})


def test_face_search_finds_the_persons_earlier_faces_but_not_its_own_searches(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="searched")
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    saved = liveness(client, vendor_data="searched").json()
    liveness(client, vendor_data="stranger")
    first = search(client, vendor_data="searched").json()["face_search"]
    assert first["status"] == "Approved" and first["warnings"] == []
    assert [m["session_id"] for m in first["matches"]] == [saved["request_id"], session["session_id"]]
    assert first["matches"][1]["source"] == "session" and first["matches"][0]["api_service"] == "PASSIVE_LIVENESS"
    again = search(client, vendor_data="searched").json()["face_search"]
    assert again["total_matches"] == 2  # the first search was not enrolled


def test_face_search_of_a_blocklisted_face_declines(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="search-banned")
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    client.post("/v3/blocklist/add/", json={"session_id": session["session_id"], "blocklist_face": True})
    result = search(client, vendor_data="search-banned", search_type="blocklisted_or_approved").json()["face_search"]
    assert result["status"] == "Declined" and result["matches"][0]["is_blocklisted"] is True
    assert [w["risk"] for w in result["warnings"]] == ["FACE_IN_BLOCKLIST"]


def test_face_search_of_another_users_face_reports_a_duplicate(client: httpx.Client) -> None:
    liveness(client, fixture(client, person="carol"), vendor_data="carol")
    result = search(client, fixture(client, person="carol"), vendor_data="dave").json()["face_search"]
    assert result["status"] == "Approved" and [w["risk"] for w in result["warnings"]] == ["DUPLICATED_FACE"]


def test_face_search_of_a_tiny_image_is_a_400(client: httpx.Client) -> None:
    response = search(client, TINY)
    assert response.status_code == 400 and response.json() == {"error": "No face detected in the image"}
    assert search(client, search_type="nearest").json() == {"search_type": ['"nearest" is not a valid choice.']}


def test_the_session_list_filters_api_sessions(client: httpx.Client) -> None:
    create_session(client, vendor_data="kyc-user")
    match = face_match(client, PHOTO, PHOTO).json()["request_id"]
    live = liveness(client).json()["request_id"]

    def ids(**params: str) -> list[str]:
        return [row["session_id"] for row in client.get("/v3/sessions/", params=params).json()["results"]]

    assert ids(session_type="API") == [live, match]
    assert ids(api_service="FACE_MATCH") == [match]
    assert len(ids(session_type="WORKFLOW")) == 1
    assert len(ids()) == 3


# ---------------------------------------------------------------- compat switches

def test_compat_switches_per_tenant(client: httpx.Client) -> None:
    assert client.put("/_mock/standalone/compat", json={"switches": ["nope"]}).status_code == 400
    assert idv(client, TINY).status_code == 200
    assert "liveness" not in age(client).json()
    switched = client.put("/_mock/standalone/compat",
                          json={"switches": ["tiny-id-image-400", "age-estimation-liveness-key"]})
    assert switched.status_code == 200, switched.text
    tiny = idv(client, TINY)
    assert tiny.status_code == 400 and tiny.json() == {"error": "COULD_NOT_RECOGNIZE_DOCUMENT"}
    body = age(client).json()
    assert body["liveness"] == body["age_estimation"]
    assert client.get("/_mock/standalone/compat").json() == {
        "switches": ["tiny-id-image-400", "age-estimation-liveness-key"]}


def test_compat_switches_for_every_tenant_from_the_settings() -> None:
    from didit_mock.server import MockServer
    from didit_mock.settings import Settings

    assert Settings(compat=["bogus"]).problems()[0][0] == "compat"
    assert Settings.from_env({"DIDIT_MOCK_COMPAT": "tiny-id-image-400"}).compat == ["tiny-id-image-400"]
    with MockServer(compat=["tiny-id-image-400"]) as running, \
            httpx.Client(base_url=running.url, headers={"x-api-key": "sk_test_compat"}) as http:
        assert idv(http, TINY).status_code == 400


# ---------------------------------------------------------------- scenario rules

def test_scenario_rules_choose_standalone_outcomes(client: httpx.Client) -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "scenarios" / "standalone-outcomes.yaml").read_text()
    loaded = client.put("/_mock/scenarios", content=text.encode(), headers={"content-type": "application/yaml"})
    assert loaded.status_code in (200, 201), loaded.text
    spoofed = liveness(client, vendor_data="spoof-1").json()["liveness"]
    assert spoofed["status"] == "Declined" and spoofed["score"] == 12.5
    assert liveness(client, vendor_data="honest-1").json()["liveness"]["status"] == "Approved"
    assert age(client, vendor_data="minor-7").json()["age_estimation"]["age_estimation"] == 16.5
    expired = idv(client, vendor_data="expired-2").json()["id_verification"]
    assert [w["risk"] for w in expired["warnings"]] == ["DOCUMENT_EXPIRED"]
    review = client.post("/v3/aml/", json={"full_name": "Clean Person", "vendor_data": "pep-9"}).json()["aml"]
    assert review["status"] == "In Review"
    # an armed outcome comes first
    client.post("/_mock/standalone/passive-liveness/outcomes", json={"status": "Approved"})
    assert liveness(client, vendor_data="spoof-1").json()["liveness"]["status"] == "Approved"


def test_a_bad_standalone_rule_is_refused_with_its_place(client: httpx.Client) -> None:
    text = "standalone:\n  - endpoint: face-match\n  - endpoint: teleport\n    status: Declined\n"
    refused = client.put("/_mock/scenarios", content=text.encode(), headers={"content-type": "application/yaml"})
    assert refused.status_code == 400
    assert "standalone" in refused.text


# ---------------------------------------------------------------- proof of address

def poa(client: httpx.Client, document: bytes = PHOTO, name: str = "bill.png", **data: str) -> httpx.Response:
    return client.post("/v3/poa/", data=data, files={"document": (name, document, "image/png")})


def test_the_bill_shows_the_persons_address(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="poa-user")
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    person = client.get(f"/v3/session/{session['session_id']}/decision/").json()["id_verifications"][0]
    body = poa(client, vendor_data="poa-user").json()
    result = body["poa"]
    assert result["status"] == "Approved" and result["warnings"] == [], result["warnings"]
    assert result["name_on_document"] == person["full_name"]
    assert result["document_type"] in ("UTILITY_BILL", "BANK_STATEMENT") and result["document_subtype"] != "UNKNOWN"
    decision = client.get(f"/v3/session/{body['request_id']}/decision/").json()
    assert decision["poa_verifications"][0]["issue_date"] == result["issue_date"]


def test_a_tiny_bill_is_unreadable(client: httpx.Client) -> None:
    result = poa(client, TINY).json()["poa"]
    assert result["status"] == "Declined" and result["document_type"] == "UNKNOWN"
    assert [w["risk"] for w in result["warnings"]] == [
        "INVALID_DOCUMENT_TYPE", "MISSING_ADDRESS_INFORMATION", "UNABLE_TO_EXTRACT_ISSUE_DATE", "POA_NAME_NOT_DETECTED"]


def test_expected_details_and_the_mismatch_action(client: httpx.Client) -> None:
    stranger = poa(client, vendor_data="poa-2", expected_first_name="Zed", expected_last_name="Nobody",
                   expected_country="JPN").json()["poa"]
    assert stranger["status"] == "Declined"
    assert [w["risk"] for w in stranger["warnings"]] == ["NAME_MISMATCH_WITH_PROVIDED",
                                                         "POA_COUNTRY_MISMATCH_WITH_PROVIDED"]
    lenient = poa(client, vendor_data="poa-2", expected_first_name="Zed",
                  poa_address_mismatch_action="NO_ACTION").json()["poa"]
    assert lenient["status"] == "Approved" and lenient["warnings"][0]["log_type"] == "information"
    address = poa(client, vendor_data="poa-2", expected_address="1 Nowhere Street, Atlantis").json()["poa"]
    assert [w["risk"] for w in address["warnings"]] == ["ADDRESS_MISMATCH_WITH_PROVIDED"]


def test_document_age_window(client: httpx.Client) -> None:
    client.post("/_mock/standalone/poa/outcomes", json={"scenario": "decline_document_expired"})
    expired = poa(client).json()["poa"]
    assert expired["issue_date"] == "2021-02-10" and expired["status"] == "Declined"
    assert expired["warnings"][0]["risk"] == "POA_DOCUMENT_EXPIRED"
    assert expired["warnings"][0]["additional_data"]["expiration_reason"] == "age_window"
    unlimited = "utility_bill:-1,bank_statement:-1,government_issued_document:-1,other_poa_document:-1"
    client.post("/_mock/standalone/poa/outcomes", json={"scenario": "decline_document_expired"})
    assert poa(client, poa_document_age_months=unlimited).json()["poa"]["status"] == "Approved"


def test_poa_errors(client: httpx.Client) -> None:
    assert poa(client, poa_document_age_months="utility_bill:999").json() == {"poa_document_age_months": [
        "Invalid integer value for 'utility_bill': '999'. Must be -1 (unlimited) or a positive integer between "
        "1 and 120."]}
    assert poa(client, b"garbage", name="bill.jpg").json() == {"error": ["Error extracting POA information"]}
    assert client.post("/v3/poa/", data={}).json() == {"document": ["No file was submitted."]}


def test_a_live_tenant_pays_a_credit_per_call_and_is_refused_without(client: httpx.Client) -> None:
    created = client.post("/_mock/tenants", json={"environment": "live", "credits": 1}).json()
    with httpx.Client(base_url=str(client.base_url), headers={"x-api-key": created["api_key"]}) as live:
        assert liveness(live).status_code == 200
        assert live.get("/_mock/tenant").json()["settings"]["credits"] == 0
        refused = liveness(live)
        assert refused.status_code == 403
        assert refused.json() == {"error": "You don't have enough credits to perform this request. Please top up at "
                                           "https://business.didit.me"}
        assert live.get("/v3/sessions/").json()["count"] == 1


def test_the_dashboard_lists_saved_calls_with_their_outcome(server, client: httpx.Client, api_key: str) -> None:
    from tests.test_dashboard import base_of

    liveness(client, TINY, vendor_data="dash-user")
    with httpx.Client(base_url=server.url, timeout=10, follow_redirects=True) as browser:
        listing = browser.get(f"{base_of(api_key)}/sessions").text
    assert "API · Passive Liveness" in listing and "dash-user" in listing and "Declined" in listing
