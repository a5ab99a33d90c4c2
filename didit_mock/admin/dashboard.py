"""The dashboard at `/_mock/ui`: server-rendered pages of each tenant's state, and a few actions.

Pages work without JavaScript (the pages send a CSP that forbids scripts); list pages reload
themselves every 5 s (`?live=0` pauses that):

* `/_mock/ui`: the tenant picker (API keys masked), and "open a tenant by API key";
* `/_mock/ui/t/{ref}/sessions` (and `/sessions/{id}`), `/otp`, `/webhooks` (and `/webhooks/{uuid}`),
  `/blocklist`, `/requests`, `/scenarios`, `/clock`. `ref` is an opaque, stable id of the tenant
  (a SHA-256 prefix of its API key): no URL ever holds a key;
* the application's pages (`/workflows`, `/users`, `/lists`, `/credits`) are in `dashboard_account`.

Actions are HTML form POSTs that call the very functions the admin API calls (DESIGN principle 7):
complete a session (`admin.complete`), advance the clock (`admin.advance_clock`), replay a webhook
delivery (`webhooks.find_delivery` and the sender's `replay`), reset the tenant (`registry.reset`).
Each answers 303 back to a page, with a flash message in a short-lived cookie. Every form carries a
token derived from a per-server secret (CSRF). With `Settings.admin_token`, `/_mock/ui/login` sets
the HttpOnly cookie that the gateway's admin gate (`refusal`) accepts on dashboard paths.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote, urlencode

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .. import journal as journal_mod
from ..domain import otp
from ..domain import sessions as sessions_domain
from ..domain import statuses as st
from ..domain import webhooks as webhooks_domain
from ..domain.blocklist import blocklist
from ..domain.errors import DiditError, NotFound
from ..domain.tenant import Tenant
from ..domain.webhooks import Attempt, WebhookBook
from ..hosted.page import error_text
from ..web.auth import registry_of, settings_of
from ..web.http import parse
from ..web.paths import is_canonical_uuid
from ..web.templating import favicon, templates
from . import guard as admin_guard
from . import routes as admin
from . import webhooks
from .routes import AdvanceBody, CompleteBody
from .token import DASHBOARD_COOKIE, DASHBOARD_LOGIN, DASHBOARD_PREFIX, same_secret

log = logging.getLogger("didit_mock.dashboard")

UI = DASHBOARD_PREFIX
FLASH_COOKIE = "didit_mock_flash"
CSRF_FIELD = "csrf"
REFRESH_SECONDS = 5
#: Rows shown at most on a list page (newest first).
MAX_ROWS = 500
MAX_JOURNAL_ROWS = 200
#: Statuses a session can be completed from (the admin route's rule, shown as a form).
COMPLETABLE = (st.NOT_STARTED, st.IN_PROGRESS, st.RESUBMITTED)
OUTCOME_CHOICES = (st.APPROVED, st.DECLINED, st.IN_REVIEW, st.ABANDONED)
CLOCK_PRESETS = ((60, "+1 min"), (300, "+5 min"), (3600, "+1 h"), (86400, "+1 day"), (7 * 86400, "+7 days"))
NAV = (("sessions", "Sessions"), ("otp", "OTP"), ("webhooks", "Webhooks"), ("blocklist", "Blocklist"),
       ("workflows", "Workflows"), ("users", "Users"), ("lists", "Lists"), ("credits", "Credits"),
       ("requests", "Requests"), ("scenarios", "Scenarios"), ("clock", "Clock"))
#: Scripts are not needed: forbid them, framing (clickjacking of the action buttons) and foreign forms.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")



# ---------------------------------------------------------------- tenants, keys and tokens

@lru_cache(maxsize=65536)
def tenant_ref(api_key: str) -> str:
    """The tenant's id in dashboard URLs: stable across restarts, and no key in any URL."""
    return hashlib.sha256(b"didit-mock-tenant:" + api_key.encode("utf-8")).hexdigest()[:16]


def mask_key(api_key: str) -> str:
    """`sk_test_1a2b…9f0e`: enough to recognise a key, never the whole of it."""
    prefix = next((p for p in ("sk_test_", "sk_live_") if api_key.startswith(p)), "")
    rest = api_key[len(prefix):]
    if len(rest) <= 8:
        return f"{prefix}{rest[:2]}…"
    if len(rest) <= 24:
        return f"{prefix}{rest[:3]}…{rest[-2:]}"
    return f"{prefix}{rest[:4]}…{rest[-4:]}"


def find_tenant(request: Request, ref: str) -> Tenant | None:
    """The tenant whose ref is `ref` (due jobs run), or None."""
    for tenant in registry_of(request).tenants():
        if tenant_ref(tenant.api_key) == ref:
            tenant.tick()
            return tenant
    return None


def csrf_token(request: Request, scope: str) -> str:
    """The hidden form token of `scope` (a tenant ref, or "server"): HMAC of the per-server secret."""
    secret: bytes = request.app.state.dashboard_secret
    return hmac.new(secret, f"csrf:{scope}".encode(), hashlib.sha256).hexdigest()


async def read_form(request: Request, scope: str) -> FormData | None:
    """The submitted form, or None when its CSRF token is missing or wrong."""
    try:
        form = await request.form(max_files=0, max_fields=20)
    except HTTPException:  # malformed body, or files: no valid token either
        return None
    offered = str(form.get(CSRF_FIELD) or "")
    if not offered or not hmac.compare_digest(offered.encode(), csrf_token(request, scope).encode()):
        return None
    return form


def tenant_base(ref: str) -> str:
    return f"{UI}/t/{ref}"


def safe_back(form: FormData, ref: str, default: str) -> str:
    """The form's `back` page when it is one of this tenant's dashboard pages, else `default`."""
    back = str(form.get("back") or "")
    base = tenant_base(ref) + "/"
    if back.startswith(base) and "//" not in back and "\\" not in back:
        return back
    return default


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a dashboard path only (no open redirect)."""
    if value and (value == UI or value.startswith(UI + "/")) and "//" not in value and "\\" not in value:
        return value
    return UI


# ---------------------------------------------------------------- time and text formatting

def fmt_time(ts: float | None) -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def span(seconds: float) -> str:
    """A duration in words: `45 s`, `5 min`, `3 h`, `2 days`."""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{int(seconds)} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    days = int(seconds // 86400)
    return f"{days} day{'s' if days != 1 else ''}"


def relative(ts: float | None, now: float) -> str:
    """`5 min ago` / `in 3 h` on the tenant clock."""
    if ts is None:
        return ""
    delta = ts - now
    if abs(delta) < 1:
        return "now"
    return f"in {span(delta)}" if delta > 0 else f"{span(delta)} ago"


def pretty_json(text: str | None) -> str:
    """A JSON text indented for reading (other text unchanged)."""
    if not text:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


# ---------------------------------------------------------------- rendering

def render(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200,
           refresh: bool = False) -> Response:
    """A dashboard page: flash message popped, no caching, no scripts, no framing."""
    flash = read_flash(request)
    live = refresh and request.query_params.get("live") != "0"
    query = {k: v for k, v in request.query_params.items() if k != "live"}
    context = {
        "flash": flash,
        "refresh": live,
        "refresh_seconds": REFRESH_SECONDS,
        "list_page": refresh,
        "pause_url": request.url.path + "?" + urlencode({**query, "live": "0"}),
        "resume_url": request.url.path + (("?" + urlencode(query)) if query else ""),
        "server_csrf": csrf_token(request, "server"),
        "login_enabled": bool(settings_of(request).admin_token),
        "ui": UI,
        "tenant": None,
        **context,
    }
    response = templates().TemplateResponse(request, f"dashboard/{name}", context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path=UI)
    return response


def read_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    kind, _, text = unquote(raw).partition(":")
    return {"kind": kind if kind in ("ok", "error") else "ok", "text": text}


def redirect(url: str, kind: str | None = None, text: str | None = None) -> Response:
    """303 to `url`, with a flash message for the page it lands on."""
    response = RedirectResponse(url, status_code=303)
    if kind and text:
        response.set_cookie(FLASH_COOKIE, quote(f"{kind}:{text[:600]}"), max_age=60, path=UI,
                            httponly=True, samesite="strict")
    return response


def error_page(request: Request, status_code: int, title: str, message: str,
               context: dict[str, Any] | None = None) -> Response:
    return render(request, "error.html", {**(context or {}), "title": title, "message": message,
                                          "status_code": status_code}, status_code=status_code)


def tenant_missing(request: Request) -> Response:
    return error_page(request, 404, "Tenant not found",
                      "No tenant has this id. It may have been reset with ?all=true, or the server restarted.")


def csrf_refused(request: Request) -> Response:
    return error_page(request, 403, "Form expired",
                      "The form's security token is missing or out of date (the server may have restarted). "
                      "Go back, reload the page and try again.")


def tenant_context(tenant: Tenant, ref: str, active: str) -> dict[str, Any]:
    """The header every tenant page shows: who the tenant is, its clock, and the nav bar."""
    now = tenant.clock.timestamp()
    base = tenant_base(ref)
    return {
        "tenant": {
            "ref": ref,
            "base": base,
            "masked_key": mask_key(tenant.api_key),
            "environment": tenant.environment,
            "application_id": tenant.application_id,
            "now": fmt_time(now),
            "frozen": tenant.clock.frozen,
            "sessions": len(sessions_domain.book(tenant)),
        },
        "nav": [{"name": name, "title": title, "url": f"{base}/{name}", "active": name == active}
                for name, title in NAV],
        "now": now,
    }


# ---------------------------------------------------------------- tenant picker and login

async def picker(request: Request) -> Response:
    """Every tenant of the server, newest first."""
    tenants = list(reversed(registry_of(request).tenants()))
    rows = []
    for tenant in tenants[:MAX_ROWS]:
        with tenant.lock:
            rows.append({
                "ref": tenant_ref(tenant.api_key),
                "url": f"{tenant_base(tenant_ref(tenant.api_key))}/sessions",
                "masked_key": mask_key(tenant.api_key),
                "environment": tenant.environment,
                "application_id": tenant.application_id,
                "sessions": len(sessions_domain.book(tenant)),
                "now": fmt_time(tenant.clock.timestamp()),
                "frozen": tenant.clock.frozen,
            })
    registry = registry_of(request)
    refused = sorted(mask_key(key) for key in registry.refused_keys)[:MAX_ROWS]
    accepted = ", ".join(sorted(mask_key(key) for key in registry.allowed_keys)) or "no key"
    return render(request, "picker.html", {"rows": rows, "total": len(tenants), "refused": refused,
                                           "accepted": accepted}, refresh=True)


async def open_tenant(request: Request) -> Response:
    """Open the tenant of an API key typed in a form (the key travels in the body, never the URL)."""
    form = await read_form(request, "server")
    if form is None:
        return csrf_refused(request)
    api_key = str(form.get("api_key") or "").strip()
    tenant = registry_of(request).get(api_key) if api_key else None
    if tenant is None:
        return redirect(UI, "error", "This server does not accept that API key.")
    return redirect(f"{tenant_base(tenant_ref(tenant.api_key))}/sessions")


async def login_page(request: Request) -> Response:
    return render(request, "login.html", {"next": safe_next(request.query_params.get("next")), "failed": False})


async def login(request: Request) -> Response:
    """Check the admin token; on success set the HttpOnly cookie the dashboard paths accept."""
    form = await read_form(request, "server")
    if form is None:
        return csrf_refused(request)
    target = safe_next(str(form.get("next") or ""))
    expected = settings_of(request).admin_token
    if not expected:
        return redirect(target)
    offered = str(form.get("token") or "")
    if not offered or not same_secret(offered, expected):
        admin_guard.count_failure(request.scope)
        return render(request, "login.html", {"next": target, "failed": True}, status_code=401)
    response = redirect(target, "ok", "Signed in.")
    response.set_cookie(DASHBOARD_COOKIE, expected, path=UI, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


async def logout(request: Request) -> Response:
    form = await read_form(request, "server")
    if form is None:
        return csrf_refused(request)
    response = redirect(DASHBOARD_LOGIN, "ok", "Signed out.")
    response.delete_cookie(DASHBOARD_COOKIE, path=UI)
    return response


async def slash_home(request: Request) -> Response:
    """`/_mock/ui/` (as people type it) is the picker at `/_mock/ui`."""
    return redirect(UI)



TenantPage = Callable[[Request, str, Tenant], Awaitable[Response]]


def for_tenant(page: TenantPage) -> Callable[[Request], Awaitable[Response]]:
    """A route handler for `/_mock/ui/t/{ref}/...`: resolves the tenant ref, or the not-found page."""

    @functools.wraps(page)
    async def handler(request: Request) -> Response:
        ref = request.path_params["ref"]
        tenant = find_tenant(request, ref)
        if tenant is None:
            return tenant_missing(request)
        return await page(request, ref, tenant)

    return handler


async def tenant_home(request: Request) -> Response:
    ref = request.path_params["ref"]
    if find_tenant(request, ref) is None:
        return tenant_missing(request)
    return redirect(f"{tenant_base(ref)}/sessions")


# ---------------------------------------------------------------- sessions

def session_row(session: sessions_domain.Session, base: str, now: float) -> dict[str, Any]:
    return {
        "id": session.session_id,
        "number": session.session_number,
        "status": session.status,
        "vendor_data": session.vendor_data,
        "workflow": session.workflow.label,
        "workflow_id": session.workflow.workflow_id,
        "created": fmt_time(session.created_at),
        "created_rel": relative(session.created_at, now),
        "url": f"{base}/sessions/{session.session_id}",
        "otp": False,
    }


#: The sessions page's filter that lists the OTP verifications only (`?kind=otp`).
OTP_KIND = "otp"
OTP_KIND_TITLES = {otp.PHONE: "Phone", otp.EMAIL: "Email"}


def otp_row(verification: otp.Verification, base: str, now: float) -> dict[str, Any]:
    """An OTP verification as a sessions-list row: Didit keeps each as an API session, numbered with the sessions."""
    return {
        "id": verification.request_id,
        "number": verification.session_number,
        "status": verification.status,
        "vendor_data": verification.vendor_data,
        "workflow": f"{OTP_KIND_TITLES[verification.kind]} · {verification.target}",
        "created": fmt_time(verification.created_at),
        "created_rel": relative(verification.created_at, now),
        "url": otp_link(base, verification.request_id),
        "otp": True,
    }


def otp_link(base: str, request_id: str) -> str:
    """The OTP page, scrolled to one verification's row."""
    return f"{base}/otp#otp-{request_id}"


@for_tenant
async def sessions_page(request: Request, ref: str, tenant: Tenant) -> Response:
    """Sessions, newest first, with the OTP verifications that took numbers between them.

    `?status=` shows the sessions of one status, `?kind=otp` the OTP verifications only.
    """
    only_otp = request.query_params.get("kind") == OTP_KIND
    wanted = None if only_otp else request.query_params.get("status") or None
    with tenant.lock:
        context = tenant_context(tenant, ref, "sessions")
        base, now = context["tenant"]["base"], context["now"]
        book = sessions_domain.book(tenant)
        verifications = list(otp.book(tenant).by_id.values())
        if only_otp:
            chosen = []
        elif wanted is None:
            chosen = list(book.newest_first())
        else:  # a status holds its sessions in the order they reached it: newest created first here
            chosen = sorted(book.by_status.get(wanted, {}).values(), key=lambda s: s.session_number, reverse=True)
        listed = verifications if wanted is None else []
        rows = [session_row(s, base, now) for s in chosen[:MAX_ROWS]] + [
            otp_row(v, base, now) for v in listed[-MAX_ROWS:]]  # the book holds them oldest first
        rows = sorted(rows, key=lambda row: row["number"], reverse=True)[:MAX_ROWS]
        total = len(chosen) + len(listed)
        counts = [{"status": status, "count": len(book.by_status.get(status, {}))}
                  for status in st.SESSION_STATUSES if book.by_status.get(status)]
    return render(request, "sessions.html", {
        **context, "rows": rows, "total": total, "counts": counts, "wanted": wanted, "only_otp": only_otp,
        "all_count": len(book) + len(verifications), "otp_count": len(verifications),
        "otp_listed": any(row["otp"] for row in rows),
    }, refresh=True)


@for_tenant
async def session_page(request: Request, ref: str, tenant: Tenant) -> Response:
    session_id = request.path_params["session_id"]
    from ..domain.decision.rendering import render_decision

    with tenant.lock:
        session = sessions_domain.book(tenant).get(session_id) if is_canonical_uuid(session_id) else None
        context = tenant_context(tenant, ref, "sessions")
        if session is None and session_id in otp.book(tenant).by_id:
            return redirect(otp_link(context["tenant"]["base"], session_id))
        if session is None:
            return error_page(request, 404, "Session not found",
                              "This tenant has no session with this id (it may have been deleted or reset).", context)
        now = context["now"]
        try:
            decision = json.dumps(render_decision(tenant, session), indent=2, ensure_ascii=False)
        except Exception:  # a page must still show the rest of the session
            log.exception("could not render the decision of session %s", session_id)
            decision = "The decision could not be rendered; see the server log."
        book = webhooks_domain.book(tenant)
        attempts = [attempt_row(a, tenant, context["tenant"]["base"], now)
                    for a in reversed(book.find(session_id=session_id))]
        details = {
            **session_row(session, context["tenant"]["base"], now),
            "hosted_url": session.url,
            "callback": session.callback,
            "sandbox_scenario": session.sandbox_scenario,
            "expires": fmt_time(session.expires_at),
            "expires_rel": relative(session.expires_at, now) if session.status in COMPLETABLE else "",
            "completable": session.status in COMPLETABLE,
        }
        timeline = [{"status": status, "at": fmt_time(ts), "rel": relative(ts, now)}
                    for status, ts in session.timeline]
    return render(request, "session.html", {
        **context, "session": details, "timeline": timeline, "attempts": attempts, "decision": decision,
        "outcomes": OUTCOME_CHOICES, "csrf": csrf_token(request, ref),
    })


@for_tenant
async def complete_action(request: Request, ref: str, tenant: Tenant) -> Response:
    """Finish a session with the chosen outcome, through the admin API's `complete`."""
    session_id = request.path_params["session_id"]
    form = await read_form(request, ref)
    if form is None:
        return csrf_refused(request)
    page = f"{tenant_base(ref)}/sessions/{session_id}" if is_canonical_uuid(session_id) \
        else f"{tenant_base(ref)}/sessions"
    back = safe_back(form, ref, page)
    status = str(form.get("status") or "") or None
    try:
        body = parse(CompleteBody, {"status": status})
        with tenant.lock:
            if not is_canonical_uuid(session_id):
                raise NotFound()
            session = admin.complete(tenant, session_id, body)
            final = session.status
    except DiditError as exc:
        return redirect(back, "error", f"Could not complete the session: {error_text(exc.body)}")
    return redirect(back, "ok", f"Session completed: {final}.")


# ---------------------------------------------------------------- OTP

@for_tenant
async def otp_page(request: Request, ref: str, tenant: Tenant) -> Response:
    with tenant.lock:
        context = tenant_context(tenant, ref, "otp")
        now = context["now"]
        book = otp.book(tenant)
        rows: dict[str, list[dict[str, Any]]] = {otp.PHONE: [], otp.EMAIL: []}
        for verification in reversed(list(book.by_id.values())):
            latest = book.latest(verification.kind, verification.target)
            rows[verification.kind].append({
                "number": verification.session_number,
                "target": verification.target,
                "request_id": verification.request_id,
                "status": verification.status,
                "code": verification.code,
                "attempts_left": verification.attempts_left,
                "expires": fmt_time(verification.expires_at),
                "expires_rel": relative(verification.expires_at, now),
                "pending": verification.is_pending(now),
                "sends": verification.sends,
                "vendor_data": verification.vendor_data,
                "created_rel": relative(verification.created_at, now),
                "current": latest is verification,
            })
        config = otp.otp_config(tenant)
        fixed = {"phone": dict(config.phone_codes), "email": dict(config.email_codes)}
    return render(request, "otp.html", {
        **context, "phone": rows[otp.PHONE][:MAX_ROWS], "email": rows[otp.EMAIL][:MAX_ROWS], "fixed": fixed,
    }, refresh=True)


# ---------------------------------------------------------------- webhooks

def signature_verifies(book: WebhookBook, attempt: Attempt) -> bool:
    """Whether the logged `X-Signature` is the HMAC of the logged body under the target's current secret."""
    logged = attempt.request.headers.get("X-Signature", "")
    expected = webhooks_domain.hmac_hex(book.secret_for(attempt.delivery), attempt.request.body.decode("ascii"))
    return bool(logged) and hmac.compare_digest(logged, expected)


def session_link(tenant: Tenant, base: str, session_id: str) -> str | None:
    """The dashboard page of a session, or None (an OTP verification's request_id, a deleted session)."""
    return f"{base}/sessions/{session_id}" if sessions_domain.book(tenant).get(session_id) is not None else None


def attempt_row(attempt: Attempt, tenant: Tenant, base: str, now: float) -> dict[str, Any]:
    """One delivery-log entry as the tables show it."""
    delivery = attempt.delivery
    return {
        "uuid": attempt.uuid,
        "at": fmt_time(attempt.created_at),
        "rel": relative(attempt.created_at, now),
        "session_id": delivery.session_id,
        "session_url": session_link(tenant, base, delivery.session_id),
        "otp_url": otp_link(base, delivery.session_id) if delivery.session_id in otp.book(tenant).by_id else None,
        "webhook_type": delivery.webhook_type,
        "status": delivery.status,
        "url": attempt.request.url,
        "trigger": attempt.trigger,
        "number": attempt.number,
        "attempts": len(delivery.attempts),
        "response_status": attempt.outcome.status,
        "error": attempt.outcome.error,
        "delivered": attempt.delivered,
        "delivery_state": delivery.state,
        "will_retry": attempt.will_retry,
        "next_retry": relative(attempt.next_retry_at, now) if attempt.next_retry_at is not None else "",
        "signature_ok": signature_verifies(webhooks_domain.book(tenant), attempt),
        "detail_url": f"{base}/webhooks/{attempt.uuid}",
        "replay_url": f"{base}/webhooks/{attempt.uuid}/replay",
    }


@for_tenant
async def webhooks_page(request: Request, ref: str, tenant: Tenant) -> Response:
    with tenant.lock:
        context = tenant_context(tenant, ref, "webhooks")
        base, now = context["tenant"]["base"], context["now"]
        book = webhooks_domain.book(tenant)
        attempts = [attempt_row(a, tenant, base, now) for a in reversed(book.attempts[-MAX_ROWS:])]
        pending = [{"session_id": d.session_id, "session_url": session_link(tenant, base, d.session_id),
                    "webhook_type": d.webhook_type, "status": d.status, "url": d.url,
                    "attempts": len(d.attempts), "next": relative(d.not_before, now)} for d in book.pending()]
        config = {
            "url": book.legacy.url,
            "version": book.legacy.version,
            "destinations": [{"label": d.label, "url": d.url, "enabled": d.enabled, "version": d.webhook_version,
                              "events": ", ".join(d.subscribed_events)} for d in book.destinations.values()],
            "faults": dict(book.faults),
        }
    return render(request, "webhooks.html", {
        **context, "attempts": attempts, "pending": pending, "config": config, "total": len(book.attempts),
        "csrf": csrf_token(request, ref),
    }, refresh=True)


@for_tenant
async def webhook_page(request: Request, ref: str, tenant: Tenant) -> Response:
    attempt_uuid = request.path_params["attempt_uuid"]
    with tenant.lock:
        book = webhooks_domain.book(tenant)
        attempt = book.attempt(attempt_uuid)
        context = tenant_context(tenant, ref, "webhooks")
        if attempt is None:
            return error_page(request, 404, "Delivery not found", "This tenant's delivery log has no such entry.",
                              context)
        row = attempt_row(attempt, tenant, context["tenant"]["base"], context["now"])
        detail = {
            "headers": json.dumps(attempt.request.headers, indent=2),
            "body": pretty_json(attempt.request.body.decode("ascii")),
            "response_body": attempt.outcome.body or "",
            "elapsed_ms": attempt.outcome.elapsed_ms,
            "event_id": attempt.delivery.event_id,
            "delivery_id": attempt.delivery.id,
        }
    return render(request, "webhook.html", {**context, "attempt": row, "detail": detail,
                                            "csrf": csrf_token(request, ref)})


@for_tenant
async def replay_action(request: Request, ref: str, tenant: Tenant) -> Response:
    """Send a logged delivery again, as `POST /_mock/webhooks/{uuid}/replay` does."""
    attempt_uuid = request.path_params["attempt_uuid"]
    form = await read_form(request, ref)
    if form is None:
        return csrf_refused(request)
    back = safe_back(form, ref, f"{tenant_base(ref)}/webhooks")
    try:
        with tenant.lock:
            delivery = webhooks.find_delivery(tenant, attempt_uuid)
    except DiditError:
        return redirect(back, "error", "Could not replay: this tenant's delivery log has no such entry.")
    replayed = await webhooks.sender_of(request).replay(tenant, delivery)
    with tenant.lock:
        answer = f"HTTP {replayed.outcome.status}" if replayed.outcome.status is not None \
            else (replayed.outcome.error or "no answer")
        number = replayed.number
    return redirect(back, "ok" if replayed.delivered else "error",
                    f"Replayed as attempt #{number} of the delivery: {answer}.")


# ---------------------------------------------------------------- blocklist, requests, scenarios

@for_tenant
async def blocklist_page(request: Request, ref: str, tenant: Tenant) -> Response:
    with tenant.lock:
        context = tenant_context(tenant, ref, "blocklist")
        base, now = context["tenant"]["base"], context["now"]
        rows = []
        for entry in blocklist(tenant).newest_first()[:MAX_ROWS]:
            value = entry.document_number or entry.face_id or entry.phone_number or entry.email or entry.value
            rows.append({
                "type": entry.type,
                "value": value,
                "detail": " · ".join(x for x in (entry.document_type, entry.issuing_state) if x),
                "session_id": entry.session_id,
                "session_number": entry.session_number,
                "session_url": session_link(tenant, base, entry.session_id),
                "vendor_data": entry.vendor_data,
                "at": fmt_time(entry.blocklisted_at),
                "rel": relative(entry.blocklisted_at, now),
            })
    return render(request, "blocklist.html", {**context, "rows": rows}, refresh=True)


@for_tenant
async def requests_page(request: Request, ref: str, tenant: Tenant) -> Response:
    """The request journal, newest first, filtered as `GET /_mock/requests` filters."""
    query = request.query_params
    filters = {name: (query.get(name) or "").strip() for name in ("method", "path", "status")}
    problem = None
    if filters["status"]:
        try:
            journal_mod.status_matcher(filters["status"])
        except ValueError:
            problem = f"status: {admin.STATUS_FILTER_HELP}"
    journal = journal_mod.journal_of(tenant)
    entries = [] if problem else journal.select(
        method=filters["method"] or None, path=filters["path"] or None, status=filters["status"] or None)
    with tenant.lock:
        context = tenant_context(tenant, ref, "requests")
    now = context["now"]
    rows = [{
        "id": e.id, "method": e.method, "path": e.path, "query": e.query, "status": e.status,
        "duration_ms": e.duration_ms, "at": fmt_time(e.timestamp), "rel": relative(e.timestamp, now),
        "request_body": pretty_json(e.request_body), "response_body": pretty_json(e.response_body),
        "truncated": e.request_truncated or e.response_truncated,
    } for e in reversed(entries[-MAX_JOURNAL_ROWS:])]
    return render(request, "requests.html", {
        **context, "rows": rows, "total": len(entries), "filters": filters, "problem": problem,
    }, refresh=True)


def _masked_document(document: Any) -> Any:
    """A scenario document with the API keys of its `tenants` masked."""
    if isinstance(document, dict) and isinstance(document.get("tenants"), list):
        tenants = [{**t, "api_key": mask_key(str(t.get("api_key", "")))} if isinstance(t, dict) else t
                   for t in document["tenants"]]
        return {**document, "tenants": tenants}
    return document


@for_tenant
async def scenarios_page(request: Request, ref: str, tenant: Tenant) -> Response:
    """The server's scenarios (and reload errors) and the tenant's own, as `GET /_mock/scenarios` shows them."""
    engine = getattr(request.app.state, "scenarios", None)
    view = engine.view(tenant) if engine is not None else {
        "generation": 0, "paths": [], "scenarios": [], "errors": [], "failed_reloads": 0, "tenant": None}
    with tenant.lock:
        context = tenant_context(tenant, ref, "scenarios")
    base = context["tenant"]["base"]

    def shown(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "tenants": [mask_key(k) for k in item.get("tenants", [])],
                "document": json.dumps(_masked_document(item.get("document")), indent=2, ensure_ascii=False)}

    own = (view.get("tenant") or {})
    return render(request, "scenarios.html", {
        **context,
        "scenarios": [shown(item) for item in view.get("scenarios", [])],
        "paths": view.get("paths", []),
        "generation": view.get("generation", 0),
        "errors": view.get("errors", []),
        "failed_reloads": view.get("failed_reloads", 0),
        "own": shown(own["own"]) if own.get("own") else None,
        "active": own.get("active", []),
        "faults": own.get("faults", []),
        "session_rules": [{"session_id": sid, "rule": rule, "url": f"{base}/sessions/{sid}"}
                          for sid, rule in (own.get("sessions") or {}).items()],
    }, refresh=True)


# ---------------------------------------------------------------- clock and reset

@for_tenant
async def clock_page(request: Request, ref: str, tenant: Tenant) -> Response:
    with tenant.lock:
        context = tenant_context(tenant, ref, "clock")
        now = context["now"]
        next_due = tenant.scheduler.next_due()
        clock = {
            "now": fmt_time(now),
            "iso": tenant.clock.snapshot()["now"],
            "timestamp": f"{now:.3f}",
            "frozen": tenant.clock.frozen,
            "next_job": fmt_time(next_due) if next_due is not None else None,
            "next_job_rel": relative(next_due, now) if next_due is not None else "",
            "jobs": len(tenant.scheduler),
            "seed": tenant.seed,
        }
    return render(request, "clock.html", {
        **context, "clock": clock, "presets": CLOCK_PRESETS, "csrf": csrf_token(request, ref),
    })


@for_tenant
async def advance_action(request: Request, ref: str, tenant: Tenant) -> Response:
    """Move the tenant clock forward, as `POST /_mock/clock/advance` does."""
    form = await read_form(request, ref)
    if form is None:
        return csrf_refused(request)
    back = safe_back(form, ref, f"{tenant_base(ref)}/clock")
    raw = str(form.get("seconds") or "").strip()
    try:
        body = parse(AdvanceBody, {"seconds": raw})
    except DiditError as exc:
        return redirect(back, "error", f"Could not advance the clock: {error_text(exc.body)}")
    snapshot = admin.advance_clock(tenant, body.seconds)
    return redirect(back, "ok", f"Clock advanced by {span(body.seconds)}: now {fmt_time(snapshot['timestamp'])}.")


@for_tenant
async def reset_action(request: Request, ref: str, tenant: Tenant) -> Response:
    """Empty the tenant, as `POST /_mock/reset` does (the ref stays valid: the key is the same)."""
    form = await read_form(request, ref)
    if form is None:
        return csrf_refused(request)
    registry_of(request).reset(tenant.api_key)
    return redirect(f"{tenant_base(ref)}/sessions", "ok", "Tenant reset: every session, code, webhook and "
                    "journal entry is gone.")


_PAGE = {"security": None, "responses": {200: "html"}}
_ACTION = {"security": None, "responses": {303: None, 403: "html"}}

#: What the served OpenAPI document says of these routes (merged by `api.openapi`).
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", UI): {**_PAGE, "summary": "Dashboard: the tenant picker"},
    ("GET", UI + "/"): {"security": None, "summary": "Dashboard: redirects to /_mock/ui", "responses": {303: None}},
    ("GET", f"{UI}/favicon.ico"): {"security": None, "summary": "Dashboard: the site icon (image/x-icon)",
                                   "responses": {200: None}},
    ("GET", DASHBOARD_LOGIN): {**_PAGE, "summary": "Dashboard: the admin-token login form"},
    ("POST", DASHBOARD_LOGIN): {"security": None, "summary": "Dashboard: sign in with the admin token",
                                "responses": {303: None, 401: "html", 403: "html"}},
    ("POST", f"{UI}/logout"): {**_ACTION, "summary": "Dashboard: sign out"},
    ("POST", f"{UI}/open"): {**_ACTION, "summary": "Dashboard: open the tenant of an API key"},
    ("GET", f"{UI}/t/{{ref}}"): {"security": None, "summary": "Dashboard: a tenant (redirects to its sessions)",
                                 "responses": {303: None}},
    ("GET", f"{UI}/t/{{ref}}/sessions"): {**_PAGE, "summary": "Dashboard: the tenant's sessions"},
    ("GET", f"{UI}/t/{{ref}}/sessions/{{session_id}}"): {**_PAGE, "summary": "Dashboard: one session"},
    ("POST", f"{UI}/t/{{ref}}/sessions/{{session_id}}/complete"): {
        **_ACTION, "summary": "Dashboard: complete a session with an outcome"},
    ("GET", f"{UI}/t/{{ref}}/otp"): {**_PAGE, "summary": "Dashboard: OTP verifications and their codes"},
    ("GET", f"{UI}/t/{{ref}}/webhooks"): {**_PAGE, "summary": "Dashboard: the webhook delivery log"},
    ("GET", f"{UI}/t/{{ref}}/webhooks/{{attempt_uuid}}"): {**_PAGE, "summary": "Dashboard: one delivery attempt"},
    ("POST", f"{UI}/t/{{ref}}/webhooks/{{attempt_uuid}}/replay"): {
        **_ACTION, "summary": "Dashboard: replay a webhook delivery"},
    ("GET", f"{UI}/t/{{ref}}/blocklist"): {**_PAGE, "summary": "Dashboard: the blocklist"},
    ("GET", f"{UI}/t/{{ref}}/requests"): {**_PAGE, "summary": "Dashboard: the request journal"},
    ("GET", f"{UI}/t/{{ref}}/scenarios"): {**_PAGE, "summary": "Dashboard: the loaded scenarios"},
    ("GET", f"{UI}/t/{{ref}}/clock"): {**_PAGE, "summary": "Dashboard: the tenant clock"},
    ("POST", f"{UI}/t/{{ref}}/clock/advance"): {**_ACTION, "summary": "Dashboard: advance the tenant clock"},
    ("POST", f"{UI}/t/{{ref}}/reset"): {**_ACTION, "summary": "Dashboard: reset the tenant"},
}

routes = [
    Route(UI, picker, methods=["GET"], name="dashboard"),
    Route(UI + "/", slash_home, methods=["GET"], name="dashboard_slash"),
    Route(f"{UI}/favicon.ico", favicon, methods=["GET"], name="dashboard_favicon"),
    Route(DASHBOARD_LOGIN, login_page, methods=["GET"], name="dashboard_login_page"),
    Route(DASHBOARD_LOGIN, login, methods=["POST"], name="dashboard_login"),
    Route(f"{UI}/logout", logout, methods=["POST"], name="dashboard_logout"),
    Route(f"{UI}/open", open_tenant, methods=["POST"], name="dashboard_open"),
    Route(f"{UI}/t/{{ref}}", tenant_home, methods=["GET"], name="dashboard_tenant"),
    Route(f"{UI}/t/{{ref}}/sessions", sessions_page, methods=["GET"], name="dashboard_sessions"),
    Route(f"{UI}/t/{{ref}}/sessions/{{session_id}}", session_page, methods=["GET"], name="dashboard_session"),
    Route(f"{UI}/t/{{ref}}/sessions/{{session_id}}/complete", complete_action, methods=["POST"],
          name="dashboard_complete"),
    Route(f"{UI}/t/{{ref}}/otp", otp_page, methods=["GET"], name="dashboard_otp"),
    Route(f"{UI}/t/{{ref}}/webhooks", webhooks_page, methods=["GET"], name="dashboard_webhooks"),
    Route(f"{UI}/t/{{ref}}/webhooks/{{attempt_uuid}}", webhook_page, methods=["GET"], name="dashboard_webhook"),
    Route(f"{UI}/t/{{ref}}/webhooks/{{attempt_uuid}}/replay", replay_action, methods=["POST"],
          name="dashboard_replay"),
    Route(f"{UI}/t/{{ref}}/blocklist", blocklist_page, methods=["GET"], name="dashboard_blocklist"),
    Route(f"{UI}/t/{{ref}}/requests", requests_page, methods=["GET"], name="dashboard_requests"),
    Route(f"{UI}/t/{{ref}}/scenarios", scenarios_page, methods=["GET"], name="dashboard_scenarios"),
    Route(f"{UI}/t/{{ref}}/clock", clock_page, methods=["GET"], name="dashboard_clock"),
    Route(f"{UI}/t/{{ref}}/clock/advance", advance_action, methods=["POST"], name="dashboard_advance"),
    Route(f"{UI}/t/{{ref}}/reset", reset_action, methods=["POST"], name="dashboard_reset"),
]
