"""The IP analysis item: the person's device and IP location, and its distances to the documents."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import Any

from .. import workflows as wf
from ..outcomes import FeatureOutcome
from ..people import country
from ..rng import derive_seed
from .context import WITH_RESUB, Context, risks_of, status_within
from .layout import node_id_for

_DEVICES = (
    ("Apple", "iPhone", "Mobile Safari", "iOS", "mobile"),
    ("Samsung", "SM-S911B", "Chrome Mobile", "Android", "mobile"),
    ("Google", "Pixel 8", "Chrome Mobile", "Android", "mobile"),
    ("Apple", "Mac", "Safari", "Mac OS X", "desktop"),
    ("Generic", "Desktop", "Chrome", "Windows", "desktop"),
)


def _distance_km(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float | None:
    if a is None or b is None:
        return None
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return round(2 * 6371.0 * math.asin(min(1.0, math.sqrt(h))), 2)


def _utc_offset(zone: str, moment: datetime) -> str:
    try:
        from zoneinfo import ZoneInfo

        offset = moment.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    except Exception:  # unknown zone or no tz database
        offset = timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _poa_point(item: dict[str, Any] | None) -> tuple[float, float] | None:
    parsed = item.get("poa_parsed_address") if item else None
    located = parsed.get("document_location") if isinstance(parsed, dict) else None
    try:
        return (float(located["latitude"]), float(located["longitude"])) if located else None
    except (KeyError, TypeError, ValueError):
        return None


def ip_analysis_item(ctx: Context, outcome: FeatureOutcome) -> dict[str, Any]:
    """The `ip_analyses` item (reads the POA item already built, for its location)."""
    person = ctx.person
    device_rnd = random.Random(derive_seed(person.seed, "device"))  # the same user keeps one device
    brand, model, browser, os_family, platform = device_rnd.choice(_DEVICES)
    fingerprint = "didit-fp-" + "".join(device_rnd.choice("0123456789abcdef") for _ in range(16))
    rnd = ctx.rnd("ip")
    risks = risks_of(outcome)
    home = country(person.issuing_state)
    ip_loc = (round(person.latitude + rnd.uniform(-0.05, 0.05), 4),
              round(person.longitude + rnd.uniform(-0.05, 0.05), 4))
    id_loc = (person.latitude, person.longitude) if ctx.ran(wf.ID_VERIFICATION) else None
    poa_loc = _poa_point(ctx.items.get(wf.POA))

    def location(point: tuple[float, float] | None) -> dict[str, float] | None:
        return None if point is None else {"latitude": point[0], "longitude": point[1]}

    isp = person.isp
    return {
        "node_id": node_id_for(wf.IP_ANALYSIS),
        "status": status_within(outcome.status, WITH_RESUB),
        "device_brand": brand,
        "device_model": model,
        "browser_family": browser,
        "os_family": os_family,
        "platform": platform,
        "device_fingerprint": fingerprint,
        "ip_country": home.name,
        "ip_country_code": home.alpha2,
        "ip_state": person.region,
        "ip_city": person.city,
        "latitude": ip_loc[0],
        "longitude": ip_loc[1],
        "ip_address": person.ip_address,
        "isp": isp,
        "organization": isp,
        "is_vpn_or_tor": "VPN_OR_TOR_DETECTED" in risks,
        "is_data_center": False,
        "time_zone": person.time_zone,
        "time_zone_offset": _utc_offset(person.time_zone, ctx.finished),
        "ip": {"location": location(ip_loc), "distance_from_id_document": _distance_km(ip_loc, id_loc),
               "distance_from_poa_document": _distance_km(ip_loc, poa_loc)},
        "id_document": {"location": location(id_loc), "distance_from_ip": _distance_km(id_loc, ip_loc),
                        "distance_from_poa_document": _distance_km(id_loc, poa_loc)},
        "poa_document": {"location": location(poa_loc), "distance_from_ip": _distance_km(poa_loc, ip_loc),
                         "distance_from_id_document": _distance_km(poa_loc, id_loc)},
        "warnings": ctx.warnings(outcome),
        "matches": [],
    }
