"""The hosted page in a real browser: create a session, verify at its URL, land on the callback.

The run saves a screenshot of a sandbox-armed session's page to test-artifacts/hosted-page.png; with
DIDIT_MOCK_REGENERATE=1 it also copies it to docs/hosted-page.png (the README and docs show it).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page

from didit_mock.server import MockServer

from .conftest import create_session
from .layout import bad_url_breaks, origin_lines, overflow, select_shortfall, url_lines
from .test_hosted_page import COMPLETE_KYC, decision, risks_of

if TYPE_CHECKING:  # imported for annotations only: pytest loads tests.browser as a plugin (below)
    from .browser import Receiver

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser

WEBHOOK_SECRET = "whsec_hosted_browser_test"
DOCS_SHOT = Path(__file__).resolve().parent.parent / "docs" / "hosted-page.png"
#: A callback longer than a phone's line, with a host that fits one.
CALLBACK_ORIGIN = "https://app.example-shop.com"
CALLBACK = f"{CALLBACK_ORIGIN}/verification/callback/landing?from=app&user=12345&state=opaque-state-value"


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_decline_in_the_browser_lands_on_the_callback(
    page: Page, client: httpx.Client, receiver: Receiver
) -> None:
    configured = client.post("/_mock/webhook", json={"url": f"{receiver.url}/webhook", "secret": WEBHOOK_SECRET})
    assert configured.status_code == 200, configured.text
    session = create_session(client, vendor_data="browser-user-1", callback=f"{receiver.url}/callback?from=app")
    session_id = session["session_id"]

    page.goto(session["url"])
    assert page.locator("h1").inner_text() == "Verify your identity"
    assert page.locator("#workflow-label").inner_text() == "KYC"
    assert page.locator("#vendor-data").inner_text() == "browser-user-1"
    assert page.locator("#steps li strong").all_inner_texts() == [
        "ID document", "Liveness check", "Face match", "AML screening", "IP analysis"]
    assert page.locator("#session-status").inner_text() == "In Progress"
    assert decision(client, session_id)["status"] == "In Progress"

    # Opening the page fired status.updated (In Progress), signed and delivered to the receiver.
    waited = client.get("/_mock/webhooks/wait", params={
        "session_id": session_id, "webhook_type": "status.updated", "status": "In Progress", "timeout": 10})
    assert waited.status_code == 200, waited.text
    hit = receiver.wait_for("POST", "/webhook")
    body = hit.json()
    assert isinstance(body, dict)
    assert body["session_id"] == session_id and body["status"] == "In Progress"
    assert body["webhook_type"] == "status.updated"
    assert {k.lower() for k in hit.headers} >= {"x-signature-v2", "x-timestamp"}

    page.select_option("#decline-reason", "LIVENESS:LIVENESS_FACE_ATTACK")
    checked = page.locator("#decline-reason option:checked")
    assert checked.inner_text() == "Liveness attack"
    assert checked.evaluate("option => option.parentElement.label") == "Liveness check"
    with page.expect_navigation(url=f"{receiver.url}/callback**"):
        page.click("#decline")
    assert query_of(page.url) == {"from": ["app"], "verificationSessionId": [session_id], "status": ["Declined"]}
    assert page.locator("h1").inner_text() == "Back in the app"
    landed = receiver.wait_for("GET", "/callback")
    assert landed.query["status"] == ["Declined"]

    final = decision(client, session_id)
    assert final["status"] == "Declined"
    assert [w["risk"] for w in final["liveness_checks"][0]["warnings"]] == ["LIVENESS_FACE_ATTACK"]

    # Back to the page: finished, no form; the decline webhook went out too.
    page.goto(session["url"])
    assert page.locator("#final-status").inner_text() == "Declined"
    assert page.locator("form").count() == 0
    declined = client.get("/_mock/webhooks/wait", params={
        "session_id": session_id, "webhook_type": "status.updated", "status": "Declined", "timeout": 10})
    assert declined.status_code == 200, declined.text
    assert json.loads(declined.json()["request_body"])["status"] == "Declined"


def test_sandbox_scenario_finishes_with_its_outcome(
    page: Page, client: httpx.Client, server: MockServer, artifacts_dir: Path
) -> None:
    landing = f"{server.url}/system/healthcheck"
    session = create_session(client, vendor_data="sandbox-user", sandbox_scenario="review_aml_possible_match",
                             callback=landing)
    session_id = session["session_id"]

    page.goto(session["url"])
    notice = page.locator("#sandbox-notice")
    assert "review_aml_possible_match" in notice.inner_text()
    assert "In Review" in notice.inner_text()
    page.click("summary")  # show the overriding choices too, for the screenshot
    shot = artifacts_dir / "hosted-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size < 400_000, "keep the screenshot small"
    if os.environ.get("DIDIT_MOCK_REGENERATE"):
        shutil.copyfile(shot, DOCS_SHOT)

    with page.expect_navigation(url=f"{landing}?**"):
        page.click("#finish")
    assert query_of(page.url) == {"verificationSessionId": [session_id], "status": ["In Review"]}
    assert '"status":"ok"' in page.content()

    final = decision(client, session_id)
    assert final["status"] == "In Review"
    assert "POSSIBLE_MATCH_FOUND" in risks_of(final["aml_screenings"])


def test_the_page_works_without_javascript(browser: Browser, client: httpx.Client, receiver: Receiver) -> None:
    session = create_session(client, language="de", callback=f"{receiver.url}/done")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(session["url"])
        assert page.locator("html").get_attribute("lang") == "de"
        page.select_option("#review-reason", "AML:POSSIBLE_MATCH_FOUND")
        with page.expect_navigation(url=f"{receiver.url}/done?**"):
            page.click("#review")
        assert query_of(page.url)["status"] == ["In Review"]
    finally:
        context.close()
    assert decision(client, session["session_id"])["status"] == "In Review"


def test_back_after_finishing_shows_the_result_not_a_second_outcome(page: Page, client: httpx.Client) -> None:
    session = create_session(client)
    page.goto(session["url"])
    page.click("#approve")
    assert page.locator("#final-status").inner_text() == "Approved"
    page.go_back()
    page.reload()
    assert page.locator("#final-status").inner_text() == "Approved"
    assert decision(client, session["session_id"])["status"] == "Approved"


@pytest.mark.parametrize("screen", ["phone", "page"])
def test_the_page_fits_a_phone_and_a_desktop(
    request: pytest.FixtureRequest, screen: str, client: httpx.Client, artifacts_dir: Path
) -> None:
    page: Page = request.getfixturevalue(screen)
    session = create_session(client, workflow_id=COMPLETE_KYC, vendor_data="narrow-screen-user", callback=CALLBACK)
    page.goto(session["url"])
    page.screenshot(path=str(artifacts_dir / f"hosted-page-{screen}.png"), full_page=True)

    assert overflow(page) <= 0, "the page scrolls sideways"
    # The callback wraps after / ? & only, and never inside its host.
    lines = url_lines(page, "#callback .url")
    assert "".join(lines) == CALLBACK
    assert len(lines) > 1, "the callback should be longer than a line here"
    assert origin_lines(page, "#callback") == 1, lines
    assert bad_url_breaks(lines, CALLBACK_ORIGIN) == [], lines
    # A reason select is wide enough for its longest option: no reason is cut off.
    for select in ("#decline-reason", "#review-reason"):
        assert page.locator(f"{select} option").count() > 20  # every step of Complete KYC
        assert select_shortfall(page, select) <= 0, select
