"""Database validation without a session (§1.9): a small registry catalogue and number-driven outcomes.

The identification number decides (after the country's format checks): a number ending in `0000`
is no match, `1111` a partial match, `9999` not found, `5555` a registry that is down (In Review),
`8888` an empty provider answer (502), `7777` input the source refuses (400); any other number
matches the data sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import statuses as st
from .. import workflows as wf
from ..errors import DiditError, ValidationFailed
from ..outcomes import FeatureOutcome
from . import record
from .armed import armed
from .texts import warning

if TYPE_CHECKING:
    from ..tenant import Tenant

ISSUING_STATES = (
    "ARE", "ARG", "AUS", "AUT", "BEL", "BGD", "BOL", "BRA", "CAN", "CHE", "CHL", "CHN", "CIV", "COL", "CRI", "CZE",
    "DEU", "DNK", "DOM", "ECU", "ESP", "FIN", "FRA", "GBR", "GHA", "GLB", "GRC", "GTM", "HKG", "HND", "IDN", "IND",
    "IRL", "ITA", "KEN", "KHM", "MAR", "MEX", "MYS", "NGA", "NLD", "NOR", "NZL", "OMN", "PAN", "PER", "PHL", "POL",
    "PRT", "PRY", "QAT", "SGP", "SLV", "SVK", "SWE", "THA", "UGA", "URY", "USA", "VEN", "ZAF", "ZMB", "ZWE")
#: Where `identification_number` goes, per country (the others: `personal_number`).
_DOCUMENT_NUMBER = ("ARG", "BOL", "GTM", "HND", "PRY", "SLV", "VEN")
_TAX_NUMBER = ("BRA",)


@dataclass(frozen=True)
class Service:
    service_id: str
    name: str
    country: str
    field: str
    length: int | None = None  # exact length of the number, digits only
    description: str = ""


CATALOGUE = (
    Service("bra_cpf", "Brazil - CPF status check", "BRA", "tax_number", 11, "Brazilian CPF (exactly 11 digits)"),
    Service("per_dni", "Peru - DNI check", "PER", "personal_number", 8, "Peruvian DNI (exactly 8 digits)"),
    Service("per_residential", "Peru - residential address check", "PER", "personal_number", 8,
            "Peruvian DNI (exactly 8 digits)"),
    Service("per_tax_registration", "Peru - tax registration check", "PER", "personal_number", 8,
            "Peruvian DNI (exactly 8 digits)"),
    Service("ecu_cedula", "Ecuador - cédula check", "ECU", "personal_number", 10,
            "Ecuadorian cédula (exactly 10 digits)"),
    Service("dom_cedula", "Dominican Republic - cédula check", "DOM", "personal_number", 11,
            "Dominican cédula (exactly 11 digits)"),
    Service("mex_curp", "Mexico - CURP check", "MEX", "personal_number", 18, "Mexican CURP (exactly 18 characters)"),
)
_BY_ID = {s.service_id: s for s in CATALOGUE}

#: Number suffix -> (outcome code, field result or None for no comparison).
_SUFFIXES = {"0000": ("NO_MATCH", "no_match"), "1111": ("PARTIAL_MATCH", "partial_match"),
             "9999": ("DOCUMENT_NOT_FOUND", "no_match"), "5555": ("REGISTRY_UNAVAILABLE", None)}
_COMPARED = ("first_name", "last_name", "full_name", "date_of_birth")


def _field_for(country: str) -> str:
    return "tax_number" if country in _TAX_NUMBER else "document_number" if country in _DOCUMENT_NUMBER \
        else "personal_number"


def _services(country: str, raw: Any) -> tuple[list[Service], bool]:
    """The services to run and whether the caller chose them."""
    names: list[str] = []
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                loaded = json.loads(text)
            except ValueError:
                loaded = []
            names = [str(n) for n in loaded] if isinstance(loaded, list) else []
        else:
            names = [n.strip() for n in text.split(",") if n.strip()]
    elif isinstance(raw, list):
        names = [str(n) for n in raw]
    if not names:
        default = next((s for s in CATALOGUE if s.country == country), None)
        generic = Service(f"{country.lower()}_identity_registry", f"{country} - identity registry check", country,
                          _field_for(country))
        return [default or generic], False
    unknown = [n for n in names if n not in _BY_ID]
    if unknown:
        raise ValidationFailed.field("services", f"Unknown service_id(s): {unknown}")
    elsewhere = [n for n in names if _BY_ID[n].country != country]
    if elsewhere:
        available = [s.service_id for s in CATALOGUE if s.country == country]
        raise ValidationFailed.field("services", f"Services not currently live for {country}: {elsewhere}. "
                                                 f"Available services: {available}")
    return [_BY_ID[n] for n in dict.fromkeys(names)], True


def validate(tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    country = str(body.get("issuing_state") or "").upper()
    if country not in ISSUING_STATES:
        raise ValidationFailed({"error": [f"Invalid issuing state. Valid options are: {', '.join(ISSUING_STATES)}"]})
    services, chosen = _services(country, body.get("services"))
    sent = {k: v for k, v in body.items() if v not in (None, "")}
    identification = sent.get("identification_number")
    if identification is not None:
        for service in services:
            sent.setdefault(service.field, identification)
    missing: dict[str, list[str]] = {}
    for service in services:
        if service.field not in sent:
            missing.setdefault(service.field, []).append(service.service_id)
    if missing:
        names = ", ".join(f"{f} (or use 'identification_number' which maps to '{f}' for {country})" for f in missing)
        raise DiditError({"error": [f"Missing required fields: {names}"], "fields_required_by": missing}, 400)
    for service in services:
        number = str(sent[service.field])
        if service.length is not None and len(number) != service.length:
            words = service.field.replace("_", " ")
            raise ValidationFailed.field(service.field, (
                f"Invalid {words} for {country}: {service.description}. Must be exactly {service.length} "
                f"characters long (got {len(number)})."))
    number = str(sent[services[0].field])
    if number.endswith("8888"):
        raise DiditError({"error": "Database validation could not be performed. The external validation service "
                                   "did not return a result. Please try again later.",
                          "validation_errors": [{"service_id": s.service_id, "code": "empty_provider_response",
                                                 "message": "The provider did not return a database validation "
                                                            "result.", "retryable": True} for s in services]}, 502)
    if number.endswith("7777"):
        text = "The source refused to run this query with the supplied input."
        raise DiditError({"error": text, "validation_errors": [
            {"service_id": s.service_id, "code": "provider_rejected_input", "message": text, "retryable": False}
            for s in services]}, 400)
    directive = armed(tenant).take("database-validation", body.get("vendor_data"))
    code, result = _SUFFIXES.get(number[-4:], ("MATCH", "full_match"))
    if directive is not None and directive.scenario == "decline_database_no_match":
        code, result = "NO_MATCH", "no_match"
    compared = [k for k in _COMPARED if k in sent] + [services[0].field]
    per_service = []
    for service in services:
        per_service.append({
            "service_id": service.service_id, "service_name": service.name,
            "validation": {} if result is None else {k: result for k in compared},
            "outcome_code": code, "outcome_detail": None,
            "source_data": {} if result in (None, "no_match") else {
                k: (str(sent[k]).upper() if k in ("first_name", "last_name", "full_name") else sent[k])
                for k in compared},
        })
    outcome = FeatureOutcome(wf.DATABASE_VALIDATION)
    actions = {"partial": str(body.get("partial_match_action") or "NO_ACTION"),
               "none": str(body.get("no_match_action") or "DECLINE")}
    if result is None:
        status, match_type = st.IN_REVIEW, None
    elif result == "full_match":
        status, match_type = st.APPROVED, "full_match"
    else:
        kind = "partial" if result == "partial_match" else "none"
        risk = "DATABASE_VALIDATION_PARTIAL_MATCH" if kind == "partial" else "DATABASE_VALIDATION_NO_MATCH"
        decline = actions[kind] == "DECLINE"
        outcome.warnings = [warning("DATABASE_VALIDATION", risk, "error" if decline else "information")]
        status, match_type = (st.DECLINED if decline else st.APPROVED), result
    if directive is not None and directive.status is not None:
        status = directive.status
    outcome.status = status
    screened = {k: v for k, v in sent.items() if k not in (
        "services", "consent", "save_api_request", "vendor_data", "metadata", "partial_match_action",
        "no_match_action", "validation_type", "issuing_state", "identification_number")}
    outcome.data = {"issuing_state": country, "validation_type": "one_by_one", "match_type": match_type,
                    "validations": per_service,
                    "screened_data": {k: v for k, v in screened.items() if isinstance(v, str)}}
    saved = bool(body.get("save_api_request", True))
    vendor_data = body.get("vendor_data")
    key = "vendor:" + vendor_data if vendor_data is not None else f"registry:{country}:{number}"
    session = record.new_call(tenant, "DATABASE_VALIDATION", wf.DATABASE_VALIDATION, key, vendor_data,
                              body.get("metadata"), saved=saved)
    record.finish(tenant, session, {wf.DATABASE_VALIDATION: outcome}, status, saved=saved)
    item = record.item(tenant, session, wf.DATABASE_VALIDATION)
    answer: dict[str, Any] = {
        "status": status, "issuing_state": country, "validation_type": "one_by_one",
        "screened_data": {**screened, "consent_obtained": True}, "match_type": match_type,
        "validations": per_service if saved else (per_service[0]["validation"] if per_service else {}),
        "warnings": item["warnings"],
    }
    if chosen:
        answer["services_used"] = [s.service_id for s in services]
        answer["match_score"] = {"full_match": 1.0, "partial_match": 0.5}.get(str(match_type), 0.0)
    return record.envelope(tenant, session, "database_validation", answer)
