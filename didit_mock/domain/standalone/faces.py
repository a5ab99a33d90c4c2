"""Passive liveness, face match and age estimation: the rules, then the session's own builders.

Each call takes the armed directive of its endpoint (if any), reads the image (a tiny image shows
no face; a fixture's marker names a person and a scenario), decides scores with the real
thresholds, and renders its result from the decision item of a one-feature session.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import statuses as st
from .. import workflows as wf
from ..outcomes import FeatureOutcome
from ..people import person_for, session_day
from ..rng import derive_seed
from . import compat, record
from .armed import Directive, armed
from .images import ImageFacts
from .texts import warning

if TYPE_CHECKING:
    from ..tenant import Tenant

ATTACK_SCORE = 12.5
LOW_SIMILARITY_SCORE = 24.87
#: Risks a directive may add that decline (the others are informational or warnings).
_DECLINING = frozenset({"NO_FACE_DETECTED", "LOW_LIVENESS_SCORE", "LIVENESS_FACE_ATTACK", "FACE_IN_BLOCKLIST",
                        "POSSIBLE_FACE_IN_BLOCKLIST", "NO_REFERENCE_IMAGE", "LOW_FACE_MATCH_SIMILARITY",
                        "AGE_NOT_DETECTED", "AGE_BELOW_MINIMUM"})


@dataclass(frozen=True)
class Request:
    """What every face call shares."""

    vendor_data: str | None
    metadata: Any
    save: bool


@dataclass
class Steer:
    """The directive and the image marker, merged: which scenario and which extra risks apply."""

    scenario: str | None
    risks: set[str]
    status: str | None

    @classmethod
    def of(cls, directive: Directive | None, *images: ImageFacts) -> Steer:
        marked = next((i.scenario for i in images if i.scenario), None)
        if directive is None:
            return cls(marked, set(), None)
        return cls(directive.scenario or marked, set(directive.risks), directive.status)

    def wants(self, *names: str) -> bool:
        return any(n == self.scenario or n in self.risks for n in names)


def _rnd(tenant: Tenant, *salt: object) -> random.Random:
    return random.Random(derive_seed(tenant.seed, "standalone", *salt))


def face_entity(rnd: random.Random, image: ImageFacts, age: float | None, gender: str, scale: float = 1.0,
            with_race: bool = True) -> dict[str, Any]:
    w, h = image.width, image.height
    box = [int(w * (0.5 - 0.2 * scale)), int(h * (0.45 - 0.25 * scale)), int(w * (0.5 + 0.2 * scale)),
           int(h * (0.45 + 0.25 * scale))]
    entity: dict[str, Any] = {"bbox": box, "confidence": round(rnd.uniform(0.95, 0.999), 3),
                              "age": age if age is not None else 0.0,
                              "gender": "male" if gender == "M" else "female"}
    if with_race:
        entity["race"] = None
    return entity


def _finish(tenant: Tenant, request: Request, steer: Steer, session: Any, outcome: FeatureOutcome,
            *, policies: bool) -> None:
    """Policies (blocklist), Didit's texts, the status, and saving."""
    outcomes = {outcome.feature: outcome}
    if policies:
        record.run_policies(tenant, session, outcomes)
        _screen_faces(tenant, session, outcome)
    outcome.warnings = [warning(w.feature, w.risk, w.log_type, w.additional_data) for w in outcome.warnings]
    status = record.final_status(outcome)
    if steer.status is not None:
        status = st.APPROVED if steer.status == st.APPROVED else st.DECLINED
    outcome.status = status
    record.finish(tenant, session, outcomes, status, saved=request.save)


def _screen_faces(tenant: Tenant, session: Any, outcome: FeatureOutcome) -> None:
    """Name the blocklisted session of a FACE_IN_BLOCKLIST; a face of another user's approved session
    (a fixture of one person uploaded for another vendor_data) is a DUPLICATED_FACE."""
    from .. import blocklist as blocklist_domain
    from .. import sessions as sessions_domain

    face_id = person_for(tenant, session).face_id
    found = blocklist_domain.find_all(tenant, blocklist_domain.FACE, face_id)
    for index, item in enumerate(outcome.warnings):
        if item.risk == "FACE_IN_BLOCKLIST" and item.additional_data is None and found:
            entry = found[0]
            outcome.warnings[index] = warning(item.feature, item.risk, item.log_type, {
                "blocklisted_session_id": entry.session_id, "blocklisted_session_number": entry.session_number,
                "api_service": entry.api_service})
    owner = str(session.workflow.extra.get("person_key", ""))
    if not owner.startswith("vendor:") or owner == f"vendor:{session.vendor_data}" or session.vendor_data is None:
        return
    approved = [s for s in sessions_domain.book(tenant).by_vendor.get(owner.removeprefix("vendor:"), ())
                if s.status == st.APPROVED and s.outcomes and wf.LIVENESS in s.outcomes]
    if approved:
        first = approved[0]
        api_service = first.workflow.extra.get("api_service") if first.workflow.extra else None
        outcome.warnings = [*outcome.warnings, warning("LIVENESS", "DUPLICATED_FACE", "information", {
            "duplicated_session_id": first.session_id, "duplicated_session_number": first.session_number,
            "api_service": api_service})]


def _extra_risks(outcome: FeatureOutcome, feature: str, steer: Steer, known: set[str]) -> None:
    for risk in sorted(steer.risks - known):
        log_type = "error" if risk in _DECLINING or risk.endswith("_IN_BLOCKLIST") else "information"
        outcome.warnings = [*outcome.warnings, warning(feature, risk, log_type)]


# ---------------------------------------------------------------- passive liveness

def passive_liveness(tenant: Tenant, request: Request, image: ImageFacts, threshold: float) -> dict[str, Any]:
    steer = Steer.of(armed(tenant).take("passive-liveness", request.vendor_data), image)
    if steer.status == st.DECLINED and not steer.risks and not steer.scenario:
        steer.scenario = "decline_liveness_attack"
    key = image.identity(request.vendor_data)
    session = record.new_call(tenant, "PASSIVE_LIVENESS", wf.LIVENESS, key, request.vendor_data,
                              request.metadata, saved=request.save)
    rnd = _rnd(tenant, "liveness", key, image.digest)
    outcome = FeatureOutcome(wf.LIVENESS)
    no_face = not image.usable or steer.wants("no_face", "NO_FACE_DETECTED")
    warnings = []
    if no_face:
        # The decision's schema wants a number: no face scores 0 there, null in the standalone answer.
        outcome.data = {"method": "PASSIVE", "score": 0.0, "face_quality": None, "face_luminance": None}
        warnings.append(warning("LIVENESS", "NO_FACE_DETECTED", "error"))
    else:
        attack = steer.wants("decline_liveness_attack", "LIVENESS_FACE_ATTACK")
        score = ATTACK_SCORE if attack else round(threshold * 0.6, 2) if steer.wants("LOW_LIVENESS_SCORE") \
            else round(rnd.uniform(91.0, 99.0), 2)
        outcome.data = {"method": "PASSIVE", "score": score, "face_quality": round(rnd.uniform(78.0, 90.0), 2),
                        "face_luminance": round(rnd.uniform(44.0, 56.0), 2)}
        if score <= threshold:
            warnings.append(warning("LIVENESS", "LOW_LIVENESS_SCORE", "error"))
        if attack:
            warnings.append(warning("LIVENESS", "LIVENESS_FACE_ATTACK", "error"))
        if steer.wants("multiple_faces", "MULTIPLE_FACES_DETECTED"):
            warnings.append(warning("LIVENESS", "MULTIPLE_FACES_DETECTED", "warning"))
    outcome.warnings = warnings
    _extra_risks(outcome, "LIVENESS", steer, {w.risk for w in warnings} | {"LIVENESS_FACE_ATTACK"})
    _finish(tenant, request, steer, session, outcome, policies=True)
    item = record.item(tenant, session, wf.LIVENESS)
    entities: list[dict[str, Any]] = []
    if not no_face:
        gender = person_for(tenant, session).gender
        entities.append(face_entity(rnd, image, item.get("age_estimation"), gender))
        if any(w["risk"] == "MULTIPLE_FACES_DETECTED" for w in item["warnings"]):
            entities.append(face_entity(rnd, image, round(rnd.uniform(20.0, 60.0), 1), "F", 0.5))
    result = {
        "status": item["status"], "method": "PASSIVE", "score": None if no_face else item["score"],
        "user_image": {"entities": entities, "best_angle": 0 if entities else None},
        "warnings": item["warnings"], "face_quality": item["face_quality"], "face_luminance": item["face_luminance"],
    }
    return record.envelope(tenant, session, "liveness", result)


# ---------------------------------------------------------------- face match

def face_match(tenant: Tenant, request: Request, user: ImageFacts, ref: ImageFacts, threshold: float) -> dict[str, Any]:
    steer = Steer.of(armed(tenant).take("face-match", request.vendor_data), user, ref)
    if steer.status == st.DECLINED and not steer.risks and not steer.scenario:
        steer.scenario = "decline_face_match_low_similarity"
    user_key, ref_key = user.identity(request.vendor_data), ref.identity(request.vendor_data)
    session = record.new_call(tenant, "FACE_MATCH", wf.FACE_MATCH, user_key, request.vendor_data,
                              request.metadata, saved=request.save)
    pair = sorted((user.digest, ref.digest))
    rnd = _rnd(tenant, "face_match", *sorted((user_key, ref_key)), *pair)
    outcome = FeatureOutcome(wf.FACE_MATCH)
    unscorable = not (user.usable and ref.usable) or steer.wants("no_face", "NO_REFERENCE_IMAGE")
    warnings = []
    score: float | None
    if unscorable:
        score = None if request.save else 0
        warnings.append(warning("FACEMATCH", "NO_REFERENCE_IMAGE", "error"))
    else:
        if steer.wants("decline_face_match_low_similarity", "LOW_FACE_MATCH_SIMILARITY"):
            score = LOW_SIMILARITY_SCORE if threshold >= LOW_SIMILARITY_SCORE else round(threshold * 0.8, 2)
        elif steer.wants("review_face_match_borderline"):
            score = min(100.0, round(threshold + 0.5, 2))
        else:
            score = rnd.uniform(90.0, 99.9) if user_key == ref_key else rnd.uniform(5.0, 25.0)
        score = round(score, 2) if request.save else round(score, 6)
        if score <= threshold:
            warnings.append(warning("FACEMATCH", "LOW_FACE_MATCH_SIMILARITY", "error"))
    outcome.data = {"score": score if score is not None else 0.0}  # the decision's schema wants a number
    outcome.warnings = warnings
    _finish(tenant, request, steer, session, outcome, policies=False)
    item = record.item(tenant, session, wf.FACE_MATCH)
    person = person_for(tenant, session)

    def side(image: ImageFacts, salt: str) -> dict[str, Any]:
        if not image.usable or unscorable and steer.wants("no_face"):
            return {"entities": [], "best_angle": 0}
        side_rnd = _rnd(tenant, "face_match_entity", salt, image.digest)
        age = round(max(1.0, person.age_on(session_day(session)) + side_rnd.uniform(-2.5, 2.5)), 1)
        return {"entities": [face_entity(side_rnd, image, age, person.gender)], "best_angle": 0}

    result = {"status": item["status"], "score": score, "user_image": side(user, "user"),
              "ref_image": side(ref, "ref"), "warnings": item["warnings"]}
    return record.envelope(tenant, session, "face_match", result)


# ---------------------------------------------------------------- age estimation

def age_estimation(tenant: Tenant, request: Request, image: ImageFacts, liveness_threshold: float,
                   age_threshold: int) -> dict[str, Any]:
    steer = Steer.of(armed(tenant).take("age-estimation", request.vendor_data), image)
    if steer.status == st.DECLINED and not steer.risks and not steer.scenario:
        steer.scenario = "decline_minimum_age"
    key = image.identity(request.vendor_data)
    session = record.new_call(tenant, "AGE_ESTIMATION", wf.AGE_ESTIMATION, key, request.vendor_data,
                              request.metadata, saved=request.save)
    rnd = _rnd(tenant, "age", key, image.digest)
    outcome = FeatureOutcome(wf.AGE_ESTIMATION)
    no_face = not image.usable or steer.wants("no_face", "NO_FACE_DETECTED")
    warnings = []
    age: float | None
    if no_face:
        score, age = None, None
        warnings += [warning("LIVENESS", "NO_FACE_DETECTED", "error"), warning("LIVENESS", "AGE_NOT_DETECTED", "error")]
    else:
        attack = steer.wants("decline_liveness_attack", "LIVENESS_FACE_ATTACK")
        score = 5.0 if attack else round(rnd.uniform(95.0, 99.5), 2)
        if steer.wants("decline_minimum_age", "AGE_BELOW_MINIMUM"):
            age = 16.5
        else:
            person = person_for(tenant, session)
            age = round(max(1.0, person.age_on(session_day(session)) + rnd.uniform(-2.5, 2.5)), 1)
        if score <= liveness_threshold:
            warnings.append(warning("LIVENESS", "LOW_LIVENESS_SCORE", "error"))
        if attack:
            warnings.append(warning("LIVENESS", "LIVENESS_FACE_ATTACK", "error"))
        if age_threshold > 0 and age < age_threshold:
            warnings.append(warning("LIVENESS", "AGE_BELOW_MINIMUM", "error"))
    # The decision's schema wants numbers: no face is 0 there, null in the standalone answer.
    outcome.data = {"method": "PASSIVE", "score": score if score is not None else 0.0,
                    "age_estimation": age if age is not None else 0.0}
    if no_face:
        outcome.data = {**outcome.data, "face_quality": None, "face_luminance": None}
    outcome.warnings = warnings
    _extra_risks(outcome, "LIVENESS", steer, {w.risk for w in warnings})
    for extra in outcome.warnings:
        extra.log_type = "error"  # every age-estimation warning declines
    _finish(tenant, request, steer, session, outcome, policies=False)
    item = record.item(tenant, session, wf.AGE_ESTIMATION)
    entities = [] if no_face else [
        face_entity(rnd, image, age, person_for(tenant, session).gender, with_race=False)]
    result = {"status": item["status"], "method": "PASSIVE", "score": score,
              "user_image": {"entities": entities, "best_angle": 0 if entities else None},
              "age_estimation": age, "warnings": item["warnings"]}
    answer = record.envelope(tenant, session, "age_estimation", result)
    if compat.enabled(tenant, compat.AGE_ESTIMATION_LIVENESS_KEY):  # Didit's skills and smoke suite read this
        answer["liveness"] = dict(result)
    return answer
