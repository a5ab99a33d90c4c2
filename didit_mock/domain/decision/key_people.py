"""`key_people_checks`: the officers and owners of a business session's company, and its parties.

Rendered from the company the session carries (a KYB workflow's session or a registry retrieval):
`registry` lists the company's officers and beneficial owners as the registry reports them,
`submitted` the same people as Key People parties (`is_skipped` follows the parties route). The
mock spawns no child KYC sessions, so every child-session field is null and `ubo_kyc_summary` too.
"""

from __future__ import annotations

import copy
from typing import Any

from ..outcomes import FeatureOutcome

NODE_ID = "feature_kyb_key_people_1"

#: Didit's normalized officer and party roles.
ROLES = (
    "director", "non_executive_director", "secretary", "chairman", "ubo", "shareholder", "representative",
    "founder", "legal_advisor", "authorized_signatory", "trustee", "beneficiary", "settlor", "protector",
    "company_officer", "investor", "other",
)
#: The fields of a registry person about a child KYC session (none in the mock) and its AML screening.
_NO_CHILD_SESSION: dict[str, Any] = {
    "aml_status": None, "kyc_status": None, "kyc_session_url": None, "kyc_session_id": None,
    "verification_workflow_type": None, "verification_workflow_id": None, "verification_workflow_label": None,
    "verification_workflow_features": None, "didit_internal_id": None, "kyc_document_type": None,
    "kyc_nationality": None, "kyc_liveness_passed": None, "kyc_verified_at": None, "kyc_aml_categories": None,
    "kyc_notification_sent_at": None,
}


def _role(value: Any) -> str:
    return value if value in ROLES else "other"


def _birth(person: dict[str, Any]) -> tuple[int | None, int | None]:
    born = person.get("date_of_birth")
    if isinstance(born, str) and len(born) >= 7 and born[:4].isdigit() and born[5:7].isdigit():
        return int(born[:4]), int(born[5:7])
    return None, None


def _officer(officer: dict[str, Any]) -> dict[str, Any]:
    year, month = _birth(officer)
    return {
        "uuid": officer.get("uuid"), "name": officer.get("name") or "", "designation": officer.get("designation"),
        "role": _role(officer.get("role")), "nationality": officer.get("nationality"),
        "appointment_date": officer.get("appointment_date"), "termination_date": officer.get("termination_date"),
        "is_active": bool(officer.get("is_active", True)), "address": officer.get("address"),
        **_NO_CHILD_SESSION,
        "first_name": officer.get("first_name"), "last_name": officer.get("last_name"),
        "date_of_birth": officer.get("date_of_birth"), "date_of_birth_year": year, "date_of_birth_month": month,
    }


def _owner(owner: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": owner.get("uuid"), "name": owner.get("name") or "", "first_name": owner.get("first_name"),
        "last_name": owner.get("last_name"), "date_of_birth": owner.get("date_of_birth"),
        "country_of_birth": owner.get("country_of_birth"), "email": owner.get("email"),
        "company_name": owner.get("company_name"), "registration_number": owner.get("registration_number"),
        "entity_type": owner.get("entity_type") or "person", "nationality": owner.get("nationality"),
        "designation": owner.get("designation"), "roles": list(owner.get("roles") or []),
        "ownership_min_shares": owner.get("ownership_min_shares"),
        "ownership_max_shares": owner.get("ownership_max_shares"), "is_active": bool(owner.get("is_active", True)),
        **_NO_CHILD_SESSION,
        "child_beneficial_owners": copy.deepcopy(owner.get("child_beneficial_owners") or []),
        "effective_ownership_percent": owner.get("effective_ownership_percent"),
        "voting_min_shares": owner.get("voting_min_shares"), "voting_max_shares": owner.get("voting_max_shares"),
        "appointment_date": owner.get("appointment_date"),
    }


def _percent(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _party(person: dict[str, Any], entity_type: str, roles: list[dict[str, Any]], skipped: bool) -> dict[str, Any]:
    return {
        "uuid": person.get("uuid"), "entity_type": entity_type, "source": "USER", "name": person.get("name") or "",
        "first_name": person.get("first_name"), "last_name": person.get("last_name"),
        "company_name": person.get("company_name"), "registration_number": person.get("registration_number"),
        "email": person.get("email"), "nationality": person.get("nationality"), "phone_number": None,
        "date_of_birth": person.get("date_of_birth"), "position": person.get("designation"), "custom_fields": {},
        "is_active": bool(person.get("is_active", True)), "is_skipped": skipped, "requires_verification": not skipped,
        "roles": roles, "kyc_session_id": None, "kyc_session_status": person.get("kyc_status"),
        "kyc_session_url": person.get("kyc_session_url"), "kyb_sub_session_id": None, "kyb_sub_session_status": None,
        "kyb_sub_session_url": None, "verification_workflow_type": None, "verification_workflow_id": None,
        "verification_workflow_label": None, "verification_workflow_features": None, "didit_internal_id": None,
    }


def _parties(company: dict[str, Any], skipped: dict[str, bool]) -> list[dict[str, Any]]:
    """The officers, then the owners, as the parties the parties route finds (by their uuid)."""
    parties = []
    for officer in company.get("officers") or []:
        role = {"role": _role(officer.get("role")), "ownership_percent": None, "voting_percent": None}
        parties.append(_party(officer, "person", [role], bool(skipped.get(officer.get("uuid")))))
    for owner in company.get("beneficial_owners") or []:
        owned = _percent(owner.get("effective_ownership_percent"))
        voting = _percent(owner.get("voting_max_shares"))
        roles = [{"role": _role(r), "ownership_percent": owned if r in ("ubo", "shareholder") else None,
                  "voting_percent": voting if r in ("ubo", "shareholder") else None} for r in owner.get("roles") or []]
        parties.append(_party(owner, owner.get("entity_type") or "person", roles,
                              bool(skipped.get(owner.get("uuid")))))
    return parties


def key_people_item(registry: dict[str, Any], outcome: FeatureOutcome | None) -> dict[str, Any]:
    """The one item of `key_people_checks` for a session's stored registry data (`KYB_REGISTRY` override).

    Its status is the Key People step's outcome when the workflow ran one, else the registry check's.
    """
    check = registry.get("check") or {}
    company = check.get("company") or {}
    return {
        "status": outcome.status if outcome is not None else check.get("status"),
        "node_id": NODE_ID,
        "registry": {
            "officers": [_officer(o) for o in company.get("officers") or []],
            "beneficial_owners": [_owner(o) for o in company.get("beneficial_owners") or []],
        },
        "submitted": {"parties": _parties(company, registry.get("parties") or {})},
        "ubo_kyc_summary": None,
        "warnings": [w.to_dict(NODE_ID) for w in outcome.warnings] if outcome is not None else [],
    }
