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
    #: Seconds between background ticks that fire due jobs (expiry, retries, timelines).
    tick_interval: float = 0.25

    @property
    def base_url(self) -> str:
        """The URL the server is reached at, used to build hosted-session URLs."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then `DIDIT_MOCK_*` variables, then explicit overrides (flags)."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


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
