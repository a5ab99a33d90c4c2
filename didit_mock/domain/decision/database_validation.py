"""The database validation item: the person checked against their country's identity registry."""

from __future__ import annotations

from typing import Any

from .. import statuses as st
from .. import workflows as wf
from ..outcomes import FeatureOutcome
from ..people import ascii_upper, country
from .context import WITH_RESUB, Context, status_within
from .layout import node_id_for

_MATCH_BY_STATUS = {st.APPROVED: "full_match", st.IN_REVIEW: "partial_match", st.DECLINED: "no_match"}


def database_validation_item(ctx: Context, outcome: FeatureOutcome) -> dict[str, Any]:
    """The `database_validations` item; `data["match_type"]` wins over the status's match type."""
    person = ctx.person
    match_type = outcome.data.get("match_type", _MATCH_BY_STATUS.get(outcome.status))
    if match_type not in ("full_match", "partial_match", "no_match", None):
        match_type = _MATCH_BY_STATUS.get(outcome.status)
    field_result = match_type or "no_match"
    home = country(person.issuing_state)
    found = match_type in ("full_match", "partial_match")
    identification = person.personal_number or person.document_number
    return {
        "node_id": node_id_for(wf.DATABASE_VALIDATION),
        "issuing_state": person.issuing_state,
        "validation_type": "one_by_one",
        "screened_data": {
            "first_name": person.first_name, "last_name": person.last_name, "tax_number": person.personal_number,
            "personal_number": person.personal_number, "document_number": person.document_number,
            "date_of_birth": person.date_of_birth.isoformat(), "document_type": person.document_code,
            "expiration_date": person.expiration_date.isoformat(),
        },
        "validations": [{
            "service_id": f"{home.alpha3.lower()}_identity_registry",
            "service_name": f"{home.name} - identity registry check",
            "validation": {
                "full_name": "partial_match" if match_type == "partial_match" else field_result,
                "date_of_birth": "full_match" if found else "no_match",
                "identification_number": "full_match" if found else "no_match",
            },
            "outcome_code": {"full_match": "MATCH", "partial_match": "PARTIAL_MATCH"}.get(str(match_type), "NO_MATCH"),
            "outcome_detail": None,
            "source_data": {
                "identification_number": identification, "first_name": ascii_upper(person.first_name),
                "last_name": ascii_upper(person.last_name), "date_of_birth": person.date_of_birth.isoformat(),
                "gender": person.gender, "nationality": person.nationality,
            } if found else {},
        }],
        "match_type": match_type,
        "status": status_within(outcome.status, WITH_RESUB),
        "warnings": ctx.warnings(outcome),
    }
