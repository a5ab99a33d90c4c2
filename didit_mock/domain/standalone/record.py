"""A standalone call as a session: rendered by the decision builders, saved as an API session.

Every standalone call is a `Session` whose workflow runs one feature (template `API`, the
`api_service` and the identity in `workflow.extra`). Unsaved calls (`save_api_request=false`) use
a session that never enters the tenant's book; saved ones are listed, have a decision, and emit
`status.updated` like any other session.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .. import sessions as sessions_domain
from .. import statuses as st
from ..clock import iso_offset
from ..decision.assembly import feature_item
from ..decision.layout import API_TEMPLATE
from ..outcomes import FeatureOutcome
from ..sessions import Session
from ..workflows import Workflow

if TYPE_CHECKING:
    from ..tenant import Tenant


#: How the dashboard names the API session of each service.
SERVICE_TITLES = {
    "PASSIVE_LIVENESS": "Passive Liveness", "FACE_MATCH": "Face Match", "FACE_SEARCH": "Face Search",
    "AGE_ESTIMATION": "Age Estimation", "ID_VERIFICATION": "ID Verification", "POA": "Proof of Address",
    "AML": "AML Screening", "DATABASE_VALIDATION": "Database Validation", "EMAIL_RISK": "Email Risk",
    "PHONE_RISK": "Phone Risk", "IP_RISK": "IP Risk", "DOCUMENT_AI": "Document AI", "KYB_REGISTRY": "KYB Registry",
}


def api_workflow(api_service: str, feature: str, person_key: str) -> Workflow:
    """The one-feature workflow of a standalone call (never listed among the tenant's workflows)."""
    label = "API · " + SERVICE_TITLES.get(api_service, api_service.replace("_", " ").title())
    return Workflow(f"api-{api_service.lower()}", label, API_TEMPLATE, (feature,), builtin=False,
                    extra={"api_service": api_service, "person_key": person_key})


def new_call(tenant: Tenant, api_service: str, feature: str, person_key: str, vendor_data: str | None,
             metadata: Any, *, saved: bool) -> Session:
    """The session of a call, not yet finished; a saved call takes the next session number."""
    now = tenant.clock.timestamp()
    number = sessions_domain.book(tenant).next_number() if saved else 0
    return Session(
        tenant.rng.uuid4(), number, tenant.rng.token(12), api_workflow(api_service, feature, person_key),
        None,  # type: ignore[arg-type]  # an API session has no URL
        now, None, vendor_data, metadata,
    )


def run_policies(tenant: Tenant, session: Session, outcomes: dict[str, FeatureOutcome]) -> None:
    """The registry's outcome policies (a blocklisted face declines), as for any finishing session."""
    for policy in tenant.registry.wiring.outcome_policies:
        policy(tenant, session, outcomes)


def finish(tenant: Tenant, session: Session, outcomes: dict[str, FeatureOutcome], status: str,
           *, saved: bool) -> None:
    """Give the call its outcome; a saved call joins the tenant's sessions and emits `status.updated`."""
    now = tenant.clock.timestamp()
    session.outcomes = outcomes
    session.started_at = session.finished_at = now
    if not saved:
        session.status = status
        return
    sessions_domain.book(tenant).add(session)
    for hook in tenant.registry.wiring.api_call_saved:
        hook(tenant, session)
    sessions_domain.set_status(tenant, session, status)


def item(tenant: Tenant, session: Session, feature: str) -> dict[str, Any]:
    """The feature's decision item without its node ids (the standalone answers have none)."""
    found = feature_item(tenant, session, feature)
    found.pop("node_id", None)
    found["warnings"] = [{k: v for k, v in w.items() if k != "node_id"} for w in found.get("warnings") or []]
    return found


def envelope(tenant: Tenant, session: Session, result_key: str, result: dict[str, Any]) -> dict[str, Any]:
    """`{request_id, <result_key>, vendor_data, metadata, created_at}`."""
    return {
        "request_id": session.session_id,
        result_key: result,
        "vendor_data": session.vendor_data,
        "metadata": session.metadata,
        "created_at": iso_offset(datetime.fromtimestamp(session.created_at, tz=timezone.utc)),
    }


def final_status(outcome: FeatureOutcome) -> str:
    """Any error declines; the standalone image APIs cannot review."""
    return st.DECLINED if any(w.log_type == "error" for w in outcome.warnings) else st.APPROVED


NO_CREDITS = "You don't have enough credits to perform this request. Please top up at https://business.didit.me"
NO_CREDITS_RISK = "You don't have enough credits to perform this request."


def check_credits(tenant: Tenant, message: str = NO_CREDITS) -> None:
    """403 before any processing when a live tenant with a credit balance has none left."""
    from ..errors import DiditError

    credits = tenant.config.credits
    if credits is not None and not tenant.is_sandbox and credits < 1:
        raise DiditError({"error": message}, 403)


def debit(tenant: Tenant) -> None:
    """One credit per answered call (live tenants with a balance)."""
    credits = tenant.config.credits
    if credits is not None and not tenant.is_sandbox:
        tenant.config.credits = credits - 1
