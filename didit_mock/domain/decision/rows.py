"""The rows of GET /v3/sessions/ (§5.3), built from the session and its v3 decision: the KYC row of a
user session, the KYB row of a business session."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from .. import statuses as st
from ..rng import derive_seed
from .assembly import feature_names
from .context import WITH_RESUB, first_item, status_within

if TYPE_CHECKING:
    from ..sessions import Session
    from ..tenant import Tenant

_ROW_FEATURES = ("ID_VERIFICATION", "NFC", "LIVENESS", "FACE_MATCH", "POA", "QUESTIONNAIRE", "EMAIL_VERIFICATION",
                 "PHONE", "AML", "IP_ANALYSIS", "AGE_ESTIMATION", "DATABASE_VALIDATION")
_ROW_DOCUMENT_TYPES = ("Passport", "Identity Card", "Driver's License", "Residence Permit",
                       "Health Insurance Card", "Tax Card")


def _blocked(item: dict[str, Any]) -> bool:
    return any(isinstance(w, dict) and str(w.get("risk", "")).endswith("_IN_BLOCKLIST")
               for w in item.get("warnings") or [])


def build_row(tenant: Tenant, session: Session, decision: dict[str, Any]) -> dict[str, Any]:
    """The list row of a session, every key present (uncached: callers go through `rendering`)."""
    if decision.get("session_kind") == "business":
        return business_row(session, decision)
    idv = first_item(decision, "id_verifications")
    liveness = first_item(decision, "liveness_checks")
    document_type = idv.get("document_type") if idv else None
    contact = session.contact_details or {}
    phone_item, email_item = first_item(decision, "phone_verifications"), first_item(decision, "email_verifications")
    phone = {"number": phone_item.get("full_number"), "is_verified": phone_item.get("status") == st.APPROVED} \
        if phone_item else {"number": contact["phone"], "is_verified": False} if contact.get("phone") else None
    email = {"email": email_item.get("email"), "is_verified": email_item.get("status") == st.APPROVED} \
        if email_item else {"email": contact["email"], "is_verified": False} if contact.get("email") else None
    portrait = (idv or {}).get("portrait_image") or (liveness or {}).get("reference_image")
    return {
        "session_id": session.session_id,
        "session_kind": "user",
        "session_number": session.session_number,
        "session_url": decision.get("session_url"),
        "portrait_image": portrait,
        "document_type": document_type if document_type in _ROW_DOCUMENT_TYPES else None,
        "full_name": idv.get("full_name") if idv else None,
        "country": idv.get("issuing_state") if idv else None,
        "status": session.status,
        "vendor_data": session.vendor_data,
        "didit_internal_id": str(uuid.UUID(int=derive_seed(tenant.seed, "user", session.vendor_data) << 64
                                           | derive_seed(tenant.seed, "user-low", session.vendor_data), version=4))
        if session.vendor_data is not None else None,
        "created_at": decision.get("created_at"),
        "features": _row_features(session, decision),
        "phone_number": phone,
        "email_address": email,
        "additional_details": _additional_details(decision),
    }


def _row_features(session: Session, decision: dict[str, Any]) -> list[dict[str, str]]:
    names = decision.get("features") if session.imported_decision is not None else feature_names(session)
    rows = []
    for name in names or []:
        if name not in _ROW_FEATURES:
            continue
        outcome = (session.outcomes or {}).get(name)
        status = outcome.status if outcome is not None else st.NOT_FINISHED
        rows.append({"feature": name, "status": status_within(status, WITH_RESUB)})
    return rows


def _additional_details(decision: dict[str, Any]) -> dict[str, Any] | None:
    details: dict[str, Any] = {}
    aml = first_item(decision, "aml_screenings")
    if aml:
        screened = aml.get("screened_data") or {}
        details["aml"] = {
            "total_hits": aml.get("total_hits", 0), "entity_type": aml.get("entity_type", "person"),
            "is_adverse_media_fetched": False,
            "screened_data": {k: screened.get(k) or "" for k in ("nationality", "document_number", "date_of_birth")},
        }
    database = first_item(decision, "database_validations")
    if database:
        screened = database.get("screened_data") or {}
        details["database_validation"] = {
            "validation_type": database.get("validation_type") or "one_by_one",
            "match_type": database.get("match_type") or "no_match",
            "identification_number": screened.get("personal_number") or screened.get("document_number") or "",
        }
    poa = first_item(decision, "poa_verifications")
    if poa:
        details["poa"] = {"document_type": poa.get("document_type") or "", "issuer": poa.get("issuer") or "",
                          "address": poa.get("poa_formatted_address") or "",
                          "name_on_document": poa.get("name_on_document") or ""}
    liveness = first_item(decision, "liveness_checks")
    if liveness:
        details["liveness"] = {"method": liveness.get("method"), "score": liveness.get("score")}
    face = first_item(decision, "face_matches")
    if face:
        details["face_match"] = {"score": face.get("score"), "source_image": face.get("source_image"),
                                 "target_image": face.get("target_image")}
    phone = first_item(decision, "phone_verifications")
    if phone:
        details["phone_verification"] = {"country_code": phone.get("country_code"),
                                         "is_temporary": bool(phone.get("is_disposable")), "is_ported": False,
                                         "is_blocked": _blocked(phone)}
    email = first_item(decision, "email_verifications")
    if email:
        details["email_verification"] = {"is_breached": bool(email.get("is_breached")),
                                         "is_disposable": bool(email.get("is_disposable")),
                                         "is_undeliverable": bool(email.get("is_undeliverable")),
                                         "is_blocklisted": _blocked(email)}
    return details or None


def business_row(session: Session, decision: dict[str, Any]) -> dict[str, Any]:
    """The KYB row of a business session: its registry company (null until one is picked)."""
    check = first_item(decision, "registry_checks")
    company = (check or {}).get("company") or {}
    return {
        "session_id": session.session_id,
        "session_kind": "business",
        "session_number": session.session_number,
        "status": session.status,
        "vendor_data": session.vendor_data,
        "created_at": decision.get("created_at"),
        "workflow_id": decision.get("workflow_id"),
        "workflow_type": "kyb",
        "workflow_label": session.workflow.label,
        "company_name": company.get("company_name"),
        "registration_number": company.get("registration_number"),
        "country": company.get("country_code"),
    }
