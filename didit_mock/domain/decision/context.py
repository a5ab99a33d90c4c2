"""What every feature builder reads (`Context`) and the small helpers the builders share."""

from __future__ import annotations

import copy
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from .. import statuses as st
from ..outcomes import FeatureOutcome
from ..people import Person, document_display_name, person_for, session_day
from ..rng import derive_seed
from .layout import node_id_for

if TYPE_CHECKING:
    from ..sessions import Session
    from ..tenant import Tenant

UTC = timezone.utc

# Feature-status enums differ per array in Didit's schema.
WITH_EXPIRED = (st.NOT_FINISHED, st.APPROVED, st.DECLINED, st.IN_REVIEW, st.EXPIRED)
WITH_RESUB = (st.NOT_FINISHED, st.APPROVED, st.DECLINED, st.IN_REVIEW, st.RESUB_REQUESTED)


@dataclass
class Context:
    """What every feature builder needs: the tenant, the session, its person and its clock marks.

    `items` holds the items already built, by feature (IP analysis reads the POA item's location).
    """

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
        return utc_datetime(self.session.finished_at or self.session.created_at)

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


def status_within(status: str, allowed: tuple[str, ...]) -> str:
    """A feature status within the enum of its array (Resub Requested/Expired become Not Finished)."""
    return status if status in allowed else st.NOT_FINISHED


def utc_datetime(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def finite_number(value: Any) -> float | None:
    """`value` as a float when it is a finite number (not a bool), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def status_score(rnd: random.Random, status: str, data: dict[str, Any],
                 approved: tuple[float, float] = (86.0, 99.0), review: tuple[float, float] = (58.0, 72.0),
                 declined: tuple[float, float] = (6.0, 34.0)) -> float:
    """A 0-100 score that agrees with the status; `data["score"]` wins."""
    given = finite_number(data.get("score"))
    if given is not None:
        return given
    low, high = declined if status == st.DECLINED else review if status in (st.IN_REVIEW, st.NOT_FINISHED) \
        else approved
    return round(rnd.uniform(low, high), 2)


def risks_of(outcome: FeatureOutcome) -> set[str]:
    return {w.risk for w in outcome.warnings}


def address_type(street: str) -> str:
    """The kind of street a street line names ("Street", "Avenue", "Calle"...)."""
    words = [w.strip(".,") for w in street.split() if w.strip(".,").isalpha() and len(w) > 1]
    if not words:
        return "Street"
    return words[-1] if street[:1].isdigit() else words[0]


def first_item(decision: dict[str, Any], array: str) -> dict[str, Any] | None:
    """The first item of one of a decision's feature arrays, when there is one."""
    items = decision.get(array)
    return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else None


def apply_corrections(item: dict[str, Any], overrides: dict[str, Any]) -> None:
    """update-data corrections win over generated values (the person already follows them).

    Object fields (extra_fields, parsed addresses) are corrected key by key; a null removes a key.
    """
    for key, value in overrides.items():
        if key == "document_type":
            item[key] = document_display_name(value)
        elif isinstance(value, dict) and isinstance(item.get(key), dict):
            merged = {**item[key], **value}
            item[key] = {k: v for k, v in merged.items() if k not in value or value[k] is not None}
        else:
            item[key] = copy.deepcopy(value)
