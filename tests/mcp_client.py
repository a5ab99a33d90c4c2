"""A client for Didit's official MCP server (npm `@didit-protocol/mcp-server`) over stdio.

The server is started with `node` and spoken to over stdio (JSON-RPC, one message a line). It is
found through `DIDIT_MCP_SERVER_JS` (the path of its `dist/index.js`) or a `node_modules` folder
beside the project or the current directory; `SKIP_WITHOUT_MCP` skips a module without node or the
package, saying why.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from didit_mock.server import MockServer

PACKAGE = Path("node_modules") / "@didit-protocol" / "mcp-server" / "dist" / "index.js"
ROOT = Path(__file__).resolve().parents[1]


def _server_script() -> Path | None:
    given = os.environ.get("DIDIT_MCP_SERVER_JS")
    candidates = [Path(given)] if given else [ROOT / PACKAGE, Path.cwd() / PACKAGE]
    return next((p for p in candidates if p.is_file()), None)


SCRIPT = _server_script()
#: The `pytestmark` of a module that drives the MCP server.
SKIP_WITHOUT_MCP = [
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(SCRIPT is None, reason="@didit-protocol/mcp-server is not installed (npm install it, or set "
                                              "DIDIT_MCP_SERVER_JS to its dist/index.js)"),
]


class McpError(AssertionError):
    """A tool answered with an error (its text says what Didit's API answered)."""


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

    def tools(self) -> dict[str, dict[str, Any]]:
        """The server's tools by name (description and inputSchema)."""
        return {tool["name"]: tool for tool in self.request("tools/list", {})["result"]["tools"]}

    def call(self, tool: str, **arguments: Any) -> Any:
        answer = self.request("tools/call", {"name": tool, "arguments": arguments})
        result = answer.get("result") or {}
        text = "".join(part.get("text", "") for part in result.get("content") or [])
        if result.get("isError") or "result" not in answer:
            raise McpError(f"{tool}: {text or answer}")
        return json.loads(text)


@contextmanager
def mcp_server(server: MockServer, api_key: str) -> Iterator[McpClient]:
    """Didit's MCP server pointed at `server` (API and Auth API) with `api_key`, initialised."""
    assert SCRIPT is not None
    environment = {**os.environ, "DIDIT_API_BASE_URL": server.url + "/v3", "DIDIT_API_KEY": api_key,
                   "DIDIT_AUTH_BASE_URL": server.url + "/auth/v2"}
    process = subprocess.Popen(["node", str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=environment)
    try:
        client = McpClient(process)
        client.request("initialize", {"protocolVersion": "2024-11-05", "capabilities": {},
                                      "clientInfo": {"name": "didit-mock-tests", "version": "1"}})
        client.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        yield client
    finally:
        process.kill()
        process.wait(timeout=10)
