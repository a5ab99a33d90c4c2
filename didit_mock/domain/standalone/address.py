"""Proof of address without a session (§1.6): the person's bill, read by the session's own builder."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from .. import statuses as st
from .. import workflows as wf
from ..decision.assembly import feature_item
from ..errors import ValidationFailed
from ..outcomes import FeatureOutcome
from ..people import country, person_for, session_day
from . import record
from .armed import armed
from .faces import Request, Steer
from .images import ImageFacts
from .texts import warning

if TYPE_CHECKING:
    from ..tenant import Tenant

FEATURE = "PROOF_OF_ADDRESS"
AGE_KEYS = ("utility_bill", "bank_statement", "government_issued_document", "other_poa_document")
DEFAULT_AGE_MONTHS = {"utility_bill": 3, "bank_statement": 3, "government_issued_document": 12,
                      "other_poa_document": 12}
SUBTYPES = {"UTILITY_BILL": "ELECTRICITY_BILL", "BANK_STATEMENT": "ACCOUNT_STATEMENT"}
EXPIRED_ISSUE_DATE = "2021-02-10"
KEYS = ("status", "issuing_state", "document_type", "document_subtype", "document_language", "issuer", "issue_date",
        "expiration_date", "poa_address", "poa_formatted_address", "poa_parsed_address", "expected_details_address",
        "expected_details_formatted_address", "expected_details_parsed_address", "name_on_document", "extra_fields",
        "detected_codes", "warnings")
_UNREAD = ("issuing_state", "document_language", "issuer", "issue_date", "expiration_date", "poa_address",
           "poa_formatted_address", "poa_parsed_address", "name_on_document")


def document_ages(raw: str | None) -> dict[str, int]:
    """`poa_document_age_months` (`utility_bill:3,bank_statement:6`): sent types only, or the defaults."""
    if raw is None or not raw.strip():
        return dict(DEFAULT_AGE_MONTHS)
    ages: dict[str, int] = {}
    for part in raw.split(","):
        key, _, value = part.partition(":")
        key, value = key.strip(), value.strip()
        if key not in AGE_KEYS:
            raise ValidationFailed.field("poa_document_age_months", f"Invalid document type '{key}'. Must be one of: "
                                                                    f"{', '.join(AGE_KEYS)}.")
        try:
            months = int(value)
        except ValueError:
            months = 0
        if months != -1 and not 1 <= months <= 120:
            raise ValidationFailed.field("poa_document_age_months", (
                f"Invalid integer value for '{key}': '{value}'. Must be -1 (unlimited) or a positive integer "
                "between 1 and 120."))
        ages[key] = months
    return ages


def _months_between(start: date, end: date) -> float:
    return (end - start).days / 30.4375


def _words(text: str | None) -> set[str]:
    return {w for w in (text or "").lower().replace(",", " ").split() if w}


def proof_of_address(tenant: Tenant, request: Request, document: ImageFacts, options: dict[str, Any]) -> dict[str, Any]:
    ages = document_ages(options.get("poa_document_age_months"))
    steer = Steer.of(armed(tenant).take("poa", request.vendor_data), document)
    if steer.status == st.DECLINED and not steer.risks and not steer.scenario:
        steer.scenario = "decline_document_expired"
    key = document.identity(request.vendor_data)
    session = record.new_call(tenant, "POA", wf.POA, key, request.vendor_data, request.metadata, saved=request.save)
    outcome = FeatureOutcome(wf.POA)
    unreadable = not document.usable or steer.wants("no_document")
    if steer.wants("decline_document_expired", "POA_DOCUMENT_EXPIRED"):
        outcome.data = {"issue_date": EXPIRED_ISSUE_DATE}
    session.outcomes = {wf.POA: outcome}
    draft = feature_item(tenant, session, wf.POA)  # the bill as read, before the rules
    person = person_for(tenant, session)
    declines = {"DECLINE": "error", "NO_ACTION": "information"}
    mismatch = declines[str(options.get("poa_address_mismatch_action") or "DECLINE")]
    warnings = []
    kind = "UNKNOWN" if unreadable else str(draft["document_type"])
    if unreadable:
        warnings += [warning(FEATURE, r, "error") for r in (
            "INVALID_DOCUMENT_TYPE", "MISSING_ADDRESS_INFORMATION", "UNABLE_TO_EXTRACT_ISSUE_DATE",
            "POA_NAME_NOT_DETECTED")]
    else:
        issued = date.fromisoformat(str(draft["issue_date"]))
        months = ages.get(kind.lower())
        if months is None:
            warnings.append(warning(FEATURE, "POA_DOCUMENT_NOT_SUPPORTED_FOR_APPLICATION", "information"))
        elif months != -1 and _months_between(issued, session_day(session)) > months:
            warnings.append(warning(FEATURE, "POA_DOCUMENT_EXPIRED", "error", {
                "expiration_reason": "age_window", "document_type": kind, "document_subtype": SUBTYPES.get(kind),
                "issue_date": issued.isoformat(), "max_age_months": months}))
        expected_address = options.get("expected_address")
        home = {person.postal_code.lower()} | _words(person.city)  # the expected address must name both
        if steer.wants("decline_poa_address_mismatch", "ADDRESS_MISMATCH_WITH_PROVIDED") or (
                expected_address and not home <= _words(expected_address)):
            warnings.append(warning(FEATURE, "ADDRESS_MISMATCH_WITH_PROVIDED", mismatch))
        expected_name = _words(f"{options.get('expected_first_name') or ''} {options.get('expected_last_name') or ''}")
        if steer.wants("review_poa_partial_match", "NAME_MISMATCH_WITH_PROVIDED") or (
                expected_name and not expected_name <= _words(person.full_name)):
            warnings.append(warning(FEATURE, "NAME_MISMATCH_WITH_PROVIDED",
                                    "information" if steer.wants("review_poa_partial_match") else mismatch))
        expected_country = options.get("expected_country")
        if expected_country and country(str(expected_country)).alpha2 != draft["issuing_state"]:
            warnings.append(warning(FEATURE, "POA_COUNTRY_MISMATCH_WITH_PROVIDED", mismatch))
    for risk in sorted(steer.risks - {w.risk for w in warnings}):
        warnings.append(warning(FEATURE, risk, "error"))
    outcome.warnings = warnings
    if unreadable:
        outcome.data = {**outcome.data, "document_type": "UNKNOWN"}
    status = record.final_status(outcome)
    if steer.status is not None:
        status = st.APPROVED if steer.status == st.APPROVED else st.DECLINED
    outcome.status = status
    record.finish(tenant, session, {wf.POA: outcome}, status, saved=request.save)
    item = record.item(tenant, session, wf.POA)
    result = {name: item.get(name) for name in KEYS}
    result["document_subtype"] = "UNKNOWN" if unreadable else SUBTYPES.get(kind, "UNKNOWN")
    expected_address = options.get("expected_address")
    result.update({"expected_details_address": expected_address or None,
                   "expected_details_formatted_address": person.formatted_address if expected_address else None,
                   "expected_details_parsed_address": item.get("poa_parsed_address") if expected_address else None})
    if unreadable:
        result.update({name: None for name in _UNREAD})
    return record.envelope(tenant, session, "poa", result)
