"""The phone verification item: the number, its carrier and line type, the OTP lifecycle."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .. import workflows as wf
from ..clock import iso
from ..outcomes import FeatureOutcome
from ..people import country
from .context import WITH_EXPIRED, Context, risks_of, status_within
from .layout import node_id_for
from .lifecycle import lifecycle

if TYPE_CHECKING:
    from ..tenant import Tenant

_CARRIERS = {
    "US": ("Verizon Wireless", "T-Mobile USA", "AT&T Mobility"), "ES": ("Movistar", "Vodafone", "Orange"),
    "DE": ("Telekom", "Vodafone", "O2"), "FR": ("Orange", "SFR", "Bouygues Telecom"),
    "GB": ("EE", "Vodafone", "O2"), "IT": ("TIM", "Vodafone", "WindTre"),
}


def phone_parts(tenant: Tenant, raw: str, fallback_region: str, rnd: random.Random) -> dict[str, Any]:
    """Prefix, national number, country, carrier and line type of a number.

    Valid numbers go through the same carrier lookup as the standalone phone API (`phonenumbers`
    metadata plus the tenant's carrier overrides); anything else is shown as given.
    """
    from ..otp.config import otp_config
    from ..otp.phone_facts import lookup, normalise

    e164 = normalise(raw)
    if e164 is None:
        return {"prefix": "", "national": raw.lstrip("+"), "full": raw, "region": fallback_region,
                "country_name": country(fallback_region).name, "carrier": rnd.choice(("Vodafone", "Orange")),
                "type": "unknown", "disposable": False}
    facts = lookup(e164, otp_config(tenant))
    region = facts.country_code or fallback_region
    return {
        "prefix": facts.prefix, "national": facts.national_number, "full": facts.full_number, "region": region,
        "country_name": facts.country_name or country(region).name,
        "carrier": facts.carrier_name or rnd.choice(_CARRIERS.get(region, ("Vodafone", "Orange"))),
        "type": facts.line_type, "disposable": facts.is_disposable,
    }


def phone_item(ctx: Context, outcome: FeatureOutcome) -> dict[str, Any]:
    """The `phone_verifications` item: the contact's number (or the person's)."""
    rnd = ctx.rnd("phone")
    raw = str((ctx.session.contact_details or {}).get("phone") or ctx.person.phone)
    parts = phone_parts(ctx.tenant, raw, ctx.person.country_code, rnd)
    risks = risks_of(outcome)
    virtual = "VOIP_NUMBER_DETECTED" in risks or parts["type"] in ("voip", "isp", "vpn")
    return {
        "node_id": node_id_for(wf.PHONE),
        "status": status_within(outcome.status, WITH_EXPIRED),
        "phone_number_prefix": parts["prefix"],
        "phone_number": parts["national"],
        "full_number": parts["full"],
        "country_code": parts["region"],
        "country_name": parts["country_name"],
        "carrier": {"name": parts["carrier"], "type": "voip" if virtual else parts["type"]},
        "is_disposable": "DISPOSABLE_NUMBER_DETECTED" in risks or parts["disposable"],
        "is_virtual": virtual,
        "verification_method": "sms",
        "verification_attempts": 1,
        "verified_at": iso(ctx.finished - timedelta(seconds=rnd.randint(5, 40))),
        "lifecycle": lifecycle("PHONE", outcome, ctx.finished, rnd, 0.1, channel=True),
        "warnings": ctx.warnings(outcome),
        "matches": [],
    }
