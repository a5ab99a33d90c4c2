"""Admin routes of transaction monitoring (didit-api-families.md §3.5).

* `POST /_mock/transactions/{uuid}/resolve-action {"status": "APPROVED"|"DECLINED"|"IN_REVIEW"}`: an
  analyst's (or the end user's) resolution of a pending (`IN_REVIEW` or `AWAITING_USER`) transaction;
  fires `transaction.status.updated`. A settled transaction answers 409.
* `POST /_mock/travel-rule/{transfer_uuid}/advance {"status"}`: move a Travel Rule transfer as its
  counterparty (or the user's wallet proof) would; fires `travel_rule.status.updated`.
* `GET /_mock/travel-rule/{transfer_uuid}/pickup`: `{"pickup_token"}`, the token of the link e-mailed
  to the counterparty VASP of an EMAIL-rail transfer (null for other rails).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain.errors import DiditError
from ..domain.transactions import monitor, transfers
from ..domain.transactions.book import TransactionBook, detail
from ..web.auth import authenticate
from ..web.http import json_response, parse_body

PENDING = ("IN_REVIEW", "AWAITING_USER")


class TransactionResolveBody(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    status: Literal["APPROVED", "DECLINED", "IN_REVIEW"]


async def resolve_action(request: Request) -> Response:
    tenant = authenticate(request)
    body = await parse_body(request, TransactionResolveBody)
    with tenant.lock:
        transaction = tenant.component(TransactionBook).get(request.path_params["uuid"])
        if transaction["status"] not in PENDING:
            raise DiditError({"detail": f"The transaction is {transaction['status']}, not pending."}, 409)
        monitor.change_status(tenant, transaction, body.status)
        return json_response(detail(transaction))


class TransferAdvanceBody(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    status: Literal["AWAITING_COUNTERPARTY", "ON_HOLD", "COMPLETED", "COUNTERPARTY_MISMATCHED_DATA",
                    "COUNTERPARTY_VASP_NOT_REACHABLE", "COUNTERPARTY_VASP_GENERAL_DECLINE",
                    "NOT_ENOUGH_COUNTERPARTY_DATA"]


async def advance_transfer(request: Request) -> Response:
    tenant = authenticate(request)
    body = await parse_body(request, TransferAdvanceBody)
    with tenant.lock:
        return json_response(transfers.advance(tenant, request.path_params["transfer_uuid"], body.status))


async def pickup(request: Request) -> Response:
    tenant = authenticate(request)
    with tenant.lock:
        return json_response({"pickup_token": transfers.pickup_token(tenant, request.path_params["transfer_uuid"])})


routes = [
    Route("/_mock/transactions/{uuid}/resolve-action", resolve_action, methods=["POST"]),
    Route("/_mock/travel-rule/{transfer_uuid}/advance", advance_transfer, methods=["POST"]),
    Route("/_mock/travel-rule/{transfer_uuid}/pickup", pickup, methods=["GET"]),
]
