"""Domain events (a session or verification changed) and the per-tenant bus that carries them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

STATUS_UPDATED = "status.updated"
DATA_UPDATED = "data.updated"


@dataclass(frozen=True)
class DomainEvent:
    """Something an app is told about through a webhook.

    `subject` is `session` for KYC sessions, `phone` or `email` for standalone verifications.
    `occurred_at` is a Unix time on the tenant clock. `extra` carries event-specific data such
    as `resubmit_info`.
    """

    webhook_type: str
    subject: str
    session_id: str
    status: str
    occurred_at: float
    extra: dict[str, Any] = field(default_factory=dict)


Subscriber = Callable[[DomainEvent], None]


class EventBus:
    """Synchronous fan-out: every subscriber sees every event in emission order."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def emit(self, event: DomainEvent) -> None:
        for subscriber in self._subscribers:
            subscriber(event)
