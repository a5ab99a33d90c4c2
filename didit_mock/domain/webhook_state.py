"""The tenant's webhooks as a state section (the entry's `webhooks`): the legacy URL and the
destinations, injected faults, every delivery with its attempts, and the pending deliveries (in
chain order), whose chains wake at their due time after an import."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from .state import Reader, StateInvalid, StateSection, check, dataclass_from, join_path, json_copy, unique
from .tenant import Tenant
from .webhooks import Attempt, Delivery, Destination, LegacyWebhook, SendOutcome, SignedRequest, book

DELIVERY_STATES = ("pending", "delivered", "failed")


class ParsedWebhooks:
    """The section's parsed value (the arguments of `WebhookBook.restore`)."""

    def __init__(self, legacy: LegacyWebhook, destinations: list[Destination], faults: dict[str, Any],
                 deliveries: dict[str, Delivery], attempts: list[Attempt], pending: list[Delivery]):
        self.legacy = legacy
        self.destinations = destinations
        self.faults = faults
        self.deliveries = deliveries
        self.attempts = attempts
        self.pending = pending


# ---------------------------------------------------------------- export

def _export(tenant: Tenant) -> dict[str, Any]:
    hooks = book(tenant)
    return {"webhooks": {
        "legacy": {f.name: getattr(hooks.legacy, f.name) for f in fields(LegacyWebhook)},
        "destinations": [
            {**{f.name: getattr(d, f.name) for f in fields(Destination)},
             "subscribed_events": list(d.subscribed_events)}
            for d in hooks.destinations.values()
        ],
        "faults": json_copy(hooks.faults, "faults"),
        "deliveries": [_delivery_json(d) for d in hooks.deliveries.values()],
        "attempts": [_attempt_json(a) for a in hooks.attempts],
        "pending": [d.id for d in hooks.pending()],
    }}


def _delivery_json(d: Delivery) -> dict[str, Any]:
    return {"id": d.id, "event_id": d.event_id, "target_key": d.target_key, "destination_uuid": d.destination_uuid,
            "url": d.url, "webhook_version": d.webhook_version, "secret": d.secret, "session_id": d.session_id,
            "webhook_type": d.webhook_type, "status": d.status, "payload": json_copy(d.payload, "payload"),
            "created_at": d.created_at, "not_before": d.not_before, "state": d.state, "exhausted": d.exhausted}


def _attempt_json(a: Attempt) -> dict[str, Any]:
    return {"uuid": a.uuid, "delivery_id": a.delivery.id, "number": a.number, "trigger": a.trigger,
            "created_at": a.created_at,
            "request": {"url": a.request.url, "body": a.request.body.decode("utf-8"),
                        "headers": dict(a.request.headers), "timestamp": a.request.timestamp,
                        "trigger": a.request.trigger},
            "outcome": {"status": a.outcome.status, "body": a.outcome.body, "elapsed_ms": a.outcome.elapsed_ms,
                        "error": a.outcome.error},
            "will_retry": a.will_retry, "next_retry_at": a.next_retry_at, "exhausted": a.exhausted}


# ---------------------------------------------------------------- import

def _parse(data: Any, path: str) -> ParsedWebhooks:
    r = Reader(data, path).obj("webhooks")
    legacy = dataclass_from(LegacyWebhook, r.obj("legacy"), {
        "url": "str?", "version": "str", "secret": "str?", "capture_method": "str", "data_retention_months": "int?"})
    destinations = [_parse_destination(item) for item in r.items("destinations")]
    deliveries: dict[str, Delivery] = {}
    for item in r.items("deliveries"):
        delivery = dataclass_from(Delivery, item, {
            "id": "str", "event_id": "str", "target_key": "str", "destination_uuid": "str?", "url": "str",
            "webhook_version": "str", "secret": "str", "session_id": "str", "webhook_type": "str", "status": "str",
            "payload": "object", "created_at": "float", "not_before": "float", "exhausted": "bool"})
        delivery.state = item.choice("state", DELIVERY_STATES)
        if delivery.id in deliveries:
            raise StateInvalid(f"{item.at('id')}: delivery {delivery.id!r} appears twice.")
        deliveries[delivery.id] = delivery
    attempts = [_parse_attempt(item, deliveries) for item in r.items("attempts")]
    unique([a.uuid for a in attempts], r.at("attempts"), "uuid")
    pending = []
    for i, ref in enumerate(r("pending", "list")):
        delivery = deliveries.get(check(ref, "str", f"{r.at('pending')}[{i}]"))
        if delivery is None or delivery.state != "pending":
            raise StateInvalid(f"{r.at('pending')}[{i}]: {ref!r} is not a pending delivery.")
        pending.append(delivery)
    unique([d.id for d in pending], r.at("pending"), "delivery")
    return ParsedWebhooks(legacy, destinations, r("faults", "object"), deliveries, attempts, pending)


def _parse_destination(item: Reader) -> Destination:
    events = [check(e, "str", f"{item.at('subscribed_events')}[{i}]")
              for i, e in enumerate(item("subscribed_events", "list"))]
    return Destination(
        uuid=item("uuid", "str"), label=item("label", "str"), url=item("url", "str"),
        enabled=item("enabled", "bool"), webhook_version=item("webhook_version", "str"),
        secret_shared_key=item("secret_shared_key", "str"), subscribed_events=events,
        created_at=item("created_at", "float"), updated_at=item("updated_at", "float"),
    )


def _parse_attempt(item: Reader, deliveries: dict[str, Delivery]) -> Attempt:
    """An attempt, appended to the attempts of its delivery."""
    delivery_id = item("delivery_id", "str")
    owner = deliveries.get(delivery_id)
    if owner is None:
        raise StateInvalid(f"{item.at('delivery_id')}: no delivery {delivery_id!r}.")
    request_r, outcome_r = item.obj("request"), item.obj("outcome")
    headers = request_r("headers", "object")
    for name, value in headers.items():
        check(value, "str", join_path(request_r.at("headers"), name))
    request = SignedRequest(request_r("url", "str"), request_r("body", "str").encode("utf-8"), headers,
                            request_r("timestamp", "int"), request_r("trigger", "str"))
    outcome = dataclass_from(SendOutcome, outcome_r, {
        "status": "int?", "body": "str?", "elapsed_ms": "int?", "error": "str?"})
    attempt = Attempt(
        uuid=item("uuid", "str"), delivery=owner, number=item("number", "int"), trigger=item("trigger", "str"),
        created_at=item("created_at", "float"), request=request, outcome=outcome,
        will_retry=item("will_retry", "bool"), next_retry_at=item("next_retry_at", "float?"),
        exhausted=item("exhausted", "bool"),
    )
    owner.attempts.append(attempt)
    return attempt


def _restore(tenant: Tenant, parsed: ParsedWebhooks) -> None:
    book(tenant).restore(parsed.legacy, parsed.destinations, parsed.faults, parsed.deliveries, parsed.attempts,
                         parsed.pending)


def _rearm(tenant: Tenant) -> None:
    book(tenant).rearm()


def _relink(value: dict[str, Any], move: Callable[[Any], Any]) -> dict[str, Any]:
    """Deliveries still to send link to the new server; those made, and their attempts, stay as sent."""
    hooks = value.get("webhooks")
    if not isinstance(hooks, dict):
        return move(value)  # type: ignore[no-any-return]
    moved = {name: part if name == "attempts" else move(part) for name, part in hooks.items() if name != "deliveries"}
    deliveries = hooks.get("deliveries")
    if isinstance(deliveries, list):
        moved["deliveries"] = [move(d) if not isinstance(d, dict) or d.get("state") == "pending" else d
                               for d in deliveries]
    return {**value, "webhooks": moved}


WEBHOOKS_SECTION = StateSection("webhooks", _export, _parse, _restore, fields=("webhooks",), rearm=_rearm,
                                relink=_relink)
