"""Wallet screening: `POST /v3/wallet-screening/` and its PDF (§1.23)."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.responses import Response

from ..domain.tenant import Tenant
from ..domain.transactions import wallet_pdf, wallets
from ..web.http import read_json
from ..web.operations import Call, operation


def signing_secret(tenant: Tenant) -> str:
    """The key of the application's report signatures (stable for the tenant, different per tenant)."""
    return hashlib.sha256(f"wallet-report:{tenant.application_id}:{tenant.seed}".encode()).hexdigest()


@operation("screenWallet", body=None)
async def screen_wallet(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    document = await read_json(call.request)
    if not isinstance(document, dict):
        raise wallets.ValidationFailed({"non_field_errors": ["Invalid data. Expected a dictionary."]})
    address = document.get("wallet_address", document.get("address"))
    chain = document.get("blockchain", document.get("currency"))
    direction = document.get("direction")
    if direction is not None and direction not in ("inbound", "outbound", "deposit", "withdrawal"):
        raise wallets.ValidationFailed.field("direction", f'"{direction}" is not a valid choice.')
    with tenant.lock:
        return wallets.screen(signing_secret(tenant), address, chain, tenant.registry.wiring.wallet_profiles, tenant)


@operation("screenWalletPdf", body=None)
async def screen_wallet_pdf(call: Call) -> Response:
    tenant = call.tenant
    result = wallets.verified(signing_secret(tenant), await read_json(call.request))
    data = wallet_pdf.render(result, tenant.clock.now())
    # Didit names the file after the address's first 22 characters (the spec's example).
    address = str(result.get("wallet_address") or result.get("transaction_hash") or "wallet")[:22]
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename=wallet_screening_{address}.pdf"})
