"""Didit's official MCP server drives the application families of the mock: sign-up, workflows,
questionnaires, users, businesses, lists, billing, customization and session imports.

Each tool is called as its description and `inputSchema` (from `tools/list`) say; `documented`
refuses an argument the schema does not name, so a test cannot pass by sending what the tool
would not. The one exception is said where it is made (the questionnaire tools' schema is older
than Didit's API). Without node or the package the module is skipped (tests/mcp_client.py).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from didit_mock.server import MockServer

from .conftest import KYC_WORKFLOW
from .mcp_client import SKIP_WITHOUT_MCP, McpClient, McpError, mcp_server

pytestmark = SKIP_WITHOUT_MCP

API_KEY = "sk_test_mcp_application"


@dataclass
class Mcp:
    client: McpClient
    tools: dict[str, dict[str, Any]]
    http: httpx.Client  # the same tenant over plain HTTP, to check what the tools did
    server: MockServer
    face: Path

    def documented(self, tool: str, *, beyond_schema: tuple[str, ...] = (), **arguments: Any) -> Any:
        """Call `tool` with arguments its inputSchema names (and its required ones)."""
        schema = self.tools[tool]["inputSchema"]
        named = set(schema.get("properties") or {})
        assert not (set(arguments) - named - set(beyond_schema)), f"{tool} does not take {set(arguments) - named}"
        assert set(schema.get("required") or ()) <= set(arguments), f"{tool} needs {schema.get('required')}"
        return self.client.call(tool, **arguments)


@pytest.fixture(scope="module")
def mcp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mcp]:
    folder = tmp_path_factory.mktemp("images")
    face = folder / "face.png"
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (120, 90, 60)).save(out, format="PNG")
    face.write_bytes(out.getvalue())
    with MockServer(warm_up=False, validate_responses=True, freeze_clock=True) as server, \
            mcp_server(server, API_KEY) as client, \
            httpx.Client(base_url=server.url, headers={"x-api-key": API_KEY}, timeout=10) as http:
        yield Mcp(client, client.tools(), http, server, face)


def test_the_auth_tools_sign_up_and_find_the_application(mcp: Mcp) -> None:
    email, password = "founder@acme.dev", "S3cure!Passw0rd"
    registered = mcp.documented("didit_register", email=email, password=password)
    assert registered["email"] == email
    first = httpx.get(f"{mcp.server.url}/_mock/auth/{email}/code").json()["code"]
    assert mcp.documented("didit_resend_otp", email=email)["email"] == email
    code = httpx.get(f"{mcp.server.url}/_mock/auth/{email}/code").json()["code"]
    assert len(code) == 6 and code != first  # a resend makes a new code: the first one stops working
    with pytest.raises(McpError, match="400"):
        mcp.documented("didit_verify_email", email=email, code=first)
    verified = mcp.documented("didit_verify_email", email=email, code=code)
    application = verified["application"]
    assert {"access_token", "refresh_token", "organization"} <= set(verified)

    login = mcp.documented("didit_login", email=email, password=password)
    organizations = mcp.documented("didit_list_organizations", access_token=login["access_token"])
    assert [o["uuid"] for o in organizations] == [verified["organization"]["uuid"]]
    applications = mcp.documented("didit_list_applications", access_token=login["access_token"],
                                  organization_id=organizations[0]["uuid"])
    assert [a["uuid"] for a in applications] == [application["uuid"]]
    found = mcp.documented("didit_get_application", access_token=login["access_token"],
                           organization_id=organizations[0]["uuid"], application_id=application["uuid"])
    assert found["api_key"] == application["api_key"]
    # The new key works at once, on an application of its own.
    tenant = httpx.get(f"{mcp.server.url}/_mock/tenant", headers={"x-api-key": found["api_key"]}).json()
    assert tenant["application_id"] == application["uuid"]
    with pytest.raises(McpError, match="401"):
        mcp.documented("didit_login", email=email, password="Wr0ng!Password")


def test_the_workflow_tools(mcp: Mcp) -> None:
    listed = mcp.documented("didit_list_workflows")
    builtins = listed["count"]
    made = mcp.documented("didit_create_workflow", workflow_label="MCP KYC", features=[
        {"feature": "OCR"}, {"feature": "LIVENESS", "config": {"face_liveness_method": "PASSIVE"}},
        {"feature": "FACE_MATCH"}], session_expiration_time=3600)
    assert made["features"] == "OCR + LIVENESS + FACE_MATCH" and made["version"] == 1
    assert mcp.documented("didit_get_workflow", workflow_id=made["uuid"])["workflow_label"] == "MCP KYC"
    renamed = mcp.documented("didit_update_workflow", workflow_id=made["uuid"], workflow_label="MCP KYC 2",
                             is_default=True)
    assert (renamed["uuid"], renamed["workflow_label"], renamed["is_default"]) == (made["uuid"], "MCP KYC 2", True)
    newer = mcp.documented("didit_update_workflow", workflow_id=made["uuid"], status="published",
                           features=[{"feature": "OCR"}, {"feature": "AML"}])
    assert (newer["workflow_id"], newer["version"], newer["features"]) == (made["uuid"], 2, "OCR + AML")
    rows = mcp.documented("didit_list_workflows")
    assert rows["count"] == builtins + 2 and rows["results"][0]["uuid"] == newer["uuid"]
    # A session on the workflow runs its latest version.
    session = mcp.http.post("/v3/session/", json={"workflow_id": made["workflow_id"]}).json()
    assert session["workflow_id"] == made["workflow_id"]
    # The tool says flat flags are refused with a 400 (the compat switch is off).
    with pytest.raises(McpError, match="400"):
        mcp.client.call("didit_create_workflow", workflow_type="kyc", is_liveness_enabled=True)
    assert mcp.documented("didit_delete_workflow", workflow_id=newer["uuid"]) == {"success": True}
    assert mcp.documented("didit_delete_workflow", workflow_id=made["uuid"]) == {"success": True}
    assert mcp.documented("didit_list_workflows")["count"] == builtins


def test_the_questionnaire_tools(mcp: Mcp) -> None:
    assert mcp.documented("didit_list_questionnaires")["count"] == 0
    # The tools' schema still requires `questions` (the older body); Didit's API takes `languages` and
    # `form_elements` and answers `questions` alone with a 400, as the mock does. The server passes
    # any argument through, so the API's fields go beside the schema's (and `questions` is ignored).
    questions = [{"type": "short_text", "text": "Your occupation?"}]
    with pytest.raises(McpError, match="form_elements"):
        mcp.documented("didit_create_questionnaire", title="Onboarding", questions=questions)
    elements = [{"element_type": "short_text", "label": {"en": "Your occupation?"}, "is_required": True}]
    made = mcp.documented("didit_create_questionnaire", beyond_schema=("languages", "form_elements"),
                          title="Onboarding", description="Who you are", questions=questions, languages=["en"],
                          form_elements=elements)
    questionnaire = made["questionnaire_id"]
    assert made["graph"]["nodes"]["q1"]["element_type"] == "SHORT_TEXT"
    got = mcp.documented("didit_get_questionnaire", questionnaire_id=questionnaire)
    assert got["title"] == "Onboarding"
    updated = mcp.documented("didit_update_questionnaire", questionnaire_id=questionnaire, title="Onboarding 2",
                             description="Updated")
    assert (updated["title"], updated["description"]) == ("Onboarding 2", "Updated")
    assert [row["uuid"] for row in mcp.documented("didit_list_questionnaires")["results"]] == [questionnaire]
    # A workflow step can name it.
    step = mcp.documented("didit_create_workflow", features=[
        {"feature": "QUESTIONNAIRE", "config": {"questionnaire_uuid": questionnaire}}])
    assert step["features"] == "QUESTIONNAIRE"
    mcp.documented("didit_delete_workflow", workflow_id=step["uuid"])
    assert mcp.documented("didit_delete_questionnaire", questionnaire_id=questionnaire) == {"success": True}
    with pytest.raises(McpError, match="404"):
        mcp.documented("didit_get_questionnaire", questionnaire_id=questionnaire)


def test_the_user_tools(mcp: Mcp) -> None:
    session = mcp.http.post("/v3/session/", json={"workflow_id": "d1d17000-0000-4000-8000-000000000001",
                                                   "vendor_data": "mcp-session-user"}).json()
    mcp.http.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    made = mcp.documented("didit_create_user", vendor_data="mcp-user-1", full_name="Ana Test",
                          date_of_birth="1990-01-02", metadata={"plan": "gold"}, approved_emails=["ana@acme.dev"],
                          approved_phones=["+14155552671"], issuing_states=["ESP"])
    assert (made["vendor_data"], made["status"], made["approved_emails"]) == ("mcp-user-1", "ACTIVE", ["ana@acme.dev"])
    listed = mcp.documented("didit_list_users", limit="10", offset="0")
    assert {row["vendor_data"] for row in listed["results"]} == {"mcp-user-1", "mcp-session-user"}
    by_session = mcp.documented("didit_get_user", vendor_data="mcp-session-user")
    assert (by_session["session_count"], by_session["approved_count"]) == (1, 1)
    updated = mcp.documented("didit_update_user", vendor_data="mcp-user-1", display_name="Ana",
                             metadata={"plan": "silver"})
    assert (updated["effective_name"], updated["metadata"]) == ("Ana", {"plan": "silver"})
    blocked = mcp.documented("didit_update_user_status", vendor_data="mcp-user-1", status="BLOCKED")
    assert blocked["status"] == "BLOCKED"
    refused = mcp.http.post("/v3/session/", json={"workflow_id": "d1d17000-0000-4000-8000-000000000001",
                                                   "vendor_data": "mcp-user-1"})
    assert refused.status_code == 400  # a blocked user gets no new session
    assert mcp.documented("didit_delete_users", vendor_data_list=["mcp-user-1"]) == {"deleted": 1}
    with pytest.raises(McpError, match="404"):
        mcp.documented("didit_get_user", vendor_data="mcp-user-1")
    assert mcp.documented("didit_delete_users", delete_all=True) == {"deleted": 1}


def test_the_business_tools(mcp: Mcp) -> None:
    made = mcp.documented("didit_create_business", vendor_data="mcp-biz-1", legal_name="Acme Ltd",
                          registration_number="00445790", country_code="GB", metadata={"tier": 1})
    assert (made["effective_name"], made["status"]) == ("Acme Ltd", "ACTIVE")
    assert [row["vendor_data"] for row in mcp.documented("didit_list_businesses", limit="5")["results"]] == [
        "mcp-biz-1"]
    assert mcp.documented("didit_get_business", vendor_data="mcp-biz-1")["registration_number"] == "00445790"
    updated = mcp.documented("didit_update_business", vendor_data="mcp-biz-1", display_name="Acme")
    assert updated["effective_name"] == "Acme"
    flagged = mcp.documented("didit_update_business_status", vendor_data="mcp-biz-1", status="FLAGGED")
    assert flagged["status"] == "FLAGGED"
    gone = mcp.documented("didit_delete_businesses", didit_internal_id_list=[made["didit_internal_id"]])
    assert gone == {"deleted": 1}
    assert mcp.documented("didit_list_businesses")["count"] == 0


def test_the_list_tools(mcp: Mcp) -> None:
    system = mcp.documented("didit_list_lists", list_type="blocklist")
    assert system["count"] == 10 and all(row["is_system"] for row in system["results"])
    made = mcp.documented("didit_create_list", name="VIP phones", list_type="allowlist", entry_type="phone",
                          description="Skip the phone step")
    assert mcp.documented("didit_get_list", list_uuid=made["uuid"])["name"] == "VIP phones"
    renamed = mcp.documented("didit_update_list", list_uuid=made["uuid"], name="VIP phones (EU)")
    assert renamed["name"] == "VIP phones (EU)"
    entry = mcp.documented("didit_create_list_entry", list_uuid=made["uuid"], value="+14155552671",
                           display_label="CEO", comment="Board member", metadata={"reference_type": "manual"})
    assert (entry["value"], entry["display_label"]) == ("+14155552671", "CEO")
    found = mcp.documented("didit_list_entries", list_uuid=made["uuid"], search="CEO", limit="10")
    assert [row["uuid"] for row in found["results"]] == [entry["uuid"]]
    assert mcp.documented("didit_get_list", list_uuid=made["uuid"])["entry_count"] == 1

    faces = mcp.documented("didit_list_lists", entry_type="face")["results"]
    [face_list] = faces
    face = mcp.documented("didit_upload_face_entry", list_uuid=face_list["uuid"], image_path=str(mcp.face),
                          display_label="Fraudster", comment="Chargeback")
    assert mcp.documented("didit_get_list", list_uuid=face_list["uuid"])["entry_count"] == 1
    assert mcp.documented("didit_delete_list_entry", list_uuid=face_list["uuid"], entry_uuid=face["uuid"]) == {
        "success": True}

    assert mcp.documented("didit_delete_list_entry", list_uuid=made["uuid"], entry_uuid=entry["uuid"]) == {
        "success": True}
    assert mcp.documented("didit_delete_list", list_uuid=made["uuid"]) == {"success": True}
    with pytest.raises(McpError, match="403"):  # a system list cannot be deleted
        mcp.documented("didit_delete_list", list_uuid=face_list["uuid"])


def test_the_billing_tools(mcp: Mcp) -> None:
    balance = mcp.documented("didit_get_balance")
    assert balance["balance"] == "1000000.0000" and balance["auto_refill_enabled"] is False  # unlimited
    checkout = mcp.documented("didit_top_up", amount_in_dollars=100, success_url="https://app.acme.dev/paid",
                              cancel_url="https://app.acme.dev/cancelled")
    assert checkout["checkout_session_id"].startswith("cs_test_")
    assert checkout["checkout_session_url"].startswith(mcp.server.url)
    assert mcp.documented("didit_top_up", amount_in_dollars=50)["checkout_session_id"] != checkout["checkout_session_id"]
    with pytest.raises(McpError, match="at least"):
        mcp.documented("didit_top_up", amount_in_dollars=10)
    assert mcp.http.put("/_mock/billing", json={"balance": 20}).status_code == 200
    settled = mcp.http.post(f"/_mock/billing/checkout/{checkout['checkout_session_id']}/settle")
    assert settled.status_code == 200, settled.text
    assert mcp.documented("didit_get_balance")["balance"] == "120.0000"


def test_the_customization_tools(mcp: Mcp) -> None:
    branding = mcp.documented("didit_get_customization")
    assert branding["color_panel"] == "#2567FF" and branding["logo_square"] is None
    updated = mcp.documented("didit_update_customization", image_square_path=str(mcp.face),
                             image_favicon_path=str(mcp.face))
    assert updated["logo_square"] and updated["favicon"] and updated["logo_rectangular"] is None
    assert mcp.documented("didit_get_customization")["logo_square"] == updated["logo_square"]
    with pytest.raises(McpError, match="at least one image"):  # the tool's own check: nothing is sent
        mcp.documented("didit_update_customization")


LIVE_KEY = "sk_live_mcp_imports"  # Didit refuses imports to sandbox applications


@pytest.fixture(scope="module")
def live_mcp(mcp: Mcp) -> Iterator[Mcp]:
    """The import tools, spoken to through a second MCP server on a live application of the same mock."""
    with mcp_server(mcp.server, LIVE_KEY) as client, \
            httpx.Client(base_url=mcp.server.url, headers={"x-api-key": LIVE_KEY}, timeout=10) as http:
        yield Mcp(client, client.tools(), http, mcp.server, mcp.face)


def test_the_import_tools(live_mcp: Mcp) -> None:
    template = live_mcp.documented("didit_get_import_template")
    assert "external_id" in str(template)  # the CSV header of the user-verification import
    created = live_mcp.documented("didit_create_import",
                                  source_file_url="https://files.example.com/exports/sessions.csv",
                                  workflow_id=KYC_WORKFLOW)
    assert created["status"] == "PENDING" and created["source_format"] == "csv"
    live_mcp.http.post("/_mock/clock/advance", json={"seconds": 60}).raise_for_status()
    job = live_mcp.documented("didit_get_import", import_id=created["uuid"])
    # An offline mock never fetches a URL: the job fails, saying so, as an unreachable file would.
    assert job["status"] == "FAILED" and "fetch" in job["last_error"].lower()
    errors = live_mcp.documented("didit_get_import_errors", import_id=created["uuid"])
    assert errors["count"] == 0 and errors["results"] == []
    assert live_mcp.http.get(f"/v3/session/imports/{created['uuid']}/").json()["status"] == "FAILED"
