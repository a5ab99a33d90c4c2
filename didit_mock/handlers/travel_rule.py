"""Travel Rule set-up: settings, the wallet-address book and the VASP directory (§1.24)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..domain.errors import NotFound
from ..domain.transactions import transfers
from ..domain.transactions.travel_rule import TravelRuleBook, directory
from ..web.http import json_response
from ..web.operations import Call, operation
from ..web.pagination import page_bounds, page_urls
from .transactions import submit_transaction

DEFAULT_LIMIT = 50


def _page(call: Call, rows: list[dict[str, Any]]) -> dict[str, Any]:
    limit, offset = page_bounds(call.query, DEFAULT_LIMIT)
    following, preceding = page_urls(call.request, len(rows), limit, offset)
    return {"count": len(rows), "next": following, "previous": preceding, "results": rows[offset:offset + limit]}


@operation("getTravelRuleSettings")
def get_settings(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return tenant.component(TravelRuleBook).view()


@operation("updateTravelRuleSettings")
def update_settings(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return tenant.component(TravelRuleBook).update(call.body or {})


@operation("listTravelRuleWalletAddresses")
def list_addresses(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return _page(call, tenant.component(TravelRuleBook).newest_first())


@operation("createTravelRuleWalletAddress")
def create_address(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return tenant.component(TravelRuleBook).add_address(call.body or {})


@operation("updateTravelRuleWalletAddress")
def update_address(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return tenant.component(TravelRuleBook).update_address(call.path["entry_uuid"], call.body or {})


@operation("deleteTravelRuleWalletAddress")
def delete_address(call: Call) -> Response:
    tenant = call.tenant
    with tenant.lock:
        book = tenant.component(TravelRuleBook)
        book.address(call.path["entry_uuid"])
        del book.addresses[call.path["entry_uuid"]]
    return Response(status_code=204)


@operation("listTravelRuleVasps")
def list_vasps(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    others = call.registry.tenants()
    return _page(call, directory(tenant, others, call.query.get("search")))


@operation("patchTravelRuleTransfer")
def patch_transfer(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return transfers.patch(tenant, call.path["transaction_id"], call.body or {})


@operation("registerTravelRuleInbound")
def register_inbound(call: Call) -> Response | dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        answer, created = transfers.register_inbound(
            tenant, call.body or {}, lambda body: submit_transaction(tenant, body)[0])
    return answer if not created else json_response(answer, 201)


@operation("confirmTravelRuleOwnership")
def confirm_ownership(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return transfers.confirm_ownership(tenant, call.path["transaction_id"], bool((call.body or {})["confirmed"]))


@operation("createTravelRuleWidgetSession")
def create_widget_session(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    with tenant.lock:
        return transfers.mint_widget(tenant, call.body or {})


@operation("getTravelRuleWidgetContext")
def get_widget_context(call: Call) -> dict[str, Any]:
    token = call.path["token"]
    tenant = call.registry.by_token(token)
    if tenant is None:
        raise NotFound()
    tenant.tick()
    with tenant.lock:
        return transfers.widget_context(tenant, token)


def _public_tenant(call: Call) -> Any:
    tenant = call.registry.by_token(call.path["token"])
    if tenant is None:
        raise NotFound()
    tenant.tick()
    return tenant


@operation("getTravelRulePickup")
def get_pickup(call: Call) -> dict[str, Any]:
    tenant = _public_tenant(call)
    with tenant.lock:
        return transfers.pickup_info(tenant, call.path["token"])


@operation("respondTravelRulePickup")
def respond_pickup(call: Call) -> dict[str, Any]:
    tenant = _public_tenant(call)
    body = call.body or {}
    with tenant.lock:
        return transfers.pickup_respond(tenant, call.path["token"], str(body["decision"]), body.get("beneficiary_name"))
