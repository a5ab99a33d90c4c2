"""The admin guard: which requests may reach `/_mock` (the admin API and the dashboard) at all.

A development server on localhost is attacked through the browser of the person running it: any
web page can send it form posts, and a page whose DNS name is re-bound to 127.0.0.1 can even read
its answers. The gateway asks `AdminGuard.refusal` first on every `/_mock` path:

1. **Host.** Only names this server is reachable by: `localhost` and `*.localhost`, any IP address
   (loopback or not: a re-bound page always names its own DNS name), the host of
   `Settings.public_base_url`, the bound host when it is a name, and `Settings.allowed_hosts`
   (`--allow-host`; `*` allows every name). Others get 403.
2. **Cross-site.** A state-changing method (POST, PUT, PATCH, DELETE) is refused (403) when its
   `Sec-Fetch-Site` is `cross-site` or `same-site`, or, from a browser that sends no
   `Sec-Fetch-Site`, when its `Origin` is not the server's own (the request's `Host` or the public
   base URL). Once its body is read, a POST outside the dashboard (whose forms carry CSRF tokens)
   whose body any page could send without asking (a form that is not JSON, multipart,
   `text/plain`) gets 415 (`check_body`).
   Clients that are not browsers (curl, test code) send no `Origin` and pass.
3. **Admin token** (when set): `admin.refusal`, with wrong tokens throttled per client address
   (`FailureThrottle`): past a few a minute, 429 with `Retry-After`.

The Didit API itself (`/v3/...`, `/system/...`, the hosted page) is not guarded: as the real
API, it answers any client and any `Host`.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Scope

from ..domain.errors import DiditError
from ..settings import Settings
from ..web.http import json_response
from ..web.request_head import RequestHead
from . import token as admin
from .throttle import FailureThrottle

#: The scope key under which the guard leaves its throttle (the dashboard login counts failures in it).
THROTTLE = "didit_mock.admin_throttle"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Media types a web page may send to any site without a CORS preflight.
FORM_TYPE = "application/x-www-form-urlencoded"
CROSS_SITE_TYPES = frozenset({FORM_TYPE, "multipart/form-data", "text/plain"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "*"})
#: The longest Host or Origin echoed in a refusal.
ECHO_LIMIT = 200


def host_name(host: str) -> str:
    """The lower-case name of a `Host` header value, without port, IPv6 brackets or trailing dot."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    """Whether a bind address or host name only reaches this machine."""
    name = host_name(host)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def exposure_warning(settings: Settings) -> str | None:
    """The start-up warning for a server other machines can reach without an admin token, or None."""
    if settings.admin_token or is_loopback(settings.host or "0.0.0.0"):
        return None
    return (f"--host {settings.host or '0.0.0.0'} makes the admin API (/_mock: every tenant's keys, "
            "state and reset) reachable from other machines without a token; "
            "set --admin-token (DIDIT_MOCK_ADMIN_TOKEN) unless this network is yours alone.")


def origin_netloc(url: str) -> str:
    """The lower-case `host[:port]` of an origin or URL, without a default port ("" for `null`)."""
    try:
        parts = urlsplit(url.strip())
        netloc = (parts.hostname or "") and parts.netloc.rpartition("@")[2].lower()
    except ValueError:
        return ""
    default = {"http": ":80", "https": ":443"}.get(parts.scheme.lower(), "")
    return netloc.removesuffix(default) if default else netloc


def _echo(value: str) -> str:
    return value if len(value) <= ECHO_LIMIT else value[:ECHO_LIMIT] + "…"


def _refused(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"detail": detail}, status, headers=headers)


class AdminGuard:
    """The Host, cross-site and admin-token rules of one app's `/_mock` paths (see the module doc)."""

    def __init__(self, settings: Settings, throttle: FailureThrottle | None = None):
        self.token = settings.admin_token
        self.throttle = throttle or FailureThrottle()
        names = {host_name(h) for h in settings.allowed_hosts if h.strip()}
        self.any_host = "*" in names
        self.suffixes = tuple(n for n in names if n.startswith("."))
        self.public_netloc = ""
        if settings.public_base_url:
            self.public_netloc = origin_netloc(settings.public_base_url)
            names.add(host_name(self.public_netloc))
        if settings.host not in WILDCARD_BINDS:
            names.add(host_name(settings.host))
        self.names = frozenset(names - {"", "*"})

    def host_allowed(self, host: str) -> bool:
        """Whether `host` (a `Host` header value) names this server."""
        if self.any_host:
            return True
        name = host_name(host)
        if name == "localhost" or name.endswith(".localhost") or name in self.names:
            return True
        if self.suffixes and (name.endswith(self.suffixes) or "." + name in self.suffixes):
            return True
        return is_ip_address(name)

    def refusal(self, scope: Scope) -> Response | None:
        """The answer to a `/_mock` request the rules refuse, or None to let it in."""
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        if host and not self.host_allowed(host):
            name = _echo(host_name(host))
            return _refused(403, f'Host "{name}" is not allowed on the admin API, which answers only the names '
                                 f"this server is reachable by. If it is one, start the server with "
                                 f"--allow-host {name} (or DIDIT_MOCK_ALLOWED_HOSTS={name}).")
        if scope["method"] not in SAFE_METHODS:
            refused = self._cross_site(scope, headers, host)
            if refused is not None:
                return refused
        if not self.token:
            return None
        return self._token_refusal(scope, headers)

    def _cross_site(self, scope: Scope, headers: Headers, host: str) -> Response | None:
        """403 for a request another site's page sent, 415 for a body any page can send; else None.

        A browser's `Sec-Fetch-Site` is believed first (it says `same-origin` for the dashboard's
        forms, whose `Origin` is `null` under their no-referrer policy); without it, the `Origin`
        must be this server's (`null` only on the dashboard, whose forms carry CSRF tokens).
        """
        path: str = scope["path"]
        fetch_site = headers.get("sec-fetch-site", "").strip().lower()
        if fetch_site in ("cross-site", "same-site"):
            return _refused(403, f"Cross-site request refused (Sec-Fetch-Site: {fetch_site}). Admin routes "
                                 "that change state take requests from this server's own pages and from "
                                 "clients that are not browsers.")
        origin = headers.get("origin")
        if (not fetch_site and origin is not None and not self._own_origin(origin, host)
                and not (origin.strip().lower() == "null" and admin.is_dashboard_path(path))):
            return _refused(403, f'Cross-site request refused: Origin "{_echo(origin)}" is not this server. '
                                 "Admin routes that change state take requests from this server's own pages "
                                 "and from clients that are not browsers.")
        return None

    @staticmethod
    def check_body(scope: Scope, head: RequestHead, body: bytes) -> None:
        """415 (a `DiditError`) for a `/_mock` POST whose body any web page could have sent.

        A page can POST to any site, without the site's consent, a form, a multipart body or
        `text/plain`; `PUT`, `PATCH` and `DELETE` need the site's consent first. So a POST outside
        the dashboard (whose forms carry CSRF tokens) must not be multipart or `text/plain`, and
        one labelled as a form must hold JSON (`curl -d '{...}'` labels JSON so; a browser's form
        encoding can never begin with `{` or `[`).
        """
        if scope["method"] != "POST" or head.media_type not in CROSS_SITE_TYPES:
            return
        if admin.is_dashboard_path(scope["path"]):
            return
        if head.media_type == FORM_TYPE and body.lstrip()[:1] in (b"{", b"["):
            return
        raise DiditError({"detail": f'Unsupported media type "{_echo(head.content_type.strip())}" in request. '
                                    "Admin routes take JSON: form, multipart and text bodies, which any web "
                                    "page can send, are refused."}, 415)

    def _own_origin(self, origin: str, host: str) -> bool:
        """`Origin` names this server: the request's own `Host`, or the public base URL."""
        netloc = origin_netloc(origin)
        if not netloc:
            return False
        own = host.strip().lower()
        return netloc in (own, own.removesuffix(":80"), own.removesuffix(":443"), self.public_netloc)

    def _token_refusal(self, scope: Scope, headers: Headers) -> Response | None:
        assert self.token is not None
        client = client_address(scope)
        wait = self.throttle.retry_after(client)
        if wait:
            return _refused(429, f"Too many wrong admin tokens from this address; try again in {wait} seconds.",
                            headers={"Retry-After": str(wait)})
        scope[THROTTLE] = self.throttle
        refused = admin.refusal(scope, self.token)
        if refused is not None and self._offers_token(scope, headers):
            self.throttle.failed(client)
        return refused

    @staticmethod
    def _offers_token(scope: Scope, headers: Headers) -> bool:
        return bool(admin.offered_tokens(headers)) or (
            admin.is_dashboard_path(scope["path"]) and bool(admin.offered_cookie(headers)))


def client_address(scope: Scope) -> str:
    client: Any = scope.get("client")
    return str(client[0]) if client else ""


def count_failure(scope: Scope) -> None:
    """Count a wrong admin token a handler found itself (the dashboard's login form)."""
    throttle: FailureThrottle | None = scope.get(THROTTLE)
    if throttle is not None:
        throttle.failed(client_address(scope))
