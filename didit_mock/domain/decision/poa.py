"""The proof-of-address item: the bill or bank statement that shows the person's address."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .. import workflows as wf
from ..outcomes import FeatureOutcome
from ..people import ascii_upper, country, other_address
from .context import WITH_RESUB, Context, address_type, risks_of, status_within
from .layout import node_id_for

_BANKS = {
    "ESP": ("Banco Santander", "BBVA", "CaixaBank"), "USA": ("JPMorgan Chase Bank", "Bank of America", "Wells Fargo"),
    "DEU": ("Deutsche Bank", "Commerzbank", "Sparkasse"), "FRA": ("BNP Paribas", "Credit Agricole", "Societe Generale"),
    "GBR": ("Barclays", "HSBC UK", "Lloyds Bank"), "ITA": ("Intesa Sanpaolo", "UniCredit", "Banco BPM"),
}


def poa_location(ctx: Context, outcome: FeatureOutcome) -> tuple[str, str, str, str, str]:
    """(street, city, region, postal code, alpha-3) of the address the POA document shows."""
    person, risks = ctx.person, risks_of(outcome)
    poa_country = (ctx.session.expected_details or {}).get("poa_country")
    alpha3 = country(poa_country).alpha3 if isinstance(poa_country, str) and poa_country else person.issuing_state
    if "POA_ADDRESS_MISMATCH" in risks:
        street, city, region, postal = other_address(ctx.tenant, person, "poa")
        return street, city, region, postal, alpha3
    postal = person.postal_code
    if "POA_PARTIAL_MATCH" in risks:
        digits = [i for i, ch in enumerate(postal) if ch.isdigit()]
        if digits:
            last = digits[-1]
            postal = postal[:last] + str((int(postal[last]) + 4) % 10) + postal[last + 1:]
    return person.street_1, person.city, person.region, postal, alpha3


def poa_item(ctx: Context, outcome: FeatureOutcome) -> dict[str, Any]:
    """The `poa_verifications` item."""
    person, rnd = ctx.person, ctx.rnd("poa")
    street, city, region, postal, alpha3 = poa_location(ctx, outcome)
    home = country(alpha3)
    kind = rnd.choice(("UTILITY_BILL", "UTILITY_BILL", "BANK_STATEMENT"))
    bank = kind == "BANK_STATEMENT"
    issuer = rnd.choice(_BANKS.get(alpha3, ("Citibank", "HSBC"))) if bank \
        else rnd.choice(home.utilities or ("City Water and Power", "National Energy"))
    issued = ctx.day - timedelta(days=rnd.randint(6, 80))
    moved = street != person.street_1
    lat = person.latitude + (rnd.uniform(-0.6, 0.6) if moved else 0.0)
    lng = person.longitude + (rnd.uniform(-0.6, 0.6) if moved else 0.0)
    expected = ctx.session.expected_details or {}
    expected_address = expected.get("address") if isinstance(expected.get("address"), str) else None
    named = bool(expected.get("first_name") or expected.get("last_name"))
    return {
        "node_id": node_id_for(wf.POA),
        "status": status_within(outcome.status, WITH_RESUB),
        "document_file": ctx.media("poa_document", "pdf"),
        "issuing_state": home.alpha2,
        "document_type": kind,
        "document_subtype": None,
        "document_language": home.language,
        "document_metadata": {
            "file_size": rnd.randint(80_000, 420_000), "content_type": "application/pdf",
            "creation_date": issued.isoformat(), "modified_date": issued.isoformat(), "overlay_manipulation": None,
            "creator": None, "producer": "Adobe PDF Library 17.0", "software": None, "encryption": None,
            "is_signed": False, "is_tampered": False, "signature_info": None, "exif_original_date": None,
            "exif_digitized_date": None, "processed_by_known_editor": False,
            "has_different_creation_mod_date": False,
        },
        "issuer": issuer,
        "issue_date": issued.isoformat(),
        "expiration_date": None,
        "poa_address": ascii_upper(f"{street}, {postal} {city}"),
        "poa_formatted_address": f"{street}, {postal} {city}, {home.name}",
        "poa_parsed_address": {
            "address_type": address_type(street), "street_1": street, "street_2": None, "city": city,
            "region": region, "country": home.alpha2, "postal_code": postal,
            "document_location": {"latitude": round(lat, 6), "longitude": round(lng, 6)},
        },
        "name_on_document": person.full_name,
        "name_match_score_expected_details": 100.0 if named else None,
        "name_match_score_id_verification": 100.0 if ctx.ran(wf.ID_VERIFICATION) else None,
        "expected_details_address": expected_address,
        "expected_details_formatted_address": person.formatted_address if expected_address else None,
        "expected_details_parsed_address": {
            "street_1": person.street_1, "street_2": None, "city": person.city, "region": person.region,
            "country": country(person.issuing_state).alpha2, "postal_code": person.postal_code,
        } if expected_address else {},
        "extra_fields": {
            "bank_account_number": "".join(str(rnd.randint(0, 9)) for _ in range(10)) if bank else None,
            "bank_iban": None, "bank_sort_code": None, "bank_routing_number": None, "bank_swift_bic": None,
            "bank_branch_name": None, "bank_branch_address": None, "document_phone_number": None,
            "additional_names": [],
        },
        "extra_files": [],
        "detected_codes": [],
        "warnings": ctx.warnings(outcome),
    }
