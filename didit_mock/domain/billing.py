"""Billing: a tenant's credit balance in USD, debited per new session, and top-ups by checkout.

The balance is `TenantConfig.credits` (None: unlimited, the default). When it is set, every new
session of a live application costs `session_price` (sandbox applications are not billed, as at
Didit); a balance below the price refuses the session with Didit's credits error. A top-up opens a
checkout (an emulated Stripe Checkout page served by the mock); settling it adds its amount.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .clock import iso
from .errors import DiditError, NotFound, ValidationFailed

if TYPE_CHECKING:
    from .tenant import Tenant, TenantRegistry

MINIMUM_TOP_UP = Decimal(50)
#: Stripe Checkout's largest amount (USD); the text of Didit's refusal is not documented.
MAXIMUM_TOP_UP = Decimal("999999.99")
#: What the balance reads while it is unlimited (no balance set).
UNLIMITED_BALANCE = Decimal("1000000")
DEFAULT_SESSION_PRICE = Decimal("1.00")
AMOUNT_REQUIRED = "amount_in_dollars is required."
AMOUNT_NOT_NUMBER = "amount_in_dollars must be a number."
AMOUNT_TOO_SMALL = "Amount must be at least $50."
AMOUNT_TOO_LARGE = "Amount must be at most $999,999.99."
ANNUAL_PLAN = "You have an annual plan. Contact your account manager to top up."
DEFAULT_REDIRECT = "https://console.didit.me"
OPEN, PAID, CANCELLED = "open", "paid", "cancelled"


@dataclass
class Checkout:
    id: str
    amount: str
    success_url: str
    cancel_url: str
    created_at: float
    status: str = OPEN
    settled_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"checkout_session_id": self.id, "amount_in_dollars": self.amount, "status": self.status,
                "success_url": self.success_url, "cancel_url": self.cancel_url,
                "created_at": _iso(self.created_at), "settled_at": _iso(self.settled_at)}


@dataclass
class BillingSettings:
    """What Console -> Billing configures, and the mock's price of a session."""

    session_price: str = str(DEFAULT_SESSION_PRICE)
    auto_refill_enabled: bool = False
    auto_refill_amount: str | None = None
    auto_refill_threshold: str | None = None
    annual_plan: bool = False


@dataclass
class Billing:
    """A tenant's billing settings and checkouts (the balance is `tenant.config.credits`)."""

    tenant: Tenant
    settings: BillingSettings = field(default_factory=BillingSettings)
    checkouts: dict[str, Checkout] = field(default_factory=dict)

    def balance(self) -> Decimal | None:
        credits = self.tenant.config.credits
        return None if credits is None else _money(Decimal(str(credits)), 4)

    def view(self) -> dict[str, Any]:
        balance = self.balance()
        refill = self.settings.auto_refill_enabled
        return {
            "balance": str(_money(UNLIMITED_BALANCE if balance is None else balance, 4)),
            "auto_refill_enabled": refill,
            "auto_refill_amount": _two(self.settings.auto_refill_amount) if refill else None,
            "auto_refill_threshold": _two(self.settings.auto_refill_threshold) if refill else None,
        }

    def export_state(self) -> dict[str, Any]:
        return {"settings": asdict(self.settings), "checkouts": [asdict(c) for c in self.checkouts.values()]}

    def import_state(self, state: dict[str, Any]) -> None:
        self.settings = BillingSettings(**state.get("settings", {}))
        self.checkouts = {c["id"]: Checkout(**c) for c in state.get("checkouts", [])}


def billing(tenant: Tenant) -> Billing:
    return tenant.component(Billing)


def charge_session(tenant: Tenant, no_credits: str) -> None:
    """Debit a new session's price from a set balance (live applications only), or refuse it."""
    credits = tenant.config.credits
    if credits is None or tenant.is_sandbox:
        return
    price = Decimal(billing(tenant).settings.session_price)
    balance = Decimal(str(credits))
    if balance < price:
        raise ValidationFailed.detail(no_credits)
    tenant.config.credits = float(balance - price)


# ---------------------------------------------------------------- top-up

def top_up(tenant: Tenant, body: Any) -> Checkout:
    """A checkout for `amount_in_dollars`; 400 bare arrays as Didit answers."""
    if not isinstance(body, dict) or body.get("amount_in_dollars") is None:
        raise ValidationFailed([AMOUNT_REQUIRED])
    amount = _number(body["amount_in_dollars"])
    if amount is None:
        raise ValidationFailed([AMOUNT_NOT_NUMBER])
    if amount < MINIMUM_TOP_UP:
        raise ValidationFailed([AMOUNT_TOO_SMALL])
    if amount > MAXIMUM_TOP_UP:
        raise ValidationFailed([AMOUNT_TOO_LARGE])
    book = billing(tenant)
    if book.settings.annual_plan:
        raise ValidationFailed([ANNUAL_PLAN])
    urls = {}
    for name in ("success_url", "cancel_url"):
        value = body.get(name)
        if value is None:
            urls[name] = DEFAULT_REDIRECT
        elif not isinstance(value, str) or not value.startswith(("http://", "https://")):
            raise ValidationFailed.field(name, "Enter a valid URL.")
        else:
            urls[name] = value
    prefix = "cs_live_" if tenant.environment == "live" else "cs_test_"
    checkout_id = prefix + uuid.UUID(tenant.application_id).hex + tenant.rng.token(24)
    checkout = Checkout(checkout_id, str(_money(amount, 2)), urls["success_url"], urls["cancel_url"],
                        tenant.clock.timestamp())
    book.checkouts[checkout_id] = checkout
    return checkout


def checkout_url(tenant: Tenant, checkout: Checkout) -> str:
    return f"{tenant.config.public_base_url.rstrip('/')}/_mock/billing/checkout/{checkout.id}"


def tenant_of_checkout(registry: TenantRegistry, checkout_id: str) -> Tenant:
    """The tenant whose checkout this is (its id carries the application id), or 404."""
    hex_id = checkout_id[8:40]
    try:
        application_id = str(uuid.UUID(hex_id))
    except ValueError:
        raise NotFound() from None
    tenant = registry.by_application(application_id)
    if tenant is None or checkout_id not in billing(tenant).checkouts:
        raise NotFound()
    return tenant


def settle(tenant: Tenant, checkout_id: str) -> Checkout:
    """Pay an open checkout: its amount is added to a set balance (an unlimited one stays so)."""
    checkout = _open(tenant, checkout_id)
    checkout.status = PAID
    checkout.settled_at = tenant.clock.timestamp()
    if tenant.config.credits is not None:
        tenant.config.credits = float(Decimal(str(tenant.config.credits)) + Decimal(checkout.amount))
    return checkout


def cancel(tenant: Tenant, checkout_id: str) -> Checkout:
    checkout = _open(tenant, checkout_id)
    checkout.status = CANCELLED
    checkout.settled_at = tenant.clock.timestamp()
    return checkout


def _open(tenant: Tenant, checkout_id: str) -> Checkout:
    checkout = billing(tenant).checkouts.get(checkout_id)
    if checkout is None:
        raise NotFound()
    if checkout.status != OPEN:
        raise DiditError({"detail": f"This checkout is already {checkout.status}."}, 409)
    return checkout


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, str)):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


#: Enough digits for any float balance (up to 1.8e308) with its decimals.
_WIDE = Context(prec=400)


def _money(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_WIDE)


def _two(value: str | None) -> str | None:
    return None if value is None else str(_money(Decimal(value), 2))


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else iso(datetime.fromtimestamp(timestamp, tz=timezone.utc))


def parse_money(value: Any, name: str) -> str | None:
    """A non-negative decimal string from an admin value, or a 400 naming the field."""
    if value is None:
        return None
    number = _number(value)
    if number is None or number < 0:
        raise ValidationFailed.field(name, "A non-negative number is required.")
    return str(number)
