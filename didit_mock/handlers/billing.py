"""Billing: `GET /v3/billing/balance/` and `POST /v3/billing/top-up/` (a checkout served by the mock)."""

from __future__ import annotations

from typing import Any

from ..domain import billing as domain
from ..web.http import read_json
from ..web.operations import Call, operation


@operation("get_billing_balance")
def balance(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return domain.billing(tenant).view()


@operation("billing_top_up", body=None)
async def top_up(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    document = await read_json(call.request)
    with tenant.lock:
        checkout = domain.top_up(tenant, document)
        return {"checkout_session_id": checkout.id, "checkout_session_url": domain.checkout_url(tenant, checkout)}
