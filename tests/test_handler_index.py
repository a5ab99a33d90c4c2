"""The index of handler modules (which module serves each operation) matches the modules' marks,
and the app loads a family's handlers only when one of its operations is called."""

from __future__ import annotations

import subprocess
import sys

from didit_mock.handlers.handler_table import OPERATIONS
from didit_mock.handlers.index import MODULES, render, scan


def test_the_index_is_what_the_modules_mark() -> None:
    assert dict(OPERATIONS) == scan(MODULES), "stale: run `python -m didit_mock.handlers.index`"
    assert set(OPERATIONS.values()) == set(MODULES)  # no module without an operation
    assert render(scan(MODULES)).count("\n") > len(MODULES)


def test_a_family_is_loaded_on_its_first_call_and_served_by_its_rules() -> None:
    code = """
import asyncio, sys, httpx
from didit_mock.app import create_app
from didit_mock.settings import Settings
app = create_app(Settings.from_env(environ={}, port=0))
before = "didit_mock.handlers.kyb" in sys.modules
async def call():
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        return await client.post("/v3/kyb/search/", json={"name": "Tesco", "country_code": "GB"},
                                 headers={"x-api-key": "sk_test_lazy"})
answer = asyncio.run(call())
print(before, "didit_mock.handlers.kyb" in sys.modules, answer.status_code, answer.headers.get("x-didit-mock-shape-only"))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True", "200", "None"]  # not loaded at start; loaded and answering with rules after
