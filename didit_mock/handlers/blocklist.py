"""The blocklist routes: POST /v3/blocklist/add/, POST /v3/blocklist/remove/, GET /v3/blocklist/."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator
from starlette.responses import Response

from ..domain import blocklist as domain
from ..domain.errors import ValidationFailed
from ..web.http import json_response
from ..web.operations import Call, operation
from ..web.pagination import page_bounds, page_urls
from .session_models import canonical_uuid

DEFAULT_LIMIT = 50
ADDED = "Successfully added to blocklist."
REMOVED = "Successfully removed from blocklist."
NO_ADD_FLAG = "At least one blocklist flag must be true."
NO_REMOVE_FLAG = "At least one unblock flag must be true."


def _not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("This field may not be null.")
    return value


SessionId = Annotated[str, BeforeValidator(_not_null), AfterValidator(canonical_uuid)]
Flag = Annotated[bool, BeforeValidator(_not_null)]
DRF = ConfigDict(defer_build=True, extra="ignore")


class _FlagsBody(BaseModel):
    """A session id and the four per-type flags, at least one of them true."""

    model_config = DRF
    session_id: SessionId
    _prefix: ClassVar[str]
    _no_flag: ClassVar[str]

    def types(self) -> list[str]:
        return [kind for kind in domain.ITEM_TYPES if getattr(self, f"{self._prefix}_{kind}")]

    @model_validator(mode="after")
    def _one_flag(self) -> _FlagsBody:
        if not self.types():
            raise ValueError(self._no_flag)
        return self


class AddBody(_FlagsBody):
    _prefix = "blocklist"
    _no_flag = NO_ADD_FLAG
    blocklist_face: Flag = False
    blocklist_document: Flag = False
    blocklist_phone: Flag = False
    blocklist_email: Flag = False


class RemoveBody(_FlagsBody):
    _prefix = "unblock"
    _no_flag = NO_REMOVE_FLAG
    unblock_face: Flag = False
    unblock_document: Flag = False
    unblock_phone: Flag = False
    unblock_email: Flag = False


@operation("blocklist_add", body=AddBody)
async def add(call: Call) -> Response:
    tenant = call.tenant
    body: AddBody = call.body
    with tenant.lock:
        domain.add(tenant, body.session_id, body.types())
    return json_response({"message": ADDED})


@operation("blocklist_remove", body=RemoveBody)
async def remove(call: Call) -> Response:
    tenant = call.tenant
    body: RemoveBody = call.body
    with tenant.lock:
        domain.remove(tenant, body.session_id, body.types())
    return json_response({"message": REMOVED})


@operation("blocklist_list")
async def listing(call: Call) -> Response:
    tenant = call.tenant
    query = call.query
    item_type = query.get("item_type") or None
    if item_type is not None and item_type not in domain.ITEM_TYPES:
        raise ValidationFailed.field("item_type", f'"{item_type}" is not a valid choice.')
    limit, offset = page_bounds(query, DEFAULT_LIMIT)
    with tenant.lock:
        entries = domain.blocklist(tenant).newest_first(item_type)
        page = [entry.to_dict() for entry in entries[offset:offset + limit]]
    following, preceding = page_urls(call.request, len(entries), limit, offset)
    return json_response({"count": len(entries), "next": following, "previous": preceding, "results": page})

