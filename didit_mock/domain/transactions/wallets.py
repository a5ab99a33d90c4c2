"""Wallet screening: per-chain address checks and a deterministic risk profile per address.

Outcomes (didit-api-families.md §1.23, §3.4): the spec example's address answers the spec's
example (HIGH 72, mixer exposure, a sanctions hit); a valid address containing `dead` is a
sanctioned wallet and one containing `bad` has mixer exposure (both HIGH 78); anything else is
clean (score 0, `UNKNOWN`). `report_signature` is an HMAC of the result, scoped to the application.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
from typing import Any

from ..errors import ValidationFailed

CHAINS = ("BTC", "LIGHTNING", "ETH", "LTC", "XRP", "BCH", "DOGE", "TRX", "SOL", "MATIC", "BNB", "USDT", "USDC")
_B58 = "1-9A-HJ-NP-Za-km-z"
_EVM = r"0x[0-9a-fA-F]{40}"
_TRON = rf"T[{_B58}]{{33}}"
#: The address format of each chain (stablecoins: their EVM or TRON forms).
FORMATS: dict[str, str] = {
    "BTC": rf"(bc1[02-9ac-hj-np-z]{{8,87}}|[13][{_B58}]{{25,34}})",
    "ETH": _EVM, "MATIC": _EVM, "BNB": _EVM,
    "USDT": f"({_EVM}|{_TRON})", "USDC": f"({_EVM}|{_TRON})",
    "LTC": rf"(ltc1[02-9ac-hj-np-z]{{8,87}}|[LM3][{_B58}]{{26,33}})",
    "BCH": rf"((bitcoincash:)?[qp][02-9ac-hj-np-z]{{41}}|[13][{_B58}]{{25,34}})",
    "DOGE": rf"[DA9][{_B58}]{{25,34}}",
    "XRP": r"r[1-9A-HJ-NP-Za-km-z]{24,34}",
    "TRX": _TRON,
    "SOL": rf"[{_B58}]{{32,44}}",
}
HIGH_RISK_CATEGORIES = frozenset({
    "sanctioned", "mixer", "stolen_funds", "ransomware", "scam", "darknet_market", "terrorist_financing",
    "child_exploitation", "hacked_exchange", "high_risk_exchange", "seized_funds"})
#: The address of the spec's example, and the spec's answer for it.
EXAMPLE_ADDRESS = "0x28c6c06298d514db089934071355e5743bf21d60"
PROVIDER = "merklescience"
LIGHTNING_REFUSED = ("LIGHTNING requires an Elliptic or Chainalysis BYOK connection added through Marketplace.")
PDF_SIGNATURE_REFUSED = (
    "This wallet-screening result is missing or fails its report signature - repost the exact JSON "
    "returned by the wallet-screening endpoint, unmodified.")


def severity_of(score: int) -> str:
    """The severity band of a 0-100 risk score."""
    if score >= 90:
        return "CRITICAL"
    if score >= 70:
        return "HIGH"
    if score >= 40:
        return "MEDIUM"
    if score >= 10:
        return "LOW"
    return "UNKNOWN"


def check_address(address: Any, blockchain: Any) -> tuple[str, str]:
    """The (address, chain) to screen, or a 400 naming the field."""
    if not isinstance(address, str) or not address.strip():
        raise ValidationFailed.field("wallet_address", "This field is required.")
    if not isinstance(blockchain, str) or not blockchain:
        raise ValidationFailed.field("blockchain", "This field is required.")
    chain = blockchain.upper()
    if chain not in CHAINS:
        raise ValidationFailed.field("blockchain", f'"{blockchain}" is not a valid choice.')
    if chain == "LIGHTNING":
        raise ValidationFailed.field("blockchain", LIGHTNING_REFUSED)
    address = address.strip()
    if not re.fullmatch(FORMATS[chain], address):
        raise ValidationFailed.field("wallet_address", f"Enter a valid {chain} address.")
    return address, chain


def _exposure(category: str, name: str, kind: str, subtype: str, direction: str, amount: float,
              share: float, hops: int, country: str) -> dict[str, Any]:
    return {"category": category, "entity_name": name, "entity_type": kind, "entity_subtype": subtype,
            "exposure_direction": direction, "exposure_type": "direct" if hops == 0 else "indirect",
            "is_direct": hops == 0, "amount_usd": amount, "percentage": share, "hops": hops, "country": country}


def _example(address: str, chain: str) -> dict[str, Any]:
    return {
        "provider": PROVIDER, "screening_type": "WALLET_SCREENING", "risk_score": 72, "severity": "HIGH",
        "status": "SCREENED", "summary": "Merkle Science risk: High (4/5). Dominant risk: mixer",
        "wallet_address": address, "blockchain": chain, "sanctions_hit": True, "dominant_risk_category": "mixer",
        "risk_factors": [{
            "source": "exposure", "category": "mixer", "label": "Mixer", "entity_name": "Tornado Cash",
            "direction": "incoming", "exposure_type": "indirect", "amount_usd": 11580.2, "percentage": 38.6,
            "is_high_risk": True, "description": "Indirect incoming exposure to a sanctioned mixer."}],
        "source_of_funds": [
            _exposure("exchange_licensed", "Binance.com", "Exchange", "Mandatory KYC and AML", "incoming",
                      18420.55, 61.4, 0, "SC"),
            _exposure("mixer", "Tornado Cash", "Mixer", "OFAC SDN", "incoming", 11580.2, 38.6, 2, "RU")],
        "destination_of_funds": [
            _exposure("exchange_licensed", "Coinbase", "Exchange", "Mandatory KYC and AML", "outgoing",
                      30000.75, 100.0, 0, "US")],
        "counterparty_connections": [{
            "entity_name": "Tornado Cash", "entity_type": "Mixer", "entity_subtype": "OFAC SDN",
            "risk_level": "CRITICAL", "categories": ["mixer"], "received_usd": 11580.2, "sent_usd": 0.0,
            "received_hops": 2, "sent_hops": 0, "percentage": 38.6, "is_direct": False, "country": "RU"}],
    }


def _flagged(address: str, chain: str, category: str) -> dict[str, Any]:
    sanctioned = category == "sanctioned"
    name, kind, subtype = (("Lazarus Group", "Sanctioned Entity", "OFAC SDN") if sanctioned
                           else ("Tornado Cash", "Mixer", "OFAC SDN"))
    return {
        "provider": PROVIDER, "screening_type": "WALLET_SCREENING", "risk_score": 78, "severity": "HIGH",
        "status": "SCREENED", "summary": f"Merkle Science risk: High (4/5). Dominant risk: {category}",
        "wallet_address": address, "blockchain": chain, "sanctions_hit": sanctioned,
        "dominant_risk_category": category,
        "risk_factors": [{
            "source": "attribution" if sanctioned else "exposure", "category": category,
            "label": "Sanctioned" if sanctioned else "Mixer", "entity_name": name,
            "direction": "attribution" if sanctioned else "incoming",
            "exposure_type": "attribution" if sanctioned else "direct",
            "amount_usd": 25000.0, "percentage": 100.0 if sanctioned else 55.0, "is_high_risk": True,
            "description": "The address is attributed to a sanctioned entity." if sanctioned
            else "Direct incoming exposure to a mixer."}],
        "source_of_funds": [_exposure(category, name, kind, subtype, "incoming", 25000.0, 55.0, 0, "KP")],
        "destination_of_funds": [],
        "counterparty_connections": [{
            "entity_name": name, "entity_type": kind, "entity_subtype": subtype, "risk_level": "CRITICAL",
            "categories": [category], "received_usd": 25000.0, "sent_usd": 0.0, "received_hops": 0,
            "sent_hops": 0, "percentage": 55.0, "is_direct": True, "country": "KP"}],
    }


def _clean(address: str, chain: str) -> dict[str, Any]:
    return {
        "provider": PROVIDER, "screening_type": "WALLET_SCREENING", "risk_score": 0, "severity": "UNKNOWN",
        "status": "SCREENED", "summary": "Merkle Science risk: no risk indicators found.",
        "wallet_address": address, "blockchain": chain, "sanctions_hit": False, "dominant_risk_category": None,
        "risk_factors": [], "source_of_funds": [], "destination_of_funds": [], "counterparty_connections": [],
    }


def profile(address: str, chain: str) -> dict[str, Any]:
    """The risk profile of a checked address (without its signature)."""
    lowered = address.lower()
    if lowered == EXAMPLE_ADDRESS:
        return _example(address, chain)
    body = lowered[2:] if lowered.startswith("0x") else lowered
    if "dead" in body:
        return _flagged(address, chain, "sanctioned")
    if "bad" in body:
        return _flagged(address, chain, "mixer")
    return _clean(address, chain)


def chosen_profile(address: str, chain: str, score: int, category: str | None, sanctioned: bool) -> dict[str, Any]:
    """A profile a test chose (scenario wallet rules): the score, its band, one risk factor."""
    if score == 0 and not sanctioned:
        return _clean(address, chain)
    result = _flagged(address, chain, category or ("sanctioned" if sanctioned else "mixer"))
    result["risk_score"], result["severity"], result["sanctions_hit"] = score, severity_of(score), sanctioned
    result["risk_factors"][0]["is_high_risk"] = result["dominant_risk_category"] in HIGH_RISK_CATEGORIES
    band = {"CRITICAL": "Critical (5/5)", "HIGH": "High (4/5)", "MEDIUM": "Medium (3/5)", "LOW": "Low (2/5)",
            "UNKNOWN": "Unknown (1/5)"}[result["severity"]]
    result["summary"] = f"Merkle Science risk: {band}. Dominant risk: {result['dominant_risk_category']}"
    return result


def profile_for(hooks: Any, tenant: Any, address: str, chain: str) -> dict[str, Any]:
    """The profile a hook chose for the address (scenario rules), else the built-in one."""
    for hook in hooks:
        chosen = hook(tenant, address, chain)
        if chosen is not None:
            return chosen
    return profile(address, chain)


def signature(secret: str, result: dict[str, Any]) -> str:
    """HMAC-SHA256 of the result's canonical JSON (without `report_signature`)."""
    unsigned = {k: v for k, v in result.items() if k != "report_signature"}
    canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def screen(secret: str, address: Any, blockchain: Any, hooks: Any = (), tenant: Any = None) -> dict[str, Any]:
    """The signed screening result of `address` on `blockchain` (400 for a bad pair); `hooks` may
    choose the profile (see `profile_for`)."""
    result = profile_for(hooks, tenant, *check_address(address, blockchain))
    result["report_signature"] = signature(secret, result)
    return result


def verified(secret: str, body: Any) -> dict[str, Any]:
    """A reposted result whose signature matches, or the documented 400."""
    if not isinstance(body, dict):
        raise ValidationFailed({"non_field_errors": ["Expected a JSON object matching a wallet-screening result."]})
    given = body.get("report_signature")
    if not isinstance(given, str) or not hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                                                             signature(secret, body).encode()):
        raise ValidationFailed.field("report_signature", PDF_SIGNATURE_REFUSED)
    return copy.deepcopy(body)


def is_high_risk(result: dict[str, Any]) -> bool:
    return int(result.get("risk_score") or 0) >= 70 or bool(result.get("sanctions_hit"))
