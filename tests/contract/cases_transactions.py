"""Contract cases of transaction monitoring and wallet screening (every documented status)."""

from __future__ import annotations

import httpx

from tests.contract.test_contract import UNKNOWN, WAIVED, Ctx, case

T = "/v3/transactions/"
T_ONE = "/v3/transactions/{transaction_id}/"
V1 = "/v1/transactions/"
V1_ONE = "/v1/transactions/{transaction_id}/"
TOKEN = "/v3/transactions/sdk-token/"
WALLET = "/v3/wallet-screening/"
WALLET_PDF = "/v3/wallet-screening/pdf/"
BACKTEST = "/v3/transactions/rules/backtest/"
EXAMPLE_WALLET = {"wallet_address": "0x28c6c06298d514db089934071355e5743bf21d60", "blockchain": "ETH"}

WAIVED.update({
    ("POST", WALLET, "409"): "every mock application has a screening provider configured",
    ("POST", WALLET, "502"): "no screening provider that can fail (scenario faults can inject a 502)",
})


def _body(c: Ctx, txn_id: str | None = None) -> dict:
    return {"transaction_id": txn_id or f"contract-{id(c)}-{c.client.get('/v3/transactions/').json()['count']}",
            "transaction_category": "finance",
            "transaction_details": {"direction": "outbound", "amount": "10.00", "currency": "EUR"},
            "subject": {"entity_type": "person", "vendor_data": "contract-user", "full_name": "John Test Smith"}}


def _created(c: Ctx) -> dict:
    response = c.client.post(T, json=_body(c))
    assert response.status_code == 201, response.text
    return response.json()


def _token(c: Ctx, vendor_data: str = "contract-user") -> dict[str, str]:
    response = c.client.post(TOKEN, json={"vendor_data": vendor_data})
    assert response.status_code == 201, response.text
    return {"X-Transaction-Token": response.json()["sdk_token"]}


def _device(txn_id: str) -> dict:
    return {"txnId": txn_id, "type": "finance", "info": {"direction": "out", "amount": 1, "currency": "EUR"},
            "subject": {"fullName": "Device User"}}


case("POST", T, "201")(lambda c: c.client.post(T, json=_body(c)))
case("POST", T, "400")(lambda c: c.client.post(T, json={**_body(c), "transaction_category": "lottery"}))
case("POST", T, "403")(lambda c: c.anon.post(T, json=_body(c, "x")))


@case("POST", T, "429")
def _create_429(c: Ctx) -> httpx.Response:
    c.exhaust("ingest-write")
    return c.client.post(T, json=_body(c, "limited"))


case("GET", T, "200")(lambda c: (_created(c), c.client.get(T))[1])
case("GET", T, "403")(lambda c: c.refused.get(T))


@case("GET", T, "429")
def _list_429(c: Ctx) -> httpx.Response:
    c.exhaust("generic-get")
    return c.client.get(T)


case("GET", T_ONE, "200")(lambda c: c.client.get(f"{T}{_created(c)['uuid']}/"))
case("GET", T_ONE, "403")(lambda c: c.anon.get(f"{T}{UNKNOWN}/"))
case("GET", T_ONE, "404")(lambda c: c.client.get(f"{T}{UNKNOWN}/"))


@case("GET", T_ONE, "429")
def _get_429(c: Ctx) -> httpx.Response:
    c.exhaust("generic-get")
    return c.client.get(f"{T}{UNKNOWN}/")


case("POST", TOKEN, "201")(lambda c: c.client.post(TOKEN, json={"vendor_data": "u", "ttl_seconds": 300, "max_uses": 1}))
case("POST", TOKEN, "400")(lambda c: c.client.post(TOKEN, json={}))
case("POST", TOKEN, "403")(lambda c: c.anon.post(TOKEN, json={"vendor_data": "u"}))
case("POST", V1, "201")(lambda c: c.anon.post(V1, headers=_token(c), json=_device("device-1")))
case("POST", V1, "400")(lambda c: c.anon.post(V1, headers=_token(c), json={**_device("d"), "info": {"amount": 1}}))
case("POST", V1, "401")(lambda c: c.anon.post(V1, headers={"X-Transaction-Token": "unknown"}, json=_device("d")))


@case("GET", V1_ONE, "200")
def _device_get(c: Ctx) -> httpx.Response:
    token = _token(c)
    created = c.anon.post(V1, headers=token, json=_device("device-get")).json()
    return c.anon.get(f"{V1}{created['uuid']}/", headers=token)


case("GET", V1_ONE, "401")(lambda c: c.anon.get(f"{V1}{UNKNOWN}/"))
case("GET", V1_ONE, "404")(lambda c: c.anon.get(f"{V1}{UNKNOWN}/", headers=_token(c)))
case("POST", WALLET, "200")(lambda c: c.client.post(WALLET, json=EXAMPLE_WALLET))
case("POST", WALLET, "400")(lambda c: c.client.post(WALLET, json={"wallet_address": "0x12", "blockchain": "ETH"}))
case("POST", WALLET, "401")(lambda c: c.anon.post(WALLET, json=EXAMPLE_WALLET))
case("POST", WALLET_PDF, "200")(lambda c: c.client.post(WALLET_PDF, json=c.client.post(WALLET, json=EXAMPLE_WALLET)
                                                        .json()))
case("POST", WALLET_PDF, "400")(lambda c: c.client.post(WALLET_PDF, json={**EXAMPLE_WALLET, "report_signature": "x"}))
case("POST", WALLET_PDF, "401")(lambda c: c.anon.post(WALLET_PDF, json=EXAMPLE_WALLET))
case("POST", BACKTEST, "200")(lambda c: (_created(c), c.client.post(BACKTEST, json={
    "conditions": [{"field": "amount", "operator": "gte", "value": 5}], "period_days": 30}))[1])

LIBRARY = "/v3/transactions/rules/library/"
INSTALL = "/v3/transactions/rules/install/"
case("GET", LIBRARY, "200")(lambda c: c.client.get(LIBRARY, params={"bundle": "finance"}))
case("POST", INSTALL, "200")(lambda c: c.client.post(INSTALL, json={"bundle": "aml_ctf"}))
case("POST", INSTALL, "400")(lambda c: c.client.post(INSTALL, json={}))
case("DELETE", INSTALL, "200")(lambda c: (c.client.post(INSTALL, json={"library_keys": ["velocity-24h"]}),
                                          c.client.request("DELETE", INSTALL, json={"bundle": "finance"}))[1])
case("DELETE", INSTALL, "400")(lambda c: c.client.request("DELETE", INSTALL, json={"library_keys": []}))

RULES = "/v3/transactions/rules/"
RULE = "/v3/transactions/rules/{rule_uuid}/"


def _rule(c: Ctx, title: str = "contract rule") -> dict:
    response = c.client.post(RULES, json={"title": title, "category": "finance", "mode": "TEST"})
    assert response.status_code == 201, response.text
    return response.json()


def _preset(c: Ctx) -> dict:
    c.client.post(INSTALL, json={"library_keys": ["large-transaction"]})
    return c.client.get(RULES, params={"source": "PRESET"}).json()["results"][0]


case("POST", RULES, "201")(lambda c: c.client.post(RULES, json={"title": "t", "category": "finance", "mode": "TEST"}))
case("POST", RULES, "400")(lambda c: c.client.post(RULES, json={"title": "t"}))
case("PATCH", RULE, "200")(lambda c: c.client.patch(f"{RULES}{_rule(c)['uuid']}/", json={"mode": "ACTIVE"}))
case("PATCH", RULE, "400")(lambda c: c.client.patch(f"{RULES}{_preset(c)['uuid']}/", json={"title": "x"}))
case("DELETE", RULE, "204")(lambda c: c.client.delete(f"{RULES}{_rule(c)['uuid']}/"))
case("DELETE", RULE, "400")(lambda c: c.client.delete(f"{RULES}{_preset(c)['uuid']}/"))
case("DELETE", RULE, "404")(lambda c: c.client.delete(f"{RULES}{UNKNOWN}/"))

SETTINGS = "/v3/travel-rule/settings/"
ADDRESSES = "/v3/travel-rule/wallet-addresses/"
ADDRESS = "/v3/travel-rule/wallet-addresses/{entry_uuid}/"
VASPS = "/v3/travel-rule/vasps/"
CONTACT = {"compliance_email": "compliance@example.com"}  # a new row's "" is not an email to the schema


def _entry(c: Ctx) -> dict:
    response = c.client.post(ADDRESSES, json={"address": f"0xContract{id(c)}", "chain": "ethereum"})
    assert response.status_code == 201, response.text
    return response.json()


case("GET", SETTINGS, "200")(lambda c: (c.client.put(SETTINGS, json=CONTACT), c.client.get(SETTINGS))[1])
case("PUT", SETTINGS, "200")(lambda c: c.client.put(SETTINGS, json={**CONTACT, "legal_name": "Contract VASP"}))
case("PUT", SETTINGS, "400")(lambda c: c.client.put(SETTINGS, json={"is_enabled": True}))
case("GET", ADDRESSES, "200")(lambda c: (_entry(c), c.client.get(ADDRESSES))[1])
case("POST", ADDRESSES, "201")(lambda c: c.client.post(ADDRESSES, json={"address": "0xNew", "chain": "ethereum"}))
case("POST", ADDRESSES, "400")(lambda c: (_entry(c), c.client.post(ADDRESSES, json={
    "address": f"0xContract{id(c)}", "chain": "ethereum"}))[1])
case("PATCH", ADDRESS, "200")(lambda c: c.client.patch(f"{ADDRESSES}{_entry(c)['uuid']}/", json={"holder_name": "A"}))
case("DELETE", ADDRESS, "204")(lambda c: c.client.delete(f"{ADDRESSES}{_entry(c)['uuid']}/"))
case("GET", VASPS, "200")(lambda c: c.client.get(VASPS, params={"search": "test", "limit": 5}))

TRANSFER = "/v3/transactions/{transaction_id}/travel-rule/"


def _transfer(c: Ctx) -> str:
    c.client.put(SETTINGS, json={"is_enabled": True, "legal_name": "Contract VASP", **CONTACT})
    body = {**_body(c), "transaction_category": "travelRule",
            "counterparty": {"full_name": "B", "institution_details": {"name": "Aurora Digital Assets GmbH"}}}
    created = c.client.post(T, json=body)
    assert created.status_code == 201, created.text
    return f"{T}{created.json()['uuid']}/travel-rule/"


case("PATCH", TRANSFER, "200")(lambda c: c.client.patch(_transfer(c), json={"action": "cancel"}))
case("PATCH", TRANSFER, "400")(lambda c: c.client.patch(_transfer(c), json={}))
case("PATCH", TRANSFER, "409")(lambda c: c.client.patch(_transfer(c), json={"payment_txn_id": "0xhash"}))

INBOUND = "/v3/travel-rule/inbound/"
OWNERSHIP = "/v3/transactions/{transaction_id}/travel-rule/ownership/"


def _deposit(c: Ctx, wallet: str = "0xContractDeposit") -> dict:
    c.client.post(ADDRESSES, json={"address": wallet, "chain": "ethereum"})
    return {"chain": "ethereum", "txid": f"0x{id(c)}", "wallet_address": wallet, "amount": "5", "currency": "ETH"}


case("POST", INBOUND, "201")(lambda c: c.client.post(INBOUND, json=_deposit(c)))
case("POST", INBOUND, "200")(lambda c: (c.client.post(INBOUND, json=_deposit(c)),
                                        c.client.post(INBOUND, json=_deposit(c)))[1])


def _owned(c: Ctx) -> str:
    created = c.client.post(INBOUND, json=_deposit(c)).json()
    return f"{T}{created['transaction_id']}/travel-rule/ownership/"


case("POST", OWNERSHIP, "200")(lambda c: c.client.post(_owned(c), json={"confirmed": True}))


@case("POST", OWNERSHIP, "409")
def _ownership_409(c: Ctx) -> httpx.Response:
    path = _owned(c)
    c.client.post(path, json={"confirmed": True})
    return c.client.post(path, json={"confirmed": True})

WIDGET_SESSION = "/v3/travel-rule/widget-session/"
WIDGET = "/v3/travel-rule/widget/{token}/"


def _widget(c: Ctx, minutes: int = 60) -> str:
    minted = c.client.post(WIDGET_SESSION, json={"wallet_address": "0xW", "chain": "ethereum",
                                                 "expires_in_minutes": minutes})
    assert minted.status_code == 201, minted.text
    return f"/v3/travel-rule/widget/{minted.json()['token']}/"


case("POST", WIDGET_SESSION, "201")(lambda c: c.client.post(WIDGET_SESSION, json={"wallet_address": "0xW",
                                                                                  "chain": "ethereum"}))
case("GET", WIDGET, "200")(lambda c: c.anon.get(_widget(c)))
case("GET", WIDGET, "404")(lambda c: c.anon.get("/v3/travel-rule/widget/no-such-token/"))


@case("GET", WIDGET, "410")
def _widget_410(c: Ctx) -> httpx.Response:
    path = _widget(c, minutes=1)
    c.client.post("/_mock/clock/advance", json={"seconds": 61})
    return c.anon.get(path)

PICKUP = "/v3/travel-rule/pickup/{token}/"
RESPOND = "/v3/travel-rule/pickup/{token}/respond/"


def _pickup(c: Ctx) -> str:
    c.client.put(SETTINGS, json={"is_enabled": True, "legal_name": "Contract VASP", **CONTACT})
    body = {**_body(c), "transaction_category": "travelRule",
            "counterparty": {"full_name": "B", "institution_details": {"name": "Test Custody Services SA"}}}
    created = c.client.post(T, json=body).json()
    return c.client.get(f"/_mock/travel-rule/{created['travel_rule']['uuid']}/pickup").json()["pickup_token"]


case("GET", PICKUP, "200")(lambda c: c.anon.get(f"/v3/travel-rule/pickup/{_pickup(c)}/"))
case("GET", PICKUP, "404")(lambda c: c.anon.get("/v3/travel-rule/pickup/no-such-token/"))


@case("GET", PICKUP, "410")
def _pickup_410(c: Ctx) -> httpx.Response:
    token = _pickup(c)
    c.anon.post(f"/v3/travel-rule/pickup/{token}/respond/", json={"decision": "decline"})
    return c.anon.get(f"/v3/travel-rule/pickup/{token}/")


case("POST", RESPOND, "200")(lambda c: c.anon.post(f"/v3/travel-rule/pickup/{_pickup(c)}/respond/",
                                                   json={"decision": "accept", "beneficiary_name": "B"}))
case("POST", RESPOND, "404")(lambda c: c.anon.post("/v3/travel-rule/pickup/no-such-token/respond/",
                                                   json={"decision": "accept"}))


@case("POST", RESPOND, "410")
def _respond_410(c: Ctx) -> httpx.Response:
    token = _pickup(c)
    c.anon.post(f"/v3/travel-rule/pickup/{token}/respond/", json={"decision": "decline"})
    return c.anon.post(f"/v3/travel-rule/pickup/{token}/respond/", json={"decision": "accept"})
