"""The domain's own state sections, which every registry starts with (see `domain.state`).

They are stored in the tenant entry's top-level fields of version 1 and listed here in the order
they are parsed and restored: sessions need the workflows they run, OTP verifications share the
sessions' numbers (each section also says so in `needs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .blocklist_state import BLOCKLIST_SECTION
from .otp.persistence import OTP_SECTION
from .ratelimit_state import RATE_LIMITS_SECTION
from .session_state import SESSIONS_SECTION
from .sharing_state import SHARED_IMPORTS_SECTION
from .webhook_state import WEBHOOKS_SECTION
from .workflow_state import WORKFLOWS_SECTION

if TYPE_CHECKING:
    from .state import StateSection

DOMAIN_SECTIONS = (WORKFLOWS_SECTION, SESSIONS_SECTION, OTP_SECTION, BLOCKLIST_SECTION, WEBHOOKS_SECTION,
                   RATE_LIMITS_SECTION, SHARED_IMPORTS_SECTION)


def domain_sections() -> dict[str, StateSection]:
    """A registry's first sections, by name (a new dict: each registry adds its own to it)."""
    return {section.name: section for section in DOMAIN_SECTIONS}
