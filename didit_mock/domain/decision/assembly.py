"""The whole v3 decision: each feature's builder, the feature arrays, and the session's own fields."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import workflows as wf
from ..clock import iso
from ..outcomes import FeatureOutcome
from .aml import aml_item, apply_hit_reviews
from .context import Context, apply_corrections, utc_datetime
from .database_validation import database_validation_item
from .email_verification import email_verification_item
from .face_match import face_match_item
from .id_verification import id_verification_item
from .ip_analysis import ip_analysis_item
from .key_people import key_people_item
from .kyb_documents import document_verifications_item
from .layout import API_TEMPLATE, ARRAY_OF, FEATURE_ARRAYS, TOP_LEVEL_KEYS
from .liveness import liveness_item
from .nfc import nfc_item
from .phone import phone_item
from .poa import poa_item
from .questionnaire import questionnaire_item

if TYPE_CHECKING:
    from ..sessions import Session
    from ..tenant import Tenant

Builder = Callable[[Context, FeatureOutcome], dict[str, Any]]
Correction = Callable[[dict[str, Any], dict[str, Any]], None]

#: The builder of each feature's item. LIVENESS and AGE_ESTIMATION share one item (`liveness_item`).
BUILDERS: dict[str, Builder] = {
    wf.ID_VERIFICATION: id_verification_item,
    wf.NFC: nfc_item,
    wf.FACE_MATCH: face_match_item,
    wf.PHONE: phone_item,
    wf.EMAIL_VERIFICATION: email_verification_item,
    wf.POA: poa_item,
    wf.AML: aml_item,
    wf.IP_ANALYSIS: ip_analysis_item,
    wf.DATABASE_VALIDATION: database_validation_item,
    wf.QUESTIONNAIRE: questionnaire_item,
}
#: How a feature's `session.data_overrides` entry corrects its item (update-data, AML hit reviews).
CORRECTIONS: dict[str, Correction] = {
    wf.ID_VERIFICATION: apply_corrections,
    wf.POA: apply_corrections,
    wf.AML: apply_hit_reviews,
}
#: outcome.data keys that steer generation and are not copied onto the item.
SPECIAL_DATA_KEYS = frozenset({"expired_document"})


def _merge_data(item: dict[str, Any], data: dict[str, Any], feature: str) -> None:
    for key, value in data.items():
        if key in SPECIAL_DATA_KEYS or (feature == wf.AGE_ESTIMATION and key in ("age", "age_estimation")):
            continue
        item[key] = copy.deepcopy(value)


def _item(ctx: Context, feature: str, outcome: FeatureOutcome) -> dict[str, Any]:
    """One feature's item: built, the outcome's data merged on, the session's corrections applied."""
    outcomes = ctx.outcomes
    if feature in (wf.LIVENESS, wf.AGE_ESTIMATION):
        item = liveness_item(ctx, outcomes.get(wf.LIVENESS), outcomes.get(wf.AGE_ESTIMATION))
        for part in (wf.LIVENESS, wf.AGE_ESTIMATION):
            if part in outcomes:
                _merge_data(item, outcomes[part].data, part)
    else:
        item = BUILDERS[feature](ctx, outcome)
        _merge_data(item, outcome.data, feature)
    correct = CORRECTIONS.get(feature)
    overrides = ctx.session.data_overrides.get(feature)
    if correct is not None and overrides:
        correct(item, overrides)
    return item


def feature_arrays(tenant: Tenant, session: Session) -> dict[str, list[dict[str, Any]] | None]:
    """Every feature array of the decision: a one-item list per feature that ran, else None."""
    arrays: dict[str, list[dict[str, Any]] | None] = {name: None for name in FEATURE_ARRAYS}
    outcomes = session.outcomes
    if not outcomes:
        return arrays
    ctx = Context(tenant, session, outcomes)
    for feature in wf.FEATURE_ORDER:
        outcome = outcomes.get(feature)
        if outcome is None or feature == wf.AGE_ESTIMATION and wf.LIVENESS in outcomes:
            continue
        item = _item(ctx, feature, outcome)
        ctx.items[feature] = item
        arrays[ARRAY_OF[feature]] = [item]
    return arrays


def feature_item(tenant: Tenant, session: Session, feature: str) -> dict[str, Any]:
    """The decision item of one feature of `session`, built by the same code as the decision.

    The standalone APIs render their results with it, saved or not.
    """
    items = feature_arrays(tenant, session)[ARRAY_OF[feature]]
    assert items
    return copy.deepcopy(items[0])


# ---------------------------------------------------------------- the session's own fields

def _expected_details(session: Session) -> dict[str, Any] | None:
    shown = {k: copy.deepcopy(v) for k, v in (session.expected_details or {}).items() if v is not None}
    return shown or None


def _contact_details(session: Session) -> dict[str, Any] | None:
    contact = session.contact_details or {}
    if not contact.get("email") and not contact.get("phone"):
        return None
    shown = {
        "email": contact.get("email"),
        "email_lang": contact.get("email_lang"),
        "send_notification_emails": bool(contact.get("send_notification_emails", False)),
        "phone": contact.get("phone"),
    }
    return {k: v for k, v in shown.items() if v is not None or k == "phone"}


def _reviews(session: Session) -> list[dict[str, Any]]:
    shown = []
    for review in session.reviews:
        if review.activity_type != "STATUS_UPDATED":
            continue
        user = "API Client" if review.actor_type == "API_KEY" else review.actor_email or review.actor_display
        shown.append({
            "user": user,
            "new_status": review.new_status or "",
            "comment": review.comment if review.comment is not None else "",
            "created_at": iso(utc_datetime(review.created_at)),
        })
    return shown


def feature_names(session: Session) -> list[str]:
    """The decision's `features`: the workflow's (its KYB steps first), then any other feature that ran, in
    Didit's order."""
    names = [*session.workflow.kyb_features, *session.workflow.features]
    names += [f for f in wf.FEATURE_ORDER if f in (session.outcomes or {}) and f not in names]
    return names


# ---------------------------------------------------------------- the decision

def build_decision(tenant: Tenant, session: Session) -> dict[str, Any]:
    """The v3 decision of a session (uncached: callers go through `rendering`)."""
    if session.imported_decision is not None:
        return _build_imported(tenant, session)
    arrays = feature_arrays(tenant, session)
    decision: dict[str, Any] = {
        "session_id": session.session_id,
        "session_kind": "business" if session.workflow.kyb_features else "user",
        "session_number": session.session_number,
        "session_url": session.url,
        "status": session.status,
        "environment": tenant.environment,
        "workflow_id": None if session.workflow.template == API_TEMPLATE else session.workflow.workflow_id,
        "features": feature_names(session),
        "vendor_data": session.vendor_data,
        "metadata": copy.deepcopy(session.metadata),
        "expected_details": _expected_details(session),
        "contact_details": _contact_details(session),
        "callback": session.callback,
        "nfc_skip_reason": None,
        "reviews": _reviews(session),
        "created_at": iso(utc_datetime(session.created_at)),
        "expires_at": iso(utc_datetime(session.expires_at)) if session.expires_at is not None else None,
        "registry_checks": None,
        "key_people_checks": None,
        "document_verifications": None,
    }
    decision.update(arrays)
    _stored_results(tenant, session, decision)
    return {key: decision[key] for key in TOP_LEVEL_KEYS}


def _stored_results(tenant: Tenant, session: Session, decision: dict[str, Any]) -> None:
    """What a saved Document AI call, a KYB registry retrieval or a KYB workflow's session keeps as rendered
    results: the company in `registry_checks`, its people in `key_people_checks` and, when the workflow has
    a documents step, its documents in `document_verifications`."""
    overrides = session.data_overrides
    document_ai = overrides.get("DOCUMENT_AI")
    if document_ai and isinstance(document_ai.get("group"), dict):
        decision["document_ai_documents"] = [copy.deepcopy(document_ai["group"])]
    registry = overrides.get("KYB_REGISTRY")
    if registry and isinstance(registry.get("check"), dict):
        check = copy.deepcopy(registry["check"])
        company = check.get("company") or {}
        outcomes = session.outcomes or {}
        if registry.get("source") == "workflow" and wf.KYB_REGISTRY in outcomes:
            # A workflow's registry step: its status and warnings are the step's outcome (update-status can
            # change it).
            outcome = outcomes[wf.KYB_REGISTRY]
            check["status"] = company["status"] = outcome.status
            check["warnings"] = [w.to_dict(check.get("node_id")) for w in outcome.warnings]
        # The decision's company says its risk level as an enum and always has user-provided data.
        risk = str(company.get("risk_level") or "").split(" ")[0].upper()
        company["risk_level"] = risk if risk in ("LOW", "MEDIUM", "HIGH") else None
        if company.get("user_provided_data") is None:
            company["user_provided_data"] = {}
        decision["session_kind"] = "business"
        decision["registry_checks"] = [check]
        decision["key_people_checks"] = [key_people_item(registry, outcomes.get(wf.KYB_KEY_PEOPLE))]
        if wf.KYB_DOCUMENTS in session.workflow.kyb_features:
            decision["document_verifications"] = [document_verifications_item(
                Context(tenant, session, outcomes), registry, outcomes.get(wf.KYB_DOCUMENTS))]


def _build_imported(tenant: Tenant, session: Session) -> dict[str, Any]:
    """A B2B-imported (or file-imported) session: the source decision's data under this session's own
    identity."""
    source = copy.deepcopy(session.imported_decision or {})
    own = {
        "session_id": session.session_id,
        "session_kind": "business" if source.get("session_kind") == "business" else "user",
        "session_number": session.session_number,
        "session_url": None,
        "status": session.status,
        "environment": tenant.environment,
        "workflow_id": session.workflow.workflow_id,
        "features": source.get("features") if isinstance(source.get("features"), list) else feature_names(session),
        "vendor_data": session.vendor_data,
        "metadata": copy.deepcopy(session.metadata),
        "expected_details": source.get("expected_details"),
        "contact_details": source.get("contact_details"),
        "callback": session.callback,
        "nfc_skip_reason": source.get("nfc_skip_reason"),
        "reviews": _reviews(session),
        "created_at": iso(utc_datetime(session.created_at)),
        "expires_at": iso(utc_datetime(session.expires_at)) if session.expires_at is not None else None,
    }
    decision = {key: own[key] if key in own else source.get(key) for key in TOP_LEVEL_KEYS}
    if session.shared_from_session is not None:
        decision["shared_from_session"] = session.shared_from_session
    return decision
