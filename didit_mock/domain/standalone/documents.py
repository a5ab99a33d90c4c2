"""ID verification without a session: the person's document, read by the session's own builder."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from .. import statuses as st
from .. import workflows as wf
from ..errors import DiditError
from ..outcomes import FeatureOutcome
from ..people import person_for, session_day
from . import compat, record
from .armed import armed
from .faces import Request, Steer
from .images import ImageFacts
from .texts import warning

if TYPE_CHECKING:
    from ..tenant import Tenant

FEATURE = "ID_VERIFICATION"
#: The document fields a tiny image cannot show.
_UNREAD = ("document_type", "document_subtype", "document_number", "personal_number", "date_of_birth", "age",
           "expiration_date", "date_of_issue", "issuing_state", "issuing_state_name", "first_name", "last_name",
           "full_name", "gender", "address", "formatted_address", "place_of_birth", "nationality",
           "extra_fields", "parsed_address", "portrait_image")
#: The keys of the standalone `id_verification` object, in Didit's order.
KEYS = ("status", "document_type", "document_subtype", "document_number", "personal_number", "portrait_image",
        "front_image", "back_image", "front_image_camera_front", "back_image_camera_front",
        "front_image_camera_front_face_match_score", "back_image_camera_front_face_match_score",
        "front_image_quality_score", "back_image_quality_score", "date_of_birth", "age", "expiration_date",
        "date_of_issue", "issuing_state", "issuing_state_name", "first_name", "last_name", "full_name", "gender",
        "address", "formatted_address", "place_of_birth", "marital_status", "nationality", "extra_fields", "mrz",
        "parsed_address", "warnings", "barcodes")


def id_verification(tenant: Tenant, request: Request, front: ImageFacts, back: ImageFacts | None,
                    options: dict[str, Any]) -> dict[str, Any]:
    steer = Steer.of(armed(tenant).take("id-verification", request.vendor_data), front)
    if steer.status == st.DECLINED and not steer.risks and not steer.scenario:
        steer.scenario = "decline_document_expired"
    if steer.wants("decline_could_not_recognize_document", "COULD_NOT_RECOGNIZE_DOCUMENT"):
        raise DiditError({"error": "COULD_NOT_RECOGNIZE_DOCUMENT"}, 400)
    unreadable = not front.usable or steer.wants("no_document")
    if unreadable and compat.enabled(tenant, compat.TINY_ID_IMAGE_400):
        raise DiditError({"error": "COULD_NOT_RECOGNIZE_DOCUMENT"}, 400)
    key = front.identity(request.vendor_data)
    session = record.new_call(tenant, "ID_VERIFICATION", wf.ID_VERIFICATION, key, request.vendor_data,
                              request.metadata, saved=request.save)
    outcome = FeatureOutcome(wf.ID_VERIFICATION)
    warnings = []
    if unreadable:  # nothing read: the answer shows nulls (the decision's schema keeps the person's strings)
        warnings += [warning(FEATURE, risk, "error") for risk in
                     ("NAME_NOT_DETECTED", "DATE_OF_BIRTH_NOT_DETECTED", "DOCUMENT_NUMBER_NOT_DETECTED")]
    else:
        if steer.wants("decline_document_expired", "DOCUMENT_EXPIRED"):
            outcome.data = {"expired_document": True}
        session.outcomes = {wf.ID_VERIFICATION: outcome}  # the person follows the outcome's data
        person = person_for(tenant, session)
        if person.expiration_date < session_day(session):
            warnings.append(warning(FEATURE, "DOCUMENT_EXPIRED", "error"))
        if steer.wants("decline_mrz_validation", "MRZ_VALIDATION_FAILED"):
            decline = options.get("invalid_mrz_action", "DECLINE") == "DECLINE"
            warnings.append(warning(FEATURE, "MRZ_VALIDATION_FAILED", "error" if decline else "information"))
    outcome.warnings = warnings
    known = {w.risk for w in warnings} | {"COULD_NOT_RECOGNIZE_DOCUMENT"}
    for risk in sorted(steer.risks - known):
        outcome.warnings = [*outcome.warnings, warning(FEATURE, risk, "error")]
    outcomes = {wf.ID_VERIFICATION: outcome}
    record.run_policies(tenant, session, outcomes)
    outcome.warnings = [warning(FEATURE, w.risk, w.log_type, w.additional_data) for w in outcome.warnings]
    status = record.final_status(outcome)
    if steer.status is not None:
        status = st.APPROVED if steer.status == st.APPROVED else st.DECLINED
    outcome.status = status
    record.finish(tenant, session, outcomes, status, saved=request.save)
    item = record.item(tenant, session, wf.ID_VERIFICATION)
    result = {name: item.get(name) for name in KEYS}
    result.update({
        "status": status,
        "front_image_camera_front": None, "back_image_camera_front": None,
        "front_image_camera_front_face_match_score": None, "back_image_camera_front_face_match_score": None,
        "mrz": item.get("mrz") or {},
        "barcodes": [],
    })
    if back is None or unreadable:
        result["back_image"] = None
        result["back_image_quality_score"] = None
    if unreadable:
        result.update({name: None for name in _UNREAD})
        result.update({"front_image_quality_score": None, "mrz": {}, "marital_status": "UNKNOWN"})
    for name in ("date_of_birth", "expiration_date", "date_of_issue"):
        value = result.get(name)
        if isinstance(value, date):
            result[name] = value.isoformat()
    return record.envelope(tenant, session, "id_verification", result)
