"""The lifecycle events of a phone or email verification: code sent, code entered, the verdict."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from .. import statuses as st
from ..clock import iso_offset
from ..outcomes import FeatureOutcome


def lifecycle(prefix: str, outcome: FeatureOutcome, finished: datetime, rnd: random.Random,
              fee: float, channel: bool) -> list[dict[str, Any]]:
    """`{prefix}_VERIFICATION_MESSAGE_SENT`, `VALID_CODE_ENTERED`, then the outcome's verdict, if any."""
    sent = finished - timedelta(seconds=rnd.randint(70, 160))
    entered = sent + timedelta(seconds=rnd.randint(15, 60))
    details: dict[str, Any] = {"status": "Success", "reason": None}
    if channel:
        details.update({"channel": "sms", "actual_channel": "sms"})
    events = [
        {"type": f"{prefix}_VERIFICATION_MESSAGE_SENT", "timestamp": iso_offset(sent), "details": details, "fee": fee},
        {"type": "VALID_CODE_ENTERED", "timestamp": iso_offset(entered),
         "details": {"code_tried": f"{rnd.randint(0, 999999):06d}", "status": "Approved"}, "fee": 0},
    ]
    final = {st.APPROVED: "APPROVED", st.DECLINED: "DECLINED", st.IN_REVIEW: "IN_REVIEW"}.get(outcome.status)
    if final is not None:
        reason = outcome.warnings[0].risk if outcome.warnings else None
        events.append({"type": f"{prefix}_VERIFICATION_{final}",
                       "timestamp": iso_offset(entered + timedelta(milliseconds=rnd.randint(20, 400))),
                       "details": {"reason": reason} if reason else None, "fee": 0})
    return events
