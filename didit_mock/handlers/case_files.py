"""The files of cases and reports (§2.1, §2.3): note attachments uploaded and downloaded, a case
printed as a PDF, a finalized regulatory report as PDF or XML.

Every file is served by the mock itself at a signed URL (`domain.files`, `didit_mock.downloads`).
Printed cases and reports are rendered when downloaded.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ..domain import files
from ..domain.case_report import render_case, render_report_pdf, render_report_xml
from ..domain.errors import DiditError, NotFound, ValidationFailed
from ..resources.families import CASE_FILES, CASES, REGULATORY_REPORTS
from ..resources.store import Document, ResourceStore
from ..web.http import json_response
from ..web.limits import FILES, UploadedFile
from ..web.operations import Call, operation
from .case_log import console_store, detail

if TYPE_CHECKING:
    from ..domain.tenant import Tenant

ATTACHMENT_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
                    "pdf": "application/pdf", "txt": "text/plain", "csv": "text/csv"}
MAX_ATTACHMENT = 5 * 1024 * 1024
REPORT_FILES = {"pdf": "application/pdf", "xml": "application/xml"}
NOT_FINAL = "Only a finalized report can be downloaded."


# ---------------------------------------------------------------- signed URLs

def signed_url(call: Call, key: str) -> str:
    """The absolute URL of a file of the caller's application (from the request's base URL)."""
    return files.signed_url(str(call.request.base_url), call.tenant, key)


def case_file(tenant: Tenant, key: str) -> files.StoredFile | None:
    """A case's printed PDF, a note attachment or a finalized report's file, by its key, or None."""
    store = tenant.component(ResourceStore)
    parts = key.split("/")
    try:
        if len(parts) == 3 and parts[0] == "cases" and parts[2] == "case.pdf":
            case = store.get(CASES, parts[1])
            reports = [r for r in store.all(REGULATORY_REPORTS) if r.get("case_uuid") == case["uuid"]]
            data = render_case(detail(store, case), reports, tenant.clock.now())
            return files.StoredFile(data, "application/pdf", f"{case.get('case_number') or case['uuid']}.pdf")
        if len(parts) == 3 and parts[0] == "regulatory-reports" and parts[2] in ("report.pdf", "report.xml"):
            report = store.get(REGULATORY_REPORTS, parts[1])
            if parts[2] == "report.xml":
                return files.StoredFile(render_report_xml(report), REPORT_FILES["xml"], f"{report['uuid']}.xml")
            return files.StoredFile(render_report_pdf(report, tenant.clock.now()), REPORT_FILES["pdf"],
                                    f"{report['uuid']}.pdf")
        if len(parts) >= 4 and parts[0] == "cases" and parts[2] == "notes":
            found = _stored(store, parts[1], key)
            if found is not None:
                return files.StoredFile(base64.b64decode(found["content"]), found["content_type"], found["filename"])
    except NotFound:
        return None
    return None


def _stored(store: ResourceStore, case_uuid: str, key: str) -> Document | None:
    return next((f for f in store.all(CASE_FILES, case_uuid) if f.get("s3_key") == key), None)


# ---------------------------------------------------------------- note attachments

@operation("upload_case_note_attachment", body=None)
def upload(call: Call) -> Response:
    store = console_store(call)
    uploads: dict[str, list[UploadedFile]] = call.request.scope.get(FILES) or {}
    with call.tenant.lock:
        case = store.get(CASES, call.path["case_uuid"])
    upload = (uploads.get("file") or [None])[0]
    if upload is None or not upload.filename:
        raise ValidationFailed.field("file", "No file was submitted.")
    extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
    if extension not in ATTACHMENT_TYPES:
        raise ValidationFailed.field("file", "Unsupported file type. Allowed: JPEG, PNG, WebP, PDF, TXT, CSV.")
    if not upload.data:
        raise ValidationFailed.field("file", "The submitted file is empty.")
    if len(upload.data) > MAX_ATTACHMENT:
        raise ValidationFailed.field("file", "File size should not exceed 5 MB")
    name = upload.filename.replace("/", "_").replace("\\", "_")[-200:]
    with call.tenant.lock:
        file_id = call.tenant.rng.uuid4()
        key = f"cases/{case['uuid']}/notes/{file_id}/{name}"
        store.create(CASE_FILES, {}, {
            "s3_key": key, "filename": name, "file_size": len(upload.data),
            "content_type": ATTACHMENT_TYPES[extension], "content": base64.b64encode(upload.data).decode()},
            parent=case["uuid"])
    return json_response({"s3_key": key, "url": signed_url(call, key), "filename": name,
                          "file_size": len(upload.data)}, 201)


@operation("get_case_note_attachment_url")
def attachment_url(call: Call) -> dict[str, Any]:
    store = console_store(call)
    key = call.query.get("s3_key") or ""
    with call.tenant.lock:
        case = store.get(CASES, call.path["case_uuid"])
        found = _stored(store, case["uuid"], key) if key else None
    if found is None:
        raise NotFound()
    return {"s3_key": key, "url": signed_url(call, key), "filename": found["filename"]}


def attachments(call: Call, store: ResourceStore, case: Document, given: list[Any]) -> list[Document]:
    """A note's attachments: each an uploaded file of this case (else 400), with its URL."""
    kept = []
    for item in given:
        key = item.get("s3_key") if isinstance(item, dict) else None
        found = _stored(store, case["uuid"], key) if key else None
        if found is None:
            raise ValidationFailed.field("attachments", f"Unknown attachment for this case: {key}.")
        kept.append({"s3_key": key, "filename": found["filename"], "file_size": found["file_size"],
                     "url": signed_url(call, key)})
    return kept


# ---------------------------------------------------------------- printing and report files

@operation("print_case")
def print_case(call: Call) -> dict[str, Any]:
    store = console_store(call)
    with call.tenant.lock:
        case = store.get(CASES, call.path["case_uuid"])
    return {"url": signed_url(call, f"cases/{case['uuid']}/case.pdf")}


@operation("get_regulatory_report_download_url")
def report_download_url(call: Call) -> Response | dict[str, Any]:
    store = console_store(call)
    kind = call.query.get("file") or "pdf"
    if kind not in REPORT_FILES:
        raise ValidationFailed.field("file", f'"{kind}" is not a valid choice.')
    with call.tenant.lock:
        report = store.get(REGULATORY_REPORTS, call.path["report_uuid"])
        if report.get("status") != "FINALIZED":
            raise DiditError({"detail": NOT_FINAL, "status": report.get("status")}, 409)
    return {"download_url": signed_url(call, f"regulatory-reports/{report['uuid']}/report.{kind}"), "file": kind}
