"""The email verification item: the address, its risk flags, the OTP lifecycle."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .. import workflows as wf
from ..clock import iso
from ..outcomes import FeatureOutcome
from .context import WITH_EXPIRED, Context, risks_of, status_within
from .layout import node_id_for
from .lifecycle import lifecycle


def email_verification_item(ctx: Context, outcome: FeatureOutcome) -> dict[str, Any]:
    """The `email_verifications` item: the contact's address (or the person's)."""
    rnd = ctx.rnd("email")
    risks = risks_of(outcome)
    return {
        "node_id": node_id_for(wf.EMAIL_VERIFICATION),
        "status": status_within(outcome.status, WITH_EXPIRED),
        "email": str((ctx.session.contact_details or {}).get("email") or ctx.person.email),
        "is_breached": "BREACHED_EMAIL_DETECTED" in risks,
        "breaches": [],
        "is_disposable": "DISPOSABLE_EMAIL_DETECTED" in risks,
        "is_undeliverable": "UNDELIVERABLE_EMAIL_DETECTED" in risks,
        "verification_attempts": 1,
        "verified_at": iso(ctx.finished - timedelta(seconds=rnd.randint(5, 40))),
        "warnings": ctx.warnings(outcome),
        "lifecycle": lifecycle("EMAIL", outcome, ctx.finished, rnd, 0.03, channel=False),
        "matches": [],
    }
