"""The dashboard's pages of a tenant's application: workflows, users and businesses, lists, credits.

Read-only views of what `/v3/workflows/`, `/v3/users/`, `/v3/businesses/`, `/v3/lists/` and
`/v3/billing/` hold, rendered as the other dashboard pages are (`dashboard.render`: no scripts, no
caching, no framing; the templates escape every string a client sent):

* `/_mock/ui/t/{ref}/workflows`: every workflow the list route answers (made through the API, from a
  scenario, built in) with its version, status and whether it is the default;
* `/_mock/ui/t/{ref}/users`: users (vendor_data, status, session counts, approved e-mails and phones)
  and businesses;
* `/_mock/ui/t/{ref}/lists` and `/lists/{list_uuid}`: system and custom lists with their entry
  counts, and one list's entries;
* `/_mock/ui/t/{ref}/credits`: the credit balance (unlimited or the amount), the session price and the
  top-up checkouts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain import billing as billing_domain
from ..domain import lists as lists_domain
from ..domain import users as users_domain
from ..domain import workflow_versions as workflows_domain
from ..domain.sessions import book as session_book
from ..domain.tenant import Tenant
from .dashboard import MAX_ROWS, UI, error_page, fmt_time, for_tenant, relative, render, tenant_context

PAGE = {"security": None, "responses": {200: "html"}}
SOURCES = {workflows_domain.MADE: "API", workflows_domain.CUSTOM: "Scenario", workflows_domain.BUILTIN: "Built-in"}


def iso_text(value: str | None) -> str:
    """An API timestamp (`2030-01-15T09:30:00.000000Z`) as the dashboard writes times."""
    if not value:
        return "—"
    return value[:19].replace("T", " ") + " UTC"


# ---------------------------------------------------------------- workflows

@for_tenant
async def workflows_page(request: Request, ref: str, tenant: Tenant) -> Response:
    with tenant.lock:
        context = tenant_context(tenant, ref, "workflows")
        rows = [{
            "source": SOURCES[source], "uuid": row["uuid"], "workflow_id": row["workflow_id"],
            "label": row["workflow_label"], "version": row["version"], "status": row["status"],
            "has_draft": row["has_draft"], "is_default": row["is_default"], "type": row["workflow_type"],
            "features": row["features"].split(" + ") if row["features"] else [],
            "expiration": row["session_expiration_time"],
            "updated": iso_text(row["updated_at"]) if source == workflows_domain.MADE else "—",
        } for source, row in workflows_domain.listing(tenant)[:MAX_ROWS]]
    made = sum(row["source"] == SOURCES[workflows_domain.MADE] for row in rows)
    return render(request, "workflows.html", {**context, "rows": rows, "made": made}, refresh=True)


# ---------------------------------------------------------------- users and businesses

def user_row(tenant: Tenant, entity: users_domain.Entity) -> dict[str, Any]:
    body = users_domain.entity_json(tenant, entity, detail=False)
    return {
        "vendor_data": body["vendor_data"], "name": body["effective_name"], "status": body["status"],
        "sessions": body["session_count"], "approved": body["approved_count"], "declined": body["declined_count"],
        "in_review": body["in_review_count"], "emails": body["approved_emails"], "phones": body["approved_phones"],
        "issuing_states": body["issuing_states"], "last_session": iso_text(body["last_session_at"]),
    }


def business_row(tenant: Tenant, entity: users_domain.Entity) -> dict[str, Any]:
    body = users_domain.entity_json(tenant, entity, detail=False)
    return {
        "vendor_data": body["vendor_data"], "name": body["effective_name"], "status": body["status"],
        "registration_number": body["registration_number"], "country_code": body["country_code"],
        "sessions": body["session_count"], "last_session": iso_text(body["last_session_at"]),
    }


@for_tenant
async def users_page(request: Request, ref: str, tenant: Tenant) -> Response:
    with tenant.lock:
        context = tenant_context(tenant, ref, "users")
        users = users_domain.listing(tenant, users_domain.USER)
        businesses = users_domain.listing(tenant, users_domain.BUSINESS)
        user_rows = [user_row(tenant, e) for e in users[:MAX_ROWS]]
        business_rows = [business_row(tenant, e) for e in businesses[:MAX_ROWS]]
    return render(request, "users.html", {
        **context, "users": user_rows, "businesses": business_rows, "user_total": len(users),
        "business_total": len(businesses),
    }, refresh=True)


# ---------------------------------------------------------------- lists

@for_tenant
async def lists_page(request: Request, ref: str, tenant: Tenant) -> Response:
    with tenant.lock:
        context = tenant_context(tenant, ref, "lists")
        base = context["tenant"]["base"]
        records = lists_domain.find_lists(tenant, None, None, newest_first=False)
        rows = []
        for record in records[:MAX_ROWS]:
            view = lists_domain.list_view(tenant, record)
            rows.append({**view, "url": f"{base}/lists/{record.uuid}",
                         "last": iso_text(view["last_entry_added_at"]) if view["last_entry_added_at"] else "—"})
    system = [row for row in rows if row["is_system"]]
    custom = [row for row in rows if not row["is_system"]]
    return render(request, "lists.html", {**context, "system": system, "custom": custom}, refresh=True)


@for_tenant
async def list_page(request: Request, ref: str, tenant: Tenant) -> Response:
    list_uuid = request.path_params["list_uuid"]
    with tenant.lock:
        context = tenant_context(tenant, ref, "lists")
        record = lists_domain.book(tenant).lists.get(list_uuid)
        if record is None:
            return error_page(request, 404, "List not found", "This tenant has no list with this id.", context)
        base = context["tenant"]["base"]
        view = lists_domain.list_view(tenant, record)
        sessions = session_book(tenant)
        entries = []
        for entry in reversed(lists_domain.entries_of(tenant, record)[-MAX_ROWS:]):
            session_id = entry["reference_session_id"]
            entries.append({
                **entry, "added": iso_text(entry["created_at"]),
                "session_url": f"{base}/sessions/{session_id}" if session_id and sessions.get(session_id) else None,
            })
    return render(request, "list.html", {**context, "list": view, "entries": entries}, refresh=True)


# ---------------------------------------------------------------- credits

@for_tenant
async def credits_page(request: Request, ref: str, tenant: Tenant) -> Response:
    with tenant.lock:
        context = tenant_context(tenant, ref, "credits")
        now = context["now"]
        book = billing_domain.billing(tenant)
        balance = book.balance()
        view = book.view()
        checkouts = [{
            **checkout.to_dict(), "created": fmt_time(checkout.created_at),
            "created_rel": relative(checkout.created_at, now), "settled": fmt_time(checkout.settled_at),
        } for checkout in reversed(list(book.checkouts.values())[-MAX_ROWS:])]
        credits = {
            "unlimited": balance is None,
            "balance": None if balance is None else f"{balance.quantize(Decimal('0.01')):,}",
            "session_price": f"{Decimal(book.settings.session_price):.2f}",
            "billed": not tenant.is_sandbox,
            "auto_refill": view["auto_refill_enabled"],
            "auto_refill_amount": view["auto_refill_amount"],
            "auto_refill_threshold": view["auto_refill_threshold"],
            "annual_plan": book.settings.annual_plan,
        }
    return render(request, "credits.html", {**context, "credits": credits, "checkouts": checkouts}, refresh=True)


# ---------------------------------------------------------------- wiring

#: What the served OpenAPI document says of these routes (merged by `api.openapi`).
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", f"{UI}/t/{{ref}}/workflows"): {**PAGE, "summary": "Dashboard: the tenant's workflows"},
    ("GET", f"{UI}/t/{{ref}}/users"): {**PAGE, "summary": "Dashboard: the tenant's users and businesses"},
    ("GET", f"{UI}/t/{{ref}}/lists"): {**PAGE, "summary": "Dashboard: the tenant's lists"},
    ("GET", f"{UI}/t/{{ref}}/lists/{{list_uuid}}"): {**PAGE, "summary": "Dashboard: one list and its entries"},
    ("GET", f"{UI}/t/{{ref}}/credits"): {**PAGE, "summary": "Dashboard: the tenant's credit balance and top-ups"},
}

routes = [
    Route(f"{UI}/t/{{ref}}/workflows", workflows_page, methods=["GET"], name="dashboard_workflows"),
    Route(f"{UI}/t/{{ref}}/users", users_page, methods=["GET"], name="dashboard_users"),
    Route(f"{UI}/t/{{ref}}/lists", lists_page, methods=["GET"], name="dashboard_lists"),
    Route(f"{UI}/t/{{ref}}/lists/{{list_uuid}}", list_page, methods=["GET"], name="dashboard_list"),
    Route(f"{UI}/t/{{ref}}/credits", credits_page, methods=["GET"], name="dashboard_credits"),
]
