"""Request bodies of the session routes, with the real API's limits and DRF's messages."""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from ..web.paths import is_canonical_uuid

LANGUAGES = (
    "en", "ar", "bg", "bn", "bs", "ca", "cnr", "cs", "da", "de", "el", "es", "et", "fa", "fi", "fr", "he",
    "hi", "hr", "hu", "hy", "id", "it", "ja", "ka", "kk", "ko", "ky", "lt", "lv", "mk", "mn", "ms", "nl", "no",
    "pl", "pt-BR", "pt", "ro", "ru", "sk", "sl", "so", "sq", "sr", "sv", "th", "tr", "uk", "uz", "vi", "zh-CN",
    "zh-TW", "zh",
)
Language = Literal[
    "en", "ar", "bg", "bn", "bs", "ca", "cnr", "cs", "da", "de", "el", "es", "et", "fa", "fi", "fr", "he",
    "hi", "hr", "hu", "hy", "id", "it", "ja", "ka", "kk", "ko", "ky", "lt", "lv", "mk", "mn", "ms", "nl", "no",
    "pl", "pt-BR", "pt", "ro", "ru", "sk", "sl", "so", "sq", "sr", "sv", "th", "tr", "uk", "uz", "vi", "zh-CN",
    "zh-TW", "zh",
]
DOCUMENT_TYPES = ("P", "ID", "DL", "RP", "HIC", "TC", "SSC")
MAX_VENDOR_DATA_BYTES = 2000
MAX_PORTRAIT_BYTES = 2 * 1024 * 1024
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_ALPHA3 = re.compile(r"^[A-Z]{3}$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*")

DRF = ConfigDict(defer_build=True, extra="ignore", coerce_numbers_to_str=True, str_strip_whitespace=False)


def canonical_uuid(value: str) -> str:
    """A UUID in canonical form, or a DRF-worded error."""
    if isinstance(value, str) and len(value) == 36 and is_canonical_uuid(value):
        return value  # already canonical, as clients send them
    if not isinstance(value, str) or not _UUID.match(value.strip()):
        raise ValueError("Must be a valid UUID.")
    hex_digits = value.strip().replace("-", "").lower()
    return f"{hex_digits[:8]}-{hex_digits[8:12]}-{hex_digits[12:16]}-{hex_digits[16:20]}-{hex_digits[20:]}"


def valid_email(value: str) -> str:
    """The normalised address, or DRF's message (email_validator is imported on first use)."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError("Enter a valid email address.") from None


class ContactDetails(BaseModel):
    model_config = DRF
    email: str | None = None
    send_notification_emails: bool = False
    email_lang: Language | None = None
    phone: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else valid_email(value)


class ExpectedDetails(BaseModel):
    model_config = DRF
    first_name: str | None = Field(None, max_length=255)
    last_name: str | None = Field(None, max_length=255)
    date_of_birth: date | None = None
    gender: Literal["M", "F"] | None = None
    nationality: str | None = None
    country: str | None = None
    id_country: str | None = None
    poa_country: str | None = None
    address: str | None = Field(None, max_length=1000)
    identification_number: str | None = Field(None, max_length=255)
    ip_address: str | None = None
    expected_document_types: list[str] | None = None
    company_name: str | None = Field(None, max_length=255)
    registry_country: str | None = Field(None, max_length=10)
    registration_number: str | None = Field(None, max_length=100)

    @field_validator("nationality", "country", "id_country", "poa_country")
    @classmethod
    def _alpha3(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _ALPHA3.match(value.upper()):
            raise ValueError("Enter a valid ISO 3166-1 alpha-3 country code.")
        return value.upper()

    @field_validator("ip_address")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError("Enter a valid IPv4 or IPv6 address.") from None

    @field_validator("expected_document_types")
    @classmethod
    def _document_types(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        result: list[str] = []
        for item in value:
            code = str(item).upper()
            if code not in DOCUMENT_TYPES:
                raise ValueError(f'"{item}" is not a valid choice.')
            if code not in result:
                result.append(code)
        return result

    @model_validator(mode="after")
    def _address_needs_country(self) -> ExpectedDetails:
        if self.address and not (self.country or self.id_country or self.poa_country):
            raise ValueError("country is required when address is provided without id_country or poa_country.")
        return self

    def provided(self) -> dict[str, Any]:
        """Only the keys the client sent, JSON-ready (the decision echoes just those)."""
        data = self.model_dump(exclude_unset=True, mode="json")
        return {k: v for k, v in data.items()}


def _vendor_data_bytes(value: str) -> str:
    # A character is at most 4 bytes in UTF-8: only a long value can pass the limit (no encoding).
    if len(value) * 4 > MAX_VENDOR_DATA_BYTES and len(value.encode("utf-8")) > MAX_VENDOR_DATA_BYTES:
        raise ValueError(f"Ensure this field has no more than {MAX_VENDOR_DATA_BYTES} bytes (UTF-8).")
    return value


class CreateSessionBody(BaseModel):
    model_config = DRF
    # Validators as `Annotated` functions: one Python call each, and none for a null vendor_data.
    workflow_id: Annotated[str, AfterValidator(canonical_uuid)]
    vendor_data: Annotated[str, AfterValidator(_vendor_data_bytes)] | None = None
    callback: str | None = None
    callback_method: Literal["initiator", "completer", "both"] = "initiator"
    metadata: Any = None
    language: Language | None = None
    contact_details: ContactDetails | None = None
    expected_details: ExpectedDetails | None = None
    portrait_image: str | None = None
    sandbox_scenario: str | None = None

    @field_validator("callback")
    @classmethod
    def _callback(cls, value: str | None) -> str | None:
        if value is not None and not _URL.match(value):
            raise ValueError("Enter a valid URL.")
        return value

    @field_validator("portrait_image")
    @classmethod
    def _portrait(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return portrait_digest(value)


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


class ResubmitNode(BaseModel):
    model_config = DRF
    node_id: str = Field(max_length=255)
    feature: str

    @field_validator("feature")
    @classmethod
    def _feature(cls, value: str) -> str:
        if value not in RESUBMIT_FEATURE_CHOICES:
            raise ValueError(
                f'"{value}" is not a valid choice. Valid choices are: {", ".join(RESUBMIT_FEATURE_CHOICES)}'
            )
        return ALIASES.get(value, value)


class UpdateStatusBody(BaseModel):
    model_config = DRF
    new_status: str
    comment: str | None = None
    nodes_to_resubmit: list[ResubmitNode] | None = None
    send_email: bool = False
    email_address: str | None = None
    email_language: str = "en"

    @field_validator("new_status")
    @classmethod
    def _status(cls, value: str) -> str:
        if value not in STATUS_CHOICES:
            raise ValueError(f'"{value}" is not a valid choice.')
        if value not in ("Approved", "Declined", "Resubmitted"):
            raise ValueError("You can only update the status to 'Approved', 'Declined', or 'Resubmitted'.")
        return value

    @field_validator("email_address")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else valid_email(value)


class DeleteBody(BaseModel):
    model_config = DRF
    retain_face_embeddings: bool | None = None
    face_retention_days: int | None = Field(None, ge=1, le=3650)
    face_retention_deadline: str | None = None
    deletion_instruction: Literal["operational_session_delete", "privacy_erasure"] = "operational_session_delete"
    instruction_id: str | None = Field(None, max_length=255)


class BatchDeleteBody(DeleteBody):
    session_numbers: list[Any] | None = None
    delete_all: bool = False
