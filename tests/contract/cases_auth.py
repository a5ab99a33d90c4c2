"""Contract cases of the Auth API (`/auth/v2`)."""

from __future__ import annotations

import uuid

import httpx

from tests.contract.test_contract import WAIVED, Ctx, case

A = "/auth/v2"
P = "S3cure!Passw0rd"
ORGS = f"{A}/organizations/me/"
APPS = f"{A}/organizations/me/{{organization_id}}/applications/"
APP = f"{A}/organizations/me/{{organization_id}}/applications/{{application_id}}/"

WAIVED.update({
    ("POST", f"{A}/programmatic/register/", "429"): "the per-IP sign-up limit is not emulated (every test shares an IP)",
    ("GET", ORGS, "403"): "an invalid token is answered 401 (Didit answers 401 or 403)",
})


def _email() -> str:
    return f"contract-{uuid.uuid4().hex[:8]}@acme.dev"


def _registered(c: Ctx) -> str:
    email = _email()
    assert c.anon.post(f"{A}/programmatic/register/", json={"email": email, "password": P}).status_code == 201
    return email


def _verified(c: Ctx) -> tuple[dict, dict[str, str]]:
    email = _registered(c)
    code = c.anon.get(f"/_mock/auth/{email}/code").json()["code"]
    body = c.anon.post(f"{A}/programmatic/verify-email/", json={"email": email, "code": code}).json()
    return body, {"Authorization": f"Bearer {body['access_token']}"}


def _apps_path(body: dict) -> str:
    return f"{A}/organizations/me/{body['organization']['uuid']}/applications/"


case("POST", f"{A}/programmatic/register/", "201")(
    lambda c: c.anon.post(f"{A}/programmatic/register/", json={"email": _email(), "password": P}))
case("POST", f"{A}/programmatic/register/", "400")(
    lambda c: c.anon.post(f"{A}/programmatic/register/", json={"email": "not-an-email", "password": P}))
case("POST", f"{A}/programmatic/register/", "500")(
    lambda c: c.anon.post(f"{A}/programmatic/register/", json={"email": "a@example.com", "password": P}))


@case("POST", f"{A}/programmatic/verify-email/", "200")
def _verify_200(c: Ctx) -> httpx.Response:
    email = _registered(c)
    code = c.anon.get(f"/_mock/auth/{email}/code").json()["code"]
    return c.anon.post(f"{A}/programmatic/verify-email/", json={"email": email, "code": code})


case("POST", f"{A}/programmatic/verify-email/", "400")(
    lambda c: c.anon.post(f"{A}/programmatic/verify-email/", json={"email": _registered(c), "code": "ZZZZZ0"}))
case("POST", f"{A}/programmatic/resend-otp/", "200")(
    lambda c: c.anon.post(f"{A}/programmatic/resend-otp/", json={"email": _registered(c)}))
case("POST", f"{A}/programmatic/resend-otp/", "400")(
    lambda c: c.anon.post(f"{A}/programmatic/resend-otp/", json={"email": "nope"}))
case("POST", f"{A}/programmatic/resend-otp/", "404")(
    lambda c: c.anon.post(f"{A}/programmatic/resend-otp/", json={"email": _email()}))


@case("POST", f"{A}/programmatic/login/", "200")
def _login_200(c: Ctx) -> httpx.Response:
    email = c.anon.get(ORGS, headers=_verified(c)[1]).json()[0]["contact_email"]
    return c.anon.post(f"{A}/programmatic/login/", json={"email": email, "password": P})


case("POST", f"{A}/programmatic/login/", "400")(
    lambda c: c.anon.post(f"{A}/programmatic/login/", json={"email": _email()}))
case("POST", f"{A}/programmatic/login/", "401")(
    lambda c: c.anon.post(f"{A}/programmatic/login/", json={"email": _email(), "password": P}))
case("POST", f"{A}/programmatic/login/", "403")(
    lambda c: c.anon.post(f"{A}/programmatic/login/", json={"email": _registered(c), "password": P}))


@case("POST", f"{A}/programmatic/login/", "429")
def _login_429(c: Ctx) -> httpx.Response:
    email = _registered(c)
    for _ in range(5):
        c.anon.post(f"{A}/programmatic/login/", json={"email": email, "password": "Wr0ng!Pass"})
    return c.anon.post(f"{A}/programmatic/login/", json={"email": email, "password": P})


case("GET", ORGS, "200")(lambda c: c.anon.get(ORGS, headers=_verified(c)[1]))
case("GET", ORGS, "401")(lambda c: c.anon.get(ORGS, headers={"Authorization": "Bearer invalid_token_for_testing"}))


@case("GET", APPS, "200")
def _apps_200(c: Ctx) -> httpx.Response:
    body, headers = _verified(c)
    return c.anon.get(_apps_path(body), headers=headers)


case("GET", APPS, "401")(lambda c: c.anon.get(_apps_path(_verified(c)[0])))


@case("GET", APPS, "403")
def _apps_403(c: Ctx) -> httpx.Response:
    _, headers = _verified(c)
    return c.anon.get(_apps_path(_verified(c)[0]), headers=headers)


case("GET", APPS, "404")(lambda c: c.anon.get(f"{A}/organizations/me/{uuid.uuid4()}/applications/",
                                              headers=_verified(c)[1]))


@case("GET", APP, "200")
def _app_200(c: Ctx) -> httpx.Response:
    body, headers = _verified(c)
    return c.anon.get(f"{_apps_path(body)}{body['application']['uuid']}/", headers=headers)


case("GET", APP, "401")(lambda c: c.anon.get(f"{_apps_path(_verified(c)[0])}{uuid.uuid4()}/"))


@case("GET", APP, "403")
def _app_403(c: Ctx) -> httpx.Response:
    _, headers = _verified(c)
    other = _verified(c)[0]
    return c.anon.get(f"{_apps_path(other)}{other['application']['uuid']}/", headers=headers)


@case("GET", APP, "404")
def _app_404(c: Ctx) -> httpx.Response:
    body, headers = _verified(c)
    return c.anon.get(f"{_apps_path(body)}{uuid.uuid4()}/", headers=headers)
