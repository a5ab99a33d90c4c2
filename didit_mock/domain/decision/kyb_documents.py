"""`document_verifications`: the company documents a KYB workflow's user uploaded in its documents step.

Synthetic and deterministic (tenant seed, session id): a certificate of incorporation (legal presence)
and a proof of the company's address (company details), each read back (`ocr_data`) and cross-checked
against the session's registry company. The block's status is the `KYB_DOCUMENTS` step's outcome when
it has one, else the session's; the certificate carries a decline or review, the other stays approved.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .. import statuses as st
from .. import workflows as wf
from ..clock import iso
from ..outcomes import FeatureOutcome
from ..rng import TenantRandom, derive_seed
from .context import WITH_RESUB, Context, status_within
from .layout import node_id_for

#: (group, subtype, file stem) of each document the user uploads, in upload order.
DOCUMENTS = (
    ("LEGAL_PRESENCE", "CERTIFICATE_OF_INCORPORATION", "certificate_of_incorporation"),
    ("COMPANY_DETAILS", "PROOF_OF_ADDRESS", "company_proof_of_address"),
)
#: (what the documents say, what the registry says) about the company.
CompanyPair = tuple[dict[str, Any], dict[str, Any]]
_COUNTERS = {st.APPROVED: "approved", st.DECLINED: "declined", st.IN_REVIEW: "in_review", st.NOT_FINISHED: "pending"}


def _compare(document: Any, registry: Any) -> dict[str, Any]:
    match = str(document or "").strip().upper() == str(registry or "").strip().upper()
    return {"document": document, "registry": registry, "match": match, "score": 1.0 if match else 0.0}


def _metadata(size: int, created: str) -> dict[str, Any]:
    return {
        "file_size": size, "content_type": "application/pdf", "creation_date": created, "modified_date": created,
        "creator": None, "producer": None, "software": None, "encryption": None, "is_signed": True,
        "is_tampered": False, "signature_info": None, "exif_original_date": None, "exif_digitized_date": None,
        "processed_by_known_editor": False, "has_different_creation_mod_date": False, "overlay_manipulation": None,
    }


def _ocr(subtype: str, company: dict[str, Any]) -> dict[str, Any]:
    read = {"company_name": company.get("company_name"), "registration_number": company.get("registration_number")}
    if subtype == "CERTIFICATE_OF_INCORPORATION":
        read["incorporation_date"] = company.get("incorporation_date")
    else:
        read["registered_address"] = company.get("registered_address")
    return read


def _document(ctx: Context, ids: TenantRandom, kind: tuple[str, str, str], status: str,
              uploaded: CompanyPair) -> dict[str, Any]:
    group, subtype, stem = kind
    document_company, registry_company = uploaded
    size = ids.randint(80_000, 900_000)
    created = iso(ctx.finished - timedelta(minutes=ids.randint(2, 30)))
    ocr = _ocr(subtype, document_company)
    critical = {name: _compare(value, registry_company.get(name)) for name, value in ocr.items()}
    return {
        "uuid": ids.uuid4(), "document_type": group, "document_subtype": subtype, "document_group": group,
        "file_url": ctx.media(f"kyb_{stem}", "pdf"), "original_filename": f"{stem}.pdf", "file_size": size,
        "status": status, "created_at": created,
        "cross_check_result": {"critical": critical, "non_critical": {}, "people": {}},
        "document_metadata": _metadata(size, created[:19]), "description": None, "is_requested": False,
        "ocr_data": ocr, "is_console_upload": False, "is_confirmed": True,
    }


def _groups(items: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    groups: dict[str, dict[str, int]] = {}
    for item in items:
        counts = groups.setdefault(item["document_group"], {
            "total": 0, "approved": 0, "pending": 0, "declined": 0, "in_review": 0, "other": 0, "missing": 0})
        counts["total"] += 1
        counts[_COUNTERS.get(item["status"], "other")] += 1
    return groups


def document_verifications_item(ctx: Context, registry: dict[str, Any],
                                outcome: FeatureOutcome | None) -> dict[str, Any]:
    """The one item of `document_verifications` for a session with stored registry data (`KYB_REGISTRY`)."""
    status = outcome.status if outcome is not None else ctx.session.status
    ids = TenantRandom(derive_seed(ctx.tenant.seed, "kyb-workflow-documents", ctx.session.session_id))
    registry_company = (registry.get("check") or {}).get("company") or {}
    # the documents name the company as the registry first reported it (before any console edit)
    original = registry.get("company") or {}
    document_company = {**registry_company, "company_name": original.get("name", registry_company.get("company_name")),
                        "registration_number": original.get("registration_number",
                                                            registry_company.get("registration_number"))}
    node = node_id_for(wf.KYB_DOCUMENTS)
    items = []
    for index, kind in enumerate(DOCUMENTS):
        shown = status_within(status, WITH_RESUB) if index == 0 else st.APPROVED
        items.append(_document(ctx, ids, kind, shown, (document_company, registry_company)))
    return {
        "status": status, "node_id": node, "items": items, "groups": _groups(items),
        "required_groups": [group for group, _, _ in DOCUMENTS],
        "warnings": [w.to_dict(node) for w in outcome.warnings] if outcome is not None else [],
    }
