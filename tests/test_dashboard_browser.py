"""The dashboard in a real browser (headless Chromium): every page and every action, plus the login.

The run saves a screenshot of the sessions page to test-artifacts/dashboard.png; with
DIDIT_MOCK_REGENERATE=1 it also copies it to docs/dashboard.png (the README shows it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from playwright.sync_api import Page

from didit_mock.admin.dashboard import mask_key, tenant_ref
from didit_mock.server import MockServer

from .layout import bad_url_breaks, origin_lines, overflow, scrolling_boxes, url_lines

if TYPE_CHECKING:  # imported for annotations only: pytest loads tests.browser as a plugin (below)
    from .browser import Receiver

pytest_plugins = ["tests.browser"]
pytestmark = pytest.mark.browser

KYC = "d1d17000-0000-4000-8000-000000000001"
#: A fixed key, seed and clock: the screenshot is the same on every run.
DEMO_KEY = "sk_test_dashboard0demo0tenant0for0the0screenshot0"
DOCS_SHOT = Path(__file__).resolve().parent.parent / "docs" / "dashboard.png"
SECRET = "whsec_dashboard_browser"


@dataclass
class Demo:
    """A tenant with sessions in several states, OTP codes, a blocklist entry and delivered webhooks."""

    http: httpx.Client
    base: str  # the dashboard URL of the tenant
    sessions: dict[str, str]  # vendor_data -> session_id

    def status(self, vendor_data: str) -> str:
        return str(self.http.get(f"/v3/session/{self.sessions[vendor_data]}/decision/").json()["status"])


def ok(response: httpx.Response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture
def demo(server: MockServer, receiver: Receiver) -> Iterator[Demo]:
    """The demo tenant, created afresh (same seed, frozen clock at a fixed instant) for each test."""
    with httpx.Client(base_url=server.url, headers={"x-api-key": DEMO_KEY}, timeout=10) as http:
        ok(http.post("/_mock/tenants", json={"api_key": DEMO_KEY, "seed": 7, "frozen": True,
                                             "clock_start": "2030-01-15T09:30:00Z"}))
        ok(http.post("/_mock/webhook", json={"url": f"{receiver.url}/hook", "secret": SECRET}))
        sessions: dict[str, str] = {}
        plan = [("alice.martin", "Approved"), ("bruno.silva", "Declined"), ("chen.wei", "In Review"),
                ("dana.kowalski", None), ("emma.schmidt", "Approved"), ("farid.haddad", None)]
        for vendor_data, outcome in plan:
            session = ok(http.post("/v3/session/", json={"workflow_id": KYC, "vendor_data": vendor_data}))
            sessions[vendor_data] = session["session_id"]
            ok(http.post("/_mock/clock/advance", json={"seconds": 137}))
            if outcome is not None:
                ok(http.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": outcome}))
                waited = http.get("/_mock/webhooks/wait", params={
                    "session_id": session["session_id"], "status": outcome, "timeout": 10})
                assert waited.status_code == 200, waited.text
        phone = ok(http.post("/v3/phone/send/", json={"phone_number": "+14155552671", "vendor_data": "alice.martin"}))
        email = ok(http.post("/v3/email/send/", json={"email": "chen.wei@example.com", "vendor_data": "chen.wei"}))
        for verification in (phone, email):  # a send is In Progress, with its webhook
            waited = http.get("/_mock/webhooks/wait", params={"session_id": verification["request_id"], "timeout": 10})
            assert waited.status_code == 200, waited.text
        ok(http.post("/v3/blocklist/add/", json={"session_id": sessions["bruno.silva"], "blocklist_face": True}))
        yield Demo(http, f"{server.url}/_mock/ui/t/{tenant_ref(DEMO_KEY)}", sessions)
        http.post("/_mock/reset")


def save_screenshot(page: Page, artifacts_dir: Path) -> None:
    """test-artifacts/dashboard.png; copied to docs/dashboard.png when DIDIT_MOCK_REGENERATE is set.

    (Its bytes change from run to run, so a plain test run leaves the tracked copy alone.)
    """
    shot = artifacts_dir / "dashboard.png"
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=str(shot))
    assert shot.stat().st_size < 400_000, "keep the screenshot small"
    if os.environ.get("DIDIT_MOCK_REGENERATE"):
        shutil.copyfile(shot, DOCS_SHOT)


def test_picker_and_sessions_page(page: Page, server: MockServer, demo: Demo, artifacts_dir: Path) -> None:
    page.goto(f"{server.url}/_mock/ui")
    assert page.locator("h1").inner_text() == "Tenants"
    row = page.locator(f'tr[data-ref="{tenant_ref(DEMO_KEY)}"]')
    assert mask_key(DEMO_KEY) in row.inner_text()
    assert DEMO_KEY not in page.content()
    row.get_by_role("link", name="Open").click()
    page.wait_for_url(f"{demo.base}/sessions")
    assert DEMO_KEY not in page.url

    assert page.locator("h1").inner_text() == "Sessions"
    assert page.locator("#tenant-key").inner_text() == mask_key(DEMO_KEY)
    assert page.locator(".nav a").all_inner_texts() == [
        "Sessions", "OTP", "Webhooks", "Blocklist", "Workflows", "Users", "Lists", "Credits", "Requests", "Scenarios",
        "Clock"]
    # The phone and email OTP verifications took numbers 7 and 8: they are listed too, marked OTP.
    assert page.locator("#sessions .c-num").all_inner_texts() == ["8", "7", "6", "5", "4", "3", "2", "1"]
    assert page.locator("#sessions .vendor-data").all_inner_texts() == [
        "chen.wei", "alice.martin",
        "farid.haddad", "emma.schmidt", "dana.kowalski", "chen.wei", "bruno.silva", "alice.martin"]
    assert page.locator("#sessions .session-status").all_inner_texts() == [
        "Not Finished", "Not Finished",
        "Not Started", "Approved", "Not Started", "In Review", "Declined", "Approved"]
    assert page.locator("#sessions tr.otp-verification .c-workflow").all_inner_texts() == [
        "OTP Email · chen.wei@example.com", "OTP Phone · +14155552671"]
    assert page.locator("#otp-note").is_visible()
    assert page.locator('meta[http-equiv="refresh"]').get_attribute("content") == "5"
    save_screenshot(page, artifacts_dir)

    page.locator(".chips a", has_text="Approved").click()
    assert page.locator("#sessions .vendor-data").all_inner_texts() == ["emma.schmidt", "alice.martin"]
    assert page.locator("#otp-note").count() == 0
    page.click("#pause")
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    assert "paused" in page.locator("#live").inner_text()


def test_every_page_through_the_nav_bar(page: Page, demo: Demo) -> None:
    page.goto(f"{demo.base}/sessions")
    expected = {"OTP": "OTP verifications", "Webhooks": "Webhook deliveries", "Blocklist": "Blocklist",
                "Requests": "Request journal", "Scenarios": "Scenarios", "Clock": "Tenant clock",
                "Sessions": "Sessions"}
    for link, heading in expected.items():
        page.locator(".nav").get_by_role("link", name=link, exact=True).click()
        assert page.locator("h1").inner_text() == heading
        assert page.locator(".nav a.active").inner_text() == link

    page.goto(f"{demo.base}/otp")
    code = demo.http.get("/_mock/phone/+14155552671/code").json()
    phone = page.locator('#otp-phone tr[data-target="+14155552671"]')
    assert phone.locator(".code").inner_text() == code["code"]
    assert phone.locator(".attempts-left").inner_text() == "3"
    email = demo.http.get("/_mock/email/chen.wei@example.com/code").json()
    assert page.locator("#otp-email .code").inner_text() == email["code"]

    page.goto(f"{demo.base}/webhooks")
    rows = page.locator("#attempts tbody tr")
    assert rows.count() == 10  # In Progress and the outcome of 4 sessions, In Progress of 2 OTP sends
    assert page.locator("#attempts .signature").all_inner_texts() == ["✓ verifies"] * 10

    page.goto(f"{demo.base}/blocklist")
    assert page.locator("#blocklist tbody tr").count() == 1
    assert "bruno.silva" in page.locator("#blocklist").inner_text()

    page.goto(f"{demo.base}/requests")
    assert "POST /v3/blocklist/add/" in page.locator("#requests").inner_text()
    page.fill('#filters input[name="path"]', "/v3/phone/")
    page.click("#filters button")
    assert page.locator("#requests tbody tr").count() == 1

    page.goto(f"{demo.base}/scenarios")
    assert page.locator("#no-scenarios").is_visible()

    page.goto(f"{demo.base}/sessions/{demo.sessions['bruno.silva']}")
    assert page.locator("#session-status").inner_text() == "Declined"
    assert page.locator("#vendor-data").inner_text() == "bruno.silva"
    assert '"status": "Declined"' in page.locator("#decision").inner_text()
    assert page.locator("#timeline .pill").all_inner_texts() == ["Not Started", "In Progress", "Declined"]


def test_the_application_pages(page: Page, demo: Demo) -> None:
    made = ok(demo.http.post("/v3/workflows/", json={"workflow_label": "EU onboarding", "is_default": True,
                                                     "features": [{"feature": "OCR"}, {"feature": "LIVENESS"}]}))
    vip = ok(demo.http.post("/v3/lists/", json={"name": "VIP phones", "list_type": "allowlist", "entry_type": "phone"}))
    ok(demo.http.post(f"/v3/lists/{vip['uuid']}/entries/", json={"value": "+14155552671", "display_label": "CEO"}))
    ok(demo.http.post("/v3/users/create/", json={"vendor_data": "<script>x</script>", "approved_emails": ["a@b.dev"]}))

    page.goto(f"{demo.base}/sessions")
    page.locator(".nav").get_by_role("link", name="Workflows", exact=True).click()
    assert page.locator("h1").inner_text() == "Workflows"
    first = page.locator("#workflows tbody tr").first
    assert first.get_attribute("data-uuid") == made["uuid"]
    assert first.locator(".workflow-label").inner_text() == "EU onboarding"
    assert first.locator(".is-default").inner_text() == "default"
    assert first.locator(".features").inner_text() == "OCR → LIVENESS"
    assert page.locator('#workflows tr[data-source="built-in"]').count() == 6

    page.locator(".nav").get_by_role("link", name="Users", exact=True).click()
    assert page.locator("h1").inner_text() == "Users and businesses"
    vendors = page.locator("#users .vendor-data").all_inner_texts()
    assert "<script>x</script>" in vendors  # shown as text, never run (the page forbids scripts anyway)
    assert set(demo.sessions) <= set(vendors)
    alice = page.locator("#users tbody tr", has_text="alice.martin")
    assert alice.locator(".session-count").inner_text() == "1" and alice.locator(".user-status").inner_text() == "ACTIVE"

    page.locator(".nav").get_by_role("link", name="Lists", exact=True).click()
    assert page.locator("h1").inner_text() == "Lists"
    face = page.locator("#system-lists tbody tr", has_text="Face blocklist")
    assert face.locator(".entry-count").inner_text() == "1"  # bruno.silva's face, from the blocklist
    page.get_by_role("link", name="VIP phones").click()
    assert page.locator("h1").inner_text() == "VIP phones"
    assert page.locator("#entries .entry-value").all_inner_texts() == ["+14155552671"]
    assert page.locator(".nav a.active").inner_text() == "Lists"

    page.locator(".nav").get_by_role("link", name="Credits", exact=True).click()
    assert page.locator("#balance").inner_text() == "Unlimited"


def test_complete_a_session(page: Page, demo: Demo) -> None:
    page.goto(f"{demo.base}/sessions")
    page.get_by_role("link", name=demo.sessions["dana.kowalski"]).click()
    assert page.locator("#session-status").inner_text() == "Not Started"
    assert page.locator('meta[http-equiv="refresh"]').count() == 0  # a form page does not reload itself
    page.select_option("#outcome", "Approved")
    page.click("#complete")
    page.wait_for_url(f"{demo.base}/sessions/{demo.sessions['dana.kowalski']}")
    assert page.locator("#flash").inner_text() == "Session completed: Approved."
    assert page.locator("#session-status").inner_text() == "Approved"
    assert page.locator("#timeline .pill").all_inner_texts() == ["Not Started", "In Progress", "Approved"]
    assert page.locator("#complete-form").count() == 0
    assert demo.status("dana.kowalski") == "Approved"


def test_advance_the_clock(page: Page, demo: Demo) -> None:
    page.goto(f"{demo.base}/clock")
    before = demo.http.get("/_mock/clock").json()["timestamp"]
    assert page.locator("#clock-now").inner_text() == "2030-01-15 09:43:42 UTC"  # 6 x 137 s after 09:30:00
    page.fill("#seconds", "3600")
    page.click("#advance")
    page.wait_for_url(f"{demo.base}/clock")
    assert page.locator("#clock-now").inner_text() == "2030-01-15 10:43:42 UTC"
    assert page.locator("#flash").inner_text() == "Clock advanced by 1 h: now 2030-01-15 10:43:42 UTC."
    assert demo.http.get("/_mock/clock").json()["timestamp"] == before + 3600
    page.get_by_role("button", name="+7 days").click()
    assert page.locator("#clock-now").inner_text() == "2030-01-22 10:43:42 UTC"
    assert demo.status("farid.haddad") == "Expired"  # the 7-day expiry ran on the way


def test_replay_a_delivery(page: Page, demo: Demo, receiver: Receiver) -> None:
    page.goto(f"{demo.base}/webhooks")
    before = page.locator("#attempts tbody tr").count()
    hits = len(receiver.hits)
    page.locator("#attempts tbody tr").first.locator("button.replay").click()
    page.wait_for_url(f"{demo.base}/webhooks")
    assert page.locator("#flash").inner_text().startswith("Replayed as attempt #2 of the delivery: HTTP 200")
    assert page.locator("#attempts tbody tr").count() == before + 1
    newest = page.locator("#attempts tbody tr").first
    assert newest.get_attribute("data-trigger") == "replay"
    assert newest.locator(".signature").inner_text() == "✓ verifies"
    assert len(receiver.hits) == hits + 1

    # From the attempt's own page too.
    newest.locator("td").first.get_by_role("link").click()
    assert page.locator("#signature").inner_text() == "✓ verifies"
    page.get_by_role("button", name="Replay this delivery").click()
    page.wait_for_url(f"{demo.base}/webhooks")
    assert page.locator("#attempts tbody tr").count() == before + 2


def test_reset_the_tenant(page: Page, demo: Demo) -> None:
    page.goto(f"{demo.base}/clock")
    page.click("#reset")
    page.wait_for_url(f"{demo.base}/sessions")
    assert page.locator("#flash").inner_text().startswith("Tenant reset")
    assert page.locator("#no-sessions").is_visible()
    assert page.locator("#sessions").count() == 0
    assert demo.http.get("/_mock/sessions").json()["count"] == 0


def test_login_with_the_admin_token(page: Page) -> None:
    token = "browser-admin-token"
    with MockServer(admin_token=token, freeze_clock=True) as guarded:
        key = "sk_test_guarded0dashboard0user"
        created = httpx.post(guarded.url + "/v3/session/", json={"workflow_id": KYC, "vendor_data": "guarded-user"},
                             headers={"x-api-key": key})
        assert created.status_code == 201
        sessions = f"{guarded.url}/_mock/ui/t/{tenant_ref(key)}/sessions"
        page.goto(sessions)
        assert page.url.startswith(f"{guarded.url}/_mock/ui/login?next=")
        page.fill("#token", "not-it")
        page.click("#sign-in")
        assert page.locator("#login-error").is_visible()
        page.fill("#token", token)
        page.click("#sign-in")
        page.wait_for_url(sessions)
        assert page.locator("#sessions .vendor-data").all_inner_texts() == ["guarded-user"]
        [cookie] = [c for c in page.context.cookies() if c["name"] == "didit_mock_admin"]
        assert cookie["httpOnly"] and cookie["path"] == "/_mock/ui" and cookie["sameSite"] == "Strict"
        page.click("#logout")
        page.wait_for_url(f"{guarded.url}/_mock/ui/login")
        page.goto(sessions)
        assert "/_mock/ui/login" in page.url


def test_on_a_phone_nothing_runs_off_the_screen(phone: Page, demo: Demo, artifacts_dir: Path) -> None:
    phone.goto(f"{demo.base}/sessions?live=0")
    phone.screenshot(path=str(artifacts_dir / "dashboard-phone.png"), full_page=True)
    assert overflow(phone) <= 0, "the sessions page scrolls sideways"
    assert scrolling_boxes(phone, ".table-wrap") == [], "the sessions table scrolls sideways in its card"
    # Each session is a card: its number, status and age on a line, then the whole id, all inside the card.
    first = phone.locator("#sessions tbody tr").first
    assert first.locator(".c-num").inner_text() == "8"
    assert first.evaluate("row => getComputedStyle(row).display") == "grid"
    assert phone.locator("#sessions thead").is_hidden()
    card, session_id = first.bounding_box(), first.locator(".c-id a").bounding_box()
    assert card and session_id and session_id["x"] + session_id["width"] <= card["x"] + card["width"]

    for name in ("otp", "webhooks", "blocklist", "workflows", "users", "lists", "credits", "requests", "scenarios",
                 "clock"):
        phone.goto(f"{demo.base}/{name}?live=0")
        assert overflow(phone) <= 0, f"the {name} page scrolls sideways"

    origin = "https://app.example-shop.com"
    callback = f"{origin}/verification/callback/landing?from=dashboard&state=opaque-state-value"
    created = demo.http.post("/v3/session/", json={"workflow_id": KYC, "callback": callback})
    assert created.status_code == 201, created.text
    phone.goto(f"{demo.base}/sessions/{created.json()['session_id']}")
    assert overflow(phone) <= 0, "the session page scrolls sideways"
    lines = url_lines(phone, "#callback .url")
    assert "".join(lines) == callback and len(lines) > 1
    assert origin_lines(phone, "#callback") == 1 and bad_url_breaks(lines, origin) == [], lines
    assert origin_lines(phone, "#hosted-url") == 1
