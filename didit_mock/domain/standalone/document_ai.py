"""Document AI without a session (§1.7): custom fields read from the document's synthetic person.

The values come from the person the document belongs to (a fixture's person, the vendor_data, or
the document's bytes): a name-like text field is the person's name, an address field their address,
a company-like field a company of theirs, a `number` field an amount, a `date` field a recent day.
The risks follow the request's actions (DECLINE -> `error`, REVIEW -> `warning`, NO_ACTION ->
`information`); any error declines, else any warning reviews.

Directives (armed outcomes or a fixture's scenario): `unreadable`, `unsupported`, `tampered`,
`name_mismatch`, `missing:<key>` (that value is not read), or risk codes.
"""

from __future__ import annotations

import difflib
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .. import statuses as st
from ..outcomes import FeatureOutcome
from ..people import Person, country, person_for, seeded_fake, session_day
from ..rng import derive_seed
from . import record
from .armed import armed
from .document_ai_fields import FieldSpec
from .faces import Request, Steer
from .images import ImageFacts
from .texts import warning

if TYPE_CHECKING:
    from ..sessions import Session
    from ..tenant import Tenant

FEATURE = "DOCUMENT_AI"
ENDPOINT = "document-ai"
UNREADABLE = "DOCUMENT_AI_UNREADABLE_DOCUMENT"
MISSING = "DOCUMENT_AI_MISSING_REQUIRED_FIELDS"
TAMPERED = "DOCUMENT_AI_SUSPECTED_MANIPULATION"
MISMATCH = "DOCUMENT_AI_NAME_MISMATCH"
UNSUPPORTED = "DOCUMENT_AI_UNSUPPORTED_FILE"
#: risk -> (the request's action field, its default)
ACTIONS = {
    UNREADABLE: ("document_ai_unreadable_document_action", "REVIEW"),
    MISSING: ("document_ai_missing_required_fields_action", "REVIEW"),
    TAMPERED: ("document_ai_document_tampering_action", "DECLINE"),
    MISMATCH: ("document_ai_name_mismatch_action", "NO_ACTION"),
    UNSUPPORTED: ("document_ai_unsupported_file_action", "REVIEW"),
}
LOG_TYPES = {"DECLINE": "error", "REVIEW": "warning", "NO_ACTION": "information"}
DEFAULT_THRESHOLD = 80
_COMPANY_WORDS = ("company", "employer", "business", "merchant", "issuer", "organization", "organisation", "bank",
                  "vendor", "supplier", "landlord", "insurer", "provider")


@dataclass(frozen=True)
class Upload:
    """The uploaded document as the web layer read it: an image/PDF, a ZIP, or bytes it cannot read."""

    image: ImageFacts | None  # None: an unsupported file (not the type its name claims)
    filename: str
    size: int


@dataclass(frozen=True)
class Expected:
    """The names to compare with the one on the document (a person's, or a company's)."""

    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    company_country: str | None = None

    @property
    def given(self) -> str | None:
        if self.company_name:
            return self.company_name
        joined = " ".join(p for p in (self.first_name, self.last_name) if p)
        return joined or None


def _is_company(key: str) -> bool:
    return any(word in key for word in _COMPANY_WORDS)


def _is_person_name(field: FieldSpec) -> bool:
    return field.type == "text" and "name" in field.key and not _is_company(field.key)


def name_field(fields: list[FieldSpec], expected: Expected) -> FieldSpec | None:
    """The field whose value is compared: the `is_full_name` one, else the first name-like text field."""
    flagged = next((f for f in fields if f.is_full_name), None)
    if flagged is not None:
        return flagged
    if expected.company_name:
        return next((f for f in fields if f.type == "text" and _is_company(f.key)), None)
    return next((f for f in fields if _is_person_name(f)), None)


def company_name(tenant: Tenant, person: Person) -> str:
    """The company the person's documents name (their employer, their bank): stable per person."""
    home = country(person.issuing_state)
    return seeded_fake(home.locale, derive_seed(tenant.seed, "document-ai-company", person.key),
                       lambda fake: str(fake.company()))


def _text_value(tenant: Tenant, person: Person, field: FieldSpec, rnd: random.Random) -> str:
    key = field.key
    if field.is_full_name:
        return person.full_name
    if _is_company(key):
        return company_name(tenant, person)
    table = (("first_name", person.first_name), ("given_name", person.first_name), ("last_name", person.last_name),
             ("surname", person.last_name), ("family_name", person.last_name), ("name", person.full_name),
             ("email", person.email), ("phone", person.phone), ("postal", person.postal_code),
             ("zip", person.postal_code), ("city", person.city), ("address", person.formatted_address),
             ("country", person.country_code), ("nationality", person.nationality),
             ("iban", f"{person.country_code}{rnd.randint(10, 99)}{rnd.randint(10**15, 10**16 - 1)}"),
             ("document_number", person.document_number), ("number", f"{rnd.randint(10**7, 10**8 - 1)}"),
             ("id", f"{rnd.randint(10**7, 10**8 - 1)}"), ("currency", "EUR"))
    for word, value in table:
        if word in key:
            return value
    return f"{field.name} {rnd.randint(100, 999)}"


def extracted_value(tenant: Tenant, person: Person, session: Session, field: FieldSpec) -> Any:
    """The value of one field, the same for the same person, field and day."""
    rnd = random.Random(derive_seed(tenant.seed, "document-ai", person.key, field.key, field.type))
    if field.type == "number":
        return round(rnd.uniform(1000, 5000), 2)
    if field.type == "date":
        if "birth" in field.key or "dob" in field.key:
            return person.date_of_birth.isoformat()
        return (session_day(session) - timedelta(days=rnd.randint(1, 60))).isoformat()
    return _text_value(tenant, person, field, rnd)


def name_score(expected: str, found: str | None) -> float | None:
    """0-100: the token-sorted similarity of the two names (100 when they hold the same words)."""
    if found is None:
        return None
    left = " ".join(sorted(expected.lower().split()))
    right = " ".join(sorted(found.lower().split()))
    return round(difflib.SequenceMatcher(None, left, right).ratio() * 100, 2)


def _missing_keys(steer: Steer) -> set[str]:
    names = {steer.scenario or ""} | steer.risks
    return {n.split(":", 1)[1].lower() for n in names if n.lower().startswith("missing:")}


def document_ai(tenant: Tenant, request: Request, upload: Upload, fields: list[FieldSpec], expected: Expected,
                options: dict[str, Any]) -> dict[str, Any]:
    """One Document AI call: the extracted values, the risks by the request's actions, saved or not."""
    image = upload.image
    steer = Steer.of(armed(tenant).take(ENDPOINT, request.vendor_data), *([image] if image else []))
    identity = image.identity(request.vendor_data) if image is not None else (
        "vendor:" + request.vendor_data if request.vendor_data else "file:" + upload.filename)
    session = record.new_call(tenant, "DOCUMENT_AI", FEATURE, identity, request.vendor_data, request.metadata,
                              saved=request.save)
    person = person_for(tenant, session)
    unsupported = image is None or steer.wants("unsupported", UNSUPPORTED)
    unreadable = not unsupported and (not image.usable or steer.wants("unreadable", "no_document", UNREADABLE))
    missing = _missing_keys(steer)
    read = not (unsupported or unreadable)
    extracted = {f.key: extracted_value(tenant, person, session, f) if read and f.key not in missing else None
                 for f in fields}
    chosen = name_field(fields, expected)
    name_on_document = extracted.get(chosen.key) if chosen is not None else None
    given = expected.given
    score = name_score(given, name_on_document) if given and name_on_document is not None else None
    if score is not None and steer.wants("name_mismatch", MISMATCH):
        score = min(score, 35.0)
    threshold = options.get("document_ai_name_match_score_threshold")
    threshold = DEFAULT_THRESHOLD if threshold is None else int(threshold)

    def action_warning(risk: str, data: Any = None) -> Any:
        field_name, default = ACTIONS[risk]
        return warning(FEATURE, risk, LOG_TYPES[str(options.get(field_name) or default)], data)

    warnings = []
    if unsupported:
        warnings.append(action_warning(UNSUPPORTED))
    elif unreadable:
        warnings.append(action_warning(UNREADABLE))
    else:
        absent = [f.name for f in fields if f.required and extracted[f.key] is None]
        if absent or steer.wants(MISSING):
            warnings.append(action_warning(MISSING, {"missing_fields": absent}))
        if steer.wants("tampered", TAMPERED):
            warnings.append(action_warning(TAMPERED, {"detection_method": "known_editor",
                                                      "processed_by_known_editor": "ilovepdf"}))
        if score is not None and score < threshold:
            warnings.append(action_warning(MISMATCH, {"name_on_document": name_on_document, "score": score,
                                                      "threshold": threshold}))
    for risk in sorted(steer.risks - {w.risk for w in warnings} - set(ACTIONS)):
        if not risk.lower().startswith("missing:"):
            warnings.append(warning(FEATURE, risk, "error"))
    status = st.DECLINED if any(w.log_type == "error" for w in warnings) else \
        st.IN_REVIEW if any(w.log_type == "warning" for w in warnings) else st.APPROVED
    if steer.status is not None:
        status = steer.status
    result = {
        "status": status,
        "extracted_data": extracted,
        "detected_codes": [],
        "fields": [f.to_dict() for f in fields],
        "name_match_score": score,
        "name_on_document": name_on_document,
        "warnings": [w.to_dict(None) for w in warnings],
    }
    for item in result["warnings"]:
        item.pop("node_id", None)
    outcome = FeatureOutcome(FEATURE, status, warnings)
    if request.save:
        session.data_overrides[FEATURE] = {"group": _decision_group(tenant, session, upload, result)}
    record.finish(tenant, session, {FEATURE: outcome}, status, saved=request.save)
    return record.envelope(tenant, session, "document_ai", result)


def _decision_group(tenant: Tenant, session: Session, upload: Upload, result: dict[str, Any]) -> dict[str, Any]:
    """`document_ai_documents[0]` of the saved call's decision: one node group with one document."""
    node = "default"
    warnings = [{**w, "node_id": node} for w in result["warnings"]]
    document = {
        "uuid": tenant.rng.uuid4(), "node_id": node, "document_key": "document",
        "original_filename": upload.filename, "file_size": upload.size, "file_url": None,
        "status": result["status"], "extracted_data": dict(result["extracted_data"]),
        "detected_codes": [], "fields": [dict(f) for f in result["fields"]], "document_metadata": None,
        "name_match_score": result["name_match_score"], "name_on_document": result["name_on_document"],
        "warnings": warnings,
    }
    return {"status": result["status"], "node_id": node, "items": [document], "warnings": warnings}
