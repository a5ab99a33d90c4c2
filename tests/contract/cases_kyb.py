"""Contract cases of Document AI, the KYB registry and the KYB corrections of a business session."""

from __future__ import annotations

import io
import json

import httpx
from PIL import Image

from tests.contract.test_contract import Ctx, case

DOCUMENT_AI = "/v3/document-ai/"
FIELDS = json.dumps([{"key": "employee_name", "name": "Employee name", "type": "text", "is_full_name": True},
                     {"key": "net_pay", "name": "Net pay", "type": "number", "required": True}])


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (128, 128), (90, 120, 150)).save(out, format="PNG")
    return out.getvalue()


def _document_ai(client: httpx.Client, fields: str = FIELDS) -> httpx.Response:
    return client.post(DOCUMENT_AI, data={"fields": fields, "vendor_data": "contract"},
                       files={"document": ("payslip.png", _png(), "image/png")})


case("POST", DOCUMENT_AI, "200")(lambda c: _document_ai(c.client))
case("POST", DOCUMENT_AI, "400")(lambda c: _document_ai(c.client, "not json"))
case("POST", DOCUMENT_AI, "403")(lambda c: _document_ai(c.anon))


@case("POST", DOCUMENT_AI, "429")
def _document_ai_429(c: Ctx) -> httpx.Response:
    c.exhaust("generic-write")
    return _document_ai(c.client)


# ---------------------------------------------------------------- the registry

SEARCH = "/v3/kyb/search/"
TESCO = {"country_code": "GB", "name": "Tesco"}


def _handle(client: httpx.Client, name: str = "Tesco") -> str:
    found = client.post(SEARCH, json={"country_code": "GB", "name": name})
    assert found.status_code == 200, found.text
    return found.json()["kyb_registry"]["companies"][0]["kyb_response_id"]


case("POST", SEARCH, "200")(lambda c: c.client.post(SEARCH, json=TESCO))
case("POST", SEARCH, "400")(lambda c: c.client.post(SEARCH, json={"country_code": "GB"}))
case("POST", SEARCH, "403")(lambda c: c.anon.post(SEARCH, json=TESCO))


@case("POST", SEARCH, "429")
def _search_429(c: Ctx) -> httpx.Response:
    c.exhaust("generic-write")
    return c.client.post(SEARCH, json=TESCO)


@case("POST", SEARCH, "502")
def _search_502(c: Ctx) -> httpx.Response:
    armed = c.client.post("/_mock/standalone/kyb/outcomes", json={"scenario": "registry_unavailable"})
    assert armed.status_code == 201, armed.text
    return c.client.post(SEARCH, json=TESCO)


def _register(tier: str) -> None:
    path = f"/v3/kyb/{tier}/"
    case("POST", path, "200")(lambda c: c.client.post(path, json={"kyb_response_id": _handle(c.client, "Acme")}))
    case("POST", path, "400")(lambda c: c.client.post(path, json={"kyb_response_id": _handle(c.client),
                                                                  "save_api_request": False}))
    case("POST", path, "403")(lambda c: c.anon.post(path, json={"kyb_response_id": "69aeeb95febb0f1704042259"}))

    @case("POST", path, "429")
    def _throttled(c: Ctx) -> httpx.Response:
        handle = _handle(c.client)
        c.exhaust("generic-write")
        return c.client.post(path, json={"kyb_response_id": handle})

    if tier != "select":  # the ownership report of a slow registry is still being prepared
        case("POST", path, "202")(lambda c: c.client.post(path, json={"kyb_response_id": _handle(c.client,
                                                                                                  "Pending Co")}))


for _tier in ("select", "shareholders", "ubo"):
    _register(_tier)


# ---------------------------------------------------------------- corrections of a business session

COMPANY = "/v3/session/{sessionId}/kyb/{companyUuid}/update-data/"
PARTY = "/v3/session/{sessionId}/kyb/parties/{partyUuid}/"
UNKNOWN = "5f1f8c9e-0000-4000-8000-00000000c0de"


def _business(c: Ctx) -> dict:
    body = c.client.post("/v3/kyb/select/", json={"kyb_response_id": _handle(c.client, "Acme")})
    assert body.status_code == 200, body.text
    return body.json()


def _company(c: Ctx, client: httpx.Client | None = None, body: dict | None = None,
             company: str | None = None) -> httpx.Response:
    made = _business(c)
    path = f"/v3/session/{made['request_id']}/kyb/{company or made['kyb_registry']['uuid']}/update-data/"
    return (client or c.client).patch(path, json={"website": "https://acme.example/"} if body is None else body)


def _party(c: Ctx, client: httpx.Client | None = None, body: dict | None = None,
           party: str | None = None) -> httpx.Response:
    made = _business(c)
    path = f"/v3/session/{made['request_id']}/kyb/parties/{party or made['kyb_registry']['officers'][0]['uuid']}/"
    return (client or c.client).patch(path, json={"is_skipped": True} if body is None else body)


case("PATCH", COMPANY, "200")(lambda c: _company(c))
case("PATCH", COMPANY, "400")(lambda c: _company(c, body={"registered_capital_currency": "E1R"}))
case("PATCH", COMPANY, "403")(lambda c: _company(c, c.anon))
case("PATCH", COMPANY, "404")(lambda c: _company(c, company=UNKNOWN))
case("PATCH", PARTY, "200")(lambda c: _party(c))
case("PATCH", PARTY, "400")(lambda c: _party(c, body={}))
case("PATCH", PARTY, "403")(lambda c: _party(c, c.anon))
case("PATCH", PARTY, "404")(lambda c: _party(c, party=UNKNOWN))


@case("PATCH", COMPANY, "429")
def _company_429(c: Ctx) -> httpx.Response:
    made = _business(c)
    c.exhaust("generic-write")
    return c.client.patch(f"/v3/session/{made['request_id']}/kyb/{made['kyb_registry']['uuid']}/update-data/",
                          json={})


@case("PATCH", PARTY, "429")
def _party_429(c: Ctx) -> httpx.Response:
    made = _business(c)
    c.exhaust("generic-write")
    return c.client.patch(f"/v3/session/{made['request_id']}/kyb/parties/{made['kyb_registry']['officers'][0]['uuid']}/",
                          json={"is_skipped": True})
