"""The hosted verification page over plain HTTP: open, choose an outcome, redirect to the callback."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from didit_mock.server import MockServer

from .conftest import advance, create_session

COMPLETE_KYC = "d1d17000-0000-4000-8000-000000000006"


@pytest.fixture
def browser_http(server: MockServer) -> httpx.Client:
    """What a person's browser is: no API key, redirects not followed (so they can be inspected)."""
    with httpx.Client(base_url=server.url, timeout=10, follow_redirects=False) as http:
        yield http


def decision(client: httpx.Client, session_id: str) -> dict[str, Any]:
    response = client.get(f"/v3/session/{session_id}/decision/")
    assert response.status_code == 200, response.text
    return response.json()


def risks_of(body: Any) -> set[str]:
    """Every warning `risk` anywhere in a decision."""
    found: set[str] = set()
    if isinstance(body, dict):
        if isinstance(body.get("risk"), str):
            found.add(body["risk"])
        for value in body.values():
            found |= risks_of(value)
    elif isinstance(body, list):
        for item in body:
            found |= risks_of(item)
    return found


def path_of(url: str) -> str:
    return urlsplit(url).path


def submit(http: httpx.Client, session: dict, **form: str) -> httpx.Response:
    return http.post(path_of(session["url"]), data=form)


# ---------------------------------------------------------------- opening the page

def test_opening_the_page_starts_the_session(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client, vendor_data="user-42")
    assert session["url"].startswith(str(browser_http.base_url).rstrip("/") + "/session/")
    response = browser_http.get(path_of(session["url"]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "Verify your identity" in html
    assert 'id="workflow-label">KYC<' in html
    assert f"#{session['session_number']}" in html and "user-42" in html
    steps = ["ID document", "Liveness check", "Face match", "AML screening", "IP analysis"]
    positions = [html.index(f"<strong>{step}</strong>") for step in steps]
    assert positions == sorted(positions)
    # Reasons are grouped by step; an option names the risk only, so a closed select shows all of it.
    assert re.search(r'<optgroup label="Liveness check">\s*<option value="LIVENESS:LIVENESS_FACE_ATTACK">'
                     r'Liveness attack</option>', html)
    assert '<option value="ID_VERIFICATION:DOCUMENT_EXPIRED" selected>Document expired</option>' in html
    # The preselected reasons are what a plain decline / review would pick.
    assert '<option value="ID_VERIFICATION:DOCUMENT_EXPIRED" selected>' in html
    assert '<option value="AML:POSSIBLE_MATCH_FOUND" selected>' in html
    assert "<script" not in html and "https://" not in html  # no JavaScript, no external resources
    assert decision(client, session["session_id"])["status"] == "In Progress"
    again = browser_http.get(path_of(session["url"]))
    assert again.status_code == 200 and "In Progress" in again.text
    assert decision(client, session["session_id"])["status"] == "In Progress"


def test_head_does_not_start_the_session(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client)
    assert browser_http.head(path_of(session["url"])).status_code == 200
    assert decision(client, session["session_id"])["status"] == "Not Started"


def test_unknown_token_is_a_404_page(browser_http: httpx.Client) -> None:
    for path in ("/session/NoSuchToken1", "/de/session/NoSuchToken1"):
        response = browser_http.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "Verification not found" in response.text
    assert browser_http.post("/session/NoSuchToken1", data={"outcome": "approve"}).status_code == 404


def test_unknown_language_is_the_django_404(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client)
    token = session["session_token"]
    for language in ("xx", "EN", "pt-br", "v3"):
        response = browser_http.get(f"/{language}/session/{token}")
        assert response.status_code == 404
        assert "The requested resource was not found on this server." in response.text
    assert decision(client, session["session_id"])["status"] == "Not Started"


def test_language_path_variant(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client, language="pt-BR", callback="https://app.test/done")
    assert path_of(session["url"]) == f"/pt-BR/session/{session['session_token']}"
    page = browser_http.get(path_of(session["url"]))
    assert page.status_code == 200 and '<html lang="pt-BR">' in page.text
    assert f'action="/pt-BR/session/{session["session_token"]}"' in page.text
    # Any of the 54 languages serves the same session, with or without one at creation.
    assert browser_http.get(f"/ja/session/{session['session_token']}").status_code == 200
    done = browser_http.post(f"/zh-TW/session/{session['session_token']}", data={"outcome": "approve"})
    assert done.status_code == 303
    assert done.headers["location"] == (
        f"https://app.test/done?verificationSessionId={session['session_id']}&status=Approved"
    )


# ---------------------------------------------------------------- outcomes

@pytest.mark.parametrize(
    ("form", "status", "risk"),
    [
        ({"outcome": "approve"}, "Approved", None),
        ({"outcome": "decline", "feature": "LIVENESS", "risk": "LIVENESS_FACE_ATTACK"}, "Declined", "LIVENESS_FACE_ATTACK"),
        ({"outcome": "decline", "reason": "ID_VERIFICATION:DOCUMENT_EXPIRED"}, "Declined", "DOCUMENT_EXPIRED"),
        ({"outcome": "decline", "feature": "FACE_MATCH"}, "Declined", "LOW_FACE_MATCH_SIMILARITY"),
        ({"outcome": "decline"}, "Declined", None),
        ({"outcome": "review", "feature": "AML", "risk": "POSSIBLE_MATCH_FOUND"}, "In Review", "POSSIBLE_MATCH_FOUND"),
        ({"outcome": "review", "reason": "LIVENESS:LOW_LIVENESS_SCORE"}, "In Review", "LOW_LIVENESS_SCORE"),
        ({"outcome": "abandon"}, "Abandoned", None),
        ({"outcome": "Declined", "feature": "aml", "risk": "possible_match_found"}, "Declined", "POSSIBLE_MATCH_FOUND"),
    ],
)
def test_each_outcome_without_callback_shows_the_result(
    client: httpx.Client, browser_http: httpx.Client, form: dict, status: str, risk: str | None
) -> None:
    session = create_session(client)
    browser_http.get(path_of(session["url"]))
    response = submit(browser_http, session, **form)
    assert response.status_code == 200, response.text
    assert "Thank you" in response.text and f'id="final-status">{status}<' in response.text
    body = decision(client, session["session_id"])
    assert body["status"] == status
    if risk is not None:
        assert risk in risks_of(body)
    assert "<form" not in response.text


def test_decline_lands_on_the_chosen_feature(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client)
    submit(browser_http, session, outcome="decline", feature="LIVENESS", risk="LIVENESS_FACE_ATTACK")
    body = decision(client, session["session_id"])
    liveness = body["liveness_checks"][0]
    assert liveness["status"] == "Declined"
    assert [w["risk"] for w in liveness["warnings"]] == ["LIVENESS_FACE_ATTACK"]
    assert body["id_verifications"][0]["status"] == "Approved"


def test_posting_without_opening_first_finishes_too(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client)
    assert submit(browser_http, session, outcome="approve").status_code == 200
    assert decision(client, session["session_id"])["status"] == "Approved"


# ---------------------------------------------------------------- callback redirect

@pytest.mark.parametrize("method", ["initiator", "completer", "both"])
def test_redirect_appends_to_a_callback_with_a_query(
    client: httpx.Client, browser_http: httpx.Client, method: str
) -> None:
    session = create_session(client, callback="https://app.test/kyc/done?ref=42&lang=en#top", callback_method=method)
    browser_http.get(path_of(session["url"]))
    response = submit(browser_http, session, outcome="review", feature="AML", risk="POSSIBLE_MATCH_FOUND")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location == (
        f"https://app.test/kyc/done?ref=42&lang=en&verificationSessionId={session['session_id']}"
        "&status=In%20Review#top"
    )
    query = parse_qs(urlsplit(location).query)
    assert query == {"ref": ["42"], "lang": ["en"], "verificationSessionId": [session["session_id"]],
                     "status": ["In Review"]}


@pytest.mark.parametrize(
    ("callback", "prefix"),
    [
        ("myapp://verification/done", "myapp://verification/done?"),
        ("myapp:///done", "myapp:///done?"),
        ("com.example.app://kyc?step=2", "com.example.app://kyc?step=2&"),
        ("https://app.test/cb?", "https://app.test/cb?"),
    ],
)
def test_redirect_to_a_custom_scheme(client: httpx.Client, browser_http: httpx.Client, callback: str, prefix: str) -> None:
    session = create_session(client, callback=callback)
    response = submit(browser_http, session, outcome="decline", reason="LIVENESS:LIVENESS_FACE_ATTACK")
    assert response.status_code == 303
    assert response.headers["location"] == f"{prefix}verificationSessionId={session['session_id']}&status=Declined"


def test_a_script_callback_is_neither_followed_nor_linked(client: httpx.Client, browser_http: httpx.Client) -> None:
    response = client.post("/v3/session/", json={"workflow_id": "d1d17000-0000-4000-8000-000000000001",
                                                  "callback": "javascript://%0aalert(1)"})
    if response.status_code != 201:
        pytest.skip("create-session refuses script callbacks")
    session = response.json()
    done = submit(browser_http, session, outcome="approve")
    assert done.status_code == 200
    assert 'href="javascript' not in done.text
    assert decision(client, session["session_id"])["status"] == "Approved"


# ---------------------------------------------------------------- sandbox scenarios

def test_sandbox_scenario_notice_and_finish(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client, sandbox_scenario="review_aml_possible_match", callback="https://app.test/cb")
    page = browser_http.get(path_of(session["url"]))
    assert 'id="sandbox-notice"' in page.text and "review_aml_possible_match" in page.text
    assert "Finish verification" in page.text and "Possible AML match" in page.text
    response = submit(browser_http, session, outcome="scenario")
    assert response.status_code == 303
    assert response.headers["location"].endswith("&status=In%20Review")
    body = decision(client, session["session_id"])
    assert body["status"] == "In Review"
    assert "POSSIBLE_MATCH_FOUND" in risks_of(body["aml_screenings"])


def test_an_explicit_outcome_overrides_the_scenario(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client, sandbox_scenario="decline_liveness_attack")
    submit(browser_http, session, outcome="approve")
    assert decision(client, session["session_id"])["status"] == "Approved"


def test_finish_without_a_scenario_approves(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client)
    assert 'id="sandbox-notice"' not in browser_http.get(path_of(session["url"])).text
    submit(browser_http, session, outcome="scenario")
    assert decision(client, session["session_id"])["status"] == "Approved"


# ---------------------------------------------------------------- finished sessions and double submit

def test_double_submit_changes_nothing(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client, callback="https://app.test/cb")
    first = submit(browser_http, session, outcome="approve")
    assert first.status_code == 303
    second = submit(browser_http, session, outcome="decline", feature="LIVENESS")
    assert second.status_code == 200
    assert "Verification finished: <span id=\"final-status\">Approved</span>" in second.text
    assert "<form" not in second.text
    assert f"verificationSessionId={session['session_id']}&amp;status=Approved" in second.text  # return link
    body = decision(client, session["session_id"])
    assert body["status"] == "Approved" and "LIVENESS_FACE_ATTACK" not in risks_of(body)


def test_finished_session_shows_the_finished_page(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client)
    response = client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Declined"})
    assert response.status_code == 200
    page = browser_http.get(path_of(session["url"]))
    assert page.status_code == 200
    assert "Verification finished: <span id=\"final-status\">Declined</span>" in page.text
    assert "<form" not in page.text and 'id="results"' in page.text


def test_expired_session_shows_the_finished_page(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client)
    advance(client, 7 * 24 * 3600 + 1)
    page = browser_http.get(path_of(session["url"]))
    assert "Verification finished: <span id=\"final-status\">Expired</span>" in page.text
    assert submit(browser_http, session, outcome="approve").status_code == 200
    assert decision(client, session["session_id"])["status"] == "Expired"


def test_resubmitted_session_starts_again(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client)
    submit(browser_http, session, outcome="decline", feature="LIVENESS")
    response = client.patch(f"/v3/session/{session['session_id']}/update-status/", json={"new_status": "Resubmitted"})
    assert response.status_code == 200, response.text
    page = browser_http.get(path_of(session["url"]))
    assert 'id="decline-form"' in page.text
    assert decision(client, session["session_id"])["status"] == "In Progress"
    submit(browser_http, session, outcome="approve")
    assert decision(client, session["session_id"])["status"] == "Approved"


def test_deleted_session_is_not_found(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client)
    assert client.delete(f"/v3/session/{session['session_id']}/delete/").status_code in (200, 204)
    assert browser_http.get(path_of(session["url"])).status_code == 404


# ---------------------------------------------------------------- validation and escaping

@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "&#34;(none)&#34; is not a valid outcome"),
        ({"outcome": "accept"}, "&#34;accept&#34; is not a valid outcome"),
        ({"outcome": "decline", "feature": "TELEPATHY"}, "&#34;TELEPATHY&#34; is not a step of this workflow"),
        ({"outcome": "decline", "feature": "POA", "risk": "POA_ADDRESS_MISMATCH"}, "&#34;POA&#34; is not a step of this workflow"),
        ({"outcome": "review", "feature": "AML", "risk": "NOT_A_RISK"}, "&#34;NOT_A_RISK&#34; is not a known reason"),
        ({"outcome": "decline", "risk": "LIVENESS_FACE_ATTACK"}, "Choose the feature the reason applies to"),
    ],
)
def test_bad_submissions_are_400_and_change_nothing(
    client: httpx.Client, browser_http: httpx.Client, form: dict, message: str
) -> None:
    session = create_session(client)
    browser_http.get(path_of(session["url"]))
    response = submit(browser_http, session, **form)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert decision(client, session["session_id"])["status"] == "In Progress"


def test_a_reason_without_a_risk_uses_the_default_risk(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client)
    assert submit(browser_http, session, outcome="decline", reason="LIVENESS").status_code == 200
    assert "LIVENESS_FACE_ATTACK" in risks_of(decision(client, session["session_id"]))


def test_a_body_that_is_not_a_form_is_400(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client)
    response = browser_http.post(path_of(session["url"]), json={"outcome": "approve"})
    assert response.status_code == 400
    assert decision(client, session["session_id"])["status"] == "Not Started"


def test_vendor_data_is_escaped(client: httpx.Client, browser_http: httpx.Client) -> None:
    evil = "<script>alert(1)</script>"
    session = create_session(client, vendor_data=evil, callback='https://app.test/cb?x="><b>bold</b>')
    page = browser_http.get(path_of(session["url"])).text
    assert evil not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    finished = submit(browser_http, session, outcome="approve", feature="<i>x</i>")
    assert finished.status_code == 303
    again = browser_http.get(path_of(session["url"])).text
    assert evil not in again and "&lt;script&gt;alert(1)&lt;/script&gt;" in again


def test_bad_feature_message_is_escaped(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client)
    response = submit(browser_http, session, outcome="decline", feature="<img src=x onerror=alert(1)>")
    assert response.status_code == 400
    assert "<img" not in response.text and "&lt;img src=x onerror=alert(1)&gt;" in response.text


def test_complete_kyc_lists_every_step(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client, workflow_id=COMPLETE_KYC)
    html = browser_http.get(path_of(session["url"])).text
    for step in ("ID document", "NFC chip", "Proof of address", "Phone verification", "Email verification",
                 "Database validation", "AML screening"):
        assert f"<strong>{step}</strong>" in html
    response = submit(browser_http, session, outcome="decline", reason="POA:POA_ADDRESS_MISMATCH")
    assert response.status_code == 200
    assert "POA_ADDRESS_MISMATCH" in risks_of(decision(client, session["session_id"])["poa_verifications"])


def test_a_multipart_upload_is_400(client: httpx.Client, browser_http: httpx.Client) -> None:
    session = create_session(client)
    response = browser_http.post(path_of(session["url"]), data={"outcome": "approve"},
                                 files={"selfie": ("me.png", b"\x89PNG....", "image/png")})
    assert response.status_code == 400
    assert decision(client, session["session_id"])["status"] == "Not Started"
    plain_multipart = browser_http.post(path_of(session["url"]), files={"outcome": (None, "approve")})
    assert plain_multipart.status_code == 200
    assert decision(client, session["session_id"])["status"] == "Approved"


# ---------------------------------------------------------------- the site icon

@pytest.mark.parametrize("path", ["/favicon.ico", "/_mock/ui/favicon.ico"])
def test_the_site_icon_is_served(browser_http: httpx.Client, path: str) -> None:
    response = browser_http.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert int.from_bytes(response.content[4:6], "little") >= 2  # several sizes


def test_the_pages_link_their_icon(client: httpx.Client, api_key: str, browser_http: httpx.Client) -> None:
    session = create_session(client)
    hosted = browser_http.get(path_of(session["url"])).text
    assert '<link rel="icon" href="/favicon.ico" type="image/x-icon">' in hosted
    dashboard = browser_http.get("/_mock/ui").text
    assert '<link rel="icon" href="/_mock/ui/favicon.ico" type="image/x-icon">' in dashboard


def test_a_reason_two_steps_share_names_its_step() -> None:
    from didit_mock.domain import workflows as wf
    from didit_mock.hosted.page import reason_groups

    groups = {g["title"]: [r["title"] for r in g["risks"]] for g in reason_groups([wf.ID_VERIFICATION, wf.AGE_ESTIMATION])}
    assert groups["Age estimation"] == ["Minimum age not met — Age estimation"]
    assert "Minimum age not met — ID document" in groups["ID document"]
    assert "Document expired" in groups["ID document"]
