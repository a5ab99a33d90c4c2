"""Email, phone and IP risk scoring without OTP (§1.10), driven by the input as §3.4 proposes.

Email and phone use the same facts as the OTP emulation (disposable domains and ranges, VoIP
carriers, breached addresses, the tenant's OTP configuration) so one address means the same
everywhere; the IP rules use the documentation ranges of RFC 5737. Every call is saved as an API
session (these APIs have no `save_api_request`).
"""

from __future__ import annotations

import ipaddress
import random
from typing import TYPE_CHECKING, Any

from .. import statuses as st
from .. import workflows as wf
from ..otp.config import otp_config
from ..otp.email_facts import lookup as email_lookup
from ..otp.phone_facts import lookup as phone_lookup
from ..outcomes import FeatureOutcome
from ..people import COUNTRIES, country
from ..rng import derive_seed
from . import record
from .armed import armed
from .texts import warning

if TYPE_CHECKING:
    from ..sessions import Session
    from ..tenant import Tenant

#: Phone numbers reported as VoIP besides the OTP emulation's ranges (the spec's example number's range).
VOIP_PREFIXES = ("+447700900",)


def _finish(tenant: Tenant, endpoint: str, session: Session, outcome: FeatureOutcome, status: str) -> str:
    directive = armed(tenant).take(endpoint, session.vendor_data)
    outcomes = {outcome.feature: outcome}
    record.run_policies(tenant, session, outcomes)
    feature_name = outcome.warnings[0].feature if outcome.warnings else None
    if directive is not None:
        for risk in directive.risks:
            outcome.warnings = [*outcome.warnings, warning(feature_name or outcome.feature, risk, "error")]
    outcome.warnings = [warning(w.feature, w.risk, w.log_type, w.additional_data) for w in outcome.warnings]
    if any(w.log_type == "error" for w in outcome.warnings):
        status = st.DECLINED
    if directive is not None and directive.status is not None:
        status = directive.status
    outcome.status = status
    record.finish(tenant, session, outcomes, status, saved=True)
    return status




NOT_VERIFIED = {"verification_attempts": 0, "verified_at": None, "lifecycle": []}
MAX_MATCHES = 5


def _matches(tenant: Tenant, kind: str, value: str, vendor_data: str | None) -> list[dict[str, Any]]:
    """Other users' sessions with the same email or phone (`kind`): newest first, at most 5."""
    from datetime import datetime, timezone

    from .. import sessions as sessions_domain

    field = "email" if kind == "email" else "phone_number"
    found = []
    for session in sessions_domain.book(tenant).newest_first():
        contact = session.contact_details or {}
        same = str(contact.get(kind) or "").lower() == value.lower()
        if not same or session.vendor_data == vendor_data or session.vendor_data is None:
            continue
        extra = session.workflow.extra
        when = datetime.fromtimestamp(session.finished_at or session.created_at, tz=timezone.utc)
        found.append({"session_id": session.session_id, "session_number": session.session_number,
                      "vendor_data": session.vendor_data, "verification_date": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      field: value, "status": session.status, "is_blocklisted": False,
                      "api_service": extra.get("api_service") if extra else None, "source": "session"})
        if len(found) == MAX_MATCHES:
            break
    return found


# ---------------------------------------------------------------- email

def email_risk(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    address = body["email"]
    facts = email_lookup(address, otp_config(tenant))
    vendor_data = body.get("vendor_data")
    key = "vendor:" + vendor_data if vendor_data is not None else "email:" + address.lower()
    session = record.new_call(tenant, "EMAIL_RISK", wf.EMAIL_VERIFICATION, key, vendor_data, body.get("metadata"),
                              saved=True)
    session.contact_details = {"email": address}
    outcome = FeatureOutcome(wf.EMAIL_VERIFICATION)
    status = st.APPROVED
    if facts.is_disposable:
        outcome.warnings = [warning("EMAIL", "DISPOSABLE_EMAIL_DETECTED", "error")]
    elif facts.is_undeliverable:
        outcome.warnings = [warning("EMAIL", "UNDELIVERABLE_EMAIL_DETECTED", "error")]
    elif facts.is_breached:
        status = st.IN_REVIEW  # the spec's "Breached address" example: In Review, no warning
    breach_level = "High" if facts.is_breached else "Low"
    outcome.data = {**NOT_VERIFIED, "matches": _matches(tenant, "email", address, vendor_data),
                    "is_breached": facts.is_breached, "breaches": [dict(b) for b in facts.breaches],
                    "is_disposable": facts.is_disposable, "is_undeliverable": facts.is_undeliverable}
    status = _finish(tenant, "email-risk", session, outcome, status)
    item = record.item(tenant, session, wf.EMAIL_VERIFICATION)
    rnd = random.Random(derive_seed(tenant.seed, "email-risk", address.lower()))
    intelligence = {
        "score": round(rnd.uniform(5, 20) if status == st.APPROVED else rnd.uniform(60, 95), 2),
        "deliverable": "no" if facts.is_undeliverable else "yes", "breach_risk_level": breach_level,
        "breach_risk_index": 8 if facts.is_breached else 0, "is_recent_breach": False,
        "is_frequent_breached": False, "is_disposable": facts.is_disposable,
        "is_free_domain": facts.domain in ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com"),
        "is_breached": facts.is_breached, "no_of_breaches": len(facts.breaches),
        "reason_codes": [w["risk"] for w in item["warnings"]],
    }
    result = {k: item[k] for k in ("status", "email", "is_breached", "breaches", "is_disposable", "is_undeliverable",
                                   "verification_attempts", "verified_at", "warnings", "lifecycle", "matches")}
    result.update({"email_intelligence": intelligence, "enrichment": dict(intelligence)})
    answer = record.envelope(tenant, session, "email", result)
    return {"request_id": answer["request_id"], "status": status, **{k: answer[k] for k in (
        "vendor_data", "metadata", "created_at")}, "email": result}


# ---------------------------------------------------------------- phone

def phone_risk(tenant: Tenant, body: dict[str, Any], e164: str) -> dict[str, Any]:
    facts = phone_lookup(e164, otp_config(tenant))
    voip = facts.is_virtual or e164.startswith(VOIP_PREFIXES)
    disposable = facts.is_disposable or facts.national_number.endswith("0000")
    vendor_data = body.get("vendor_data")
    key = "vendor:" + vendor_data if vendor_data is not None else "phone:" + e164
    session = record.new_call(tenant, "PHONE_RISK", wf.PHONE, key, vendor_data, body.get("metadata"), saved=True)
    session.contact_details = {"phone": e164}
    outcome = FeatureOutcome(wf.PHONE)
    status = st.APPROVED
    if disposable:
        outcome.warnings = [warning("PHONE", "DISPOSABLE_NUMBER_DETECTED", "error")]
    elif voip:
        status = st.IN_REVIEW  # the spec's "Number in review" example: a VoIP number, no warning
    line_type = "voip" if voip else facts.line_type
    outcome.data = {**NOT_VERIFIED, "matches": _matches(tenant, "phone", e164, vendor_data),
                    "is_disposable": disposable, "is_virtual": voip,
                    "carrier": {"name": facts.carrier_name or "Example Mobile", "type": line_type}}
    status = _finish(tenant, "phone-risk", session, outcome, status)
    item = record.item(tenant, session, wf.PHONE)
    rnd = random.Random(derive_seed(tenant.seed, "phone-risk", e164))
    intelligence = {
        "score": round(rnd.uniform(5, 20) if status == st.APPROVED else rnd.uniform(60, 95), 2),
        "phone_type_risk": "high" if voip or disposable else "low",
        "phone_trust_index": rnd.randint(1, 4) if voip or disposable else rnd.randint(7, 10),
        "network_stability_index": rnd.randint(6, 10), "is_disposable": disposable, "is_ported": False,
        "is_recently_ported": False, "carrier_type": line_type,
        "reason_codes": [w["risk"] for w in item["warnings"]],
    }
    result = {k: item[k] for k in ("status", "phone_number_prefix", "phone_number", "full_number", "country_code",
                                   "country_name", "carrier", "is_disposable", "is_virtual", "verification_method",
                                   "verification_attempts", "verified_at", "warnings", "lifecycle", "matches")}
    result.update({"verification_method": None, "phone_intelligence": intelligence, "enrichment": dict(intelligence)})
    answer = record.envelope(tenant, session, "phone", result)
    return {"request_id": answer["request_id"], "status": status, **{k: answer[k] for k in (
        "vendor_data", "metadata", "created_at")}, "phone": result}


# ---------------------------------------------------------------- IP

#: RFC 5737's documentation ranges: residential Madrid (the spec's example), VPN, data centre.
DOCUMENTATION_RANGES = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
_SPEC_IPS: dict[str, dict[str, Any]] = {
    "8.8.8.8": {"ip_country": "United States", "ip_country_code": "US", "ip_state": "California",
                "ip_city": "Mountain View", "latitude": 37.4056, "longitude": -122.0775, "isp": "Google LLC",
                "organization": "Google LLC", "is_vpn_or_tor": True, "is_data_center": True,
                "time_zone": "America/Los_Angeles", "time_zone_offset": "-0800", "asn_number": 15169,
                "asn_organization": "GOOGLE", "connection_type": "hosting", "carrier": None, "proxy_type": "VPN"},
}


def _ip_facts(tenant: Tenant, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> dict[str, Any] | None:
    text = str(address)
    if text in _SPEC_IPS:
        return dict(_SPEC_IPS[text])
    documented = any(address in ipaddress.ip_network(n) for n in DOCUMENTATION_RANGES)
    if not documented and (address.is_private or address.is_loopback or address.is_link_local
                           or address.is_multicast or address.is_unspecified or address.is_reserved):
        return None
    vpn = address.version == 4 and address in ipaddress.ip_network("198.51.100.0/24")
    data_centre = address.version == 4 and address in ipaddress.ip_network("203.0.113.0/24")
    if address.version == 4 and address in ipaddress.ip_network("192.0.2.0/24"):
        home = country("ESP")
        city, region, lat, lng = "Madrid", "Madrid", 40.4168, -3.7038
        zone, isp = "Europe/Madrid", "Telefonica de Espana"
    else:
        rnd = random.Random(derive_seed(tenant.seed, "ip-risk", text))
        home = rnd.choice(sorted(COUNTRIES.values(), key=lambda c: c.alpha3))
        city, region = home.name, home.name
        lat, lng = round(rnd.uniform(-40, 60), 4), round(rnd.uniform(-120, 140), 4)
        zone, isp = "UTC", f"{home.name} Telecom"
    return {"ip_country": home.name, "ip_country_code": home.alpha2, "ip_state": region, "ip_city": city,
            "latitude": lat, "longitude": lng, "isp": "Mock Hosting Ltd" if data_centre else isp,
            "organization": "Mock Hosting Ltd" if data_centre else isp, "is_vpn_or_tor": vpn,
            "is_data_center": data_centre, "time_zone": zone, "time_zone_offset": "+0100" if zone != "UTC" else "+0000",
            "asn_number": 64500 + (int(address) % 400), "asn_organization": "MOCK-AS",
            "connection_type": "hosting" if data_centre else "residential", "carrier": None,
            "proxy_type": "VPN" if vpn else None}


def ip_risk(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    address = ipaddress.ip_address(body["ip_address"])
    facts = _ip_facts(tenant, address)
    claimed = (body.get("claimed_country") or "").strip().upper() or None
    mismatch: bool | None = None
    if facts is not None and claimed is not None:
        mismatch = country(claimed).alpha2 != facts["ip_country_code"]
    vendor_data = body.get("vendor_data")
    key = "vendor:" + vendor_data if vendor_data is not None else "ip:" + str(address)
    session = record.new_call(tenant, "IP_RISK", wf.IP_ANALYSIS, key, vendor_data, body.get("metadata"), saved=True)
    outcome = FeatureOutcome(wf.IP_ANALYSIS)
    risky = facts is not None and (bool(mismatch) or facts["is_vpn_or_tor"] or facts["is_data_center"])
    shown = {k: facts[k] for k in ("ip_country", "ip_country_code", "ip_state", "ip_city", "latitude", "longitude",
                                   "isp", "organization", "is_vpn_or_tor", "is_data_center", "time_zone",
                                   "time_zone_offset")} if facts is not None else {}
    if facts is not None:
        outcome.data = {"ip_address": str(address), **shown}
    status = _finish(tenant, "ip-risk", session, outcome, st.IN_REVIEW if risky else st.APPROVED)
    if status == st.DECLINED:
        status = st.IN_REVIEW  # this API approves or reviews
    answer = record.envelope(tenant, session, "ip", {})
    blank = {k: None for k in ("ip_country", "ip_country_code", "ip_state", "ip_city", "latitude", "longitude", "isp",
                               "organization", "is_vpn_or_tor", "is_data_center", "time_zone", "time_zone_offset",
                               "asn_number", "asn_organization", "connection_type", "carrier", "proxy_type")}
    result = {"status": status, "ip_address": str(address) if facts is not None else None, **blank, **(facts or {}),
              "claimed_country": claimed, "country_mismatch": mismatch,
              "threat": {} if facts is None else {"is_known_attacker": False, "is_known_abuser": False,
                                                  "is_threat": bool(facts["is_vpn_or_tor"])}}
    return {"request_id": answer["request_id"], "status": status, **{k: answer[k] for k in (
        "vendor_data", "metadata", "created_at")}, "ip": result}
