"""The liveness item, which also carries age estimation (both feed `liveness_checks`)."""

from __future__ import annotations

import random
from typing import Any

from .. import statuses as st
from .. import workflows as wf
from ..outcomes import FeatureOutcome
from .context import WITH_RESUB, Context, finite_number, status_score, status_within
from .layout import node_id_for


def _age_estimate(ctx: Context, rnd: random.Random) -> float:
    age = ctx.outcomes.get(wf.AGE_ESTIMATION)
    data = age.data if age is not None else {}
    for key in ("age_estimation", "age"):
        given = finite_number(data.get(key))
        if given is not None:
            return given
    if age is not None and age.status == st.DECLINED:
        return round(rnd.uniform(13.5, 16.9), 1)
    if age is not None and age.status == st.IN_REVIEW:
        return round(rnd.uniform(17.0, 19.9), 1)
    return round(max(1.0, ctx.person.age_on(ctx.day) + rnd.uniform(-3.0, 3.0)), 1)


def liveness_item(ctx: Context, outcome: FeatureOutcome | None, age: FeatureOutcome | None) -> dict[str, Any]:
    """The `liveness_checks` item of a LIVENESS and/or AGE_ESTIMATION outcome (at least one given)."""
    rnd = ctx.rnd("liveness")
    main = outcome or age
    assert main is not None
    statuses = [o.status for o in (outcome, age) if o is not None]
    status = st.overall_status(statuses) if len(statuses) > 1 else statuses[0]
    data = outcome.data if outcome is not None else {}
    method = str(data.get("method") or ctx.session.workflow.extra.get("liveness_method") or "PASSIVE")
    passive = method == "PASSIVE"
    warnings = ctx.warnings(outcome) if outcome is not None else []
    if age is not None:
        warnings += ctx.warnings(age, node_id_for(wf.AGE_ESTIMATION))
    return {
        "node_id": node_id_for(wf.LIVENESS if outcome is not None else wf.AGE_ESTIMATION),
        "status": status_within(status, WITH_RESUB),
        "method": method,
        "score": status_score(rnd, outcome.status if outcome is not None else st.APPROVED, data),
        "reference_image": ctx.media("liveness_reference"),
        "video_url": ctx.media("liveness_video", "mp4"),
        "age_estimation": _age_estimate(ctx, rnd),
        "matches": [],
        "warnings": warnings,
        "face_quality": round(rnd.uniform(62.0, 96.0), 2) if passive else None,
        "face_luminance": round(rnd.uniform(38.0, 82.0), 2) if passive else None,
    }
