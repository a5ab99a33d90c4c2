"""Webhooks, the pure part: configuration, envelopes, signatures and the delivery log.

Didit signs every delivery three ways (didit-api.md §10.5). The body is
`canon(payload, ascii=True)`; `X-Signature` is the HMAC of those exact bytes, `X-Signature-V2` the
HMAC of the unescaped UTF-8 form, `X-Signature-Simple` the HMAC of
`"{timestamp}:{session_id}:{status}:{webhook_type}"`.

A tenant's `WebhookBook` keeps where events go (the legacy application-level URL and the
destinations), the payload snapshot of each event for each target (a `Delivery`) and every HTTP
attempt (an `Attempt`: the delivery log). Events of one session to one target form a chain: a
later delivery waits until the earlier one succeeded or gave up. The book does no I/O: the edge
(`didit_mock.webhook_delivery`) takes a ready delivery, signs it here, posts it, and records the
outcome here; retries are scheduled on the tenant clock.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import statuses as st
from .clock import iso
from .errors import NotFound, ValidationFailed, not_a_dictionary
from .events import DATA_UPDATED, DomainEvent

if TYPE_CHECKING:
    from .tenant import Tenant

log = logging.getLogger("didit_mock.webhooks")

USER_AGENT = "DiditWebhook/2.0 +https://didit.me"
#: Every event name a destination may subscribe to (OpenAPI `WebhookEvent`).
SUPPORTED_EVENTS = (
    "status.updated",
    "data.updated",
    "user.status.updated",
    "user.data.updated",
    "business.status.updated",
    "business.data.updated",
    "activity.created",
    "transaction.created",
    "transaction.status.updated",
    "travel_rule.status.updated",
)
WEBHOOK_VERSIONS = ("v1", "v2", "v3")
CAPTURE_METHODS = ("mobile", "desktop", "both")
#: Waits before the automatic retries: 1 minute, then 4 more minutes (2 retries).
RETRY_DELAYS = (60.0, 240.0)
SECRET_LENGTH = 43
#: Chain/target key of the application-level (legacy) `webhook_url`.
LEGACY = "legacy"
#: Session statuses whose `status.updated` carries the decision.
DECISION_STATUSES = frozenset({st.APPROVED, st.DECLINED, st.IN_REVIEW, st.ABANDONED, st.KYC_EXPIRED})
#: Event subjects that are users or businesses (`user.*` / `business.*` webhooks).
ENTITY_SUBJECTS = ("user", "business")
#: Keys of `DomainEvent.extra` copied into the envelope when present.
ENVELOPE_EXTRA_KEYS = ("vendor_data", "metadata", "decision", "previous_status", "changed_fields")
#: Faults the sender can inject (set by `POST /_mock/webhook/faults` or a scenario).
FAULT_KEYS = ("wrong_secret", "stale_timestamp", "duplicate", "out_of_order", "delay")
DESTINATION_NOT_FOUND = "Webhook destination not found."
MAX_RESPONSE_BODY = 10_000

ChainKey = tuple[str, str]  # (target key: destination uuid or LEGACY, session_id)


# ---------------------------------------------------------------- canonical JSON and signatures

#: The `webhook_version` of a caller-given callback that Didit sends without signatures.
UNSIGNED = "unsigned"

def shorten_floats(data: Any) -> Any:
    """Floats without a fractional part become ints (`100.0 -> 100`), recursively."""
    if isinstance(data, dict):
        return {key: shorten_floats(value) for key, value in data.items()}
    if isinstance(data, list):
        return [shorten_floats(item) for item in data]
    if isinstance(data, float) and data.is_integer():
        return int(data)
    return data


def canonical_json(payload: Any, *, ascii: bool = True) -> str:
    """Compact JSON with keys sorted at every depth, as Didit serialises and signs payloads."""
    return json.dumps(shorten_floats(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=ascii)


def hmac_hex(secret: str, message: str) -> str:
    """Lower-case hex HMAC-SHA256 of `message` (UTF-8) keyed by the secret's UTF-8 bytes."""
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def simple_message(payload: dict[str, Any]) -> str:
    """The `X-Signature-Simple` message; missing fields become empty strings."""
    return ":".join(str(payload.get(k, "")) for k in ("timestamp", "session_id", "status", "webhook_type"))


def signatures(payload: dict[str, Any], secret: str) -> dict[str, str]:
    """The three signature headers of `payload` (which must already carry its `timestamp`)."""
    return {
        "X-Signature": hmac_hex(secret, canonical_json(payload, ascii=True)),
        "X-Signature-V2": hmac_hex(secret, canonical_json(payload, ascii=False)),
        "X-Signature-Simple": hmac_hex(secret, simple_message(payload)),
    }


def signed_request(payload: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    """The exact body bytes and headers of a delivery of `payload`."""
    body = canonical_json(payload, ascii=True).encode("ascii")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Timestamp": str(payload.get("timestamp", "")),
        **signatures(payload, secret),
    }
    return body, headers


def derived_uuid(*parts: str) -> str:
    """A UUID4-shaped id derived from `parts` (ids made in the background never touch tenant.rng)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def iso_or_none(ts: float | None) -> str | None:
    """ISO-8601 of a Unix time on the tenant clock, or None."""
    return None if ts is None else iso(datetime.fromtimestamp(ts, tz=timezone.utc))


# ---------------------------------------------------------------- configuration

@dataclass
class Destination:
    """A webhook destination (`/v3/webhook/destinations/`)."""

    uuid: str
    label: str
    url: str
    enabled: bool
    webhook_version: str
    secret_shared_key: str
    subscribed_events: list[str]
    created_at: float
    updated_at: float

    def receives(self, webhook_type: str) -> bool:
        return self.enabled and webhook_type in self.subscribed_events


@dataclass
class LegacyWebhook:
    """The application-level `webhook_url` of `GET/PATCH /v3/webhook/` (receives every event)."""

    url: str | None = None
    version: str = "v3"
    secret: str | None = None
    capture_method: str = "both"
    data_retention_months: int | None = None


@dataclass(frozen=True)
class Target:
    key: str
    destination_uuid: str | None
    url: str
    version: str


# ---------------------------------------------------------------- deliveries and attempts

@dataclass
class SignedRequest:
    """One HTTP request ready to go: what the edge posts and the log records."""

    url: str
    body: bytes
    headers: dict[str, str]
    timestamp: int
    trigger: str


@dataclass
class SendOutcome:
    """What came back: a status and body, or an error (timeout, refused connection)."""

    status: int | None
    body: str | None = None
    elapsed_ms: int | None = None
    error: str | None = None

    @property
    def success(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def is_retryable(status: int | None) -> bool:
    """5xx, 404 and no response at all are retried; 2xx succeed; 3xx and other 4xx give up."""
    return status is None or status >= 500 or status == 404


@dataclass
class Delivery:
    """One event for one target: the payload snapshot (without `timestamp`) and its attempts."""

    id: str
    event_id: str
    target_key: str
    destination_uuid: str | None
    url: str
    webhook_version: str
    secret: str
    session_id: str
    webhook_type: str
    status: str
    payload: dict[str, Any]
    created_at: float
    not_before: float
    state: str = "pending"  # pending | delivered | failed
    exhausted: bool = False
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def chain_key(self) -> ChainKey:
        return (self.target_key, self.session_id)

    @property
    def automatic_attempts(self) -> int:
        return sum(1 for a in self.attempts if a.trigger in ("initial", "retry"))


@dataclass
class Attempt:
    """One HTTP request of a delivery, as the delivery log shows it."""

    uuid: str
    delivery: Delivery
    number: int
    trigger: str  # initial | retry | replay | duplicate
    created_at: float
    request: SignedRequest
    outcome: SendOutcome
    will_retry: bool = False
    next_retry_at: float | None = None
    exhausted: bool = False

    @property
    def delivered(self) -> bool:
        return self.outcome.success

    def view(self) -> dict[str, Any]:
        """The log entry: Didit's fields (request_header/request_body as JSON strings) plus the mock's."""
        d = self.delivery
        return {
            "uuid": self.uuid,
            "session_id": d.session_id,
            "event_id": d.event_id,
            "webhook_type": d.webhook_type,
            "status": d.status,
            "url": self.request.url,
            "destination_uuid": d.destination_uuid,
            "webhook_version": d.webhook_version,
            "request_header": json.dumps(self.request.headers),
            "request_body": self.request.body.decode("ascii"),
            "response_status": self.outcome.status,
            "response_body": self.outcome.body,
            "response_time_ms": self.outcome.elapsed_ms,
            "error": self.outcome.error,
            "delivered": self.delivered,
            "trigger": self.trigger,
            "attempt": self.number,
            "attempts": len(d.attempts),
            "will_retry": self.will_retry,
            "next_retry_at": iso_or_none(self.next_retry_at),
            "exhausted": self.exhausted,
            "delivery_id": d.id,
            "delivery_state": d.state,
            "delivery_exhausted": d.exhausted,
            "timestamp": self.request.timestamp,
            "created_at": iso_or_none(self.created_at),
        }


# ---------------------------------------------------------------- the per-tenant book

class WebhookBook:
    """A tenant's webhook configuration, pending deliveries and delivery log."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.legacy = LegacyWebhook(url=tenant.config.webhook_url, secret=tenant.config.webhook_secret)
        self.destinations: dict[str, Destination] = {}
        #: Injected faults (see FAULT_KEYS); the scenario engine may fill this dict directly.
        self.faults: dict[str, Any] = {}
        self.deliveries: dict[str, Delivery] = {}
        self.attempts: list[Attempt] = []
        self.attempts_by_uuid: dict[str, Attempt] = {}
        self.notifier: Callable[[ChainKey], None] | None = None
        self.subscribed = False
        self._chains: dict[ChainKey, deque[Delivery]] = {}
        self._busy: set[ChainKey] = set()

    # ------------------------------------------------ legacy configuration

    def legacy_secret(self) -> str:
        """The application-level secret, generated (43 URL-safe characters) on first need."""
        if not self.legacy.secret:
            self.legacy.secret = self.tenant.rng.token(SECRET_LENGTH)
        return self.legacy.secret

    def rotate_legacy_secret(self) -> str:
        self.legacy.secret = self.tenant.rng.token(SECRET_LENGTH)
        return self.legacy.secret

    def legacy_view(self) -> dict[str, Any]:
        """`GET /v3/webhook/`."""
        return {
            "webhook_url": self.legacy.url,
            "webhook_version": self.legacy.version,
            "secret_shared_key": self.legacy_secret(),
            "capture_method": self.legacy.capture_method,
            "data_retention_months": self.legacy.data_retention_months,
        }

    def update_legacy(self, data: Any) -> None:
        """`PATCH /v3/webhook/`: validate everything first, then apply (a failed request changes nothing)."""
        data = _require_dict(data)
        errors: dict[str, list[str]] = {}
        changes: dict[str, Any] = {}
        if "webhook_url" in data:
            raw = data["webhook_url"]
            if raw is None or raw == "":
                changes["url"] = None
            else:
                message = url_error(raw)
                if message:
                    errors["webhook_url"] = [message]
                else:
                    changes["url"] = raw
        if "webhook_version" in data:
            _choice(data, "webhook_version", WEBHOOK_VERSIONS, errors, changes, "version")
        if "capture_method" in data:
            _choice(data, "capture_method", CAPTURE_METHODS, errors, changes, "capture_method")
        if "data_retention_months" in data:
            raw = data["data_retention_months"]
            if raw is None:
                changes["data_retention_months"] = None
            elif isinstance(raw, bool) or not isinstance(raw, int):
                errors["data_retention_months"] = ["A valid integer is required."]
            elif raw < 1:
                errors["data_retention_months"] = ["Ensure this value is greater than or equal to 1."]
            elif raw > 120:
                errors["data_retention_months"] = ["Ensure this value is less than or equal to 120."]
            else:
                changes["data_retention_months"] = raw
        rotate = False
        if "rotate_secret_key" in data:
            parsed = parse_bool(data["rotate_secret_key"])
            if parsed is None:
                errors["rotate_secret_key"] = ["Must be a valid boolean."]
            else:
                rotate = parsed
        if errors:
            raise ValidationFailed(errors)
        for name, value in changes.items():
            setattr(self.legacy, name, value)
        if rotate:
            self.rotate_legacy_secret()

    def configure(self, url: str | None, secret: str | None = None, version: str | None = None) -> None:
        """The admin API's `POST /_mock/webhook`: set the application-level URL (and secret, version)."""
        self.legacy.url = url
        if secret:
            self.legacy.secret = secret
        if version:
            self.legacy.version = version

    # ------------------------------------------------ destinations

    def get_destination(self, destination_uuid: str) -> Destination:
        destination = self.destinations.get(destination_uuid)
        if destination is None:
            raise NotFound(DESTINATION_NOT_FOUND)
        return destination

    def create_destination(self, data: Any) -> Destination:
        """`POST /v3/webhook/destinations/` with Didit's validation messages."""
        data = _require_dict(data)
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        for name in ("label", "url"):
            if name not in data:
                errors[name] = ["This field is required."]
        self._validate_destination_fields(data, errors, values)
        if not errors and self._url_taken(values["url"], None):
            errors["url"] = ["This webhook destination already exists for the application."]
        if errors:
            raise ValidationFailed(errors)
        now = self.tenant.clock.timestamp()
        destination = Destination(
            uuid=self.tenant.rng.uuid4(),
            label=values["label"],
            url=values["url"],
            enabled=values.get("enabled", True),
            webhook_version=values.get("webhook_version", "v3"),
            secret_shared_key=self.tenant.rng.token(SECRET_LENGTH),
            subscribed_events=values.get("subscribed_events", []),
            created_at=now,
            updated_at=now,
        )
        self.destinations[destination.uuid] = destination
        return destination

    def update_destination(self, destination_uuid: str, data: Any) -> Destination:
        """`PATCH /v3/webhook/destinations/{uuid}/`: partial; `subscribed_events` is replaced wholesale."""
        destination = self.get_destination(destination_uuid)
        data = _require_dict(data)
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        self._validate_destination_fields(data, errors, values)
        if not errors and "url" in values and self._url_taken(values["url"], destination.uuid):
            errors["url"] = ["This webhook destination already exists for the application."]
        if errors:
            raise ValidationFailed(errors)
        for name, value in values.items():
            setattr(destination, name, value)
        destination.updated_at = self.tenant.clock.timestamp()
        return destination

    def delete_destination(self, destination_uuid: str) -> None:
        """Future events stop; already queued deliveries and the log stay."""
        self.get_destination(destination_uuid)
        del self.destinations[destination_uuid]

    def _url_taken(self, url: str, own_uuid: str | None) -> bool:
        return any(d.url == url and d.uuid != own_uuid for d in self.destinations.values())

    @staticmethod
    def _validate_destination_fields(data: dict[str, Any], errors: dict[str, list[str]],
                                     values: dict[str, Any]) -> None:
        if "label" in data:
            label = data["label"]
            if label is None:
                errors["label"] = ["This field may not be null."]
            elif not isinstance(label, str):
                errors["label"] = ["Not a valid string."]
            elif not label.strip():
                errors["label"] = ["This field may not be blank."]
            elif len(label) > 255:
                errors["label"] = ["Ensure this field has no more than 255 characters."]
            else:
                values["label"] = label
        if "url" in data:
            url = data["url"]
            if url is None:
                errors["url"] = ["This field may not be null."]
            elif isinstance(url, str) and not url.strip():
                errors["url"] = ["This field may not be blank."]
            else:
                message = url_error(url)
                if message:
                    errors["url"] = [message]
                else:
                    values["url"] = url
        if "enabled" in data:
            enabled = parse_bool(data["enabled"])
            if enabled is None:
                errors["enabled"] = ["Must be a valid boolean."]
            else:
                values["enabled"] = enabled
        if "webhook_version" in data:
            _choice(data, "webhook_version", WEBHOOK_VERSIONS, errors, values, "webhook_version")
        if "subscribed_events" in data:
            events = data["subscribed_events"]
            if events is None:
                errors["subscribed_events"] = ["This field may not be null."]
            elif not isinstance(events, list):
                errors["subscribed_events"] = [f'Expected a list of items but got type "{_type_name(events)}".']
            elif not events:
                errors["subscribed_events"] = ["At least one subscribed event is required."]
            else:
                unknown = [str(e) for e in events if not isinstance(e, str) or e not in SUPPORTED_EVENTS]
                if unknown:
                    errors["subscribed_events"] = [f"Unsupported webhook events: {', '.join(unknown)}"]
                else:
                    values["subscribed_events"] = list(dict.fromkeys(events))

    def destination_view(self, destination: Destination) -> dict[str, Any]:
        """Create / retrieve / update body: with the secret and the `summary` block."""
        stats = self._stats(destination.uuid)
        return {
            **_destination_fields(destination),
            "secret_shared_key": destination.secret_shared_key,
            "subscribed_events": list(destination.subscribed_events),
            "created_at": iso_or_none(destination.created_at),
            "updated_at": iso_or_none(destination.updated_at),
            "summary": {
                "total_deliveries": stats["total"],
                "failed_deliveries": stats["failed"],
                "error_rate_percentage": stats["error_rate"],
                "min_response_time_ms": stats["min"],
                "avg_response_time_ms": stats["avg"],
                "max_response_time_ms": stats["max"],
                "last_delivery_at": stats["last"],
            },
        }

    def destination_row(self, destination: Destination) -> dict[str, Any]:
        """List row: no secret, flat health counters."""
        stats = self._stats(destination.uuid)
        return {
            **_destination_fields(destination),
            "subscribed_events": list(destination.subscribed_events),
            "subscribed_events_count": len(destination.subscribed_events),
            "deliveries_count": stats["total"],
            "failed_deliveries_count": stats["failed"],
            "average_response_time_ms": stats["avg"],
            "error_rate_percentage": stats["error_rate"],
            "last_delivery_at": stats["last"],
            "created_at": iso_or_none(destination.created_at),
            "updated_at": iso_or_none(destination.updated_at),
        }

    def _stats(self, destination_uuid: str) -> dict[str, Any]:
        attempts = [a for a in self.attempts if a.delivery.destination_uuid == destination_uuid]
        failed = sum(1 for a in attempts if not a.delivered)
        times = [a.outcome.elapsed_ms for a in attempts if a.outcome.elapsed_ms is not None]
        return {
            "total": len(attempts),
            "failed": failed,
            "error_rate": round(failed / len(attempts) * 100) if attempts else 0,
            "min": min(times) if times else None,
            "avg": round(sum(times) / len(times)) if times else None,
            "max": max(times) if times else None,
            "last": iso_or_none(attempts[-1].created_at) if attempts else None,
        }

    # ------------------------------------------------ events -> deliveries

    def targets_for(self, webhook_type: str) -> list[Target]:
        """Where an event goes: the legacy URL (every event) and each subscribed, enabled destination."""
        targets = []
        if self.legacy.url:
            targets.append(Target(LEGACY, None, self.legacy.url, self.legacy.version))
        for destination in self.destinations.values():
            if destination.receives(webhook_type):
                targets.append(Target(destination.uuid, destination.uuid, destination.url,
                                      destination.webhook_version))
        return targets

    def on_event(self, event: DomainEvent) -> list[Delivery]:
        """Snapshot the event's payload for every target and queue one delivery per target."""
        targets = self.targets_for(event.webhook_type)
        if not targets:
            return []
        event_id = self.tenant.rng.uuid4()
        payloads: dict[str, dict[str, Any]] = {}
        delay = _seconds(self.faults.get("delay"))
        now = self.tenant.clock.timestamp()
        created = []
        for target in targets:
            if target.version not in payloads:
                payloads[target.version] = build_envelope(self.tenant, event, event_id, target.version)
            secret = self.legacy_secret() if target.key == LEGACY else \
                self.destinations[target.key].secret_shared_key
            delivery = Delivery(
                id=derived_uuid(event_id, target.key),
                event_id=event_id,
                target_key=target.key,
                destination_uuid=target.destination_uuid,
                url=target.url,
                webhook_version=target.version,
                secret=secret,
                session_id=event.session_id,
                webhook_type=event.webhook_type,
                status=event.status,
                payload=payloads[target.version],
                created_at=now,
                not_before=now + delay,
            )
            self.deliveries[delivery.id] = delivery
            self._chains.setdefault(delivery.chain_key, deque()).append(delivery)
            created.append(delivery)
            if delay > 0:
                key = delivery.chain_key
                self.tenant.scheduler.at(delivery.not_before, lambda key=key: self.signal(key))
            else:
                self.signal(delivery.chain_key)
        return created

    def queue_callback(self, url: str, chain: str, webhook_type: str, status: str,
                       payload: dict[str, Any]) -> Delivery:
        """An unsigned callback to a caller-given URL (KYB search's `webhook_url`), sent and retried as
        any delivery; the payload carries its own `timestamp` and goes out without signatures."""
        now = self.tenant.clock.timestamp()
        event_id = str(payload.get("event_id") or self.tenant.rng.uuid4())
        delivery = Delivery(
            id=derived_uuid(event_id, UNSIGNED), event_id=event_id, target_key=UNSIGNED + ":" + url,
            destination_uuid=None, url=url, webhook_version=UNSIGNED, secret="", session_id=chain,
            webhook_type=webhook_type, status=status, payload=payload, created_at=now, not_before=now,
        )
        self.deliveries[delivery.id] = delivery
        self._chains.setdefault(delivery.chain_key, deque()).append(delivery)
        self.signal(delivery.chain_key)
        return delivery

    def signal(self, key: ChainKey) -> None:
        """Tell the edge that the chain `key` may have a delivery ready."""
        if self.notifier is not None:
            self.notifier(key)

    def pending_keys(self) -> list[ChainKey]:
        return list(self._chains)

    def requeue(self, delivery: Delivery) -> None:
        """Put a restored pending delivery at the end of its chain (a state import; see `pending`)."""
        self._chains.setdefault(delivery.chain_key, deque()).append(delivery)

    def restore(self, legacy: LegacyWebhook, destinations: list[Destination], faults: dict[str, Any],
                deliveries: dict[str, Delivery], attempts: list[Attempt], pending: list[Delivery]) -> None:
        """Replace the configuration, the log and the pending deliveries (a state import)."""
        self.legacy = legacy
        self.destinations = {d.uuid: d for d in destinations}
        self.faults.clear()  # the scenario engine may hold this dict
        self.faults.update(faults)
        self.deliveries = deliveries
        self.attempts = attempts
        self.attempts_by_uuid = {a.uuid: a for a in attempts}
        self._chains.clear()
        for delivery in pending:
            self.requeue(delivery)

    def rearm(self) -> None:
        """Wake the chain of every pending delivery at its due time (after a state import)."""
        for delivery in self.pending():
            key = delivery.chain_key
            self.tenant.scheduler.at(delivery.not_before, lambda key=key: self.signal(key))

    # ------------------------------------------------ the sender's side

    def take(self, key: ChainKey) -> Delivery | None:
        """The delivery of chain `key` to attempt now, or None (chain busy, empty or waiting)."""
        chain = self._chains.get(key)
        if key in self._busy or not chain:
            return None
        started = next((d for d in chain if d.automatic_attempts), None)
        candidate = started or (chain[-1] if self.faults.get("out_of_order") else chain[0])
        if candidate.not_before > self.tenant.clock.timestamp():
            return None
        self._busy.add(key)
        return candidate

    def secret_for(self, delivery: Delivery) -> str:
        """Sign with the target's current secret (rotations apply), else the one of the snapshot."""
        if delivery.target_key == LEGACY:
            return self.legacy.secret or delivery.secret
        destination = self.destinations.get(delivery.target_key)
        return destination.secret_shared_key if destination else delivery.secret

    def sign(self, delivery: Delivery, trigger: str | None = None) -> SignedRequest:
        """Stamp the snapshot with the signing time and sign it (applying injected faults)."""
        trigger = trigger or ("retry" if delivery.automatic_attempts else "initial")
        if delivery.webhook_version == UNSIGNED:
            stamp = int(delivery.payload.get("timestamp") or self.tenant.clock.timestamp())
            headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                       "X-Didit-Unsigned-Callback": "true"}
            return SignedRequest(delivery.url, canonical_json(delivery.payload).encode("ascii"), headers, stamp,
                                 trigger)
        timestamp = int(self.tenant.clock.timestamp()) - int(_seconds(self.faults.get("stale_timestamp")))
        payload = {**delivery.payload, "timestamp": timestamp}
        secret = self.secret_for(delivery)
        if self.faults.get("wrong_secret"):
            secret = "wrong-" + secret
        body, headers = signed_request(payload, secret)
        return SignedRequest(delivery.url, body, headers, timestamp, trigger)

    def record(self, delivery: Delivery, request: SignedRequest, outcome: SendOutcome) -> Attempt:
        """Log an automatic attempt; schedule the retry or move the chain on."""
        key = delivery.chain_key
        attempt = self._log(delivery, request, outcome)
        number = delivery.automatic_attempts
        if outcome.success:
            delivery.state = "delivered"
        elif is_retryable(outcome.status) and number <= len(RETRY_DELAYS):
            due = attempt.created_at + RETRY_DELAYS[number - 1]
            attempt.will_retry = True
            attempt.next_retry_at = due
            delivery.not_before = due
            self.tenant.scheduler.at(due, lambda: self.signal(key))
        else:
            delivery.state = "failed"
            delivery.exhausted = attempt.exhausted = is_retryable(outcome.status)
        self._busy.discard(key)
        if delivery.state != "pending":
            self._finish(delivery)
        return attempt

    def record_extra(self, delivery: Delivery, request: SignedRequest, outcome: SendOutcome) -> Attempt:
        """Log a replay or an injected duplicate: it never changes the delivery's state."""
        return self._log(delivery, request, outcome)

    def abandon(self, delivery: Delivery, error: str) -> None:
        """A delivery that could not even be prepared: fail it so that its chain moves on."""
        delivery.state = "failed"
        self._busy.discard(delivery.chain_key)
        self._finish(delivery)
        log.error("webhook delivery %s abandoned: %s", delivery.id, error)

    def release(self, key: ChainKey) -> None:
        """Undo `take` when the attempt never happened (the sender is shutting down)."""
        self._busy.discard(key)

    def _finish(self, delivery: Delivery) -> None:
        key = delivery.chain_key
        chain = self._chains.get(key)
        if chain is not None:
            with contextlib.suppress(ValueError):
                chain.remove(delivery)
            if not chain:
                del self._chains[key]
            else:
                self.signal(key)

    def _log(self, delivery: Delivery, request: SignedRequest, outcome: SendOutcome) -> Attempt:
        number = len(delivery.attempts) + 1
        attempt = Attempt(
            uuid=derived_uuid(delivery.id, str(number)),
            delivery=delivery,
            number=number,
            trigger=request.trigger,
            created_at=self.tenant.clock.timestamp(),
            request=request,
            outcome=outcome,
        )
        delivery.attempts.append(attempt)
        self.attempts.append(attempt)
        self.attempts_by_uuid[attempt.uuid] = attempt
        return attempt

    # ------------------------------------------------ the log

    def find(self, **filters: Any) -> list[Attempt]:
        """Attempts, oldest first, matching every filter given (None = any)."""
        return [a for a in self.attempts if matches(a, **filters)]

    def attempt(self, attempt_uuid: str) -> Attempt | None:
        return self.attempts_by_uuid.get(attempt_uuid)

    def pending(self) -> list[Delivery]:
        return [d for chain in self._chains.values() for d in chain]


def matches(
    attempt: Attempt,
    *,
    session_id: str | None = None,
    webhook_type: str | None = None,
    status: str | None = None,
    event_id: str | None = None,
    destination_uuid: str | None = None,
    trigger: str | None = None,
    delivered: bool | None = None,
    exhausted: bool | None = None,
) -> bool:
    """Whether a log entry passes the delivery-log filters."""
    d = attempt.delivery
    return (
        (session_id is None or d.session_id == session_id)
        and (webhook_type is None or d.webhook_type == webhook_type)
        and (status is None or d.status == status)
        and (event_id is None or d.event_id == event_id)
        and (destination_uuid is None or d.destination_uuid == destination_uuid
             or (destination_uuid == LEGACY and d.target_key == LEGACY))
        and (trigger is None or attempt.trigger == trigger)
        and (delivered is None or attempt.delivered == delivered)
        and (exhausted is None or attempt.exhausted == exhausted)
    )


def book(tenant: Tenant) -> WebhookBook:
    return tenant.component(WebhookBook)


def webhook_faults(tenant: Tenant) -> dict[str, Any]:
    """The tenant's injected webhook faults (a plain dict the scenario engine may fill)."""
    return book(tenant).faults


# ---------------------------------------------------------------- the envelope

def build_envelope(tenant: Tenant, event: DomainEvent, event_id: str, version: str = "v3") -> dict[str, Any]:
    """The payload of `event` as Didit sends it, minus `timestamp` (added when signing)."""
    payload: dict[str, Any] = {
        "event_id": event_id,
        "webhook_type": event.webhook_type,
        "created_at": int(event.occurred_at),
        "application_id": tenant.application_id,
        "environment": tenant.environment,
        "session_id": event.session_id,
        "status": event.status,
    }
    if event.subject == "transaction":  # flat: the transaction's own fields, no session_id
        del payload["session_id"]
        payload.update(event.extra.get("transaction") or {})
        return _snapshot(payload)
    for key in ENVELOPE_EXTRA_KEYS:
        if event.extra.get(key) is not None:
            payload[key] = event.extra[key]
    if event.subject in ENTITY_SUBJECTS:  # users and businesses: keyed by their ids, not a session
        del payload["session_id"]
        payload["vendor_data"] = event.extra.get("vendor_data")
        payload["didit_internal_id"] = event.session_id
        for key in ("previous_status", "changes"):
            if key in event.extra:
                payload[key] = event.extra[key]
        return _snapshot(payload)
    if event.subject != "session":
        return _snapshot(payload)
    from .sessions import book as session_book

    session = session_book(tenant).get(event.session_id)
    if session is not None:
        payload["workflow_id"] = session.workflow.workflow_id
        payload["workflow_version"] = session.workflow.version
        if session.vendor_data is not None:
            payload["vendor_data"] = session.vendor_data
        if session.metadata is not None:
            payload["metadata"] = session.metadata
        if event.webhook_type == DATA_UPDATED or event.status in DECISION_STATUSES:
            decision = _render_decision(tenant, session, version)
            if decision is not None:
                payload["decision"] = decision
    if event.status == st.RESUBMITTED and event.extra.get("resubmit_info") is not None:
        payload["resubmit_info"] = event.extra["resubmit_info"]
    return _snapshot(payload)


def _render_decision(tenant: Tenant, session: Any, version: str) -> dict[str, Any] | None:
    """v3 destinations get the v3 decision, v1/v2 ones the legacy singular shape."""
    from .decision.rendering import render_decision, render_decision_v2  # lazily: it pulls in the builders

    renderer = render_decision if version == "v3" else render_decision_v2
    try:
        return renderer(tenant, session)
    except Exception:  # a webhook must never break the transition that caused it
        log.exception("could not render the decision of session %s for a webhook", session.session_id)
        return None


def _snapshot(payload: dict[str, Any]) -> dict[str, Any]:
    """A deep, JSON-only copy: later changes to the session never leak into a queued delivery."""
    return json.loads(json.dumps(payload))


# ---------------------------------------------------------------- small validators

def url_error(value: Any) -> str | None:
    """DRF URLField's message for a bad URL; http:// is accepted (a local mock calls localhost)."""
    if not isinstance(value, str):
        return "Not a valid string."
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value.strip()):
        return "Enter a valid URL."
    return None


def parse_bool(value: Any) -> bool | None:
    """DRF BooleanField's accepted spellings; None when the value is not a boolean."""
    if value in (True, "true", "True", "TRUE", "1", "yes", "on") or (type(value) is int and value == 1):
        return True
    if value in (False, "false", "False", "FALSE", "0", "no", "off") or (type(value) is int and value == 0):
        return False
    return None


def _choice(data: dict[str, Any], name: str, choices: tuple[str, ...], errors: dict[str, list[str]],
            values: dict[str, Any], attribute: str) -> None:
    value = data[name]
    if not isinstance(value, str) or value not in choices:
        errors[name] = [f'"{value}" is not a valid choice.']
    else:
        values[attribute] = value


def _require_dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise not_a_dictionary(data)
    return data


def _type_name(value: Any) -> str:
    return {list: "list", str: "str", int: "int", float: "float", bool: "bool", dict: "dict"}.get(
        type(value), "NoneType" if value is None else type(value).__name__
    )


def _seconds(value: Any) -> float:
    try:
        return max(0.0, float(value or 0))
    except (TypeError, ValueError):
        return 0.0


def _destination_fields(destination: Destination) -> dict[str, Any]:
    """The fields every view of a destination starts with, in Didit's order."""
    return {
        "uuid": destination.uuid,
        "label": destination.label,
        "url": destination.url,
        "enabled": destination.enabled,
        "webhook_version": destination.webhook_version,
    }
