"""Face search (1:N, §1.4): the tenant's faces of the same person, from sessions and saved calls.

The index is the tenant's sessions with a face (a liveness or age-estimation result, saved
standalone calls included) and the faces uploaded to users (`imported` matches, after the
sessions); face-search calls are not enrolled in it. Two faces match when they
belong to the same person (the same vendor_data, fixture person or image bytes).
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .. import blocklist as blocklist_domain
from .. import sessions as sessions_domain
from .. import statuses as st
from .. import user_faces
from .. import workflows as wf
from ..errors import DiditError
from ..outcomes import FeatureOutcome
from ..people import person_for, person_key
from ..rng import derive_seed
from . import record
from .armed import armed
from .faces import Request, Steer, face_entity
from .images import ImageFacts
from .texts import warning

if TYPE_CHECKING:
    from ..sessions import Session
    from ..tenant import Tenant

MAX_MATCHES = 5
SEARCH_SERVICE = "FACE_SEARCH"


def _has_face(session: Session) -> bool:
    outcomes = session.outcomes or {}
    return wf.LIVENESS in outcomes or wf.AGE_ESTIMATION in outcomes


def _service(session: Session) -> str | None:
    extra = session.workflow.extra
    return str(extra["api_service"]) if extra and "api_service" in extra else None


def face_search(tenant: Tenant, request: Request, image: ImageFacts, search_type: str) -> dict[str, Any]:
    steer = Steer.of(armed(tenant).take("face-search", request.vendor_data), image)
    if not image.usable or steer.wants("no_face", "NO_FACE_DETECTED"):
        raise DiditError({"error": "No face detected in the image"}, 400)
    key = image.identity(request.vendor_data)
    session = record.new_call(tenant, SEARCH_SERVICE, wf.LIVENESS, key, request.vendor_data, request.metadata,
                              saved=request.save)
    rnd = random.Random(derive_seed(tenant.seed, "face-search", key, image.digest))
    face_id = person_for(tenant, session).face_id
    blocked = {e.session_id for e in blocklist_domain.find_all(tenant, blocklist_domain.FACE, face_id)}
    candidates = [s for s in sessions_domain.book(tenant).newest_first()
                  if _has_face(s) and _service(s) != SEARCH_SERVICE and person_key(s) == key]
    if search_type == "blocklisted_or_approved":
        candidates = [s for s in candidates if s.session_id in blocked or s.status == st.APPROVED]
        candidates.sort(key=lambda s: s.session_id not in blocked)  # blocklisted first, stable
    matches = []
    for found in candidates[:MAX_MATCHES]:
        person = person_for(tenant, found)
        verified = datetime.fromtimestamp(found.finished_at or found.created_at, tz=timezone.utc)
        matches.append({
            "session_id": found.session_id, "session_number": found.session_number,
            "similarity_percentage": round(rnd.uniform(95.0, 99.99), 2), "source": "session",
            "vendor_data": found.vendor_data, "vendor_user_id": None, "biometric_template_id": None,
            "verification_date": verified.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "user_details": {"full_name": person.full_name, "document_type": person.document_type,
                             "document_number": person.document_number},
            "match_image_url": f"{tenant.config.public_base_url.rstrip('/')}/_mock/media/{found.session_id}/"
                               "liveness_reference.jpg",
            "status": found.status, "is_blocklisted": bool(blocked),
            "is_allowlisted": False, "api_service": _service(found),
        })
    for face, user in user_faces.matches(tenant, key, image.digest)[:MAX_MATCHES - len(matches)]:
        matches.append(user_faces.search_match(tenant, face, user, round(rnd.uniform(95.0, 99.99), 2)))
    outcome = FeatureOutcome(wf.LIVENESS)
    warnings = []
    if blocked:
        entry = blocklist_domain.find_all(tenant, blocklist_domain.FACE, face_id)[0]
        warnings.append(warning("LIVENESS", "FACE_IN_BLOCKLIST", "error", {
            "blocklisted_session_id": entry.session_id, "blocklisted_session_number": entry.session_number,
            "api_service": entry.api_service}))
    duplicate = next((m for m in matches if m["status"] == st.APPROVED and m["vendor_data"] != request.vendor_data
                      and not m["is_blocklisted"]), None)
    if duplicate is not None:
        warnings.append(warning("LIVENESS", "DUPLICATED_FACE", "information", {
            "duplicated_session_id": duplicate["session_id"], "duplicated_session_number": duplicate["session_number"],
            "api_service": duplicate["api_service"]}))
    if steer.wants("multiple_faces", "MULTIPLE_FACES_DETECTED"):
        warnings.append(warning("LIVENESS", "MULTIPLE_FACES_DETECTED", "warning"))
    for risk in sorted(steer.risks - {w.risk for w in warnings} - {"NO_FACE_DETECTED"}):
        warnings.append(warning("LIVENESS", risk, "error" if risk.endswith("IN_BLOCKLIST") else "information"))
    outcome.warnings = warnings
    status = record.final_status(outcome)
    if steer.status is not None:
        status = st.APPROVED if steer.status == st.APPROVED else st.DECLINED
    outcome.status = status
    outcome.data = {"method": "PASSIVE"}
    record.finish(tenant, session, {wf.LIVENESS: outcome}, status, saved=request.save)
    item = record.item(tenant, session, wf.LIVENESS)
    entity = face_entity(rnd, image, None, "M")
    result = {"status": status, "total_matches": len(matches), "matches": matches,
              "user_image": {"entities": [{"bbox": entity["bbox"], "confidence": entity["confidence"]}],
                             "best_angle": 0},
              "warnings": item["warnings"]}
    return record.envelope(tenant, session, "face_search", result)
