"""The decision payload (v3 and legacy v2) and the list row of a session, rendered from its person.

Every feature that ran (a key of `session.outcomes`) becomes a one-item array built from the
session's synthetic person (see `people.py`) and its `FeatureOutcome`: status, warnings, and
`outcome.data` merged onto the item. Randomness comes from seeds derived from the tenant seed
and the session id, so the same seed and the same calls give byte-identical decisions.

Renderings are cached per session and revision: `render_decision`, `render_decision_v2` and
`list_row` return fresh dicts (deep copies of the cached rendering) that callers may mutate.
"""

from __future__ import annotations

import copy
import json
import math
import random
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from . import statuses as st
from . import workflows as wf
from .clock import iso, iso_offset
from .outcomes import FEATURE_ALIASES, FeatureOutcome
from .people import Person, ascii_upper, country, other_address, person_for, session_day
from .rng import derive_seed

if TYPE_CHECKING:
    from .sessions import Session
    from .tenant import Tenant

UTC = timezone.utc

#: The template of the workflow of a saved standalone call (an API session: no workflow id, no URL).
API_TEMPLATE = "API"

NODE_IDS = {
    wf.ID_VERIFICATION: "feature_ocr_1",
    wf.NFC: "feature_nfc_1",
    wf.LIVENESS: "feature_liveness_1",
    wf.FACE_MATCH: "feature_face_match_1",
    wf.AGE_ESTIMATION: "feature_age_estimation_1",
    wf.POA: "feature_poa_1",
    wf.PHONE: "feature_phone_1",
    wf.EMAIL_VERIFICATION: "feature_email_1",
    wf.QUESTIONNAIRE: "feature_questionnaire_1",
    wf.DATABASE_VALIDATION: "feature_database_validation_1",
    wf.AML: "feature_aml_1",
    wf.IP_ANALYSIS: "feature_ip_1",
}

#: Decision feature -> its array in the v3 decision (AGE_ESTIMATION feeds `liveness_checks`).
ARRAY_OF = {
    wf.ID_VERIFICATION: "id_verifications",
    wf.NFC: "nfc_verifications",
    wf.LIVENESS: "liveness_checks",
    wf.AGE_ESTIMATION: "liveness_checks",
    wf.FACE_MATCH: "face_matches",
    wf.PHONE: "phone_verifications",
    wf.EMAIL_VERIFICATION: "email_verifications",
    wf.POA: "poa_verifications",
    wf.QUESTIONNAIRE: "questionnaire_responses",
    wf.AML: "aml_screenings",
    wf.IP_ANALYSIS: "ip_analyses",
    wf.DATABASE_VALIDATION: "database_validations",
}
FEATURE_ARRAYS = (
    "id_verifications", "nfc_verifications", "liveness_checks", "face_matches", "phone_verifications",
    "email_verifications", "poa_verifications", "document_ai_documents", "questionnaire_responses",
    "aml_screenings", "ip_analyses", "database_validations",
)
#: Every top-level key of a v3 KYC decision, in Didit's order.
TOP_LEVEL_KEYS = (
    "session_id", "session_kind", "session_number", "session_url", "status", "environment", "workflow_id",
    "features", "vendor_data", "metadata", "expected_details", "contact_details", "callback",
    "id_verifications", "nfc_skip_reason", "nfc_verifications", "liveness_checks", "face_matches",
    "phone_verifications", "email_verifications", "poa_verifications", "document_ai_documents",
    "questionnaire_responses", "aml_screenings", "ip_analyses", "database_validations", "reviews",
    "created_at", "expires_at", "registry_checks", "key_people_checks", "document_verifications",
)
#: v2 singular key -> the v3 array it is the first item of.
V2_KEYS = {
    "id_verification": "id_verifications", "nfc": "nfc_verifications", "liveness": "liveness_checks",
    "face_match": "face_matches", "phone": "phone_verifications", "email": "email_verifications",
    "poa": "poa_verifications", "aml": "aml_screenings", "ip_analysis": "ip_analyses",
    "database_validation": "database_validations",
}
#: outcome.data keys that steer generation and are not copied onto the item.
SPECIAL_DATA_KEYS = frozenset({"expired_document"})

# Feature-status enums differ per array in Didit's schema.
_WITH_EXPIRED = (st.NOT_FINISHED, st.APPROVED, st.DECLINED, st.IN_REVIEW, st.EXPIRED)
_WITH_RESUB = (st.NOT_FINISHED, st.APPROVED, st.DECLINED, st.IN_REVIEW, st.RESUB_REQUESTED)


def node_id_for(feature: str) -> str:
    """The workflow node id of a feature's (single) step, e.g. ID_VERIFICATION -> feature_ocr_1."""
    name = str(feature).strip().upper()
    canonical = FEATURE_ALIASES.get(name, name)
    return NODE_IDS.get(canonical) or f"feature_{name.lower()}_1"


def _status(status: str, allowed: tuple[str, ...]) -> str:
    """A feature status within the enum of its array (Resub Requested/Expired become Not Finished)."""
    return status if status in allowed else st.NOT_FINISHED


def _dt(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _uuid(rnd: random.Random) -> str:
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _score(rnd: random.Random, status: str, data: dict[str, Any],
           approved: tuple[float, float] = (86.0, 99.0), review: tuple[float, float] = (58.0, 72.0),
           declined: tuple[float, float] = (6.0, 34.0)) -> float:
    """A 0-100 score that agrees with the status; `data["score"]` wins."""
    given = _number(data.get("score"))
    if given is not None:
        return given
    low, high = declined if status == st.DECLINED else review if status in (st.IN_REVIEW, st.NOT_FINISHED) \
        else approved
    return round(rnd.uniform(low, high), 2)


def _risks(outcome: FeatureOutcome) -> set[str]:
    return {w.risk for w in outcome.warnings}


def _distance_km(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float | None:
    if a is None or b is None:
        return None
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return round(2 * 6371.0 * math.asin(min(1.0, math.sqrt(h))), 2)


def _utc_offset(zone: str, moment: datetime) -> str:
    try:
        from zoneinfo import ZoneInfo

        offset = moment.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    except Exception:  # unknown zone or no tz database
        offset = timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


# ---------------------------------------------------------------- rendering context

@dataclass
class _Context:
    """What every feature builder needs: the tenant, the session, its person and its clock marks."""

    tenant: Tenant
    session: Session
    outcomes: dict[str, FeatureOutcome]
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    _person: Person | None = field(default=None, repr=False)

    @property
    def person(self) -> Person:
        if self._person is None:
            self._person = person_for(self.tenant, self.session)
        return self._person

    @property
    def day(self) -> date:
        return session_day(self.session)

    @property
    def finished(self) -> datetime:
        return _dt(self.session.finished_at or self.session.created_at)

    def rnd(self, *salt: object) -> random.Random:
        return random.Random(derive_seed(self.tenant.seed, "decision", self.session.session_id, *salt))

    def media(self, name: str, ext: str = "jpg") -> str:
        base = self.tenant.config.public_base_url.rstrip("/")
        return f"{base}/_mock/media/{self.session.session_id}/{name}.{ext}"

    def ran(self, feature: str) -> bool:
        return feature in self.outcomes

    def warnings(self, outcome: FeatureOutcome, node_id: str | None = None) -> list[dict[str, Any]]:
        node = node_id or node_id_for(outcome.feature)
        return [w.to_dict(node) for w in outcome.warnings]


# ---------------------------------------------------------------- ID verification

def _check_digit(text: str) -> str:
    total = 0
    for index, ch in enumerate(text):
        value = int(ch) if ch.isdigit() else ord(ch) - 55 if "A" <= ch <= "Z" else 0
        total += value * (7, 3, 1)[index % 3]
    return str(total % 10)


def _mrz_text(text: str) -> str:
    cleaned = "".join(ch if "A" <= ch <= "Z" or "0" <= ch <= "9" else "<" for ch in ascii_upper(text).strip())
    while "<<" in cleaned:
        cleaned = cleaned.replace("<<", "<")
    return cleaned.strip("<")


def _mrz(person: Person, corrupt: bool) -> dict[str, Any]:
    """A machine-readable zone with valid check digits (TD3 for passports, TD1 otherwise)."""
    passport = person.document_type == "Passport"
    surname, given = _mrz_text(person.last_name), _mrz_text(person.first_name)
    number = _mrz_text(person.document_number).replace("<", "")[:9].ljust(9, "<")
    birth, expiry = person.date_of_birth.strftime("%y%m%d"), person.expiration_date.strftime("%y%m%d")
    sex = person.gender if person.gender in ("M", "F") else "<"
    personal = _mrz_text(person.personal_number).replace("<", "")
    number_hash, birth_hash, expiry_hash = _check_digit(number), _check_digit(birth), _check_digit(expiry)
    name_field = f"{surname}<<{given}"
    if passport:
        optional = personal[:14].ljust(14, "<")
        line2 = f"{number}{number_hash}{person.nationality[:3]}{birth}{birth_hash}{sex}{expiry}{expiry_hash}" \
                f"{optional}{_check_digit(optional)}"
        final = _check_digit(line2[0:10] + line2[13:20] + line2[21:43])
        lines = [f"P<{person.issuing_state[:3]}{name_field}".ljust(44, "<")[:44], line2 + final]
        kind, code = "TD3", "P"
    else:
        optional = personal[:15].ljust(15, "<")
        line1 = f"ID{person.issuing_state[:3]}{number}{number_hash}{optional}"
        line2 = f"{birth}{birth_hash}{sex}{expiry}{expiry_hash}{person.nationality[:3]}{'<' * 11}"
        final = _check_digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
        lines = [line1, line2 + final, name_field.ljust(30, "<")[:30]]
        kind, code = "TD1", "ID"
    errors: list[str] = []
    if corrupt:
        final = str((int(final) + 3) % 10)
        lines[1] = lines[1][:-1] + final
        errors = ["Final check digit does not match the MRZ data."]
    return {
        "surname": surname.replace("<", " "), "name": given.replace("<", " "), "country": person.issuing_state,
        "nationality": person.nationality, "birth_date": birth, "expiry_date": expiry, "sex": sex,
        "document_type": code, "document_number": number.rstrip("<"), "optional_data": personal,
        "optional_data_2": "", "birth_date_hash": birth_hash, "expiry_date_hash": expiry_hash,
        "document_number_hash": number_hash, "final_hash": final, "personal_number": personal,
        "warnings": [], "errors": errors, "mrz_type": kind, "mrz_string": "\n".join(lines),
        "mrz_key": f"{number}{number_hash}{birth}{birth_hash}{expiry}{expiry_hash}",
    }


def _address_type(street: str) -> str:
    words = [w.strip(".,") for w in street.split() if w.strip(".,").isalpha() and len(w) > 1]
    if not words:
        return "Street"
    return words[-1] if street[:1].isdigit() else words[0]


def _parsed_address(person: Person, rnd: random.Random, label: str) -> dict[str, Any]:
    home = country(person.issuing_state)
    lat, lng = person.latitude, person.longitude
    formatted = f"{person.street_1}, {person.postal_code} {person.city}, {home.name}"
    components = [
        {"types": ["route"], "long_name": person.street_1, "short_name": person.street_1},
        {"types": ["locality", "political"], "long_name": person.city, "short_name": person.city},
        {"types": ["administrative_area_level_1", "political"], "long_name": person.region,
         "short_name": person.region},
        {"types": ["country", "political"], "long_name": home.name, "short_name": home.alpha2},
        {"types": ["postal_code"], "long_name": person.postal_code, "short_name": person.postal_code},
    ]
    place_id = "ChIJ" + "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
                                for _ in range(23))
    return {
        "city": person.city, "label": label, "region": person.region, "country": home.alpha2,
        "category": "Residential", "street_1": person.street_1, "street_2": person.street_2, "is_verified": True,
        "postal_code": person.postal_code,
        "raw_results": {
            "types": ["street_address"],
            "geometry": {
                "location": {"lat": lat, "lng": lng},
                "viewport": {"northeast": {"lat": round(lat + 0.0013, 7), "lng": round(lng + 0.0013, 7)},
                             "southwest": {"lat": round(lat - 0.0013, 7), "lng": round(lng - 0.0013, 7)}},
                "location_type": "ROOFTOP",
            },
            "place_id": place_id,
            "formatted_address": formatted,
            "navigation_points": [{"location": {"latitude": lat, "longitude": lng}}],
            "address_components": components,
        },
        "address_type": _address_type(person.street_1),
        "document_location": {"latitude": lat, "longitude": lng},
        "formatted_address": formatted,
    }


def _quality(rnd: random.Random, good: bool) -> dict[str, Any]:
    low, high = (78.0, 97.0) if good else (30.0, 55.0)
    focus, brightness, resolution = (round(rnd.uniform(low, high), 1) for _ in range(3))
    return {
        "focus_score": focus, "brightness_score": brightness, "brightness_issue": "ok" if good else "too_dark",
        "is_document_fully_visible": good, "resolution_score": resolution,
        "overall_score": round((focus + brightness + resolution) / 3, 1),
    }


def _document_liveness(rnd: random.Random, good: bool) -> dict[str, Any]:
    def check(decline: float, review: float) -> dict[str, Any]:
        front = round(rnd.uniform(88.0, 99.9) if good else rnd.uniform(10.0, 34.0), 2)
        back = round(rnd.uniform(88.0, 99.9) if good else rnd.uniform(10.0, 34.0), 2)
        return {"score": front, "front": front, "back": back, "decline_threshold": decline,
                "review_threshold": review, "bucket": "approve" if good else "decline"}

    return {"portrait_replace": check(35, 70), "printed_copy": check(35, 77), "screen_replay": check(30, 70)}


def _id_item(ctx: _Context, outcome: FeatureOutcome) -> dict[str, Any]:
    person, rnd = ctx.person, ctx.rnd("id")
    risks = _risks(outcome)
    unrecognized = "COULD_NOT_RECOGNIZE_DOCUMENT" in risks
    good = not unrecognized
    mrz = None if unrecognized or person.document_type == "Driver's License" \
        else _mrz(person, corrupt="MRZ_VALIDATION_FAILED" in risks)
    face_score = round(rnd.uniform(88.0, 99.0), 1)
    return {
        "node_id": node_id_for(wf.ID_VERIFICATION),
        "status": _status(outcome.status, _WITH_EXPIRED),
        "verification_method": "document",
        "assurance": "documentary",
        "wallet_provider": None,
        "fallback_from": None,
        "id_lookup": None,
        "wallet_verification": None,
        "document_type": person.document_type,
        "document_subtype": None if unrecognized else person.document_subtype,
        "document_number": person.document_number,
        "personal_number": person.personal_number,
        "portrait_image": ctx.media("id_portrait"),
        "front_image": ctx.media("id_front"),
        "front_video": ctx.media("id_front", "mp4"),
        "back_image": ctx.media("id_back"),
        "back_video": ctx.media("id_back", "mp4"),
        "full_front_image": ctx.media("id_full_front"),
        "full_back_image": ctx.media("id_full_back"),
        "front_image_camera_front": ctx.media("id_front_camera_front"),
        "back_image_camera_front": ctx.media("id_back_camera_front"),
        "date_of_birth": person.date_of_birth.isoformat(),
        "age": person.age_on(ctx.day),
        "expiration_date": person.expiration_date.isoformat(),
        "date_of_issue": person.date_of_issue.isoformat(),
        "issuing_state": person.issuing_state,
        "issuing_state_name": person.issuing_state_name,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "full_name": person.full_name,
        "gender": person.gender,
        "address": person.address,
        "formatted_address": person.formatted_address,
        "place_of_birth": person.place_of_birth,
        "marital_status": person.marital_status,
        "nationality": person.nationality,
        "extra_fields": {"dl_categories": ["B"] if person.document_type == "Driver's License" else [],
                         "blood_group": None},
        "mrz": mrz,
        "parsed_address": _parsed_address(person, rnd, f"{person.issuing_state_name} {person.document_type} Address"),
        "extra_files": [],
        "front_image_camera_front_face_match_score": face_score,
        "back_image_camera_front_face_match_score": round(face_score - rnd.uniform(0.5, 3.0), 1),
        "front_image_quality_score": _quality(rnd, good),
        "back_image_quality_score": _quality(rnd, good),
        "document_liveness": _document_liveness(rnd, good),
        "matches": [],
        "warnings": ctx.warnings(outcome),
    }


def _apply_overrides(item: dict[str, Any], overrides: dict[str, Any]) -> None:
    """update-data corrections win over generated values (the person already follows them).

    Object fields (extra_fields, parsed addresses) are corrected key by key; a null removes a key.
    """
    from .people import document_display_name

    for key, value in overrides.items():
        if key == "document_type":
            item[key] = document_display_name(value)
        elif isinstance(value, dict) and isinstance(item.get(key), dict):
            merged = {**item[key], **value}
            item[key] = {k: v for k, v in merged.items() if k not in value or value[k] is not None}
        else:
            item[key] = copy.deepcopy(value)


# ---------------------------------------------------------------- NFC, liveness, face match

def _nfc_item(ctx: _Context, outcome: FeatureOutcome) -> dict[str, Any]:
    person, rnd = ctx.person, ctx.rnd("nfc")
    intact = not ({"NFC_CHIP_NOT_VERIFIED"} & _risks(outcome))
    home = country(person.issuing_state)
    not_before = datetime(ctx.day.year - 3, rnd.randint(1, 12), rnd.randint(1, 28), 10, 21, 11, tzinfo=UTC)
    return {
        "node_id": node_id_for(wf.NFC),
        "status": _status(outcome.status, _WITH_RESUB),
        "is_nfc_skipped": False,
        "portrait_image": ctx.media("nfc_portrait"),
        "signature_image": ctx.media("nfc_signature"),
        "chip_data": {
            "document_type": person.document_code,
            "issuing_country": person.issuing_state,
            "document_number": person.document_number,
            "expiration_date": person.expiration_date.isoformat(),
            "first_name": person.first_name,
            "last_name": person.last_name,
            "birth_date": person.date_of_birth.isoformat(),
            "gender": person.gender,
            "nationality": person.nationality,
            "address": ascii_upper(person.address),
            "place_of_birth": ascii_upper(person.place_of_birth),
        },
        "authenticity": {"sod_integrity": intact, "dg_integrity": intact},
        "certificate_summary": {
            "issuer": f"Common Name: CSCA {ascii_upper(home.name)}, Serial Number: {rnd.randint(1, 9)}, "
                      f"Country: {home.alpha2}",
            "subject": f"Common Name: DS {ascii_upper(home.name)} {rnd.randint(1, 9)}, Organizational Unit: "
                       f"{ascii_upper(person.document_type)}, Country: {home.alpha2}",
            "serial_number": str(rnd.getrandbits(126)),
            "not_valid_after": iso(not_before.replace(year=not_before.year + 10)),
            "not_valid_before": iso(not_before),
        },
        "warnings": ctx.warnings(outcome),
    }


def _age_estimate(ctx: _Context, rnd: random.Random) -> float:
    age = ctx.outcomes.get(wf.AGE_ESTIMATION)
    data = age.data if age is not None else {}
    for key in ("age_estimation", "age"):
        given = _number(data.get(key))
        if given is not None:
            return given
    if age is not None and age.status == st.DECLINED:
        return round(rnd.uniform(13.5, 16.9), 1)
    if age is not None and age.status == st.IN_REVIEW:
        return round(rnd.uniform(17.0, 19.9), 1)
    return round(max(1.0, ctx.person.age_on(ctx.day) + rnd.uniform(-3.0, 3.0)), 1)


def _liveness_item(ctx: _Context, outcome: FeatureOutcome | None, age: FeatureOutcome | None) -> dict[str, Any]:
    rnd = ctx.rnd("liveness")
    main = outcome or age
    assert main is not None
    statuses = [o.status for o in (outcome, age) if o is not None]
    status = st.overall_status(statuses) if len(statuses) > 1 else statuses[0]
    data = outcome.data if outcome is not None else {}
    method = str(data.get("method") or ctx.session.workflow.extra.get("liveness_method") or "PASSIVE")
    passive = method == "PASSIVE"
    warnings = ctx.warnings(outcome) if outcome is not None else []
    if age is not None:
        warnings += ctx.warnings(age, node_id_for(wf.AGE_ESTIMATION))
    return {
        "node_id": node_id_for(wf.LIVENESS if outcome is not None else wf.AGE_ESTIMATION),
        "status": _status(status, _WITH_RESUB),
        "method": method,
        "score": _score(rnd, outcome.status if outcome is not None else st.APPROVED, data),
        "reference_image": ctx.media("liveness_reference"),
        "video_url": ctx.media("liveness_video", "mp4"),
        "age_estimation": _age_estimate(ctx, rnd),
        "matches": [],
        "warnings": warnings,
        "face_quality": round(rnd.uniform(62.0, 96.0), 2) if passive else None,
        "face_luminance": round(rnd.uniform(38.0, 82.0), 2) if passive else None,
    }


def _stored_face_session(ctx: _Context) -> str | None:
    """For a portrait-less biometric session: the earlier approved session whose face is reused."""
    session = ctx.session
    if session.portrait_digest is not None or session.vendor_data is None or not session.workflow.requires_portrait:
        return None
    from .sessions import book

    earlier = [s for s in book(ctx.tenant).by_vendor.get(session.vendor_data, ())
               if s.session_number < session.session_number and s.status == st.APPROVED and s.outcomes]
    return max(earlier, key=lambda s: s.session_number).session_id if earlier else None


def _face_match_item(ctx: _Context, outcome: FeatureOutcome) -> dict[str, Any]:
    rnd = ctx.rnd("face_match")
    return {
        "node_id": node_id_for(wf.FACE_MATCH),
        "status": _status(outcome.status, _WITH_RESUB),
        "score": _score(rnd, outcome.status, outcome.data, review=(60.0, 74.0), declined=(12.0, 40.0)),
        "source_image_session_id": _stored_face_session(ctx),
        "source_image": ctx.media("face_match_source"),
        "target_image": ctx.media("face_match_target"),
        "warnings": ctx.warnings(outcome),
    }


# ---------------------------------------------------------------- phone and email

_CARRIERS = {
    "US": ("Verizon Wireless", "T-Mobile USA", "AT&T Mobility"), "ES": ("Movistar", "Vodafone", "Orange"),
    "DE": ("Telekom", "Vodafone", "O2"), "FR": ("Orange", "SFR", "Bouygues Telecom"),
    "GB": ("EE", "Vodafone", "O2"), "IT": ("TIM", "Vodafone", "WindTre"),
}


def _phone_parts(tenant: Tenant, raw: str, fallback_region: str, rnd: random.Random) -> dict[str, Any]:
    """Prefix, national number, country, carrier and line type of a number.

    Valid numbers go through the same carrier lookup as the standalone phone API (`phonenumbers`
    metadata plus the tenant's carrier overrides); anything else is shown as given.
    """
    from .otp.config import otp_config
    from .otp.phone_facts import lookup, normalise

    e164 = normalise(raw)
    if e164 is None:
        return {"prefix": "", "national": raw.lstrip("+"), "full": raw, "region": fallback_region,
                "country_name": country(fallback_region).name, "carrier": rnd.choice(("Vodafone", "Orange")),
                "type": "unknown", "disposable": False}
    facts = lookup(e164, otp_config(tenant))
    region = facts.country_code or fallback_region
    return {
        "prefix": facts.prefix, "national": facts.national_number, "full": facts.full_number, "region": region,
        "country_name": facts.country_name or country(region).name,
        "carrier": facts.carrier_name or rnd.choice(_CARRIERS.get(region, ("Vodafone", "Orange"))),
        "type": facts.line_type, "disposable": facts.is_disposable,
    }


def _lifecycle(prefix: str, outcome: FeatureOutcome, finished: datetime, rnd: random.Random,
               fee: float, channel: bool) -> list[dict[str, Any]]:
    sent = finished - timedelta(seconds=rnd.randint(70, 160))
    entered = sent + timedelta(seconds=rnd.randint(15, 60))
    details: dict[str, Any] = {"status": "Success", "reason": None}
    if channel:
        details.update({"channel": "sms", "actual_channel": "sms"})
    events = [
        {"type": f"{prefix}_VERIFICATION_MESSAGE_SENT", "timestamp": iso_offset(sent), "details": details, "fee": fee},
        {"type": "VALID_CODE_ENTERED", "timestamp": iso_offset(entered),
         "details": {"code_tried": f"{rnd.randint(0, 999999):06d}", "status": "Approved"}, "fee": 0},
    ]
    final = {st.APPROVED: "APPROVED", st.DECLINED: "DECLINED", st.IN_REVIEW: "IN_REVIEW"}.get(outcome.status)
    if final is not None:
        reason = outcome.warnings[0].risk if outcome.warnings else None
        events.append({"type": f"{prefix}_VERIFICATION_{final}",
                       "timestamp": iso_offset(entered + timedelta(milliseconds=rnd.randint(20, 400))),
                       "details": {"reason": reason} if reason else None, "fee": 0})
    return events


def _phone_item(ctx: _Context, outcome: FeatureOutcome) -> dict[str, Any]:
    rnd = ctx.rnd("phone")
    raw = str((ctx.session.contact_details or {}).get("phone") or ctx.person.phone)
    parts = _phone_parts(ctx.tenant, raw, ctx.person.country_code, rnd)
    risks = _risks(outcome)
    virtual = "VOIP_NUMBER_DETECTED" in risks or parts["type"] in ("voip", "isp", "vpn")
    return {
        "node_id": node_id_for(wf.PHONE),
        "status": _status(outcome.status, _WITH_EXPIRED),
        "phone_number_prefix": parts["prefix"],
        "phone_number": parts["national"],
        "full_number": parts["full"],
        "country_code": parts["region"],
        "country_name": parts["country_name"],
        "carrier": {"name": parts["carrier"], "type": "voip" if virtual else parts["type"]},
        "is_disposable": "DISPOSABLE_NUMBER_DETECTED" in risks or parts["disposable"],
        "is_virtual": virtual,
        "verification_method": "sms",
        "verification_attempts": 1,
        "verified_at": iso(ctx.finished - timedelta(seconds=rnd.randint(5, 40))),
        "lifecycle": _lifecycle("PHONE", outcome, ctx.finished, rnd, 0.1, channel=True),
        "warnings": ctx.warnings(outcome),
        "matches": [],
    }


def _email_item(ctx: _Context, outcome: FeatureOutcome) -> dict[str, Any]:
    rnd = ctx.rnd("email")
    risks = _risks(outcome)
    return {
        "node_id": node_id_for(wf.EMAIL_VERIFICATION),
        "status": _status(outcome.status, _WITH_EXPIRED),
        "email": str((ctx.session.contact_details or {}).get("email") or ctx.person.email),
        "is_breached": "BREACHED_EMAIL_DETECTED" in risks,
        "breaches": [],
        "is_disposable": "DISPOSABLE_EMAIL_DETECTED" in risks,
        "is_undeliverable": "UNDELIVERABLE_EMAIL_DETECTED" in risks,
        "verification_attempts": 1,
        "verified_at": iso(ctx.finished - timedelta(seconds=rnd.randint(5, 40))),
        "warnings": ctx.warnings(outcome),
        "lifecycle": _lifecycle("EMAIL", outcome, ctx.finished, rnd, 0.03, channel=False),
        "matches": [],
    }


# ---------------------------------------------------------------- proof of address

_BANKS = {
    "ESP": ("Banco Santander", "BBVA", "CaixaBank"), "USA": ("JPMorgan Chase Bank", "Bank of America", "Wells Fargo"),
    "DEU": ("Deutsche Bank", "Commerzbank", "Sparkasse"), "FRA": ("BNP Paribas", "Credit Agricole", "Societe Generale"),
    "GBR": ("Barclays", "HSBC UK", "Lloyds Bank"), "ITA": ("Intesa Sanpaolo", "UniCredit", "Banco BPM"),
}


def _poa_location(ctx: _Context, outcome: FeatureOutcome) -> tuple[str, str, str, str, str]:
    """(street, city, region, postal code, alpha-3) of the address the POA document shows."""
    person, risks = ctx.person, _risks(outcome)
    poa_country = (ctx.session.expected_details or {}).get("poa_country")
    alpha3 = country(poa_country).alpha3 if isinstance(poa_country, str) and poa_country else person.issuing_state
    if "POA_ADDRESS_MISMATCH" in risks:
        street, city, region, postal = other_address(ctx.tenant, person, "poa")
        return street, city, region, postal, alpha3
    postal = person.postal_code
    if "POA_PARTIAL_MATCH" in risks:
        digits = [i for i, ch in enumerate(postal) if ch.isdigit()]
        if digits:
            last = digits[-1]
            postal = postal[:last] + str((int(postal[last]) + 4) % 10) + postal[last + 1:]
    return person.street_1, person.city, person.region, postal, alpha3


def _poa_item(ctx: _Context, outcome: FeatureOutcome) -> dict[str, Any]:
    person, rnd = ctx.person, ctx.rnd("poa")
    street, city, region, postal, alpha3 = _poa_location(ctx, outcome)
    home = country(alpha3)
    kind = rnd.choice(("UTILITY_BILL", "UTILITY_BILL", "BANK_STATEMENT"))
    bank = kind == "BANK_STATEMENT"
    issuer = rnd.choice(_BANKS.get(alpha3, ("Citibank", "HSBC"))) if bank \
        else rnd.choice(home.utilities or ("City Water and Power", "National Energy"))
    issued = ctx.day - timedelta(days=rnd.randint(6, 80))
    moved = street != person.street_1
    lat = person.latitude + (rnd.uniform(-0.6, 0.6) if moved else 0.0)
    lng = person.longitude + (rnd.uniform(-0.6, 0.6) if moved else 0.0)
    expected = ctx.session.expected_details or {}
    expected_address = expected.get("address") if isinstance(expected.get("address"), str) else None
    named = bool(expected.get("first_name") or expected.get("last_name"))
    return {
        "node_id": node_id_for(wf.POA),
        "status": _status(outcome.status, _WITH_RESUB),
        "document_file": ctx.media("poa_document", "pdf"),
        "issuing_state": home.alpha2,
        "document_type": kind,
        "document_subtype": None,
        "document_language": home.language,
        "document_metadata": {
            "file_size": rnd.randint(80_000, 420_000), "content_type": "application/pdf",
            "creation_date": issued.isoformat(), "modified_date": issued.isoformat(), "overlay_manipulation": None,
            "creator": None, "producer": "Adobe PDF Library 17.0", "software": None, "encryption": None,
            "is_signed": False, "is_tampered": False, "signature_info": None, "exif_original_date": None,
            "exif_digitized_date": None, "processed_by_known_editor": False,
            "has_different_creation_mod_date": False,
        },
        "issuer": issuer,
        "issue_date": issued.isoformat(),
        "expiration_date": None,
        "poa_address": ascii_upper(f"{street}, {postal} {city}"),
        "poa_formatted_address": f"{street}, {postal} {city}, {home.name}",
        "poa_parsed_address": {
            "address_type": _address_type(street), "street_1": street, "street_2": None, "city": city,
            "region": region, "country": home.alpha2, "postal_code": postal,
            "document_location": {"latitude": round(lat, 6), "longitude": round(lng, 6)},
        },
        "name_on_document": person.full_name,
        "name_match_score_expected_details": 100.0 if named else None,
        "name_match_score_id_verification": 100.0 if ctx.ran(wf.ID_VERIFICATION) else None,
        "expected_details_address": expected_address,
        "expected_details_formatted_address": person.formatted_address if expected_address else None,
        "expected_details_parsed_address": {
            "street_1": person.street_1, "street_2": None, "city": person.city, "region": person.region,
            "country": country(person.issuing_state).alpha2, "postal_code": person.postal_code,
        } if expected_address else {},
        "extra_fields": {
            "bank_account_number": "".join(str(rnd.randint(0, 9)) for _ in range(10)) if bank else None,
            "bank_iban": None, "bank_sort_code": None, "bank_routing_number": None, "bank_swift_bic": None,
            "bank_branch_name": None, "bank_branch_address": None, "document_phone_number": None,
            "additional_names": [],
        },
        "extra_files": [],
        "detected_codes": [],
        "warnings": ctx.warnings(outcome),
    }


# ---------------------------------------------------------------- AML

_PEP_POSITIONS = ("Member of Parliament", "Mayor", "Regional Minister", "Ambassador", "Judge of the Supreme Court")
_SANCTION_LISTS = (
    ("OFAC Specially Designated Nationals List", "US Office of Foreign Assets Control", "SDN"),
    ("EU Consolidated Financial Sanctions List", "European Commission", "EU Restrictive Measures"),
    ("UK Financial Sanctions Targets", "HM Treasury OFSI", "UK Sanctions"),
)


def _aml_hit(rnd: random.Random, person: Person, sanctioned: bool, match_score: float) -> dict[str, Any]:
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


def _aml_item(ctx: _Context, outcome: FeatureOutcome) -> dict[str, Any]:
    person, rnd = ctx.person, ctx.rnd("aml")
    risks = _risks(outcome)
    wanted = outcome.data.get("total_hits")
    flagged = "POSSIBLE_MATCH_FOUND" in risks or (isinstance(wanted, int) and wanted > 0) or \
        (outcome.status in (st.DECLINED, st.IN_REVIEW) and "COULD_NOT_PERFORM_AML_SCREENING" not in risks)
    count = min(wanted, 5) if isinstance(wanted, int) and not isinstance(wanted, bool) and wanted > 0 \
        else 1 if flagged else 0
    sanctioned = outcome.status == st.DECLINED
    score = _number(outcome.data.get("score"))
    if score is None:
        score = round(rnd.uniform(96.0, 100.0) if sanctioned else rnd.uniform(81.0, 92.0), 2) if count else 0.0
    hits = [_aml_hit(rnd, person, sanctioned, score) for _ in range(count)]
    return {
        "node_id": node_id_for(wf.AML),
        "status": _status(outcome.status, _WITH_RESUB),
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


# ---------------------------------------------------------------- IP analysis

_DEVICES = (
    ("Apple", "iPhone", "Mobile Safari", "iOS", "mobile"),
    ("Samsung", "SM-S911B", "Chrome Mobile", "Android", "mobile"),
    ("Google", "Pixel 8", "Chrome Mobile", "Android", "mobile"),
    ("Apple", "Mac", "Safari", "Mac OS X", "desktop"),
    ("Generic", "Desktop", "Chrome", "Windows", "desktop"),
)


def _poa_point(item: dict[str, Any] | None) -> tuple[float, float] | None:
    parsed = item.get("poa_parsed_address") if item else None
    located = parsed.get("document_location") if isinstance(parsed, dict) else None
    try:
        return (float(located["latitude"]), float(located["longitude"])) if located else None
    except (KeyError, TypeError, ValueError):
        return None


def _ip_item(ctx: _Context, outcome: FeatureOutcome) -> dict[str, Any]:
    person = ctx.person
    device_rnd = random.Random(derive_seed(person.seed, "device"))  # the same user keeps one device
    brand, model, browser, os_family, platform = device_rnd.choice(_DEVICES)
    fingerprint = "didit-fp-" + "".join(device_rnd.choice("0123456789abcdef") for _ in range(16))
    rnd = ctx.rnd("ip")
    risks = _risks(outcome)
    home = country(person.issuing_state)
    ip_loc = (round(person.latitude + rnd.uniform(-0.05, 0.05), 4),
              round(person.longitude + rnd.uniform(-0.05, 0.05), 4))
    id_loc = (person.latitude, person.longitude) if ctx.ran(wf.ID_VERIFICATION) else None
    poa_loc = _poa_point(ctx.items.get(wf.POA))

    def location(point: tuple[float, float] | None) -> dict[str, float] | None:
        return None if point is None else {"latitude": point[0], "longitude": point[1]}

    isp = person.isp
    return {
        "node_id": node_id_for(wf.IP_ANALYSIS),
        "status": _status(outcome.status, _WITH_RESUB),
        "device_brand": brand,
        "device_model": model,
        "browser_family": browser,
        "os_family": os_family,
        "platform": platform,
        "device_fingerprint": fingerprint,
        "ip_country": home.name,
        "ip_country_code": home.alpha2,
        "ip_state": person.region,
        "ip_city": person.city,
        "latitude": ip_loc[0],
        "longitude": ip_loc[1],
        "ip_address": person.ip_address,
        "isp": isp,
        "organization": isp,
        "is_vpn_or_tor": "VPN_OR_TOR_DETECTED" in risks,
        "is_data_center": False,
        "time_zone": person.time_zone,
        "time_zone_offset": _utc_offset(person.time_zone, ctx.finished),
        "ip": {"location": location(ip_loc), "distance_from_id_document": _distance_km(ip_loc, id_loc),
               "distance_from_poa_document": _distance_km(ip_loc, poa_loc)},
        "id_document": {"location": location(id_loc), "distance_from_ip": _distance_km(id_loc, ip_loc),
                        "distance_from_poa_document": _distance_km(id_loc, poa_loc)},
        "poa_document": {"location": location(poa_loc), "distance_from_ip": _distance_km(poa_loc, ip_loc),
                         "distance_from_id_document": _distance_km(poa_loc, id_loc)},
        "warnings": ctx.warnings(outcome),
        "matches": [],
    }


# ---------------------------------------------------------------- database validation, questionnaire

_MATCH_BY_STATUS = {st.APPROVED: "full_match", st.IN_REVIEW: "partial_match", st.DECLINED: "no_match"}


def _database_item(ctx: _Context, outcome: FeatureOutcome) -> dict[str, Any]:
    person = ctx.person
    match_type = outcome.data.get("match_type", _MATCH_BY_STATUS.get(outcome.status))
    if match_type not in ("full_match", "partial_match", "no_match", None):
        match_type = _MATCH_BY_STATUS.get(outcome.status)
    field_result = match_type or "no_match"
    home = country(person.issuing_state)
    found = match_type in ("full_match", "partial_match")
    identification = person.personal_number or person.document_number
    return {
        "node_id": node_id_for(wf.DATABASE_VALIDATION),
        "issuing_state": person.issuing_state,
        "validation_type": "one_by_one",
        "screened_data": {
            "first_name": person.first_name, "last_name": person.last_name, "tax_number": person.personal_number,
            "personal_number": person.personal_number, "document_number": person.document_number,
            "date_of_birth": person.date_of_birth.isoformat(), "document_type": person.document_code,
            "expiration_date": person.expiration_date.isoformat(),
        },
        "validations": [{
            "service_id": f"{home.alpha3.lower()}_identity_registry",
            "service_name": f"{home.name} - identity registry check",
            "validation": {
                "full_name": "partial_match" if match_type == "partial_match" else field_result,
                "date_of_birth": "full_match" if found else "no_match",
                "identification_number": "full_match" if found else "no_match",
            },
            "outcome_code": {"full_match": "MATCH", "partial_match": "PARTIAL_MATCH"}.get(str(match_type), "NO_MATCH"),
            "outcome_detail": None,
            "source_data": {
                "identification_number": identification, "first_name": ascii_upper(person.first_name),
                "last_name": ascii_upper(person.last_name), "date_of_birth": person.date_of_birth.isoformat(),
                "gender": person.gender, "nationality": person.nationality,
            } if found else {},
        }],
        "match_type": match_type,
        "status": _status(outcome.status, _WITH_RESUB),
        "warnings": ctx.warnings(outcome),
    }


_QUESTIONS = (
    ("DROPDOWN", "What is your primary source of funds?",
     (("Salary", "salary"), ("Business Income", "business_income"), ("Savings", "savings"),
      ("Investments", "investments"), ("Inheritance/Gift", "inheritance_gift"), ("Pension", "pension"))),
    ("DROPDOWN", "What is your annual income range (pre-tax)?",
     (("Less than $25,000", "<25k"), ("$25,000 - $50,000", "25k-50k"), ("$50,001 - $100,000", "50k-100k"),
      ("$100,001 - $250,000", "100k-250k"), ("More than $250,000", ">250k"))),
    ("LONG_TEXT", "Provide details of the primary source.", ()),
    ("SINGLE_CHOICE", "Are you acting on your own behalf?", (("Yes", "yes"), ("No", "no"))),
)
_ANSWERS = ("Monthly salary from my employer.", "Savings accumulated over several years.",
            "Income from my own small business.", "Returns from long-term investments.")


def _questionnaire_item(ctx: _Context, outcome: FeatureOutcome) -> dict[str, Any]:
    rnd = ctx.rnd("questionnaire")
    linked = ctx.session.workflow.extra.get("questionnaire_id")
    if linked:  # a workflow made through the API names one of the application's questionnaires
        from .questionnaires import session_responses

        responses = session_responses(ctx.tenant, str(linked), rnd)
        if responses is not None:
            return {"node_id": node_id_for(wf.QUESTIONNAIRE), **responses,
                    "status": _status(outcome.status, _WITH_RESUB), "warnings": ctx.warnings(outcome)}
    fixed = random.Random(derive_seed(ctx.tenant.seed, "questionnaire", ctx.session.workflow.workflow_id))
    items = []
    for index, (kind, title, choices) in enumerate(_QUESTIONS, start=1):
        answer = ("yes" if kind == "SINGLE_CHOICE" else rnd.choice(choices)[1]) if choices \
            else rnd.choice(_ANSWERS)
        items.append({
            "uuid": _uuid(fixed), "value": f"question_{index}", "element_type": kind, "is_required": True,
            "title": title, "description": None, "placeholder": None,
            "choices": [{"label": label, "value": value} for label, value in choices] or None,
            "max_files": 1, "answer": {"value": answer}, "required_if": None, "repeatable_config": None,
        })
    extra = ctx.session.workflow.extra
    return {
        "node_id": node_id_for(wf.QUESTIONNAIRE),
        "questionnaire_id": str(extra.get("questionnaire_id") or _uuid(fixed)),
        "title": "Source of Funds",
        "description": "Reply to this questionnaire to help us understand the source of funds.",
        "languages": ["en"],
        "default_language": "en",
        "is_active": True,
        "is_simple_questionnaire": True,
        "questionnaire_group_id": _uuid(fixed),
        "version": 1,
        "published_at": "2025-11-02T09:14:55.000000Z",
        "sections": [{"title": None, "description": None, "items": items}],
        "status": _status(outcome.status, _WITH_RESUB),
        "warnings": ctx.warnings(outcome),
    }


_BUILDERS = {
    wf.ID_VERIFICATION: _id_item,
    wf.NFC: _nfc_item,
    wf.FACE_MATCH: _face_match_item,
    wf.PHONE: _phone_item,
    wf.EMAIL_VERIFICATION: _email_item,
    wf.POA: _poa_item,
    wf.AML: _aml_item,
    wf.IP_ANALYSIS: _ip_item,
    wf.DATABASE_VALIDATION: _database_item,
    wf.QUESTIONNAIRE: _questionnaire_item,
}


def _merge_data(item: dict[str, Any], data: dict[str, Any], feature: str) -> None:
    for key, value in data.items():
        if key in SPECIAL_DATA_KEYS or (feature == wf.AGE_ESTIMATION and key in ("age", "age_estimation")):
            continue
        item[key] = copy.deepcopy(value)


def _feature_arrays(tenant: Tenant, session: Session) -> dict[str, list[dict[str, Any]] | None]:
    arrays: dict[str, list[dict[str, Any]] | None] = {name: None for name in FEATURE_ARRAYS}
    outcomes = session.outcomes
    if not outcomes:
        return arrays
    ctx = _Context(tenant, session, outcomes)
    for feature in wf.FEATURE_ORDER:
        outcome = outcomes.get(feature)
        if outcome is None or feature == wf.AGE_ESTIMATION and wf.LIVENESS in outcomes:
            continue
        if feature in (wf.LIVENESS, wf.AGE_ESTIMATION):
            item = _liveness_item(ctx, outcomes.get(wf.LIVENESS), outcomes.get(wf.AGE_ESTIMATION))
            if wf.LIVENESS in outcomes:
                _merge_data(item, outcomes[wf.LIVENESS].data, wf.LIVENESS)
            if wf.AGE_ESTIMATION in outcomes:
                _merge_data(item, outcomes[wf.AGE_ESTIMATION].data, wf.AGE_ESTIMATION)
        else:
            item = _BUILDERS[feature](ctx, outcome)
            _merge_data(item, outcome.data, feature)
            if feature == wf.ID_VERIFICATION and session.data_overrides.get(wf.ID_VERIFICATION):
                _apply_overrides(item, session.data_overrides[wf.ID_VERIFICATION])
            if feature == wf.POA and session.data_overrides.get(wf.POA):
                _apply_overrides(item, session.data_overrides[wf.POA])
            if feature == wf.AML and session.data_overrides.get(wf.AML):
                reviewed = session.data_overrides[wf.AML].get("hit_review_status") or {}
                for hit in item.get("hits") or []:
                    if isinstance(hit, dict) and hit.get("id") in reviewed:
                        hit["review_status"] = reviewed[hit["id"]]
        ctx.items[feature] = item
        arrays[ARRAY_OF[feature]] = [item]
    return arrays


def feature_item(tenant: Tenant, session: Session, feature: str) -> dict[str, Any]:
    """The decision item of one feature of `session`, built by the same code as the decision.

    The standalone APIs render their results with it, saved or not.
    """
    items = _feature_arrays(tenant, session)[ARRAY_OF[feature]]
    assert items
    return copy.deepcopy(items[0])


# ---------------------------------------------------------------- the decision

def _expected_details(session: Session) -> dict[str, Any] | None:
    shown = {k: copy.deepcopy(v) for k, v in (session.expected_details or {}).items() if v is not None}
    return shown or None


def _contact_details(session: Session) -> dict[str, Any] | None:
    contact = session.contact_details or {}
    if not contact.get("email") and not contact.get("phone"):
        return None
    shown = {
        "email": contact.get("email"),
        "email_lang": contact.get("email_lang"),
        "send_notification_emails": bool(contact.get("send_notification_emails", False)),
        "phone": contact.get("phone"),
    }
    return {k: v for k, v in shown.items() if v is not None or k == "phone"}


def _reviews(session: Session) -> list[dict[str, Any]]:
    shown = []
    for review in session.reviews:
        if review.activity_type != "STATUS_UPDATED":
            continue
        user = "API Client" if review.actor_type == "API_KEY" else review.actor_email or review.actor_display
        shown.append({
            "user": user,
            "new_status": review.new_status or "",
            "comment": review.comment if review.comment is not None else "",
            "created_at": iso(_dt(review.created_at)),
        })
    return shown


def _features(session: Session) -> list[str]:
    names = list(session.workflow.features)
    names += [f for f in wf.FEATURE_ORDER if f in (session.outcomes or {}) and f not in names]
    return names


def _build(tenant: Tenant, session: Session) -> dict[str, Any]:
    if session.imported_decision is not None:
        return _build_imported(tenant, session)
    arrays = _feature_arrays(tenant, session)
    decision: dict[str, Any] = {
        "session_id": session.session_id,
        "session_kind": "user",
        "session_number": session.session_number,
        "session_url": session.url,
        "status": session.status,
        "environment": tenant.environment,
        "workflow_id": None if session.workflow.template == API_TEMPLATE else session.workflow.workflow_id,
        "features": _features(session),
        "vendor_data": session.vendor_data,
        "metadata": copy.deepcopy(session.metadata),
        "expected_details": _expected_details(session),
        "contact_details": _contact_details(session),
        "callback": session.callback,
        "nfc_skip_reason": None,
        "reviews": _reviews(session),
        "created_at": iso(_dt(session.created_at)),
        "expires_at": iso(_dt(session.expires_at)) if session.expires_at is not None else None,
        "registry_checks": None,
        "key_people_checks": None,
        "document_verifications": None,
    }
    decision.update(arrays)
    _stored_results(session, decision)
    return {key: decision[key] for key in TOP_LEVEL_KEYS}


def _stored_results(session: Session, decision: dict[str, Any]) -> None:
    """What a saved Document AI call or KYB registry retrieval keeps as rendered results."""
    overrides = session.data_overrides
    document_ai = overrides.get("DOCUMENT_AI")
    if document_ai and isinstance(document_ai.get("group"), dict):
        decision["document_ai_documents"] = [copy.deepcopy(document_ai["group"])]
    registry = overrides.get("KYB_REGISTRY")
    if registry and isinstance(registry.get("check"), dict):
        check = copy.deepcopy(registry["check"])
        company = check.get("company") or {}
        # The decision's company says its risk level as an enum and always has user-provided data.
        risk = str(company.get("risk_level") or "").split(" ")[0].upper()
        company["risk_level"] = risk if risk in ("LOW", "MEDIUM", "HIGH") else None
        if company.get("user_provided_data") is None:
            company["user_provided_data"] = {}
        decision["session_kind"] = "business"
        decision["registry_checks"] = [check]


def _build_imported(tenant: Tenant, session: Session) -> dict[str, Any]:
    """A B2B-imported session: the shared decision's data under this session's own identity."""
    source = copy.deepcopy(session.imported_decision or {})
    own = {
        "session_id": session.session_id,
        "session_kind": "user",
        "session_number": session.session_number,
        "session_url": None,
        "status": session.status,
        "environment": tenant.environment,
        "workflow_id": session.workflow.workflow_id,
        "features": source.get("features") if isinstance(source.get("features"), list) else _features(session),
        "vendor_data": session.vendor_data,
        "metadata": copy.deepcopy(session.metadata),
        "expected_details": source.get("expected_details"),
        "contact_details": source.get("contact_details"),
        "callback": session.callback,
        "nfc_skip_reason": source.get("nfc_skip_reason"),
        "reviews": _reviews(session),
        "created_at": iso(_dt(session.created_at)),
        "expires_at": iso(_dt(session.expires_at)) if session.expires_at is not None else None,
    }
    decision = {key: own[key] if key in own else source.get(key) for key in TOP_LEVEL_KEYS}
    decision["shared_from_session"] = session.shared_from_session
    return decision


# ---------------------------------------------------------------- caching

_CACHE_SIZE = 2048


@dataclass(slots=True)
class _Entry:
    """One session's renderings as compact UTF-8 JSON (decoded into fresh dicts for callers)."""

    fingerprint: tuple[Any, ...]
    body: bytes
    row: bytes | None = None
    v2: bytes | None = None


class DecisionCache:
    """A tenant's rendered decisions, keyed by session and revision (LRU)."""

    def __init__(self, tenant: object):
        self.lock = threading.Lock()
        self.entries: OrderedDict[str, _Entry] = OrderedDict()

    def get(self, session_id: str, fingerprint: tuple[Any, ...]) -> _Entry | None:
        with self.lock:
            entry = self.entries.get(session_id)
            if entry is None or entry.fingerprint != fingerprint:
                return None
            self.entries.move_to_end(session_id)
            return entry

    def put(self, session_id: str, entry: _Entry) -> None:
        with self.lock:
            self.entries[session_id] = entry
            self.entries.move_to_end(session_id)
            while len(self.entries) > _CACHE_SIZE:
                self.entries.popitem(last=False)


def _fingerprint(tenant: Tenant, session: Session) -> tuple[Any, ...]:
    return (id(session), session.revision, session.status, session.expires_at, session.finished_at,
            len(session.reviews), session.callback, tenant.environment, tenant.config.public_base_url,
            id(session.outcomes), id(session.imported_decision))


def _entry(tenant: Tenant, session: Session) -> _Entry:
    cache = tenant.component(DecisionCache)
    fingerprint = _fingerprint(tenant, session)
    entry = cache.get(session.session_id, fingerprint)
    if entry is None:
        entry = _Entry(fingerprint, _dumps(_build(tenant, session)))
        cache.put(session.session_id, entry)
    return entry


def _dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render_decision(tenant: Tenant, session: Session) -> dict[str, Any]:
    """The v3 decision of a session (§6), as a fresh dict the caller may mutate or serialise.

    Cached per session revision: a repeated call only decodes the cached JSON (no Faker work).
    """
    return json.loads(_entry(tenant, session).body)


def decision_json(tenant: Tenant, session: Session) -> bytes:
    """The v3 decision already serialised (compact UTF-8 JSON), straight from the cache."""
    return _entry(tenant, session).body


def render_decision_v2(tenant: Tenant, session: Session) -> dict[str, Any]:
    """The legacy v2 decision: singular feature objects (first v3 item without `node_id`)."""
    entry = _entry(tenant, session)
    if entry.v2 is None:
        entry.v2 = _dumps(_build_v2(json.loads(entry.body)))
    return json.loads(entry.v2)


def _strip_node_ids(item: dict[str, Any]) -> dict[str, Any]:
    stripped = {k: v for k, v in item.items() if k != "node_id"}
    if isinstance(stripped.get("warnings"), list):
        stripped["warnings"] = [{k: v for k, v in w.items() if k != "node_id"} if isinstance(w, dict) else w
                                for w in stripped["warnings"]]
    return stripped


def _build_v2(decision: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {key: decision.get(key) for key in (
        "session_id", "session_number", "session_url", "status", "workflow_id", "features", "vendor_data",
        "metadata", "expected_details", "contact_details", "callback")}
    for singular, plural in V2_KEYS.items():
        items = decision.get(plural)
        body[singular] = _strip_node_ids(items[0]) if items else None
    body["reviews"] = decision.get("reviews", [])
    body["created_at"] = decision.get("created_at")
    body["expires_at"] = decision.get("expires_at")
    if "shared_from_session" in decision:
        body["shared_from_session"] = decision["shared_from_session"]
    return body


# ---------------------------------------------------------------- the list row

_ROW_FEATURES = ("ID_VERIFICATION", "NFC", "LIVENESS", "FACE_MATCH", "POA", "QUESTIONNAIRE", "EMAIL_VERIFICATION",
                 "PHONE", "AML", "IP_ANALYSIS", "AGE_ESTIMATION", "DATABASE_VALIDATION")
_ROW_DOCUMENT_TYPES = ("Passport", "Identity Card", "Driver's License", "Residence Permit",
                       "Health Insurance Card", "Tax Card")


def list_row(tenant: Tenant, session: Session) -> dict[str, Any]:
    """The KYC row of GET /v3/sessions/ (§5.3), every key present; a fresh dict."""
    return json.loads(list_row_json(tenant, session))


def list_row_json(tenant: Tenant, session: Session) -> bytes:
    """The list row already serialised (compact UTF-8 JSON), straight from the cache."""
    entry = _entry(tenant, session)
    if entry.row is None:
        entry.row = _dumps(_build_row(tenant, session, json.loads(entry.body)))
    return entry.row


def _first(decision: dict[str, Any], array: str) -> dict[str, Any] | None:
    items = decision.get(array)
    return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else None


def _blocked(item: dict[str, Any]) -> bool:
    return any(isinstance(w, dict) and str(w.get("risk", "")).endswith("_IN_BLOCKLIST")
               for w in item.get("warnings") or [])


def _build_row(tenant: Tenant, session: Session, decision: dict[str, Any]) -> dict[str, Any]:
    idv = _first(decision, "id_verifications")
    liveness = _first(decision, "liveness_checks")
    document_type = idv.get("document_type") if idv else None
    contact = session.contact_details or {}
    phone_item, email_item = _first(decision, "phone_verifications"), _first(decision, "email_verifications")
    phone = {"number": phone_item.get("full_number"), "is_verified": phone_item.get("status") == st.APPROVED} \
        if phone_item else {"number": contact["phone"], "is_verified": False} if contact.get("phone") else None
    email = {"email": email_item.get("email"), "is_verified": email_item.get("status") == st.APPROVED} \
        if email_item else {"email": contact["email"], "is_verified": False} if contact.get("email") else None
    portrait = (idv or {}).get("portrait_image") or (liveness or {}).get("reference_image")
    return {
        "session_id": session.session_id,
        "session_kind": "user",
        "session_number": session.session_number,
        "session_url": decision.get("session_url"),
        "portrait_image": portrait,
        "document_type": document_type if document_type in _ROW_DOCUMENT_TYPES else None,
        "full_name": idv.get("full_name") if idv else None,
        "country": idv.get("issuing_state") if idv else None,
        "status": session.status,
        "vendor_data": session.vendor_data,
        "didit_internal_id": str(uuid.UUID(int=derive_seed(tenant.seed, "user", session.vendor_data) << 64
                                           | derive_seed(tenant.seed, "user-low", session.vendor_data), version=4))
        if session.vendor_data is not None else None,
        "created_at": decision.get("created_at"),
        "features": _row_features(session, decision),
        "phone_number": phone,
        "email_address": email,
        "additional_details": _additional_details(decision),
    }


def _row_features(session: Session, decision: dict[str, Any]) -> list[dict[str, str]]:
    names = decision.get("features") if session.imported_decision is not None else _features(session)
    rows = []
    for name in names or []:
        if name not in _ROW_FEATURES:
            continue
        outcome = (session.outcomes or {}).get(name)
        status = outcome.status if outcome is not None else st.NOT_FINISHED
        rows.append({"feature": name, "status": _status(status, _WITH_RESUB)})
    return rows


def _additional_details(decision: dict[str, Any]) -> dict[str, Any] | None:
    details: dict[str, Any] = {}
    aml = _first(decision, "aml_screenings")
    if aml:
        screened = aml.get("screened_data") or {}
        details["aml"] = {
            "total_hits": aml.get("total_hits", 0), "entity_type": aml.get("entity_type", "person"),
            "is_adverse_media_fetched": False,
            "screened_data": {k: screened.get(k) or "" for k in ("nationality", "document_number", "date_of_birth")},
        }
    database = _first(decision, "database_validations")
    if database:
        screened = database.get("screened_data") or {}
        details["database_validation"] = {
            "validation_type": database.get("validation_type") or "one_by_one",
            "match_type": database.get("match_type") or "no_match",
            "identification_number": screened.get("personal_number") or screened.get("document_number") or "",
        }
    poa = _first(decision, "poa_verifications")
    if poa:
        details["poa"] = {"document_type": poa.get("document_type") or "", "issuer": poa.get("issuer") or "",
                          "address": poa.get("poa_formatted_address") or "",
                          "name_on_document": poa.get("name_on_document") or ""}
    liveness = _first(decision, "liveness_checks")
    if liveness:
        details["liveness"] = {"method": liveness.get("method"), "score": liveness.get("score")}
    face = _first(decision, "face_matches")
    if face:
        details["face_match"] = {"score": face.get("score"), "source_image": face.get("source_image"),
                                 "target_image": face.get("target_image")}
    phone = _first(decision, "phone_verifications")
    if phone:
        details["phone_verification"] = {"country_code": phone.get("country_code"),
                                         "is_temporary": bool(phone.get("is_disposable")), "is_ported": False,
                                         "is_blocked": _blocked(phone)}
    email = _first(decision, "email_verifications")
    if email:
        details["email_verification"] = {"is_breached": bool(email.get("is_breached")),
                                         "is_disposable": bool(email.get("is_disposable")),
                                         "is_undeliverable": bool(email.get("is_undeliverable")),
                                         "is_blocklisted": _blocked(email)}
    return details or None


# ---------------------------------------------------------------- document expiry

def document_expiry_timestamp(tenant: Tenant, session: Session) -> float | None:
    """When the session's ID document expires: Unix time of 00:00 UTC on its `expiration_date`.

    None when the session has no ID_VERIFICATION outcome.
    """
    if not session.outcomes or wf.ID_VERIFICATION not in session.outcomes:
        return None
    expiry: date | None = None
    if session.imported_decision is not None:
        item = _first(session.imported_decision, "id_verifications")
        text = item.get("expiration_date") if item else None
        try:
            expiry = date.fromisoformat(str(text)[:10]) if text else None
        except ValueError:
            expiry = None
        if expiry is None:
            return None
    else:
        expiry = person_for(tenant, session).expiration_date
    return datetime(expiry.year, expiry.month, expiry.day, tzinfo=UTC).timestamp()
