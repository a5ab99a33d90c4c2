"""Helpers shared by the phone, email and blocklist tests."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from tests.contract.conformance import assert_conforms

PHONE_SEND = "/v3/phone/send/"
PHONE_CHECK = "/v3/phone/check/"
EMAIL_SEND = "/v3/email/send/"
EMAIL_CHECK = "/v3/email/check/"


def post(client: httpx.Client, path: str, body: object, status: int = 200) -> dict:
    """POST a body, assert the status and, for documented responses, Didit's schema."""
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    payload = response.json()
    if path in (PHONE_SEND, PHONE_CHECK, EMAIL_SEND, EMAIL_CHECK):
        assert_conforms("POST", path, status, payload)
    return payload


def send_phone(client: httpx.Client, number: str, **fields: object) -> dict:
    return post(client, PHONE_SEND, {"phone_number": number, **fields})


def check_phone(client: httpx.Client, number: str, code: str, **fields: object) -> dict:
    return post(client, PHONE_CHECK, {"phone_number": number, "code": code, **fields})


def send_email(client: httpx.Client, email: str, **fields: object) -> dict:
    return post(client, EMAIL_SEND, {"email": email, **fields})


def check_email(client: httpx.Client, email: str, code: str, **fields: object) -> dict:
    return post(client, EMAIL_CHECK, {"email": email, "code": code, **fields})


def phone_code(client: httpx.Client, number: str) -> dict:
    response = client.get(f"/_mock/phone/{quote(number, safe='')}/code")
    assert response.status_code == 200, response.text
    return response.json()


def email_code(client: httpx.Client, email: str) -> dict:
    response = client.get(f"/_mock/email/{quote(email, safe='')}/code")
    assert response.status_code == 200, response.text
    return response.json()


def wrong(code: str) -> str:
    """A well-formed code of the same length that is not `code`."""
    return "".join("1" if ch != "1" else "2" for ch in code)


def configure(client: httpx.Client, **changes: object) -> dict:
    response = client.patch("/_mock/otp/config", json=changes)
    assert response.status_code == 200, response.text
    return response.json()


def risks(report: dict) -> dict[str, str]:
    """risk -> log_type of a phone/email report's warnings."""
    return {w["risk"]: w["log_type"] for w in report["warnings"]}


def lifecycle_types(report: dict) -> list[str]:
    return [event["type"] for event in report["lifecycle"]]
