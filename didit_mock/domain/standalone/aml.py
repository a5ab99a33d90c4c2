"""AML screening without a session (§1.8): a fictional watchlist, Didit's scoring, idempotent replays.

The watchlist names are fixed so a test can rely on them (docs/standalone.md): a name is scored
against each entry with Didit's weighted formula (name, date of birth, country; weights
re-normalised over the components sent); hits below `aml_match_score_threshold` are False
Positives; `score` is the highest risk of the others; the thresholds give the status.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import statuses as st
from .. import workflows as wf
from ..errors import DiditError, ValidationFailed
from ..outcomes import SANDBOX_SLUGS, FeatureOutcome
from . import record
from .armed import armed
from .texts import warning

if TYPE_CHECKING:
    from ..tenant import Tenant


@dataclass(frozen=True)
class Listed:
    """One entry of the mock's watchlist."""

    name: str
    category: str  # PEP | Sanctions | Adverse Media
    risk: int
    birth_date: str | None
    country: str | None  # alpha-2
    position: str | None = None


WATCHLIST = (
    Listed("Antonio Ejemplo Modelo", "PEP", 73, "1972-02-29", "ES", "Member of the Parliament of Spain"),
    Listed("Ivan Sanctionov", "Sanctions", 100, "1965-07-14", "RU"),
    Listed("Maria Adversa", "Adverse Media", 60, "1980-11-03", "IT"),
)
#: A name must resemble an entry this much (token-sorted ratio, 0-100) to be a candidate hit.
CANDIDATE_NAME_SCORE = 60


def _tokens(name: str) -> str:
    return " ".join(sorted(name.lower().split()))


def name_score(a: str, b: str) -> float:
    return round(difflib.SequenceMatcher(None, _tokens(a), _tokens(b)).ratio() * 100, 2)


def _component_scores(request: dict[str, Any], entry: Listed) -> dict[str, float | None]:
    dob = request.get("date_of_birth")
    nationality = (request.get("nationality") or "").upper() or None
    dob_score: float | None = None
    if dob and entry.birth_date:
        dob_score = 100.0 if dob == entry.birth_date else 50.0 if dob[:4] == entry.birth_date[:4] else -100.0
    country_score: float | None = None
    if nationality and entry.country:
        country_score = 100.0 if nationality == entry.country else -50.0
    return {"name": name_score(request["full_name"], entry.name), "dob": dob_score, "country": country_score}


def _hit(request: dict[str, Any], entry: Listed, weights: dict[str, int], threshold: int) -> dict[str, Any]:
    scores = _component_scores(request, entry)
    present = {k: weights[k] for k, v in scores.items() if v is not None}
    total_weight = sum(present.values()) or 1
    normalised = {k: round(w * 100 / total_weight, 2) for k, w in present.items()}
    contributions = {k: round((scores[k] or 0) * normalised[k] / 100, 2) for k in present}
    match_score = round(max(0.0, min(100.0, sum(contributions.values()))), 2)
    identifier = hashlib.sha256(entry.name.encode()).hexdigest()[:22]
    url = f"https://www.opensanctions.org/entities/mock-{identifier}/"
    pep = [{"list_name": "Wikidata", "publisher": "Wikidata", "source_url": url, "description":
            "Politically exposed person listed in public records.", "matched_name": entry.name,
            "pep_position": entry.position, "date_of_birth": entry.birth_date, "place_of_birth": "Sevilla, Spain",
            "aliases": [], "education": [], "other_sources": []}] if entry.category == "PEP" else []
    sanctions = [{"list_name": ["OFAC Specially Designated Nationals List"], "matched_name": entry.name,
                  "source_url": url}] if entry.category == "Sanctions" else []
    media = [{"headline": f"{entry.name} named in fraud investigation", "summary": "Fictional article of the mock.",
              "sentiment": "Negative", "sentiment_score": -1, "source_url": url, "thumbnail": "",
              "country": entry.country, "author_name": "didit-mock", "publication_date": "2024-05-02",
              "adverse_keywords": ["fraud"], "other_sources": []}] if entry.category == "Adverse Media" else []

    def part(key: str) -> dict[str, Any]:
        return {f"{key}_score": int(scores[key] or 0), f"{key}_weight": weights[key],
                f"{key}_weight_normalized": normalised.get(key, 0), f"{key}_contribution": contributions.get(key, 0)}

    return {
        "id": f"mock-{identifier}", "url": url, "match": match_score >= threshold, "score": round(match_score / 100, 2),
        "match_score": match_score, "risk_score": entry.risk, "target": entry.category == "Sanctions",
        "caption": entry.name, "datasets": [entry.category], "features": None,
        "properties": {"name": [entry.name], "alias": [], "notes": [], "gender": [],
                       "birthDate": [entry.birth_date] if entry.birth_date else [], "birthPlace": [],
                       "nationality": entry.country, "position": entry.position},
        "rca_name": "", "pep_matches": pep, "sanction_matches": sanctions, "warning_matches": [],
        "adverse_media_matches": media, "adverse_media_details": {},
        "first_seen": "2019-03-01T00:00:00Z", "last_seen": "2025-01-15T00:00:00Z", "linked_entities": [],
        "risk_view": {"categories": {"score": entry.risk, "weightage": 50, "risk_level": "High" if entry.risk >= 80
                                     else "Medium", "risk_scores": {entry.category: entry.risk}}},
        "additional_information": {"flag_summary": [entry.category]},
        "review_status": "Unreviewed" if match_score >= threshold else "False Positive",
        "score_breakdown": {**part("name"), **part("dob"), **part("country"),
                            "document_number_match_type": "NEUTRAL",
                            "document_number_effect": "No document number provided for screening",
                            "total_score": int(round(match_score))},
    }


def _cross_field_errors(body: dict[str, Any]) -> None:
    weights = (body["aml_name_weight"], body["aml_dob_weight"], body["aml_country_weight"])
    if sum(weights) != 100:
        raise ValidationFailed({"error": [f"AML weights must sum to 100. Current sum: {sum(weights)} "
                                          f"(name: {weights[0]}, dob: {weights[1]}, country: {weights[2]})"]})
    approve, review = float(body["aml_score_approve_threshold"]), float(body["aml_score_review_threshold"])
    if approve > review:
        raise ValidationFailed({"error": [f"Approve threshold ({approve}) cannot be greater than review "
                                          f"threshold ({review})"]})
    if body["include_ongoing_monitoring"] and not body["save_api_request"]:
        raise ValidationFailed({"error": ["Ongoing monitoring can only be enabled when the API request is saved."]})


DEFAULTS = {"entity_type": "person", "aml_score_approve_threshold": 80, "aml_score_review_threshold": 100,
            "aml_name_weight": 60, "aml_dob_weight": 25, "aml_country_weight": 15, "aml_match_score_threshold": 93,
            "include_adverse_media": False, "include_ongoing_monitoring": False, "save_api_request": True}


def screen(tenant: Tenant, request: dict[str, Any]) -> dict[str, Any]:
    """One screening (the body already checked against the spec's schema)."""
    body = {**DEFAULTS, **{k: v for k, v in request.items() if v is not None}}
    _cross_field_errors(body)
    scenario = body.get("sandbox_scenario")
    if scenario is not None:
        if not tenant.is_sandbox:
            raise ValidationFailed.field("sandbox_scenario",
                                         "Sandbox scenarios are only available for sandbox applications.")
        if scenario not in SANDBOX_SLUGS:
            raise ValidationFailed.field("sandbox_scenario", f"Unknown sandbox scenario: '{scenario}'.")
    directive = armed(tenant).take("aml", body.get("vendor_data"))
    if directive is not None and directive.scenario:
        scenario = directive.scenario
    threshold = int(body["aml_match_score_threshold"])
    weights = {"name": body["aml_name_weight"], "dob": body["aml_dob_weight"], "country": body["aml_country_weight"]}
    entries = [e for e in WATCHLIST if name_score(body["full_name"], e.name) >= CANDIDATE_NAME_SCORE]
    if scenario in ("decline_aml_hit", "review_aml_possible_match") and not entries:
        entries = [WATCHLIST[1] if scenario == "decline_aml_hit" else WATCHLIST[0]]
        forced = {**body, "full_name": entries[0].name, "date_of_birth": entries[0].birth_date,
                  "nationality": entries[0].country}
        hits = [_hit(forced, e, weights, threshold) for e in entries]
    else:
        hits = [_hit(body, e, weights, threshold) for e in entries]
    kept = [h for h in hits if h["review_status"] != "False Positive"]
    score = float(max((h["risk_score"] for h in kept), default=0))
    approve, review = float(body["aml_score_approve_threshold"]), float(body["aml_score_review_threshold"])
    status = st.DECLINED if score > review else st.IN_REVIEW if score > approve else st.APPROVED
    if scenario == "decline_aml_hit":
        status = st.DECLINED
    elif scenario == "review_aml_possible_match":
        status = st.IN_REVIEW
    if directive is not None and directive.status is not None:
        status = directive.status
    outcome = FeatureOutcome(wf.AML, status)
    if (score != 0 and score >= approve) or status != st.APPROVED:
        outcome.warnings = [warning("AML", "POSSIBLE_MATCH_FOUND", "warning")]
    screened = {"full_name": body["full_name"], "date_of_birth": body.get("date_of_birth"),
                "nationality": body.get("nationality"), "document_number": body.get("document_number")}
    # The decision's schema has no nulls for these: what was not sent is left out there.
    shown = {k: v for k, v in screened.items() if v is not None or k == "document_number"}
    outcome.data = {"total_hits": len(hits), "hits": hits, "score": score, "screened_data": shown,
                    "entity_type": body["entity_type"],
                    "is_ongoing_monitoring_enabled": bool(body["include_ongoing_monitoring"])}
    saved = bool(body["save_api_request"])
    vendor_data = body.get("vendor_data")
    key = "vendor:" + vendor_data if vendor_data is not None else "aml:" + body["full_name"]
    session = record.new_call(tenant, "AML", wf.AML, key, vendor_data, body.get("metadata"), saved=saved)
    record.finish(tenant, session, {wf.AML: outcome}, status, saved=saved)
    item = record.item(tenant, session, wf.AML)
    result = {name: item[name] for name in ("status", "total_hits", "entity_type", "hits", "score", "warnings")}
    result["screened_data"] = screened
    return record.envelope(tenant, session, "aml", result)


@dataclass
class IdempotencyBook:
    """AML answers by `Idempotency-Key`: the same key and body replay, another body is a 409."""

    tenant: Any
    answers: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def replay(self, key: str, body: Any) -> dict[str, Any] | None:
        stored = self.answers.get(key)
        if stored is None:
            return None
        if stored[0] != fingerprint(body):
            raise DiditError({"detail": "Idempotency-Key has already been used with a different request body."}, 409)
        return json.loads(json.dumps(stored[1]))

    def keep(self, key: str, body: Any, answer: dict[str, Any]) -> None:
        self.answers[key] = (fingerprint(body), json.loads(json.dumps(answer)))


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
