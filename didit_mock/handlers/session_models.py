"""Request bodies of the session routes: what their schemas cannot say (create, update-status,
delete, batch delete), as `BodyRules` for the spec's check."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any

from ..domain.errors import ValidationFailed
from ..domain.languages import LANGUAGES
from ..web.validation import BodyRules
from . import field_rules
from .field_rules import canonical_uuid

__all__ = ["CREATE_RULES", "LANGUAGES", "canonical_uuid", "portrait_digest"]

DOCUMENT_TYPES = ("P", "ID", "DL", "RP", "HIC", "TC", "SSC")
MAX_VENDOR_DATA_BYTES = 2000
MAX_PORTRAIT_BYTES = 2 * 1024 * 1024
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*")

# ---------------------------------------------------------------- create: what its schema cannot say

def vendor_data_bytes(value: str) -> str:
    """Didit's limit is in UTF-8 bytes, not characters."""
    # A character is at most 4 bytes in UTF-8: only a long value can pass the limit (no encoding).
    if len(value) * 4 > MAX_VENDOR_DATA_BYTES and len(value.encode("utf-8")) > MAX_VENDOR_DATA_BYTES:
        raise ValueError(f"Ensure this field has no more than {MAX_VENDOR_DATA_BYTES} bytes (UTF-8).")
    return value


def callback_url(value: str) -> str:
    """Django's URL check as Didit runs it: any scheme (`myapp://`), no spaces."""
    if not _URL.match(value):
        raise ValueError("Enter a valid URL.")
    return value


def document_types(value: list[str]) -> list[str]:
    """The codes upper-cased and without repeats (Didit reads them case-insensitively)."""
    result: list[str] = []
    for item in value:
        code = str(item).upper()
        if code not in DOCUMENT_TYPES:
            raise ValueError(f'"{item}" is not a valid choice.')
        if code not in result:
            result.append(code)
    return result


def address_needs_country(details: dict[str, Any]) -> dict[str, Any]:
    if details.get("address") and not (details.get("country") or details.get("id_country")
                                       or details.get("poa_country")):
        raise ValueError("country is required when address is provided without id_country or poa_country.")
    return details


def portrait_digest(encoded: str) -> str:
    """Validate a base64 JPEG/PNG/WebP/TIFF of at most 2 MB; returns its SHA-256 (the face key)."""
    payload = encoded.split(",", 1)[1] if encoded.startswith("data:") and "," in encoded else encoded
    if len(payload) > (MAX_PORTRAIT_BYTES * 4) // 3 + 8:
        raise ValueError("Image size exceeds 2MB.")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("Invalid base64 image.") from None
    if len(raw) > MAX_PORTRAIT_BYTES:
        raise ValueError("Image size exceeds 2MB.")
    is_webp = raw[:4] == b"RIFF" and raw[8:12] == b"WEBP"
    if not (is_webp or raw.startswith(_IMAGE_MAGIC)):
        raise ValueError("Unsupported image format. Use JPEG, PNG, WebP or TIFF.")
    return hashlib.sha256(raw).hexdigest()


#: The create's rules beyond its schema (`portrait_image` becomes the image's digest).
CREATE_RULES = BodyRules({
    "vendor_data": vendor_data_bytes,
    "callback": callback_url,
    "contact_details.email": field_rules.email_address,
    **{f"expected_details.{name}": field_rules.alpha3 for name in ("nationality", "country", "id_country",
                                                                  "poa_country")},
    "expected_details.ip_address": field_rules.ip_address,
    "expected_details.expected_document_types": document_types,
    "expected_details": address_needs_country,
    "portrait_image": portrait_digest,
})


# ---------------------------------------------------------------- update-status

STATUS_CHOICES = (
    "Not Started", "In Progress", "Approved", "Declined", "In Review", "Expired", "Abandoned", "Kyc Expired",
    "Resubmitted", "Awaiting User",
)
RESUBMIT_FEATURE_CHOICES = (
    "OCR", "OCR_BACK", "NFC", "AML", "FACE", "LIVENESS", "FACE_MATCH", "IP_ANALYSIS", "AGE_ESTIMATION",
    "PROOF_OF_ADDRESS", "PHONE_VERIFICATION", "EMAIL_VERIFICATION", "FACE_SEARCH", "DATABASE_VALIDATION",
    "QUESTIONNAIRE", "KYB_REGISTRY", "KYB_DOCUMENTS", "KYB_KEY_PEOPLE", "ID_VERIFICATION", "POA", "PHONE",
    "EMAIL", "KYB",
)
ALIASES = {"ID_VERIFICATION": "OCR", "POA": "PROOF_OF_ADDRESS", "PHONE": "PHONE_VERIFICATION",
           "EMAIL": "EMAIL_VERIFICATION"}
SETTABLE_STATUSES = ("Approved", "Declined", "Resubmitted")


def resubmit_feature(value: str) -> str:
    """A feature to resubmit, its alias resolved (`POA` is `PROOF_OF_ADDRESS`)."""
    if value not in RESUBMIT_FEATURE_CHOICES:
        raise ValueError(f'"{value}" is not a valid choice. Valid choices are: {", ".join(RESUBMIT_FEATURE_CHOICES)}')
    return ALIASES.get(value, value)


def settable_status(value: str) -> str:
    """A status the API may set (Didit's field knows every status, and refuses the others its own way)."""
    if value not in STATUS_CHOICES:
        raise ValueError(f'"{value}" is not a valid choice.')
    if value not in SETTABLE_STATUSES:
        raise ValueError("You can only update the status to 'Approved', 'Declined', or 'Resubmitted'.")
    return value


def email_needs_address(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("send_email") and not body.get("email_address"):
        raise ValidationFailed.field("email_address", "Email address is required when send_email is true.")
    return body


#: The update-status body's rules beyond its schema.
UPDATE_STATUS_RULES = BodyRules({
    "new_status": settable_status,
    "nodes_to_resubmit.[].feature": resubmit_feature,
    "email_address": field_rules.email_address,
    "": email_needs_address,
})


# ---------------------------------------------------------------- delete: retention and batch

def retention_is_finite(body: dict[str, Any]) -> dict[str, Any]:
    """Retained face templates need a finite retention, and never survive a privacy erasure."""
    if body.get("retain_face_embeddings"):
        if body.get("deletion_instruction") == "privacy_erasure":
            raise ValidationFailed.field("retain_face_embeddings", "Privacy erasure cannot retain biometric templates.")
        if body.get("face_retention_days") is None and body.get("face_retention_deadline") is None:
            raise ValidationFailed.detail("A finite biometric-template retention duration is required.")
    return body


def batch_targets(body: dict[str, Any]) -> dict[str, Any]:
    """The retention rules, then `session_numbers` (as numbers) unless `delete_all` (then it is ignored)."""
    retention_is_finite(body)
    if body.get("delete_all"):
        return body
    numbers = body.get("session_numbers")
    if numbers is None:
        raise ValidationFailed.field("session_numbers", "This field is required unless delete_all is true.")
    if not numbers:
        raise ValidationFailed.field("session_numbers", "This list may not be empty.")
    read: list[int] = []
    for raw in numbers:
        text = str(raw).strip() if isinstance(raw, (str, int, float)) and not isinstance(raw, bool) else ""
        if not text.isdigit():
            raise ValidationFailed.field("session_numbers", "All session_numbers must be numeric.")
        read.append(int(text))
    return {**body, "session_numbers": read}


DELETE_RULES = BodyRules({"": retention_is_finite})
BATCH_DELETE_RULES = BodyRules({"": batch_targets})
