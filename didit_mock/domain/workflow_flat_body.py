"""The older flat workflow body (compat switch `workflow-flat-body`), mapped to the ordered `features`.

Didit's skills scripts, its smoke suite and the older MCP server create workflows with
`workflow_type` and `is_*_enabled` flags (`is_liveness_enabled`, `is_face_match_enabled`,
`is_aml_enabled`, ...) and flat thresholds such as `face_match_score_decline_threshold`; the v3
API only takes `features` and answers such a body with its 400. With the switch on, a body with
flags or a `workflow_type` and no `features` is read as follows:

* `workflow_type` turns on its base steps (`kyc`: OCR; `adaptive_age_verification`: LIVENESS and
  AGE_ESTIMATION; `biometric_authentication`: LIVENESS), then each flag turns its step on (true) or
  off (false);
* the steps run in Didit's order (OCR, NFC, LIVENESS, FACE_MATCH, AGE_ESTIMATION, PROOF_OF_ADDRESS,
  DOCUMENT_AI, PHONE_VERIFICATION, EMAIL_VERIFICATION, QUESTIONNAIRE, DATABASE_VALIDATION, AML,
  IP_ANALYSIS, then the KYB steps);
* a flat setting goes to the `config` of the step it belongs to (by its prefix: `face_match_*` to
  FACE_MATCH, `face_liveness_*` to LIVENESS, `aml_*` to AML, `questionnaire_uuid` to QUESTIONNAIRE,
  `duplicated_user_action` and `documents_allowed` to OCR, ...); one whose step is off is dropped.

On an update the flags change the workflow's current steps (their configs are kept). Every other
key still gets the v3 API's whitelist 400, so a misspelt key is not silently ignored.
"""

from __future__ import annotations

from typing import Any

from .errors import ValidationFailed

#: Didit's step order for a workflow built from flags.
ORDER = (
    "OCR", "NFC", "LIVENESS", "FACE_MATCH", "AGE_ESTIMATION", "PROOF_OF_ADDRESS", "DOCUMENT_AI",
    "PHONE_VERIFICATION", "EMAIL_VERIFICATION", "QUESTIONNAIRE", "DATABASE_VALIDATION", "AML", "IP_ANALYSIS",
    "KYB_REGISTRY", "KYB_DOCUMENTS", "KYB_KEY_PEOPLE",
)
#: Flag -> step: `is_<feature>_enabled` for every step, and the older short names.
FLAGS: dict[str, str] = {
    **{f"is_{name.lower()}_enabled": name for name in ORDER},
    "is_poa_enabled": "PROOF_OF_ADDRESS", "is_phone_enabled": "PHONE_VERIFICATION",
    "is_email_enabled": "EMAIL_VERIFICATION", "is_id_verification_enabled": "OCR",
}
#: `workflow_type` -> the steps it starts with.
TYPE_STEPS: dict[str, tuple[str, ...]] = {
    "kyc": ("OCR",),
    "adaptive_age_verification": ("LIVENESS", "AGE_ESTIMATION"),
    "biometric_authentication": ("LIVENESS",),
    "kyb": ("KYB_REGISTRY",),
}
#: Flat settings -> their step, by exact name first, then by prefix.
SETTING_STEPS: dict[str, str] = {
    "duplicated_user_action": "OCR", "documents_allowed": "OCR", "questionnaire_uuid": "QUESTIONNAIRE",
    "review_questionnaire_manually": "QUESTIONNAIRE",
}
PREFIX_STEPS = (
    ("face_match_", "FACE_MATCH"), ("face_liveness_", "LIVENESS"), ("liveness_", "LIVENESS"), ("aml_", "AML"),
    ("nfc_", "NFC"), ("age_estimation_", "AGE_ESTIMATION"), ("poa_", "PROOF_OF_ADDRESS"),
    ("phone_", "PHONE_VERIFICATION"), ("email_", "EMAIL_VERIFICATION"), ("database_validation_", "DATABASE_VALIDATION"),
    ("ip_analysis_", "IP_ANALYSIS"), ("document_ai_", "DOCUMENT_AI"), ("ocr_", "OCR"),
)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def is_flat(body: dict[str, Any]) -> bool:
    """A body written the older way: flags or a `workflow_type`, and no `features`."""
    return "features" not in body and ("workflow_type" in body or any(key in FLAGS for key in body))


def step_of(key: str, accepted: tuple[str, ...]) -> str | None:
    """The step a flat setting configures (None: not a flat setting, or one the v3 body takes as is)."""
    if key in accepted:
        return None
    if key in SETTING_STEPS:
        return SETTING_STEPS[key]
    return next((step for prefix, step in PREFIX_STEPS if key.startswith(prefix)), None)


def to_features(body: dict[str, Any], accepted: tuple[str, ...],
                current: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The v3 body of a flat one: flags and type become `features` (from `current` on an update)."""
    kind = body.get("workflow_type")
    if kind is not None and kind not in TYPE_STEPS:
        raise ValidationFailed.field("workflow_type", f'"{kind}" is not a valid choice.')
    configs = {item["feature"]: dict(item.get("config") or {}) for item in current or []}
    labels = {item["feature"]: item["label"] for item in current or [] if item.get("label") is not None}
    on = list(configs) if current is not None else []
    for step in TYPE_STEPS.get(kind or "", ()):
        if step not in on:
            on.append(step)
    for key, value in body.items():
        if key in FLAGS:
            step = FLAGS[key]
            if _boolean(key, value):
                if step not in on:
                    on.append(step)
            elif step in on:
                on.remove(step)
    rest: dict[str, Any] = {}
    for key, value in body.items():
        if key in FLAGS or key == "workflow_type":
            continue
        step = step_of(key, accepted)
        if step is None:
            rest[key] = value
        elif step in on:
            configs.setdefault(step, {})[key] = value
    before = [item["feature"] for item in current or []]
    if current is not None and set(on) == set(before):
        if not any(step_of(key, accepted) for key in body if key not in FLAGS):
            return rest  # neither the steps nor their settings changed: the update keeps them
        ordered = before
    else:
        ordered = sorted(on, key=ORDER.index)
    features = []
    for step in ordered:
        item: dict[str, Any] = {"feature": step, "config": configs.get(step, {})}
        if step in labels:
            item["label"] = labels[step]
        features.append(item)
    return {**rest, "features": features}


def _boolean(key: str, value: Any) -> bool:
    """A flag's value as DRF's BooleanField reads it, or its 400."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (str, int)) and str(value).strip().lower() in _TRUE | _FALSE:
        return str(value).strip().lower() in _TRUE
    raise ValidationFailed.field(key, "Must be a valid boolean.")
