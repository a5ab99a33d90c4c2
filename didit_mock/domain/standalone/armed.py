"""Outcomes a test arms for the next standalone calls of an endpoint (optionally for one vendor_data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import statuses as st
from ..errors import ValidationFailed

if TYPE_CHECKING:
    from ..tenant import Tenant

ENDPOINTS = ("id-verification", "passive-liveness", "face-match", "face-search", "age-estimation", "poa",
             "database-validation", "aml", "email-risk", "phone-risk", "ip-risk", "document-ai", "kyb")
STATUSES = (st.APPROVED, st.DECLINED, st.IN_REVIEW)


@dataclass
class Directive:
    """What the next call of an endpoint answers: a status, risks, and/or a scenario slug."""

    status: str | None = None
    risks: tuple[str, ...] = ()
    scenario: str | None = None
    vendor_data: str | None = None
    sticky: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "risks": list(self.risks), "scenario": self.scenario,
                "vendor_data": self.vendor_data, "sticky": self.sticky}


def directive_from(body: Any) -> Directive:
    """A directive from the admin API's body, or a 400 naming the field."""
    if not isinstance(body, dict):
        raise ValidationFailed({"non_field_errors": ["Expected an object."]})
    status = body.get("status")
    if status is not None and status not in STATUSES:
        raise ValidationFailed.field("status", f'"{status}" is not a valid choice.')
    risks = body.get("risks", body.get("warnings", []))
    if not isinstance(risks, list) or not all(isinstance(r, str) and r for r in risks):
        raise ValidationFailed.field("risks", "Expected a list of risk codes.")
    for name in ("scenario", "vendor_data"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise ValidationFailed.field(name, "Not a valid string.")
    if status is None and not risks and body.get("scenario") is None:
        raise ValidationFailed.field("status", "Give a status, risks or a scenario.")
    return Directive(status, tuple(r.upper() for r in risks), body.get("scenario"), body.get("vendor_data"),
                     bool(body.get("sticky", False)))


@dataclass
class ArmedOutcomes:
    """A tenant's armed directives, per endpoint, in the order they were armed."""

    tenant: Any
    queues: dict[str, list[Directive]] = field(default_factory=dict)

    def arm(self, endpoint: str, directive: Directive) -> None:
        if endpoint not in ENDPOINTS:
            raise ValidationFailed.field("endpoint", f'"{endpoint}" is not a valid choice.')
        self.queues.setdefault(endpoint, []).append(directive)

    def take(self, endpoint: str, vendor_data: str | None) -> Directive | None:
        """The first directive for this call (one for its vendor_data first), used up unless sticky."""
        queue = self.queues.get(endpoint) or []
        chosen = next((d for d in queue if d.vendor_data is not None and d.vendor_data == vendor_data), None)
        if chosen is None:
            chosen = next((d for d in queue if d.vendor_data is None), None)
        if chosen is not None and not chosen.sticky:
            queue.remove(chosen)
        if chosen is None:  # then the rules of the tenant's scenarios
            for rule in self.tenant.registry.wiring.standalone_rules:
                chosen = rule(self.tenant, endpoint, vendor_data)
                if chosen is not None:
                    break
        return chosen

    def listed(self) -> dict[str, list[dict[str, Any]]]:
        return {name: [d.to_dict() for d in queue] for name, queue in self.queues.items() if queue}

    def clear(self, endpoint: str | None = None) -> None:
        if endpoint is None:
            self.queues.clear()
        else:
            self.queues.pop(endpoint, None)


def armed(tenant: Tenant) -> ArmedOutcomes:
    return tenant.component(ArmedOutcomes)
