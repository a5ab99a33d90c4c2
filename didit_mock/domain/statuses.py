"""Session and feature status strings, exactly as Didit spells them, and the sets rules use."""

from __future__ import annotations

NOT_STARTED = "Not Started"
IN_PROGRESS = "In Progress"
IN_REVIEW = "In Review"
APPROVED = "Approved"
DECLINED = "Declined"
EXPIRED = "Expired"
ABANDONED = "Abandoned"
KYC_EXPIRED = "Kyc Expired"
RESUBMITTED = "Resubmitted"
AWAITING_USER = "Awaiting User"

SESSION_STATUSES = (
    NOT_STARTED, IN_PROGRESS, APPROVED, DECLINED, IN_REVIEW, EXPIRED, ABANDONED, KYC_EXPIRED,
    RESUBMITTED, AWAITING_USER,
)
#: Sessions that create-session may hand back again for the same vendor_data.
UNFINISHED = frozenset({NOT_STARTED, IN_PROGRESS, RESUBMITTED, AWAITING_USER})
#: Outcomes a user (or a test) can finish a session with.
OUTCOMES = frozenset({APPROVED, DECLINED, IN_REVIEW, ABANDONED})
#: Current statuses update-status accepts.
OVERRIDABLE = (APPROVED, DECLINED, IN_REVIEW, KYC_EXPIRED, ABANDONED, RESUBMITTED)
#: Statuses in which a PDF report can be generated.
PDF_ALLOWED = frozenset({APPROVED, DECLINED, IN_REVIEW, KYC_EXPIRED})
#: Statuses from which a session can be shared with another application.
SHAREABLE = frozenset({APPROVED, DECLINED, IN_REVIEW})

# Feature-level statuses.
NOT_FINISHED = "Not Finished"
RESUB_REQUESTED = "Resub Requested"
FEATURE_STATUSES = (NOT_FINISHED, APPROVED, DECLINED, IN_REVIEW, RESUB_REQUESTED, EXPIRED)


def overall_status(feature_statuses: list[str]) -> str:
    """A session's outcome from its features: any decline declines, any review reviews."""
    if DECLINED in feature_statuses:
        return DECLINED
    if IN_REVIEW in feature_statuses or NOT_FINISHED in feature_statuses:
        return IN_REVIEW
    return APPROVED
