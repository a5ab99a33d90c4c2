"""The PDF report over HTTP: a real, parseable PDF of the session, and the documented refusals."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
from pypdf import PdfReader

from tests.conftest import advance, complete, create_session
from tests.contract.conformance import assert_conforms

PDF = "/v3/session/{sessionId}/generate-pdf/"
WRONG_STATUS = {"detail": "You can only generate a PDF for sessions in review, declined, approved or kyc expired"}



def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def get_pdf(client: httpx.Client, session_id: str, slash: bool = True) -> httpx.Response:
    return client.get(f"/v3/session/{session_id}/generate-pdf" + ("/" if slash else ""))


def test_declined_session_report_is_a_real_pdf_with_its_data(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="pdf-user")
    sid = session["session_id"]
    decision = complete(client, sid, "Declined", LIVENESS={"status": "Declined", "risk": "LIVENESS_FACE_ATTACK"})
    note = client.post(f"/v3/sessions/{sid}/reviews/", json={"new_status": "Declined", "comment": "Checked by hand"})
    assert note.status_code == 201

    response = get_pdf(client, sid)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f"attachment; filename=session_{sid}.pdf"
    assert int(response.headers["content-length"]) == len(response.content)
    assert "transfer-encoding" not in response.headers
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    person = decision["id_verifications"][0]
    assert sid in text
    assert f"Session number {session['session_number']}" in text
    assert "Declined" in text
    assert "KYC" in text and session["workflow_id"] in text
    assert person["first_name"] in text and person["last_name"] in text
    assert person["document_number"] in text
    assert "LIVENESS_FACE_ATTACK" in text
    assert "Checked by hand" in text
    for title in ("ID Verification", "Liveness", "Face Match", "AML Screening", "IP Analysis"):
        assert title in text


def test_both_path_forms_are_served_without_redirect(client: httpx.Client) -> None:
    sid = create_session(client)["session_id"]
    complete(client, sid, "Approved")
    with_slash = get_pdf(client, sid)
    without_slash = get_pdf(client, sid, slash=False)
    assert with_slash.status_code == without_slash.status_code == 200
    assert without_slash.content == with_slash.content
    assert without_slash.headers["content-disposition"] == f"attachment; filename=session_{sid}.pdf"


def test_repeated_downloads_reuse_the_rendering_until_the_session_changes(client: httpx.Client) -> None:
    sid = create_session(client)["session_id"]
    complete(client, sid, "In Review")
    first = get_pdf(client, sid).content
    advance(client, 120)  # a fresh rendering would carry a later generation time
    assert get_pdf(client, sid).content == first

    changed = client.patch(f"/v3/session/{sid}/update-status/", json={"new_status": "Approved", "comment": "ok now"})
    assert changed.status_code == 200
    after = get_pdf(client, sid).content
    assert after != first
    text = pdf_text(after)
    assert "Approved" in text and "ok now" in text and "API Client" in text


def test_corrected_data_shows_in_the_report(client: httpx.Client) -> None:
    sid = create_session(client)["session_id"]
    complete(client, sid, "Approved")
    fixed = client.patch(f"/v3/session/{sid}/update-data/", json={"first_name": "Zebedee", "last_name": "Quill"})
    assert fixed.status_code == 200
    assert "Zebedee Quill" in pdf_text(get_pdf(client, sid).content)


def test_names_outside_latin1_still_render(client: httpx.Client) -> None:
    sid = create_session(client, expected_details={"first_name": "Łukasz", "last_name": "Żółć"})["session_id"]
    complete(client, sid, "Approved")
    response = get_pdf(client, sid)
    assert response.status_code == 200
    assert "Lukasz" in pdf_text(response.content)


@pytest.mark.parametrize("status", ["Approved", "In Review"])
def test_other_reportable_statuses(client: httpx.Client, status: str) -> None:
    sid = create_session(client)["session_id"]
    complete(client, sid, status)
    response = get_pdf(client, sid)
    assert response.status_code == 200
    assert status in pdf_text(response.content)


def test_unfinished_sessions_are_refused(client: httpx.Client) -> None:
    not_started = create_session(client)["session_id"]
    in_progress = create_session(client)["session_id"]
    assert client.post(f"/_mock/sessions/{in_progress}/start").status_code == 200
    abandoned = create_session(client)["session_id"]
    complete(client, abandoned, "Abandoned")
    for sid in (not_started, in_progress, abandoned):
        response = get_pdf(client, sid)
        assert response.status_code == 403
        assert response.json() == WRONG_STATUS
        assert_conforms("GET", PDF, 403, response.json())


def test_unknown_session_is_404_even_without_a_key(client: httpx.Client, anon: httpx.Client) -> None:
    unknown = str(uuid.uuid4())
    for http in (client, anon):
        response = http.get(f"/v3/session/{unknown}/generate-pdf/")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
        assert_conforms("GET", PDF, 404, response.json())


def test_existing_session_needs_the_owner_key(client: httpx.Client, anon: httpx.Client, server) -> None:
    sid = create_session(client)["session_id"]
    complete(client, sid, "Approved")
    missing = anon.get(f"/v3/session/{sid}/generate-pdf/")
    assert missing.status_code == 403
    assert_conforms("GET", PDF, 403, missing.json())
    with httpx.Client(base_url=server.url, headers={"x-api-key": "sk_test_" + uuid.uuid4().hex}) as stranger:
        foreign = stranger.get(f"/v3/session/{sid}/generate-pdf/")
    assert foreign.status_code == 404
    assert foreign.json() == {"detail": "Not found."}


def test_deleted_session_is_gone(client: httpx.Client) -> None:
    sid = create_session(client)["session_id"]
    complete(client, sid, "Approved")
    assert client.delete(f"/v3/session/{sid}/delete/").status_code == 200
    response = get_pdf(client, sid)
    assert response.status_code == 404


def test_malformed_id_is_the_html_404(client: httpx.Client) -> None:
    response = client.get("/v3/session/NOT-A-UUID/generate-pdf/")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
