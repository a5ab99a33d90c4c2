"""Server settings, from `didit-mock serve` flags and `DIDIT_MOCK_*` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Literal

AuthMode = Literal["docs", "spec"]

ENV_PREFIX = "DIDIT_MOCK_"
DEFAULT_PORT = 8790


@dataclass
class Settings:
    """Everything that configures one server. Every field can be set as `DIDIT_MOCK_<NAME>`."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    seed: int = 0
    public_base_url: str | None = None
    log_level: str = "info"
    access_log: bool = False
    #: "docs": missing key 403, refused key 401 (newest docs); "spec": every auth failure 403.
    auth_mode: AuthMode = "docs"
    #: When non-empty only these API keys are accepted.
    api_keys: list[str] = field(default_factory=list)
    strict_workflows: bool = False
    #: Start every tenant clock frozen (tests flip this on to move time by hand).
    freeze_clock: bool = False
    webhook_url: str | None = None
    webhook_secret: str | None = None
    rate_limits: bool = True
    rate_limit_scale: float = 1.0
    decision_rate_limit: int = 600
    delete_returns_204: bool = False
    admin_token: str | None = None
    #: Host names the admin API and dashboard answer besides loopback names, IP addresses, the
    #: public base URL's host and the bound host (`--allow-host`); "*" allows every name.
    allowed_hosts: list[str] = field(default_factory=list)
    #: Most tenants kept at once; past it the least recently used idle tenant is dropped. 0: no cap.
    max_tenants: int = 10_000
    #: Requests kept per tenant in the request journal (`GET /_mock/requests`); 0 switches it off.
    journal_size: int = 1000
    scenarios: list[str] = field(default_factory=list)
    state_file: str | None = None
    #: Largest accepted request body, in bytes (bigger bodies get 413).
    max_body_bytes: int = 8 * 1024 * 1024
    #: Check every answer of the emulated API against Didit's spec and log what breaks it.
    validate_responses: bool = False
    #: Seconds a request body may keep the server waiting for its next bytes (then 408).
    body_timeout: float = 5.0
    #: Seconds a request head (request line and headers) may take to arrive in all (then 408).
    head_timeout: float = 10.0
    #: Largest request head (request line and headers), in bytes, and most header fields (then 431).
    max_header_bytes: int = 64 * 1024
    max_headers: int = 100
    #: Load, in a background thread once listening, what the first session and phone send would load.
    warm_up: bool = True
    #: Seconds between background ticks that fire due jobs (expiry, retries, timelines).
    tick_interval: float = 0.25
    #: Compat switches for older answers Didit's own tools expect (`--compat`, docs/standalone.md).
    compat: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        """The URL the server is reached at, used to build hosted-session URLs."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then `DIDIT_MOCK_*` variables, then explicit overrides (flags).

        A variable that is not of its setting's type raises `SettingsError` naming it.
        """
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        for f in fields(cls):
            name = ENV_PREFIX + f.name.upper()
            raw = environ.get(name)
            if raw is not None and raw != "":
                try:
                    values[f.name] = _coerce(f.type, raw)
                except ValueError:
                    raise SettingsError(name, f"{raw!r} is not {_kind_name(f.type)}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def problems(self) -> list[tuple[str, str]]:
        """Values out of range, as (setting name, reason); empty when the settings can serve."""
        found: list[tuple[str, str]] = []
        if not 0 <= self.port <= 65535:
            found.append(("port", f"{self.port} is not a port (1-65535, or 0 for any free port)"))
        if self.log_level.lower() not in LOG_LEVELS:
            found.append(("log_level", f"{self.log_level!r} is not one of {', '.join(LOG_LEVELS)}"))
        if self.auth_mode not in ("docs", "spec"):
            found.append(("auth_mode", f"{self.auth_mode!r} is not one of docs, spec"))
        if not self.rate_limit_scale > 0:
            found.append(("rate_limit_scale", f"{self.rate_limit_scale} is not a number above 0"))
        if self.decision_rate_limit < 1:
            found.append(("decision_rate_limit", f"{self.decision_rate_limit} is not a whole number from 1"))
        if self.journal_size < 0:
            found.append(("journal_size", f"{self.journal_size} is not a whole number from 0"))
        if self.max_body_bytes < 1:
            found.append(("max_body_bytes", f"{self.max_body_bytes} is not a whole number from 1"))
        if not self.tick_interval > 0:
            found.append(("tick_interval", f"{self.tick_interval} is not a number above 0"))
        from .domain.standalone.compat import SWITCHES, unknown

        if unknown(self.compat):
            found.append(("compat", f"{', '.join(unknown(self.compat))} is not one of {', '.join(SWITCHES)}"))
        for name in ("public_base_url", "webhook_url"):
            value = getattr(self, name)
            if value and not value.startswith(("http://", "https://")):
                found.append((name, f"{value!r} is not an http:// or https:// URL"))
        return found


#: The levels `log_level` accepts (uvicorn's names; `trace` is below debug).
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class SettingsError(ValueError):
    """A `DIDIT_MOCK_*` variable that cannot be read: `variable` names it."""

    def __init__(self, variable: str, reason: str):
        super().__init__(f"{variable}: {reason}")
        self.variable = variable
        self.reason = reason


def _kind_name(kind: object) -> str:
    text = str(kind)
    if text.startswith("int"):
        return "a whole number"
    if text.startswith("float"):
        return "a number"
    return "valid"


def _coerce(kind: object, raw: str) -> object:
    text = str(kind)
    if "bool" in text:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if text.startswith("int"):
        return int(raw)
    if text.startswith("float"):
        return float(raw)
    if text.startswith("list"):
        return [part.strip() for part in raw.replace(os.pathsep, ",").split(",") if part.strip()]
    return raw
