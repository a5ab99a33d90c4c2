"""The face match item: the selfie against the document portrait (or a stored face)."""

from __future__ import annotations

from typing import Any

from .. import statuses as st
from .. import workflows as wf
from ..outcomes import FeatureOutcome
from .context import WITH_RESUB, Context, status_score, status_within
from .layout import node_id_for


def _stored_face_session(ctx: Context) -> str | None:
    """For a portrait-less biometric session: the earlier approved session whose face is reused."""
    session = ctx.session
    if session.portrait_digest is not None or session.vendor_data is None or not session.workflow.requires_portrait:
        return None
    from ..sessions import book

    earlier = [s for s in book(ctx.tenant).by_vendor.get(session.vendor_data, ())
               if s.session_number < session.session_number and s.status == st.APPROVED and s.outcomes]
    return max(earlier, key=lambda s: s.session_number).session_id if earlier else None


def face_match_item(ctx: Context, outcome: FeatureOutcome) -> dict[str, Any]:
    """The `face_matches` item."""
    rnd = ctx.rnd("face_match")
    return {
        "node_id": node_id_for(wf.FACE_MATCH),
        "status": status_within(outcome.status, WITH_RESUB),
        "score": status_score(rnd, outcome.status, outcome.data, review=(60.0, 74.0), declined=(12.0, 40.0)),
        "source_image_session_id": _stored_face_session(ctx),
        "source_image": ctx.media("face_match_source"),
        "target_image": ctx.media("face_match_target"),
        "warnings": ctx.warnings(outcome),
    }
