"""Synthetic people: the deterministic identity behind each session's decision.

A session's person is derived from, in order of precedence for the seed:
`vendor_data` (the same user in the same tenant is the same person: name, face, document),
else the identity in `expected_details` (names, date of birth, identification number),
else the session id. Values given in `expected_details` and `contact_details` always win; the
rest is made up with Faker, seeded with `derive_seed(tenant.seed, "person", key)`.

Faker instances are created lazily (one per locale per process) and reseeded per person under
a lock, so importing this module is cheap and concurrent tenants cannot interleave seeds.
"""

from __future__ import annotations

import json
import random
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from .rng import derive_seed

T = TypeVar("T")

if TYPE_CHECKING:
    from faker import Faker

    from .sessions import Session
    from .tenant import Tenant


# ---------------------------------------------------------------- countries

@dataclass(frozen=True)
class Country:
    """What the mock knows of a country: codes, English name, Faker locale, ISPs, utilities."""

    alpha3: str
    alpha2: str
    name: str
    locale: str = "en_US"
    ip_blocks: tuple[tuple[str, str], ...] = ()
    utilities: tuple[str, ...] = ()
    language: str = "en"


_DETAILED = (
    Country("USA", "US", "United States", "en_US",
            (("73.{}", "Comcast Cable Communications"), ("71.{}", "Verizon Business"), ("99.{}", "AT&T Services")),
            ("Pacific Gas and Electric", "Con Edison", "Duke Energy"), "en"),
    Country("ESP", "ES", "Spain", "es_ES",
            (("83.50.{}", "Telefonica de Espana"), ("88.27.{}", "Telefonica de Espana"),
             ("79.116.{}", "Orange Espagne")),
            ("Iberdrola", "Endesa Energia", "Naturgy", "Canal de Isabel II"), "es"),
    Country("DEU", "DE", "Germany", "de_DE",
            (("91.{}", "Deutsche Telekom AG"), ("84.150.{}", "Deutsche Telekom AG"), ("88.70.{}", "Vodafone GmbH")),
            ("E.ON Energie Deutschland", "Vattenfall Europe Sales", "Stadtwerke München"), "de"),
    Country("FRA", "FR", "France", "fr_FR",
            (("90.12.{}", "Orange S.A."), ("82.64.{}", "Free SAS"), ("78.192.{}", "Free SAS")),
            ("EDF", "Engie", "Veolia Eau"), "fr"),
    Country("GBR", "GB", "United Kingdom", "en_GB",
            (("86.128.{}", "British Telecommunications PLC"), ("81.96.{}", "Virgin Media Limited"),
             ("92.40.{}", "Sky UK Limited")),
            ("British Gas", "Octopus Energy", "Thames Water"), "en"),
    Country("ITA", "IT", "Italy", "it_IT",
            (("79.20.{}", "Telecom Italia S.p.A."), ("93.40.{}", "Fastweb SpA"), ("151.20.{}", "Wind Tre S.p.A.")),
            ("Enel Energia", "A2A Energia", "Acea Ato 2"), "it"),
    Country("PRT", "PT", "Portugal", "pt_PT",
            (("85.240.{}", "MEO - Servicos de Comunicacoes"), ("94.60.{}", "NOS Comunicacoes")),
            ("EDP Comercial", "Galp Energia", "EPAL"), "pt"),
    Country("BRA", "BR", "Brazil", "pt_BR",
            (("177.10.{}", "Claro S.A."), ("187.20.{}", "Telefonica Brasil S.A.")),
            ("Enel Distribuicao Sao Paulo", "Sabesp", "Light S.A."), "pt"),
    Country("MEX", "MX", "Mexico", "es_MX",
            (("189.200.{}", "Telmex"), ("187.190.{}", "Total Play Telecomunicaciones")),
            ("CFE Suministrador de Servicios Basicos", "Naturgy Mexico"), "es"),
    Country("NLD", "NL", "Netherlands", "nl_NL",
            (("84.80.{}", "KPN B.V."), ("77.160.{}", "Vodafone Libertel B.V.")),
            ("Eneco", "Vattenfall", "Essent"), "nl"),
    Country("CAN", "CA", "Canada", "en_CA",
            (("70.48.{}", "Bell Canada"), ("99.224.{}", "Rogers Communications")),
            ("Hydro-Quebec", "Toronto Hydro", "BC Hydro"), "en"),
    Country("AUS", "AU", "Australia", "en_AU",
            (("101.160.{}", "Telstra Corporation"), ("124.168.{}", "TPG Telecom")),
            ("AGL Energy", "Origin Energy", "Sydney Water"), "en"),
    Country("POL", "PL", "Poland", "pl_PL",
            (("83.20.{}", "Orange Polska S.A."), ("89.64.{}", "UPC Polska")),
            ("PGE Obrot", "Tauron Sprzedaz", "Enea"), "pl"),
)

_NAMES_ONLY = {
    "ARG": ("AR", "Argentina"), "AUT": ("AT", "Austria"), "BEL": ("BE", "Belgium"), "CHE": ("CH", "Switzerland"),
    "IRL": ("IE", "Ireland"), "SWE": ("SE", "Sweden"), "NOR": ("NO", "Norway"), "DNK": ("DK", "Denmark"),
    "FIN": ("FI", "Finland"), "GRC": ("GR", "Greece"), "CZE": ("CZ", "Czechia"), "ROU": ("RO", "Romania"),
    "HUN": ("HU", "Hungary"), "TUR": ("TR", "Türkiye"), "UKR": ("UA", "Ukraine"), "RUS": ("RU", "Russia"),
    "IND": ("IN", "India"), "CHN": ("CN", "China"), "JPN": ("JP", "Japan"), "KOR": ("KR", "South Korea"),
    "ZAF": ("ZA", "South Africa"), "NGA": ("NG", "Nigeria"), "EGY": ("EG", "Egypt"), "MAR": ("MA", "Morocco"),
    "COL": ("CO", "Colombia"), "CHL": ("CL", "Chile"), "PER": ("PE", "Peru"), "VEN": ("VE", "Venezuela"),
    "PHL": ("PH", "Philippines"), "IDN": ("ID", "Indonesia"), "SGP": ("SG", "Singapore"),
    "ARE": ("AE", "United Arab Emirates"), "SAU": ("SA", "Saudi Arabia"), "ISR": ("IL", "Israel"),
    "NZL": ("NZ", "New Zealand"), "LUX": ("LU", "Luxembourg"), "BGR": ("BG", "Bulgaria"), "HRV": ("HR", "Croatia"),
    "SVK": ("SK", "Slovakia"), "SVN": ("SI", "Slovenia"), "EST": ("EE", "Estonia"), "LVA": ("LV", "Latvia"),
    "LTU": ("LT", "Lithuania"), "ISL": ("IS", "Iceland"), "MLT": ("MT", "Malta"), "CYP": ("CY", "Cyprus"),
    "URY": ("UY", "Uruguay"), "ECU": ("EC", "Ecuador"), "DOM": ("DO", "Dominican Republic"),
    "CRI": ("CR", "Costa Rica"), "PAN": ("PA", "Panama"), "GTM": ("GT", "Guatemala"), "KEN": ("KE", "Kenya"),
    "GHA": ("GH", "Ghana"), "PAK": ("PK", "Pakistan"), "BGD": ("BD", "Bangladesh"), "VNM": ("VN", "Vietnam"),
    "THA": ("TH", "Thailand"), "MYS": ("MY", "Malaysia"), "HKG": ("HK", "Hong Kong"), "TWN": ("TW", "Taiwan"),
}

COUNTRIES: dict[str, Country] = {c.alpha3: c for c in _DETAILED}
for _a3, (_a2, _name) in _NAMES_ONLY.items():
    COUNTRIES[_a3] = Country(_a3, _a2, _name)
_BY_ALPHA2 = {c.alpha2: c for c in COUNTRIES.values()}

#: Nationalities a person is drawn from when nothing says otherwise.
DEFAULT_NATIONALITIES = ("USA", "ESP", "DEU", "FRA", "GBR", "ITA")


def country(code: str | None) -> Country:
    """The country of an alpha-3 (or alpha-2) code; unknown codes get a generic entry."""
    key = (code or "USA").strip().upper()
    found = COUNTRIES.get(key) or _BY_ALPHA2.get(key)
    if found is not None:
        return found
    return Country(key, key[:2], key)


def country_name(alpha3: str | None) -> str:
    return country(alpha3).name


# ---------------------------------------------------------------- documents

DOCUMENT_TYPES = {  # code -> display name
    "P": "Passport", "ID": "Identity Card", "DL": "Driver's License", "RP": "Residence Permit",
    "HIC": "Health Insurance Card", "TC": "Tax Card",
}
DOCUMENT_CODES = {v: k for k, v in DOCUMENT_TYPES.items()}
DOCUMENT_SUBTYPES = {
    "Passport": "PASSPORT_GENERIC", "Identity Card": "ID_CARD_GENERIC", "Driver's License": "DRIVERS_LICENSE_GENERIC",
    "Residence Permit": "RESIDENCE_PERMIT_GENERIC", "Health Insurance Card": "HEALTH_INSURANCE_CARD_GENERIC",
    "Tax Card": "TAX_CARD_GENERIC",
}
#: Countries without a national identity card: their people carry passports or driving licences.
_NO_ID_CARD = frozenset({"USA", "GBR", "CAN", "AUS", "IRL", "NZL", "IND"})

#: (country, document code) -> number pattern: `#` digit, `?` letter, `*` letter or digit.
_NUMBER_PATTERNS = {
    ("ESP", "ID"): "???######", ("ESP", "P"): "???######", ("DEU", "ID"): "L********", ("DEU", "P"): "C********",
    ("FRA", "ID"): "*********", ("FRA", "P"): "##??#####", ("ITA", "ID"): "CA#####??", ("ITA", "P"): "YA#######",
    ("GBR", "P"): "#########", ("USA", "P"): "#########", ("USA", "DL"): "?#######", ("GBR", "DL"): "?????######??#??",
    ("PRT", "ID"): "########", ("NLD", "ID"): "??*******", ("NLD", "P"): "??*******", ("BRA", "ID"): "#########",
    ("MEX", "ID"): "##########", ("POL", "ID"): "???######", ("CAN", "P"): "??######", ("AUS", "P"): "?#######",
}
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def document_display_name(value: str | None) -> str | None:
    """A document type as Didit displays it, from a code (`P`, `ID`, ...) or a display name."""
    if value is None:
        return None
    return DOCUMENT_TYPES.get(str(value).strip().upper(), str(value))


def document_code(display: str) -> str:
    return DOCUMENT_CODES.get(display, "ID")


# ---------------------------------------------------------------- the person

@dataclass(frozen=True)
class Person:
    """A synthetic identity: what the ID document, the selfie and the contact checks show."""

    first_name: str
    last_name: str
    full_name: str
    date_of_birth: date
    gender: str  # M | F
    nationality: str  # alpha-3
    issuing_state: str  # alpha-3
    document_type: str  # display name: Identity Card, Passport, ...
    document_subtype: str | None
    document_number: str
    personal_number: str
    date_of_issue: date
    expiration_date: date
    address: str
    formatted_address: str
    street_1: str
    street_2: str | None
    city: str
    region: str
    postal_code: str
    country_code: str  # alpha-2 of the address country
    latitude: float
    longitude: float
    time_zone: str
    place_of_birth: str
    marital_status: str
    email: str
    phone: str  # E.164
    ip_address: str
    isp: str | None
    face_id: str
    document_key: str
    locale: str
    seed: int
    key: str

    @property
    def issuing_state_name(self) -> str:
        return country_name(self.issuing_state)

    @property
    def document_code(self) -> str:
        return document_code(self.document_type)

    def age_on(self, day: date) -> int:
        """Whole years of age on `day`."""
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


_IDENTITY_KEYS = ("first_name", "last_name", "date_of_birth", "identification_number")


def person_key(session: Session) -> str:
    """Which identity a session's person is: its vendor_data, its expected identity, or itself.

    A saved standalone call names its identity in its workflow (`person_key`: the fixture's person,
    the vendor_data, or the image's digest).
    """
    extra = session.workflow.extra
    if extra and "person_key" in extra:
        return str(extra["person_key"])
    if session.vendor_data is not None:
        return "vendor:" + session.vendor_data
    expected = session.expected_details or {}
    identity = {k: expected[k] for k in _IDENTITY_KEYS if expected.get(k) not in (None, "")}
    if identity:
        return "expected:" + json.dumps(identity, sort_keys=True, ensure_ascii=False)
    return "session:" + session.session_id


def person_for(tenant: Tenant, session: Session) -> Person:
    """The person behind `session`, with ID-document outcomes and update-data corrections applied.

    Deterministic in the tenant seed and the session's vendor_data/expected/contact details.
    """
    person = _base_person(tenant, session)
    if session.imported_decision is not None:
        person = _apply_imported(person, session.imported_decision)
    outcome = (session.outcomes or {}).get("ID_VERIFICATION")
    if outcome is not None:
        person = _apply_outcome_data(person, session, outcome.data)
    overrides = session.data_overrides.get("ID_VERIFICATION")
    if overrides:
        person = apply_id_overrides(person, overrides)
    return person


def _apply_imported(person: Person, decision: dict[str, Any]) -> Person:
    """A B2B-imported session shows the shared decision's person: take its document and contacts."""
    def first(array: str) -> dict[str, Any]:
        items = decision.get(array)
        return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}

    document = first("id_verifications")
    fields = ("first_name", "last_name", "full_name", "document_number", "personal_number", "date_of_birth",
              "expiration_date", "date_of_issue", "issuing_state", "nationality", "gender", "document_type",
              "address", "place_of_birth")
    updated = apply_id_overrides(person, {k: document[k] for k in fields if document.get(k) is not None})
    phone, email = first("phone_verifications").get("full_number"), first("email_verifications").get("email")
    changes = {k: v for k, v in (("phone", phone), ("email", email)) if isinstance(v, str) and v}
    return replace(updated, **changes) if changes else updated


def session_day(session: Session) -> date:
    return datetime.fromtimestamp(session.created_at, tz=timezone.utc).date()


def _apply_outcome_data(person: Person, session: Session, data: dict[str, Any]) -> Person:
    rnd = random.Random(derive_seed(person.seed, "outcome"))
    day = session_day(session)
    changes: dict[str, Any] = {}
    age = data.get("age")
    if isinstance(age, (int, float)) and not isinstance(age, bool) and 0 <= age < 130:
        changes["date_of_birth"] = _shift_years(day, -int(age)) - timedelta(days=rnd.randint(1, 300))
    if data.get("expired_document"):
        expiry = day - timedelta(days=rnd.randint(20, 400))
        changes["expiration_date"] = expiry
        changes["date_of_issue"] = _shift_years(expiry, -10) + timedelta(days=1)
    adjusted = replace(person, **changes) if changes else person
    # Document fields given as outcome data (e.g. "expiration_date") describe the person too.
    return apply_id_overrides(adjusted, data)


def apply_id_overrides(person: Person, overrides: dict[str, Any]) -> Person:
    """The person as corrected by update-data (`data_overrides["ID_VERIFICATION"]`)."""
    changes: dict[str, Any] = {}
    for name in ("first_name", "last_name", "document_number", "personal_number", "address", "place_of_birth",
                 "marital_status", "full_name", "formatted_address"):
        value = overrides.get(name)
        if isinstance(value, str):
            changes[name] = value
    for name in ("date_of_birth", "expiration_date", "date_of_issue"):
        parsed = _parse_date(overrides.get(name))
        if parsed is not None:
            changes[name] = parsed
    for name in ("issuing_state", "nationality"):
        value = overrides.get(name)
        if isinstance(value, str) and value.strip():
            changes[name] = value.strip().upper()
    if overrides.get("gender") in ("M", "F"):
        changes["gender"] = overrides["gender"]
    if isinstance(overrides.get("document_type"), str):
        changes["document_type"] = document_display_name(overrides["document_type"])
    if ("first_name" in changes or "last_name" in changes) and "full_name" not in changes:
        first = changes.get("first_name", person.first_name)
        last = changes.get("last_name", person.last_name)
        changes["full_name"] = f"{first} {last}".strip()
    if not changes:
        return person
    updated = replace(person, **changes)
    return replace(updated, document_key=_document_key(updated.issuing_state, updated.document_number))


def _parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _document_key(issuing_state: str, document_number: str) -> str:
    return f"{issuing_state}:{document_number}"


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# ---------------------------------------------------------------- caching and Faker

_FAKER_LOCK = threading.Lock()
_FAKERS: dict[str, Faker] = {}
_CACHE_SIZE = 4096


class PeopleCache:
    """A tenant's generated people, keyed by everything that determines them (LRU)."""

    def __init__(self, tenant: object):
        self.lock = threading.Lock()
        self.entries: OrderedDict[str, Person] = OrderedDict()

    def get(self, key: str) -> Person | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key: str, person: Person) -> None:
        with self.lock:
            self.entries[key] = person
            while len(self.entries) > _CACHE_SIZE:
                self.entries.popitem(last=False)


def _faker(locale: str) -> Faker:
    """The process's Faker for a locale (call with `_FAKER_LOCK` held)."""
    found = _FAKERS.get(locale)
    if found is None:
        from faker import Faker

        found = Faker(locale)
        _FAKERS[locale] = found
    return found


def _base_person(tenant: Tenant, session: Session) -> Person:
    key = person_key(session)
    expected = {k: v for k, v in (session.expected_details or {}).items() if v not in (None, "", [])}
    contact = {k: v for k, v in (session.contact_details or {}).items() if k in ("email", "phone") and v}
    anchor = session_day(session).year
    cache_key = json.dumps([key, expected, contact, anchor], sort_keys=True, ensure_ascii=False, default=str)
    cache = tenant.component(PeopleCache)
    found = cache.get(cache_key)
    if found is None:
        found = _generate(tenant, key, expected, contact, anchor)
        cache.put(cache_key, found)
    return found


def _generate(tenant: Tenant, key: str, expected: dict[str, Any], contact: dict[str, Any], anchor: int) -> Person:
    seed = derive_seed(tenant.seed, "person", key)
    rnd = random.Random(seed)
    nationality = _alpha3(expected.get("nationality")) or _alpha3(expected.get("id_country")) \
        or _alpha3(expected.get("country")) or rnd.choice(DEFAULT_NATIONALITIES)
    issuing = _alpha3(expected.get("id_country")) or _alpha3(expected.get("country")) or nationality
    home = country(issuing)
    gender = expected.get("gender") if expected.get("gender") in ("M", "F") else rnd.choice("MF")

    with _FAKER_LOCK:
        names = _faker(country(nationality).locale)
        names.seed_instance(derive_seed(seed, "names"))
        first = names.first_name_male() if gender == "M" else names.first_name_female()
        last = names.last_name()
        if nationality in ("ESP", "MEX", "ARG", "COL", "CHL", "PER"):
            last = f"{last} {names.last_name()}"
        email_domain = names.free_email_domain()
        birth_place = _place(names, country(nationality).alpha2)[2]

        places = _faker(home.locale)
        places.seed_instance(derive_seed(seed, "address"))
        street = " ".join(places.street_address().split())
        latitude, longitude, city, time_zone = _place(places, home.alpha2)
        region = places.administrative_unit()
        postal_code = places.postcode()

    first_name = str(expected.get("first_name") or first)
    last_name = str(expected.get("last_name") or last)
    born = _parse_date(expected.get("date_of_birth"))
    if born is None:
        born = date(1957, 1, 1) + timedelta(days=rnd.randint(0, 47 * 365))
        if anchor - born.year < 19:
            born = _shift_years(born, -(19 - (anchor - born.year)) - rnd.randint(0, 10))

    document_type = _document_type(rnd, issuing, expected.get("expected_document_types"))
    code = document_code(document_type)
    number = str(expected.get("identification_number") or _document_number(rnd, issuing, code))
    issued = date(anchor, 1, 1) - timedelta(days=rnd.randint(60, 7 * 365))
    expires = _shift_years(issued, 10) - timedelta(days=1)

    if expected.get("address"):
        address, street, city, region, postal_code = _parse_expected_address(
            str(expected["address"]), street, city, region, postal_code)
    else:
        address = f"{street}, {city}, {region}"
    formatted = f"{street}, {city}, {region} {postal_code}, {home.name}"

    phone = str(contact.get("phone") or _phone_number(rnd, home.alpha2))
    email = str(contact.get("email") or _email(rnd, first_name, last_name, email_domain))
    ip_address, isp = (str(expected["ip_address"]), None) if expected.get("ip_address") else _ip_address(rnd, home)
    return Person(
        first_name=first_name,
        last_name=last_name,
        full_name=f"{first_name} {last_name}",
        date_of_birth=born,
        gender=gender,
        nationality=nationality,
        issuing_state=issuing,
        document_type=document_type,
        document_subtype=DOCUMENT_SUBTYPES.get(document_type),
        document_number=number,
        personal_number=_personal_number(rnd, issuing, first_name, last_name, born, gender),
        date_of_issue=issued,
        expiration_date=expires,
        address=address,
        formatted_address=formatted,
        street_1=street,
        street_2=None,
        city=city,
        region=region,
        postal_code=postal_code,
        country_code=home.alpha2,
        latitude=latitude,
        longitude=longitude,
        time_zone=time_zone,
        place_of_birth=birth_place,
        marital_status=rnd.choice(("Single", "Single", "Married", "Married", "Divorced", "Unknown")),
        email=email,
        phone=phone,
        ip_address=ip_address,
        isp=isp,
        face_id=f"face_{derive_seed(tenant.seed, 'face', key):016x}",
        document_key=_document_key(issuing, number),
        locale=country(nationality).locale,
        seed=seed,
        key=key,
    )


def _alpha3(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return country(value).alpha3


def _place(fake: Faker, alpha2: str) -> tuple[float, float, str, str]:
    """A real place of the country (latitude, longitude, name, time zone) from Faker's gazetteer."""
    found = fake.local_latlng(country_code=alpha2, coords_only=False)
    if found is None:
        return round(float(fake.latitude()), 5), round(float(fake.longitude()), 5), fake.city(), "UTC"
    lat, lng, name, _, zone = found
    return float(lat), float(lng), str(name), str(zone)


def _document_type(rnd: random.Random, issuing: str, wanted: Any) -> str:
    if isinstance(wanted, list) and wanted:
        codes = [str(c).upper() for c in wanted if str(c).upper() in DOCUMENT_TYPES]
        if codes:
            return DOCUMENT_TYPES[rnd.choice(codes)]
    if issuing in _NO_ID_CARD:
        return "Passport" if rnd.random() < 0.7 else "Driver's License"
    roll = rnd.random()
    return "Identity Card" if roll < 0.6 else "Passport" if roll < 0.9 else "Driver's License"


def _document_number(rnd: random.Random, issuing: str, code: str) -> str:
    pattern = _NUMBER_PATTERNS.get((issuing, code)) or _NUMBER_PATTERNS.get((issuing, "ID")) or "?########"
    letters, alnum = "ABCDEFGHJKLMNPRSTUVWXYZ", "CFGHJKLMNPRTVWXYZ0123456789"
    out = []
    for ch in pattern:
        out.append(str(rnd.randint(0, 9)) if ch == "#" else rnd.choice(letters) if ch == "?"
                   else rnd.choice(alnum) if ch == "*" else ch)
    return "".join(out)


def _personal_number(rnd: random.Random, issuing: str, first: str, last: str, born: date, gender: str) -> str:
    if issuing == "ESP":
        digits = rnd.randint(10_000_000, 99_999_999)
        return f"{digits}{_DNI_LETTERS[digits % 23]}"
    if issuing == "ITA":
        consonants = [c for c in ascii_upper(last + first) if c.isalpha() and c not in "AEIOU"] + ["X"] * 6
        months = "ABCDEHLMPRST"
        day = born.day + (40 if gender == "F" else 0)
        return "".join(consonants[:6]) + f"{born.year % 100:02d}{months[born.month - 1]}{day:02d}H501" \
            + rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    if issuing == "BRA":
        return "".join(str(rnd.randint(0, 9)) for _ in range(11))
    if issuing == "GBR":
        return "".join(rnd.choice("ABCEGHJKLMNPRSTWXYZ") for _ in range(2)) + \
            "".join(str(rnd.randint(0, 9)) for _ in range(6)) + rnd.choice("ABCD")
    return ""


def _parse_expected_address(text: str, street: str, city: str, region: str, postal: str) -> tuple[str, ...]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    found_postal = re.search(r"\b\d{4,6}\b", text)
    street = parts[0] if parts else street
    city = re.sub(r"\b\d{4,6}\b", "", parts[1]).strip() if len(parts) > 1 else city
    region = re.sub(r"\b\d{4,6}\b", "", parts[2]).strip() if len(parts) > 2 else region
    return text, street, city or parts[0], region or city, found_postal.group(0) if found_postal else postal


def ascii_upper(text: str) -> str:
    """Upper-case ASCII transliteration (accents dropped), as printed in an MRZ."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").upper()


def _email(rnd: random.Random, first: str, last: str, domain: str) -> str:
    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", ascii_upper(text).lower())

    local = f"{slug(first) or 'user'}.{slug(last.split()[0] if last.split() else last) or 'person'}"
    if rnd.random() < 0.6:
        local += str(rnd.randint(1, 99))
    return f"{local}@{domain}"


def _phone_number(rnd: random.Random, alpha2: str) -> str:
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    region = alpha2 if alpha2 in phonenumbers.SUPPORTED_REGIONS else "US"
    example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE) \
        or phonenumbers.example_number(region)
    if example is None:
        return "+1201555" + "".join(str(rnd.randint(0, 9)) for _ in range(4))
    national = phonenumbers.national_significant_number(example)
    keep = min(3, len(national) - 4)
    for _ in range(25):
        candidate = national[:keep] + "".join(str(rnd.randint(0, 9)) for _ in range(len(national) - keep))
        number = phonenumbers.parse(f"+{example.country_code}{candidate}")
        if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in (
                PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE):
            return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return phonenumbers.format_number(example, PhoneNumberFormat.E164)


def _ip_address(rnd: random.Random, home: Country) -> tuple[str, str | None]:
    if not home.ip_blocks:
        return f"203.0.113.{rnd.randint(2, 254)}", None
    pattern, isp = rnd.choice(home.ip_blocks)
    missing = 4 - pattern.count(".")
    tail = ".".join(str(rnd.randint(1, 254)) for _ in range(missing))
    return pattern.format(tail), isp


def other_address(tenant: Tenant, person: Person, salt: str) -> tuple[str, str, str, str]:
    """A different address in the person's country: (street, city, region, postal code)."""
    home = country(person.issuing_state)
    with _FAKER_LOCK:
        fake = _faker(home.locale)
        fake.seed_instance(derive_seed(person.seed, "other-address", salt))
        street = " ".join(fake.street_address().split())
        city = _place(fake, home.alpha2)[2]
        region = fake.administrative_unit()
        postal = fake.postcode()
    return street, city, region, postal


def seeded_fake(locale: str, seed: int, produce: Callable[[Faker], T]) -> T:
    """What `produce` makes with the process's Faker for `locale`, seeded with `seed` (under the lock)."""
    with _FAKER_LOCK:
        fake = _faker(locale)
        fake.seed_instance(seed)
        return produce(fake)
