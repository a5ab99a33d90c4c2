"""Every response Didit documents for the operations the mock serves with rules, produced over HTTP
and checked against Didit's own OpenAPI document. A response the document adds, an operation that
gains rules (or one this table stops producing) fails `test_every_documented_response_is_produced`,
so drift in either direction is caught. The additions (operations Didit serves but does not
document) are walked where the mock has rules for them; operations answered by their documented
shape only are not walked here yet."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest

from didit_mock.app import create_app
from didit_mock.server import MockServer
from didit_mock.settings import Settings
from tests.conftest import KYC_WORKFLOW
from tests.contract.conformance import response_schema

COMPLETE_KYC = "d1d17000-0000-4000-8000-000000000006"
UNKNOWN = "5f1f8c9e-0000-4000-8000-00000000c0de"
S = "/v3/session/{sessionId}"
DESTINATIONS = "/v3/webhook/destinations/"
DESTINATION = "/v3/webhook/destinations/{destination_uuid}/"

#: Documented responses the mock does not produce, and why.
WAIVED = {
    ("GET", "/system/healthcheck", "503"): "the mock has no dependencies that can be down",
    ("GET", "/system/healthcheck", "5XX"): "the mock has no dependencies that can be down",
    ("DELETE", f"{S}/delete/", "503"): "no biometric store that can fail (scenario faults can inject a 503)",
    ("POST", f"{S}/share/", "403"): "scoped keys without write:sessions are not emulated",
    ("POST", "/v3/phone/send/", "502"): "no SMS provider that can fail (scenario faults can inject a 502)",
    ("POST", "/v3/phone/send/", "500"): "no internal error to emulate (scenario faults can inject a 500)",
    ("POST", "/v3/phone/check/", "502"): "no SMS provider that can fail (scenario faults can inject a 502)",
    ("POST", "/v3/phone/check/", "500"): "no internal error to emulate (scenario faults can inject a 500)",
    ("POST", "/v3/organization/{organization_id}/application/{application_id}/regulatory-reports/{report_uuid}"
     "/validate/", "200"): "produced by tests/test_resource_store.py (a report needs a case and a template first)",
}


@dataclass
class Ctx:
    """What a case needs: a client of a fresh sandbox tenant, an anonymous one, admin shortcuts."""

    server: str
    client: httpx.Client
    anon: httpx.Client
    #: A key the server refuses (a server that accepts registered keys only).
    refused: httpx.Client

    def tenant(self, **options: object) -> httpx.Client:
        """A client of a new tenant created with options of POST /_mock/tenants."""
        created = self.anon.post("/_mock/tenants", json=options)
        assert created.status_code in (200, 201), created.text
        return httpx.Client(base_url=self.server, headers={"x-api-key": created.json()["api_key"]}, timeout=10)

    def session(self, **fields: object) -> dict:
        response = self.client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW, **fields})
        assert response.status_code == 201, response.text
        return response.json()

    def finished(self, status: str = "Approved", workflow_id: str = KYC_WORKFLOW, **features: object) -> dict:
        created = self.session(vendor_data=f"contract-{uuid.uuid4().hex[:8]}", workflow_id=workflow_id)
        body = {"status": status, **({"features": features} if features else {})}
        done = self.client.post(f"/_mock/sessions/{created['session_id']}/complete", json=body)
        assert done.status_code == 200, done.text
        return created

    def exhaust(self, scope: str) -> None:
        """Fill a rate-limit scope of this tenant so the next request in it answers 429."""
        response = self.client.post("/_mock/ratelimits", json={"consume": {scope: 100_000}})
        assert response.status_code == 200, response.text

    def destination(self) -> dict:
        response = self.client.post(DESTINATIONS, json={"label": "app", "url": "https://app.example/hook",
                                                       "subscribed_events": ["status.updated"]})
        assert response.status_code == 201, response.text
        return response.json()

    def share_token(self, receiver: httpx.Client) -> tuple[dict, str]:
        source = self.finished()
        application = receiver.get("/_mock/tenant").json()["application_id"]
        shared = self.client.post(f"/v3/session/{source['session_id']}/share/", json={"for_application_id": application})
        assert shared.status_code == 200, shared.text
        return source, shared.json()["share_token"]


Case = Callable[[Ctx], httpx.Response]
CASES: dict[tuple[str, str, str], Case] = {}


def case(method: str, path: str, status: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES[(method, path, status)] = fn
        return fn

    return register


def _sid(ctx: Ctx, status: str = "Approved", workflow_id: str = KYC_WORKFLOW) -> str:
    return ctx.finished(status, workflow_id)["session_id"]


# ---------------------------------------------------------------- system and sessions

case("GET", "/system/healthcheck", "200")(lambda c: c.anon.get("/system/healthcheck"))
case("POST", "/v3/session/", "201")(lambda c: c.client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW}))
case("POST", "/v3/session/", "400")(lambda c: c.client.post("/v3/session/", json={}))
case("POST", "/v3/session/", "403")(lambda c: c.anon.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW}))


@case("POST", "/v3/session/", "429")
def _create_429(c: Ctx) -> httpx.Response:
    c.exhaust("session-create")
    return c.client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW})


case("GET", f"{S}/decision/", "200")(lambda c: c.client.get(f"/v3/session/{_sid(c)}/decision/"))
case("GET", f"{S}/decision/", "403")(lambda c: c.anon.get(f"/v3/session/{_sid(c)}/decision/"))
case("GET", f"{S}/decision/", "404")(lambda c: c.client.get(f"/v3/session/{UNKNOWN}/decision/"))


@case("GET", f"{S}/decision/", "429")
def _decision_429(c: Ctx) -> httpx.Response:
    session_id = _sid(c)
    c.exhaust("generic-get")
    return c.client.get(f"/v3/session/{session_id}/decision/")


case("DELETE", f"{S}/delete/", "200")(lambda c: c.client.delete(f"/v3/session/{_sid(c)}/delete/"))
case("DELETE", f"{S}/delete/", "400")(
    lambda c: c.client.request("DELETE", f"/v3/session/{_sid(c)}/delete/", json={"retain_face_embeddings": True}))
case("DELETE", f"{S}/delete/", "403")(lambda c: c.anon.delete(f"/v3/session/{_sid(c)}/delete/"))
case("DELETE", f"{S}/delete/", "404")(lambda c: c.client.delete(f"/v3/session/{UNKNOWN}/delete/"))


@case("DELETE", f"{S}/delete/", "429")
def _delete_429(c: Ctx) -> httpx.Response:
    session_id = _sid(c)
    c.exhaust("generic-write")
    return c.client.delete(f"/v3/session/{session_id}/delete/")


case("GET", f"{S}/generate-pdf/", "200")(lambda c: c.client.get(f"/v3/session/{_sid(c)}/generate-pdf/"))
case("GET", f"{S}/generate-pdf/", "403")(
    lambda c: c.client.get(f"/v3/session/{c.session()['session_id']}/generate-pdf/"))
case("GET", f"{S}/generate-pdf/", "404")(lambda c: c.client.get(f"/v3/session/{UNKNOWN}/generate-pdf/"))


@case("GET", f"{S}/generate-pdf/", "429")
def _pdf_429(c: Ctx) -> httpx.Response:
    session_id = _sid(c)
    c.exhaust("generate-pdf")
    return c.client.get(f"/v3/session/{session_id}/generate-pdf/")


def _arm(c: Ctx, scenario: str, started: bool = False, token: str | None = None) -> httpx.Response:
    created = c.session()
    if started:
        c.client.post(f"/_mock/sessions/{created['session_id']}/start")
    return c.anon.post(f"/v3/session/{created['session_id']}/sandbox/arm/", json={"scenario": scenario},
                       headers={"Session-Token": token or created["session_token"]})


case("POST", f"{S}/sandbox/arm/", "200")(lambda c: _arm(c, "approve"))
case("POST", f"{S}/sandbox/arm/", "400")(lambda c: _arm(c, "approve", started=True))
case("POST", f"{S}/sandbox/arm/", "404")(lambda c: _arm(c, "approve", token="wrongtoken12"))

_US = f"{S}/update-status/"
case("PATCH", _US, "200")(lambda c: c.client.patch(f"/v3/session/{_sid(c, 'In Review')}/update-status/",
                                                    json={"new_status": "Approved"}))
case("PATCH", _US, "400")(lambda c: c.client.patch(f"/v3/session/{_sid(c)}/update-status/",
                                                    json={"new_status": "Approved"}))
case("PATCH", _US, "403")(lambda c: c.anon.patch(f"/v3/session/{_sid(c)}/update-status/",
                                                  json={"new_status": "Declined"}))
case("PATCH", _US, "404")(lambda c: c.client.patch(f"/v3/session/{UNKNOWN}/update-status/",
                                                    json={"new_status": "Declined"}))


@case("PATCH", _US, "429")
def _update_status_429(c: Ctx) -> httpx.Response:
    session_id = _sid(c)
    c.exhaust("generic-write")
    return c.client.patch(f"/v3/session/{session_id}/update-status/", json={"new_status": "Declined"})


case("GET", "/v3/sessions/", "200")(lambda c: (c.finished(), c.client.get("/v3/sessions/"))[1])
case("GET", "/v3/sessions/", "301")(lambda c: c.client.get("/v3/sessions?limit=1", follow_redirects=False))
case("GET", "/v3/sessions/", "400")(lambda c: c.client.get("/v3/sessions/?date_from=nope"))
case("GET", "/v3/sessions/", "403")(lambda c: c.anon.get("/v3/sessions/"))

case("POST", "/v3/sessions/delete/", "200")(
    lambda c: c.client.post("/v3/sessions/delete/", json={"session_numbers": [c.session()["session_number"]]}))
case("POST", "/v3/sessions/delete/", "400")(lambda c: c.client.post("/v3/sessions/delete/", json={}))
case("POST", "/v3/sessions/delete/", "403")(lambda c: c.anon.post("/v3/sessions/delete/", json={"delete_all": True}))


@case("POST", "/v3/sessions/delete/", "429")
def _batch_429(c: Ctx) -> httpx.Response:
    c.exhaust("generic-write")
    return c.client.post("/v3/sessions/delete/", json={"delete_all": True})


# ---------------------------------------------------------------- sharing

@case("POST", f"{S}/share/", "200")
def _share_200(c: Ctx) -> httpx.Response:
    with c.tenant() as receiver:
        application = receiver.get("/_mock/tenant").json()["application_id"]
    return c.client.post(f"/v3/session/{_sid(c)}/share/", json={"for_application_id": application})


case("POST", f"{S}/share/", "400")(
    lambda c: c.client.post(f"/v3/session/{_sid(c)}/share/", json={"for_application_id": str(uuid.uuid4())}))
case("POST", f"{S}/share/", "401")(
    lambda c: c.anon.post(f"/v3/session/{_sid(c)}/share/", json={"for_application_id": str(uuid.uuid4())}))
case("POST", f"{S}/share/", "404")(
    lambda c: c.client.post(f"/v3/session/{UNKNOWN}/share/", json={"for_application_id": str(uuid.uuid4())}))


def _import(receiver: httpx.Client, token: str) -> httpx.Response:
    return receiver.post("/v3/session/import-shared/",
                         json={"share_token": token, "trust_review": True, "workflow_id": KYC_WORKFLOW})


@case("POST", "/v3/session/import-shared/", "201")
def _import_201(c: Ctx) -> httpx.Response:
    with c.tenant() as receiver:
        return _import(receiver, c.share_token(receiver)[1])


case("POST", "/v3/session/import-shared/", "400")(lambda c: _import(c.client, "not-a-token"))


@case("POST", "/v3/session/import-shared/", "403")
def _import_403(c: Ctx) -> httpx.Response:
    with c.tenant() as receiver:
        token = c.share_token(receiver)[1]
        assert _import(receiver, token).status_code == 201
        return _import(receiver, token)


@case("POST", "/v3/session/import-shared/", "404")
def _import_404(c: Ctx) -> httpx.Response:
    with c.tenant(strict_workflows=True) as receiver:
        token = c.share_token(receiver)[1]
        return receiver.post("/v3/session/import-shared/", json={
            "share_token": token, "trust_review": True, "workflow_id": str(uuid.uuid4())})


# ---------------------------------------------------------------- reviews, data, features

_R = "/v3/sessions/{session_id}/reviews/"
case("GET", _R, "200")(lambda c: c.client.get(f"/v3/sessions/{_sid(c, 'In Review')}/reviews/"))
case("GET", _R, "403")(lambda c: c.anon.get(f"/v3/sessions/{_sid(c)}/reviews/"))
case("GET", _R, "404")(lambda c: c.client.get(f"/v3/sessions/{UNKNOWN}/reviews/"))
case("POST", _R, "201")(lambda c: c.client.post(f"/v3/sessions/{_sid(c)}/reviews/", json={"comment": "ok"}))
case("POST", _R, "400")(lambda c: c.client.post(f"/v3/sessions/{_sid(c)}/reviews/", json={"new_status": "approved"}))
case("POST", _R, "403")(lambda c: c.anon.post(f"/v3/sessions/{_sid(c)}/reviews/", json={"comment": "ok"}))
case("POST", _R, "404")(lambda c: c.client.post(f"/v3/sessions/{UNKNOWN}/reviews/", json={"comment": "ok"}))


@case("GET", _R, "429")
def _reviews_get_429(c: Ctx) -> httpx.Response:
    session_id = _sid(c)
    c.exhaust("generic-get")
    return c.client.get(f"/v3/sessions/{session_id}/reviews/")


@case("POST", _R, "429")
def _reviews_post_429(c: Ctx) -> httpx.Response:
    session_id = _sid(c)
    c.exhaust("generic-write")
    return c.client.post(f"/v3/sessions/{session_id}/reviews/", json={"comment": "ok"})


def _data_case(route: str, body: dict, scope: str) -> None:
    path = f"{S}/{route}/"
    case("PATCH", path, "200")(
        lambda c: c.client.patch(f"/v3/session/{_sid(c, 'In Review', COMPLETE_KYC)}/{route}/", json=body))
    case("PATCH", path, "400")(
        lambda c: c.client.patch(f"/v3/session/{_sid(c, 'In Review', COMPLETE_KYC)}/{route}/",
                                 json={"issue_date": "not a date", "gender": "X"}))
    case("PATCH", path, "403")(lambda c: c.anon.patch(f"/v3/session/{_sid(c)}/{route}/", json=body))
    case("PATCH", path, "404")(lambda c: c.client.patch(f"/v3/session/{UNKNOWN}/{route}/", json=body))

    @case("PATCH", path, "429")
    def _limited(c: Ctx) -> httpx.Response:
        session_id = _sid(c, "In Review", COMPLETE_KYC)
        c.exhaust(scope)
        return c.client.patch(f"/v3/session/{session_id}/{route}/", json=body)


_data_case("update-data", {"first_name": "Grace"}, "kyc-data-update")
_data_case("update-poa-data", {"issuer": "City Power"}, "poa-data-update")

_F = f"{S}/features/{{nodeId}}/update-status/"
case("PATCH", _F, "200")(lambda c: c.client.patch(
    f"/v3/session/{c.finished('In Review', AML='In Review')['session_id']}/features/feature_aml_1/update-status/",
    json={"new_status": "Approved"}))
case("PATCH", _F, "400")(lambda c: c.client.patch(
    f"/v3/session/{_sid(c)}/features/feature_aml_1/update-status/", json={"new_status": "Approved"}))
case("PATCH", _F, "403")(lambda c: c.anon.patch(
    f"/v3/session/{_sid(c)}/features/feature_aml_1/update-status/", json={"new_status": "Declined"}))
case("PATCH", _F, "404")(lambda c: c.client.patch(
    f"/v3/session/{_sid(c)}/features/feature_nfc_1/update-status/", json={"new_status": "Declined"}))


# ---------------------------------------------------------------- phone and email

def _otp_cases(kind: str, target_field: str, target: str, wrong_target: object) -> None:
    send, check = f"/v3/{kind}/send/", f"/v3/{kind}/check/"
    case("POST", send, "200")(lambda c: c.client.post(send, json={target_field: target}))
    case("POST", send, "400")(lambda c: c.client.post(send, json={target_field: wrong_target}))
    case("POST", send, "403")(lambda c: c.anon.post(send, json={target_field: target}))
    case("POST", check, "400")(lambda c: c.client.post(check, json={target_field: target, "code": "12"}))
    case("POST", check, "403")(lambda c: c.anon.post(check, json={target_field: target, "code": "123456"}))

    @case("POST", check, "200")
    def _checked(c: Ctx) -> httpx.Response:
        c.client.post(send, json={target_field: target})
        code = c.client.get(f"/_mock/{kind}/{target}/code").json()["code"]
        return c.client.post(check, json={target_field: target, "code": code})

    @case("POST", check, "429")
    def _check_limited(c: Ctx) -> httpx.Response:
        c.exhaust("generic-write")
        return c.client.post(check, json={target_field: target, "code": "123456"})


_otp_cases("phone", "phone_number", "+34600000123", "12345")
_otp_cases("email", "email", "ada@example.com", "not-an-email")


@case("POST", "/v3/phone/send/", "429")
def _phone_cap(c: Ctx) -> httpx.Response:
    for _ in range(4):
        assert c.client.post("/v3/phone/send/", json={"phone_number": "+34600000999"}).status_code == 200
    return c.client.post("/v3/phone/send/", json={"phone_number": "+34600000999"})


@case("POST", "/v3/email/send/", "429")
def _email_limited(c: Ctx) -> httpx.Response:
    c.exhaust("generic-write")
    return c.client.post("/v3/email/send/", json={"email": "ada@example.com"})


# ---------------------------------------------------------------- webhook destinations

case("GET", DESTINATIONS, "200")(lambda c: (c.destination(), c.client.get(DESTINATIONS))[1])
case("GET", DESTINATIONS, "403")(lambda c: c.anon.get(DESTINATIONS))
case("POST", DESTINATIONS, "201")(lambda c: c.client.post(DESTINATIONS, json={
    "label": "app", "url": "https://app.example/hook", "subscribed_events": ["status.updated"]}))
case("POST", DESTINATIONS, "400")(lambda c: c.client.post(DESTINATIONS, json={
    "label": "app", "url": "https://app.example/hook", "subscribed_events": []}))
case("POST", DESTINATIONS, "403")(lambda c: c.anon.post(DESTINATIONS, json={"label": "x"}))
_D = "/v3/webhook/destinations/{}/"
case("GET", DESTINATION, "200")(lambda c: c.client.get(_D.format(c.destination()["uuid"])))
case("GET", DESTINATION, "403")(lambda c: c.anon.get(_D.format(c.destination()["uuid"])))
case("GET", DESTINATION, "404")(lambda c: c.client.get(_D.format(UNKNOWN)))
case("PATCH", DESTINATION, "200")(lambda c: c.client.patch(_D.format(c.destination()["uuid"]), json={"enabled": False}))
case("PATCH", DESTINATION, "400")(
    lambda c: c.client.patch(_D.format(c.destination()["uuid"]), json={"subscribed_events": ["foo.bar"]}))
case("PATCH", DESTINATION, "403")(lambda c: c.anon.patch(_D.format(c.destination()["uuid"]), json={"enabled": False}))
case("PATCH", DESTINATION, "404")(lambda c: c.client.patch(_D.format(UNKNOWN), json={"enabled": False}))
case("DELETE", DESTINATION, "204")(lambda c: c.client.delete(_D.format(c.destination()["uuid"])))
case("DELETE", DESTINATION, "403")(lambda c: c.anon.delete(_D.format(c.destination()["uuid"])))
case("DELETE", DESTINATION, "404")(lambda c: c.client.delete(_D.format(UNKNOWN)))


def _limited_destinations(method: str, path: str, scope: str) -> None:
    @case(method, path, "429")
    def _limited(c: Ctx) -> httpx.Response:
        url = DESTINATIONS if path == DESTINATIONS else _D.format(c.destination()["uuid"])
        c.exhaust(scope)
        body = {"label": "x", "url": "https://x.example", "subscribed_events": ["status.updated"]}
        return c.client.request(method, url, json=body if method in ("POST", "PATCH") else None)


for _method, _path in (("GET", DESTINATIONS), ("POST", DESTINATIONS), ("GET", DESTINATION),
                       ("PATCH", DESTINATION), ("DELETE", DESTINATION)):
    _limited_destinations(_method, _path, "generic-get" if _method == "GET" else "generic-write")


# ---------------------------------------------------------------- the checks

# ---------------------------------------------------------------- the additions: blocklist, webhook settings and logs

_BLOCKLIST = (("/v3/blocklist/add/", "blocklist_face"), ("/v3/blocklist/remove/", "unblock_face"))
for _path, _flag in _BLOCKLIST:
    case("POST", _path, "200")(lambda c, p=_path, f=_flag: c.client.post(p, json={"session_id": _sid(c), f: True}))
    case("POST", _path, "400")(lambda c, p=_path: c.client.post(p, json={"session_id": _sid(c)}))
    case("POST", _path, "401")(lambda c, p=_path, f=_flag: c.refused.post(p, json={"session_id": UNKNOWN, f: True}))
    case("POST", _path, "403")(lambda c, p=_path, f=_flag: c.anon.post(p, json={"session_id": UNKNOWN, f: True}))
    case("POST", _path, "404")(lambda c, p=_path, f=_flag: c.client.post(p, json={"session_id": UNKNOWN, f: True}))


@case("GET", "/v3/blocklist/", "200")
def _blocklist_feed(c: Ctx) -> httpx.Response:
    added = c.client.post("/v3/blocklist/add/", json={"session_id": _sid(c), "blocklist_face": True,
                                                      "blocklist_document": True})
    assert added.status_code == 200, added.text
    return c.client.get("/v3/blocklist/")


case("GET", "/v3/blocklist/", "400")(lambda c: c.client.get("/v3/blocklist/?item_type=wallet"))
case("GET", "/v3/blocklist/", "401")(lambda c: c.refused.get("/v3/blocklist/"))
case("GET", "/v3/blocklist/", "403")(lambda c: c.anon.get("/v3/blocklist/"))

case("GET", "/v3/webhook/", "200")(lambda c: c.client.get("/v3/webhook/"))
case("GET", "/v3/webhook/", "401")(lambda c: c.refused.get("/v3/webhook/"))
case("GET", "/v3/webhook/", "403")(lambda c: c.anon.get("/v3/webhook/"))
case("PATCH", "/v3/webhook/", "200")(lambda c: c.client.patch("/v3/webhook/", json={"webhook_version": "v2"}))
case("PATCH", "/v3/webhook/", "400")(lambda c: c.client.patch("/v3/webhook/", json={"webhook_version": "v9"}))
case("PATCH", "/v3/webhook/", "401")(lambda c: c.refused.patch("/v3/webhook/", json={"webhook_version": "v2"}))
case("PATCH", "/v3/webhook/", "403")(lambda c: c.anon.patch("/v3/webhook/", json={"webhook_version": "v2"}))

_LOGS = "/v3/session/{session_id}/webhooks/"
_LOG = "/v3/session/{session_id}/webhook/{webhook_uuid}"
_RESEND = _LOG + "/resend"


def _logged(c: Ctx) -> tuple[str, str]:
    """A finished session whose status webhook was attempted (to a closed port: logged, failed)."""
    configured = c.client.post("/_mock/webhook", json={"url": "http://127.0.0.1:9/hook", "secret": "s"})
    assert configured.status_code == 200, configured.text
    session_id = _sid(c)
    attempt = c.client.get("/_mock/webhooks/wait", params={"session_id": session_id, "failed": "true", "timeout": 8})
    assert attempt.status_code == 200, attempt.text
    return session_id, attempt.json()["uuid"]


case("GET", _LOGS, "200")(lambda c: c.client.get(f"/v3/session/{_logged(c)[0]}/webhooks/"))
case("GET", _LOGS, "401")(lambda c: c.refused.get(f"/v3/session/{UNKNOWN}/webhooks/"))
case("GET", _LOGS, "403")(lambda c: c.anon.get(f"/v3/session/{_sid(c)}/webhooks/"))
case("GET", _LOGS, "404")(lambda c: c.client.get(f"/v3/session/{UNKNOWN}/webhooks/"))
for _method, _path, _suffix in (("GET", _LOG, ""), ("POST", _RESEND, "/resend")):
    case(_method, _path, "200")(
        lambda c, m=_method, x=_suffix: c.client.request(m, "/v3/session/{}/webhook/{}{}".format(*_logged(c), x)))
    case(_method, _path, "401")(
        lambda c, m=_method, x=_suffix: c.refused.request(m, f"/v3/session/{UNKNOWN}/webhook/{UNKNOWN}{x}"))
    case(_method, _path, "403")(
        lambda c, m=_method, x=_suffix: c.anon.request(m, f"/v3/session/{_sid(c)}/webhook/{UNKNOWN}{x}"))
    case(_method, _path, "404")(
        lambda c, m=_method, x=_suffix: c.client.request(m, f"/v3/session/{_sid(c)}/webhook/{UNKNOWN}{x}"))


def documented() -> set[tuple[str, str, str]]:
    """Every documented response of the operations the mock serves with rules."""
    api = create_app(Settings()).api
    return {(op.method, op.path, status) for op in api.table
            if api.handlers[op.operation_id].kind == "rules" for status in op.responses}


def test_every_documented_response_is_produced() -> None:
    missing = documented() - set(CASES) - set(WAIVED)
    assert not missing, f"documented responses with no contract case: {sorted(missing)}"
    stale = (set(CASES) | set(WAIVED)) - documented()
    assert not stale, f"cases for responses the document does not describe: {sorted(stale)}"


@pytest.fixture(scope="module")
def locked() -> Iterator[MockServer]:
    """A server that accepts its registered key only: any other key is refused."""
    with MockServer(api_keys=["sk_test_contract_registered"]) as running:
        yield running


@pytest.fixture
def ctx(server, client: httpx.Client, anon: httpx.Client, locked: MockServer) -> Iterator[Ctx]:
    with httpx.Client(base_url=locked.url, headers={"x-api-key": "sk_test_contract_refused"}, timeout=10) as refused:
        yield Ctx(server.url, client, anon, refused)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per case, read at collection time: after the case modules imported at the end of
    this module have added theirs (a decorator's `sorted(CASES)` would see only the cases above it)."""
    if metafunc.function.__name__ == "test_documented_response":
        metafunc.parametrize("key", sorted(CASES), ids=lambda k: f"{k[0]} {k[1]} {k[2]}")


def test_documented_response(ctx: Ctx, key: tuple[str, str, str]) -> None:
    method, path, status = key
    response = CASES[key](ctx)
    assert response.status_code == int(status), response.text
    if status == "301":
        assert response.headers["location"].startswith("/v3/sessions/")
        return
    if status == "204":
        assert response.content == b""
        return
    if response.headers.get("content-type", "").startswith("text/csv"):
        assert status == "200" and response.text.startswith("external_id,")
        return
    if path.endswith(("/generate-pdf/", "/pdf/")) and status == "200":
        assert response.headers["content-type"] == "application/pdf" and response.content.startswith(b"%PDF")
        return
    schema = response_schema(method, path, int(status))
    body = response.json()
    if schema is not None:
        from tests.contract.conformance import assert_conforms

        assert_conforms(method, path, int(status), body)
    assert body is not None
from tests.contract import (  # noqa: E402,F401
    cases_aml_monitoring,
    cases_auth,
    cases_billing,
    cases_biometric_templates,
    cases_cases,
    cases_customization,
    cases_entities,
    cases_imports,
    cases_kyb,
    cases_lists,
    cases_standalone,
    cases_transactions,
)
