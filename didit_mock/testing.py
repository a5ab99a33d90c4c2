"""Test helpers: `DiditMock`, one isolated tenant of a running didit-mock, steered over HTTP.

Every helper is a thin call of the admin API (`/_mock/...`) or of the Didit API itself, so the
same test code works against the in-process server of the pytest plugin and against a
container reached by URL. Usable without pytest:

    from didit_mock import MockServer
    from didit_mock.testing import DiditMock

    with MockServer() as server, DiditMock.new_tenant(server.url) as mock:
        session = mock.create_session(vendor_data="user-1")
        mock.complete(session["session_id"], "Approved")
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

__all__ = [
    "DEFAULT_WORKFLOW_ID", "DiditMock", "DiditMockError", "QuietHTTPServer", "ServerHandle", "WebhookDelivery",
    "WebhookReceiver", "sign_body",
]

#: The built-in KYC workflow (ID verification, liveness, face match, AML, IP analysis).
DEFAULT_WORKFLOW_ID = "d1d17000-0000-4000-8000-000000000001"
ADMIN_TOKEN_HEADER = "x-admin-token"


class DiditMockError(Exception):
    """A helper call the mock refused, in one readable line; `response` holds the status and body
    (None when the helper refused the call before sending it)."""

    def __init__(self, message: str, response: httpx.Response | None = None, *, explained: bool = False):
        """`explained`: `message` says it all; otherwise the response's status and detail are appended."""
        super().__init__(message if response is None or explained else f"{message}: {_reason(response)}")
        self.response = response


def _reason(response: httpx.Response) -> str:
    """`HTTP 404: Not found.`: the status and Didit's `detail` or field messages, never a whole page."""
    head = f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        if not text or text.lstrip().startswith("<"):
            return f"{head} {response.reason_phrase}".rstrip()
        return f"{head}: {text[:200]}"
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return f"{head}: {body['detail']}"
    if isinstance(body, dict) and body:
        parts = []
        for field_name, messages in body.items():
            shown = messages[0] if isinstance(messages, list) and messages else messages
            parts.append(f"{field_name}: {shown}")
        return f"{head}: " + "; ".join(str(part) for part in parts)[:300]
    return f"{head}: {json.dumps(body)[:200]}"


def _session_id(session_id: str, what: str) -> str:
    """The id as the mock spells it, or a one-line DiditMockError for something that is not a UUID."""
    try:
        return str(uuid.UUID(str(session_id)))
    except ValueError:
        raise DiditMockError(f"{what}: {session_id!r} is not a session id (a UUID, such as the "
                             "session_id of create_session's answer)") from None


_ssl_context: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    """One TLS context for every client (building one per client costs tens of milliseconds)."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = httpx.create_ssl_context()
    return _ssl_context


def _check(response: httpx.Response, what: str, *ok: int) -> Any:
    if response.status_code not in (ok or (200,)):
        raise DiditMockError(what, response)
    if not response.content:
        return None
    return response.json()


def _params(filters: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters: None dropped, booleans as true/false, datetimes as ISO."""
    params: dict[str, str] = {}
    for key, value in filters.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[key] = "true" if value else "false"
        elif isinstance(value, datetime):
            params[key] = _iso(value)
        else:
            params[key] = str(value)
    return params


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


def _results(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict) and "results" in body:
        return list(body["results"])
    return list(body or [])


def _clock_time(snapshot: Mapping[str, Any]) -> datetime:
    return datetime.fromtimestamp(float(snapshot["timestamp"]), tz=timezone.utc)


# ---------------------------------------------------------------- webhook signatures

def _shorten_floats(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _shorten_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten_floats(v) for v in value]
    return value


def sign_body(secret: str, message: bytes | str) -> str:
    """Didit's webhook signature: lowercase hex HMAC-SHA256 of `message` keyed by the secret."""
    data = message.encode("utf-8") if isinstance(message, str) else message
    return hmac.new(secret.encode("utf-8"), data, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WebhookDelivery:
    """One request the receiver got: its headers, the raw body and its JSON.

    `headers` is case-insensitive, as HTTP headers are: `headers["X-Signature-V2"]` and
    `headers["x-signature-v2"]` are the same header (it iterates with lower-case names).
    """

    method: str
    path: str
    headers: httpx.Headers
    body: bytes
    received_at: float
    secret: str | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def _secret(self, secret: str | None) -> str:
        key = secret if secret is not None else self.secret
        if key is None:
            raise ValueError("no webhook secret to verify with")
        return key

    def verify(self, secret: str | None = None) -> bool:
        """`X-Signature` is the HMAC-SHA256 of the raw body with the secret."""
        expected = sign_body(self._secret(secret), self.body)
        return hmac.compare_digest(expected, self.headers.get("x-signature", ""))

    def verify_v2(self, secret: str | None = None) -> bool:
        """`X-Signature-V2` covers the re-canonicalised payload (sorted keys, UTF-8, short floats)."""
        canonical = json.dumps(_shorten_floats(self.json), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        expected = sign_body(self._secret(secret), canonical)
        return hmac.compare_digest(expected, self.headers.get("x-signature-v2", ""))

    def verify_simple(self, secret: str | None = None) -> bool:
        """`X-Signature-Simple` covers `timestamp:session_id:status:webhook_type`."""
        payload = self.json
        parts = [payload.get(k) for k in ("timestamp", "session_id", "status", "webhook_type")]
        message = ":".join("" if p is None else str(p) for p in parts)
        expected = sign_body(self._secret(secret), message)
        return hmac.compare_digest(expected, self.headers.get("x-signature-simple", ""))


class QuietHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that prints no traceback when a client hangs up early.

    `socketserver` prints "Exception occurred during processing of request from ..." and a
    traceback when the sender went away (a delivery timeout); for a test receiver that is noise.
    """

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A sender that hung up early (a delivery timeout) is not worth a traceback."""


class WebhookReceiver:
    """A loopback HTTP server in a thread that records every webhook delivered to it.

    `DiditMock.receiver()` starts one and points the tenant's webhook at it. Use it as a context
    manager, or call `stop()`. `status_code` is what it answers (set 500 to exercise retries).
    """

    def __init__(
        self, secret: str | None = None, *, host: str = "127.0.0.1", port: int = 0, path: str = "/webhook",
        public_host: str | None = None, status_code: int = 200,
    ):
        self.secret = secret
        #: Says, when a `wait` times out, what the mock saw delivering here (set by `DiditMock.receiver`).
        self.explain: Callable[[], str] | None = None
        self.path = path
        self.status_code = status_code
        self._deliveries: list[WebhookDelivery] = []
        self._changed = threading.Condition()
        self._stopped = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                delivery = WebhookDelivery(
                    method=self.command, path=self.path,
                    headers=httpx.Headers(list(self.headers.items())),
                    body=body, received_at=time.time(), secret=receiver.secret,
                )
                with receiver._changed:
                    receiver._deliveries.append(delivery)
                    receiver._changed.notify_all()
                self.send_response(receiver.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_POST = do_PUT = do_PATCH = _record  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = QuietHTTPServer((host, port), Handler)
        bound_port = self._server.server_address[1]
        self.url = f"http://{public_host or host}:{bound_port}{path}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="didit-mock-webhooks", daemon=True)
        self._thread.start()

    @property
    def deliveries(self) -> list[WebhookDelivery]:
        """Every delivery so far, in arrival order."""
        with self._changed:
            return list(self._deliveries)

    def payloads(self) -> list[Any]:
        """The JSON bodies of every delivery so far."""
        return [d.json for d in self.deliveries]

    def clear(self) -> None:
        with self._changed:
            self._deliveries.clear()

    def wait(
        self, timeout: float = 10.0, predicate: Callable[[WebhookDelivery], bool] | None = None, **match: Any
    ) -> WebhookDelivery:
        """The first delivery (already received or arriving within `timeout` seconds) whose JSON
        body has every `match` field (e.g. `status="Approved"`) and satisfies `predicate`."""

        def fits(delivery: WebhookDelivery) -> bool:
            try:
                payload = delivery.json
            except ValueError:
                return False
            if any(not isinstance(payload, dict) or payload.get(k) != v for k, v in match.items()):
                return False
            return predicate is None or predicate(delivery)

        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for delivery in self._deliveries:
                    if fits(delivery):
                        return delivery
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
        message = f"no webhook matching {match or predicate} reached {self.url} within {timeout} s"
        if self.explain is not None:
            message += f"; {self.explain()}"
        raise TimeoutError(message)

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


# ---------------------------------------------------------------- helpers for route families

class Sessions:
    """Sessions of the tenant: `create`, `list` (the Didit list), `get` (the decision), `all` (admin view)."""

    def __init__(self, mock: DiditMock):
        self._mock = mock

    def create(self, **fields: Any) -> dict[str, Any]:
        return self._mock.create_session(**fields)

    def list(self, **params: Any) -> list[dict[str, Any]]:
        """`GET /v3/sessions/` rows (pass `limit`, `status`, `vendor_data`, ...)."""
        return _results(_check(self._mock.http.get("/v3/sessions/", params=_params(params)), "list sessions"))

    def get(self, session_id: str, **params: Any) -> dict[str, Any]:
        """The decision: `GET /v3/session/{id}/decision/`."""
        return self._mock.decision(session_id, **params)

    def all(self, **filters: Any) -> list[dict[str, Any]]:
        """Every session of the tenant, compact (`GET /_mock/sessions`; filters `status`, `vendor_data`)."""
        return _results(_check(self._mock.http.get("/_mock/sessions", params=_params(filters)), "admin sessions"))

    def count(self) -> int:
        return len(self.all())


class Blocklist:
    """The session-derived blocklist (`/v3/blocklist/...`)."""

    def __init__(self, mock: DiditMock):
        self._mock = mock

    def add(self, session_id: str, *, face: bool = False, document: bool = False, phone: bool = False,
            email: bool = False) -> dict[str, Any]:
        body = {"session_id": session_id, "blocklist_face": face, "blocklist_document": document,
                "blocklist_phone": phone, "blocklist_email": email}
        return _check(self._mock.http.post("/v3/blocklist/add/", json=body), "blocklist add")

    def remove(self, session_id: str, *, face: bool = False, document: bool = False, phone: bool = False,
               email: bool = False) -> dict[str, Any]:
        body = {"session_id": session_id, "unblock_face": face, "unblock_document": document,
                "unblock_phone": phone, "unblock_email": email}
        return _check(self._mock.http.post("/v3/blocklist/remove/", json=body), "blocklist remove")

    def list(self, item_type: str | None = None, **params: Any) -> list[dict[str, Any]]:
        response = self._mock.http.get("/v3/blocklist/", params=_params({"item_type": item_type, **params}))
        return _results(_check(response, "blocklist list"))


# ---------------------------------------------------------------- the tenant handle

@dataclass
class ServerHandle:
    """A running didit-mock: its URL, its admin token, and the in-process server if there is one."""

    url: str
    admin_token: str | None = None
    server: Any = field(default=None, repr=False)

    def new_tenant(self, **options: Any) -> DiditMock:
        """A fresh tenant on this server (see `DiditMock.new_tenant` for the options)."""
        return DiditMock.new_tenant(self.url, admin_token=self.admin_token, **options)


class DiditMock:
    """One tenant (API key) of a didit-mock server, with helpers for everything a test steers.

    `base_url` and `headers` are what the application under test needs; everything else drives
    the mock: the clock, outcomes, OTP codes, webhooks, scenarios and the request journal.
    """

    def __init__(self, base_url: str, api_key: str, *, admin_token: str | None = None, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.admin_token = admin_token
        headers = {"x-api-key": api_key}
        if admin_token:
            headers[ADMIN_TOKEN_HEADER] = admin_token
        #: The HTTP client every helper uses (the tenant's key, and the admin token if any).
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, verify=_tls())
        self.sessions = Sessions(self)
        self.blocklist = Blocklist(self)
        self._application_id: str | None = None
        self._receivers: list[WebhookReceiver] = []

    @classmethod
    def new_tenant(cls, base_url: str, *, admin_token: str | None = None, timeout: float = 10.0,
                   **options: Any) -> DiditMock:
        """Create a tenant with `POST /_mock/tenants` and return its handle.

        Options: `api_key`, `environment` ("sandbox" | "live"), `application_id`, `seed`,
        `clock_start` (ISO or datetime), `frozen`, `strict_workflows`, `credits`, `rate_limits`,
        `rate_limit_scale`, `decision_rate_limit`.
        """
        body = {k: (_iso(v) if isinstance(v, datetime) else v) for k, v in options.items() if v is not None}
        headers = {ADMIN_TOKEN_HEADER: admin_token} if admin_token else {}
        response = httpx.post(base_url.rstrip("/") + "/_mock/tenants", json=body, headers=headers, timeout=timeout,
                              verify=_tls())
        view = _check(response, "create tenant", 201)
        mock = cls(base_url, view["api_key"], admin_token=admin_token, timeout=timeout)
        mock._application_id = view["application_id"]
        return mock

    # ---------------------------------------------------------------- identity

    @property
    def headers(self) -> dict[str, str]:
        """The headers a client of the Didit API sends: `{"x-api-key": ...}`."""
        return {"x-api-key": self.api_key}

    @property
    def application_id(self) -> str:
        if self._application_id is None:
            self._application_id = self.tenant()["application_id"]
        return self._application_id

    def tenant(self) -> dict[str, Any]:
        """`GET /_mock/tenant`: application id, environment, clock and settings."""
        return _check(self.http.get("/_mock/tenant"), "tenant")

    def reset(self) -> dict[str, Any]:
        """Empty the tenant (same key, same creation options)."""
        return _check(self.http.post("/_mock/reset"), "reset")

    # ---------------------------------------------------------------- clock

    def now(self) -> datetime:
        """The tenant clock."""
        return _clock_time(_check(self.http.get("/_mock/clock"), "clock"))

    def advance(self, seconds: float) -> datetime:
        """Move the tenant clock forward; due expiries, retries and timelines fire. Returns the new time."""
        return _clock_time(_check(self.http.post("/_mock/clock/advance", json={"seconds": seconds}), "advance"))

    def freeze(self) -> datetime:
        """Stop the tenant clock where it is."""
        return _clock_time(_check(self.http.post("/_mock/clock/freeze"), "freeze"))

    def set_time(self, moment: datetime | str) -> datetime:
        """Jump the tenant clock to `moment` (naive datetimes are UTC)."""
        now = moment if isinstance(moment, str) else _iso(moment)
        return _clock_time(_check(self.http.post("/_mock/clock/set", json={"now": now}), "set time"))

    def real_time(self) -> datetime:
        """Follow the wall clock again."""
        return _clock_time(_check(self.http.post("/_mock/clock/real"), "real time"))

    # ---------------------------------------------------------------- sessions

    def create_session(self, **fields: Any) -> dict[str, Any]:
        """`POST /v3/session/` (the built-in KYC workflow unless `workflow_id` is given); the 201 body."""
        body = {"workflow_id": DEFAULT_WORKFLOW_ID, **fields}
        return _check(self.http.post("/v3/session/", json=body), "create session", 201)

    def decision(self, session_id: str, **params: Any) -> dict[str, Any]:
        """`GET /v3/session/{id}/decision/`."""
        response = self.http.get(f"/v3/session/{session_id}/decision/", params=_params(params))
        return _check(response, "decision")

    def complete(self, session_id: str, status: str | None = "Approved", *, final_only: bool = False,
                 **features: Any) -> dict[str, Any]:
        """Finish a session as its user would: Approved, Declined, In Review or Abandoned (None: the
        sandbox scenario's outcome). `features` set per-feature outcomes, e.g.
        `ID_VERIFICATION="Declined"`. Returns the decision.

        A Not Started session first moves to In Progress, as when its user opens the link: two
        `status.updated` webhooks, In Progress then the outcome, delivered in that order (behind a
        failing receiver the outcome waits for the In Progress retries). `final_only=True` skips
        the In Progress step: only the outcome's webhook is sent.
        """
        session_id = _session_id(session_id, "complete")
        body: dict[str, Any] = {"status": status}
        if features:
            body["features"] = features
        if final_only:
            body["final_only"] = True
        response = self.http.post(f"/_mock/sessions/{session_id}/complete", json=body)
        if response.status_code == 404:
            raise DiditMockError(f"complete: no session {session_id} in this tenant (API key {self.api_key[:12]}...)",
                                 response, explained=True)
        return _check(response, f"complete {session_id}")

    def force_status(self, session_id: str, status: str) -> dict[str, Any]:
        """Put a session in any of the ten statuses (the status.updated webhook fires)."""
        response = self.http.post(f"/_mock/sessions/{session_id}/status", json={"status": status})
        return _check(response, "force status")

    # ---------------------------------------------------------------- OTP codes

    def otp(self, phone_or_email: str) -> dict[str, Any]:
        """The latest OTP sent to a phone (E.164) or an email: `{"code", "attempts_left", "expires_at"}`."""
        kind = "email" if "@" in phone_or_email else "phone"
        response = self.http.get(f"/_mock/{kind}/{quote(phone_or_email.strip(), safe='+@')}/code")
        if response.status_code == 404:
            raise DiditMockError(f"no OTP code has been sent to {phone_or_email} in this tenant "
                                 f"(send one with POST /v3/{kind}/send/ first)", response, explained=True)
        return _check(response, f"{kind} code")

    def otp_code(self, phone_or_email: str) -> str:
        """Just the latest code sent to a phone number or email address."""
        return str(self.otp(phone_or_email)["code"])

    # ---------------------------------------------------------------- standalone APIs

    def arm_outcome(self, endpoint: str, status: str | None = None, *, risks: list[str] | tuple[str, ...] = (),
                    scenario: str | None = None, vendor_data: str | None = None, sticky: bool = False) -> Any:
        """Choose what the next call of a standalone endpoint answers, e.g.
        `arm_outcome("passive-liveness", "Declined", risks=["LIVENESS_FACE_ATTACK"])` (docs/standalone.md).
        With `vendor_data`, only a call for that user takes it; `sticky` keeps it for every later call."""
        body: dict[str, Any] = {"status": status, "risks": list(risks), "scenario": scenario,
                                "vendor_data": vendor_data, "sticky": sticky}
        response = self.http.post(f"/_mock/standalone/{quote(endpoint, safe='')}/outcomes", json=body)
        return _check(response, "arm outcome", 201)

    def disarm_outcomes(self, endpoint: str | None = None) -> None:
        """Forget the armed outcomes (of one endpoint, or of all)."""
        path = f"/_mock/standalone/{quote(endpoint, safe='')}/outcomes" if endpoint else "/_mock/standalone/outcomes"
        response = self.http.delete(path)
        if response.status_code != 204:
            raise DiditMockError("disarm outcomes", response)

    def resolve_kyb(self, request_id: str) -> Any:
        """Finish a pending KYB search (its callback goes out) or retrieval (its business session settles):
        `POST /_mock/kyb/{request_id}/resolve`."""
        response = self.http.post(f"/_mock/kyb/{quote(request_id, safe='')}/resolve")
        return _check(response, "resolve KYB")

    def fixture_image(self, name: str = "selfie", *, person: str | None = None, scenario: str | None = None) -> bytes:
        """A fixture PNG (`selfie`, `id-front`, `id-back`, `tiny`) that carries a person and an outcome:
        upload it to a standalone API and the call answers for that person and scenario."""
        params = {k: v for k, v in (("person", person), ("scenario", scenario)) if v}
        response = self.http.get(f"/_mock/fixtures/{quote(name, safe='')}.png", params=params)
        if response.status_code != 200:
            raise DiditMockError(f"fixture image {name}", response)
        return response.content

    # ---------------------------------------------------------------- scenarios

    def load_scenario(self, yaml_or_path: str | os.PathLike[str]) -> Any:
        """Load a scenario: YAML text, or the path of a YAML file (`PUT /_mock/scenarios`)."""
        text = str(yaml_or_path)
        if isinstance(yaml_or_path, os.PathLike) or ("\n" not in text and text.endswith((".yaml", ".yml"))):
            text = Path(yaml_or_path).read_text(encoding="utf-8")
        response = self.http.put("/_mock/scenarios", content=text.encode("utf-8"),
                                 headers={"content-type": "application/yaml"})
        return _check(response, "load scenario", 200, 201)

    # ---------------------------------------------------------------- webhooks

    def set_webhook(self, url: str | None, secret: str | None = None) -> Any:
        """Point the tenant's webhook at `url`, signed with `secret` (`POST /_mock/webhook`)."""
        return _check(self.http.post("/_mock/webhook", json={"url": url, "secret": secret}), "set webhook", 200, 201)

    def webhooks(self, **filters: Any) -> list[dict[str, Any]]:
        """The delivery attempts, oldest first: the `results` of `GET /_mock/webhooks`, e.g.
        `webhooks(session_id=..., status="Approved")`. `webhook_log` has the whole answer."""
        return _results(self.webhook_log(**filters))

    def webhook_log(self, **filters: Any) -> dict[str, Any]:
        """`GET /_mock/webhooks` as it answers: `{"count", "results", "pending"}` (attempts made,
        and deliveries still waiting for their turn, a delay or a retry)."""
        return _check(self.http.get("/_mock/webhooks", params=_params(filters)), "webhooks")

    def delivery_report(self, url: str) -> str:
        """One line on what the mock saw delivering to `url`: its latest attempts and what is pending."""
        try:
            log = self.webhook_log()
        except (DiditMockError, httpx.HTTPError) as exc:
            return f"the mock's delivery log could not be read ({exc})"
        attempts = [a for a in log.get("results", []) if a.get("url") == url]
        pending = [p for p in log.get("pending", []) if p.get("url") == url]
        if not attempts and not pending:
            others = sorted({str(a.get("url")) for a in log.get("results", [])} - {url})
            where = f" (it delivered to {', '.join(others)})" if others else ""
            return f"the mock has not tried to deliver any webhook to {url}{where}"
        seen = []
        for attempt in attempts[-3:]:
            what = f"{attempt.get('webhook_type')} {attempt.get('status') or ''}".strip()
            if attempt.get("response_status") is not None:
                outcome = f"answered {attempt['response_status']}"
            else:
                outcome = str(attempt.get("error") or "no answer")
            seen.append(f"{what}: {outcome}")
        report = "the mock's latest deliveries there: " + "; ".join(seen) if seen else "no attempt yet"
        if pending:
            report += f"; {len(pending)} pending (next at {pending[0].get('next_attempt_at')}, tenant clock)"
        return report

    def wait_for_webhook(self, timeout: float = 10.0, **filters: Any) -> dict[str, Any]:
        """The first delivery matching `filters`, waiting up to `timeout` seconds of real time
        (`GET /_mock/webhooks/wait`). Raises TimeoutError when none arrives."""
        response = self.http.get("/_mock/webhooks/wait", params=_params({**filters, "timeout": timeout}),
                                 timeout=timeout + 10)
        if response.status_code in (204, 404, 408, 504):
            raise TimeoutError(f"no webhook matching {filters} within {timeout} s")
        body = _check(response, "wait for webhook")
        if isinstance(body, dict) and isinstance(body.get("results"), list):
            if not body["results"]:
                raise TimeoutError(f"no webhook matching {filters} within {timeout} s")
            return body["results"][0]
        return body

    def receiver(self, secret: str | None = None, *, host: str = "127.0.0.1", public_host: str | None = None,
                 path: str = "/webhook", status_code: int = 200) -> WebhookReceiver:
        """Start a loopback webhook receiver and make it the tenant's webhook destination.

        `secret` defaults to a fresh random one; each delivery can `verify()` its `X-Signature`.
        Use `public_host` when the mock reaches this machine by another name (a container).
        The receiver stops with the `with` block, or when this handle is closed.
        """
        hook = WebhookReceiver(secret or secrets.token_urlsafe(32), host=host, path=path,
                               public_host=public_host, status_code=status_code)
        hook.explain = lambda: self.delivery_report(hook.url)
        self._receivers.append(hook)
        try:
            self.set_webhook(hook.url, hook.secret)
        except Exception:
            hook.stop()
            raise
        return hook

    # ---------------------------------------------------------------- request journal and limits

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """The request journal, oldest first. Filters: `method`, `path` (prefix or glob), `status`
        (`429`, `"4xx"`), `since`/`until` (datetime or ISO, tenant clock), `limit`."""
        return _results(_check(self.http.get("/_mock/requests", params=_params(filters)), "requests"))

    def clear_requests(self) -> int:
        """Empty the request journal; returns how many entries it held."""
        return int(_check(self.http.delete("/_mock/requests"), "clear requests")["cleared"])

    def ratelimits(self, **changes: Any) -> dict[str, Any]:
        """Read (no arguments) or change the tenant's rate limits: `enabled`, `scale`,
        `decision_limit`, `consume={"generic-get": 599}`, `clear=True`."""
        if not changes:
            return _check(self.http.get("/_mock/ratelimits"), "rate limits")
        return _check(self.http.post("/_mock/ratelimits", json=changes), "rate limits")

    # ---------------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Stop the receivers this handle started and close its HTTP client."""
        while self._receivers:
            self._receivers.pop().stop()
        self.http.close()

    def cleanup(self) -> None:
        """Reset the tenant (its state is dropped on the server) and close the handle."""
        try:
            self.http.post("/_mock/reset")
        except httpx.HTTPError:
            pass
        finally:
            self.close()

    def __enter__(self) -> DiditMock:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"DiditMock(base_url={self.base_url!r}, api_key={self.api_key[:12]!r}...)"

