"""Per-feature outcomes of a finished session: statuses, warnings (risks) and data overrides.

An outcome is planned from a target status, optional per-feature choices and a sandbox scenario,
then every registered policy (e.g. the blocklist) may change it; the session status follows from
the features unless the caller insisted on one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import statuses as st
from . import workflows as wf
from .errors import ValidationFailed

if TYPE_CHECKING:
    from .sessions import Session
    from .tenant import Tenant

#: Decision feature -> feature name used inside warning objects.
WARNING_FEATURE = {
    wf.ID_VERIFICATION: "ID_VERIFICATION",
    wf.NFC: "NFC",
    wf.LIVENESS: "LIVENESS",
    wf.FACE_MATCH: "FACEMATCH",
    wf.POA: "PROOF_OF_ADDRESS",
    wf.PHONE: "PHONE",
    wf.EMAIL_VERIFICATION: "EMAIL",
    wf.AML: "AML",
    wf.IP_ANALYSIS: "LOCATION",
    wf.DATABASE_VALIDATION: "DATABASE_VALIDATION",
    wf.QUESTIONNAIRE: "QUESTIONNAIRE",
    wf.AGE_ESTIMATION: "LIVENESS",
}

#: Accepted spellings of feature names (admin API, scenarios, update-status aliases).
FEATURE_ALIASES = {
    "ID_VERIFICATION": wf.ID_VERIFICATION, "OCR": wf.ID_VERIFICATION, "ID": wf.ID_VERIFICATION,
    "DOCUMENT": wf.ID_VERIFICATION, "NFC": wf.NFC, "LIVENESS": wf.LIVENESS, "FACE": wf.LIVENESS,
    "FACE_MATCH": wf.FACE_MATCH, "FACEMATCH": wf.FACE_MATCH, "POA": wf.POA,
    "PROOF_OF_ADDRESS": wf.POA, "PHONE": wf.PHONE, "PHONE_VERIFICATION": wf.PHONE,
    "EMAIL": wf.EMAIL_VERIFICATION, "EMAIL_VERIFICATION": wf.EMAIL_VERIFICATION, "AML": wf.AML,
    "IP_ANALYSIS": wf.IP_ANALYSIS, "IP": wf.IP_ANALYSIS, "LOCATION": wf.IP_ANALYSIS,
    "DATABASE_VALIDATION": wf.DATABASE_VALIDATION, "QUESTIONNAIRE": wf.QUESTIONNAIRE,
    "AGE_ESTIMATION": wf.AGE_ESTIMATION, "AGE": wf.AGE_ESTIMATION,
}
#: The KYB steps a test may give an outcome, only on a session whose workflow runs them.
KYB_STEP_ALIASES = {wf.KYB_REGISTRY: wf.KYB_REGISTRY, wf.KYB_DOCUMENTS: wf.KYB_DOCUMENTS,
                    wf.KYB_KEY_PEOPLE: wf.KYB_KEY_PEOPLE}
#: Every feature name an outcome may choose (admin API, scenario outcomes).
STEP_ALIASES = {**FEATURE_ALIASES, **KYB_STEP_ALIASES}

#: Risk code -> (short description, long description).
RISKS: dict[str, tuple[str, str]] = {
    "DOCUMENT_EXPIRED": ("Document expired", "The identity document has passed its expiration date."),
    "COULD_NOT_RECOGNIZE_DOCUMENT": ("Document not recognized",
                                     "The document could not be recognized as a supported identity document."),
    "MRZ_VALIDATION_FAILED": ("MRZ validation failed", "The machine-readable zone checksums do not validate."),
    "MINIMUM_AGE_NOT_MET": ("Minimum age not met", "The person is younger than the minimum age of the workflow."),
    "ID_DOCUMENT_IN_BLOCKLIST": ("Document in blocklist", "The identity document matches a blocklisted document."),
    "KYB_REGISTRY_MISMATCH": ("Registry mismatch", "The company data does not match the business registry."),
    "KYB_DOCUMENTS_DECLINED": ("Company documents declined", "A company document failed verification."),
    "KYB_DOCUMENTS_IN_REVIEW": ("Company documents in review", "A company document needs a manual review."),
    "KYB_KEY_PEOPLE_DECLINED": ("Key people declined", "A key person of the company failed verification."),
    "KYB_KEY_PEOPLE_IN_REVIEW": ("Key people in review", "A key person of the company needs a manual review."),
    "DATA_INCONSISTENT": ("NFC data inconsistent", "The NFC chip data is inconsistent with the printed document."),
    "NFC_CHIP_NOT_VERIFIED": ("NFC chip not verified", "The NFC chip authenticity could not be verified."),
    "LIVENESS_FACE_ATTACK": ("Liveness attack", "A presentation attack was detected during the liveness check."),
    "LOW_LIVENESS_SCORE": ("Low liveness score", "The liveness score is below the review threshold."),
    "FACE_IN_BLOCKLIST": ("Face in blocklist", "The face matches a blocklisted face."),
    "LOW_FACE_MATCH_SIMILARITY": ("Low face match similarity",
                                  "The selfie and the document portrait are not similar enough."),
    "POA_ADDRESS_MISMATCH": ("Address mismatch", "The proof-of-address address does not match the expected address."),
    "POA_PARTIAL_MATCH": ("Address partial match", "The proof-of-address address only partially matches."),
    "POSSIBLE_MATCH_FOUND": ("Possible AML match", "The AML screening found a possible match."),
    "IP_IN_BLOCKLIST": ("IP in blocklist", "The IP address is in a blocklist."),
    "VPN_OR_TOR_DETECTED": ("VPN or Tor", "The connection comes through a VPN or Tor."),
    "DATABASE_NO_MATCH": ("No database match", "The personal data did not match the government database."),
    "DATABASE_PARTIAL_MATCH": ("Partial database match", "The personal data partially matched the database."),
    "HIGH_RISK_PHONE_NUMBER": ("High risk phone number", "The phone number is considered high risk."),
    "VOIP_NUMBER_DETECTED": ("VoIP number", "The phone number is a VoIP number."),
    "PHONE_NUMBER_IN_BLOCKLIST": ("Phone in blocklist", "The phone number is blocklisted."),
    "DISPOSABLE_EMAIL_DETECTED": ("Disposable email", "The email address belongs to a disposable provider."),
    "EMAIL_IN_BLOCKLIST": ("Email in blocklist", "The email address is blocklisted."),
    "QUESTIONNAIRE_ANSWER_FLAGGED": ("Answer flagged", "A questionnaire answer was flagged for review."),
}

#: Feature -> (risk used when a test declines it, risk used when it sends it to review).
DEFAULT_RISKS = {
    wf.ID_VERIFICATION: ("DOCUMENT_EXPIRED", "MRZ_VALIDATION_FAILED"),
    wf.NFC: ("NFC_CHIP_NOT_VERIFIED", "DATA_INCONSISTENT"),
    wf.LIVENESS: ("LIVENESS_FACE_ATTACK", "LOW_LIVENESS_SCORE"),
    wf.FACE_MATCH: ("LOW_FACE_MATCH_SIMILARITY", "LOW_FACE_MATCH_SIMILARITY"),
    wf.POA: ("POA_ADDRESS_MISMATCH", "POA_PARTIAL_MATCH"),
    wf.PHONE: ("HIGH_RISK_PHONE_NUMBER", "VOIP_NUMBER_DETECTED"),
    wf.EMAIL_VERIFICATION: ("DISPOSABLE_EMAIL_DETECTED", "DISPOSABLE_EMAIL_DETECTED"),
    wf.AML: ("POSSIBLE_MATCH_FOUND", "POSSIBLE_MATCH_FOUND"),
    wf.IP_ANALYSIS: ("IP_IN_BLOCKLIST", "VPN_OR_TOR_DETECTED"),
    wf.DATABASE_VALIDATION: ("DATABASE_NO_MATCH", "DATABASE_PARTIAL_MATCH"),
    wf.QUESTIONNAIRE: ("QUESTIONNAIRE_ANSWER_FLAGGED", "QUESTIONNAIRE_ANSWER_FLAGGED"),
    wf.AGE_ESTIMATION: ("MINIMUM_AGE_NOT_MET", "MINIMUM_AGE_NOT_MET"),
    # Didit documents no KYB risk codes; these are PROPOSED.
    wf.KYB_REGISTRY: ("KYB_REGISTRY_MISMATCH", "KYB_REGISTRY_MISMATCH"),
    wf.KYB_DOCUMENTS: ("KYB_DOCUMENTS_DECLINED", "KYB_DOCUMENTS_IN_REVIEW"),
    wf.KYB_KEY_PEOPLE: ("KYB_KEY_PEOPLE_DECLINED", "KYB_KEY_PEOPLE_IN_REVIEW"),
}

#: Which feature a test's plain "Declined" or "In Review" lands on, in order of preference.
DEFAULT_DECLINE_ORDER = [wf.ID_VERIFICATION, wf.LIVENESS, wf.FACE_MATCH, wf.POA, wf.AGE_ESTIMATION,
                         wf.AML, wf.QUESTIONNAIRE, wf.PHONE, wf.EMAIL_VERIFICATION, wf.IP_ANALYSIS,
                         wf.KYB_REGISTRY, wf.KYB_KEY_PEOPLE, wf.KYB_DOCUMENTS]
DEFAULT_REVIEW_ORDER = [wf.AML, wf.FACE_MATCH, wf.LIVENESS, wf.POA, wf.ID_VERIFICATION, wf.QUESTIONNAIRE,
                        wf.PHONE, wf.EMAIL_VERIFICATION, wf.IP_ANALYSIS, wf.KYB_REGISTRY, wf.KYB_KEY_PEOPLE,
                        wf.KYB_DOCUMENTS]


@dataclass(slots=True)
class RiskWarning:
    """One warning of a feature, rendered as Didit's warning object."""

    risk: str
    log_type: str  # information | warning | error
    feature: str  # the warning feature name (FACEMATCH, PROOF_OF_ADDRESS, LOCATION, ...)
    short_description: str = ""
    long_description: str = ""
    additional_data: Any = None

    def to_dict(self, node_id: str | None) -> dict[str, Any]:
        body = {
            "feature": self.feature,
            "risk": self.risk,
            "additional_data": self.additional_data,
            "log_type": self.log_type,
            "short_description": self.short_description,
            "long_description": self.long_description,
        }
        if node_id is not None:
            body["node_id"] = node_id
        return body


def make_warning(feature: str, risk: str, log_type: str, additional_data: Any = None) -> RiskWarning:
    short, long = RISKS.get(risk, (risk.replace("_", " ").capitalize(), risk.replace("_", " ").capitalize() + "."))
    return RiskWarning(risk, log_type, WARNING_FEATURE.get(feature, feature), short, long, additional_data)


class _NoData(dict):  # type: ignore[type-arg]
    """The shared, unchangeable empty `data` of outcomes that have none (most of them)."""

    def __hash__(self) -> int:  # hashable, so dataclasses accept it as a plain default
        return 0

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError("replace FeatureOutcome.data instead of changing it in place")

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = _refuse  # type: ignore[assignment]


NO_DATA: dict[str, Any] = _NoData()


@dataclass(slots=True)
class FeatureOutcome:
    """The result of one feature: its status, its warnings and field overrides of its item.

    A million approved features share one empty warnings tuple and one empty `data`: both are
    replaced, never changed in place (`flag`, `merge_data`), which keeps sessions small.
    """

    feature: str
    status: str = st.APPROVED
    warnings: list[RiskWarning] | tuple[RiskWarning, ...] = ()
    data: dict[str, Any] = NO_DATA

    def merge_data(self, changes: dict[str, Any]) -> None:
        """Add field overrides of this feature's item."""
        if changes:
            self.data = {**self.data, **changes}

    def flag(self, risk: str, status: str, additional_data: Any = None) -> None:
        """Add a risk and raise the status to at least `status` (Declined > In Review > Approved)."""
        log_type = {st.DECLINED: "error", st.IN_REVIEW: "warning"}.get(status, "information")
        self.warnings = [*self.warnings, make_warning(self.feature, risk, log_type, additional_data)]
        rank = {st.APPROVED: 0, st.NOT_FINISHED: 1, st.IN_REVIEW: 2, st.DECLINED: 3}
        if rank.get(status, 0) > rank.get(self.status, 0):
            self.status = status


def canonical_step(name: str) -> str | None:
    """The canonical name of a feature or KYB step (any case, `-` or space for `_`, an alias), or None."""
    return STEP_ALIASES.get(str(name).strip().upper().replace("-", "_").replace(" ", "_"))


def normalise_feature(name: str) -> str:
    feature = canonical_step(name)
    if feature is None:
        raise ValidationFailed({"features": {str(name): [f'"{name}" is not a known feature.']}})
    return feature


def not_a_step(name: str) -> ValidationFailed:
    """The 400 of a KYB step chosen for a session whose workflow does not run it."""
    return ValidationFailed({"features": {str(name): [f'"{name}" is not a step of this workflow.']}})


def _explicit(workflow: wf.Workflow, features: dict[str, Any] | None) -> dict[str, Any]:
    """The caller's choices by canonical feature; a KYB step must be one the workflow runs."""
    explicit = {}
    for name, choice in (features or {}).items():
        feature = normalise_feature(name)
        if feature in wf.KYB_OUTCOME_FEATURES and feature not in workflow.kyb_features:
            raise not_a_step(name)
        explicit[feature] = choice
    return explicit


# ---------------------------------------------------------------- sandbox scenarios

@dataclass(frozen=True)
class SandboxScenario:
    slug: str
    status: str
    feature: str | None = None
    risk: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _load_slugs() -> list[str]:
    raw = Path(__file__).with_name("sandbox_scenarios.json").read_text("utf-8")
    return list(json.loads(raw)["expected_slugs"])


SANDBOX_SLUGS: list[str] = _load_slugs()

_SCENARIO_EFFECTS: dict[str, tuple[str | None, str | None, dict[str, Any]]] = {
    "approve": (None, None, {}),
    "decline_aml_hit": (wf.AML, "POSSIBLE_MATCH_FOUND", {"total_hits": 1, "score": 100.0}),
    "decline_could_not_recognize_document": (wf.ID_VERIFICATION, "COULD_NOT_RECOGNIZE_DOCUMENT", {}),
    "decline_database_no_match": (wf.DATABASE_VALIDATION, "DATABASE_NO_MATCH", {"match_type": "no_match"}),
    "decline_document_expired": (wf.ID_VERIFICATION, "DOCUMENT_EXPIRED", {"expired_document": True}),
    "decline_face_match_low_similarity": (wf.FACE_MATCH, "LOW_FACE_MATCH_SIMILARITY", {"score": 23.5}),
    "decline_ip_blocklist": (wf.IP_ANALYSIS, "IP_IN_BLOCKLIST", {}),
    "decline_kyb_registry_mismatch": (wf.ID_VERIFICATION, "KYB_REGISTRY_MISMATCH", {}),
    "decline_liveness_attack": (wf.LIVENESS, "LIVENESS_FACE_ATTACK", {"score": 12.4}),
    "decline_minimum_age": (wf.ID_VERIFICATION, "MINIMUM_AGE_NOT_MET", {"age": 15}),
    "decline_mrz_validation": (wf.ID_VERIFICATION, "MRZ_VALIDATION_FAILED", {}),
    "decline_nfc_chip_not_verified": (wf.NFC, "NFC_CHIP_NOT_VERIFIED", {}),
    "decline_poa_address_mismatch": (wf.POA, "POA_ADDRESS_MISMATCH", {}),
    "review_aml_possible_match": (wf.AML, "POSSIBLE_MATCH_FOUND", {"total_hits": 1, "score": 85.0}),
    "review_face_match_borderline": (wf.FACE_MATCH, "LOW_FACE_MATCH_SIMILARITY", {"score": 68.0}),
    "review_poa_partial_match": (wf.POA, "POA_PARTIAL_MATCH", {}),
}


def sandbox_scenario(slug: str) -> SandboxScenario | None:
    """The outcome a sandbox slug forces: `approve`, `decline_*` or `review_*`."""
    if slug not in SANDBOX_SLUGS or slug not in _SCENARIO_EFFECTS:
        return None
    feature, risk, data = _SCENARIO_EFFECTS[slug]
    status = st.APPROVED if slug == "approve" else st.DECLINED if slug.startswith("decline_") else st.IN_REVIEW
    return SandboxScenario(slug, status, feature, risk, dict(data))


# ---------------------------------------------------------------- planning



def plan_outcome(
    tenant: Tenant,
    session: Session,
    status: str | None,
    features: dict[str, Any] | None = None,
) -> tuple[str, dict[str, FeatureOutcome]]:
    """Feature outcomes and the resulting session status for finishing `session`.

    `status` is the target (Approved, Declined, In Review, Abandoned) or None to let the
    sandbox scenario (or approval) decide. `features` maps a feature name to a status string or
    to `{"status", "risk", "data"}`.
    """
    workflow = session.workflow
    workflow_features = list(workflow.outcome_features)
    explicit = _explicit(workflow, features)
    outcomes = {f: FeatureOutcome(f) for f in workflow_features}
    scenario = sandbox_scenario(session.sandbox_scenario) if session.sandbox_scenario else None

    if status is None and scenario is not None:
        status = scenario.status
        if scenario.feature is not None and scenario.risk is not None:
            target = outcomes.setdefault(scenario.feature, FeatureOutcome(scenario.feature))
            target.flag(scenario.risk, scenario.status)
            target.merge_data(scenario.data)
    status = status or st.APPROVED

    for feature, choice in explicit.items():
        outcome = outcomes.setdefault(feature, FeatureOutcome(feature))
        _apply_choice(outcome, choice)

    if status in (st.DECLINED, st.IN_REVIEW) and not any(o.status == status for o in outcomes.values()):
        order = DEFAULT_DECLINE_ORDER if status == st.DECLINED else DEFAULT_REVIEW_ORDER
        feature = next((f for f in order if f in outcomes), workflow_features[0])
        decline_risk, review_risk = DEFAULT_RISKS[feature]
        outcomes[feature].flag(decline_risk if status == st.DECLINED else review_risk, status)

    for policy in tenant.registry.wiring.outcome_policies:
        policy(tenant, session, outcomes)

    final = st.overall_status([o.status for o in outcomes.values()])
    if status == st.ABANDONED:
        final = st.ABANDONED
    return final, outcomes


def _apply_choice(outcome: FeatureOutcome, choice: Any) -> None:
    if isinstance(choice, str):
        choice = {"status": choice}
    if not isinstance(choice, dict):
        raise ValidationFailed({"features": {outcome.feature: ["Expected a status or an object."]}})
    status = choice.get("status", st.APPROVED)
    if status not in st.FEATURE_STATUSES:
        raise ValidationFailed({"features": {outcome.feature: [f'"{status}" is not a valid choice.']}})
    risks = choice.get("risks") or ([choice["risk"]] if choice.get("risk") else [])
    if status in (st.DECLINED, st.IN_REVIEW) and not risks:
        decline_risk, review_risk = DEFAULT_RISKS[outcome.feature]
        risks = [decline_risk if status == st.DECLINED else review_risk]
    for risk in risks:
        outcome.flag(str(risk), status)
    outcome.status = status
    data = choice.get("data") or {}
    if not isinstance(data, dict):
        raise ValidationFailed({"features": {outcome.feature: ["data must be an object."]}})
    outcome.merge_data(data)
