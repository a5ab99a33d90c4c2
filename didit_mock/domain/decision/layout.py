"""Where each feature sits in a decision: its workflow node id, its array, the top-level keys."""

from __future__ import annotations

from .. import workflows as wf
from ..outcomes import FEATURE_ALIASES

#: The template of the workflow of a saved standalone call (an API session: no workflow id, no URL).
API_TEMPLATE = "API"

NODE_IDS = {
    wf.ID_VERIFICATION: "feature_ocr_1",
    wf.NFC: "feature_nfc_1",
    wf.LIVENESS: "feature_liveness_1",
    wf.FACE_MATCH: "feature_face_match_1",
    wf.AGE_ESTIMATION: "feature_age_estimation_1",
    wf.POA: "feature_poa_1",
    wf.PHONE: "feature_phone_1",
    wf.EMAIL_VERIFICATION: "feature_email_1",
    wf.QUESTIONNAIRE: "feature_questionnaire_1",
    wf.DATABASE_VALIDATION: "feature_database_validation_1",
    wf.AML: "feature_aml_1",
    wf.IP_ANALYSIS: "feature_ip_1",
}

#: Decision feature -> its array in the v3 decision (AGE_ESTIMATION feeds `liveness_checks`).
ARRAY_OF = {
    wf.ID_VERIFICATION: "id_verifications",
    wf.NFC: "nfc_verifications",
    wf.LIVENESS: "liveness_checks",
    wf.AGE_ESTIMATION: "liveness_checks",
    wf.FACE_MATCH: "face_matches",
    wf.PHONE: "phone_verifications",
    wf.EMAIL_VERIFICATION: "email_verifications",
    wf.POA: "poa_verifications",
    wf.QUESTIONNAIRE: "questionnaire_responses",
    wf.AML: "aml_screenings",
    wf.IP_ANALYSIS: "ip_analyses",
    wf.DATABASE_VALIDATION: "database_validations",
}
FEATURE_ARRAYS = (
    "id_verifications", "nfc_verifications", "liveness_checks", "face_matches", "phone_verifications",
    "email_verifications", "poa_verifications", "document_ai_documents", "questionnaire_responses",
    "aml_screenings", "ip_analyses", "database_validations",
)
#: Every top-level key of a v3 KYC decision, in Didit's order.
TOP_LEVEL_KEYS = (
    "session_id", "session_kind", "session_number", "session_url", "status", "environment", "workflow_id",
    "features", "vendor_data", "metadata", "expected_details", "contact_details", "callback",
    "id_verifications", "nfc_skip_reason", "nfc_verifications", "liveness_checks", "face_matches",
    "phone_verifications", "email_verifications", "poa_verifications", "document_ai_documents",
    "questionnaire_responses", "aml_screenings", "ip_analyses", "database_validations", "reviews",
    "created_at", "expires_at", "registry_checks", "key_people_checks", "document_verifications",
)


def node_id_for(feature: str) -> str:
    """The workflow node id of a feature's (single) step, e.g. ID_VERIFICATION -> feature_ocr_1."""
    name = str(feature).strip().upper()
    canonical = FEATURE_ALIASES.get(name, name)
    return NODE_IDS.get(canonical) or f"feature_{name.lower()}_1"
