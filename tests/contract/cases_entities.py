"""Contract cases of the application's own resources: workflows, users, businesses, questionnaires."""

from __future__ import annotations

import uuid

import httpx

from tests.contract.test_contract import UNKNOWN, WAIVED, Ctx, case

WF = "/v3/workflows/"
WF1 = "/v3/workflows/{settings_uuid}/"
U = "/v3/users/"
U1 = "/v3/users/{vendor_data}/"
B = "/v3/businesses/"
B1 = "/v3/businesses/{vendor_data}/"
OCR = {"features": [{"feature": "OCR"}]}

for _method, _path in (("GET", WF), ("POST", WF), ("GET", WF1), ("PATCH", WF1), ("DELETE", WF1)):
    WAIVED[(_method, _path, "500")] = "no internal error to emulate (scenario faults can inject a 500)"
WAIVED[("POST", "/v3/users/delete/", "503")] = "no biometric store that can fail (scenario faults can inject a 503)"


def _workflow(c: Ctx) -> str:
    response = c.client.post(WF, json=OCR)
    assert response.status_code == 201, response.text
    return response.json()["uuid"]


def _user(c: Ctx) -> str:
    name = f"contract-{uuid.uuid4().hex[:8]}"
    response = c.client.post("/v3/users/create/", json={"vendor_data": name})
    assert response.status_code == 201, response.text
    return name


def _business(c: Ctx) -> str:
    name = f"contract-{uuid.uuid4().hex[:8]}"
    response = c.client.post("/v3/businesses/create/", json={"vendor_data": name})
    assert response.status_code == 201, response.text
    return name


def _429(c: Ctx, scope: str, method: str, path: str, **kwargs: object) -> httpx.Response:
    c.exhaust(scope)
    return c.client.request(method, path, **kwargs)  # type: ignore[arg-type]


def _text(c: Ctx, method: str, path: str) -> httpx.Response:
    return c.client.request(method, path, content=b"features=OCR", headers={"content-type": "text/plain"})


# ---------------------------------------------------------------- workflows

case("GET", WF, "200")(lambda c: c.client.get(WF))
case("GET", WF, "403")(lambda c: c.anon.get(WF))
case("GET", WF, "429")(lambda c: _429(c, "generic-get", "GET", WF))
case("POST", WF, "201")(lambda c: c.client.post(WF, json=OCR))
case("POST", WF, "400")(lambda c: c.client.post(WF, json={"features": []}))
case("POST", WF, "403")(lambda c: c.anon.post(WF, json=OCR))
case("POST", WF, "415")(lambda c: _text(c, "POST", WF))
case("POST", WF, "429")(lambda c: _429(c, "generic-write", "POST", WF, json=OCR))
case("GET", WF1, "200")(lambda c: c.client.get(f"{WF}{_workflow(c)}/"))
case("GET", WF1, "403")(lambda c: c.anon.get(f"{WF}{UNKNOWN}/"))
case("GET", WF1, "404")(lambda c: c.client.get(f"{WF}{UNKNOWN}/"))
case("GET", WF1, "429")(lambda c: _429(c, "generic-get", "GET", f"{WF}{UNKNOWN}/"))
case("PATCH", WF1, "200")(lambda c: c.client.patch(f"{WF}{_workflow(c)}/", json={"workflow_label": "Renamed"}))
case("PATCH", WF1, "400")(lambda c: c.client.patch(f"{WF}{_workflow(c)}/", json={"status": "draft"}))
case("PATCH", WF1, "403")(lambda c: c.anon.patch(f"{WF}{UNKNOWN}/", json={}))
case("PATCH", WF1, "404")(lambda c: c.client.patch(f"{WF}{UNKNOWN}/", json={}))
case("PATCH", WF1, "415")(lambda c: _text(c, "PATCH", f"{WF}{_workflow(c)}/"))
case("PATCH", WF1, "429")(lambda c: _429(c, "generic-write", "PATCH", f"{WF}{UNKNOWN}/", json={}))
case("DELETE", WF1, "204")(lambda c: c.client.delete(f"{WF}{_workflow(c)}/"))
case("DELETE", WF1, "403")(lambda c: c.anon.delete(f"{WF}{UNKNOWN}/"))
case("DELETE", WF1, "404")(lambda c: c.client.delete(f"{WF}{UNKNOWN}/"))
case("DELETE", WF1, "429")(lambda c: _429(c, "generic-write", "DELETE", f"{WF}{UNKNOWN}/"))

# ---------------------------------------------------------------- users

case("GET", U, "200")(lambda c: (_user(c), c.client.get(U))[1])
case("GET", U, "401")(lambda c: c.anon.get(U))
case("GET", U, "403")(lambda c: c.refused.get(U))
case("GET", U, "429")(lambda c: _429(c, "generic-get", "GET", U))
case("GET", U1, "200")(lambda c: c.client.get(f"{U}{_user(c)}/"))
case("GET", U1, "401")(lambda c: c.anon.get(f"{U}someone/"))
case("GET", U1, "403")(lambda c: c.refused.get(f"{U}someone/"))
case("GET", U1, "404")(lambda c: c.client.get(f"{U}nobody/"))
case("GET", U1, "429")(lambda c: _429(c, "generic-get", "GET", f"{U}nobody/"))
case("PATCH", U1, "200")(lambda c: c.client.patch(f"{U}{_user(c)}/", json={"display_name": "D"}))
case("PATCH", U1, "400")(lambda c: c.client.patch(f"{U}{_user(c)}/", json={"status": "INVALID"}))
case("PATCH", U1, "401")(lambda c: c.anon.patch(f"{U}someone/", json={}))
case("PATCH", U1, "403")(lambda c: c.refused.patch(f"{U}someone/", json={}))
case("PATCH", U1, "404")(lambda c: c.client.patch(f"{U}nobody/", json={}))
case("PATCH", U1, "429")(lambda c: _429(c, "generic-write", "PATCH", f"{U}nobody/", json={}))
_US = "/v3/users/{vendor_data}/update-status/"
case("PATCH", _US, "200")(lambda c: c.client.patch(f"{U}{_user(c)}/update-status/", json={"status": "FLAGGED"}))
case("PATCH", _US, "400")(lambda c: c.client.patch(f"{U}{_user(c)}/update-status/", json={}))
case("PATCH", _US, "401")(lambda c: c.anon.patch(f"{U}someone/update-status/", json={"status": "ACTIVE"}))
case("PATCH", _US, "403")(lambda c: c.refused.patch(f"{U}someone/update-status/", json={"status": "ACTIVE"}))
case("PATCH", _US, "404")(lambda c: c.client.patch(f"{U}nobody/update-status/", json={"status": "ACTIVE"}))
case("PATCH", _US, "429")(lambda c: _429(c, "generic-write", "PATCH", f"{U}nobody/update-status/",
                                         json={"status": "ACTIVE"}))
_UC = "/v3/users/create/"
case("POST", _UC, "201")(lambda c: c.client.post(_UC, json={"vendor_data": f"new-{uuid.uuid4().hex[:8]}"}))
case("POST", _UC, "400")(lambda c: c.client.post(_UC, json={}))
case("POST", _UC, "401")(lambda c: c.anon.post(_UC, json={"vendor_data": "x"}))
case("POST", _UC, "403")(lambda c: c.refused.post(_UC, json={"vendor_data": "x"}))
case("POST", _UC, "429")(lambda c: _429(c, "generic-write", "POST", _UC, json={"vendor_data": "x"}))
_UD = "/v3/users/delete/"
case("POST", _UD, "200")(lambda c: c.client.post(_UD, json={"vendor_data_list": [_user(c)]}))
case("POST", _UD, "400")(lambda c: c.client.post(_UD, json={}))
case("POST", _UD, "401")(lambda c: c.anon.post(_UD, json={"delete_all": True}))
case("POST", _UD, "403")(lambda c: c.refused.post(_UD, json={"delete_all": True}))
case("POST", _UD, "429")(lambda c: _429(c, "generic-write", "POST", _UD, json={"delete_all": True}))

# ---------------------------------------------------------------- businesses

case("GET", B, "200")(lambda c: (_business(c), c.client.get(B))[1])
case("GET", B, "403")(lambda c: c.anon.get(B))
case("GET", B, "429")(lambda c: _429(c, "generic-get", "GET", B))
case("GET", B1, "200")(lambda c: c.client.get(f"{B}{_business(c)}/"))
case("GET", B1, "403")(lambda c: c.anon.get(f"{B}someone/"))
case("GET", B1, "404")(lambda c: c.client.get(f"{B}nobody/"))
case("GET", B1, "429")(lambda c: _429(c, "generic-get", "GET", f"{B}nobody/"))
case("PATCH", B1, "200")(lambda c: c.client.patch(f"{B}{_business(c)}/", json={"legal_name": "L"}))
case("PATCH", B1, "400")(lambda c: c.client.patch(f"{B}{_business(c)}/", json={"metadata": [1]}))
case("PATCH", B1, "403")(lambda c: c.anon.patch(f"{B}someone/", json={}))
case("PATCH", B1, "404")(lambda c: c.client.patch(f"{B}nobody/", json={}))
case("PATCH", B1, "429")(lambda c: _429(c, "generic-write", "PATCH", f"{B}nobody/", json={}))
_BS = "/v3/businesses/{vendor_data}/update-status/"
case("PATCH", _BS, "200")(lambda c: c.client.patch(f"{B}{_business(c)}/update-status/", json={"status": "BLOCKED"}))
case("PATCH", _BS, "400")(lambda c: c.client.patch(f"{B}{_business(c)}/update-status/", json={"status": "X"}))
case("PATCH", _BS, "403")(lambda c: c.anon.patch(f"{B}someone/update-status/", json={"status": "ACTIVE"}))
case("PATCH", _BS, "404")(lambda c: c.client.patch(f"{B}nobody/update-status/", json={"status": "ACTIVE"}))
case("PATCH", _BS, "429")(lambda c: _429(c, "generic-write", "PATCH", f"{B}nobody/update-status/",
                                         json={"status": "ACTIVE"}))
_BC = "/v3/businesses/create/"
case("POST", _BC, "201")(lambda c: c.client.post(_BC, json={"legal_name": "Acme"}))
case("POST", _BC, "400")(lambda c: c.client.post(_BC, json={"status": "NOPE"}))
case("POST", _BC, "403")(lambda c: c.anon.post(_BC, json={}))
case("POST", _BC, "429")(lambda c: _429(c, "generic-write", "POST", _BC, json={}))
_BD = "/v3/businesses/delete/"
case("POST", _BD, "200")(lambda c: c.client.post(_BD, json={"vendor_data_list": [_business(c)]}))
case("POST", _BD, "400")(lambda c: c.client.post(_BD, json={}))
case("POST", _BD, "403")(lambda c: c.anon.post(_BD, json={"delete_all": True}))
case("POST", _BD, "429")(lambda c: _429(c, "generic-write", "POST", _BD, json={"delete_all": True}))

_UP = "/v3/users/{vendor_data}/generate-pdf/"


def _reportable_user(c: Ctx) -> str:
    name = f"contract-{uuid.uuid4().hex[:8]}"
    session = c.session(vendor_data=name)
    done = c.client.post(f"/_mock/sessions/{session['session_id']}/complete", json={"status": "Approved"})
    assert done.status_code == 200, done.text
    return name


case("GET", _UP, "200")(lambda c: c.client.get(f"{U}{_reportable_user(c)}/generate-pdf/"))
case("GET", _UP, "401")(lambda c: c.anon.get(f"{U}someone/generate-pdf/"))
case("GET", _UP, "403")(lambda c: c.client.get(f"{U}{_user(c)}/generate-pdf/"))
case("GET", _UP, "404")(lambda c: c.client.get(f"{U}nobody/generate-pdf/"))
case("GET", _UP, "429")(lambda c: _429(c, "generate-pdf", "GET", f"{U}nobody/generate-pdf/"))

# ---------------------------------------------------------------- questionnaires

Q = "/v3/questionnaires/"
Q1 = "/v3/questionnaires/{questionnaire_uuid}/"
FORM = {"title": "T", "languages": ["en"], "form_elements": [{"element_type": "email", "label": {"en": "Mail"}}]}
for _method, _path in (("GET", Q), ("POST", Q), ("GET", Q1), ("PATCH", Q1), ("DELETE", Q1)):
    WAIVED[(_method, _path, "500")] = "no internal error to emulate (scenario faults can inject a 500)"


def _questionnaire(c: Ctx) -> str:
    response = c.client.post(Q, json=FORM)
    assert response.status_code == 201, response.text
    return response.json()["questionnaire_id"]


case("GET", Q, "200")(lambda c: (_questionnaire(c), c.client.get(Q))[1])
case("GET", Q, "403")(lambda c: c.anon.get(Q))
case("GET", Q, "429")(lambda c: _429(c, "generic-get", "GET", Q))
case("POST", Q, "201")(lambda c: c.client.post(Q, json=FORM))
case("POST", Q, "400")(lambda c: c.client.post(Q, json={**FORM, "graph": {}}))
case("POST", Q, "403")(lambda c: c.anon.post(Q, json=FORM))
case("POST", Q, "415")(lambda c: _text(c, "POST", Q))
case("POST", Q, "429")(lambda c: _429(c, "generic-write", "POST", Q, json=FORM))
case("GET", Q1, "200")(lambda c: c.client.get(f"{Q}{_questionnaire(c)}/"))
case("GET", Q1, "403")(lambda c: c.anon.get(f"{Q}{UNKNOWN}/"))
case("GET", Q1, "404")(lambda c: c.client.get(f"{Q}{UNKNOWN}/"))
case("GET", Q1, "429")(lambda c: _429(c, "generic-get", "GET", f"{Q}{UNKNOWN}/"))
case("PATCH", Q1, "200")(lambda c: c.client.patch(f"{Q}{_questionnaire(c)}/", json={"title": "New"}))
case("PATCH", Q1, "400")(lambda c: c.client.patch(f"{Q}{_questionnaire(c)}/", json={"status": "draft"}))
case("PATCH", Q1, "403")(lambda c: c.anon.patch(f"{Q}{UNKNOWN}/", json={}))
case("PATCH", Q1, "404")(lambda c: c.client.patch(f"{Q}{UNKNOWN}/", json={}))
case("PATCH", Q1, "415")(lambda c: _text(c, "PATCH", f"{Q}{_questionnaire(c)}/"))
case("PATCH", Q1, "429")(lambda c: _429(c, "generic-write", "PATCH", f"{Q}{UNKNOWN}/", json={}))
case("DELETE", Q1, "204")(lambda c: c.client.delete(f"{Q}{_questionnaire(c)}/"))
case("DELETE", Q1, "403")(lambda c: c.anon.delete(f"{Q}{UNKNOWN}/"))
case("DELETE", Q1, "404")(lambda c: c.client.delete(f"{Q}{UNKNOWN}/"))
case("DELETE", Q1, "429")(lambda c: _429(c, "generic-write", "DELETE", f"{Q}{UNKNOWN}/"))
