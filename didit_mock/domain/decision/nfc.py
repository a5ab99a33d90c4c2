"""The NFC item: the document's chip data, its integrity and the signing certificate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .. import workflows as wf
from ..clock import iso
from ..outcomes import FeatureOutcome
from ..people import ascii_upper, country
from .context import UTC, WITH_RESUB, Context, risks_of, status_within
from .layout import node_id_for


def nfc_item(ctx: Context, outcome: FeatureOutcome) -> dict[str, Any]:
    """The `nfc_verifications` item: what the chip holds, and whether it verified."""
    person, rnd = ctx.person, ctx.rnd("nfc")
    intact = not ({"NFC_CHIP_NOT_VERIFIED"} & risks_of(outcome))
    home = country(person.issuing_state)
    not_before = datetime(ctx.day.year - 3, rnd.randint(1, 12), rnd.randint(1, 28), 10, 21, 11, tzinfo=UTC)
    return {
        "node_id": node_id_for(wf.NFC),
        "status": status_within(outcome.status, WITH_RESUB),
        "is_nfc_skipped": False,
        "portrait_image": ctx.media("nfc_portrait"),
        "signature_image": ctx.media("nfc_signature"),
        "chip_data": {
            "document_type": person.document_code,
            "issuing_country": person.issuing_state,
            "document_number": person.document_number,
            "expiration_date": person.expiration_date.isoformat(),
            "first_name": person.first_name,
            "last_name": person.last_name,
            "birth_date": person.date_of_birth.isoformat(),
            "gender": person.gender,
            "nationality": person.nationality,
            "address": ascii_upper(person.address),
            "place_of_birth": ascii_upper(person.place_of_birth),
        },
        "authenticity": {"sod_integrity": intact, "dg_integrity": intact},
        "certificate_summary": {
            "issuer": f"Common Name: CSCA {ascii_upper(home.name)}, Serial Number: {rnd.randint(1, 9)}, "
                      f"Country: {home.alpha2}",
            "subject": f"Common Name: DS {ascii_upper(home.name)} {rnd.randint(1, 9)}, Organizational Unit: "
                       f"{ascii_upper(person.document_type)}, Country: {home.alpha2}",
            "serial_number": str(rnd.getrandbits(126)),
            "not_valid_after": iso(not_before.replace(year=not_before.year + 10)),
            "not_valid_before": iso(not_before),
        },
        "warnings": ctx.warnings(outcome),
    }
