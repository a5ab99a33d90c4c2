"""Workflows made through the API (`/v3/workflows/`): ordered features, versions, drafts, the default.

A workflow is a group of versions sharing a `workflow_id` (the `uuid` of its first version). Each
version is a `WorkflowVersion` with its own `uuid`; at most one draft per group. New sessions on a
workflow use its latest *published* version: the `Workflow` that sessions run is derived from that
version and kept in the `WorkflowBook` under the group's id, so sessions, their decisions and the
state export see it like any other workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from . import workflows as wf
from .errors import NotFound, ValidationFailed

if TYPE_CHECKING:
    from .sessions import NewSession
    from .tenant import Tenant

DRAFT = "draft"
PUBLISHED = "published"
MAX_WORKFLOWS = 50

#: The body keys the v3 API accepts, in the order its message lists them.
ACCEPTED_KEYS = (
    "workflow_label", "is_default", "status", "features", "is_white_label_enabled", "is_desktop_allowed",
    "max_retry_attempts", "retry_window_days", "session_expiration_time", "face_liveness_max_attempts",
    "face_match_max_attempts",
)
ONLY_ACCEPTS = "The v3 workflow API only accepts " + ", ".join(f"`{k}`" for k in ACCEPTED_KEYS) + "."
NO_FEATURE = "At least one feature is required."
NO_REVERT = "Cannot revert a published version to draft."

#: API feature -> the decision's feature name (None: not part of a KYC decision).
DECISION_FEATURE: dict[str, str | None] = {
    "OCR": wf.ID_VERIFICATION, "NFC": wf.NFC, "LIVENESS": wf.LIVENESS, "FACE_MATCH": wf.FACE_MATCH,
    "PROOF_OF_ADDRESS": wf.POA, "QUESTIONNAIRE": wf.QUESTIONNAIRE, "DOCUMENT_AI": None,
    "PHONE_VERIFICATION": wf.PHONE, "EMAIL_VERIFICATION": wf.EMAIL_VERIFICATION,
    "DATABASE_VALIDATION": wf.DATABASE_VALIDATION, "AML": wf.AML, "IP_ANALYSIS": wf.IP_ANALYSIS,
    "AGE_ESTIMATION": wf.AGE_ESTIMATION, "KYB_REGISTRY": None, "KYB_DOCUMENTS": None, "KYB_KEY_PEOPLE": None,
}
#: The message's list leaves DOCUMENT_AI out, as Didit's does.
_LISTED = sorted(k for k in DECISION_FEATURE if k != "DOCUMENT_AI")
#: A feature -> the features one of which must come before it.
PREREQUISITES = {"FACE_MATCH": ("OCR",), "NFC": ("OCR",), "KYB_DOCUMENTS": ("KYB_REGISTRY",)}
#: Features that only read what earlier steps collected: never the first step.
PASSIVE = ("AML", "IP_ANALYSIS", "DATABASE_VALIDATION", "KYB_KEY_PEOPLE")
#: Price per feature in USD (PROPOSED: Didit's price list is per contract).
PRICES = {
    "OCR": 0.15, "NFC": 0.10, "LIVENESS": 0.0, "FACE_MATCH": 0.0, "PROOF_OF_ADDRESS": 0.20,
    "QUESTIONNAIRE": 0.0, "DOCUMENT_AI": 0.10, "PHONE_VERIFICATION": 0.05, "EMAIL_VERIFICATION": 0.03,
    "DATABASE_VALIDATION": 0.20, "AML": 0.10, "IP_ANALYSIS": 0.0, "AGE_ESTIMATION": 0.10, "KYB_REGISTRY": 0.50,
    "KYB_DOCUMENTS": 0.30, "KYB_KEY_PEOPLE": 0.20,
}
#: Option -> its default when a create omits it.
OPTION_DEFAULTS: dict[str, Any] = {
    "is_white_label_enabled": False, "is_desktop_allowed": False, "max_retry_attempts": 3,
    "retry_window_days": 7, "face_liveness_max_attempts": 3, "face_match_max_attempts": 3,
    "session_expiration_time": wf.DEFAULT_EXPIRATION_SECONDS,
}


@dataclass
class WorkflowVersion:
    """One version of an API-made workflow."""

    uuid: str
    workflow_id: str
    label: str
    version: int
    status: str
    is_default: bool
    features: list[dict[str, Any]]
    options: dict[str, Any]
    created_at: float
    updated_at: float
    published_at: float | None
    url_token: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        return [f["feature"] for f in self.features]

    def to_json(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid, "workflow_id": self.workflow_id, "label": self.label, "version": self.version,
            "status": self.status, "is_default": self.is_default, "features": self.features,
            "options": self.options, "created_at": self.created_at, "updated_at": self.updated_at,
            "published_at": self.published_at, "url_token": self.url_token, "extra": self.extra,
        }


def workflow_type(features: list[str]) -> str | None:
    """Didit's `workflow_type` of a feature list."""
    if any(f.startswith("KYB_") for f in features):
        return "kyb"
    if "OCR" in features:
        return "kyc"
    if "AGE_ESTIMATION" in features:
        return "adaptive_age_verification"
    if "FACE_MATCH" in features:
        return "biometric_authentication"
    return "kyc"


# ---------------------------------------------------------------- validation

def check_features(raw: list[dict[str, Any]], questionnaire_exists: Any) -> list[dict[str, Any]]:
    """The ordered features of a body (already of the schema's types), or the 400 Didit answers."""
    if not raw:
        raise ValidationFailed.field("features", NO_FEATURE)
    seen: list[str] = []
    result = []
    for item in raw:
        name = item.get("feature")
        if name not in DECISION_FEATURE:
            raise ValidationFailed.field(
                "features", f"Invalid feature '{name}'. Allowed values: {', '.join(_LISTED)}.")
        if not seen and name in PASSIVE:
            raise ValidationFailed.field("features", f"Feature '{name}' cannot be the first step.")
        needs = PREREQUISITES.get(name)
        if needs and not any(n in seen for n in needs):
            raise ValidationFailed.field("features", f"Feature '{name}' must appear after one of: {', '.join(needs)}.")
        if name in seen:
            raise ValidationFailed.field("features", f"Feature '{name}' appears more than once.")
        config = dict(item.get("config") or {})
        if name == "QUESTIONNAIRE":
            ref = config.get("questionnaire_uuid")
            if not isinstance(ref, str) or not questionnaire_exists(ref):
                raise ValidationFailed.field(
                    "features", f"Questionnaire '{ref}' was not found for this application. Create the "
                    "questionnaire first, then use its questionnaire_id.", as_list=False)
        seen.append(name)
        entry: dict[str, Any] = {"feature": name, "config": config}
        if item.get("label") is not None:
            entry["label"] = item["label"]
        result.append(entry)
    return result


# ---------------------------------------------------------------- the catalog

class WorkflowCatalog:
    """A tenant's API-made workflow versions (the `WorkflowBook` holds what sessions run)."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.versions: dict[str, WorkflowVersion] = {}
        #: Groups whose every version was deleted: sessions can no longer name them.
        self.retired: set[str] = set()

    # -- reading
    def get(self, uuid: str) -> WorkflowVersion:
        found = self.versions.get(uuid)
        if found is None:
            raise NotFound()
        return found

    def group(self, workflow_id: str) -> list[WorkflowVersion]:
        return sorted((v for v in self.versions.values() if v.workflow_id == workflow_id), key=lambda v: v.version)

    def published(self, workflow_id: str) -> WorkflowVersion | None:
        rows = [v for v in self.group(workflow_id) if v.status == PUBLISHED]
        return rows[-1] if rows else None

    def group_of(self, some_id: str) -> str | None:
        """The group of a workflow id or of a version uuid (None: not an API-made workflow)."""
        found = self.versions.get(some_id)
        if found is not None:
            return found.workflow_id
        return some_id if any(v.workflow_id == some_id for v in self.versions.values()) else None

    def newest_first(self) -> list[WorkflowVersion]:
        """Newest `created_at` first; among equal instants, the later made first."""
        return sorted(reversed(list(self.versions.values())), key=lambda v: v.created_at, reverse=True)

    # -- changing
    def create(self, body: dict[str, Any], features: list[dict[str, Any]]) -> WorkflowVersion:
        groups = {v.workflow_id for v in self.versions.values()}
        if len(groups) >= MAX_WORKFLOWS:
            raise ValidationFailed.detail(f"An application can have at most {MAX_WORKFLOWS} workflows.")
        now = self.tenant.clock.timestamp()
        uuid = self.tenant.rng.uuid4()
        status = body.get("status") or PUBLISHED
        version = WorkflowVersion(
            uuid=uuid, workflow_id=uuid, label=body.get("workflow_label") or "ID Verification", version=1,
            status=status, is_default=bool(body.get("is_default", False)), features=features,
            options={k: body.get(k, d) for k, d in OPTION_DEFAULTS.items()}, created_at=now, updated_at=now,
            published_at=now if status == PUBLISHED else None, url_token=self.tenant.rng.token(16),
        )
        self.versions[uuid] = version
        if version.is_default:
            self._only_default(version)
        self.sync(version.workflow_id)
        return version

    def update(self, uuid: str, body: dict[str, Any], features: list[dict[str, Any]] | None) -> WorkflowVersion:
        """Didit's four versioning rules (see the module page)."""
        row = self.get(uuid)
        wanted = body.get("status")
        if wanted == DRAFT and row.status == PUBLISHED:
            raise ValidationFailed.field("status", NO_REVERT)
        now = self.tenant.clock.timestamp()
        if wanted == PUBLISHED and row.status == PUBLISHED:
            for other in self.group(row.workflow_id):
                if other.status == DRAFT:
                    del self.versions[other.uuid]
            latest = self.group(row.workflow_id)[-1].version
            row = WorkflowVersion(
                uuid=self.tenant.rng.uuid4(), workflow_id=row.workflow_id, label=row.label, version=latest + 1,
                status=PUBLISHED, is_default=row.is_default, features=list(row.features), options=dict(row.options),
                created_at=now, updated_at=now, published_at=now, url_token=self.tenant.rng.token(16),
            )
            self.versions[row.uuid] = row
        elif row.status == DRAFT and wanted != DRAFT:
            row.status = PUBLISHED
            row.published_at = now
        if "workflow_label" in body:
            row.label = body["workflow_label"]
        if "is_default" in body:
            row.is_default = bool(body["is_default"])
        for key in OPTION_DEFAULTS:
            if key in body:
                row.options[key] = body[key]
        if features is not None:
            row.features = features
        row.updated_at = now
        if row.is_default:
            self._only_default(row)
        self.sync(row.workflow_id)
        return row

    def delete(self, uuid: str) -> None:
        row = self.get(uuid)
        del self.versions[uuid]
        if not self.group(row.workflow_id):
            self.retired.add(row.workflow_id)
        self.sync(row.workflow_id)

    def _only_default(self, keep: WorkflowVersion) -> None:
        for other in self.versions.values():
            if other is not keep:
                other.is_default = False

    def sync(self, workflow_id: str) -> None:
        """Put the group's latest published version where sessions find it (or take the group away)."""
        from .sessions import workflows as workflow_book

        book = workflow_book(self.tenant)
        latest = self.published(workflow_id)
        if latest is None:
            book.custom.pop(workflow_id, None)
            return
        book.custom[workflow_id] = session_workflow(latest)

    def restore(self, versions: list[WorkflowVersion], retired: list[str]) -> None:
        self.versions = {v.uuid: v for v in versions}
        self.retired = set(retired)


def session_workflow(version: WorkflowVersion) -> wf.Workflow:
    """The `Workflow` sessions run for a published version."""
    names = version.feature_names
    decision = tuple(d for d in (DECISION_FEATURE[n] for n in names) if d is not None)
    kind = workflow_type(names) or "kyc"
    return wf.Workflow(
        workflow_id=version.workflow_id, label=version.label, template=kind, features=decision,
        version=version.version, expiration_seconds=int(version.options["session_expiration_time"]),
        requires_portrait="FACE_MATCH" in names and "OCR" not in names, builtin=False,
        extra={"settings_uuid": version.uuid, **_questionnaire_link(version), **_kyb_steps(names)},
    )


def _kyb_steps(names: list[str]) -> dict[str, Any]:
    """The KYB steps of a version (they have no decision feature of their own)."""
    steps = [n for n in wf.KYB_FEATURES if n in names]
    return {"kyb_features": steps} if steps else {}


def _questionnaire_link(version: WorkflowVersion) -> dict[str, Any]:
    """The questionnaire a QUESTIONNAIRE step names (the decision's responses follow it)."""
    for item in version.features:
        if item["feature"] == "QUESTIONNAIRE" and item["config"].get("questionnaire_uuid"):
            return {"questionnaire_id": item["config"]["questionnaire_uuid"]}
    return {}


def catalog(tenant: Tenant) -> WorkflowCatalog:
    return tenant.component(WorkflowCatalog)


def guard_session(tenant: Tenant, request: NewSession) -> None:
    """A session on an API workflow runs its latest published version (named by the group's id or by
    any version's uuid); a workflow with no published version (only a draft, or deleted) is refused."""
    book = catalog(tenant)
    if not book.versions and not book.retired:
        return
    if request.workflow_id in book.retired:
        raise ValidationFailed.field("workflow_id", "Invalid workflow_id.", as_list=False)
    group = book.group_of(request.workflow_id)
    if group is None:
        return
    if book.published(group) is None:
        raise ValidationFailed.field("workflow_id", "Invalid workflow_id.", as_list=False)
    request.workflow_id = group


# ---------------------------------------------------------------- rendering

def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _prices(names: list[str]) -> float:
    return round(sum(PRICES.get(n, 0.0) for n in names), 2)


def list_row(tenant: Tenant, v: WorkflowVersion) -> dict[str, Any]:
    names = v.feature_names
    has_draft = any(o.status == DRAFT for o in catalog(tenant).group(v.workflow_id))
    price = _prices(names)
    return {
        "uuid": v.uuid, "workflow_id": v.workflow_id, "workflow_label": v.label, "workflow_type": workflow_type(names),
        "is_default": v.is_default, "is_archived": False,
        "is_white_label_enabled": v.options["is_white_label_enabled"], "total_price": price, "min_price": price,
        "max_price": price, "features": " + ".join(names), "is_simple_workflow": True,
        "is_editable": v.status == DRAFT, "workflow_url": f"https://verify.didit.me/u/{v.url_token}",
        "max_retry_attempts": v.options["max_retry_attempts"], "retry_window_days": v.options["retry_window_days"],
        "session_expiration_time": v.options["session_expiration_time"], "version": v.version, "status": v.status,
        "has_draft": has_draft, "created_by": {"name": tenant.application_id, "email": None, "type": "api_key"},
        "updated_at": _iso(v.updated_at),
    }


#: Where a listed workflow comes from: made through the API, a scenario (or an unknown id a session
#: create took as KYC), or one of the built-ins.
MADE, CUSTOM, BUILTIN = "api", "custom", "builtin"


def listing(tenant: Tenant) -> list[tuple[str, dict[str, Any]]]:
    """Every list row of `GET /v3/workflows/` in its order, with where it comes from (under the lock).

    API-made versions newest first, then scenario workflows, then the built-ins; the KYC built-in is
    the default while no API-made workflow is.
    """
    from .sessions import workflows as workflow_book

    book = catalog(tenant)
    rows = [(MADE, list_row(tenant, v)) for v in book.newest_first()]
    api_default = any(v.is_default for v in book.versions.values())
    groups = {v.workflow_id for v in book.versions.values()} | book.retired
    others = [w for w in workflow_book(tenant).custom.values() if w.workflow_id not in groups]
    rows += [(CUSTOM, builtin_row(w, False)) for w in reversed(others)]
    rows += [(BUILTIN, builtin_row(w, not api_default and w.workflow_id == wf.KYC_ID))
             for w in wf.BUILTIN_WORKFLOWS.values()]
    return rows


def graph(v: WorkflowVersion) -> dict[str, Any]:
    """The node graph Didit builds from a simple feature list: one node per feature, then a status node."""
    ids = [f["feature"].lower() for f in v.features]
    nodes: dict[str, Any] = {}
    for i, item in enumerate(v.features):
        nodes[ids[i]] = {"type": item["feature"], "config": item["config"], "label": item.get("label"),
                         "next": ids[i + 1] if i + 1 < len(ids) else "status"}
    nodes["status"] = {"type": "STATUS", "next": None}
    return {"start_node": ids[0] if ids else "status", "nodes": nodes}


def settings_json(tenant: Tenant, v: WorkflowVersion) -> dict[str, Any]:
    """The full `VerificationSettings` object of a version (the fields the mock keeps)."""
    names = v.feature_names
    row = list_row(tenant, v)
    del row["has_draft"], row["created_by"]
    config = {f["feature"]: f["config"] for f in v.features}
    flags = {f"is_{n.lower()}_enabled": n in names for n in DECISION_FEATURE}
    return {
        **row,
        **flags,
        "is_desktop_allowed": v.options["is_desktop_allowed"],
        "face_liveness_max_attempts": v.options["face_liveness_max_attempts"],
        "face_match_max_attempts": v.options["face_match_max_attempts"],
        "face_liveness_method": config.get("LIVENESS", {}).get("face_liveness_method", "passive"),
        "duplicated_user_action": config.get("OCR", {}).get("duplicated_user_action", "no_action"),
        "questionnaire_uuid": config.get("QUESTIONNAIRE", {}).get("questionnaire_uuid"),
        "documents_allowed": config.get("OCR", {}).get("documents_allowed", {}),
        "features_config": [dict(f) for f in v.features],
        "workflow_graph": graph(v),
        "published_at": _iso(v.published_at),
        "created_at": _iso(v.created_at),
    }


#: When the built-in workflows were last changed (their rows' `updated_at`).
BUILTIN_UPDATED_AT = "2026-01-01T00:00:00.000000Z"


def builtin_row(w: wf.Workflow, is_default: bool) -> dict[str, Any]:
    """A built-in (or scenario) workflow as a published, non-editable list row."""
    api = {d: a for a, d in DECISION_FEATURE.items() if d is not None}
    names = [api[f] for f in w.features if f in api]
    price = _prices(names)
    return {
        "uuid": w.workflow_id, "workflow_id": w.workflow_id, "workflow_label": w.label,
        "workflow_type": workflow_type(names), "is_default": is_default, "is_archived": False,
        "is_white_label_enabled": False, "total_price": price, "min_price": price, "max_price": price,
        "features": " + ".join(names), "is_simple_workflow": True, "is_editable": False,
        "workflow_url": f"https://verify.didit.me/u/{w.workflow_id.replace('-', '')[:22]}",
        "max_retry_attempts": 3, "retry_window_days": 7, "session_expiration_time": w.expiration_seconds,
        "version": w.version, "status": PUBLISHED, "has_draft": False, "created_by": None,
        "updated_at": BUILTIN_UPDATED_AT,
    }

