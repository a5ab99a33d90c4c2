"""Billing: the balance, debits per session, the credits error, top-ups through the mock's checkout."""

from __future__ import annotations

from pathlib import Path

import httpx

from didit_mock.server import MockServer
from tests.conftest import KYC_WORKFLOW, new_key

NO_CREDITS = "You don't have enough credits to perform this request. Please top up at https://business.didit.me"


def live_tenant(server: MockServer, anon: httpx.Client, **options: object) -> httpx.Client:
    made = anon.post("/_mock/tenants", json={"environment": "live", **options})
    assert made.status_code == 201, made.text
    return httpx.Client(base_url=server.url, headers={"x-api-key": made.json()["api_key"]}, timeout=10)


def test_the_balance_is_unlimited_by_default(client: httpx.Client) -> None:
    assert client.get("/v3/billing/balance/").json() == {
        "balance": "1000000.0000", "auto_refill_enabled": False, "auto_refill_amount": None,
        "auto_refill_threshold": None}
    assert client.get("/_mock/billing").json()["unlimited"] is True


def test_sessions_are_debited_until_the_credits_run_out(server: MockServer, anon: httpx.Client) -> None:
    with live_tenant(server, anon, credits=2.5) as http:
        assert http.get("/v3/billing/balance/").json()["balance"] == "2.5000"
        http.put("/_mock/billing", json={"session_price": 1.25, "auto_refill_enabled": True,
                                         "auto_refill_amount": 500, "auto_refill_threshold": 100})
        for balance in ("1.2500", "0.0000"):
            assert http.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW}).status_code == 201
            assert http.get("/v3/billing/balance/").json()["balance"] == balance
        refused = http.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW})
        assert refused.status_code == 400 and refused.json() == {"detail": NO_CREDITS}
        assert http.get("/v3/sessions/").json()["count"] == 2
        view = http.get("/v3/billing/balance/").json()
        assert view == {"balance": "0.0000", "auto_refill_enabled": True, "auto_refill_amount": "500.00",
                        "auto_refill_threshold": "100.00"}
        http.put("/_mock/billing", json={"balance": None})
        assert http.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW}).status_code == 201


def test_sandbox_sessions_are_not_billed(client: httpx.Client) -> None:
    client.put("/_mock/billing", json={"balance": 0})
    assert client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW}).status_code == 201
    assert client.get("/v3/billing/balance/").json()["balance"] == "0.0000"


def test_top_up_validation(client: httpx.Client) -> None:
    def top_up(body: object) -> httpx.Response:
        return client.post("/v3/billing/top-up/", json=body)

    assert top_up({}).json() == ["amount_in_dollars is required."]
    assert top_up({"amount_in_dollars": "lots"}).json() == ["amount_in_dollars must be a number."]
    assert top_up({"amount_in_dollars": True}).json() == ["amount_in_dollars must be a number."]
    small = top_up({"amount_in_dollars": 49.99})
    assert small.status_code == 400 and small.json() == ["Amount must be at least $50."]
    assert top_up({"amount_in_dollars": 5e307}).json() == ["Amount must be at most $999,999.99."]
    assert top_up({"amount_in_dollars": 50, "success_url": "nope"}).status_code == 400
    client.put("/_mock/billing", json={"annual_plan": True})
    assert top_up({"amount_in_dollars": 50}).json() == [
        "You have an annual plan. Contact your account manager to top up."]


def test_a_settled_top_up_adds_its_amount(server: MockServer, anon: httpx.Client, client: httpx.Client) -> None:
    client.put("/_mock/billing", json={"balance": 10})
    made = client.post("/v3/billing/top-up/", json={
        "amount_in_dollars": 50, "success_url": "https://app.test/ok?cs={CHECKOUT_SESSION_ID}"}).json()
    checkout_id = made["checkout_session_id"]
    assert checkout_id.startswith("cs_test_")
    assert made["checkout_session_url"] == f"{server.url}/_mock/billing/checkout/{checkout_id}"
    page = anon.get(f"/_mock/billing/checkout/{checkout_id}")
    assert page.status_code == 200 and "$50.00" in page.text
    paid = anon.post(f"/_mock/billing/checkout/{checkout_id}/settle", json={}, headers={"Origin": server.url})
    assert paid.status_code == 200 and paid.json()["redirect_url"] == f"https://app.test/ok?cs={checkout_id}"
    assert paid.json()["status"] == "paid" and paid.json()["balance"] == "60.0000"
    assert client.get("/v3/billing/balance/").json()["balance"] == "60.0000"
    assert anon.post(f"/_mock/billing/checkout/{checkout_id}/settle").status_code == 409
    other = client.post("/v3/billing/top-up/", json={"amount_in_dollars": 75}).json()["checkout_session_id"]
    cancelled = anon.post(f"/_mock/billing/checkout/{other}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.get("/v3/billing/balance/").json()["balance"] == "60.0000"
    assert anon.get("/_mock/billing/checkout/cs_test_unknown").status_code == 404


def test_billing_survives_a_state_file_restart(tmp_path: Path) -> None:
    state_file, key = tmp_path / "state.json", new_key("sk_live_")
    with MockServer(state_file=str(state_file), freeze_clock=True) as first, \
            httpx.Client(base_url=first.url, headers={"x-api-key": key}, timeout=10) as http:
        http.put("/_mock/billing", json={"balance": 80, "session_price": 2, "auto_refill_enabled": True,
                                         "auto_refill_amount": 500, "auto_refill_threshold": 100})
        http.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW})
        made = http.post("/v3/billing/top-up/", json={"amount_in_dollars": 50}).json()
        before = http.get("/v3/billing/balance/").json()
        assert before["balance"] == "78.0000"
    with MockServer(state_file=str(state_file), freeze_clock=True) as second, \
            httpx.Client(base_url=second.url, headers={"x-api-key": key}, timeout=10) as http:
        assert http.get("/v3/billing/balance/").json() == before
        assert http.post(f"/_mock/billing/checkout/{made['checkout_session_id']}/settle").status_code == 200
        assert http.get("/v3/billing/balance/").json()["balance"] == "128.0000"


def test_balances_and_checkouts_are_per_tenant(server: MockServer, client: httpx.Client) -> None:
    client.put("/_mock/billing", json={"balance": 70})
    checkout_id = client.post("/v3/billing/top-up/", json={"amount_in_dollars": 50}).json()["checkout_session_id"]
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}, timeout=10) as other:
        assert other.get("/v3/billing/balance/").json()["balance"] == "1000000.0000"
        assert other.get("/_mock/billing").json()["checkouts"] == []
    assert client.post(f"/_mock/billing/checkout/{checkout_id}/settle").json()["balance"] == "120.0000"
