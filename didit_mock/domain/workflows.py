"""Workflows: the five built-in templates with fixed ids, and unknown ids taken as KYC."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ValidationFailed

DEFAULT_EXPIRATION_SECONDS = 7 * 24 * 3600

# Decision-level feature names (`features` in the decision) in graph order.
ID_VERIFICATION = "ID_VERIFICATION"
NFC = "NFC"
LIVENESS = "LIVENESS"
FACE_MATCH = "FACE_MATCH"
POA = "POA"
PHONE = "PHONE"
EMAIL_VERIFICATION = "EMAIL_VERIFICATION"
AML = "AML"
IP_ANALYSIS = "IP_ANALYSIS"
DATABASE_VALIDATION = "DATABASE_VALIDATION"
QUESTIONNAIRE = "QUESTIONNAIRE"
AGE_ESTIMATION = "AGE_ESTIMATION"

FEATURE_ORDER = [
    ID_VERIFICATION, NFC, LIVENESS, FACE_MATCH, AGE_ESTIMATION, POA, PHONE, EMAIL_VERIFICATION,
    QUESTIONNAIRE, DATABASE_VALIDATION, AML, IP_ANALYSIS,
]

# The steps of a KYB (business) workflow, in Didit's order. They have no KYC feature array: a
# session that runs them carries a company (`registry_checks`, `key_people_checks`).
KYB_REGISTRY = "KYB_REGISTRY"
KYB_DOCUMENTS = "KYB_DOCUMENTS"
KYB_KEY_PEOPLE = "KYB_KEY_PEOPLE"
KYB_FEATURES = (KYB_REGISTRY, KYB_DOCUMENTS, KYB_KEY_PEOPLE)
#: The KYB steps that get a feature outcome.
KYB_OUTCOME_FEATURES = (KYB_REGISTRY, KYB_DOCUMENTS, KYB_KEY_PEOPLE)


@dataclass(frozen=True)
class Workflow:
    """A verification workflow: which features a session runs and how long it lives."""

    workflow_id: str
    label: str
    template: str
    features: tuple[str, ...]
    version: int = 1
    expiration_seconds: int = DEFAULT_EXPIRATION_SECONDS
    requires_portrait: bool = False
    builtin: bool = True
    callback_url: str | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def has(self, feature: str) -> bool:
        return feature in self.features

    @property
    def kyb_features(self) -> tuple[str, ...]:
        """The KYB steps this workflow runs (none for a KYC workflow), in Didit's order.

        An API-made KYB workflow names them in `extra["kyb_features"]`; a KYB workflow that does not
        (a state document written before they were kept) runs the registry step.
        """
        named = self.extra.get("kyb_features") if self.extra else None
        if isinstance(named, list):
            return tuple(f for f in KYB_FEATURES if f in named)
        return (KYB_REGISTRY,) if self.template == "kyb" else ()

    @property
    def outcome_features(self) -> tuple[str, ...]:
        """The steps that get an outcome when a session finishes: the KYC features, then the KYB steps."""
        return (*self.features, *(f for f in self.kyb_features if f in KYB_OUTCOME_FEATURES))


KYC_ID = "d1d17000-0000-4000-8000-000000000001"
AGE_ID = "d1d17000-0000-4000-8000-000000000002"
BIOMETRIC_ID = "d1d17000-0000-4000-8000-000000000003"
ADDRESS_ID = "d1d17000-0000-4000-8000-000000000004"
QUESTIONNAIRE_ID = "d1d17000-0000-4000-8000-000000000005"
COMPLETE_KYC_ID = "d1d17000-0000-4000-8000-000000000006"

BUILTIN_WORKFLOWS: dict[str, Workflow] = {
    w.workflow_id: w
    for w in (
        Workflow(KYC_ID, "KYC", "KYC", (ID_VERIFICATION, LIVENESS, FACE_MATCH, AML, IP_ANALYSIS)),
        Workflow(AGE_ID, "Adaptive Age Verification", "Adaptive Age Verification",
                 (LIVENESS, AGE_ESTIMATION, IP_ANALYSIS)),
        Workflow(BIOMETRIC_ID, "Biometric Authentication", "Biometric Authentication",
                 (LIVENESS, FACE_MATCH, IP_ANALYSIS), requires_portrait=True),
        Workflow(ADDRESS_ID, "Address Verification", "Address Verification", (POA, IP_ANALYSIS)),
        Workflow(QUESTIONNAIRE_ID, "Questionnaire", "Questionnaire", (QUESTIONNAIRE,)),
        Workflow(COMPLETE_KYC_ID, "Complete KYC", "KYC",
                 (ID_VERIFICATION, NFC, LIVENESS, FACE_MATCH, POA, PHONE, EMAIL_VERIFICATION,
                  DATABASE_VALIDATION, AML, IP_ANALYSIS)),
    )
}


class WorkflowBook:
    """The workflows a tenant knows: the built-ins plus any a scenario defines."""

    def __init__(self, tenant: object):
        self.tenant = tenant
        self.custom: dict[str, Workflow] = {}

    def add(self, workflow: Workflow) -> None:
        self.custom[workflow.workflow_id] = workflow

    def all(self) -> list[Workflow]:
        return [*BUILTIN_WORKFLOWS.values(), *self.custom.values()]

    def resolve(self, workflow_id: str, strict: bool) -> Workflow:
        """The workflow for an id; an unknown id is a KYC workflow unless `strict`."""
        found = self.custom.get(workflow_id) or BUILTIN_WORKFLOWS.get(workflow_id)
        if found is not None:
            return found
        if strict:
            raise ValidationFailed.field("workflow_id", "Invalid workflow_id.", as_list=False)
        base = BUILTIN_WORKFLOWS[KYC_ID]
        adopted = Workflow(workflow_id, "KYC", "KYC", base.features, builtin=False)
        self.custom[workflow_id] = adopted
        return adopted

    def find(self, workflow_id: str) -> Workflow | None:
        return self.custom.get(workflow_id) or BUILTIN_WORKFLOWS.get(workflow_id)
