"""Contract cases of billing (`/v3/billing/`)."""

from __future__ import annotations

import httpx

from tests.contract.test_contract import Ctx, case

BALANCE = "/v3/billing/balance/"
TOP_UP = "/v3/billing/top-up/"

case("GET", BALANCE, "200")(lambda c: c.client.get(BALANCE))
case("GET", BALANCE, "403")(lambda c: c.anon.get(BALANCE))
case("POST", TOP_UP, "200")(lambda c: c.client.post(TOP_UP, json={"amount_in_dollars": 50}))
case("POST", TOP_UP, "400")(lambda c: c.client.post(TOP_UP, json={"amount_in_dollars": 10}))
case("POST", TOP_UP, "403")(lambda c: c.anon.post(TOP_UP, json={"amount_in_dollars": 50}))


@case("GET", BALANCE, "429")
def _balance_429(c: Ctx) -> httpx.Response:
    c.exhaust("generic-get")
    return c.client.get(BALANCE)


@case("POST", TOP_UP, "429")
def _top_up_429(c: Ctx) -> httpx.Response:
    c.exhaust("generic-write")
    return c.client.post(TOP_UP, json={"amount_in_dollars": 50})
