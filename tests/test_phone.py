"""Standalone phone verification over HTTP: send, check, limits, fraud signals and read-out."""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import advance, new_key
from tests.contract.conformance import assert_conforms
from tests.otp_helpers import (
    PHONE_CHECK,
    PHONE_SEND,
    check_phone,
    configure,
    lifecycle_types,
    phone_code,
    post,
    risks,
    send_phone,
    wrong,
)

NUMBER = "+14155552671"
VOIP = "+15005550006"
DISPOSABLE = "+61491570006"
HIGH_RISK = "+19005550100"
CAP_TEXT = (
    "Maximum verification attempts reached for this phone number. Only 4 authentication attempts are "
    "allowed per hour. Try again later or use a different number."
)
PHONE_KEYS = {
    "status", "phone_number_prefix", "phone_number", "full_number", "country_code", "country_name", "carrier",
    "is_disposable", "is_virtual", "verification_method", "verification_attempts", "verified_at", "warnings",
    "lifecycle", "matches",
}


def approve(client: httpx.Client, number: str = NUMBER, **check: object) -> dict:
    code = phone_code(client, number)["code"]
    return check_phone(client, number, code, **check)


# ---------------------------------------------------------------- send

def test_send_creates_a_pending_verification(client: httpx.Client) -> None:
    body = send_phone(client, NUMBER, vendor_data="user-1", metadata={"plan": "pro"},
                      options={"preferred_channel": "sms", "code_size": 6, "locale": "en-US"})
    assert body["status"] == "Success" and body["reason"] is None
    assert body["vendor_data"] == "user-1" and body["metadata"] == {"plan": "pro"}
    uuid.UUID(body["request_id"])
    readout = phone_code(client, NUMBER)
    assert readout["request_id"] == body["request_id"]
    assert readout["status"] == "Not Finished" and readout["attempts_left"] == 3
    assert len(readout["code"]) == 6 and readout["code"].isdigit()


@pytest.mark.parametrize("size", [4, 8])
def test_code_size_sets_the_code_length(client: httpx.Client, size: int) -> None:
    send_phone(client, NUMBER, options={"code_size": size})
    assert len(phone_code(client, NUMBER)["code"]) == size


def test_numbers_are_normalised_to_e164(client: httpx.Client) -> None:
    first = send_phone(client, "+1 (415) 555-2671")
    assert phone_code(client, NUMBER)["request_id"] == first["request_id"]
    result = check_phone(client, "+1 415 555 2671", phone_code(client, NUMBER)["code"])
    assert result["status"] == "Approved"
    assert result["phone"]["full_number"] == NUMBER


def test_retry_attaches_once_then_a_new_verification_starts(client: httpx.Client) -> None:
    first = send_phone(client, NUMBER, vendor_data="u-1", metadata={"a": 1})
    code = phone_code(client, NUMBER)["code"]
    retry = send_phone(client, NUMBER, vendor_data="other", metadata=None)
    assert retry == {"request_id": first["request_id"], "status": "Retry", "reason": None,
                     "vendor_data": "u-1", "metadata": {"a": 1}}
    assert phone_code(client, NUMBER)["code"] == code  # a phone retry re-sends the same code
    third = send_phone(client, NUMBER, vendor_data="u-1")
    assert third["status"] == "Success" and third["request_id"] != first["request_id"]
    result = approve(client)
    assert result["request_id"] == third["request_id"]
    assert result["phone"]["verification_attempts"] == 1


def test_verification_attempts_counts_sends(client: httpx.Client) -> None:
    send_phone(client, NUMBER)
    send_phone(client, NUMBER)
    report = approve(client)["phone"]
    assert report["verification_attempts"] == 2
    assert lifecycle_types(report)[:4] == [
        "PHONE_VERIFICATION_MESSAGE_SENT", "PHONE_DELIVERY_DELIVERED",
        "PHONE_VERIFICATION_RETRY_MESSAGE_SENT", "PHONE_DELIVERY_DELIVERED",
    ]


def test_hourly_cap_answers_429_without_rate_limit_headers(client: httpx.Client) -> None:
    for _ in range(4):
        send_phone(client, NUMBER)
    response = client.post(PHONE_SEND, json={"phone_number": NUMBER})
    assert response.status_code == 429
    assert response.json() == {"detail": CAP_TEXT}
    assert_conforms("POST", PHONE_SEND, 429, response.json())
    assert not any(h.lower().startswith("x-ratelimit") for h in response.headers)
    assert "retry-after" not in response.headers
    other = send_phone(client, "+14155552672")  # the cap is per number
    assert other["status"] == "Success"
    advance(client, 3599)
    assert client.post(PHONE_SEND, json={"phone_number": NUMBER}).status_code == 429
    advance(client, 1)
    assert send_phone(client, NUMBER)["status"] == "Success"


def test_refused_sends_do_not_count_towards_the_cap(client: httpx.Client) -> None:
    for _ in range(4):
        send_phone(client, NUMBER)
    for _ in range(3):
        assert client.post(PHONE_SEND, json={"phone_number": NUMBER}).status_code == 429
    advance(client, 3600)
    for _ in range(4):
        send_phone(client, NUMBER)


def test_preferred_channel_falls_back_to_sms_where_unavailable(client: httpx.Client) -> None:
    send_phone(client, VOIP, options={"preferred_channel": "whatsapp"})
    report = approve(client, VOIP)["phone"]
    assert report["verification_method"] == "sms"
    assert report["lifecycle"][0]["details"] == {"status": "Success", "reason": None, "channel": "whatsapp",
                                                 "actual_channel": "sms"}
    send_phone(client, NUMBER, options={"preferred_channel": "voice"})
    assert approve(client)["phone"]["verification_method"] == "voice"


def test_ineligible_line_type_is_refused_at_send(client: httpx.Client) -> None:
    configure(client, carriers={"+1415555": {"type": "short_codes_commercial"}})
    response = client.post(PHONE_SEND, json={"phone_number": NUMBER})
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid phone line type provided."}
    assert client.get(f"/_mock/phone/{NUMBER}/code").status_code == 404


@pytest.mark.parametrize(("body", "errors"), [
    ({}, {"phone_number": ["This field is required."]}),
    ({"phone_number": "4155552671"}, {"phone_number": ["Invalid phone number provided."]}),
    ({"phone_number": "+1555"}, {"phone_number": ["Invalid phone number provided."]}),
    ({"phone_number": "+999123456789"}, {"phone_number": ["Invalid phone number provided."]}),
    ({"phone_number": "+1 415 555 2671 0000000"}, {"phone_number": ["Ensure this field has no more than 20 characters."]}),
    ({"phone_number": ""}, {"phone_number": ["This field may not be blank."]}),
    ({"phone_number": None}, {"phone_number": ["This field may not be null."]}),
    ({"phone_number": NUMBER, "options": {"code_size": 9, "locale": "en-USAA", "preferred_channel": "carrier_pigeon"}},
     {"options": {"code_size": ["Ensure this value is less than or equal to 8."],
                  # Every validator of a field reports, as DRF's run_validators does.
                  "locale": ["Ensure this field has no more than 5 characters.",
                             "This value does not match the required pattern."],
                  "preferred_channel": ['"carrier_pigeon" is not a valid choice.']}}),
    ({"phone_number": NUMBER, "options": {"code_size": 3}},
     {"options": {"code_size": ["Ensure this value is greater than or equal to 4."]}}),
    ({"phone_number": NUMBER, "options": {"locale": "EN"}},
     {"options": {"locale": ["This value does not match the required pattern."]}}),
    ({"phone_number": NUMBER, "signals": {"ip": "300.1.1.1", "device_platform": "symbian", "device_id": "x" * 256,
                                          "device_model": "m" * 256, "os_version": "1" * 65, "app_version": "2" * 65,
                                          "user_agent": "u" * 513}},
     {"signals": {"ip": ["Enter a valid IPv4 or IPv6 address."],
                  "device_platform": ['"symbian" is not a valid choice.'],
                  "device_id": ["Ensure this field has no more than 255 characters."],
                  "device_model": ["Ensure this field has no more than 255 characters."],
                  "os_version": ["Ensure this field has no more than 64 characters."],
                  "app_version": ["Ensure this field has no more than 64 characters."],
                  "user_agent": ["Ensure this field has no more than 512 characters."]}}),
    ({"phone_number": NUMBER, "metadata": "plain"},
     {"metadata": ['Expected a dictionary of items but got type "str".']}),
])
def test_send_validation_errors_change_nothing(client: httpx.Client, body: dict, errors: dict) -> None:
    assert post(client, PHONE_SEND, body, 400) == errors
    assert client.get(f"/_mock/phone/{NUMBER}/code").status_code == 404


def test_send_accepts_every_valid_signal_and_channel(client: httpx.Client) -> None:
    signals = {"ip": "2001:db8::1", "device_id": "d" * 255, "device_platform": "ios", "device_model": "iPhone17,2",
               "os_version": "18.0.1", "app_version": "1.2.34", "user_agent": "u" * 512}
    for index, channel in enumerate(("whatsapp", "sms", "telegram", "voice", "rcs", "viber", "zalo")):
        number = f"+1415555{2600 + index}"
        body = send_phone(client, number, signals=signals, options={"preferred_channel": channel, "locale": "es"})
        assert body["status"] == "Success"


def test_not_a_json_object_is_a_400(client: httpx.Client) -> None:
    response = client.post(PHONE_SEND, content=b"[1]", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


def test_missing_key_is_403(anon: httpx.Client) -> None:
    response = anon.post(PHONE_SEND, json={"phone_number": NUMBER})
    assert response.status_code == 403
    assert_conforms("POST", PHONE_SEND, 403, response.json())


# ---------------------------------------------------------------- check

def test_check_without_a_pending_verification(client: httpx.Client) -> None:
    body = check_phone(client, NUMBER, "123456")
    assert set(body) == {"request_id", "status", "message", "vendor_data", "metadata", "created_at"}
    assert body["status"] == "Expired or Not Found"
    assert body["message"] == "No pending phone verification found in the last 5 minutes."
    assert body["vendor_data"] is None and body["metadata"] is None
    assert body["created_at"].endswith("+00:00")


def test_right_code_approves_with_the_full_report(client: httpx.Client) -> None:
    sent = send_phone(client, NUMBER, vendor_data="user-1234")
    result = approve(client)
    assert result["status"] == "Approved"
    assert result["message"] == "The verification code is correct."
    assert result["request_id"] == sent["request_id"]
    assert result["vendor_data"] == "user-1234" and result["metadata"] is None
    phone = result["phone"]
    assert set(phone) == PHONE_KEYS
    assert phone["status"] == "Approved"
    assert (phone["phone_number_prefix"], phone["phone_number"], phone["full_number"]) == ("+1", "4155552671", NUMBER)
    assert (phone["country_code"], phone["country_name"]) == ("US", "United States")
    assert phone["carrier"] == {"name": "", "type": "mobile"}
    assert phone["is_disposable"] is False and phone["is_virtual"] is False
    assert phone["verification_method"] == "whatsapp"
    assert phone["verified_at"].endswith("Z")
    assert phone["warnings"] == [] and phone["matches"] == []
    assert lifecycle_types(phone) == ["PHONE_VERIFICATION_MESSAGE_SENT", "PHONE_DELIVERY_DELIVERED",
                                      "VALID_CODE_ENTERED", "PHONE_VERIFICATION_APPROVED"]
    assert phone["lifecycle"][0]["fee"] > 0 and all(e["fee"] == 0 for e in phone["lifecycle"][1:])
    assert phone["lifecycle"][-1]["details"] is None
    assert check_phone(client, NUMBER, phone["lifecycle"][2]["details"]["code_tried"])["status"] == \
        "Expired or Not Found"


def test_carrier_comes_from_phonenumbers_metadata(client: httpx.Client) -> None:
    number = "+34699999999"
    send_phone(client, number)
    phone = approve(client, number)["phone"]
    assert phone["carrier"] == {"name": "Movistar", "type": "mobile"}
    assert (phone["country_code"], phone["country_name"], phone["phone_number_prefix"]) == ("ES", "Spain", "+34")
    landline = "+34911234567"
    send_phone(client, landline, options={"preferred_channel": "sms"})
    assert approve(client, landline)["phone"]["carrier"]["type"] == "fixed_line"


def test_wrong_codes_fail_then_decline_on_the_third(client: httpx.Client) -> None:
    sent = send_phone(client, NUMBER, vendor_data="user-1")
    code = phone_code(client, NUMBER)["code"]
    first = check_phone(client, NUMBER, wrong(code))
    assert first["status"] == "Failed" and first["phone"] is None
    assert first["message"] == "The verification code is incorrect. Attempts remaining: 2"
    assert first["request_id"] != sent["request_id"] and first["vendor_data"] == "user-1"
    second = check_phone(client, NUMBER, "0000")
    assert second["message"] == "The verification code is incorrect. Attempts remaining: 1"
    assert phone_code(client, NUMBER)["attempts_left"] == 1
    third = check_phone(client, NUMBER, "99999999")
    assert third["status"] == "Declined"
    assert third["message"] == "The verification code is incorrect. Maximum attempts reached."
    assert third["request_id"] == sent["request_id"]
    phone = third["phone"]
    assert phone["status"] == "Declined" and phone["verified_at"] is None
    assert phone["warnings"] == [{
        "feature": "PHONE", "risk": "VERIFICATION_CODE_ATTEMPTS_EXCEEDED", "additional_data": None,
        "log_type": "error", "short_description": "Verification code attempts exceeded",
        "long_description": "The system detected that the phone number has exceeded the maximum number of "
                            "verification code attempts.",
    }]
    assert lifecycle_types(phone)[-4:] == ["INVALID_CODE_ENTERED"] * 3 + ["PHONE_VERIFICATION_DECLINED"]
    assert phone["lifecycle"][-1]["details"] == {"reason": "VERIFICATION_CODE_ATTEMPTS_EXCEEDED"}
    assert check_phone(client, NUMBER, code)["status"] == "Expired or Not Found"
    assert phone_code(client, NUMBER)["status"] == "Declined"


def test_right_code_after_wrong_ones_still_approves(client: httpx.Client) -> None:
    send_phone(client, NUMBER)
    code = phone_code(client, NUMBER)["code"]
    check_phone(client, NUMBER, wrong(code))
    check_phone(client, NUMBER, wrong(code))
    assert check_phone(client, NUMBER, code)["status"] == "Approved"


@pytest.mark.parametrize(("code", "errors"), [
    ("12a4", {"code": ["Invalid code format. Enter 4 to 8 numeric digits."]}),
    ("123", {"code": ["Invalid code format. Enter 4 to 8 numeric digits."]}),
    ("123456789", {"code": ["Invalid code format. Enter 4 to 8 numeric digits."]}),
    (" 123456", {"code": ["Invalid code format. Enter 4 to 8 numeric digits."]}),
    ("", {"code": ["This field may not be blank."]}),
    (None, {"code": ["This field may not be null."]}),
])
def test_malformed_codes_are_400_and_use_no_attempt(client: httpx.Client, code: object, errors: dict) -> None:
    send_phone(client, NUMBER)
    assert post(client, PHONE_CHECK, {"phone_number": NUMBER, "code": code}, 400) == errors
    assert phone_code(client, NUMBER)["attempts_left"] == 3


@pytest.mark.parametrize(("body", "errors"), [
    ({"phone_number": NUMBER}, {"code": ["This field is required."]}),
    ({"code": "123456"}, {"phone_number": ["This field is required."]}),
    ({"phone_number": "+1415", "code": "123456"}, {"phone_number": ["Invalid phone number provided."]}),
    ({"phone_number": NUMBER, "code": "123456", "voip_number_action": "REVIEW",
      "disposable_number_action": "x", "duplicated_phone_number_action": "decline"},
     {"voip_number_action": ['"REVIEW" is not a valid choice.'],
      "disposable_number_action": ['"x" is not a valid choice.'],
      "duplicated_phone_number_action": ['"decline" is not a valid choice.']}),
    ({"phone_number": NUMBER, "code": "123456", "phone_no_social_presence_action": "REVIEW"},
     {"phone_no_social_presence_action": ['"REVIEW" is not a valid choice.']}),
])
def test_check_validation_errors(client: httpx.Client, body: dict, errors: dict) -> None:
    send_phone(client, NUMBER)
    assert post(client, PHONE_CHECK, body, 400) == errors
    assert phone_code(client, NUMBER)["attempts_left"] == 3


def test_social_flags_are_accepted(client: httpx.Client) -> None:
    send_phone(client, NUMBER)
    code = phone_code(client, NUMBER)["code"]
    result = check_phone(client, NUMBER, code, enable_social=True, phone_no_social_presence_action="DECLINE")
    assert result["status"] == "Approved"


# ---------------------------------------------------------------- expiry

def test_code_expires_five_minutes_after_the_first_send(client: httpx.Client) -> None:
    sent = send_phone(client, NUMBER)
    code = phone_code(client, NUMBER)["code"]
    advance(client, 200)
    assert send_phone(client, NUMBER)["status"] == "Retry"  # does not extend the window
    advance(client, 99)
    assert phone_code(client, NUMBER)["status"] == "Not Finished"
    advance(client, 1)
    readout = phone_code(client, NUMBER)
    assert readout["status"] == "Expired" and readout["request_id"] == sent["request_id"]
    assert check_phone(client, NUMBER, code)["status"] == "Expired or Not Found"
    decision = client.get(f"/v3/session/{sent['request_id']}/decision/").json()
    assert decision["status"] == "Expired"
    assert lifecycle_types(decision["phone_verifications"][0])[-1] == "PHONE_VERIFICATION_EXPIRED"
    assert send_phone(client, NUMBER)["status"] == "Success"


def test_check_just_before_expiry_still_works(client: httpx.Client) -> None:
    send_phone(client, NUMBER)
    advance(client, 299.5)
    assert approve(client)["status"] == "Approved"


def test_expires_at_is_five_minutes_after_send(client: httpx.Client, server) -> None:
    send_phone(client, NUMBER)
    tenant = server.registry.get(client.headers["x-api-key"])
    readout = phone_code(client, NUMBER)
    from didit_mock.domain.clock import parse_iso

    assert parse_iso(readout["expires_at"]).timestamp() == pytest.approx(tenant.clock.timestamp() + 300, abs=1e-3)


# ---------------------------------------------------------------- concurrency

def test_parallel_wrong_guesses_get_exactly_three_tries(client: httpx.Client, server) -> None:
    send_phone(client, NUMBER)
    code = phone_code(client, NUMBER)["code"]
    guesses = [f"{n:06d}" for n in range(40) if f"{n:06d}" != code]
    key = client.headers["x-api-key"]

    def guess(value: str) -> str:
        with httpx.Client(base_url=server.url, headers={"x-api-key": key}, timeout=30) as http:
            response = http.post(PHONE_CHECK, json={"phone_number": NUMBER, "code": value})
            assert response.status_code == 200
            return response.json()["status"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(guess, guesses))
    assert statuses.count("Failed") == 2
    assert statuses.count("Declined") == 1
    assert statuses.count("Expired or Not Found") == len(guesses) - 3
    assert check_phone(client, NUMBER, code)["status"] == "Expired or Not Found"
    readout = phone_code(client, NUMBER)
    assert readout["status"] == "Declined" and readout["attempts_left"] == 0
    decision = client.get(f"/v3/session/{readout['request_id']}/decision/").json()
    assert lifecycle_types(decision["phone_verifications"][0]).count("INVALID_CODE_ENTERED") == 3


# ---------------------------------------------------------------- fraud signals

def test_voip_number_is_flagged_and_declined_on_request(client: httpx.Client) -> None:
    send_phone(client, VOIP)
    phone = approve(client, VOIP)["phone"]
    assert phone["status"] == "Approved" and phone["is_virtual"] is True
    assert phone["carrier"] == {"name": "CLEC LLC", "type": "voip"}
    assert risks(phone) == {"VOIP_NUMBER_DETECTED": "information"}
    send_phone(client, VOIP)
    result = approve(client, VOIP, voip_number_action="DECLINE")
    assert result["status"] == "Declined" and result["message"] == "The verification code is correct."
    assert risks(result["phone"]) == {"VOIP_NUMBER_DETECTED": "error"}
    assert result["phone"]["verified_at"] is not None
    assert result["phone"]["lifecycle"][-1] == {**result["phone"]["lifecycle"][-1], "type": "PHONE_VERIFICATION_DECLINED",
                                                "details": {"reason": "VOIP_NUMBER_DETECTED"}}


def test_disposable_number_is_flagged_and_declined_on_request(client: httpx.Client) -> None:
    send_phone(client, DISPOSABLE)
    phone = approve(client, DISPOSABLE)["phone"]
    assert phone["status"] == "Approved" and phone["is_disposable"] is True
    assert risks(phone) == {"DISPOSABLE_NUMBER_DETECTED": "information"}
    send_phone(client, DISPOSABLE)
    result = approve(client, DISPOSABLE, disposable_number_action="DECLINE")
    assert result["status"] == "Declined"
    assert risks(result["phone"]) == {"DISPOSABLE_NUMBER_DETECTED": "error"}


def test_configured_disposable_and_voip_ranges(client: httpx.Client) -> None:
    configure(client, disposable_numbers=["+1415555"], carriers={"+1415555": {"name": "Burner Inc", "type": "voip"}})
    send_phone(client, NUMBER)
    phone = approve(client, NUMBER, voip_number_action="DECLINE")["phone"]
    assert phone["carrier"] == {"name": "Burner Inc", "type": "voip"}
    assert risks(phone) == {"DISPOSABLE_NUMBER_DETECTED": "information", "VOIP_NUMBER_DETECTED": "error"}


def test_duplicated_number_of_another_user(client: httpx.Client) -> None:
    first = send_phone(client, NUMBER, vendor_data="alice")
    approve(client)
    send_phone(client, NUMBER, vendor_data="bob")
    phone = approve(client)["phone"]
    assert phone["status"] == "Approved"
    assert risks(phone) == {"DUPLICATED_PHONE_NUMBER": "information"}
    assert phone["warnings"][0]["additional_data"] == {"duplicated_session_id": first["request_id"]}
    match = phone["matches"][0]
    assert match["session_id"] == first["request_id"] and match["vendor_data"] == "alice"
    assert match["status"] == "Approved" and match["source"] == "session" and match["is_blocklisted"] is False
    assert match["api_service"] == "PHONE_VERIFICATION" and match["phone_number"] == NUMBER
    send_phone(client, NUMBER, vendor_data="carol")
    declined = approve(client, duplicated_phone_number_action="DECLINE")
    assert declined["status"] == "Declined"
    assert risks(declined["phone"]) == {"DUPLICATED_PHONE_NUMBER": "error"}


def test_same_user_or_unknown_user_is_not_a_duplicate(client: httpx.Client) -> None:
    send_phone(client, NUMBER, vendor_data="alice")
    approve(client)
    send_phone(client, NUMBER, vendor_data="alice")
    phone = approve(client, duplicated_phone_number_action="DECLINE")["phone"]
    assert phone["status"] == "Approved" and phone["warnings"] == [] and phone["matches"] == []
    send_phone(client, NUMBER)
    assert approve(client, duplicated_phone_number_action="DECLINE")["status"] == "Approved"


def test_high_risk_number_is_blocked_at_send(client: httpx.Client) -> None:
    sent = send_phone(client, HIGH_RISK)
    assert sent["status"] == "Blocked" and sent["reason"] == "suspicious"
    assert check_phone(client, HIGH_RISK, "123456")["status"] == "Expired or Not Found"
    decision = client.get(f"/v3/session/{sent['request_id']}/decision/").json()
    assert decision["status"] == "Declined"
    phone = decision["phone_verifications"][0]
    assert risks(phone) == {"HIGH_RISK_PHONE_NUMBER": "error"}
    assert lifecycle_types(phone) == ["PHONE_VERIFICATION_BLOCKED", "PHONE_VERIFICATION_DECLINED"]
    assert phone_code(client, HIGH_RISK)["code"] is None


def test_number_becoming_high_risk_is_declined_at_check(client: httpx.Client) -> None:
    send_phone(client, NUMBER)
    configure(client, high_risk_prefixes=["+1415"])
    result = approve(client)
    assert result["status"] == "Declined" and result["message"] == "The verification code is correct."
    assert risks(result["phone"]) == {"HIGH_RISK_PHONE_NUMBER": "error"}


def test_by_value_blocklist_blocks_and_declines(client: httpx.Client) -> None:
    send_phone(client, NUMBER, vendor_data="u")
    configure(client, blocked_numbers=[NUMBER])
    result = approve(client)
    assert result["status"] == "Declined"
    assert risks(result["phone"]) == {"PHONE_NUMBER_IN_BLOCKLIST": "error"}
    assert send_phone(client, NUMBER)["status"] == "Blocked"
    configure(client, blocked_numbers=[])
    assert send_phone(client, NUMBER)["status"] == "Success"


def test_forced_send_status(client: httpx.Client) -> None:
    configure(client, phone_send_status={"+1415555": {"status": "Blocked", "reason": "spam"}})
    blocked = send_phone(client, NUMBER, vendor_data="v")
    assert blocked == {"request_id": phone_code(client, NUMBER)["request_id"], "status": "Blocked",
                       "reason": "spam", "vendor_data": "v", "metadata": None}
    assert phone_code(client, NUMBER)["status"] == "Declined"
    configure(client, phone_send_status={"+34": {"status": "Retry"}})
    number = "+34699999999"
    first = send_phone(client, number)
    assert first["status"] == "Retry"
    assert phone_code(client, number)["request_id"] == first["request_id"]


# ---------------------------------------------------------------- sessions, events, credits

def test_request_id_is_a_session_with_a_decision(client: httpx.Client) -> None:
    sent = send_phone(client, NUMBER, vendor_data="user-9", metadata={"k": "v"})
    pending = client.get(f"/v3/session/{sent['request_id']}/decision/").json()
    assert pending["status"] == "In Progress" and pending["features"] == ["PHONE"]
    assert pending["phone_verifications"][0]["status"] == "Not Finished"
    approve(client)
    decision = client.get(f"/v3/session/{sent['request_id']}/decision/").json()
    assert decision["session_id"] == sent["request_id"]
    assert decision["status"] == "Approved" and decision["session_kind"] == "user"
    assert decision["vendor_data"] == "user-9" and decision["metadata"] == {"k": "v"}
    assert decision["environment"] == "sandbox" and decision["reviews"] == []
    assert decision["email_verifications"] is None and decision["id_verifications"] is None
    item = decision["phone_verifications"][0]
    assert item["node_id"] == "feature_phone_1" and item["status"] == "Approved"
    assert set(item) == PHONE_KEYS | {"node_id"}


def test_status_changes_are_events(client: httpx.Client, server) -> None:
    tenant = server.registry.get(client.headers["x-api-key"])
    seen: list[tuple[str, str, str]] = []
    tenant.events.subscribe(lambda e: seen.append((e.subject, e.session_id, e.status)))
    first = send_phone(client, NUMBER)
    approve(client)
    second = send_phone(client, NUMBER)
    advance(client, 300)
    blocked = send_phone(client, HIGH_RISK)
    assert seen == [
        ("phone", first["request_id"], "In Progress"), ("phone", first["request_id"], "Approved"),
        ("phone", second["request_id"], "In Progress"), ("phone", second["request_id"], "Expired"),
        ("phone", blocked["request_id"], "Declined"),
    ]


def test_live_tenant_pays_one_credit_per_success_send(server) -> None:
    key = new_key("sk_live_")
    with httpx.Client(base_url=server.url, headers={"x-api-key": key}, timeout=10) as live:
        server.registry.get(key).config.credits = 1
        assert send_phone(live, NUMBER)["status"] == "Success"
        assert send_phone(live, NUMBER)["status"] == "Retry"  # retries are free
        assert send_phone(live, HIGH_RISK)["status"] == "Blocked"  # refusals are free
        response = live.post(PHONE_SEND, json={"phone_number": "+14155552672"})
        assert response.status_code == 403
        assert response.json() == {"error": "You don't have enough credits to perform this request."}
        assert_conforms("POST", PHONE_SEND, 403, response.json())
        assert live.get("/_mock/phone/+14155552672/code").status_code == 404
        server.registry.get(key).config.credits = 2
        assert send_phone(live, "+14155552672")["status"] == "Success"
        assert server.registry.get(key).config.credits == 1


def test_sandbox_tenants_are_not_charged(client: httpx.Client, server) -> None:
    server.registry.get(client.headers["x-api-key"]).config.credits = 0
    assert send_phone(client, NUMBER)["status"] == "Success"


def test_tenants_are_isolated(client: httpx.Client, server) -> None:
    send_phone(client, NUMBER)
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}, timeout=10) as other:
        assert other.get(f"/_mock/phone/{NUMBER}/code").status_code == 404
        assert check_phone(other, NUMBER, phone_code(client, NUMBER)["code"])["status"] == "Expired or Not Found"


# ---------------------------------------------------------------- read-out and fixed codes

def test_readout_accepts_encoded_and_raw_plus(client: httpx.Client) -> None:
    assert client.get(f"/_mock/phone/{NUMBER}/code").json() == {"detail": "Not found."}
    send_phone(client, NUMBER)
    encoded = client.get("/_mock/phone/%2B14155552671/code")
    raw = client.get("/_mock/phone/+14155552671/code")
    assert encoded.status_code == raw.status_code == 200
    assert encoded.json() == raw.json()
    assert set(raw.json()) == {"code", "attempts_left", "expires_at", "request_id", "status"}
    assert client.get("/_mock/phone/14155552671/code").json() == raw.json()
    assert client.get("/_mock/phone/not-a-number/code").status_code == 404


def test_fixed_codes_by_prefix(client: httpx.Client) -> None:
    response = client.post("/_mock/phone/codes", json={"prefix": "+1415", "code": "123456"})
    assert response.status_code == 200
    client.post("/_mock/phone/codes", json={"prefix": "+14155552671", "code": "4321"})
    send_phone(client, "+14155552672")
    assert check_phone(client, "+14155552672", "123456")["status"] == "Approved"
    send_phone(client, NUMBER)
    assert phone_code(client, NUMBER)["code"] == "4321"  # the longest prefix wins
    listing = client.get("/_mock/phone/codes").json()
    assert listing == {"codes": [{"prefix": "+1415", "code": "123456"}, {"prefix": "+14155552671", "code": "4321"}]}
    client.post("/_mock/phone/codes", json={"prefix": "+1415", "code": None})
    assert client.get("/_mock/phone/codes").json()["codes"] == [{"prefix": "+14155552671", "code": "4321"}]
    bad = client.post("/_mock/phone/codes", json={"prefix": "1415", "code": "12"})
    assert bad.status_code == 400 and set(bad.json()) == {"prefix", "code"}


def test_every_sent_code_is_logged(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="didit_mock.otp"):
        send_phone(client, NUMBER)
    code = phone_code(client, NUMBER)["code"]
    assert any(code in r.getMessage() and NUMBER in r.getMessage() for r in caplog.records
               if r.name == "didit_mock.otp")


def test_config_can_be_read_patched_and_reset(client: httpx.Client) -> None:
    config = client.get("/_mock/otp/config").json()
    assert config["high_risk_prefixes"] == ["+1900555"] and "mailinator.com" in config["disposable_domains"]
    patched = configure(client, high_risk_prefixes=["+44"], hourly_send_cap=2)
    assert patched["high_risk_prefixes"] == ["+44"] and patched["disposable_numbers"] == ["+61491570"]
    bad = client.patch("/_mock/otp/config", json={"hourly_send_cap": -1, "nonsense": 1})
    assert bad.status_code == 400
    assert client.post("/_mock/otp/config/reset").json() == config


def test_approval_is_delivered_as_a_status_updated_webhook(client: httpx.Client) -> None:
    from didit_mock.testing import WebhookReceiver

    with WebhookReceiver("otp-secret") as receiver:
        response = client.post("/_mock/webhook", json={"url": receiver.url, "secret": "otp-secret"})
        assert response.status_code == 200, response.text
        sent = send_phone(client, NUMBER, vendor_data="hook-user", metadata={"n": 1})
        approve(client)
        delivery = receiver.wait(timeout=8, status="Approved")
        payload = delivery.json
        assert delivery.verify()
        assert payload["webhook_type"] == "status.updated" and payload["session_id"] == sent["request_id"]
        assert payload["vendor_data"] == "hook-user" and payload["metadata"] == {"n": 1}
        assert "decision" not in payload  # standalone webhooks carry no decision (webhook owner's call)
