"""Programmatic sign-up (Didit's Auth API): accounts, e-mailed codes, tokens, provisioned tenants.

Accounts live outside any tenant: one `AccountBook` per registry (`registry.service(AccountBook)`),
with its own clock (codes are valid 15 minutes on it) and its own seeded randomness. Verifying an
account's e-mail provisions an organization and an application: a new, empty tenant whose API key
works at once. The verified account is persisted with that tenant (see `export_account`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .clock import Clock
from .errors import DiditError, NotAuthenticated, NotFound, PermissionDenied, RateLimited, ValidationFailed
from .rng import TenantRandom, derive_seed

if TYPE_CHECKING:
    from .tenant import Tenant, TenantRegistry

CODE_LIFETIME = 15 * 60
TOKEN_LIFETIME = 86_400
#: Consecutive failed logins -> seconds locked (skills: 5 -> 15 min, 10 -> 1 h, 20 -> 24 h).
LOCKOUTS = ((20, 86_400), (10, 3_600), (5, 900))
RESERVED_DOMAINS = re.compile(r"@(example\.com|example\.org|.*\.test|.*\.example|.*\.invalid|test|example|invalid)$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SPECIALS = "!@#$%^&*()_+-=[]{}|;:,.<>?"

REGISTERED = "Registration successful. Check your email for the verification code."
RESENT = "A new verification code has been sent to your email."
LOGGED_IN = "Login successful"
BAD_CODE = "Invalid or expired verification code."
BAD_CREDENTIALS = "Invalid email or password."
NOT_VERIFIED = "Email address is not verified."
ALREADY_EXISTS = "A user with this email already exists."
NO_PENDING = "No pending registration found for this email."
MAIL_FAILED = "Failed to send verification email."
INVALID_EMAIL = "Enter a valid email address."


def password_problem(password: str) -> str | None:
    """The first password rule `password` breaks (Didit reports one at a time), or None."""
    if len(password) < 8:
        return "Password must be at least 8 characters long."
    if not re.search(r"[A-Z]", password):
        return "Password must contain at least one uppercase letter."
    if not re.search(r"[a-z]", password):
        return "Password must contain at least one lowercase letter."
    if not re.search(r"\d", password):
        return "Password must contain at least one digit."
    if not any(c in SPECIALS for c in password):
        return f"Password must contain at least one special character ({SPECIALS})."
    return None


@dataclass
class Account:
    """One signed-up user and, once verified, the organization and application provisioned."""

    email: str
    password_hash: str
    salt: str
    verified: bool = False
    code: str | None = None
    code_expires_at: float | None = None
    organization_id: str | None = None
    organization_name: str | None = None
    application_id: str | None = None
    application_name: str | None = None
    client_id: str | None = None
    api_key: str | None = None
    failures: int = 0
    locked_until: float = 0.0

    def organization(self) -> dict[str, Any]:
        return {"uuid": self.organization_id, "name": self.organization_name, "contact_email": self.email}

    def application(self) -> dict[str, Any]:
        return {"uuid": self.application_id, "name": self.application_name, "client_id": self.client_id,
                "api_key": self.api_key}


@dataclass
class _Token:
    email: str
    expires_at: float


@dataclass
class AccountBook:
    """The accounts of one registry, its codes and issued tokens."""

    registry: TenantRegistry
    accounts: dict[str, Account] = field(default_factory=dict)
    tokens: dict[str, _Token] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        # Frozen when the server freezes tenant clocks (tests move it by hand).
        self.clock = Clock(self.registry.wall, frozen=self.registry.defaults.clock_frozen)
        self.rng = TenantRandom(derive_seed(self.registry.global_seed, "didit-mock:auth"))
        self._secret = derive_seed(self.registry.global_seed, "didit-mock:auth:secret").to_bytes(8, "big")

    # ------------------------------------------------------------ sign-up

    def register(self, email: str, password: str) -> Account:
        """A pending account with a fresh code (re-registering a pending address replaces it)."""
        key = _email_key(email)
        problem = password_problem(password)
        if problem is not None:
            raise ValidationFailed.field("password", problem)
        existing = self.accounts.get(key)
        if existing is not None and existing.verified:
            raise ValidationFailed.field("email", ALREADY_EXISTS)
        if RESERVED_DOMAINS.search(key):
            raise DiditError({"detail": MAIL_FAILED}, 500)
        salt = self.rng.token(16)
        account = Account(email=email.strip(), password_hash=_hash(salt, password), salt=salt)
        self._new_code(account)
        self.accounts[key] = account
        return account

    def resend(self, email: str) -> Account:
        account = self.accounts.get(_email_key(email))
        if account is None or account.verified:
            raise NotFound(NO_PENDING)
        self._new_code(account)
        return account

    def code_of(self, email: str) -> Account:
        """The account whose latest code an admin reads (404 when there is none)."""
        account = self.accounts.get(_email_key(email))
        if account is None or account.code is None:
            raise NotFound(NO_PENDING)
        return account

    def verify(self, email: str, code: str) -> tuple[Account, Tenant, str]:
        """Confirm the code: provision the organization and application (a new tenant); tokens."""
        account = self.accounts.get(_email_key(email))
        now = self.clock.timestamp()
        if (account is None or account.verified or account.code is None or account.code_expires_at is None
                or now >= account.code_expires_at or not hmac.compare_digest(account.code, code.upper())):
            raise ValidationFailed.field("code", BAD_CODE)
        name = _organization_name(account.email)
        api_key = "sk_test_" + self.rng.token(43)
        application_id = self.rng.uuid4()
        from .tenant import TenantConfig

        defaults = self.registry.defaults
        config = TenantConfig(**{**defaults.__dict__, "extra": dict(defaults.extra), "application_id": application_id})
        tenant = self.registry.provision(api_key, config)
        account.verified = True
        account.code = None
        account.code_expires_at = None
        account.organization_id = tenant.organization_id
        account.organization_name = name
        account.application_id = tenant.application_id
        account.application_name = name
        account.client_id = f"{_slug(name)}-{self.rng.alphanumeric(5).lower()}"
        account.api_key = api_key
        return account, tenant, self._issue(account)

    def login(self, email: str, password: str) -> tuple[Account, str]:
        """Tokens for a verified account; failures lock the account progressively."""
        account = self.accounts.get(_email_key(email))
        now = self.clock.timestamp()
        if account is not None and now < account.locked_until:
            minutes = max(1, round((account.locked_until - now) / 60))
            raise RateLimited(f"Too many failed login attempts. Try again in {minutes} minutes.")
        if account is None or not hmac.compare_digest(account.password_hash, _hash(account.salt, password)):
            if account is not None:
                account.failures += 1
                for count, seconds in LOCKOUTS:
                    if account.failures == count:
                        account.locked_until = now + seconds
                        break
            raise NotAuthenticated(BAD_CREDENTIALS)
        if not account.verified:
            raise PermissionDenied(NOT_VERIFIED)
        account.failures = 0
        return account, self._issue(account)

    # ------------------------------------------------------------ tokens

    def account_for(self, token: str) -> Account | None:
        """The account of a valid (issued, unexpired) access token."""
        issued = self.tokens.get(token)
        if issued is None or self.clock.timestamp() >= issued.expires_at:
            return None
        return self.accounts.get(_email_key(issued.email))

    def _issue(self, account: Account) -> str:
        expires = self.clock.timestamp() + TOKEN_LIFETIME
        token = self._jwt({"sub": account.email, "org": account.organization_id, "exp": int(expires),
                           "jti": self.rng.uuid4(), "type": "access"})
        self.tokens[token] = _Token(account.email, expires)
        return token

    def refresh_token(self, account: Account) -> str:
        return self._jwt({"sub": account.email, "jti": self.rng.uuid4(), "type": "refresh"})

    def _jwt(self, claims: dict[str, Any]) -> str:
        head = _b64({"alg": "HS256", "typ": "JWT"})
        body = _b64(claims)
        signature = hmac.new(self._secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

    def _new_code(self, account: Account) -> None:
        account.code = self.rng.alphanumeric(6)
        account.code_expires_at = self.clock.timestamp() + CODE_LIFETIME

    # ------------------------------------------------------------ persistence (with the tenant)

    def account_of_application(self, application_id: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.application_id == application_id), None)

    def restore(self, account: Account) -> None:
        self.accounts[_email_key(account.email)] = account


def export_account(tenant: Tenant) -> dict[str, Any] | None:
    """The verified account that provisioned `tenant` (None for any other tenant)."""
    book = tenant.registry.service(AccountBook)
    with book.lock:
        account = book.account_of_application(tenant.application_id)
        return None if account is None else asdict(account)


def parse_account(value: Any) -> Account | None:
    """An exported account, or None; raises ValueError naming a bad field."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("an object or null is expected.")
    try:
        account = Account(**value)
    except TypeError as problem:
        raise ValueError(str(problem)) from None
    if not isinstance(account.email, str) or not isinstance(account.password_hash, str):
        raise ValueError("email and password_hash must be strings.")
    return account


def restore_account(tenant: Tenant, account: Account | None) -> None:
    if account is not None:
        book = tenant.registry.service(AccountBook)
        with book.lock:
            book.restore(account)


def valid_email(email: str) -> bool:
    return bool(EMAIL.match(email.strip()))


def _email_key(email: str) -> str:
    return email.strip().lower()


def _hash(salt: str, password: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 1_000).hex()


def _b64(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _organization_name(email: str) -> str:
    """"founder@acme.dev" -> "Acme": the first label of the address's domain."""
    label = email.rsplit("@", 1)[-1].split(".")[0]
    return label.replace("-", " ").title() or "My Organization"


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "app"
