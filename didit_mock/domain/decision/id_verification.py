"""The ID verification item: the person's document, its MRZ, parsed address, image quality, liveness."""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .. import workflows as wf
from ..outcomes import FeatureOutcome
from ..people import Person, ascii_upper, country, person_for
from .context import UTC, WITH_EXPIRED, Context, address_type, first_item, risks_of, status_within
from .layout import node_id_for

if TYPE_CHECKING:
    from ..sessions import Session
    from ..tenant import Tenant


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


def mrz(person: Person, corrupt: bool) -> dict[str, Any]:
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


def parsed_address(person: Person, rnd: random.Random, label: str) -> dict[str, Any]:
    """The document's address as a geocoder reads it (components, location, place id)."""
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
        "address_type": address_type(person.street_1),
        "document_location": {"latitude": lat, "longitude": lng},
        "formatted_address": formatted,
    }


def quality(rnd: random.Random, good: bool) -> dict[str, Any]:
    """The image-quality scores of one side of a document (good: readable, else too dark)."""
    low, high = (78.0, 97.0) if good else (30.0, 55.0)
    focus, brightness, resolution = (round(rnd.uniform(low, high), 1) for _ in range(3))
    return {
        "focus_score": focus, "brightness_score": brightness, "brightness_issue": "ok" if good else "too_dark",
        "is_document_fully_visible": good, "resolution_score": resolution,
        "overall_score": round((focus + brightness + resolution) / 3, 1),
    }


def document_liveness(rnd: random.Random, good: bool) -> dict[str, Any]:
    """The document-liveness checks (portrait replaced, printed copy, screen replay) with their buckets."""
    def check(decline: float, review: float) -> dict[str, Any]:
        front = round(rnd.uniform(88.0, 99.9) if good else rnd.uniform(10.0, 34.0), 2)
        back = round(rnd.uniform(88.0, 99.9) if good else rnd.uniform(10.0, 34.0), 2)
        return {"score": front, "front": front, "back": back, "decline_threshold": decline,
                "review_threshold": review, "bucket": "approve" if good else "decline"}

    return {"portrait_replace": check(35, 70), "printed_copy": check(35, 77), "screen_replay": check(30, 70)}


def id_verification_item(ctx: Context, outcome: FeatureOutcome) -> dict[str, Any]:
    """The `id_verifications` item: the person's document as read."""
    person, rnd = ctx.person, ctx.rnd("id")
    risks = risks_of(outcome)
    unrecognized = "COULD_NOT_RECOGNIZE_DOCUMENT" in risks
    good = not unrecognized
    zone = None if unrecognized or person.document_type == "Driver's License" \
        else mrz(person, corrupt="MRZ_VALIDATION_FAILED" in risks)
    face_score = round(rnd.uniform(88.0, 99.0), 1)
    return {
        "node_id": node_id_for(wf.ID_VERIFICATION),
        "status": status_within(outcome.status, WITH_EXPIRED),
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
        "mrz": zone,
        "parsed_address": parsed_address(person, rnd, f"{person.issuing_state_name} {person.document_type} Address"),
        "extra_files": [],
        "front_image_camera_front_face_match_score": face_score,
        "back_image_camera_front_face_match_score": round(face_score - rnd.uniform(0.5, 3.0), 1),
        "front_image_quality_score": quality(rnd, good),
        "back_image_quality_score": quality(rnd, good),
        "document_liveness": document_liveness(rnd, good),
        "matches": [],
        "warnings": ctx.warnings(outcome),
    }


def document_expiry_timestamp(tenant: Tenant, session: Session) -> float | None:
    """When the session's ID document expires: Unix time of 00:00 UTC on its `expiration_date`.

    None when the session has no ID_VERIFICATION outcome.
    """
    if not session.outcomes or wf.ID_VERIFICATION not in session.outcomes:
        return None
    expiry: date | None = None
    if session.imported_decision is not None:
        item = first_item(session.imported_decision, "id_verifications")
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
