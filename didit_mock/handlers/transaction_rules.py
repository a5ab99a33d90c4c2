"""Transaction rules: create, update and delete with Didit's checks (§2.4); list and get stay in
the generic store, where the documents live."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..domain.transactions.rule_checks import check_delete, check_rule, check_update
from ..resources.store import ResourceStore
from ..web.operations import Call, operation
from .transactions import RULES, rule_template


@operation("createTransactionRule")
def create_rule(call: Call) -> Any:
    tenant = call.tenant
    body = call.body or {}
    with tenant.lock:
        store = tenant.component(ResourceStore)
        check_rule(body, store.all(RULES))
        return store.create(RULES, rule_template(), body)


@operation("updateTransactionRule")
def update_rule(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    body = call.body or {}
    with tenant.lock:
        store = tenant.component(ResourceStore)
        rule = store.get(RULES, call.path["rule_uuid"])
        check_update(rule, body, [r for r in store.all(RULES) if r["uuid"] != rule["uuid"]])
        return store.update(RULES, rule["uuid"], body)


@operation("deleteTransactionRule")
def delete_rule(call: Call) -> Response:
    tenant = call.tenant
    with tenant.lock:
        store = tenant.component(ResourceStore)
        check_delete(store.get(RULES, call.path["rule_uuid"]))
        store.delete(RULES, call.path["rule_uuid"])
    return Response(status_code=204)
