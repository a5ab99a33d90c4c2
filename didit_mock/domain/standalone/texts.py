"""Warning texts of the standalone APIs: Didit's published ones, and proposed ones where none is published."""

from __future__ import annotations

from typing import Any

from ..outcomes import RISKS, RiskWarning

#: risk -> (short description, long description); the spec's exact texts first.
TEXTS: dict[str, tuple[str, str]] = {
    "AGE_BELOW_MINIMUM": ("Age below minimum",
                          "The age of the face is below the minimum age threshold for the application."),
    "DOCUMENT_EXPIRED": ("Document expired",
                         "The document's expiration date has passed, rendering it no longer valid for use."),
    "DUPLICATED_FACE": ("Duplicated face from other approved session",
                        "The system identified a duplicated face from another approved session, requiring "
                        "further investigation."),
    "FACE_IN_BLOCKLIST": ("Face in blocklist", "The system identified a face in the blocklist, which means the "
                                               "face is not allowed to be verified."),
    "LIVENESS_FACE_ATTACK": ("Liveness Face Attack",
                             "The system detected a potential attempt to bypass the liveness check."),
    "LOW_FACE_MATCH_SIMILARITY": ("Low face match similarity",
                                  "The facial features of the provided image don't closely match the reference "
                                  "image, suggesting a potential identity mismatch."),
    "LOW_LIVENESS_SCORE": ("Low liveness score",
                           "The liveness check resulted in a low score, indicating potential use of non-live facial "
                           "representations or poor-quality biometric data."),
    "POSSIBLE_MATCH_FOUND": ("Possible match found in AML screening",
                             "The Anti-Money Laundering (AML) screening process identified potential matches with "
                             "watchlists or high-risk databases, requiring further review."),
    "DISPOSABLE_EMAIL_DETECTED": ("Disposable email detected",
                                  "The system detected that the email is disposable, which is not allowed."),
    "BREACHED_EMAIL_DETECTED": ("Breached email detected",
                                "This email address was found in one or more known data breaches."),
    "VOIP_NUMBER_DETECTED": ("VoIP number detected",
                             "The system detected that the phone number is a VoIP number, which is not allowed."),
    "DOCUMENT_AI_MISSING_REQUIRED_FIELDS": (
        "Required fields could not be extracted",
        "One or more fields configured as required could not be extracted from the uploaded document."),
    "DOCUMENT_AI_SUSPECTED_MANIPULATION": (
        "Suspected document manipulation",
        "The system detected signs of potential manipulation or editing in the uploaded document."),
    # Proposed (no published text).
    "DOCUMENT_AI_UNREADABLE_DOCUMENT": ("Unreadable document", "The uploaded document could not be read."),
    "DOCUMENT_AI_NAME_MISMATCH": ("Name mismatch",
                                  "The name on the document does not match the expected name."),
    "DOCUMENT_AI_UNSUPPORTED_FILE": ("Unsupported file", "The uploaded file type could not be processed."),
    "NO_FACE_DETECTED": ("No face detected", "No face was detected in the provided image."),
    "NO_REFERENCE_IMAGE": ("No reference image",
                           "A face pair could not be compared because no face was found in one of the images."),
    "AGE_NOT_DETECTED": ("Age not detected", "The age could not be estimated from the provided image."),
    "MULTIPLE_FACES_DETECTED": ("Multiple faces detected",
                                "More than one face was detected; the largest face was evaluated."),
    "NAME_NOT_DETECTED": ("Name not detected", "The name could not be read from the document."),
    "DATE_OF_BIRTH_NOT_DETECTED": ("Date of birth not detected",
                                   "The date of birth could not be read from the document."),
    "DOCUMENT_NUMBER_NOT_DETECTED": ("Document number not detected",
                                     "The document number could not be read from the document."),
    "MRZ_VALIDATION_FAILED": ("MRZ validation failed",
                              "The machine-readable zone check digits do not validate."),
    "UNDELIVERABLE_EMAIL_DETECTED": ("Undeliverable email detected", "The email address cannot receive mail."),
    "DISPOSABLE_PHONE_NUMBER_DETECTED": ("Disposable phone number detected",
                                         "The phone number belongs to a disposable number provider."),
}


def warning(feature: str, risk: str, log_type: str, additional_data: Any = None) -> RiskWarning:
    """A warning of a standalone call (`feature` as Didit names it in warnings: LIVENESS, FACEMATCH, ...)."""
    short, long = TEXTS.get(risk) or RISKS.get(risk) or (risk.replace("_", " ").capitalize(),
                                                         risk.replace("_", " ").capitalize() + ".")
    return RiskWarning(risk, log_type, feature, short, long, additional_data)
