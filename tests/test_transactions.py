"""Transaction monitoring over HTTP: create/list/get, rules, aggregations, screening, tokens, webhooks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from didit_mock.server import MockServer
from didit_mock.testing import DiditMock
from tests.conftest import KYC_WORKFLOW, advance, new_key
from tests.scenario_helpers import put_scenario, receiver, wait_webhook

HIGH_RISK_WALLET = "0x000000000000000000000000000000000000bad1"
SANCTIONED_WALLET = "0x00000000000000000000000000000000dead0001"
CLEAN_WALLET = "0x1111111111111111111111111111111111111111"


def transaction(txn_id: str, amount: Any = "10.00", vendor_data: str = "user-1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "transaction_id": txn_id, "transaction_category": "finance",
        "transaction_details": {"direction": "outbound", "amount": amount, "currency": "EUR"},
        "subject": {"entity_type": "person", "vendor_data": vendor_data, "full_name": "John Test Smith"},
    }
    body.update(extra)
    return body


def create(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v3/transactions/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def add_rule(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"title": "rule", "category": "finance", "mode": "ACTIVE", **fields}
    response = client.post("/v3/transactions/rules/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def console(client: httpx.Client) -> str:
    tenant = client.get("/_mock/tenant").json()
    return f"/v3/organization/{tenant['organization_id']}/application/{tenant['application_id']}"


# ---------------------------------------------------------------- create, get, list

def test_a_transaction_is_created_approved_with_the_spec_detail(client: httpx.Client) -> None:
    body = transaction("skill-test-1", counterparty={"entity_type": "company", "full_name": "Skill Test Counterparty"},
                       custom_properties={"merchant_id": "m-1"})
    body["transaction_details"].update({"amount": "1500.50", "action_type": "withdrawal",
                                        "payment_details": "Withdrawal"})
    created = create(client, body)
    assert created["status"] == "APPROVED" and created["score"] == 0 and created["severity"] is None
    assert created["transaction_number"] == 1 and created["txn_id"] == "skill-test-1"
    assert created["amount"] == "1500.5" and created["currency"] == "EUR" and created["direction"] == "OUTBOUND"
    assert created["action_type"] == "withdrawal" and created["transaction_type"] == "finance"
    assert created["environment"] == "sandbox" and created["source"] == "LIVE"
    assert created["metadata"]["subject"]["entity_type"] == "individual"
    assert created["metadata"]["subject"]["address"] == {} and created["props"] == {"merchant_id": "m-1"}
    roles = [(p["role"], p["kind"]) for p in created["parties"]]
    assert roles == [("APPLICANT", "USER"), ("COUNTERPARTY", "EXTERNAL")]
    assert created["activities"][0]["activity_type"] == "TRANSACTION_CREATED"
    assert created["action_required"] is None and created["rule_runs"] == []
    assert client.get(f"/v3/transactions/{created['uuid']}/").json() == created
    second = create(client, transaction("skill-test-2", amount=0.5))
    assert second["transaction_number"] == 2 and second["amount"] == "0.5"


def test_aliases_are_read_as_didit_reads_them(client: httpx.Client) -> None:
    body = transaction("alias-1", transaction_category="gamblingBet")
    body["transaction_details"]["direction"] = "IN"
    body["subject"]["device"] = {"userAgent": "UA", "networkContext": {"ip": "192.0.2.1"}}
    created = create(client, body)
    assert created["transaction_type"] == "gamblingBet" and created["direction"] == "INBOUND"
    assert created["parties"][0]["device"] == {"user_agent": "UA", "network_context": {"ip_address": "192.0.2.1"}}
    assert create(client, transaction("alias-2", transaction_category="user_event"))["transaction_type"] == \
        "userPlatformEvent"


@pytest.mark.parametrize(("body", "expected"), [
    (transaction("dup"), {"transaction_id": ["A transaction with this transaction_id already exists."]}),
    (transaction("x", transaction_category="lottery"), {"non_field_errors": ["Unsupported transaction category."]}),
    ({**transaction("x"), "subject": {"vendor_data": "u"}},
     {"subject": ["subject.vendor_data and subject.full_name are required."]}),
    ({**transaction("x"), "transaction_details": {"direction": "outbound", "currency": "EUR"}},
     {"transaction_details": {"amount": ["This field is required."]}}),
])
def test_bad_requests_are_refused_in_didits_words(client: httpx.Client, body: dict, expected: dict) -> None:
    create(client, transaction("dup"))
    response = client.post("/v3/transactions/", json=body)
    assert response.status_code == 400 and response.json() == expected
    assert client.get("/v3/transactions/").json()["total_transactions"] == 1


def test_unknown_transactions_are_404_and_other_tenants_see_nothing(client: httpx.Client, server: MockServer) -> None:
    created = create(client, transaction("mine"))
    assert client.get("/v3/transactions/00000000-0000-4000-8000-000000000000/").json() == {"detail": "Not found."}
    assert client.get("/v3/transactions/mine/").status_code == 404
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}) as other:
        assert other.get(f"/v3/transactions/{created['uuid']}/").status_code == 404
        assert other.get("/v3/transactions/").json()["total_transactions"] == 0


def test_the_list_is_newest_first_in_pages(client: httpx.Client) -> None:
    for number in range(3):
        create(client, transaction(f"t{number}"))
        advance(client, 60)
    page = client.get("/v3/transactions/", params={"limit": 2}).json()
    assert [r["txn_id"] for r in page["results"]] == ["t2", "t1"]
    assert page["count"] == 3 and page["total_transactions"] == 3 and page["previous"] is None
    assert page["next"].endswith("/v3/transactions/?limit=2&offset=2")
    last = client.get(page["next"]).json()
    assert [r["txn_id"] for r in last["results"]] == ["t0"] and last["next"] is None
    assert last["results"][0]["subject_vendor_data"] == "user-1"


def test_transaction_id_reuse_can_return_the_existing_one(client: httpx.Client) -> None:
    first = create(client, transaction("again"))
    put_scenario(client, "version: 1\ntenant:\n  transaction_id_reuse: return_existing\n")
    assert create(client, transaction("again", amount="99")) == first


# ---------------------------------------------------------------- rules

def test_a_rule_fires_on_a_threshold_with_its_actions(client: httpx.Client) -> None:
    rule = add_rule(client, title="Large withdrawal", description="Over 1000",
                    conditions=[{"field": "amount", "operator": "gte", "value": 1000},
                                {"field": "custom_values.channel", "operator": "eq", "value": "web"}],
                    actions=[{"type": "add_score", "value": 60}, {"type": "add_tags", "tag_name": "large"},
                             {"type": "add_note", "note": "Check the source of funds"}, {"type": "open_case"}])
    small = create(client, transaction("small", amount=999, custom_properties={"channel": "web"}))
    assert small["status"] == "APPROVED" and small["rule_runs"] == []
    big = create(client, transaction("big", amount=1000, custom_properties={"channel": "web"}))
    assert big["status"] == "IN_REVIEW" and big["score"] == 60 and big["severity"] == "MEDIUM"
    assert big["decision_reason_code"] == "RULE_MATCHED"
    assert [t["name"] for t in big["tags"]] == ["LARGE"]
    run = big["rule_runs"][0]
    assert run["rule"] == rule["uuid"] and run["score_delta"] == 60 and run["is_test"] is False
    assert run["action_summary"] == "score +60; add_tags:LARGE; add_note; open_case"
    assert big["alerts"][0]["title"] == "Large withdrawal" and big["alerts"][0]["source"] == "RULE"
    assert any(a["activity_type"] == "TRANSACTION_NOTE_ADDED" for a in big["activities"])
    stored = client.get(f"/v3/transactions/rules/{rule['uuid']}/").json()
    assert stored["run_count"] == 1 and stored["reviewed_count"] == 1 and stored["reviewed_pct"] == 100.0
    assert stored["latest_triggered_at"] is not None
    cases = client.get(f"{console(client)}/cases/").json()["results"]
    assert [(c["source"], c["status"]) for c in cases] == [("TRANSACTION_RULE", "OPEN")]
    create(client, transaction("big-2", amount=5000, custom_properties={"channel": "web"}))
    assert len(client.get(f"{console(client)}/cases/").json()["results"]) == 1  # grouped by applicant


def test_declined_wins_and_disabled_and_test_rules_apply_nothing(client: httpx.Client) -> None:
    add_rule(client, title="review", conditions=[{"field": "currency", "operator": "eq", "value": "EUR"}],
             actions=[{"type": "change_status", "value": "IN_REVIEW"}])
    add_rule(client, title="decline", conditions=[{"field": "subject.vendor_data", "operator": "in",
                                                   "value": ["bad-user"]}],
             actions=[{"type": "change_status", "value": "DECLINED"}])
    add_rule(client, title="off", mode="DISABLED", conditions=[{"field": "amount", "operator": "gt", "value": 0}],
             actions=[{"type": "add_score", "value": 90}])
    add_rule(client, title="trial", mode="TEST", conditions=[{"field": "amount", "operator": "gt", "value": 0}],
             actions=[{"type": "add_score", "value": 90}])
    declined = create(client, transaction("t-bad", vendor_data="bad-user"))
    assert declined["status"] == "DECLINED" and declined["decision_reason_label"] == "decline"
    assert declined["score"] == 0
    reviewed = create(client, transaction("t-ok"))
    assert reviewed["status"] == "IN_REVIEW"
    assert sorted((r["rule_title"], r["is_test"]) for r in reviewed["rule_runs"]) == [
        ("review", False), ("trial", True)]


def test_an_aggregation_fires_across_transactions_as_the_clock_moves(client: httpx.Client) -> None:
    add_rule(client, title="velocity", aggregation=[{
        "metric": "sum", "field": "amount", "operator": "gte", "value": 3000, "window": "1h",
        "filters": {"subject_vendor_data": "__current__", "direction": "OUTBOUND"}}],
        actions=[{"type": "change_status", "value": "DECLINED"}])
    assert create(client, transaction("a1", amount=1000))["status"] == "APPROVED"
    assert create(client, transaction("b1", amount=5000, vendor_data="someone-else"))["status"] == "DECLINED"
    advance(client, 1800)
    assert create(client, transaction("a2", amount=1000))["status"] == "APPROVED"
    assert create(client, transaction("a3", amount=1000))["status"] == "DECLINED"  # 3000 within the hour
    advance(client, 3601)  # a1..a3 leave the window
    assert create(client, transaction("a4", amount=1000))["status"] == "APPROVED"


def test_count_aggregations_and_any_mode(client: httpx.Client) -> None:
    add_rule(client, title="burst", evaluation_mode="ANY",
             conditions=[{"field": "amount", "operator": "gt", "value": 1_000_000}],
             aggregation=[{"metric": "count", "operator": "gte", "value": 3, "window": "10m",
                           "filters": {"subject_vendor_data": "__current__"}}],
             actions=[{"type": "add_score", "value": 85}])
    statuses = [create(client, transaction(f"c{n}"))["status"] for n in range(3)]
    assert statuses == ["APPROVED", "APPROVED", "DECLINED"]  # score 85 is past the decline threshold


def test_backtest_runs_a_rule_over_stored_transactions(client: httpx.Client) -> None:
    for number, (amount, user) in enumerate([(50, "u1"), (500, "u1"), (700, "u2"), (20, "u3")]):
        create(client, transaction(f"bt{number}", amount=amount, vendor_data=user))
    response = client.post("/v3/transactions/rules/backtest/", json={
        "conditions": [{"field": "amount", "operator": "gte", "value": 100}], "period_days": 30})
    assert response.status_code == 200
    assert response.json() == {"evaluated": 4, "matched": 2, "affected_entities": 2, "period_days": 30}
    advance(client, 31 * 86400)
    assert client.post("/v3/transactions/rules/backtest/", json={"period_days": 30}).json()["evaluated"] == 0
    assert client.get("/v3/transactions/").json()["total_transactions"] == 4  # nothing changed


# ---------------------------------------------------------------- wallet screening

def test_a_high_risk_wallet_puts_a_crypto_transaction_in_review(client: httpx.Client) -> None:
    body = transaction("crypto-1", counterparty={"full_name": "Ext", "payment_method": {
        "method_type": "crypto_wallet", "account_id": HIGH_RISK_WALLET}})
    body["transaction_details"].update({"currency": "ETH", "currency_kind": "crypto", "amount": "0.5"})
    flagged = create(client, body)
    assert flagged["status"] == "IN_REVIEW" and flagged["score"] == 78 and flagged["severity"] == "HIGH"
    assert flagged["decision_reason_code"] == "WALLET_HIGH_RISK"
    assert flagged["decision_reason_label"] == "Destination wallet flagged as high risk"
    result = flagged["provider_results"][0]
    assert result["result_type"] == "WALLET_SCREENING" and result["payload"]["dominant_risk_category"] == "mixer"
    body = {**body, "transaction_id": "crypto-2", "include_crypto_screening": False}
    assert create(client, body)["status"] == "APPROVED"
    body["counterparty"]["payment_method"]["account_id"] = CLEAN_WALLET
    body.update(transaction_id="crypto-3", include_crypto_screening=True)
    clean = create(client, body)
    assert clean["status"] == "APPROVED" and clean["provider_results"][0]["score"] == 0


def test_wallet_screening_answers_a_profile_per_address(client: httpx.Client) -> None:
    example = client.post("/v3/wallet-screening/", json={
        "wallet_address": "0x28c6c06298d514db089934071355e5743bf21d60", "blockchain": "ETH"})
    assert example.status_code == 200
    body = example.json()
    assert (body["risk_score"], body["severity"], body["sanctions_hit"], body["dominant_risk_category"]) == \
        (72, "HIGH", True, "mixer")
    sanctioned = client.post("/v3/wallet-screening/", json={"address": SANCTIONED_WALLET, "currency": "USDT"}).json()
    assert sanctioned["sanctions_hit"] is True and sanctioned["dominant_risk_category"] == "sanctioned"
    clean = client.post("/v3/wallet-screening/", json={"wallet_address": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
                                                       "blockchain": "BTC", "direction": "deposit"}).json()
    assert (clean["risk_score"], clean["severity"], clean["risk_factors"]) == (0, "UNKNOWN", [])
    again = client.post("/v3/wallet-screening/", json={
        "wallet_address": "0x28c6c06298d514db089934071355e5743bf21d60", "blockchain": "ETH"}).json()
    assert again == body  # deterministic, signature included


@pytest.mark.parametrize(("body", "field"), [
    ({"wallet_address": "0x123", "blockchain": "ETH"}, "wallet_address"),
    ({"wallet_address": CLEAN_WALLET, "blockchain": "ADA"}, "blockchain"),
    ({"wallet_address": CLEAN_WALLET, "blockchain": "LIGHTNING"}, "blockchain"),
    ({"blockchain": "ETH"}, "wallet_address"),
])
def test_wallet_screening_refuses_bad_addresses(client: httpx.Client, body: dict, field: str) -> None:
    response = client.post("/v3/wallet-screening/", json=body)
    assert response.status_code == 400 and list(response.json()) == [field]


def test_the_screening_pdf_needs_the_signed_result(client: httpx.Client, anon: httpx.Client) -> None:
    result = client.post("/v3/wallet-screening/", json={"wallet_address": HIGH_RISK_WALLET,
                                                        "blockchain": "ETH"}).json()
    pdf = client.post("/v3/wallet-screening/pdf/", json=result)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == f"attachment; filename=wallet_screening_{HIGH_RISK_WALLET[:22]}.pdf"
    edited = client.post("/v3/wallet-screening/pdf/", json={**result, "risk_score": 0})
    assert edited.status_code == 400 and list(edited.json()) == ["report_signature"]
    assert client.post("/v3/wallet-screening/pdf/", json=[1]).status_code == 400
    assert anon.post("/v3/wallet-screening/", json=result).status_code == 401


# ---------------------------------------------------------------- the SDK token and the device routes

def device_body(txn_id: str, **info: Any) -> dict[str, Any]:
    return {"txnId": txn_id, "type": "finance",
            "info": {"direction": "out", "amount": 0.25, "currency": "ETH", **info},
            "subject": {"fullName": "Device User", "externalUserId": "ignored"}}


def test_an_sdk_token_authorizes_the_device_routes(client: httpx.Client, anon: httpx.Client) -> None:
    minted = client.post("/v3/transactions/sdk-token/", json={"vendor_data": "user-042", "ttl_seconds": 300,
                                                              "max_uses": 1})
    assert minted.status_code == 201
    token = {"X-Transaction-Token": minted.json()["sdk_token"]}
    missing = anon.post("/v1/transactions/", headers=token, json={**device_body("d0"), "info": {"amount": 1}})
    assert missing.status_code == 400 and "currency" in missing.json()["info"]
    created = anon.post("/v1/transactions/", headers=token, json=device_body("d1"))
    assert created.status_code == 201, created.text
    assert created.json()["vendor_data"] == "user-042"  # the token's identity, not the body's
    assert anon.get(f"/v1/transactions/{created.json()['uuid']}/", headers=token).status_code == 401  # used up
    again = anon.post("/v1/transactions/", headers=token, json=device_body("d2"))
    assert again.status_code == 401 and again.json() == {"detail": "Invalid transaction token."}
    assert client.get(f"/v3/transactions/{created.json()['uuid']}/").json()["txn_id"] == "d1"


def test_an_sdk_token_expires_on_the_tenant_clock(client: httpx.Client, anon: httpx.Client) -> None:
    token = {"X-Transaction-Token": client.post("/v3/transactions/sdk-token/",
                                                json={"vendorData": "user-7"}).json()["sdk_token"]}
    created = anon.post("/v1/transactions/", headers=token, json=device_body("e1")).json()
    other = create(client, transaction("not-theirs"))
    assert anon.get(f"/v1/transactions/{created['uuid']}/", headers=token).status_code == 200
    assert anon.get(f"/v1/transactions/{other['uuid']}/", headers=token).status_code == 404
    advance(client, 901)
    expired = anon.get(f"/v1/transactions/{created['uuid']}/", headers=token)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert anon.get(f"/v1/transactions/{created['uuid']}/", headers={"X-Transaction-Token": "nope"}).json() == {
        "detail": "Invalid transaction token."}


@pytest.mark.parametrize(("body", "expected"), [
    ({}, {"vendor_data": ["This field is required."]}),
    ({"vendor_data": "u", "ttl_seconds": 86401}, {"ttl_seconds": ["Ensure this value is less than or equal to 86400."]}),
])
def test_sdk_token_bad_requests(client: httpx.Client, body: dict, expected: dict) -> None:
    response = client.post("/v3/transactions/sdk-token/", json=body)
    assert response.status_code == 400 and response.json() == expected


# ---------------------------------------------------------------- webhooks, persistence

def test_live_applications_get_transaction_webhooks(server: MockServer) -> None:
    with receiver() as hooks, httpx.Client(base_url=server.url, headers={"x-api-key": new_key("sk_live_")}) as http:
        assert http.post("/_mock/webhook", json={"url": hooks.url("/kyt"), "secret": "s3cret"}).status_code < 300
        body = transaction("hooked", counterparty={"payment_method": {"method_type": "crypto_wallet",
                                                                      "account_id": HIGH_RISK_WALLET}})
        body["transaction_details"].update({"currency": "ETH"})
        created = create(http, body)
        first = wait_webhook(http, webhook_type="transaction.created")
        second = wait_webhook(http, webhook_type="transaction.status.updated")
    payload = json.loads(first["request_body"])
    assert payload["transaction_id"] == created["uuid"] and payload["txn_id"] == "hooked"
    assert payload["status"] == "IN_REVIEW" and payload["score"] == 78 and payload["webhook_type"] == \
        "transaction.created"
    assert "session_id" not in payload
    assert json.loads(second["request_body"])["previous_status"] == "APPROVED"


@pytest.fixture
def state_file(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "state.json"


def test_transactions_survive_a_state_file_restart(state_file: Path) -> None:
    key = new_key()
    with MockServer(state_file=str(state_file), freeze_clock=True) as first, \
            httpx.Client(base_url=first.url, headers={"x-api-key": key}) as http:
        add_rule(http, title="big", conditions=[{"field": "amount", "operator": "gte", "value": 100}],
                 actions=[{"type": "add_tags", "tag_name": "big"}])
        kept = create(http, transaction("kept", amount=500))
        token = http.post("/v3/transactions/sdk-token/", json={"vendor_data": "user-1"}).json()["sdk_token"]
        http.put("/v3/travel-rule/settings/", json={"legal_name": "Kept VASP", "is_enabled": True,
                                                    "timeout_outcome": "REJECT"})
        waiting = create(http, travel("waiting", institution_details={"name": "Aurora Digital Assets GmbH"}))
        entry = http.post("/v3/travel-rule/wallet-addresses/", json={"address": "0xKept", "chain": "ethereum"}).json()
    with MockServer(state_file=str(state_file), freeze_clock=True) as second, \
            httpx.Client(base_url=second.url, headers={"x-api-key": key}) as http:
        assert http.get(f"/v3/transactions/{kept['uuid']}/").json() == kept
        nxt = create(http, transaction("next", amount=500))
        assert nxt["transaction_number"] == 3 and nxt["tags"] == kept["tags"]
        assert http.post("/v3/transactions/", json=transaction("kept")).status_code == 400
        assert httpx.get(f"{second.url}/v1/transactions/{kept['uuid']}/",
                         headers={"X-Transaction-Token": token}).status_code == 200
        assert http.get("/v3/travel-rule/settings/").json()["legal_name"] == "Kept VASP"
        assert http.get("/v3/travel-rule/wallet-addresses/").json()["results"] == [entry]
        http.post("/_mock/clock/advance", json={"seconds": 48 * 3600})
        assert http.get(f"/v3/transactions/{waiting['uuid']}/").json()["status"] == "DECLINED"  # timeout kept


def test_the_same_seed_and_requests_give_the_same_bytes() -> None:
    answers = []
    for _ in range(2):
        with MockServer(freeze_clock=True, seed=99) as running, \
                httpx.Client(base_url=running.url, headers={"x-api-key": "sk_test_same"}) as http:
            http.post("/_mock/clock/set", json={"now": "2026-05-17T08:42:00Z"})
            add_rule(http, conditions=[{"field": "amount", "operator": "gt", "value": 1}],
                     actions=[{"type": "add_score", "value": 10}, {"type": "add_tags", "tag_name": "t"}])
            answers.append(http.post("/v3/transactions/", json=transaction("same", amount=5)).content)
    assert answers[0] == answers[1]


# ---------------------------------------------------------------- pending transactions

def test_an_awaiting_user_rule_opens_a_remediation_session_that_releases_it(client: httpx.Client) -> None:
    add_rule(client, title="step-up", conditions=[{"field": "amount", "operator": "gt", "value": 100}],
             actions=[{"type": "change_status", "value": "AWAITING_USER", "workflow_id": KYC_WORKFLOW}])
    held = create(client, transaction("held", amount=500))
    assert held["status"] == "AWAITING_USER"
    action = held["action_required"]
    assert action["type"] == "verification_session" and action["url"].endswith(action["session_token"])
    done = client.post(f"/_mock/sessions/{action['session_id']}/complete", json={"status": "Approved"})
    assert done.status_code == 200, done.text
    released = client.get(f"/v3/transactions/{held['uuid']}/").json()
    assert released["status"] == "APPROVED" and released["action_required"] is None
    assert released["activities"][-1]["activity_type"] == "TRANSACTION_STATUS_CHANGED"


def test_the_admin_api_resolves_a_pending_transaction(client: httpx.Client) -> None:
    add_rule(client, title="review all", conditions=[{"field": "amount", "operator": "gt", "value": 0}],
             actions=[{"type": "change_status", "value": "IN_REVIEW"}])
    pending = create(client, transaction("pending"))
    resolved = client.post(f"/_mock/transactions/{pending['uuid']}/resolve-action", json={"status": "DECLINED"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "DECLINED"
    assert client.get(f"/v3/transactions/{pending['uuid']}/").json()["status"] == "DECLINED"
    again = client.post(f"/_mock/transactions/{pending['uuid']}/resolve-action", json={"status": "APPROVED"})
    assert again.status_code == 409
    assert client.post(f"/_mock/transactions/{pending['uuid']}/resolve-action", json={"status": "NOPE"}).status_code \
        == 400


# ---------------------------------------------------------------- the preset library

def test_library_presets_install_evaluate_and_uninstall(client: httpx.Client) -> None:
    library = client.get("/v3/transactions/rules/library/", params={"bundle": "aml_ctf"}).json()
    keys = {e["library_key"] for e in library["results"]}
    assert {"structuring-inbound", "high-risk-country"} <= keys
    assert not any(e["is_installed"] for e in library["results"])
    installed = client.post("/v3/transactions/rules/install/", json={"library_keys": ["large-transaction"]})
    assert installed.json() == {"installed_library_keys": ["large-transaction"], "installed_count": 1}
    assert client.post("/v3/transactions/rules/install/", json={"library_keys": ["large-transaction"]}).json() == {
        "installed_library_keys": [], "installed_count": 0}
    rules = client.get("/v3/transactions/rules/", params={"source": "PRESET"}).json()["results"]
    assert [(r["library_key"], r["mode"]) for r in rules] == [("large-transaction", "ACTIVE")]
    assert create(client, transaction("huge", amount=20000))["score"] == 40
    search = client.get("/v3/transactions/rules/library/", params={"search": "large transaction"}).json()
    assert [(e["library_key"], e["is_installed"]) for e in search["results"]] == [("large-transaction", True)]
    assert client.request("DELETE", "/v3/transactions/rules/install/", json={"bundle": "finance"}).json() == {
        "uninstalled_count": 1}
    assert create(client, transaction("huge-2", amount=20000))["score"] == 0
    assert client.post("/v3/transactions/rules/install/", json={}).status_code == 400
    assert client.post("/v3/transactions/rules/install/", json={"library_keys": ["nope"]}).json() == {
        "library_keys": ["Unknown library key(s): nope."]}


# ---------------------------------------------------------------- the user doc's worked example

def test_the_docs_worked_example_passes(server: MockServer) -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "transactions.md").read_text("utf-8")
    [example] = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "# file: test_kyt.py" in b]
    namespace: dict[str, Any] = {}
    exec(compile(example, "docs/transactions.md", "exec"), namespace)
    mock = DiditMock.new_tenant(server.url, environment="live")
    try:
        namespace["test_a_burst_of_withdrawals_is_held"](mock)
    finally:
        mock.cleanup()


# ---------------------------------------------------------------- rule checks

def test_rules_keep_didits_checks(client: httpx.Client) -> None:
    rule = add_rule(client, title="Unique")
    taken = client.post("/v3/transactions/rules/", json={"title": "unique", "category": "finance", "mode": "TEST"})
    assert taken.status_code == 400 and taken.json() == {"title": ["A rule with this title already exists."]}
    no_workflow = client.post("/v3/transactions/rules/", json={
        "title": "hold", "category": "finance", "mode": "ACTIVE",
        "actions": [{"type": "change_status", "value": "AWAITING_USER"}]})
    assert no_workflow.status_code == 400 and list(no_workflow.json()) == ["actions"]
    renamed = client.patch(f"/v3/transactions/rules/{rule['uuid']}/", json={"title": "Renamed", "mode": "TEST"})
    assert renamed.status_code == 200 and (renamed.json()["title"], renamed.json()["mode"]) == ("Renamed", "TEST")
    client.post("/v3/transactions/rules/install/", json={"library_keys": ["velocity-24h"]})
    [preset] = client.get("/v3/transactions/rules/", params={"source": "PRESET"}).json()["results"]
    assert client.patch(f"/v3/transactions/rules/{preset['uuid']}/", json={"title": "x"}).status_code == 400
    assert client.patch(f"/v3/transactions/rules/{preset['uuid']}/", json={"mode": "DISABLED"}).json()["mode"] == \
        "DISABLED"
    assert client.delete(f"/v3/transactions/rules/{preset['uuid']}/").status_code == 400
    assert client.delete(f"/v3/transactions/rules/{rule['uuid']}/").status_code == 204
    assert client.delete(f"/v3/transactions/rules/{rule['uuid']}/").status_code == 404


# ---------------------------------------------------------------- scenario rules

SCENARIO = """
version: 1
transactions:
  - name: big spender
    match: {subject.vendor_data: "vip-*", amount: "5000"}
    status: DECLINED
    score: 95
    reason_code: SCENARIO_DECLINE
    reason_label: Declined by the test scenario
wallets:
  - match: "0xfeed*"
    chain: ETH
    risk_score: 55
    category: scam
"""


def test_scenario_rules_choose_transaction_verdicts_and_wallet_profiles(client: httpx.Client) -> None:
    put_scenario(client, SCENARIO)
    declined = create(client, transaction("s1", amount="5000.00", vendor_data="vip-7"))
    assert (declined["status"], declined["score"], declined["severity"]) == ("DECLINED", 95, "CRITICAL")
    assert (declined["decision_reason_code"], declined["decision_reason_label"]) == (
        "SCENARIO_DECLINE", "Declined by the test scenario")
    assert create(client, transaction("s2", amount="4999", vendor_data="vip-7"))["status"] == "APPROVED"
    wallet = "0xfeed000000000000000000000000000000000001"
    screened = client.post("/v3/wallet-screening/", json={"wallet_address": wallet, "blockchain": "ETH"}).json()
    assert (screened["risk_score"], screened["severity"], screened["dominant_risk_category"]) == (55, "MEDIUM", "scam")
    assert client.post("/v3/wallet-screening/pdf/", json=screened).status_code == 200
    other_chain = client.post("/v3/wallet-screening/", json={"wallet_address": wallet, "blockchain": "BNB"}).json()
    assert other_chain["risk_score"] == 0


# ---------------------------------------------------------------- Travel Rule set-up

def test_travel_rule_settings_are_made_on_first_read_and_upserted(client: httpx.Client) -> None:
    first = client.get("/v3/travel-rule/settings/").json()
    assert first["is_enabled"] is False and first["timeout_outcome"] == "HOLD" and first["travel_address"][:2] == "ta"
    assert set(first["networks"]) == {"gtr", "trust", "verifyvasp", "sygna"}
    refused = client.put("/v3/travel-rule/settings/", json={"is_enabled": True})
    assert refused.status_code == 400 and refused.json() == {"legal_name": ["legal_name is required to enable travel rule."]}
    updated = client.put("/v3/travel-rule/settings/", json={"is_enabled": True, "legal_name": "Origin CASP SL",
                                                            "threshold_amount": "1000"})
    assert updated.status_code == 200 and updated.json()["threshold_amount"] == "1000.00"
    assert client.put("/v3/travel-rule/settings/", json={"jurisdiction": "ES"}).json()["legal_name"] == "Origin CASP SL"


def test_the_wallet_address_book(client: httpx.Client) -> None:
    entry = client.post("/v3/travel-rule/wallet-addresses/", json={
        "address": "0xBeneficiaryWallet01", "chain": "ethereum", "holder_name": "Ana Diaz", "self_declared": True})
    assert entry.status_code == 201 and entry.json()["is_ownership_verified"] is True
    duplicate = client.post("/v3/travel-rule/wallet-addresses/", json={"address": "0xBeneficiaryWallet01",
                                                                       "chain": "ethereum"})
    assert duplicate.status_code == 400 and list(duplicate.json()) == ["address"]
    client.post("/v3/travel-rule/wallet-addresses/", json={"address": "0xSecond", "chain": "ethereum"})
    listed = client.get("/v3/travel-rule/wallet-addresses/").json()
    assert [e["address"] for e in listed["results"]] == ["0xSecond", "0xBeneficiaryWallet01"]
    uuid = entry.json()["uuid"]
    patched = client.patch(f"/v3/travel-rule/wallet-addresses/{uuid}/", json={"holder_name": "Ana Updated"})
    assert patched.json() == {"holder_name": "Ana Updated", "holder_vendor_data": "", "entity_type": "individual",
                              "travel_address": ""}
    assert client.patch(f"/v3/travel-rule/wallet-addresses/{uuid}/", json={"travel_address": "x"}).status_code == 400
    assert client.delete(f"/v3/travel-rule/wallet-addresses/{uuid}/").status_code == 204
    again = client.post("/v3/travel-rule/wallet-addresses/", json={"address": "0xBeneficiaryWallet01",
                                                                   "chain": "ethereum"})
    assert again.status_code == 201


def test_the_vasp_directory_lists_other_discoverable_applications(client: httpx.Client, server: MockServer) -> None:
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}) as other:
        other.put("/v3/travel-rule/settings/", json={"is_enabled": True, "legal_name": "Zeta Test VASP"})
        client.put("/v3/travel-rule/settings/", json={"is_enabled": True, "legal_name": "Myself Test VASP"})
        found = client.get("/v3/travel-rule/vasps/", params={"search": "test", "limit": 5}).json()
        names = [v["name"] for v in found["results"]]
        assert "Zeta Test VASP" in names and "Myself Test VASP" not in names and names == sorted(names, key=str.casefold)
        zeta = next(v for v in found["results"] if v["name"] == "Zeta Test VASP")
        assert zeta["is_didit_customer"] is True and zeta["dd_status"] == "COMPLETED" and zeta["dd_score"] == 0


# ---------------------------------------------------------------- Travel Rule transfers

def travel(txn_id: str, amount: str = "500", **counterparty: Any) -> dict[str, Any]:
    return transaction(txn_id, amount=amount, transaction_category="travelRule",
                       counterparty={"full_name": "John Beneficiary", **counterparty},
                       travel_rule_details={"status": "PENDING", "protocol": "IVMS101", "required": True})


def enable_travel_rule(client: httpx.Client, **settings: Any) -> None:
    response = client.put("/v3/travel-rule/settings/", json={"is_enabled": True, "legal_name": "Origin CASP SL",
                                                             "threshold_amount": "100", **settings})
    assert response.status_code == 200, response.text


def test_outbound_travel_rule_transfers_are_routed_and_finished(client: httpx.Client) -> None:
    assert create(client, travel("off"))["travel_rule"]["status"] == "PENDING"  # Travel Rule disabled: as sent
    enable_travel_rule(client)
    small = create(client, travel("small", amount="50"))
    assert small["travel_rule"]["status"] == "NOT_APPLICABLE" and small["travel_rule"]["required"] is False
    routed = create(client, travel("routed", institution_details={"name": "Aurora Digital Assets GmbH"}))
    assert routed["travel_rule"]["status"] == "AWAITING_COUNTERPARTY" and routed["status"] == "APPROVED"
    path = f"/v3/transactions/{routed['uuid']}/travel-rule/"
    early = client.patch(path, json={"payment_txn_id": "0xhash"})
    assert early.status_code == 409
    moved = client.post(f"/_mock/travel-rule/{routed['travel_rule']['uuid']}/advance", json={"status": "COMPLETED"})
    assert moved.status_code == 200 and moved.json()["rail"] == "TRP"
    assert moved.json()["counterparty_vasp"]["name"] == "Aurora Digital Assets GmbH"
    finished = client.patch(path, json={"payment_txn_id": "0xhash"})
    assert finished.status_code == 200 and finished.json()["status"] == "FINISHED"
    assert [step["status"] for step in finished.json()["timeline"]] == ["AWAITING_COUNTERPARTY", "COMPLETED", "FINISHED"]
    stored = client.get(f"/v3/transactions/{routed['uuid']}/").json()
    assert stored["payment_txn_id"] == "0xhash" and stored["travel_rule"]["status"] == "FINISHED"
    assert client.patch(path, json={"action": "cancel"}).status_code == 409
    assert client.patch(path, json={}).status_code == 400
    unknown = create(client, travel("unknown", institution_details={"name": "Nobody Exchange"}))
    other = f"/v3/transactions/{unknown['uuid']}/travel-rule/"
    assert unknown["travel_rule"]["status"] == "COUNTERPARTY_VASP_NOT_FOUND"
    assert client.patch(other, json={"action": "resend"}).json()["status"] == "COUNTERPARTY_VASP_NOT_FOUND"
    assert client.patch(other, json={"action": "cancel"}).json()["status"] == "CANCELLED"
    assert client.patch(f"/v3/transactions/{small['uuid']}/travel-rule/", json={"action": "resend"}).status_code == 409


def test_a_self_hosted_wallet_waits_for_the_ownership_proof(client: httpx.Client) -> None:
    enable_travel_rule(client)
    held = create(client, travel("self-hosted", payment_method={"method_type": "unhosted_wallet",
                                                                "account_id": CLEAN_WALLET}))
    assert held["status"] == "AWAITING_USER" and held["travel_rule"]["status"] == "UNCONFIRMED_OWNERSHIP"
    action = held["action_required"]
    assert action["type"] == "wallet_ownership" and action["url"].rsplit("/", 1)[1]
    widget = f"/v3/travel-rule/widget/{action['url'].rsplit('/', 1)[1]}/"
    context = httpx.get(str(client.base_url) + widget).json()  # public: no key
    assert context["transfer_status"] == "UNCONFIRMED_OWNERSHIP" and context["wallet_address"] == CLEAN_WALLET
    assert context["vasp_name"] == "Origin CASP SL" and "SCREENSHOT" in context["allowed_methods"]
    assert context["completed_at"] is None
    proved = client.post(f"/_mock/travel-rule/{held['travel_rule']['uuid']}/advance", json={"status": "COMPLETED"})
    assert proved.json()["ownership_confirmed"] is True
    assert client.get(f"/v3/transactions/{held['uuid']}/").json()["status"] == "APPROVED"
    assert httpx.get(str(client.base_url) + widget).json()["completed_at"] is not None


def test_a_waiting_transfer_expires_with_the_timeout_outcome(client: httpx.Client) -> None:
    enable_travel_rule(client, confirmation_timeout_hours=1, timeout_outcome="REJECT")
    waiting = create(client, travel("slow", institution_details={"name": "Borealis Exchange Ltd"}))
    advance(client, 3599)
    assert client.get(f"/v3/transactions/{waiting['uuid']}/").json()["travel_rule"]["status"] == \
        "AWAITING_COUNTERPARTY"
    advance(client, 2)
    expired = client.get(f"/v3/transactions/{waiting['uuid']}/").json()
    assert expired["travel_rule"]["status"] == "EXPIRED" and expired["status"] == "DECLINED"


def test_travel_rule_moves_fire_webhooks(server: MockServer) -> None:
    with receiver() as hooks, httpx.Client(base_url=server.url, headers={"x-api-key": new_key("sk_live_")}) as http:
        http.post("/_mock/webhook", json={"url": hooks.url("/tr"), "secret": "s3cret"})
        enable_travel_rule(http)
        create(http, travel("hooked", institution_details={"name": "Aurora Digital Assets GmbH"}))
        delivery = wait_webhook(http, webhook_type="travel_rule.status.updated")
    payload = json.loads(delivery["request_body"])
    assert (payload["travel_rule_status"], payload["rail"], payload["direction"]) == (
        "AWAITING_COUNTERPARTY", "TRP", "OUTBOUND")


def test_an_inbound_deposit_is_registered_once_and_its_ownership_confirmed(client: httpx.Client) -> None:
    client.post("/v3/travel-rule/wallet-addresses/", json={"address": "0xYourDepositWallet", "chain": "ethereum",
                                                           "holder_name": "Ana Diaz", "holder_vendor_data": "user-042"})
    body = {"chain": "ethereum", "txid": "0xdeposit-hash", "wallet_address": "0xYourDepositWallet", "amount": "500.00",
            "currency": "USDC", "originator_data": {"name": "Origin CASP SL"},
            "originating_vasp": {"name": "Origin CASP SL", "lei": "LEI1"}}
    first = client.post("/v3/travel-rule/inbound/", json=body)
    assert first.status_code == 201 and first.json()["created"] is True
    transfer = first.json()["travel_rule"]
    assert transfer["status"] == "UNCONFIRMED_OWNERSHIP" and "originator_data" not in transfer  # masked
    again = client.post("/v3/travel-rule/inbound/", json=body)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["transaction_id"] == first.json()["transaction_id"]
    stored = client.get(f"/v3/transactions/{first.json()['transaction_id']}/").json()
    assert (stored["direction"], stored["vendor_data"], stored["amount"]) == ("INBOUND", "user-042", "500")
    path = f"/v3/transactions/{stored['uuid']}/travel-rule/ownership/"
    confirmed = client.post(path, json={"confirmed": True})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "COMPLETED"
    assert confirmed.json()["originator_data"] == {"name": "Origin CASP SL"}  # unmasked
    assert client.get("/v3/travel-rule/wallet-addresses/").json()["results"][0]["is_ownership_verified"] is True
    assert client.post(path, json={"confirmed": True}).status_code == 409
    unknown = client.post("/v3/travel-rule/inbound/", json={**body, "wallet_address": "0xNotMine"}).json()
    assert unknown["travel_rule"]["status"] == "NOT_ENOUGH_COUNTERPARTY_DATA"


def test_denying_ownership_declines_the_deposit(client: httpx.Client) -> None:
    client.post("/v3/travel-rule/wallet-addresses/", json={"address": "0xDeny", "chain": "ethereum"})
    created = client.post("/v3/travel-rule/inbound/", json={"chain": "ethereum", "txid": "0x1", "amount": "1",
                                                            "wallet_address": "0xDeny", "currency": "ETH"}).json()
    denied = client.post(f"/v3/transactions/{created['transaction_id']}/travel-rule/ownership/",
                         json={"confirmed": False})
    assert denied.json()["status"] == "COUNTERPARTY_VASP_GENERAL_DECLINE"
    assert client.get(f"/v3/transactions/{created['transaction_id']}/").json()["status"] == "DECLINED"


def test_a_widget_session_expires_on_the_tenant_clock(client: httpx.Client, anon: httpx.Client) -> None:
    minted = client.post("/v3/travel-rule/widget-session/", json={
        "wallet_address": "0xBeneficiaryWallet01", "chain": "ethereum", "holder_name": "Ana Diaz",
        "expires_in_minutes": 10, "satoshi_deposit_address": "bc1qdeposit"})
    assert minted.status_code == 201
    path = f"/v3/travel-rule/widget/{minted.json()['token']}/"
    context = anon.get(path).json()
    assert context["transfer_status"] is None and "SATOSHI_TEST" in context["allowed_methods"]
    assert anon.get("/v3/travel-rule/widget/unknown-token/").status_code == 404
    advance(client, 120 * 60)  # a Satoshi test keeps the link open for at least two hours
    assert anon.get(path).status_code == 410


def test_an_emailed_counterparty_picks_up_and_answers(client: httpx.Client, anon: httpx.Client) -> None:
    enable_travel_rule(client)
    emailed = create(client, travel("by-mail", institution_details={"name": "Test Custody Services SA"},
                                    payment_method={"method_type": "crypto_wallet", "account_id": CLEAN_WALLET}))
    transfer = emailed["travel_rule"]["uuid"]
    token = client.get(f"/_mock/travel-rule/{transfer}/pickup").json()["pickup_token"]
    info = anon.get(f"/v3/travel-rule/pickup/{token}/").json()
    assert info == {"originator_vasp_name": "Origin CASP SL", "amount": "500", "currency": "EUR",
                    "beneficiary_wallet": CLEAN_WALLET, "status": "AWAITING_COUNTERPARTY"}
    answer = anon.post(f"/v3/travel-rule/pickup/{token}/respond/", json={"decision": "accept",
                                                                         "beneficiary_name": "Carlos Ruiz"})
    assert answer.json() == {"status": "COMPLETED"}
    assert anon.get(f"/v3/travel-rule/pickup/{token}/").status_code == 410
    assert anon.get("/v3/travel-rule/pickup/unknown/").status_code == 404
    declined = create(client, travel("by-mail-2", institution_details={"name": "Test Custody Services SA"}))
    other = client.get(f"/_mock/travel-rule/{declined['travel_rule']['uuid']}/pickup").json()["pickup_token"]
    assert anon.post(f"/v3/travel-rule/pickup/{other}/respond/", json={"decision": "decline"}).json() == {
        "status": "COUNTERPARTY_VASP_GENERAL_DECLINE"}
    assert client.get(f"/v3/transactions/{declined['uuid']}/").json()["status"] == "DECLINED"


def test_a_travel_rule_exchange_between_two_applications(client: httpx.Client, server: MockServer) -> None:
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}) as beneficiary:
        enable_travel_rule(beneficiary, legal_name="Beneficiary VASP SL")
        wallet = "0x2222222222222222222222222222222222222222"
        beneficiary.post("/v3/travel-rule/wallet-addresses/", json={
            "address": wallet, "chain": "ethereum", "holder_name": "Ana Diaz", "holder_vendor_data": "user-042"})
        enable_travel_rule(client)
        sent = create(client, travel("internal", payment_method={"method_type": "crypto_wallet", "account_id": wallet}))
        assert sent["travel_rule"]["status"] == "AWAITING_COUNTERPARTY"
        [inbound] = beneficiary.get("/v3/transactions/").json()["results"]
        assert (inbound["direction"], inbound["subject_vendor_data"], inbound["amount"]) == ("INBOUND", "user-042", "500")
        assert inbound["transaction_type"] == "travelRule"
        detail = beneficiary.get(f"/v3/transactions/{inbound['uuid']}/").json()
        assert detail["travel_rule"]["status"] == "UNCONFIRMED_OWNERSHIP"
        confirmed = beneficiary.post(f"/v3/transactions/{inbound['uuid']}/travel-rule/ownership/",
                                     json={"confirmed": True})
        assert confirmed.json()["status"] == "COMPLETED" and confirmed.json()["rail"] == "INTERNAL"
        assert confirmed.json()["counterparty_vasp"]["name"] == "Origin CASP SL"
        assert client.get(f"/v3/transactions/{sent['uuid']}/").json()["travel_rule"]["status"] == "COMPLETED"
        finished = client.patch(f"/v3/transactions/{sent['uuid']}/travel-rule/", json={"payment_txn_id": "0xabc"})
        assert finished.json()["status"] == "FINISHED" and finished.json()["counterparty_vasp"]["name"] == \
            "Beneficiary VASP SL"
        assert beneficiary.get(f"/v3/transactions/{inbound['uuid']}/").json()["travel_rule"]["status"] == "FINISHED"


def test_a_beneficiary_that_denies_ownership_declines_both_sides(client: httpx.Client, server: MockServer) -> None:
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key("sk_live_")}) as beneficiary, \
            receiver() as hooks:
        beneficiary.post("/_mock/webhook", json={"url": hooks.url("/b"), "secret": "s3cret"})
        enable_travel_rule(beneficiary, legal_name="Denying VASP")
        wallet = "0x3333333333333333333333333333333333333333"
        beneficiary.post("/v3/travel-rule/wallet-addresses/", json={"address": wallet, "chain": "ethereum"})
        enable_travel_rule(client)
        sent = create(client, travel("denied", payment_method={"method_type": "crypto_wallet", "account_id": wallet}))
        [inbound] = beneficiary.get("/v3/transactions/").json()["results"]
        beneficiary.post(f"/v3/transactions/{inbound['uuid']}/travel-rule/ownership/", json={"confirmed": False})
        delivery = wait_webhook(beneficiary, webhook_type="travel_rule.status.updated",
                                status="COUNTERPARTY_VASP_GENERAL_DECLINE")
    assert json.loads(delivery["request_body"])["rail"] == "INTERNAL"
    assert client.get(f"/v3/transactions/{sent['uuid']}/").json()["status"] == "DECLINED"


def test_a_blocked_user_cannot_take_part_in_a_transaction(client: httpx.Client) -> None:
    create(client, transaction("before-block", vendor_data="blocked-later"))
    made = client.post("/v3/users/create/", json={"vendor_data": "blocked-party"})
    assert made.status_code == 201, made.text
    blocked = client.patch("/v3/users/blocked-party/update-status/", json={"status": "BLOCKED"})
    assert blocked.status_code == 200, blocked.text
    before = client.get("/v3/transactions/").json()["count"]
    refused = client.post("/v3/transactions/", json=transaction("after-block", vendor_data="blocked-party"))
    assert refused.status_code == 400
    assert refused.json() == {"vendor_data": [
        "The individual 'blocked-party' is in the blocklist and cannot participate in transactions."]}
    assert client.get("/v3/transactions/").json()["count"] == before  # nothing stored
    client.patch("/v3/users/blocked-party/update-status/", json={"status": "ACTIVE"})
    assert client.post("/v3/transactions/", json=transaction("after-unblock", vendor_data="blocked-party")
                       ).status_code == 201
