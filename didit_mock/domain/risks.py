"""The risk codes each decision feature's warnings can carry, and the check of codes users give.

The lists hold the codes this mock produces or reads (the defaults, the sandbox scenarios, the
blocklist policy, the decision builders) and the codes Didit documents for the feature. A code
given for a feature must be one of that feature's; a wrong one is refused with the closest
known code and, when it belongs to another feature, that feature's name.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from . import workflows as wf
from .errors import ValidationFailed

#: Decision feature -> the risk codes its warnings can carry.
FEATURE_RISKS: dict[str, tuple[str, ...]] = {
    wf.ID_VERIFICATION: (
        "DOCUMENT_EXPIRED", "MRZ_VALIDATION_FAILED", "COULD_NOT_RECOGNIZE_DOCUMENT", "MINIMUM_AGE_NOT_MET",
        "ID_DOCUMENT_IN_BLOCKLIST", "KYB_REGISTRY_MISMATCH", "SCREEN_CAPTURE_DETECTED", "PRINTED_COPY_DETECTED",
        "PORTRAIT_MANIPULATION_DETECTED", "PUBLIC_DOCUMENT_IMAGE_DETECTED", "NAME_NOT_DETECTED",
        "DATE_OF_BIRTH_NOT_DETECTED", "DOCUMENT_NUMBER_NOT_DETECTED", "EXPIRATION_DATE_NOT_DETECTED",
        "CRITICAL_FIELD_OCCLUSION_DETECTED", "DOCUMENT_NUMBER_FORMAT_MISMATCH", "PERSONAL_NUMBER_FORMAT_MISMATCH",
        "POSSIBLE_DUPLICATED_USER", "QR_NOT_DETECTED", "PORTRAIT_IMAGE_NOT_DETECTED",
        "COULD_NOT_DETECT_DOCUMENT_TYPE", "INVALID_DATE", "MRZ_NOT_DETECTED",
        "MRZ_AND_DATA_EXTRACTED_FROM_OCR_NOT_SAME", "SUSPECTED_DOCUMENT_MANIPULATION", "POOR_DOCUMENT_QUALITY",
    ),
    wf.NFC: ("NFC_CHIP_NOT_VERIFIED", "DATA_INCONSISTENT", "CHIP_CERTIFICATE_UNAVAILABLE", "DOCUMENT_WITHOUT_CHIP",
             "DEVICE_WITHOUT_NFC", "MRZ_KEY_UNAVAILABLE"),
    wf.LIVENESS: ("LIVENESS_FACE_ATTACK", "LOW_LIVENESS_SCORE", "FACE_IN_BLOCKLIST", "POSSIBLE_FACE_IN_BLOCKLIST",
                  "NO_FACE_DETECTED", "MULTIPLE_FACES_DETECTED", "DUPLICATED_FACE", "POSSIBLE_DUPLICATED_FACE"),
    wf.FACE_MATCH: ("LOW_FACE_MATCH_SIMILARITY", "NO_FACE_DETECTED", "NO_REFERENCE_IMAGE"),
    wf.AGE_ESTIMATION: ("MINIMUM_AGE_NOT_MET", "AGE_BELOW_MINIMUM", "AGE_NOT_DETECTED", "NO_FACE_DETECTED",
                        "LOW_LIVENESS_SCORE", "LIVENESS_FACE_ATTACK"),
    wf.POA: ("POA_ADDRESS_MISMATCH", "POA_PARTIAL_MATCH", "ADDRESS_MISMATCH_WITH_PROVIDED",
             "POA_COUNTRY_MISMATCH_WITH_PROVIDED", "NAME_MISMATCH_WITH_PROVIDED", "DOCUMENT_METADATA_MISMATCH",
             "MISSING_ADDRESS_INFORMATION", "POA_DOCUMENT_EXPIRED", "INVALID_DOCUMENT_TYPE",
             "UNABLE_TO_VALIDATE_DOCUMENT_AGE", "UNABLE_TO_EXTRACT_ISSUE_DATE", "POA_NAME_NOT_DETECTED",
             "POA_DOCUMENT_NOT_SUPPORTED_FOR_APPLICATION", "UNPARSABLE_OR_INVALID_ADDRESS", "FUTURE_ISSUE_DATE",
             "POOR_DOCUMENT_QUALITY", "ISSUER_NOT_IDENTIFIED"),
    wf.PHONE: ("HIGH_RISK_PHONE_NUMBER", "VOIP_NUMBER_DETECTED", "PHONE_NUMBER_IN_BLOCKLIST",
               "DISPOSABLE_NUMBER_DETECTED", "VERIFICATION_CODE_ATTEMPTS_EXCEEDED"),
    wf.EMAIL_VERIFICATION: ("DISPOSABLE_EMAIL_DETECTED", "EMAIL_IN_BLOCKLIST", "BREACHED_EMAIL_DETECTED",
                            "UNDELIVERABLE_EMAIL_DETECTED", "EMAIL_CODE_ATTEMPTS_EXCEEDED"),
    wf.AML: ("POSSIBLE_MATCH_FOUND", "COULD_NOT_PERFORM_AML_SCREENING"),
    wf.IP_ANALYSIS: ("IP_IN_BLOCKLIST", "VPN_OR_TOR_DETECTED", "DUPLICATED_IP_ADDRESS",
                     "DUPLICATED_DEVICE_FINGERPRINT"),
    wf.DATABASE_VALIDATION: ("DATABASE_NO_MATCH", "DATABASE_PARTIAL_MATCH", "DATABASE_VALIDATION_NO_MATCH",
                             "DATABASE_VALIDATION_PARTIAL_MATCH", "COULD_NOT_PERFORM_DATABASE_VALIDATION"),
    wf.QUESTIONNAIRE: ("QUESTIONNAIRE_ANSWER_FLAGGED",),
    # Didit documents no KYB risk codes: these are the mock's (outcomes.DEFAULT_RISKS).
    wf.KYB_REGISTRY: ("KYB_REGISTRY_MISMATCH",),
    wf.KYB_DOCUMENTS: ("KYB_DOCUMENTS_DECLINED", "KYB_DOCUMENTS_IN_REVIEW"),
    wf.KYB_KEY_PEOPLE: ("KYB_KEY_PEOPLE_DECLINED", "KYB_KEY_PEOPLE_IN_REVIEW"),
}


def risk_problem(feature: str, risk: str, name: str | None = None) -> str | None:
    """Why `risk` cannot be a warning of `feature` (a canonical feature), or None when it can.

    `name` is the feature as the user wrote it (default: `feature`).
    """
    known = FEATURE_RISKS.get(feature, ())
    if risk in known:
        return None
    shown = name or feature
    owners = [f for f, codes in FEATURE_RISKS.items() if risk in codes]
    if owners:
        return f"{risk} is a risk of {' and '.join(owners)}, not of {shown}; {shown} risks: {', '.join(known)}"
    close = difflib.get_close_matches(risk, known, n=1) or difflib.get_close_matches(
        risk, [code for codes in FEATURE_RISKS.values() for code in codes], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown risk {risk!r} for {shown}{hint}; {shown} risks: {', '.join(known)}"


def check_choices(features: Mapping[str, Any] | None) -> None:
    """Refuse unknown features and risk codes of a `{feature: status | {status, risk, risks}}` map.

    Raises `ValidationFailed` in DRF's shape: `{"features": {"AML": ["..."]}}`.
    """
    from .outcomes import normalise_feature

    errors: dict[str, list[str]] = {}
    for name, choice in (features or {}).items():
        feature = normalise_feature(name)
        if not isinstance(choice, Mapping):
            continue
        given = choice.get("risks")
        risks = ([choice["risk"]] if choice.get("risk") else []) + (given if isinstance(given, list) else [])
        for risk in risks:
            problem = risk_problem(feature, str(risk).strip().upper(), str(name))
            if problem is not None:
                errors.setdefault(str(name), []).append(problem[0].upper() + problem[1:] + ".")
    if errors:
        raise ValidationFailed({"features": errors})
