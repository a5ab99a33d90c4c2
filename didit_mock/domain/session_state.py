"""The tenant's sessions, their outcomes and reviews as a state section (the entry's `sessions`).

`{"next_number": n, "sessions": [row, ...]}`; deleted sessions are gone. A row names its workflow
by id; a session that ran a workflow no longer in the tenant's book (an older version, a scenario's
workflow) carries it inline. The section needs the parsed workflows (`needs=("workflows",)`).
"""

from __future__ import annotations

from typing import Any

from . import statuses as st
from .outcomes import FeatureOutcome, RiskWarning
from .sessions import Review, Session, rearm_jobs
from .sessions import book as session_book
from .sessions import workflows as workflow_book
from .state import Reader, StateInvalid, StateSection, check, dataclass_from, join_path, json_copy, unique
from .tenant import Tenant
from .workflow_state import NAME as WORKFLOWS
from .workflow_state import ParsedWorkflows, parse_workflow, workflow_json
from .workflows import BUILTIN_WORKFLOWS, Workflow

NAME = "sessions"


class ParsedSessions:
    """The section's parsed value: the sessions and the number the next one gets."""

    def __init__(self, sessions: list[Session], next_number: int):
        self.sessions = sessions
        self.next_number = next_number

    def numbers(self) -> list[int]:
        return [s.session_number for s in self.sessions]


# ---------------------------------------------------------------- export

def _same_workflow(a: Workflow | None, b: Workflow) -> bool:
    return a is not None and a == b and a.extra == b.extra


def _export(tenant: Tenant) -> dict[str, Any]:
    sessions = session_book(tenant)
    custom = workflow_book(tenant).custom
    rows = []
    for s in sessions.by_id.values():
        known = custom.get(s.workflow.workflow_id) or BUILTIN_WORKFLOWS.get(s.workflow.workflow_id)
        rows.append({
            "session_id": s.session_id,
            "session_number": s.session_number,
            "session_token": s.session_token,
            "workflow_id": s.workflow.workflow_id,
            "workflow": None if _same_workflow(known, s.workflow) else workflow_json(s.workflow),
            "url": s.url,
            "created_at": s.created_at,
            "expires_at": s.expires_at,
            "vendor_data": s.vendor_data,
            "metadata": json_copy(s.metadata, "metadata"),
            "callback": s.callback,
            "callback_method": s.callback_method,
            "language": s.language,
            "contact_details": json_copy(s.contact_details, "contact_details"),
            "expected_details": json_copy(s.expected_details, "expected_details"),
            "portrait_digest": s.portrait_digest,
            "sandbox_scenario": s.sandbox_scenario,
            "status": s.status,
            "started_at": s.started_at,
            "finished_at": s.finished_at,
            "outcomes": None if s.outcomes is None else [_outcome_json(o, key) for key, o in s.outcomes.items()],
            "data_overrides": json_copy(s.data_overrides, "data_overrides"),
            "reviews": [_review_json(r) for r in s.reviews],
            "timeline": [[status, at] for status, at in s.timeline],
            "shared_from_session": s.shared_from_session,
            "imported_decision": json_copy(s.imported_decision, "imported_decision"),
            "resubmit_nodes": json_copy(s.resubmit_nodes, "resubmit_nodes"),
            "revision": s.revision,
        })
    return {"sessions": {"next_number": sessions.peek_number(), "sessions": rows}}


def _outcome_json(outcome: FeatureOutcome, key: str) -> dict[str, Any]:
    return {
        "key": key,
        "feature": outcome.feature,
        "status": outcome.status,
        "warnings": [
            {"risk": w.risk, "log_type": w.log_type, "feature": w.feature, "short_description": w.short_description,
             "long_description": w.long_description, "additional_data": json_copy(w.additional_data)}
            for w in outcome.warnings
        ],
        "data": json_copy(outcome.data, "data"),
    }


def _review_json(review: Review) -> dict[str, Any]:
    return {
        "uuid": review.uuid, "activity_type": review.activity_type, "actor_type": review.actor_type,
        "actor_display": review.actor_display, "new_status": review.new_status,
        "previous_status": review.previous_status, "comment": review.comment, "created_at": review.created_at,
        "changed_fields": list(review.changed_fields), "previous_value": json_copy(review.previous_value),
        "new_value": json_copy(review.new_value), "actor_email": review.actor_email,
    }


# ---------------------------------------------------------------- import

def _parse(data: Any, path: str, earlier: dict[str, Any]) -> ParsedSessions:
    workflows: ParsedWorkflows = earlier[WORKFLOWS]
    r = Reader(data, path).obj("sessions")
    sessions = [_parse_session(s, workflows.by_id) for s in r.items("sessions")]
    unique([s.session_id for s in sessions], r.at("sessions"), "session_id")
    unique([s.session_token for s in sessions], r.at("sessions"), "session_token")
    unique([s.session_number for s in sessions], r.at("sessions"), "session_number")
    next_number = r("next_number", "int")
    if next_number < 1 or any(s.session_number >= next_number for s in sessions):
        raise StateInvalid(f"{r.at('next_number')}: must be greater than every session_number.")
    return ParsedSessions(sessions, next_number)


def _parse_session(r: Reader, custom: dict[str, Workflow]) -> Session:
    workflow_id = r("workflow_id", "str")
    inline = r("workflow", "object?", None)
    if inline is not None:
        workflow = parse_workflow(Reader(inline, r.at("workflow")))
    else:
        found = custom.get(workflow_id) or BUILTIN_WORKFLOWS.get(workflow_id)
        if found is None:
            raise StateInvalid(f"{r.at('workflow_id')}: unknown workflow {workflow_id!r} (not built in, not in "
                               "the tenant's workflows, and no inline `workflow`).")
        workflow = found
    outcomes_raw = r("outcomes", "list?", None)
    outcomes = None
    if outcomes_raw is not None:
        outcomes = {}
        for item in r.items("outcomes"):
            outcome = FeatureOutcome(
                feature=item("feature", "str"),
                status=item.choice("status", st.FEATURE_STATUSES + st.SESSION_STATUSES),
                warnings=[dataclass_from(RiskWarning, w, {
                    "risk": "str", "log_type": "str", "feature": "str", "short_description": "str",
                    "long_description": "str", "additional_data": "json"}) for w in item.items("warnings")],
                data=item("data", "object"),
            )
            outcomes[item("key", "str", outcome.feature)] = outcome
    overrides = r("data_overrides", "object")
    for name, value in overrides.items():
        check(value, "object", join_path(r.at("data_overrides"), name))
    timeline = []
    for i, entry in enumerate(r("timeline", "list")):
        where = f"{r.at('timeline')}[{i}]"
        if not isinstance(entry, list) or len(entry) != 2:
            raise StateInvalid(f"{where}: expected [status, timestamp].")
        timeline.append((check(entry[0], "str", f"{where}[0]"), check(entry[1], "float", f"{where}[1]")))
    resubmit = r("resubmit_nodes", "list?", None)
    if resubmit is not None:
        for i, node in enumerate(resubmit):
            node_r = Reader(node, f"{r.at('resubmit_nodes')}[{i}]")
            node_r("node_id", "str")
            node_r("feature", "str")
    return Session(
        session_id=r("session_id", "str"),
        session_number=r("session_number", "int"),
        session_token=r("session_token", "str"),
        workflow=workflow,
        url=r("url", "str?"),
        created_at=r("created_at", "float"),
        expires_at=r("expires_at", "float?"),
        vendor_data=r("vendor_data", "str?", None),
        metadata=r("metadata", "json", None),
        callback=r("callback", "str?", None),
        callback_method=r("callback_method", "str", "initiator"),
        language=r("language", "str?", None),
        contact_details=r("contact_details", "object?", None),
        expected_details=r("expected_details", "object?", None),
        portrait_digest=r("portrait_digest", "str?", None),
        sandbox_scenario=r("sandbox_scenario", "str?", None),
        status=r.choice("status", st.SESSION_STATUSES),
        started_at=r("started_at", "float?", None),
        finished_at=r("finished_at", "float?", None),
        outcomes=outcomes,
        data_overrides=overrides,
        reviews=[_parse_review(x) for x in r.items("reviews", [])],
        timeline=tuple(timeline),
        shared_from_session=r("shared_from_session", "str?", None),
        imported_decision=r("imported_decision", "object?", None),
        resubmit_nodes=resubmit,
        revision=r("revision", "int", 0),
    )


def _parse_review(r: Reader) -> Review:
    changed = [check(c, "str", f"{r.at('changed_fields')}[{i}]") for i, c in enumerate(r("changed_fields", "list"))]
    return Review(
        uuid=r("uuid", "str"), activity_type=r("activity_type", "str"), actor_type=r("actor_type", "str"),
        actor_display=r("actor_display", "str"), new_status=r("new_status", "str?"),
        previous_status=r("previous_status", "str?"), comment=r("comment", "str?"), created_at=r("created_at", "float"),
        changed_fields=changed, previous_value=r("previous_value", "json", None),
        new_value=r("new_value", "json", None),
        actor_email=r("actor_email", "str?", None),
    )


def _restore(tenant: Tenant, parsed: ParsedSessions) -> None:
    sessions = session_book(tenant)
    for session in parsed.sessions:
        sessions.add(session)
    sessions.restart_numbers(parsed.next_number)


def _rearm(tenant: Tenant) -> None:
    """Session expiry (Expired / Abandoned) and document expiry (Kyc Expired)."""
    for session in session_book(tenant).by_id.values():
        rearm_jobs(tenant, session)


def _tokens(parsed: ParsedSessions) -> list[str]:
    return [s.session_token for s in parsed.sessions]


SESSIONS_SECTION = StateSection(NAME, _export, _parse, _restore, needs=(WORKFLOWS,), fields=("sessions",),
                                rearm=_rearm, tokens=_tokens)
