"""Multipart requests of the standalone APIs: file fields, images, form values, as DRF checks them.

A standalone endpoint declares its file fields (`FileRule`: allowed extensions, size limit,
required or not); `read_form` returns the checked form or raises Didit's 400:

* a missing file: `{"<field>": ["No file was submitted."]}`; a bad extension: Django's message with
  typographic quotes; too big: `{"<field>": ["File size should not exceed 5 MB"]}`;
* the other fields are checked against the operation's schema (DRF's booleans, numbers, enums and
  ranges), `metadata` arrives as a JSON-encoded string, `vendor_data` holds at most 2000 bytes;
* every image is decoded with Pillow: a file that is not the image its name claims is
  `{"error": "Invalid <field> format."}` (the field named in words, as Didit says "user image").
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

from ..domain.errors import DiditError, ValidationFailed
from ..domain.standalone.images import ImageFacts
from ..spec.operation import Operation
from ..spec.schemas import json_schema
from .http import read_json
from .limits import FILES, UploadedFile
from .operations import Call
from .validation import Validator, compile_schema

IMAGE_EXTENSIONS = ("tiff", "jpg", "jpeg", "png", "webp")
VENDOR_DATA_MAX_BYTES = 2000
#: The key of the text chunk (PNG) or comment (JPEG) that carries a fixture's person and outcome.
MARKER_KEY = "didit-mock"


@dataclass(frozen=True)
class FileRule:
    """One file field of an endpoint."""

    field: str
    extensions: tuple[str, ...] = IMAGE_EXTENSIONS
    max_mb: int = 5
    required: bool = True
    #: The 400 body of a file that is not the image it claims (default: `{"error": "Invalid <field> format."}`).
    invalid: dict[str, Any] | None = None
    #: False: the handler reads the file itself (a document that may be a ZIP or a PDF), not as an image.
    decode: bool = True


@dataclass(frozen=True)
class Form:
    """A checked multipart request: its values (defaults applied by the caller) and its images."""

    values: dict[str, Any]
    images: dict[str, ImageFacts]
    files: dict[str, UploadedFile]


async def read_form(call: Call, rules: tuple[FileRule, ...]) -> Form:
    """The checked form of `call`, or Didit's 400 (field errors first, then undecodable images)."""
    document = await _document(call)
    uploads: dict[str, list[UploadedFile]] = call.request.scope.get(FILES) or {}
    errors: dict[str, Any] = {}
    files: dict[str, UploadedFile] = {}
    for rule in rules:
        problem, upload = _check_file(rule, uploads.get(rule.field) or [])
        if problem is not None:
            errors[rule.field] = [problem]
        elif upload is not None:
            files[rule.field] = upload
    file_fields = {rule.field for rule in rules}
    values, field_errors = _values(call, {k: v for k, v in document.items() if k not in file_fields}, file_fields)
    errors.update(field_errors)
    if errors:
        raise ValidationFailed(errors)
    invalid = {rule.field: rule.invalid for rule in rules}
    decoded = {rule.field for rule in rules if rule.decode}
    images = {name: decode_image(name, upload, invalid.get(name)) for name, upload in files.items()
              if name in decoded}
    return Form(values, images, files)


async def _document(call: Call) -> dict[str, Any]:
    """The text fields of the form (the gateway turned them into JSON); a JSON body is read as is."""
    document = await read_json(call.request)
    if not isinstance(document, dict):
        raise ValidationFailed({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
    return dict(document)


def _check_file(rule: FileRule, uploads: list[UploadedFile]) -> tuple[str | None, UploadedFile | None]:
    if not uploads or not uploads[0].filename:
        return ("No file was submitted." if rule.required else None), None
    upload = uploads[0]
    extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
    if extension not in rule.extensions:
        return (f"File extension \u201c{extension}\u201d is not allowed. Allowed extensions are: "
                f"{', '.join(rule.extensions)}."), None
    if not upload.data:
        return "The submitted file is empty.", None
    if len(upload.data) > rule.max_mb * 1024 * 1024:
        return f"File size should not exceed {rule.max_mb} MB", None
    return None, upload


def _values(call: Call, document: dict[str, Any], file_fields: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The non-file fields read as DRF reads them, and their errors."""
    errors: dict[str, Any] = {}
    metadata = document.get("metadata")
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata) if metadata.strip() else None
        except ValueError:
            metadata = "invalid"
        if metadata is not None and not isinstance(metadata, dict):
            errors["metadata"] = ["Metadata must be a JSON object."]
            document.pop("metadata")
        else:
            document["metadata"] = metadata
    vendor_data = document.get("vendor_data")
    if isinstance(vendor_data, str) and len(vendor_data.encode("utf-8")) > VENDOR_DATA_MAX_BYTES:
        errors["vendor_data"] = [f"vendor_data is too long (maximum {VENDOR_DATA_MAX_BYTES} bytes)."]
    if document.get("metadata") is None:
        document.pop("metadata", None)
    validator = _fields_validator(call.operation, frozenset(file_fields))
    values: dict[str, Any] = document
    try:
        values = validator(document)
    except ValidationFailed as failed:
        found = failed.body if isinstance(failed.body, dict) else {}
        for name, problem in found.items():
            errors.setdefault(name, problem)
    return values, errors


def _fields_validator(operation: Operation, file_fields: frozenset[str]) -> Validator:
    """The operation's multipart schema without its file fields, compiled once (DRF's reading of values)."""
    cache: dict[frozenset[str], Validator] = operation.extras.setdefault("form_validators", {})
    found = cache.get(file_fields)
    if found is None:
        raw = operation.request_schemas.get("multipart/form-data") or next(iter(operation.request_schemas.values()))
        schema = copy.deepcopy(json_schema(raw, for_request=True))
        for name in file_fields:
            (schema.get("properties") or {}).pop(name, None)
        required = [n for n in schema.get("required") or [] if n not in file_fields]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        found = cache[file_fields] = compile_schema(schema)
    return found


# ---------------------------------------------------------------- images

def decode_image(field: str, upload: UploadedFile, invalid: dict[str, Any] | None = None) -> ImageFacts:
    """What an uploaded image shows (size, digest, fixture marker); 400 when it is no image."""
    from PIL import Image, UnidentifiedImageError

    words = field.replace("_", " ")
    if upload.filename.lower().endswith(".pdf"):
        return _pdf(field, words, upload)
    try:
        with Image.open(io.BytesIO(upload.data)) as image:
            image.load()
            width, height = image.size
            marker = _marker(image)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise DiditError(invalid or {"error": f"Invalid {words} format."}, 400) from None
    return ImageFacts(width, height, hashlib.sha256(upload.data).hexdigest(), marker)


#: The size a PDF page is taken to have (A4 at 120 dpi): a document, never a tiny image.
PDF_PAGE_PX = (992, 1403)


def _pdf(field: str, words: str, upload: UploadedFile) -> ImageFacts:
    """A PDF is not decoded: its signature is checked and an encrypted one is refused as Didit does."""
    if not upload.data.startswith(b"%PDF-"):
        raise DiditError({"error": f"Failed to convert {words.removesuffix(' image')} image PDF."}, 400)
    if b"/Encrypt" in upload.data:
        raise DiditError({"detail": "The PDF is encrypted. Please upload a decrypted PDF or a photo instead."}, 400)
    return ImageFacts(*PDF_PAGE_PX, hashlib.sha256(upload.data).hexdigest(), None)


def inline_jpeg(upload: UploadedFile, crop: bool = False) -> str:
    """The upload as a base64 JPEG string (what Didit returns for images it does not store);
    `crop`: the central part, as a portrait cut from a document."""
    import base64

    from PIL import Image

    if upload.filename.lower().endswith(".pdf"):
        return base64.b64encode(upload.data).decode("ascii")  # no rendering of PDF pages
    with Image.open(io.BytesIO(upload.data)) as image:
        picture = image.convert("RGB")
    if crop:
        width, height = picture.size
        picture = picture.crop((width // 4, height // 4, max(width // 4 + 1, width * 3 // 4),
                                max(height // 4 + 1, height * 3 // 4)))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=80)
    return base64.b64encode(out.getvalue()).decode("ascii")


def _marker(image: Any) -> dict[str, Any] | None:
    raw = (getattr(image, "text", None) or {}).get(MARKER_KEY) if hasattr(image, "text") else None
    if raw is None:
        comment = image.info.get("comment")
        if isinstance(comment, bytes) and comment.startswith(MARKER_KEY.encode() + b":"):
            raw = comment[len(MARKER_KEY) + 1:].decode("utf-8", "replace")
    if not raw:
        return None
    try:
        found = json.loads(raw)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None
