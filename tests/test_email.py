"""Standalone email verification over HTTP: send, check, retries, fraud signals and read-out."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import advance, new_key
from tests.contract.conformance import assert_conforms
from tests.otp_helpers import (
    EMAIL_CHECK,
    EMAIL_SEND,
    check_email,
    configure,
    email_code,
    lifecycle_types,
    post,
    risks,
    send_email,
    wrong,
)

ALICE = "alice@example.com"
DECISION = "/v3/session/{sessionId}/decision/"
EMAIL_KEYS = {
    "status", "email", "is_breached", "breaches", "is_disposable", "is_undeliverable", "verification_attempts",
    "verified_at", "warnings", "lifecycle", "matches",
}
LOCALES = (
    "en, ar, bn, bg, bs, ca, cs, da, de, el, es, et, fa, fi, fr, he, hi, hr, hu, hy, id, it, ja, ka, kk, ko, ky, "
    "lt, lv, cnr, mk, mn, ms, nl, no, pl, pt-BR, pt, ro, ru, sk, sl, so, sq, sr, sv, th, tr, uk, uz, vi, zh-CN, "
    "zh-TW, zh"
)


def approve(client: httpx.Client, email: str = ALICE, **check: object) -> dict:
    return check_email(client, email, email_code(client, email)["code"], **check)


# ---------------------------------------------------------------- send

def test_send_creates_a_pending_verification(client: httpx.Client) -> None:
    body = send_email(client, ALICE, vendor_data="user-1", metadata={"x": 1},
                      options={"locale": "es", "use_white_label_customization": True})
    assert body["status"] == "Success" and body["reason"] is None
    assert body["vendor_data"] == "user-1" and body["metadata"] == {"x": 1}
    readout = email_code(client, ALICE)
    assert readout["request_id"] == body["request_id"] and readout["attempts_left"] == 3
    assert len(readout["code"]) == 6 and readout["code"].isdigit()


def test_alphanumeric_codes_are_checked_case_insensitively(client: httpx.Client) -> None:
    send_email(client, ALICE, options={"alphanumeric_code": True, "code_size": 8})
    code = email_code(client, ALICE)["code"]
    assert len(code) == 8 and code == code.upper() and code.isalnum()
    assert check_email(client, ALICE, code.lower())["status"] == "Approved"


def test_retry_sends_a_new_code_and_the_old_one_stops_working(client: httpx.Client) -> None:
    first = send_email(client, ALICE, vendor_data="u-1")
    old = email_code(client, ALICE)["code"]
    retry = send_email(client, ALICE, vendor_data="ignored")
    assert retry == {"request_id": first["request_id"], "status": "Retry", "reason": None,
                     "vendor_data": "u-1", "metadata": None}
    new = email_code(client, ALICE)["code"]
    if new == old:  # astronomically unlikely with a seeded RNG, but keep the test honest
        pytest.skip("the new code happens to equal the old one")
    failed = check_email(client, ALICE, old)
    assert failed["status"] == "Failed"
    result = check_email(client, ALICE, new)
    assert result["status"] == "Approved" and result["request_id"] == first["request_id"]
    email = result["email"]
    assert email["verification_attempts"] == 2
    assert lifecycle_types(email) == [
        "EMAIL_VERIFICATION_MESSAGE_SENT", "EMAIL_VERIFICATION_RETRY_MESSAGE_SENT", "INVALID_CODE_ENTERED",
        "VALID_CODE_ENTERED", "EMAIL_VERIFICATION_APPROVED",
    ]
    assert [e["fee"] for e in email["lifecycle"]] == [0.03, 0, 0, 0, 0]


def test_third_send_starts_a_new_verification(client: httpx.Client) -> None:
    first = send_email(client, ALICE)
    send_email(client, ALICE)
    third = send_email(client, ALICE)
    assert third["status"] == "Success" and third["request_id"] != first["request_id"]


def test_addresses_have_no_hourly_cap(client: httpx.Client) -> None:
    statuses = [send_email(client, ALICE)["status"] for _ in range(8)]
    assert statuses == ["Success", "Retry"] * 4


@pytest.mark.parametrize("address", [
    "bob@example.invalid", "carol@mail.test", "dave@localhost", "erin@printer.local", "frank@EXAMPLE.INVALID",
])
def test_reserved_domains_are_undeliverable(client: httpx.Client, address: str) -> None:
    body = send_email(client, address, vendor_data="v")
    assert body["status"] == "Undeliverable" and body["reason"] == "email_can_not_be_delivered"
    assert body["vendor_data"] == "v"
    assert check_email(client, address, "123456")["status"] == "Expired or Not Found"
    decision = client.get(f"/v3/session/{body['request_id']}/decision/").json()
    assert decision["status"] == "Declined"
    email = decision["email_verifications"][0]
    assert email["is_undeliverable"] is True
    assert risks(email) == {"UNDELIVERABLE_EMAIL_DETECTED": "error"}
    assert email["lifecycle"][0]["details"] == {"status": "Undeliverable", "reason": "email_can_not_be_delivered"}
    assert email["lifecycle"][0]["fee"] == 0


def test_configured_undeliverable_domains_and_forced_statuses(client: httpx.Client) -> None:
    configure(client, undeliverable_domains=["bounce.example"], email_send_status={"*@retry.example": {
        "status": "Retry"}, "vip@ok.example": {"status": "Undeliverable"}})
    assert send_email(client, "x@mx.bounce.example")["status"] == "Undeliverable"
    assert send_email(client, "x@example.invalid")["status"] == "Success"  # the built-ins were replaced
    assert send_email(client, "x@retry.example")["status"] == "Retry"
    assert send_email(client, "vip@ok.example")["status"] == "Undeliverable"


@pytest.mark.parametrize(("body", "errors"), [
    ({}, {"email": ["This field is required."]}),
    ({"email": "not-an-email"}, {"email": ["Enter a valid email address."]}),
    ({"email": "a@b"}, {"email": ["Enter a valid email address."]}),
    ({"email": "a b@example.com"}, {"email": ["Enter a valid email address."]}),
    ({"email": ""}, {"email": ["This field may not be blank."]}),
    ({"email": None}, {"email": ["This field may not be null."]}),
    ({"email": ALICE, "options": {"locale": "xx"}}, {"options": {"locale": [
        f"Invalid locale. Supported locales are {LOCALES}."]}}),
    ({"email": ALICE, "options": {"code_size": 9}},
     {"options": {"code_size": ["Ensure this value is less than or equal to 8."]}}),
    ({"email": ALICE, "options": {"code_size": 2, "alphanumeric_code": "maybe"}},
     {"options": {"code_size": ["Ensure this value is greater than or equal to 4."],
                  "alphanumeric_code": ["Must be a valid boolean."]}}),
    ({"email": ALICE, "signals": {"ip": "nope", "device_platform": "palm"}},
     {"signals": {"ip": ["Enter a valid IPv4 or IPv6 address."], "device_platform": ['"palm" is not a valid choice.']}}),
    ({"email": ALICE, "metadata": [1]}, {"metadata": ['Expected a dictionary of items but got type "list".']}),
])
def test_send_validation_errors_change_nothing(client: httpx.Client, body: dict, errors: dict) -> None:
    assert post(client, EMAIL_SEND, body, 400) == errors
    assert client.get(f"/_mock/email/{ALICE}/code").status_code == 404


def test_every_locale_is_accepted(client: httpx.Client) -> None:
    for locale in LOCALES.split(", "):
        assert send_email(client, f"{locale.lower()}@example.com", options={"locale": locale})["status"] == "Success"


def test_missing_key_is_403(anon: httpx.Client) -> None:
    response = anon.post(EMAIL_SEND, json={"email": ALICE})
    assert response.status_code == 403
    assert_conforms("POST", EMAIL_SEND, 403, response.json())


# ---------------------------------------------------------------- check

def test_check_without_a_pending_verification(client: httpx.Client) -> None:
    body = check_email(client, ALICE, "123456")
    assert set(body) == {"request_id", "status", "message", "vendor_data", "metadata", "created_at"}
    assert body["status"] == "Expired or Not Found"
    assert body["message"] == "No pending email verification found in the last 5 minutes."


def test_right_code_approves_with_the_full_report(client: httpx.Client) -> None:
    sent = send_email(client, "Alice@Example.COM", vendor_data="user-1234")
    result = approve(client, "alice@example.com")
    assert result["status"] == "Approved" and result["request_id"] == sent["request_id"]
    assert result["message"] == "The verification code is correct."
    email = result["email"]
    assert set(email) == EMAIL_KEYS
    assert email["email"] == "Alice@example.com"
    assert email["is_breached"] is False and email["breaches"] == []
    assert email["is_disposable"] is False and email["is_undeliverable"] is False
    assert email["verified_at"].endswith("Z") and email["warnings"] == [] and email["matches"] == []
    assert email["lifecycle"][0]["details"] == {"status": "Success", "reason": None}


def test_wrong_codes_fail_then_decline_on_the_third(client: httpx.Client) -> None:
    sent = send_email(client, ALICE)
    code = email_code(client, ALICE)["code"]
    messages = [check_email(client, ALICE, wrong(code))["message"] for _ in range(2)]
    assert messages == ["The verification code is incorrect. Attempts remaining: 2",
                        "The verification code is incorrect. Attempts remaining: 1"]
    third = check_email(client, ALICE, wrong(code))
    assert third["status"] == "Declined" and third["request_id"] == sent["request_id"]
    assert third["message"] == "The verification code is incorrect. Maximum attempts reached."
    assert risks(third["email"]) == {"EMAIL_CODE_ATTEMPTS_EXCEEDED": "error"}
    assert third["email"]["lifecycle"][-1]["details"] == {"reason": "EMAIL_CODE_ATTEMPTS_EXCEEDED"}
    assert check_email(client, ALICE, code)["status"] == "Expired or Not Found"


@pytest.mark.parametrize(("body", "errors"), [
    ({"email": ALICE}, {"code": ["This field is required."]}),
    ({"email": ALICE, "code": "12345678901"}, {"code": ["Ensure this field has no more than 10 characters."]}),
    ({"email": ALICE, "code": "abc"}, {"code": ["Invalid code format. Enter 4 to 8 letters or digits."]}),
    ({"email": ALICE, "code": "12-456"}, {"code": ["Invalid code format. Enter 4 to 8 letters or digits."]}),
    ({"email": ALICE, "code": "123456789"}, {"code": ["Invalid code format. Enter 4 to 8 letters or digits."]}),
    ({"email": "bad", "code": "123456"}, {"email": ["Enter a valid email address."]}),
    ({"email": ALICE, "code": "123456", "breached_email_action": "REVIEW"},
     {"breached_email_action": ['"REVIEW" is not a valid choice.']}),
])
def test_malformed_checks_are_400_and_use_no_attempt(client: httpx.Client, body: dict, errors: dict) -> None:
    send_email(client, ALICE)
    assert post(client, EMAIL_CHECK, body, 400) == errors
    assert email_code(client, ALICE)["attempts_left"] == 3


def test_unknown_legacy_actions_are_ignored(client: httpx.Client) -> None:
    send_email(client, ALICE)
    assert approve(client, undeliverable_email_action="DECLINE", enable_social=True)["status"] == "Approved"


def test_code_expires_after_five_minutes(client: httpx.Client) -> None:
    sent = send_email(client, ALICE)
    code = email_code(client, ALICE)["code"]
    advance(client, 300)
    assert check_email(client, ALICE, code)["status"] == "Expired or Not Found"
    assert email_code(client, ALICE)["status"] == "Expired"
    decision = client.get(f"/v3/session/{sent['request_id']}/decision/").json()
    assert decision["status"] == "Expired" and decision["features"] == ["EMAIL_VERIFICATION"]
    assert lifecycle_types(decision["email_verifications"][0])[-1] == "EMAIL_VERIFICATION_EXPIRED"


def test_parallel_wrong_guesses_get_exactly_three_tries(client: httpx.Client, server) -> None:
    send_email(client, ALICE)
    code = email_code(client, ALICE)["code"]
    key = client.headers["x-api-key"]

    def guess(value: str) -> str:
        with httpx.Client(base_url=server.url, headers={"x-api-key": key}, timeout=30) as http:
            return http.post(EMAIL_CHECK, json={"email": ALICE, "code": value}).json()["status"]

    guesses = [f"{n:06d}" for n in range(30) if f"{n:06d}" != code]
    with ThreadPoolExecutor(max_workers=15) as pool:
        statuses = list(pool.map(guess, guesses))
    assert sorted(set(statuses)) == ["Declined", "Expired or Not Found", "Failed"]
    assert statuses.count("Failed") == 2 and statuses.count("Declined") == 1
    assert check_email(client, ALICE, code)["status"] == "Expired or Not Found"


# ---------------------------------------------------------------- fraud signals

@pytest.mark.parametrize("address", ["temp@mailinator.com", "x@guerrillamail.com", "y@yopmail.com",
                                     "z@10minutemail.com", "w@sub.mailinator.com"])
def test_disposable_domains(client: httpx.Client, address: str) -> None:
    send_email(client, address)
    email = approve(client, address)["email"]
    assert email["status"] == "Approved" and email["is_disposable"] is True
    assert risks(email) == {"DISPOSABLE_EMAIL_DETECTED": "information"}
    send_email(client, address)
    result = approve(client, address, disposable_email_action="DECLINE")
    assert result["status"] == "Declined" and result["message"] == "The verification code is correct."
    assert risks(result["email"]) == {"DISPOSABLE_EMAIL_DETECTED": "error"}
    assert result["email"]["lifecycle"][-1]["details"] == {"reason": "DISPOSABLE_EMAIL_DETECTED"}


def test_configured_disposable_domains(client: httpx.Client) -> None:
    configure(client, disposable_domains=["burner.example"])
    send_email(client, "a@burner.example")
    assert approve(client, "a@burner.example")["email"]["is_disposable"] is True
    send_email(client, "a@mailinator.com")
    assert approve(client, "a@mailinator.com")["email"]["is_disposable"] is False
    configure(client, disposable_emails=["temp-*@example.com"])
    send_email(client, "temp-42@example.com")
    assert approve(client, "temp-42@example.com")["email"]["is_disposable"] is True


def test_breached_addresses(client: httpx.Client) -> None:
    address = "breached.bob@example.com"
    send_email(client, address)
    email = approve(client, address)["email"]
    assert email["status"] == "Approved" and email["is_breached"] is True
    assert email["breaches"][0]["name"] == "ExampleApp" and email["breaches"][0]["data_classes"]
    assert email["warnings"] == [{
        "feature": "EMAIL", "risk": "BREACHED_EMAIL_DETECTED", "additional_data": None, "log_type": "information",
        "short_description": "Breached email detected",
        "long_description": "This email address was found in one or more known data breaches.",
    }]
    send_email(client, address)
    assert approve(client, address, breached_email_action="DECLINE")["status"] == "Declined"
    configure(client, breached_emails=["*@leaky.example"])
    send_email(client, "x@leaky.example")
    assert approve(client, "x@leaky.example")["email"]["is_breached"] is True


def test_duplicated_address_counts_only_approved_verifications(client: httpx.Client) -> None:
    send_email(client, ALICE, vendor_data="alice")
    code = email_code(client, ALICE)["code"]
    for _ in range(3):
        check_email(client, ALICE, wrong(code))  # declined: does not make a duplicate
    send_email(client, ALICE, vendor_data="mallory")
    email = approve(client, duplicated_email_action="DECLINE")["email"]
    assert email["status"] == "Approved" and email["warnings"] == []
    assert email["matches"][0]["status"] == "Declined" and email["matches"][0]["email"] == ALICE
    send_email(client, ALICE, vendor_data="trudy")
    result = approve(client, duplicated_email_action="DECLINE")
    assert result["status"] == "Declined" and risks(result["email"]) == {"DUPLICATED_EMAIL": "error"}
    send_email(client, ALICE, vendor_data="victor")
    assert risks(approve(client)["email"]) == {"DUPLICATED_EMAIL": "information"}


def test_by_value_blocked_address_is_declined(client: httpx.Client) -> None:
    send_email(client, ALICE)
    configure(client, blocked_emails=["*@example.com"])
    result = approve(client)
    assert result["status"] == "Declined" and risks(result["email"]) == {"EMAIL_IN_BLOCKLIST": "error"}
    assert send_email(client, ALICE)["status"] == "Success"  # email sends are not refused for the blocklist


# ---------------------------------------------------------------- sessions, credits, read-out

def test_request_id_has_a_decision(client: httpx.Client) -> None:
    sent = send_email(client, ALICE, vendor_data="u-7")
    approve(client)
    decision = client.get(f"/v3/session/{sent['request_id']}/decision/").json()
    assert decision["status"] == "Approved" and decision["features"] == ["EMAIL_VERIFICATION"]
    assert decision["phone_verifications"] is None
    item = decision["email_verifications"][0]
    assert item["node_id"] == "feature_email_1" and set(item) == EMAIL_KEYS | {"node_id"}
    assert_conforms("GET", DECISION, 200, decision)


def test_live_tenant_pays_one_credit_per_success_send(server) -> None:
    key = new_key("sk_live_")
    with httpx.Client(base_url=server.url, headers={"x-api-key": key}, timeout=10) as live:
        server.registry.get(key).config.credits = 1
        assert send_email(live, ALICE)["status"] == "Success"
        assert send_email(live, ALICE)["status"] == "Retry"
        assert send_email(live, "x@example.invalid")["status"] == "Undeliverable"
        response = live.post(EMAIL_SEND, json={"email": "bob@example.com"})
        assert response.status_code == 403
        assert response.json() == {"error": "You don't have enough credits to perform this request."}
        assert_conforms("POST", EMAIL_SEND, 403, response.json())


def test_readout_and_fixed_codes(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    assert client.get(f"/_mock/email/{ALICE}/code").json() == {"detail": "Not found."}
    response = client.post("/_mock/email/codes", json={"pattern": "*@example.com", "code": "ABC123"})
    assert response.json() == {"codes": [{"pattern": "*@example.com", "code": "ABC123"}]}
    with caplog.at_level(logging.INFO, logger="didit_mock.otp"):
        send_email(client, ALICE)
    assert any("ABC123" in r.getMessage() and ALICE in r.getMessage() for r in caplog.records)
    encoded = client.get("/_mock/email/alice%40example.com/code").json()
    assert encoded == client.get("/_mock/email/ALICE@example.com/code").json()
    assert encoded["code"] == "ABC123" and encoded["status"] == "Not Finished"
    assert check_email(client, ALICE, "abc123")["status"] == "Approved"
    assert client.post("/_mock/email/codes", json={"pattern": "*@example.com", "code": "a"}).status_code == 400
    client.post("/_mock/email/codes", json={"pattern": "*@example.com", "code": None})
    assert client.get("/_mock/email/codes").json() == {"codes": []}
