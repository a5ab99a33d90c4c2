"""An operation without rules answers its documented shape, marked as such (never a 404).

Every operation of today's document has rules or the resource store, so the fallback is proven on an
app built without one rules module (the session imports): its operations fall back to their shapes.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from didit_mock import app as app_module
from didit_mock.settings import Settings
from didit_mock.web.shape import SHAPE_ONLY_HEADER

IMPORT_ID = "3f1c2a4e-8b7d-4c6e-9a0b-1d2e3f4a5b6c"


def _answers(paths: list[tuple[str, str]], key: str | None = "sk_test_shapes") -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=application)
        headers = {"x-api-key": key} if key else {}
        async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=headers) as client:
            return [await client.request(method, path) for method, path in paths]

    settings = Settings.from_env(environ={}, port=0, validate_responses=True)
    application = app_module.create_app(settings)
    with ThreadPoolExecutor(1) as pool:  # a thread of its own: a browser test's sync Playwright may hold this one's loop
        return pool.submit(asyncio.run, run()).result()


@pytest.fixture(autouse=True)
def without_import_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    kept = tuple(module for module in app_module.RULE_MODULES if module != "imports")
    assert len(kept) == len(app_module.RULE_MODULES) - 1
    monkeypatch.setattr(app_module, "RULE_MODULES", kept)


def test_an_operation_without_rules_answers_its_documented_shape() -> None:
    job, errors = _answers([("GET", f"/v3/session/imports/{IMPORT_ID}/"),
                            ("GET", f"/v3/session/imports/{IMPORT_ID}/errors/")])
    assert job.status_code == 200 and job.headers[SHAPE_ONLY_HEADER] == "true"
    assert job.headers["content-type"].startswith("application/json")
    # The documented fields of an import job, with values of their types (checked against the
    # document by --validate-responses, which would have answered 500 otherwise).
    assert {"uuid", "status", "total_rows", "created_count"} <= set(job.json())
    assert errors.status_code == 200 and errors.headers[SHAPE_ONLY_HEADER] == "true"
    assert {"count", "results"} <= set(errors.json())


def test_a_shape_only_operation_still_authenticates() -> None:
    (refused,) = _answers([("GET", f"/v3/session/imports/{IMPORT_ID}/")], key=None)
    assert refused.status_code in (401, 403) and SHAPE_ONLY_HEADER.lower() not in refused.headers
