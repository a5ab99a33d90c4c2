"""The tenant's rate-limit windows as a state section (the entry's `rate_limits`: scope -> admitted instants)."""

from __future__ import annotations

from typing import Any

from .ratelimit import SCOPES, limiter
from .state import Reader, StateInvalid, StateSection
from .tenant import Tenant


def _export(tenant: Tenant) -> dict[str, Any]:
    return {"rate_limits": limiter(tenant).export_windows()}


def _parse(data: Any, path: str) -> dict[str, list[float]]:
    r = Reader(data, path)
    windows_r = Reader(r("rate_limits", "object"), r.at("rate_limits"))
    windows = {}
    for name in windows_r.data:
        if name not in SCOPES:
            raise StateInvalid(f"{windows_r.at(name)}: unknown rate-limit scope.")
        windows[name] = windows_r.floats(name)
    return windows


def _restore(tenant: Tenant, windows: dict[str, list[float]]) -> None:
    limiter(tenant).restore_windows(windows)


RATE_LIMITS_SECTION = StateSection("rate_limits", _export, _parse, _restore, fields=("rate_limits",))
