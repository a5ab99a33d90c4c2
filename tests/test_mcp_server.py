"""Didit's official MCP server (npm `@didit-protocol/mcp-server`) drives the standalone APIs of the mock.

The server is started with `node` and spoken to over stdio (tests/mcp_client.py); without node or
the package the test is skipped.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from didit_mock.server import MockServer

from .mcp_client import SKIP_WITHOUT_MCP, McpClient, mcp_server

pytestmark = SKIP_WITHOUT_MCP


@pytest.fixture(scope="module")
def mcp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[McpClient, Path]]:
    folder = tmp_path_factory.mktemp("images")
    for name, color in (("selfie.png", (120, 90, 60)), ("other.png", (20, 160, 90))):
        out = io.BytesIO()
        Image.new("RGB", (256, 256), color).save(out, format="PNG")
        (folder / name).write_bytes(out.getvalue())
    with MockServer(warm_up=False) as server, mcp_server(server, "sk_test_mcp_tools") as client:
        yield client, folder


def test_the_standalone_tools_succeed(mcp: tuple[McpClient, Path]) -> None:
    client, images = mcp
    selfie, other = str(images / "selfie.png"), str(images / "other.png")
    tools = client.request("tools/list", {})["result"]["tools"]
    assert {"didit_passive_liveness", "didit_face_match", "didit_aml_screening"} <= {t["name"] for t in tools}

    assert client.call("didit_passive_liveness", image_path=selfie, vendor_data="mcp-user")["liveness"][
        "status"] == "Approved"
    assert client.call("didit_face_match", image_1_path=selfie, image_2_path=selfie)["face_match"][
        "status"] == "Approved"
    assert client.call("didit_face_search", image_path=selfie, vendor_data="mcp-user")["face_search"][
        "total_matches"] >= 1
    assert client.call("didit_age_estimation", image_path=selfie)["age_estimation"]["status"] == "Approved"
    assert client.call("didit_id_verification", front_image_path=selfie, back_image_path=other,
                       vendor_data="mcp-user")["id_verification"]["status"] == "Approved"
    assert client.call("didit_poa_verification", document_image_path=other, vendor_data="mcp-user")["poa"][
        "status"] == "Approved"
    # Didit's specification wants alpha-3 here (the tool's text says alpha-2; the mock follows the spec).
    assert client.call("didit_database_validation", issuing_state="BRA", identification_number="12345678901",
                       first_name="Ana")["database_validation"]["status"] == "Approved"
    assert client.call("didit_aml_screening", full_name="John Test Smith", nationality="US")["aml"][
        "status"] == "Approved"
    # The KYB registry: the handle a search returns selects the company into a business session.
    found = client.call("didit_kyb_search", country_code="GB", name="Tesco", vendor_data="mcp-company")
    companies = found["kyb_registry"]["companies"]
    assert [c["name"] for c in companies] == ["Tesco PLC", "E-TESCO LTD"]
    selected = client.call("didit_kyb_select", kyb_response_id=companies[0]["kyb_response_id"],
                           vendor_data="mcp-company")
    assert selected["registry_tier_delivered"] == "basic"
    assert selected["kyb_registry"]["company_name"] == "Tesco PLC"
    assert selected["kyb_registry"]["registration_number"] == "00445790"


def test_the_transaction_and_wallet_tools_succeed(mcp: tuple[McpClient, Path]) -> None:
    client, _ = mcp
    created = client.call(
        "didit_create_transaction", transaction_id="mcp-tx-1", transaction_category="finance",
        transaction_details={"amount": "120.50", "currency": "EUR", "direction": "outbound"},
        subject={"vendor_data": "mcp-user", "full_name": "Ana Test"})
    assert created["txn_id"] == "mcp-tx-1" and created["status"] == "APPROVED"
    fetched = client.call("didit_get_transaction", transaction_id=created["uuid"])
    assert fetched["transaction_number"] == created["transaction_number"]
    listed = client.call("didit_list_transactions", limit="10")
    assert [row["txn_id"] for row in listed["results"]] == ["mcp-tx-1"]
    screened = client.call("didit_screen_wallet", wallet_address="0x742d35Cc6634C0532925a3b844Bc454e4438f44e",
                           blockchain="ETH")
    assert 0 <= screened["risk_score"] <= 100
