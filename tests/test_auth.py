"""The Auth API: sign-up by e-mail code, login, organizations and applications, the new tenant's key."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from didit_mock.server import MockServer
from tests.conftest import KYC_WORKFLOW

PASSWORD = "S3cure!Passw0rd"
AUTH = "/auth/v2"


def _email() -> str:
    return f"founder-{uuid.uuid4().hex[:8]}@acme.dev"


def _code(anon: httpx.Client, email: str) -> str:
    response = anon.get(f"/_mock/auth/{email}/code")
    assert response.status_code == 200, response.text
    return response.json()["code"]


def sign_up(anon: httpx.Client, email: str | None = None) -> dict:
    email = email or _email()
    registered = anon.post(f"{AUTH}/programmatic/register/", json={"email": email, "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    verified = anon.post(f"{AUTH}/programmatic/verify-email/", json={"email": email, "code": _code(anon, email)})
    assert verified.status_code == 200, verified.text
    return {"email": email, **verified.json()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sign_up_gives_a_working_empty_tenant(server: MockServer, anon: httpx.Client) -> None:
    email = _email()
    registered = anon.post(f"{AUTH}/programmatic/register/", json={"email": email, "password": PASSWORD})
    assert registered.json() == {"message": "Registration successful. Check your email for the verification code.",
                                 "email": email}
    code = _code(anon, email)
    assert len(code) == 6 and code.isalnum()
    verified = anon.post(f"{AUTH}/programmatic/verify-email/", json={"email": email, "code": code}).json()
    app = verified["application"]
    assert app["api_key"].startswith("sk_test_") and verified["expires_in"] == 86400
    with httpx.Client(base_url=server.url, headers={"x-api-key": app["api_key"]}, timeout=10) as tenant:
        info = tenant.get("/_mock/tenant").json()
        assert info["application_id"] == app["uuid"]
        assert info["organization_id"] == verified["organization"]["uuid"]
        assert tenant.get("/v3/sessions/").json()["count"] == 0
        assert tenant.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW}).status_code == 201
    # The code is spent: a second verification fails, and the admin route has nothing to show.
    again = anon.post(f"{AUTH}/programmatic/verify-email/", json={"email": email, "code": code})
    assert again.status_code == 400
    assert anon.get(f"/_mock/auth/{email}/code").status_code == 404


def test_login_and_organizations(anon: httpx.Client) -> None:
    account = sign_up(anon)
    login = anon.post(f"{AUTH}/programmatic/login/", json={"email": account["email"], "password": PASSWORD})
    assert login.status_code == 200 and login.json()["message"] == "Login successful"
    headers = bearer(login.json()["access_token"])
    org = account["organization"]["uuid"]
    orgs = anon.get(f"{AUTH}/organizations/me/", headers=headers).json()
    assert orgs == [{"uuid": org, "name": "Acme", "contact_email": account["email"]}]
    apps = anon.get(f"{AUTH}/organizations/me/{org}/applications/", headers=headers).json()
    assert apps == [account["application"]]
    app_id = account["application"]["uuid"]
    one = anon.get(f"{AUTH}/organizations/me/{org}/applications/{app_id}/", headers=headers)
    assert one.json() == account["application"]
    # The verify-email token works as well.
    assert anon.get(f"{AUTH}/organizations/me/", headers=bearer(account["access_token"])).status_code == 200
    # Another account's organization is forbidden; an unknown one is not found.
    other = sign_up(anon)
    assert anon.get(f"{AUTH}/organizations/me/{other['organization']['uuid']}/applications/",
                    headers=headers).status_code == 403
    assert anon.get(f"{AUTH}/organizations/me/{uuid.uuid4()}/applications/", headers=headers).status_code == 404
    assert anon.get(f"{AUTH}/organizations/me/{org}/applications/{uuid.uuid4()}/", headers=headers).status_code == 404


def test_bad_tokens_passwords_and_unverified_accounts(anon: httpx.Client) -> None:
    assert anon.get(f"{AUTH}/organizations/me/").status_code == 401
    bad = anon.get(f"{AUTH}/organizations/me/", headers=bearer("invalid_token_for_testing"))
    assert bad.status_code == 401 and bad.json() == {"detail": "Given token not valid for any token type"}
    unknown = anon.post(f"{AUTH}/programmatic/login/", json={"email": "nonexistent-test@acme.dev",
                                                             "password": "FakeP@ss123"})
    assert unknown.status_code == 401 and unknown.json() == {"detail": "Invalid email or password."}
    email = _email()
    anon.post(f"{AUTH}/programmatic/register/", json={"email": email, "password": PASSWORD})
    pending = anon.post(f"{AUTH}/programmatic/login/", json={"email": email, "password": PASSWORD})
    assert pending.status_code == 403 and pending.json() == {"detail": "Email address is not verified."}
    assert anon.post(f"{AUTH}/programmatic/register/", json={"email": "not-an-email",
                                                             "password": "FakeP@ss123"}).status_code == 400
    weak = anon.post(f"{AUTH}/programmatic/register/", json={"email": _email(), "password": "password"})
    assert weak.status_code == 400 and "password" in weak.json()
    reserved = anon.post(f"{AUTH}/programmatic/register/", json={"email": "a@example.com", "password": PASSWORD})
    assert reserved.status_code == 500 and reserved.json() == {"detail": "Failed to send verification email."}
    registered = sign_up(anon)
    again = anon.post(f"{AUTH}/programmatic/register/", json={"email": registered["email"], "password": PASSWORD})
    assert again.status_code == 400


def test_lockout_after_five_wrong_passwords(anon: httpx.Client) -> None:
    account = sign_up(anon)
    wrong = {"email": account["email"], "password": "Wr0ng!Password"}
    assert [anon.post(f"{AUTH}/programmatic/login/", json=wrong).status_code for _ in range(5)] == [401] * 5
    right = {"email": account["email"], "password": PASSWORD}
    locked = anon.post(f"{AUTH}/programmatic/login/", json=right)
    assert locked.status_code == 429 and "15 minutes" in locked.json()["detail"]
    anon.post("/_mock/auth/clock/advance", json={"seconds": 15 * 60})
    assert anon.post(f"{AUTH}/programmatic/login/", json=right).status_code == 200


def test_the_code_expires_after_fifteen_minutes_and_resend_gives_a_new_one(anon: httpx.Client) -> None:
    email = _email()
    anon.post(f"{AUTH}/programmatic/register/", json={"email": email, "password": PASSWORD})
    first = _code(anon, email)
    anon.post("/_mock/auth/clock/advance", json={"seconds": 15 * 60})
    expired = anon.post(f"{AUTH}/programmatic/verify-email/", json={"email": email, "code": first})
    assert expired.status_code == 400 and expired.json() == {"code": ["Invalid or expired verification code."]}
    resent = anon.post(f"{AUTH}/programmatic/resend-otp/", json={"email": email})
    assert resent.status_code == 200 and resent.json()["email"] == email
    second = _code(anon, email)
    ok = anon.post(f"{AUTH}/programmatic/verify-email/", json={"email": email, "code": second})
    assert ok.status_code == 200
    assert anon.post(f"{AUTH}/programmatic/resend-otp/", json={"email": email}).status_code == 404


def test_accounts_survive_a_state_file_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    with MockServer(state_file=str(state_file)) as first, httpx.Client(base_url=first.url, timeout=10) as anon:
        account = sign_up(anon)
        key = account["application"]["api_key"]
        created = anon.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW}, headers={"x-api-key": key})
        assert created.status_code == 201
    with MockServer(state_file=str(state_file)) as second, httpx.Client(base_url=second.url, timeout=10) as anon:
        login = anon.post(f"{AUTH}/programmatic/login/", json={"email": account["email"], "password": PASSWORD})
        assert login.status_code == 200, login.text
        headers = bearer(login.json()["access_token"])
        org = account["organization"]["uuid"]
        assert anon.get(f"{AUTH}/organizations/me/{org}/applications/", headers=headers).json() == \
            [account["application"]]
        sessions = anon.get("/v3/sessions/", headers={"x-api-key": key}).json()
        assert sessions["count"] == 1
