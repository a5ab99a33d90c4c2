"""Admin routes of billing: the balance and prices, and the emulated checkout page of a top-up.

* `GET /_mock/billing`: `{"balance", "unlimited", "settings", "checkouts"}` of the calling tenant.
* `PUT /_mock/billing` `{"balance": 120.5 | null, "session_price", "auto_refill_enabled",
  "auto_refill_amount", "auto_refill_threshold", "annual_plan"}` (the fields it names change;
  `balance: null` makes it unlimited).
* `GET /_mock/billing/checkout/{id}`: the checkout page (what Stripe Checkout shows), with Pay and
  Cancel buttons; `POST /_mock/billing/checkout/{id}/settle` and `.../cancel` do the same from a
  test or the page (JSON; the answer's `redirect_url` is the top-up's `success_url`/`cancel_url`).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..domain import billing as domain
from ..web.auth import authenticate, registry_of
from ..web.http import json_response, parse_body

if TYPE_CHECKING:
    from ..domain.tenant import Tenant


class BillingBody(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    balance: float | None = Field(None, ge=0, le=1e12)
    session_price: float | None = Field(None, ge=0, le=1e6)
    auto_refill_enabled: bool | None = None
    auto_refill_amount: float | None = Field(None, ge=0, le=1e12)
    auto_refill_threshold: float | None = Field(None, ge=0, le=1e12)
    annual_plan: bool | None = None


def _view(tenant: Tenant) -> dict[str, Any]:
    book = domain.billing(tenant)
    return {**book.view(), "unlimited": tenant.config.credits is None,
            "session_price": book.settings.session_price, "annual_plan": book.settings.annual_plan,
            "checkouts": [c.to_dict() for c in book.checkouts.values()]}


async def get_billing(request: Request) -> Response:
    tenant = authenticate(request)
    with tenant.lock:
        return json_response(_view(tenant))


async def put_billing(request: Request) -> Response:
    tenant = authenticate(request)
    body = await parse_body(request, BillingBody)
    named = body.model_fields_set
    with tenant.lock:
        settings = domain.billing(tenant).settings
        if "balance" in named:
            tenant.config.credits = body.balance
        if body.session_price is not None:
            settings.session_price = str(body.session_price)
        if body.auto_refill_enabled is not None:
            settings.auto_refill_enabled = body.auto_refill_enabled
        for name in ("auto_refill_amount", "auto_refill_threshold"):
            if name in named:
                setattr(settings, name, domain.parse_money(getattr(body, name), name))
        if body.annual_plan is not None:
            settings.annual_plan = body.annual_plan
        return json_response(_view(tenant))


async def checkout_page(request: Request) -> Response:
    checkout_id = request.path_params["checkout_id"]
    tenant = domain.tenant_of_checkout(registry_of(request), checkout_id)
    with tenant.lock:
        checkout = domain.billing(tenant).checkouts[checkout_id]
        amount, status = html.escape(checkout.amount), html.escape(checkout.status)
    safe_id = html.escape(checkout_id)
    buttons = (f'<button onclick="finish(\'settle\')">Pay ${amount}</button> '
               '<button onclick="finish(\'cancel\')">Cancel</button>'
               if status == domain.OPEN else f"<p>This checkout is {status}.</p>")
    # JSON through fetch, not a form post: the admin guard refuses form bodies any page could send.
    script = ("<script>async function finish(action) {"
              f"const r = await fetch('/_mock/billing/checkout/{safe_id}/' + action, {{method: 'POST', "
              "headers: {'Content-Type': 'application/json'}, body: '{}'});"
              "const body = await r.json(); if (r.ok) { window.location = body.redirect_url; }"
              " else { document.body.append(body.detail); } }</script>")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>Top up ${amount}</title></head><body>"
            f"<h1>didit-mock checkout</h1><p>Top-up of <strong>${amount}</strong> (emulated Stripe Checkout; "
            f"no payment is taken).</p>{buttons}{script}</body></html>")
    return HTMLResponse(page)


async def _finish(request: Request, paid: bool) -> Response:
    checkout_id = request.path_params["checkout_id"]
    tenant = domain.tenant_of_checkout(registry_of(request), checkout_id)
    with tenant.lock:
        checkout = domain.settle(tenant, checkout_id) if paid else domain.cancel(tenant, checkout_id)
        target = checkout.success_url if paid else checkout.cancel_url
        view = {**checkout.to_dict(), "balance": domain.billing(tenant).view()["balance"],
                "redirect_url": target.replace("{CHECKOUT_SESSION_ID}", checkout_id)}
    return json_response(view)


async def settle_checkout(request: Request) -> Response:
    return await _finish(request, paid=True)


async def cancel_checkout(request: Request) -> Response:
    return await _finish(request, paid=False)


routes = [
    Route("/_mock/billing", get_billing, methods=["GET"]),
    Route("/_mock/billing", put_billing, methods=["PUT"]),
    Route("/_mock/billing/checkout/{checkout_id}", checkout_page, methods=["GET"]),
    Route("/_mock/billing/checkout/{checkout_id}/settle", settle_checkout, methods=["POST"]),
    Route("/_mock/billing/checkout/{checkout_id}/cancel", cancel_checkout, methods=["POST"]),
]

_OBJECT: dict[str, Any] = {"type": "object"}

#: What the served OpenAPI document says of these routes (merged by `admin.openapi`).
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/_mock/billing"): {"summary": "The tenant's balance, prices, auto-refill settings and checkouts",
                                "responses": {200: _OBJECT}},
    ("PUT", "/_mock/billing"): {"summary": "Set the balance (null: unlimited), session price, auto-refill, annual plan",
                                "request": BillingBody, "responses": {200: _OBJECT}},
    ("GET", "/_mock/billing/checkout/{checkout_id}"): {
        "summary": "The checkout page of a top-up", "responses": {200: "html"}, "security": None},
    ("POST", "/_mock/billing/checkout/{checkout_id}/settle"): {
        "summary": "Pay a top-up's checkout: its amount is added to the balance", "responses": {200: _OBJECT},
        "security": None},
    ("POST", "/_mock/billing/checkout/{checkout_id}/cancel"): {
        "summary": "Cancel a top-up's checkout", "responses": {200: _OBJECT}, "security": None},
}
