"""The dashboard at /_mock/ui over plain HTTP: every page, escaping, refs, CSRF, actions and the login.

The same flows in a real browser are in tests/test_dashboard_browser.py.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import markupsafe
import pytest

from didit_mock.admin.dashboard import mask_key, tenant_ref
from didit_mock.server import MockServer, free_port

from .conftest import KYC_WORKFLOW, advance, create_session, new_key
from .otp_helpers import check_phone, phone_code, send_phone, wrong
from .scenario_helpers import wait_until

if TYPE_CHECKING:  # the receiver fixture comes from the tests.browser plugin (below)
    from .browser import Receiver

pytest_plugins = ["tests.browser"]

SECRET = "whsec_dashboard_test"
PAGES = ("sessions", "otp", "webhooks", "blocklist", "workflows", "users", "lists", "credits", "requests", "scenarios",
         "clock")


def base_of(api_key: str) -> str:
    return f"/_mock/ui/t/{tenant_ref(api_key)}"


@pytest.fixture
def browser_client(server: MockServer) -> Iterator[httpx.Client]:
    """A client without an API key, as a browser on the dashboard is."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "no form token on the page"
    return found.group(1)


def flash_of(page: str) -> str:
    found = re.search(r'id="flash"[^>]*>([^<]*)<', page)
    assert found, "no flash message on the page"
    return html.unescape(found.group(1))


def act(http: httpx.Client, page_path: str, action_path: str, **fields: str) -> tuple[str, str]:
    """Submit a dashboard form as a browser would (token from the page); returns (landing path, flash)."""
    token = csrf_of(http.get(page_path).text)
    answer = http.post(action_path, data={"csrf": token, **fields})
    assert answer.status_code == 303, answer.text
    landing = answer.headers["location"]
    return landing, flash_of(http.get(landing).text)


def deliveries(client: httpx.Client, **filters: str) -> list[dict]:
    response = client.get("/_mock/webhooks", params=filters)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def wait_delivered(client: httpx.Client, session_id: str, status: str) -> dict:
    waited = client.get("/_mock/webhooks/wait", params={"session_id": session_id, "status": status, "timeout": 10})
    assert waited.status_code == 200, waited.text
    return waited.json()


# ---------------------------------------------------------------- picker, refs, pages

def test_picker_lists_tenants_with_masked_keys_and_opaque_refs(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    create_session(client, vendor_data="picker-1")
    create_session(client, vendor_data="picker-2")
    page = browser_client.get("/_mock/ui")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert api_key not in page.text  # never the whole key
    masked = mask_key(api_key)
    assert masked.startswith("sk_test_") and "…" in masked and len(masked) < len(api_key)
    row = re.search(rf'<tr data-ref="{tenant_ref(api_key)}">(.*?)</tr>', page.text, re.S)
    assert row, "the tenant is not listed"
    assert html.escape(masked) in row.group(1) or masked in row.group(1)
    assert "Sandbox" in row.group(1)
    assert re.search(r'<td class="num">2</td>', row.group(1))  # its session count
    assert f'href="{base_of(api_key)}/sessions"' in row.group(1)
    assert '<meta http-equiv="refresh" content="5">' in page.text


def test_the_picker_with_a_trailing_slash_redirects(browser_client: httpx.Client) -> None:
    response = browser_client.get("/_mock/ui/")
    assert response.status_code == 303 and response.headers["location"] == "/_mock/ui"


def test_tenant_ref_is_stable_and_never_holds_the_key() -> None:
    key = "sk_test_" + "a" * 43
    assert tenant_ref(key) == tenant_ref(key)
    assert re.fullmatch(r"[0-9a-f]{16}", tenant_ref(key))
    assert tenant_ref(key) != tenant_ref(key + "b")
    assert "aaaa" not in tenant_ref(key)
    assert mask_key("sk_live_" + "x" * 43).startswith("sk_live_xxxx…")
    assert mask_key("sk_test_demo") == "sk_test_de…"
    assert mask_key("short") == "sh…"


@pytest.mark.parametrize("name", PAGES)
def test_every_tenant_page_renders(
    client: httpx.Client, api_key: str, browser_client: httpx.Client, name: str
) -> None:
    create_session(client, vendor_data="pages")
    page = browser_client.get(f"{base_of(api_key)}/{name}")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none': no scripts at all
    assert "<script" not in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert api_key not in page.text
    nav = re.findall(r'<a href="[^"]+" id="nav-(\w+)"', page.text)
    assert nav == list(PAGES)
    assert f'id="nav-{name}" class="active"' in page.text
    refreshes = '<meta http-equiv="refresh"' in page.text
    assert refreshes == (name != "clock")  # list pages refresh, the form page does not
    assert api_key not in "".join(re.findall(r'(?:href|action)="([^"]*)"', page.text))


def test_a_tenant_ref_redirects_to_its_sessions(api_key: str, client: httpx.Client,
                                                browser_client: httpx.Client) -> None:
    client.get("/_mock/tenant")
    response = browser_client.get(base_of(api_key))
    assert response.status_code == 303
    assert response.headers["location"] == f"{base_of(api_key)}/sessions"


@pytest.mark.parametrize("path", ["", "/sessions", "/otp", "/webhooks", "/blocklist", "/requests", "/scenarios",
                                  "/clock", "/workflows", "/users", "/lists", "/credits",
                                  "/lists/00000000-0000-4000-8000-000000000000",
                                  "/sessions/00000000-0000-4000-8000-000000000000",
                                  "/webhooks/00000000-0000-4000-8000-000000000000"])
def test_unknown_tenant_ref_is_404(browser_client: httpx.Client, path: str) -> None:
    response = browser_client.get(f"/_mock/ui/t/0123456789abcdef{path}")
    assert response.status_code == 404
    assert "Tenant not found" in response.text


def test_unknown_or_malformed_session_and_delivery_are_404(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    client.get("/_mock/tenant")
    for path in ("/sessions/00000000-0000-4000-8000-000000000000", "/sessions/not-a-uuid", "/sessions/%3Cb%3E"):
        response = browser_client.get(base_of(api_key) + path)
        assert response.status_code == 404
        assert "Session not found" in response.text
    response = browser_client.get(base_of(api_key) + "/webhooks/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404 and "Delivery not found" in response.text


def test_vendor_data_and_other_client_text_is_escaped(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;'
    session = create_session(client, vendor_data=evil, callback='https://app.example/"><b>cb</b>')
    escaped = str(markupsafe.escape(evil))
    listing = browser_client.get(f"{base_of(api_key)}/sessions").text
    detail = browser_client.get(f"{base_of(api_key)}/sessions/{session['session_id']}").text
    journal = browser_client.get(f"{base_of(api_key)}/requests").text
    for page in (listing, detail, journal):
        assert "<script>" not in page and "<img src=x" not in page and "<b>cb</b>" not in page
    assert escaped in listing and escaped in detail
    assert "&lt;script&gt;" in journal  # the request body as text


# ---------------------------------------------------------------- what each page shows

def test_session_detail_shows_decision_timeline_and_webhooks(
    client: httpx.Client, api_key: str, browser_client: httpx.Client, receiver: Receiver
) -> None:
    assert client.post("/_mock/webhook", json={"url": f"{receiver.url}/hook", "secret": SECRET}).status_code == 200
    session = create_session(client, vendor_data="detail-user")
    sid = session["session_id"]
    assert client.post(f"/_mock/sessions/{sid}/complete", json={"status": "Declined"}).status_code == 200
    wait_delivered(client, sid, "Declined")
    page = browser_client.get(f"{base_of(api_key)}/sessions/{sid}").text
    assert 'id="session-status">Declined<' in page
    assert re.findall(r'<li><span class="pill [^"]+">([^<]+)</span>', page) == ["Not Started", "In Progress", "Declined"]
    decision = json.loads(html.unescape(re.search(r'<pre class="json" id="decision">(.*?)</pre>', page, re.S).group(1)))
    assert decision == client.get(f"/v3/session/{sid}/decision/").json()
    assert page.count('class="small ghost replay"') == 2  # In Progress and Declined deliveries
    assert 'id="not-completable"' in page and 'id="complete-form"' not in page
    assert session["url"] in page


def test_sessions_list_shows_status_vendor_data_workflow_and_filters(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    first = create_session(client, vendor_data="list-a")
    second = create_session(client, vendor_data="list-b")
    client.post(f"/_mock/sessions/{second['session_id']}/complete", json={"status": "Approved"})
    page = browser_client.get(f"{base_of(api_key)}/sessions").text
    rows = re.findall(r'<tr data-session-id="([^"]+)">(.*?)</tr>', page, re.S)
    assert [sid for sid, _ in rows] == [second["session_id"], first["session_id"]]  # newest first
    assert "Approved" in rows[0][1] and "list-b" in rows[0][1] and "KYC" in rows[0][1]
    assert "Not Started" in rows[1][1] and "list-a" in rows[1][1]
    approved = browser_client.get(f"{base_of(api_key)}/sessions", params={"status": "Approved"}).text
    assert re.findall(r'<tr data-session-id="([^"]+)">', approved) == [second["session_id"]]


def test_saved_standalone_calls_are_listed_with_their_outcome(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    clean = client.post("/v3/aml/", json={"full_name": "Jane Nobody", "vendor_data": "api-clean"})
    flagged = client.post("/v3/aml/", json={"full_name": "Ivan Sanctionov", "vendor_data": "api-flagged"})
    assert clean.status_code == flagged.status_code == 200
    page = browser_client.get(f"{base_of(api_key)}/sessions").text
    rows = dict(re.findall(r'<tr data-session-id="([^"]+)">(.*?)</tr>', page, re.S))
    clean_row, flagged_row = rows[clean.json()["request_id"]], rows[flagged.json()["request_id"]]
    assert "API · AML Screening" in clean_row and "api-clean" in clean_row and ">Approved<" in clean_row
    assert "API · AML Screening" in flagged_row and ">In Review<" in flagged_row


def test_otp_verifications_are_listed_with_the_session_numbers_they_took(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    first = create_session(client, vendor_data="numbered-a")
    sent = send_phone(client, "+14155552671", vendor_data="numbered-otp")
    last = create_session(client, vendor_data="numbered-b")
    assert (first["session_number"], last["session_number"]) == (1, 3)  # the send took number 2
    base = base_of(api_key)
    page = browser_client.get(f"{base}/sessions").text
    numbers = re.findall(r'<td class="num muted c-num">(\d+)</td>', page)
    assert numbers == ["3", "2", "1"]
    otp_row = re.search(rf'<tr class="otp-verification" data-request-id="{sent["request_id"]}">(.*?)</tr>', page, re.S)
    assert otp_row, "the OTP verification is not in the sessions list"
    assert f'href="{base}/otp#otp-{sent["request_id"]}"' in otp_row.group(1)
    assert "numbered-otp" in otp_row.group(1) and "Phone · +14155552671" in otp_row.group(1)
    assert 'id="otp-note"' in page and 'id="chip-otp"' in page

    only = browser_client.get(f"{base}/sessions", params={"kind": "otp"}).text
    assert re.findall(r'data-(?:session|request)-id="([^"]+)"', only) == [sent["request_id"]]
    by_status = browser_client.get(f"{base}/sessions", params={"status": "Not Started"}).text
    assert re.findall(r'data-(?:session|request)-id="([^"]+)"', by_status) == [last["session_id"], first["session_id"]]

    otp_page = browser_client.get(f"{base}/otp").text
    assert re.search(rf'<td class="num muted session-number">2</td>\s*<td class="mono break" id="otp-{sent["request_id"]}">',
                     otp_page)
    # The request id opens the OTP page (it is no session of the dashboard's own).
    moved = browser_client.get(f"{base}/sessions/{sent['request_id']}", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"{base}/otp#otp-{sent['request_id']}"


def test_otp_page_shows_current_codes_and_attempts_left(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    number = "+14155552671"
    send_phone(client, number, vendor_data="otp-user")
    readout = phone_code(client, number)
    check_phone(client, number, wrong(readout["code"]))
    page = browser_client.get(f"{base_of(api_key)}/otp").text
    row = re.search(rf'<tr class="otp-row" data-target="{re.escape(number)}">(.*?)</tr>', page, re.S)
    assert row
    assert f">{readout['code']}<" in row.group(1)
    assert re.search(r'class="num attempts-left">2<', row.group(1))
    assert "current" in row.group(1) and "otp-user" in row.group(1)
    assert readout["request_id"] in row.group(1)


def test_webhooks_page_marks_whether_the_signature_verifies_with_the_current_secret(
    client: httpx.Client, api_key: str, browser_client: httpx.Client, receiver: Receiver
) -> None:
    client.post("/_mock/webhook", json={"url": f"{receiver.url}/hook", "secret": SECRET})
    session = create_session(client, vendor_data="sig-user")
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    wait_delivered(client, session["session_id"], "Approved")
    page = browser_client.get(f"{base_of(api_key)}/webhooks").text
    assert page.count("✓ verifies") == 2 and "✕ mismatch" not in page
    assert receiver.url in page
    # A rotated secret: the logged signatures no longer verify against the current one.
    client.post("/_mock/webhook", json={"url": f"{receiver.url}/hook", "secret": "rotated-secret"})
    page = browser_client.get(f"{base_of(api_key)}/webhooks").text
    assert page.count("✕ mismatch") == 2 and "✓ verifies" not in page
    # wrong_secret fault: a new delivery is signed with a different secret.
    client.post("/_mock/webhook", json={"url": f"{receiver.url}/hook", "secret": SECRET})
    client.post("/_mock/webhook/faults", json={"wrong_secret": True})
    other = create_session(client, vendor_data="sig-user-2")
    client.post(f"/_mock/sessions/{other['session_id']}/complete", json={"status": "Approved"})
    wait_delivered(client, other["session_id"], "Approved")
    page = browser_client.get(f"{base_of(api_key)}/webhooks").text
    assert page.count("✓ verifies") == 2 and page.count("✕ mismatch") == 2
    attempt = deliveries(client, session_id=other["session_id"], status="Approved")[0]
    detail = browser_client.get(f"{base_of(api_key)}/webhooks/{attempt['uuid']}").text
    assert "does not match the current secret" in detail
    body = re.search(r'<pre class="json" id="request-body">(.*?)</pre>', detail, re.S)
    assert body and json.loads(html.unescape(body.group(1))) == json.loads(attempt["request_body"])


def test_blocklist_page_lists_entries(client: httpx.Client, api_key: str, browser_client: httpx.Client) -> None:
    session = create_session(client, vendor_data="blocked-user")
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    added = client.post("/v3/blocklist/add/", json={"session_id": session["session_id"], "blocklist_face": True,
                                                    "blocklist_document": True})
    assert added.status_code == 200, added.text
    page = browser_client.get(f"{base_of(api_key)}/blocklist").text
    items = client.get("/v3/blocklist/").json()["results"]
    assert {i["type"] for i in items} == {"face", "document"}
    for item in items:
        assert (item["face_id"] or item["document_number"]) in page
    assert "blocked-user" in page and f"{base_of(api_key)}/sessions/{session['session_id']}" in page


def row_of(page: str, attribute: str, value: str) -> str:
    """The HTML of the table row marked `attribute="value"`."""
    found = re.search(rf'<tr {attribute}="{re.escape(value)}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, f"no row {attribute}={value}"
    return found.group(1)


def test_workflows_page_shows_built_in_and_made_workflows(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    made = client.post("/v3/workflows/", json={"workflow_label": "Onboarding <b>EU</b>", "is_default": True,
                                               "features": [{"feature": "OCR"}, {"feature": "LIVENESS"}]}).json()
    newer = client.patch(f"/v3/workflows/{made['uuid']}/", json={"status": "published"}).json()
    draft = client.post("/v3/workflows/", json={"workflow_label": "Later", "status": "draft",
                                                "features": [{"feature": "AGE_ESTIMATION"}]}).json()
    page = browser_client.get(f"{base_of(api_key)}/workflows").text
    assert "<b>EU</b>" not in page and "Onboarding &lt;b&gt;EU&lt;/b&gt;" in page
    listed = [row["uuid"] for row in client.get("/v3/workflows/").json()["results"]]
    assert re.findall(r'<tr data-uuid="([^"]+)"', page) == listed  # the list route's rows, in its order
    second = row_of(page, "data-uuid", newer["uuid"])
    assert '<td class="num version">2</td>' in second and ">published<" in second and ">default<" in second
    assert "OCR → LIVENESS" in second and 'class="small source">API<' in second
    first = row_of(page, "data-uuid", made["uuid"])
    assert '<td class="num version">1</td>' in first and ">default<" not in first
    assert 'workflow-status">draft<' in row_of(page, "data-uuid", draft["uuid"])
    kyc = row_of(page, "data-uuid", KYC_WORKFLOW)  # no longer the default: a made workflow is
    assert "Built-in" in kyc and ">default<" not in kyc


def test_users_page_shows_users_and_businesses_with_escaped_vendor_data(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    evil = '<script>alert("user")</script>'
    session = create_session(client, vendor_data=evil)
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    create_session(client, vendor_data=evil)
    made = client.post("/v3/users/create/", json={
        "vendor_data": "ana-01", "full_name": "Ana Test", "status": "FLAGGED",
        "approved_emails": ["ana@acme.dev"], "approved_phones": ["+14155552671"]})
    assert made.status_code == 201, made.text
    business = client.post("/v3/businesses/create/", json={"vendor_data": "acme-ltd", "legal_name": "Acme <Ltd>",
                                                            "registration_number": "00445790", "country_code": "GB"})
    assert business.status_code == 201, business.text
    page = browser_client.get(f"{base_of(api_key)}/users").text
    assert "<script>" not in page and "<Ltd>" not in page
    assert str(markupsafe.escape(evil)) in page and "Acme &lt;Ltd&gt;" in page
    users = re.search(r'<table id="users">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert users
    rows = re.findall(r"<tr>(.*?)</tr>", users.group(1), re.S)
    assert len(rows) == 2
    evil_row = next(r for r in rows if str(markupsafe.escape(evil)) in r)
    assert '<td class="num session-count">2</td>' in evil_row and "1 approved" in evil_row
    assert 'user-status">ACTIVE<' in evil_row
    ana = next(r for r in rows if "ana-01" in r)
    assert 'user-status">FLAGGED<' in ana and "ana@acme.dev" in ana and "+14155552671" in ana
    assert "Ana Test" in ana and '<td class="num session-count">0</td>' in ana
    businesses = re.search(r'<table id="businesses">(.*?)</table>', page, re.S)
    assert businesses and "acme-ltd" in businesses.group(1) and "00445790" in businesses.group(1)


def test_lists_page_shows_system_and_custom_lists_and_their_entries(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    made = client.post("/v3/lists/", json={"name": "VIP <phones>", "list_type": "allowlist", "entry_type": "phone",
                                           "description": "Skip the phone step"}).json()
    for number, label in (("+14155552671", "CEO <i>x</i>"), ("+14155552672", "CFO")):
        added = client.post(f"/v3/lists/{made['uuid']}/entries/", json={"value": number, "display_label": label})
        assert added.status_code == 201, added.text
    session = create_session(client, vendor_data="blocked-face")
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    client.post("/v3/blocklist/add/", json={"session_id": session["session_id"], "blocklist_face": True})
    base = base_of(api_key)

    page = browser_client.get(f"{base}/lists").text
    assert "<phones>" not in page and "VIP &lt;phones&gt;" in page
    custom = row_of(page, "data-list-uuid", made["uuid"])
    assert '<td class="num entry-count">2</td>' in custom and ">allowlist<" in custom
    assert f'href="{base}/lists/{made["uuid"]}"' in custom
    system = re.search(r'<table id="system-lists">(.*?)</table>', page, re.S)
    assert system
    lists = {row["name"]: row for row in client.get("/v3/lists/").json()["results"]}
    assert len(re.findall(r"<tr data-list-uuid=", system.group(1))) == len(lists) - 1  # every system list
    face = row_of(page, "data-list-uuid", lists["Face blocklist"]["uuid"])
    assert '<td class="num entry-count">1</td>' in face  # the blocklist's entry is one of the list's

    entries = browser_client.get(f"{base}/lists/{made['uuid']}").text
    assert re.findall(r'class="mono small break entry-value">([^<]+)<', entries) == ["+14155552672", "+14155552671"]
    assert "<i>x</i>" not in entries and "CEO &lt;i&gt;x&lt;/i&gt;" in entries
    faces = browser_client.get(f"{base}/lists/{lists['Face blocklist']['uuid']}").text
    assert f'href="{base}/sessions/{session["session_id"]}"' in faces
    empty = browser_client.get(f"{base}/lists/{lists['Email blocklist']['uuid']}").text
    assert 'id="no-entries"' in empty
    missing = browser_client.get(f"{base}/lists/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and "List not found" in missing.text


def test_credits_page_shows_unlimited_or_the_balance_and_the_top_ups(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    client.get("/_mock/tenant")
    page = browser_client.get(f"{base_of(api_key)}/credits").text
    assert 'id="balance">Unlimited<' in page and 'id="no-checkouts"' in page
    assert client.put("/_mock/billing", json={"balance": 1234.5, "session_price": "2.50"}).status_code == 200
    opened = client.post("/v3/billing/top-up/", json={"amount_in_dollars": 100})
    assert opened.status_code == 200, opened.text
    paid = client.post("/v3/billing/top-up/", json={"amount_in_dollars": 75})
    assert client.post(f"/_mock/billing/checkout/{paid.json()['checkout_session_id']}/settle").status_code == 200
    page = browser_client.get(f"{base_of(api_key)}/credits").text
    assert 'id="balance">$1,309.50<' in page  # 1234.50 and the paid top-up (a sandbox is never debited)
    assert 'id="session-price">$2.50<' in page and "not billed" in page
    checkouts = re.findall(r'<td class="mono small break">(cs_test_[\w-]+)</td>.*?checkout-status">(\w+)<', page, re.S)
    assert checkouts == [(paid.json()["checkout_session_id"], "paid"), (opened.json()["checkout_session_id"], "open")]


def test_requests_page_shows_the_journal_with_filters(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    create_session(client, vendor_data="journal-user")
    client.get("/v3/session/00000000-0000-4000-8000-000000000000/decision/")
    page = browser_client.get(f"{base_of(api_key)}/requests").text
    assert "/v3/session/" in page and "journal-user" in page
    failed = browser_client.get(f"{base_of(api_key)}/requests", params={"status": "4xx"}).text
    assert re.findall(r'<span class="pill pill-\w+">(\d{3})</span>', failed) == ["404"]
    bad = browser_client.get(f"{base_of(api_key)}/requests", params={"status": "teapot"})
    assert bad.status_code == 200 and 'id="filter-error"' in bad.text
    # Dashboard pages name no tenant by key or token: they are not journaled.
    paths = [e["path"] for e in client.get("/_mock/requests").json()["results"]]
    assert paths and not any(p.startswith("/_mock/ui") for p in paths)


def test_clock_page_shows_the_tenant_clock(client: httpx.Client, api_key: str, browser_client: httpx.Client) -> None:
    client.post("/_mock/clock/set", json={"now": "2031-02-03T04:05:06Z"})
    page = browser_client.get(f"{base_of(api_key)}/clock").text
    assert 'id="clock-now">2031-02-03 04:05:06 UTC<' in page
    assert 'id="clock-mode">frozen<' in page


def test_scenarios_page_shows_loaded_scenarios_and_reload_errors(tmp_path: Path) -> None:
    path = tmp_path / "codes.yaml"
    path.write_text('name: codes\ndescription: Fixed codes for +1202555.\nphone: [{match: "+1202555", code: "111111"}]\n')
    key = new_key()
    with MockServer(freeze_clock=True, scenarios=[str(path)]) as server, \
            httpx.Client(base_url=server.url, headers={"x-api-key": key}, timeout=10) as http, \
            httpx.Client(base_url=server.url, timeout=10) as browser:
        http.get("/_mock/tenant")
        page = browser.get(f"{base_of(key)}/scenarios").text
        assert "codes" in page and "Fixed codes for +1202555." in page and str(path) in page
        assert 'id="scenario-errors"' not in page
        own = http.put("/_mock/scenarios", content=b"name: mine\nemail: [{match: '*@x.example', code: 'ABC123'}]\n",
                       headers={"content-type": "application/yaml"})
        assert own.status_code == 200, own.text
        path.write_text('name: codes\nphone: [{match: "+1202555", code: 333333}]\n')  # unquoted digits: refused
        wait_until(lambda: http.get("/_mock/scenarios").json()["errors"], "the reload error")
        page = browser.get(f"{base_of(key)}/scenarios").text
        assert 'id="scenario-errors"' in page and "quote it" in html.unescape(page)
        assert "This tenant&#39;s own scenario" in page or "This tenant's own scenario" in page
        assert re.search(r'id="active-scenarios">mine, codes<', page)


# ---------------------------------------------------------------- actions

def test_actions_refuse_a_missing_or_foreign_form_token(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    session = create_session(client)
    before = client.get("/_mock/clock").json()
    base = base_of(api_key)
    other = new_key()
    httpx.get(browser_client.base_url.join("/_mock/tenant"), headers={"x-api-key": other})
    foreign = csrf_of(browser_client.get(f"{base_of(other)}/clock").text)
    for token in (None, "", "0" * 64, foreign):
        data = {"seconds": "60", "status": "Approved"} | ({"csrf": token} if token is not None else {})
        for path in ("/clock/advance", f"/sessions/{session['session_id']}/complete", "/reset",
                     "/webhooks/00000000-0000-4000-8000-000000000000/replay"):
            refused = browser_client.post(base + path, data=data)
            assert refused.status_code == 403, (path, token)
            assert "Form expired" in refused.text
    assert client.get("/_mock/clock").json() == before
    assert client.get(f"/v3/session/{session['session_id']}/decision/").json()["status"] == "Not Started"


def test_complete_action_finishes_the_session_like_the_admin_route(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    session = create_session(client, vendor_data="complete-me")
    page = f"{base_of(api_key)}/sessions/{session['session_id']}"
    landing, flash = act(browser_client, page, page + "/complete", status="In Review")
    assert landing == page and flash == "Session completed: In Review."
    assert client.get(f"/v3/session/{session['session_id']}/decision/").json()["status"] == "In Review"
    # A second completion is refused with the admin route's message, and changes nothing.
    token = csrf_of(browser_client.get(f"{base_of(api_key)}/clock").text)
    again = browser_client.post(page + "/complete", data={"csrf": token, "status": "Approved"})
    assert again.status_code == 303
    message = flash_of(browser_client.get(again.headers["location"]).text)
    assert message.startswith("Could not complete the session: Only sessions that are Not Started")
    bad = browser_client.post(page + "/complete", data={"csrf": token, "status": "Maybe"})
    assert '"Maybe"' in flash_of(browser_client.get(bad.headers["location"]).text)
    assert client.get(f"/v3/session/{session['session_id']}/decision/").json()["status"] == "In Review"


def test_advance_action_moves_the_clock_and_runs_due_jobs(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    client.post("/_mock/clock/set", json={"now": "2030-01-01T00:00:00Z"})
    session = create_session(client)
    clock = f"{base_of(api_key)}/clock"
    landing, flash = act(browser_client, clock, clock + "/advance", seconds="604800")
    assert landing == clock
    assert flash == "Clock advanced by 7 days: now 2030-01-08 00:00:00 UTC."
    assert client.get("/_mock/clock").json()["now"] == "2030-01-08T00:00:00.000000Z"
    assert client.get(f"/v3/session/{session['session_id']}/decision/").json()["status"] == "Expired"
    _, refused = act(browser_client, clock, clock + "/advance", seconds="-5")
    assert refused.startswith("Could not advance the clock: seconds:")
    _, refused = act(browser_client, clock, clock + "/advance", seconds="soon")
    assert refused.startswith("Could not advance the clock")
    assert client.get("/_mock/clock").json()["now"] == "2030-01-08T00:00:00.000000Z"


def test_replay_action_sends_the_delivery_again(
    client: httpx.Client, api_key: str, browser_client: httpx.Client, receiver: Receiver
) -> None:
    client.post("/_mock/webhook", json={"url": f"{receiver.url}/hook", "secret": SECRET})
    session = create_session(client)
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    original = wait_delivered(client, session["session_id"], "Approved")
    webhooks_page = f"{base_of(api_key)}/webhooks"
    landing, flash = act(browser_client, webhooks_page, f"{webhooks_page}/{original['uuid']}/replay")
    assert landing == webhooks_page
    assert flash == "Replayed as attempt #2 of the delivery: HTTP 200."
    replays = deliveries(client, trigger="replay")
    assert len(replays) == 1 and replays[0]["event_id"] == original["event_id"]
    assert len([h for h in receiver.hits if h.path == "/hook"]) == 3  # In Progress, Approved, the replay
    # `back` may only point at this tenant's own pages.
    token = csrf_of(browser_client.get(webhooks_page).text)
    for back in ("https://evil.example/", "//evil.example/x", f"{base_of(new_key())}/sessions"):
        answer = browser_client.post(f"{webhooks_page}/{original['uuid']}/replay", data={"csrf": token, "back": back})
        assert answer.headers["location"] == webhooks_page
    missing = browser_client.post(f"{webhooks_page}/00000000-0000-4000-8000-000000000000/replay", data={"csrf": token})
    assert "no such entry" in flash_of(browser_client.get(missing.headers["location"]).text)


def test_reset_action_empties_the_tenant(client: httpx.Client, api_key: str, browser_client: httpx.Client) -> None:
    create_session(client)
    advance(client, 60)
    clock = f"{base_of(api_key)}/clock"
    landing, flash = act(browser_client, clock, f"{base_of(api_key)}/reset")
    assert landing == f"{base_of(api_key)}/sessions"
    assert flash.startswith("Tenant reset")
    assert client.get("/_mock/sessions").json()["count"] == 0
    assert 'id="no-sessions"' in browser_client.get(landing).text


def test_open_a_tenant_by_api_key_keeps_the_key_out_of_urls(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    create_session(client)
    token = csrf_of(browser_client.get("/_mock/ui").text)
    opened = browser_client.post("/_mock/ui/open", data={"csrf": token, "api_key": api_key})
    assert opened.status_code == 303 and opened.headers["location"] == f"{base_of(api_key)}/sessions"
    assert browser_client.post("/_mock/ui/open", data={"api_key": api_key}).status_code == 403


# ---------------------------------------------------------------- the admin token

@pytest.fixture(scope="module")
def guarded() -> Iterator[MockServer]:
    with MockServer(admin_token="dash-s3cret token;x", freeze_clock=True) as running:
        yield running


def test_with_an_admin_token_the_dashboard_needs_a_login(guarded: MockServer) -> None:
    token = guarded.settings.admin_token
    assert token is not None
    key = new_key()
    httpx.post(guarded.url + "/v3/session/", json={"workflow_id": "d1d17000-0000-4000-8000-000000000001"},
               headers={"x-api-key": key})
    with httpx.Client(base_url=guarded.url, timeout=10) as browser:
        sessions = f"{base_of(key)}/sessions"
        for path in ("/_mock/ui", sessions, f"/_mock/ui?token={token}", f"{sessions}?token={token}"):
            refused = browser.get(path)
            assert refused.status_code == 303, path
            assert refused.headers["location"].startswith("/_mock/ui/login?next=")
        assert browser.get("/_mock/ui", headers={"x-admin-token": token}).status_code == 200  # headers still work
        assert browser.post(f"{base_of(key)}/reset").status_code == 303  # to the login, not executed

        login = browser.get(f"/_mock/ui/login?next={sessions}")
        assert login.status_code == 200 and 'id="login-form"' in login.text
        csrf = csrf_of(login.text)
        wrong_token = browser.post("/_mock/ui/login", data={"csrf": csrf, "token": "nope", "next": sessions})
        assert wrong_token.status_code == 401 and 'id="login-error"' in wrong_token.text
        assert "didit_mock_admin" not in browser.cookies
        no_csrf = browser.post("/_mock/ui/login", data={"token": token, "next": sessions})
        assert no_csrf.status_code == 403

        signed_in = browser.post("/_mock/ui/login", data={"csrf": csrf, "token": token, "next": sessions})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == sessions
        cookie = next(c for c in signed_in.headers.get_list("set-cookie") if c.startswith("didit_mock_admin="))
        assert "HttpOnly" in cookie and "Path=/_mock/ui" in cookie and "SameSite=strict" in cookie
        page = browser.get(sessions)
        assert page.status_code == 200 and flash_of(page.text) == "Signed in."
        assert browser.get("/_mock/ui").status_code == 200
        # The cookie opens the dashboard only: the JSON admin API still wants the header.
        assert browser.get("/_mock/tenant", headers={"x-api-key": key}).status_code == 401

        out = browser.post("/_mock/ui/logout", data={"csrf": csrf})
        assert out.status_code == 303 and out.headers["location"] == "/_mock/ui/login"
        assert browser.get("/_mock/ui").status_code == 303


def test_the_application_pages_are_behind_the_admin_token(guarded: MockServer) -> None:
    token = guarded.settings.admin_token
    assert token is not None
    key = new_key()
    made = httpx.post(guarded.url + "/v3/users/create/", json={"vendor_data": "guarded-user"},
                      headers={"x-api-key": key})
    assert made.status_code == 201, made.text
    with httpx.Client(base_url=guarded.url, timeout=10) as browser:
        for name in ("workflows", "users", "lists", "credits"):
            refused = browser.get(f"{base_of(key)}/{name}")
            assert refused.status_code == 303 and refused.headers["location"].startswith("/_mock/ui/login?next=")
            assert "guarded-user" not in refused.text
        allowed = browser.get(f"{base_of(key)}/users", headers={"x-admin-token": token})
        assert allowed.status_code == 200 and "guarded-user" in allowed.text


def test_login_never_redirects_off_the_dashboard(guarded: MockServer) -> None:
    token = guarded.settings.admin_token
    with httpx.Client(base_url=guarded.url, timeout=10) as browser:
        csrf = csrf_of(browser.get("/_mock/ui/login").text)
        for target in ("https://evil.example/", "//evil.example", "/v3/sessions/", "/_mock/uiX"):
            answer = browser.post("/_mock/ui/login", data={"csrf": csrf, "token": token, "next": target})
            assert answer.headers["location"] == "/_mock/ui", target


def test_without_an_admin_token_the_login_page_says_so(browser_client: httpx.Client) -> None:
    page = browser_client.get("/_mock/ui/login")
    assert page.status_code == 200 and 'id="no-token"' in page.text and 'id="logout"' not in page.text


def test_failed_deliveries_show_the_error_and_the_retry(
    client: httpx.Client, api_key: str, browser_client: httpx.Client
) -> None:
    client.post("/_mock/webhook", json={"url": f"http://127.0.0.1:{free_port()}/closed", "secret": SECRET})
    session = create_session(client)
    client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    waited = client.get("/_mock/webhooks/wait", params={"session_id": session["session_id"], "delivered": "false",
                                                         "timeout": 10})
    assert waited.status_code == 200, waited.text
    page = browser_client.get(f"{base_of(api_key)}/webhooks").text
    assert "no answer" in page and "retry in 1 min" in page
    assert 'id="pending"' in page  # the Approved event waits behind the failing In Progress one
    advance(client, 60)  # the retry falls due and fails again
    wait_until(lambda: len(deliveries(client, session_id=session["session_id"])) >= 2, "the retry")
    assert "retry in 4 min" in browser_client.get(f"{base_of(api_key)}/webhooks").text


def test_auto_refresh_can_be_paused(client: httpx.Client, api_key: str, browser_client: httpx.Client) -> None:
    client.get("/_mock/tenant")
    live = browser_client.get(f"{base_of(api_key)}/sessions", params={"status": "Approved"}).text
    assert '<meta http-equiv="refresh" content="5">' in live and 'id="pause"' in live
    pause = html.unescape(re.search(r'href="([^"]+)" id="pause"', live).group(1))
    assert pause == f"{base_of(api_key)}/sessions?status=Approved&live=0"
    paused = browser_client.get(pause).text
    assert '<meta http-equiv="refresh"' not in paused
    resume = html.unescape(re.search(r'href="([^"]+)" id="resume"', paused).group(1))
    assert resume == f"{base_of(api_key)}/sessions?status=Approved"


def test_the_picker_says_which_keys_were_refused_and_why() -> None:
    with MockServer(api_keys=["sk_test_allowed_one"]) as restricted:
        refused = httpx.post(restricted.url + "/v3/session/", json={"workflow_id": KYC_WORKFLOW},
                             headers={"x-api-key": "sk_test_someone_else"})
        assert refused.status_code == 401 and refused.json() == {"detail": "Invalid API Key."}
        page = httpx.get(restricted.url + "/_mock/ui").text
    assert 'id="refused-keys"' in page
    assert mask_key("sk_test_someone_else") in page and mask_key("sk_test_allowed_one") in page
    assert "sk_test_someone_else" not in page  # masked like every key the dashboard shows
