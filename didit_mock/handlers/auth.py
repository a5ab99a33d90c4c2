"""The Auth API under `/auth/v2`: programmatic sign-up, e-mail verification, login, organizations."""

from __future__ import annotations

from typing import Any

from ..domain import accounts
from ..domain.accounts import Account, AccountBook
from ..domain.errors import (
    FIELD_REQUIRED,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    not_a_dictionary,
)
from ..domain.tenant import TenantRegistry
from ..spec.overlay import NOT_PROVIDED
from ..web.http import read_json
from ..web.operations import Call, operation

INVALID_TOKEN = "Given token not valid for any token type"


def book_of(registry: TenantRegistry) -> AccountBook:
    return registry.service(AccountBook)


def _email(call: Call) -> str:
    email = str(call.body["email"])
    if not accounts.valid_email(email):
        raise ValidationFailed.field("email", accounts.INVALID_EMAIL)
    return email


@operation("auth_register", body=None)
async def register(call: Call) -> dict[str, Any]:
    """Checked by hand: Didit reports one password rule at a time, in its own words."""
    document = await read_json(call.request)
    if not isinstance(document, dict):
        raise not_a_dictionary(document)
    for name in ("email", "password"):
        if document.get(name) is None:
            raise ValidationFailed.field(name, FIELD_REQUIRED)
        if not isinstance(document[name], str):
            raise ValidationFailed.field(name, "Not a valid string.")
    call.body = document
    email = _email(call)
    book = book_of(call.registry)
    with book.lock:
        account = book.register(email, document["password"])
    return {"message": accounts.REGISTERED, "email": account.email}


@operation("auth_resend_otp")
def resend(call: Call) -> dict[str, Any]:
    email = _email(call)
    book = book_of(call.registry)
    with book.lock:
        account = book.resend(email)
    return {"message": accounts.RESENT, "email": account.email}


@operation("auth_verify_email")
def verify_email(call: Call) -> dict[str, Any]:
    email = _email(call)
    book = book_of(call.registry)
    with book.lock:
        account, _tenant, token = book.verify(email, str(call.body["code"]))
        refresh = book.refresh_token(account)
    return {
        "access_token": token, "refresh_token": refresh, "expires_in": accounts.TOKEN_LIFETIME,
        "organization": {"uuid": account.organization_id, "name": account.organization_name},
        "application": account.application(),
    }


@operation("auth_login")
def login(call: Call) -> dict[str, Any]:
    book = book_of(call.registry)
    with book.lock:
        account, token = book.login(str(call.body["email"]), str(call.body["password"]))
        refresh = book.refresh_token(account)
    return {"access_token": token, "refresh_token": refresh, "expires_in": accounts.TOKEN_LIFETIME,
            "message": accounts.LOGGED_IN}


def _caller(call: Call) -> Account:
    """The account of the request's `Authorization: Bearer <access_token>` (401 otherwise)."""
    header = call.request.headers.get("authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        error = NotAuthenticated()
        error.body = dict(NOT_PROVIDED)
        raise error
    account = book_of(call.registry).account_for(token.strip())
    if account is None:
        raise NotAuthenticated(INVALID_TOKEN)
    return account


def _organization(call: Call, account: Account) -> None:
    """404 for an unknown organization, 403 for another account's."""
    organization_id = call.path["organization_id"]
    if organization_id == account.organization_id:
        return
    book = book_of(call.registry)
    if any(a.organization_id == organization_id for a in book.accounts.values()):
        raise PermissionDenied()
    raise NotFound()


@operation("auth_list_organizations")
def list_organizations(call: Call) -> list[dict[str, Any]]:
    with book_of(call.registry).lock:
        return [_caller(call).organization()]


@operation("auth_list_applications")
def list_applications(call: Call) -> list[dict[str, Any]]:
    with book_of(call.registry).lock:
        account = _caller(call)
        _organization(call, account)
        return [account.application()]


@operation("auth_get_application")
def get_application(call: Call) -> dict[str, Any]:
    with book_of(call.registry).lock:
        account = _caller(call)
        _organization(call, account)
        if call.path["application_id"] != account.application_id:
            raise NotFound()
        return account.application()
