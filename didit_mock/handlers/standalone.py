"""The standalone image APIs: passive liveness, face match, age estimation, ID verification, POA, Document AI
(§1.0-§1.7)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..domain.errors import DiditError, ValidationFailed
from ..domain.standalone import address, document_ai, documents, faces, record, search
from ..domain.standalone.document_ai_fields import parse_fields
from ..domain.standalone.images import ImageFacts
from ..web.limits import UploadedFile
from ..web.operations import Call, operation
from ..web.uploads import PDF_PAGE_PX, FileRule, Form, decode_image, inline_jpeg, read_form

if TYPE_CHECKING:
    from ..domain.tenant import Tenant

USER_IMAGE = (FileRule("user_image"),)
FACE_PAIR = (FileRule("user_image"), FileRule("ref_image"))
DOCUMENT_EXTENSIONS = ("tiff", "jpg", "jpeg", "png", "webp", "pdf")
POA_EXTENSIONS = ("tiff", "jpg", "jpeg", "png", "pdf", "webp")
DOCUMENT_IMAGES = (FileRule("front_image", DOCUMENT_EXTENSIONS, 10),
                   FileRule("back_image", DOCUMENT_EXTENSIONS, 10, required=False))


def _request(form: Form) -> faces.Request:
    values = form.values
    return faces.Request(values.get("vendor_data"), values.get("metadata"), bool(values.get("save_api_request", True)))


def _number(values: dict[str, Any], name: str, default: float) -> float:
    value = values.get(name)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _billed(tenant: Tenant, produce: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One standalone call under the tenant's lock: refused without credits, debited once answered."""
    with tenant.lock:
        record.check_credits(tenant)
        answer = produce()
        record.debit(tenant)
        return answer


@operation("post_v3passive-liveness", body=None)
async def passive_liveness(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    form = await read_form(call, USER_IMAGE)
    threshold = _number(form.values, "face_liveness_score_decline_threshold", 30)
    return _billed(tenant, lambda: faces.passive_liveness(tenant, _request(form), form.images["user_image"],
                                                          threshold))


@operation("post_v3face-match", body=None)
async def face_match(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    form = await read_form(call, FACE_PAIR)
    threshold = _number(form.values, "face_match_score_decline_threshold", 30)
    return _billed(tenant, lambda: faces.face_match(tenant, _request(form), form.images["user_image"],
                                                    form.images["ref_image"], threshold))


POA_DOCUMENT = (FileRule("document", POA_EXTENSIONS, 15, invalid={"error": ["Error extracting POA information"]}),)


@operation("post_v3poa", body=None)
async def proof_of_address(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    form = await read_form(call, POA_DOCUMENT)
    return _billed(tenant, lambda: address.proof_of_address(tenant, _request(form), form.images["document"],
                                                            form.values))


@operation("post_v3face-search", body=None)
async def face_search(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    form = await read_form(call, USER_IMAGE)
    search_type = str(form.values.get("search_type") or "most_similar")
    return _billed(tenant, lambda: search.face_search(tenant, _request(form), form.images["user_image"],
                                                      search_type))


@operation("post_v3age-estimation", body=None)
async def age_estimation(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    form = await read_form(call, USER_IMAGE)
    liveness = _number(form.values, "face_liveness_score_decline_threshold", 30)
    age = int(_number(form.values, "age_estimation_decline_threshold", 18))
    return _billed(tenant, lambda: faces.age_estimation(tenant, _request(form), form.images["user_image"],
                                                        liveness, age))


@operation("post_v3id-verification", body=None)
async def id_verification(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    form = await read_form(call, DOCUMENT_IMAGES)
    answer = _billed(tenant, lambda: documents.id_verification(tenant, _request(form), form.images["front_image"],
                                                               form.images.get("back_image"), form.values))
    if not _request(form).save:  # nothing stored: the images come back inline
        result = answer["id_verification"]
        front = form.files["front_image"]
        result["front_image"] = inline_jpeg(front)
        result["portrait_image"] = None if result["document_type"] is None else inline_jpeg(front, crop=True)
        back = form.files.get("back_image")
        result["back_image"] = inline_jpeg(back) if back is not None and result["back_image"] else None
    return answer


DOCUMENT_AI_EXTENSIONS = ("tiff", "jpg", "jpeg", "png", "pdf", "webp", "zip")
DOCUMENT_AI_FILE = (FileRule("document", DOCUMENT_AI_EXTENSIONS, 30, decode=False),)
ENCRYPTED_PDF = {"error": "The PDF is encrypted. Please upload a decrypted PDF or a photo instead."}
BOTH_NAME_KINDS = "Provide either person expected-name fields or expected_company_name, not both."


def _document_ai_upload(upload: UploadedFile) -> document_ai.Upload:
    """The document as Document AI reads it: an image, a PDF page, a ZIP, or an unsupported file."""
    name = upload.filename.lower()
    digest = hashlib.sha256(upload.data).hexdigest()
    image: ImageFacts | None = None
    if name.endswith(".pdf"):
        if upload.data.startswith(b"%PDF-"):
            if b"/Encrypt" in upload.data:
                raise DiditError(ENCRYPTED_PDF, 400)
            image = ImageFacts(*PDF_PAGE_PX, digest)
    elif name.endswith(".zip"):
        if upload.data.startswith(b"PK\x03\x04"):
            image = ImageFacts(*PDF_PAGE_PX, digest)
    else:
        try:
            image = decode_image("document", upload)
        except DiditError:
            image = None
    return document_ai.Upload(image, upload.filename, len(upload.data))


@operation("post_v3document-ai", body=None)
async def document_ai_call(call: Call) -> dict[str, Any]:
    tenant = call.tenant
    form = await read_form(call, DOCUMENT_AI_FILE)
    values = form.values
    fields = parse_fields(values.get("fields"))
    expected = document_ai.Expected(values.get("expected_first_name") or None, values.get("expected_last_name") or None,
                                    values.get("expected_company_name") or None,
                                    values.get("expected_company_country") or None)
    if expected.company_name and (expected.first_name or expected.last_name):
        raise ValidationFailed({"non_field_errors": [BOTH_NAME_KINDS]})
    upload = _document_ai_upload(form.files["document"])
    return _billed(tenant, lambda: document_ai.document_ai(tenant, _request(form), upload, fields, expected, values))
