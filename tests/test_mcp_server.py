"""Didit's official MCP server (npm `@didit-protocol/mcp-server`) drives the standalone APIs of the mock.

The server is started with `node` and spoken to over stdio (JSON-RPC, one message a line). It is
found through `DIDIT_MCP_SERVER_JS` (the path of its `dist/index.js`) or a `node_modules` folder
beside the project or the current directory; without node or the package the test is skipped.
"""

from __future__ import annotations

import io
import json
import os
import selectors
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from didit_mock.server import MockServer

PACKAGE = Path("node_modules") / "@didit-protocol" / "mcp-server" / "dist" / "index.js"
ROOT = Path(__file__).resolve().parents[1]


def _server_script() -> Path | None:
    given = os.environ.get("DIDIT_MCP_SERVER_JS")
    candidates = [Path(given)] if given else [ROOT / PACKAGE, Path.cwd() / PACKAGE]
    return next((p for p in candidates if p.is_file()), None)


SCRIPT = _server_script()
pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(SCRIPT is None, reason="@didit-protocol/mcp-server is not installed (npm install it, or set "
                                              "DIDIT_MCP_SERVER_JS to its dist/index.js)"),
]


class McpClient:
    """A JSON-RPC conversation with the MCP server over its stdin/stdout."""

    def __init__(self, process: subprocess.Popen[bytes]):
        self.process = process
        self.next_id = 0
        self.selector = selectors.DefaultSelector()
        assert process.stdout is not None
        self.selector.register(process.stdout, selectors.EVENT_READ)

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def request(self, method: str, params: dict[str, Any], timeout: float = 20.0) -> dict[str, Any]:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        assert self.process.stdout is not None
        while True:
            if not self.selector.select(timeout):
                raise TimeoutError(f"no answer to {method}")
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("the MCP server stopped")
            message = json.loads(line)
            if message.get("id") == self.next_id:
                return message

    def call(self, tool: str, **arguments: Any) -> Any:
        answer = self.request("tools/call", {"name": tool, "arguments": arguments})
        result = answer.get("result") or {}
        text = "".join(part.get("text", "") for part in result.get("content") or [])
        assert not result.get("isError"), f"{tool}: {text or answer}"
        return json.loads(text)


@pytest.fixture(scope="module")
def mcp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[McpClient, Path]]:
    folder = tmp_path_factory.mktemp("images")
    for name, color in (("selfie.png", (120, 90, 60)), ("other.png", (20, 160, 90))):
        out = io.BytesIO()
        Image.new("RGB", (256, 256), color).save(out, format="PNG")
        (folder / name).write_bytes(out.getvalue())
    with MockServer(warm_up=False) as server:
        environment = {**os.environ, "DIDIT_API_BASE_URL": server.url + "/v3", "DIDIT_API_KEY": "sk_test_mcp_tools"}
        process = subprocess.Popen(["node", str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, env=environment)
        try:
            client = McpClient(process)
            client.request("initialize", {"protocolVersion": "2024-11-05", "capabilities": {},
                                          "clientInfo": {"name": "didit-mock-tests", "version": "1"}})
            client.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            yield client, folder
        finally:
            process.kill()
            process.wait(timeout=10)


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
