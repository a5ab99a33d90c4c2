"""The mock's company registry (§1.11, §3.4): who a KYB search finds and what a retrieval returns.

* a name containing `Tesco` (or the number `00445790`) finds Didit's own example candidates, and
  Tesco PLC retrieves the documented profile (`In Review` while `active`, no ownership data); the
  `search_type` decides which of them: `contains` (the default) both, `start_with` those whose
  name starts with the name searched, `fuzzy` also a misspelt `Tesco` (`Tesko`, `Tescco`);
* `Dissolved` finds one dissolved company: retrieving it declines;
* `Pending` finds companies whose registry is slow: a search with `webhook_url` and every
  retrieval stay pending until the admin API resolves them;
* `No Match` finds nothing (an empty search is free);
* anything else finds one or two companies made up from the name, the country and the tenant's
  seed: the same search on the same seed finds the same companies.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from difflib import SequenceMatcher
from typing import Any

from .people import seeded_fake
from .rng import derive_seed

TESCO_NUMBER = "00445790"
_TESCO_ADDRESS = "Tesco House, Shire Park, Kestrel Way, Welwyn Garden City, United Kingdom, AL7 1GA"
#: Locales of the registries the generated companies come from (others: en_US).
_LOCALES = {"GB": "en_GB", "DE": "de_DE", "FR": "fr_FR", "ES": "es_ES", "IT": "it_IT", "NL": "nl_NL", "IE": "en_IE",
            "US": "en_US", "CA": "en_CA", "AU": "en_AU", "BR": "pt_BR", "MX": "es_MX", "PT": "pt_PT"}
_TYPES = {"GB": "Private Limited Company", "IE": "Private Company Limited by Shares", "DE": "GmbH", "FR": "SAS",
          "ES": "Sociedad Limitada", "US": "Limited Liability Company"}


@dataclass(frozen=True)
class Company:
    """A registry candidate: what a search shows, and the seed of everything a retrieval adds."""

    name: str
    registration_number: str
    country_code: str  # the registry searched (`GB`, or `US-CA`)
    status: str  # registry status: active | dissolved
    type: str
    kind: str = "generated"  # tesco | generated
    pending: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Company:
        return cls(**{k: value[k] for k in cls.__dataclass_fields__ if k in value})


def _words(text: str | None) -> str:
    return " ".join((text or "").split()).lower()


def _country(code: str) -> str:
    return code.split("-", 1)[0]


#: Search types (`search_type`): how a name searched matches a registry's names.
CONTAINS, START_WITH, FUZZY = "contains", "start_with", "fuzzy"
#: How alike a word searched must be to `tesco` for a fuzzy search to find Didit's example.
FUZZY_RATIO = 0.8


def _names_tesco(query: str, search_type: str) -> bool:
    if "tesco" in query:
        return True
    return search_type == FUZZY and any(SequenceMatcher(None, word, "tesco").ratio() >= FUZZY_RATIO
                                        for word in query.replace("-", " ").split())


def _matches(company: str, query: str, search_type: str) -> bool:
    """Whether a name the registry holds answers the name searched, by the search type."""
    if search_type == START_WITH:
        return company.lower().startswith(query)
    return True  # contains, fuzzy: the query named the company


def find(seed: int, country_code: str, name: str | None, number: str | None,
         search_type: str = CONTAINS) -> list[Company]:
    """The candidates of a search (deterministic in the seed and the query)."""
    query = _words(name)
    named = _names_tesco(query, search_type)
    if named or (number or "").strip() == TESCO_NUMBER:
        found = [Company("Tesco PLC", TESCO_NUMBER, country_code, "active", "Public Limited Company", "tesco"),
                 Company("E-TESCO LTD", "15168476", country_code, "active", "Private Limited Company")]
        if not named:  # found by its number
            return found[:1]
        return [company for company in found if _matches(company.name, query, search_type)
                or company.registration_number == (number or "").strip()]
    if "no match" in query or "nomatch" in query:
        return []
    pending = "pending" in query
    rnd = random.Random(derive_seed(seed, "kyb-search", country_code, query, number or ""))
    alpha2 = _country(country_code)
    kind = _TYPES.get(alpha2, "Private Limited Company")
    suffix = {"Private Limited Company": "LTD", "GmbH": "GmbH", "SAS": "SAS", "Sociedad Limitada": "S.L.",
              "Limited Liability Company": "LLC"}.get(kind, "LTD")
    base = " ".join(w.capitalize() for w in (name or "").split()) or seeded_fake(
        _LOCALES.get(alpha2, "en_US"), rnd.getrandbits(32), lambda fake: str(fake.last_name()))
    if "dissolved" in query:
        return [Company(f"{base} {suffix}".upper(), number or f"{rnd.randint(10**7, 10**8 - 1):08d}", country_code,
                        "dissolved", kind, pending=pending)]
    count = 1 if number else rnd.randint(1, 2)
    names = [f"{base} {suffix}", f"{base} Holdings {suffix}"]
    return [Company(names[i].upper(), number if number and i == 0 else f"{rnd.randint(10**7, 10**8 - 1):08d}",
                    country_code, "active", kind, pending=pending) for i in range(count)]


def candidate(company: Company, handle: str) -> dict[str, Any]:
    """One item of a search's `companies`."""
    return {"kyb_response_id": handle, "name": company.name, "registration_number": company.registration_number,
            "status": company.status, "type": company.type, "risk_level": None, "fetch_status": "pending"}


# ---------------------------------------------------------------- the full profile

def _tesco(uuids: list[str]) -> dict[str, Any]:
    return {
        "registry_status": "active", "company_type": "Public Limited Company", "incorporation_date": "1947-11-27",
        "registered_address": _TESCO_ADDRESS, "tax_number": "GB412 8925 93", "risk_level": "low risk",
        "alternative_names": "TESCO STORES (HOLDINGS) PUBLIC LIMITED COMPANY", "website": "https://www.tesco.com/",
        "email": "customer.service@tesco.co.uk", "phone": "03301231688",
        "financial_summary": {"currency": "Pound (\u00a3)", "total_number_of_shares": "8174378721",
                              "meta_detail": {"Class_Of_Share": "Ordinary"}},
        "officers": [
            _officer(uuids[0], "CHRISTOPHER JON TAYLOR", "Secretary", "secretary", None),
            _officer(uuids[1], "MELISSA BETHELL", "Director", "director", "British"),
        ],
        "beneficial_owners": [],
        "addresses": [{"address": _TESCO_ADDRESS, "type": "legal_entity_registry_address",
                       "description": "registered office address"}],
        "accounts": {"last_account": "26 February 2025", "next_account": "26 February 2026",
                     "due_by_date": "26 August 2026"},
        "industries_detail": [{"code": "47110", "name": "Retail Sale In Non-specialised Stores With Food, "
                                                        "Beverages Or Tobacco Predominating",
                               "description": None, "meta_detail": []}],
    }


def _officer(uuid: str, name: str, designation: str, role: str, nationality: str | None) -> dict[str, Any]:
    return {"uuid": uuid, "name": name, "designation": designation, "role": role, "nationality": nationality,
            "is_active": True, "kyc_status": None, "kyc_session_url": None}


def _generated(seed: int, company: Company, uuids: list[str], today: date) -> dict[str, Any]:
    alpha2 = _country(company.country_code)
    rnd = random.Random(derive_seed(seed, "kyb-company", company.country_code, company.registration_number))

    def make(fake: Any) -> dict[str, Any]:
        people = [(str(fake.first_name()), str(fake.last_name())) for _ in range(3)]
        return {"address": " ".join(str(fake.address()).split()), "people": people,
                "domain": str(fake.domain_name()), "phone": str(fake.phone_number())[:50]}

    made = seeded_fake(_LOCALES.get(alpha2, "en_US"), rnd.getrandbits(32), make)
    first, last = made["people"][0]
    director = _officer(uuids[0], f"{first} {last}".upper(), "Director", "director", None)
    secretary = _officer(uuids[1], " ".join(made["people"][1]).upper(), "Secretary", "secretary", None)
    owner_share = rnd.choice((51.0, 60.0, 75.0, 100.0))
    shares = f"{owner_share:.2f}"
    owners = [{
        "uuid": uuids[2], "name": f"{first} {last}".upper(), "first_name": first, "last_name": last,
        "entity_type": "person", "roles": ["shareholder", "ubo"], "ownership_min_shares": shares,
        "ownership_max_shares": shares, "is_active": True, "kyc_status": None, "kyc_session_url": None,
        "effective_ownership_percent": owner_share, "company_name": None, "registration_number": None,
        "country_of_birth": None, "email": None, "nationality": None, "designation": "Shareholder",
        "voting_min_shares": shares, "voting_max_shares": shares, "date_of_birth": None,
        "appointment_date": None,
    }]
    incorporated = today - timedelta(days=rnd.randint(400, 9000))
    return {
        "registry_status": company.status, "company_type": company.type,
        "incorporation_date": incorporated.isoformat(), "registered_address": made["address"],
        "tax_number": None, "risk_level": None, "alternative_names": None,
        "website": f"https://www.{made['domain']}/", "email": f"info@{made['domain']}", "phone": made["phone"],
        "financial_summary": {}, "officers": [director, secretary], "beneficial_owners": owners,
        "addresses": [{"address": made["address"], "type": "legal_entity_registry_address",
                       "description": "registered office address"}],
        "accounts": None, "industries_detail": [],
    }


#: The fields of a company record (`kyb_registry`) in Didit's order.
RECORD_KEYS = (
    "uuid", "node_id", "status", "registry_status", "data_resolved", "company_name", "registration_number",
    "country_code", "region", "company_type", "incorporation_date", "registered_address", "tax_number", "risk_level",
    "verification_status", "is_from_registry", "fetch_status", "alternative_names", "nature_of_business",
    "registered_capital", "registered_capital_amount", "registered_capital_currency", "website", "email", "phone",
    "legal_entity_identifier", "location_of_registration", "vat_number", "vat_validation_status",
    "vat_validated_name", "vat_validated_address", "vat_checked_at", "financial_summary", "officers",
    "beneficial_owners", "addresses", "industries", "accounts", "registry_data", "user_provided_data",
    "confirmed_by_user_at", "last_console_edit_at", "is_editable", "registry_tier_delivered",
    "registry_ownership_status",
)


def profile(seed: int, company: Company, uuids: list[str], today: date) -> dict[str, Any]:
    """Everything the registry knows of `company` (resolved), before tiers and statuses are applied."""
    facts = _tesco(uuids) if company.kind == "tesco" else _generated(seed, company, uuids, today)
    industries = facts.pop("industries_detail")
    registry_data = {"name": company.name, "registration_number": company.registration_number,
                     "status": company.status, "type": company.type,
                     "incorporation_date": facts["incorporation_date"], "tax_number": facts["tax_number"],
                     "country_code": _country(company.country_code), "fetch_status": "resolved",
                     "industries_detail": industries}
    region = company.country_code.split("-", 1)[1] if "-" in company.country_code else ""
    return {**facts, "company_name": company.name, "registration_number": company.registration_number,
            "country_code": _country(company.country_code), "region": region, "registry_data": registry_data}
