"""The AML screening item: the person's watchlist hits (PEP or sanctions) and their review statuses."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from .. import statuses as st
from .. import workflows as wf
from ..outcomes import FeatureOutcome
from ..people import Person
from .context import UTC, WITH_RESUB, Context, finite_number, risks_of, status_within
from .layout import node_id_for

_PEP_POSITIONS = ("Member of Parliament", "Mayor", "Regional Minister", "Ambassador", "Judge of the Supreme Court")
_SANCTION_LISTS = (
    ("OFAC Specially Designated Nationals List", "US Office of Foreign Assets Control", "SDN"),
    ("EU Consolidated Financial Sanctions List", "European Commission", "EU Restrictive Measures"),
    ("UK Financial Sanctions Targets", "HM Treasury OFSI", "UK Sanctions"),
)


def aml_hit(rnd: random.Random, person: Person, sanctioned: bool, match_score: float) -> dict[str, Any]:
    """One watchlist hit on `person`: a sanctions listing, or else a PEP record."""
    hit_id = "".join(rnd.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789") for _ in range(22))
    year = str(person.date_of_birth.year)
    first_seen = datetime(2018 + rnd.randint(0, 5), rnd.randint(1, 12), rnd.randint(1, 28), tzinfo=UTC)
    last_seen = datetime(2025, rnd.randint(1, 12), rnd.randint(1, 28), tzinfo=UTC)
    url = f"https://www.opensanctions.org/entities/{hit_id}/"
    risk = 100 if sanctioned else 73
    pep = [] if sanctioned else [{
        "aliases": [person.full_name], "education": [], "list_name": "Wikidata", "publisher": "Wikidata",
        "source_url": url, "description": "Politically exposed person listed in public records.",
        "matched_name": person.full_name, "pep_position": rnd.choice(_PEP_POSITIONS), "date_of_birth": year,
        "other_sources": [], "place_of_birth": person.place_of_birth,
    }]
    list_name, authority, program = rnd.choice(_SANCTION_LISTS)
    sanctions = [{
        "list_name": [list_name], "matched_name": person.full_name,
        "description": f"Listed on the {list_name}.", "reason": None, "source_url": url, "other_sources": [],
        "details": [], "legal_basis": [], "listed_on": [f"{first_seen.year}-{first_seen.month:02d}-14"],
        "sanction_list": [list_name], "sanction_program": [program], "sanctioning_authority": [authority],
        "updated_on": [last_seen.date().isoformat()], "additional_data": {},
    }] if sanctioned else []
    category = "Sanctions" if sanctioned else "PEP"
    return {
        "id": hit_id,
        "url": url,
        "match": sanctioned,
        "score": round(match_score / 100, 2),
        "target": sanctioned,
        "caption": person.full_name,
        "datasets": [category],
        "features": None,
        "rca_name": "",
        "last_seen": last_seen.strftime("%Y-%m-%dT%H:%M:%S"),
        "risk_view": {
            "crimes": {"score": 0, "weightage": 20, "risk_level": "Low", "risk_scores": {}},
            "countries": {"score": 0, "weightage": 30, "risk_level": "Low", "risk_scores": {}},
            "categories": {"score": 100, "weightage": 50, "risk_level": "High", "risk_scores": {category: 100}},
            "custom_list": {},
        },
        "first_seen": first_seen.strftime("%Y-%m-%dT%H:%M:%S"),
        "properties": {
            "name": [person.full_name], "alias": [], "notes": [], "title": None,
            "gender": ["male" if person.gender == "M" else "female"], "height": None, "topics": None,
            "weight": None, "address": None, "country": None, "website": None, "eyeColor": None, "keywords": None,
            "lastName": person.last_name.split(), "position": None if sanctioned else pep[0]["pep_position"],
            "religion": None, "birthDate": [year], "education": [], "ethnicity": None,
            "firstName": [person.first_name], "hairColor": None, "weakAlias": None,
            "birthPlace": [person.place_of_birth], "modifiedAt": None, "wikidataId": None, "citizenship": None,
            "nationality": None,
        },
        "match_score": round(match_score, 2),
        "risk_score": risk,
        "review_status": "Unreviewed",
        "score_breakdown": {
            "name_score": 100, "name_weight": 60, "name_weight_normalized": 70.59, "name_contribution": 70.59,
            "dob_score": 100, "dob_weight": 25, "dob_weight_normalized": 29.41, "dob_contribution": 29.41,
            "country_score": 0, "country_weight": 15, "country_weight_normalized": 0, "country_contribution": 0,
            "document_number_match_type": "NEUTRAL",
            "document_number_effect": "No document number provided for screening",
            "total_score": int(round(match_score)),
        },
        "pep_matches": pep,
        "linked_entities": [],
        "warning_matches": [],
        "sanction_matches": sanctions,
        "adverse_media_details": {"sentiment": "Neutral", "entity_type": "person", "sentiment_score": 0,
                                  "adverse_keywords": {}},
        "adverse_media_matches": [],
        "additional_information": {},
    }


def aml_item(ctx: Context, outcome: FeatureOutcome) -> dict[str, Any]:
    """The `aml_screenings` item: hits as many as `data["total_hits"]` asks (at most 5), else as the status says."""
    person, rnd = ctx.person, ctx.rnd("aml")
    risks = risks_of(outcome)
    wanted = outcome.data.get("total_hits")
    flagged = "POSSIBLE_MATCH_FOUND" in risks or (isinstance(wanted, int) and wanted > 0) or \
        (outcome.status in (st.DECLINED, st.IN_REVIEW) and "COULD_NOT_PERFORM_AML_SCREENING" not in risks)
    count = min(wanted, 5) if isinstance(wanted, int) and not isinstance(wanted, bool) and wanted > 0 \
        else 1 if flagged else 0
    sanctioned = outcome.status == st.DECLINED
    score = finite_number(outcome.data.get("score"))
    if score is None:
        score = round(rnd.uniform(96.0, 100.0) if sanctioned else rnd.uniform(81.0, 92.0), 2) if count else 0.0
    hits = [aml_hit(rnd, person, sanctioned, score) for _ in range(count)]
    return {
        "node_id": node_id_for(wf.AML),
        "status": status_within(outcome.status, WITH_RESUB),
        "total_hits": len(hits),
        "entity_type": "person",
        "hits": hits,
        "score": score,
        "screened_data": {
            "full_name": person.full_name, "nationality": person.nationality,
            "date_of_birth": person.date_of_birth.isoformat(),
            "document_number": person.document_number if ctx.ran(wf.ID_VERIFICATION) else None,
        },
        "is_ongoing_monitoring_enabled": False,
        "next_ongoing_monitoring_bill_date": None,
        "last_ongoing_screening_at": None,
        "last_ongoing_screening_datasets_updated_at": None,
        "warnings": ctx.warnings(outcome),
    }


def apply_hit_reviews(item: dict[str, Any], overrides: dict[str, Any]) -> None:
    """The review statuses a reviewer gave hits (`overrides["hit_review_status"]`: hit id -> status)."""
    reviewed = overrides.get("hit_review_status") or {}
    for hit in item.get("hits") or []:
        if isinstance(hit, dict) and hit.get("id") in reviewed:
            hit["review_status"] = reviewed[hit["id"]]
