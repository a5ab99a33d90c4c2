"""The domain's own state sections, which every registry starts with (see `domain.state`).

They are stored in the tenant entry's top-level fields of version 1 and listed here in the order
they are parsed and restored: sessions need the workflows they run, OTP verifications share the
sessions' numbers (each section also says so in `needs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .state import LazySection

if TYPE_CHECKING:
    from .state import StateSection


def _section(module: str, name: str) -> str:
    return f"{__package__}.{module}:{name}"


#: Each loads its module with the first state export or import (what ordering reads is declared here).
DOMAIN_SECTIONS = (
    LazySection("workflows", _section("workflow_state", "WORKFLOWS_SECTION"),
                fields=("workflows", "workflow_versions", "retired_workflows")),
    LazySection("sessions", _section("session_state", "SESSIONS_SECTION"), needs=("workflows",), fields=("sessions",)),
    LazySection("otp", _section("otp.persistence", "OTP_SECTION"), needs=("sessions",), fields=("otp",)),
    LazySection("blocklist", _section("blocklist_state", "BLOCKLIST_SECTION"), fields=("blocklist",)),
    LazySection("webhooks", _section("webhook_state", "WEBHOOKS_SECTION"), fields=("webhooks",)),
    LazySection("rate_limits", _section("ratelimit_state", "RATE_LIMITS_SECTION"), fields=("rate_limits",)),
    LazySection("shared_imports", _section("sharing_state", "SHARED_IMPORTS_SECTION"), fields=("shared_imports",)),
)


def domain_sections() -> dict[str, StateSection | LazySection]:
    """A registry's first sections, by name (a new dict: each registry adds its own to it)."""
    return {section.name: section for section in DOMAIN_SECTIONS}
