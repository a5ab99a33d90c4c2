"""Contract cases of the case rules (bulk changes, statistics, presets, a case's reports) and of the
network views."""

from __future__ import annotations

import uuid

import httpx

from tests.contract.test_contract import WAIVED, Ctx, case

UNKNOWN = "5f1f8c9e-0000-4000-8000-00000000c0de"
ORG = "/v3/organization/{organization_id}/application/{application_id}"
NETWORK_VIEWS = ("graph", "members", "signals", "timeline", "map")
MEMBERSHIPS = ("/business-sessions/{business_session_id}/networks/", "/users/{vendor_user_uuid}/networks/",
               "/businesses/{vendor_business_uuid}/networks/", "/transactions/{transaction_uuid}/networks/",
               "/transactions/{transaction_uuid}/parties/{transaction_party_uuid}/networks/")

for _view in NETWORK_VIEWS:
    WAIVED[("GET", f"{ORG}/networks/{{network_uuid}}/{_view}/", "200")] = (
        "the mock computes no networks, so every network view is a 404 (as for a sandbox application)")
for _path in MEMBERSHIPS:
    WAIVED[("GET", ORG + _path, "404")] = (
        "users, businesses and transactions are not yet looked up here: their memberships are always empty")


def org(c: Ctx) -> str:
    tenant = c.client.get("/_mock/tenant").json()
    return f"/v3/organization/{tenant['organization_id']}/application/{tenant['application_id']}"


def new_case(c: Ctx) -> dict:
    made = c.client.post(f"{org(c)}/cases/", json={"title": "contract"})
    assert made.status_code == 201, made.text
    return made.json()


@case("GET", f"{ORG}/cases/statistics/", "200")
def _statistics(c: Ctx) -> httpx.Response:
    new_case(c)
    answer = c.client.get(f"{org(c)}/cases/statistics/")
    assert answer.json()["totals"]["created"] == 1 and answer.json()["queue"]["open"] == 1
    return answer


@case("POST", f"{ORG}/cases/bulk/status/", "200")
def _bulk_status(c: Ctx) -> httpx.Response:
    made = new_case(c)
    answer = c.client.post(f"{org(c)}/cases/bulk/status/", json={
        "case_uuids": [made["uuid"], UNKNOWN], "status": "RESOLVED", "resolution": "FALSE_POSITIVE"})
    assert answer.json() == {"updated": 1, "failures": [{"case_uuid": UNKNOWN, "detail": "Not found."}]}
    assert c.client.get(f"{org(c)}/cases/{made['uuid']}/").json()["status"] == "RESOLVED"
    return answer


@case("POST", f"{ORG}/cases/bulk/assign/", "200")
def _bulk_assign(c: Ctx) -> httpx.Response:
    made = new_case(c)
    answer = c.client.post(f"{org(c)}/cases/bulk/assign/", json={
        "case_uuids": [made["uuid"]], "assignee_user_id": UNKNOWN, "assignee_email": "officer@example.com"})
    assert answer.json()["updated"] == 1
    assert c.client.get(f"{org(c)}/cases/{made['uuid']}/").json()["assigned_to"]["email"] == "officer@example.com"
    return answer


@case("GET", f"{ORG}/cases/blueprints/presets/", "200")
def _presets(c: Ctx) -> httpx.Response:
    return c.client.get(f"{org(c)}/cases/blueprints/presets/")


@case("POST", f"{ORG}/cases/blueprints/presets/install/", "201")
def _install(c: Ctx) -> httpx.Response:
    answer = c.client.post(f"{org(c)}/cases/blueprints/presets/install/", json={"preset_keys": ["kyc"]})
    assert len(answer.json()["created"]) == 1
    assert c.client.get(f"{org(c)}/cases/blueprints/").json()["results"][0]["preset_key"] == "kyc"
    return answer


@case("POST", f"{ORG}/cases/blueprints/presets/install/", "200")
def _install_again(c: Ctx) -> httpx.Response:
    c.client.post(f"{org(c)}/cases/blueprints/presets/install/", json={"preset_keys": ["kyc"]})
    answer = c.client.post(f"{org(c)}/cases/blueprints/presets/install/", json={"preset_keys": ["kyc"]})
    assert answer.json() == {"created": []}  # installing is idempotent
    return answer


@case("GET", f"{ORG}/cases/{{case_uuid}}/regulatory-reports/", "200")
def _case_reports(c: Ctx) -> httpx.Response:
    made = new_case(c)
    c.client.post(f"{org(c)}/cases/{made['uuid']}/regulatory-reports/", json={"report_type": "SAR",
                                                                              "jurisdiction": "US"})
    answer = c.client.get(f"{org(c)}/cases/{made['uuid']}/regulatory-reports/")
    assert answer.json()["count"] == 1 and answer.json()["results"][0]["case_uuid"] == made["uuid"]
    return answer


@case("POST", f"{ORG}/cases/{{case_uuid}}/regulatory-reports/", "201")
def _case_report(c: Ctx) -> httpx.Response:
    made = new_case(c)
    answer = c.client.post(f"{org(c)}/cases/{made['uuid']}/regulatory-reports/", json={"report_type": "STR",
                                                                                       "jurisdiction": "GB"})
    assert answer.json()["case_number"] == made["case_number"] and answer.json()["status"] == "DRAFT"
    return answer


@case("POST", f"{ORG}/regulatory-reports/", "201")
def _standalone_report(c: Ctx) -> httpx.Response:
    made = new_case(c)
    template = c.client.post(f"{org(c)}/report-templates/", json={
        "name": "goAML", "jurisdiction": "NL", "report_type": "UTR", "field_config": {"rentity_id": "R-7"}}).json()
    answer = c.client.post(f"{org(c)}/regulatory-reports/", json={"case": made["uuid"], "template": template["uuid"]})
    report = answer.json()
    assert (report["case_uuid"], report["report_type"], report["jurisdiction"], report["rentity_id"]) == (
        made["uuid"], "UTR", "NL", "R-7")
    return answer


@case("POST", f"{ORG}/regulatory-reports/", "400")
def _standalone_report_400(c: Ctx) -> httpx.Response:
    answer = c.client.post(f"{org(c)}/regulatory-reports/", json={"case": UNKNOWN, "template": UNKNOWN})
    assert answer.json() == {"case": [f'Invalid pk "{UNKNOWN}" - object does not exist.']}
    return answer


@case("POST", f"{ORG}/cases/{{case_uuid}}/regulatory-reports/", "400")
def _case_report_400(c: Ctx) -> httpx.Response:
    made = new_case(c)
    answer = c.client.post(f"{org(c)}/cases/{made['uuid']}/regulatory-reports/", json={"jurisdiction": "USA"})
    assert answer.json() == {"jurisdiction": ["Ensure this field has no more than 2 characters."]}
    return answer


def _network_404(view: str) -> None:
    @case("GET", f"{ORG}/networks/{{network_uuid}}/{view}/", "404")
    def _view(c: Ctx) -> httpx.Response:
        return c.client.get(f"{org(c)}/networks/{UNKNOWN}/{view}/")


for _view in NETWORK_VIEWS:
    _network_404(_view)


@case("GET", f"{ORG}/sessions/{{session_id}}/networks/", "200")
def _session_networks(c: Ctx) -> httpx.Response:
    made = c.session()
    answer = c.client.get(f"{org(c)}/sessions/{made['session_id']}/networks/")
    assert answer.json() == {"results": []}
    return answer


@case("GET", f"{ORG}/sessions/{{session_id}}/networks/", "404")
def _session_networks_404(c: Ctx) -> httpx.Response:
    return c.client.get(f"{org(c)}/sessions/{UNKNOWN}/networks/")


def _memberships_200(path: str) -> None:
    @case("GET", ORG + path, "200")
    def _memberships(c: Ctx) -> httpx.Response:
        filled = path
        for name in ("business_session_id", "vendor_user_uuid", "vendor_business_uuid", "transaction_uuid",
                     "transaction_party_uuid"):
            filled = filled.replace("{" + name + "}", UNKNOWN)
        return c.client.get(org(c) + filled)


for _path in MEMBERSHIPS:
    _memberships_200(_path)


# ---------------------------------------------------------------- a case's life (tests/test_cases.py has more)

C = f"{ORG}/cases/{{case_uuid}}"
CHECKER = {"X-Didit-Mock-Actor": "checker@example.com"}
POOL = ["7d1e0c52-7a43-4a53-9d1c-0f7f3e1f2a10"]


def blueprint(c: Ctx, **fields: object) -> dict:
    made = c.client.post(f"{org(c)}/cases/blueprints/", json={"name": "bp", "assignee_pool": POOL, **fields})
    assert made.status_code == 201, made.text
    return made.json()


def on(c: Ctx, **fields: object) -> str:
    """The path of a new case (created with `fields`)."""
    made = c.client.post(f"{org(c)}/cases/", json={"title": "contract", **fields})
    assert made.status_code == 201, made.text
    return f"{org(c)}/cases/{made.json()['uuid']}"


def staged(c: Ctx) -> str:
    """A case whose resolution waits for a checker (resolved by the API key on a four-eyes blueprint)."""
    maker = blueprint(c, four_eyes_checker_blueprint=blueprint(c, name="checker")["uuid"])
    path = on(c, blueprint=maker["uuid"])
    assert c.client.post(f"{path}/resolve/", json={"resolution": "VALID_THREAT"}).status_code == 200
    return path


def checklist_case(c: Ctx) -> str:
    return on(c, blueprint=blueprint(c, content_config={"checklist": {"items": [{"label": "ID", "order": 1}]}})["uuid"])


case("POST", f"{ORG}/cases/", "201")(lambda c: c.client.post(f"{org(c)}/cases/", json={"title": "t"}))
case("POST", f"{ORG}/cases/", "400")(lambda c: c.client.post(f"{org(c)}/cases/", json={"title": "t", "blueprint": UNKNOWN}))
case("GET", f"{C}/", "200")(lambda c: c.client.get(f"{on(c)}/"))
case("GET", f"{C}/", "404")(lambda c: c.client.get(f"{org(c)}/cases/{UNKNOWN}/"))
case("PATCH", f"{C}/", "200")(lambda c: c.client.patch(f"{on(c)}/", json={"priority": "HIGH"}))
case("POST", f"{C}/assign/", "200")(lambda c: c.client.post(f"{on(c)}/assign/", json={"assignee_user_id": POOL[0], "assignee_email": "a@b.co"}))
case("POST", f"{C}/resolve/", "200")(lambda c: c.client.post(f"{on(c)}/resolve/", json={"resolution": "FALSE_POSITIVE"}))
case("POST", f"{C}/resolve/", "400")(
    lambda c: c.client.post(f"{checklist_case(c)}/resolve/", json={"resolution": "FALSE_POSITIVE"}))
case("POST", f"{C}/request-info/", "200")(lambda c: c.client.post(f"{on(c)}/request-info/"))
case("POST", f"{C}/approve/", "200")(lambda c: c.client.post(f"{staged(c)}/approve/", headers=CHECKER))
case("POST", f"{C}/approve/", "403")(lambda c: c.client.post(f"{staged(c)}/approve/"))
case("POST", f"{C}/approve/", "409")(lambda c: c.client.post(f"{on(c)}/approve/", headers=CHECKER))
case("POST", f"{C}/reject-approval/", "200")(
    lambda c: c.client.post(f"{staged(c)}/reject-approval/", json={"notes": "again"}, headers=CHECKER))
case("POST", f"{C}/reject-approval/", "403")(lambda c: c.client.post(f"{staged(c)}/reject-approval/", json={}))
case("POST", f"{C}/reject-approval/", "409")(
    lambda c: c.client.post(f"{on(c)}/reject-approval/", json={}, headers=CHECKER))
case("POST", f"{C}/notes/", "201")(lambda c: c.client.post(f"{on(c)}/notes/", json={"comment": "seen"}))
case("POST", f"{C}/links/", "400")(lambda c: c.client.post(f"{on(c)}/links/", json={"entity_type": "session"}))
case("GET", f"{C}/checklist/", "200")(lambda c: c.client.get(f"{checklist_case(c)}/checklist/"))
case("GET", f"{C}/aml/", "200")(lambda c: c.client.get(f"{on(c)}/aml/"))
case("GET", f"{C}/print/", "200")(lambda c: c.client.get(f"{on(c)}/print/"))
case("GET", f"{C}/notes/presign/", "404")(lambda c: c.client.get(f"{on(c)}/notes/presign/", params={"s3_key": "x"}))
case("POST", f"{C}/notes/presign/", "400")(lambda c: c.client.post(f"{on(c)}/notes/presign/", files={
    "file": ("a.exe", b"MZ", "application/octet-stream")}))


@case("POST", f"{C}/reopen/", "200")
def _reopen(c: Ctx) -> httpx.Response:
    path = on(c)
    c.client.post(f"{path}/resolve/", json={"resolution": "FALSE_POSITIVE"})
    answer = c.client.post(f"{path}/reopen/")
    assert answer.json()["status"] == "OPEN"
    return answer


@case("POST", f"{C}/escalate/", "200")
def _escalate(c: Ctx) -> httpx.Response:
    target = blueprint(c, name="senior")
    path = on(c, blueprint=blueprint(c, escalation_enabled=True, escalation_blueprint=target["uuid"])["uuid"])
    answer = c.client.post(f"{path}/escalate/")
    assert answer.json()["blueprint"]["uuid"] == target["uuid"]
    return answer


@case("POST", f"{C}/transfer/", "200")
def _transfer(c: Ctx) -> httpx.Response:
    target = blueprint(c, name="other")
    path = on(c, blueprint=blueprint(c, transfer_enabled=True)["uuid"])
    answer = c.client.post(f"{path}/transfer/", json={"target_blueprint": target["uuid"]})
    assert answer.json()["blueprint"]["uuid"] == target["uuid"]
    return answer


@case("POST", f"{C}/entity-actions/", "200")
def _entity_action(c: Ctx) -> httpx.Response:
    user = c.client.post("/v3/users/create/", json={"vendor_data": f"case-{uuid.uuid4().hex[:8]}"}).json()
    path = on(c, subject={"type": "user", "uuid": user["didit_internal_id"]})
    answer = c.client.post(f"{path}/entity-actions/", json={"action": "add_tags", "tags": ["risky"]})
    assert answer.json()["tags_added"] == ["risky"]
    return answer


case("POST", f"{C}/entity-actions/", "400")(
    lambda c: c.client.post(f"{on(c)}/entity-actions/", json={"action": "add_note", "note": "no subject"}))


@case("POST", f"{C}/links/", "201")
def _link(c: Ctx) -> httpx.Response:
    session = c.session()
    answer = c.client.post(f"{on(c)}/links/", json={"entity_type": "session", "entity_uuid": session["session_id"]})
    assert answer.json()["linked_entity_summary"]["session_id"] == session["session_id"]
    return answer


@case("DELETE", f"{C}/links/{{link_uuid}}/", "204")
def _unlink(c: Ctx) -> httpx.Response:
    path = on(c)
    link = c.client.post(f"{path}/links/", json={"entity_type": "transaction", "entity_uuid": UNKNOWN}).json()
    return c.client.delete(f"{path}/links/{link['uuid']}/")


@case("PATCH", f"{C}/checklist/{{item_uuid}}/", "200")
def _toggle(c: Ctx) -> httpx.Response:
    path = checklist_case(c)
    item = c.client.get(f"{path}/checklist/").json()[0]
    answer = c.client.patch(f"{path}/checklist/{item['uuid']}/", json={"is_completed": True})
    assert c.client.get(f"{path}/checklist/").json()[0]["is_completed"] is True
    return answer


def _uploaded(c: Ctx) -> tuple[str, httpx.Response]:
    path = on(c)
    return path, c.client.post(f"{path}/notes/presign/", files={"file": ("a.txt", b"text", "text/plain")})


case("POST", f"{C}/notes/presign/", "201")(lambda c: _uploaded(c)[1])


@case("GET", f"{C}/notes/presign/", "200")
def _attachment_url(c: Ctx) -> httpx.Response:
    path, uploaded = _uploaded(c)
    return c.client.get(f"{path}/notes/presign/", params={"s3_key": uploaded.json()["s3_key"]})


def _report(c: Ctx, finalized: bool) -> str:
    made = c.client.post(f"{org(c)}/cases/", json={"title": "sar"}).json()
    template = c.client.post(f"{org(c)}/report-templates/", json={"name": "t", "jurisdiction": "US",
                                                                   "report_type": "SAR"}).json()
    report = c.client.post(f"{org(c)}/regulatory-reports/", json={
        "case": made["uuid"], "template": template["uuid"], "jurisdiction": "US", "rentity_id": "R-1",
        "submission_code": "E", "currency_code_local": "USD", "action": "Reported",
        "submission_date": "2026-01-02T00:00:00Z", "transactions": [made["uuid"]]}).json()
    path = f"{org(c)}/regulatory-reports/{report['uuid']}"
    if finalized:
        c.client.post(f"{path}/validate/")
        assert c.client.post(f"{path}/finalize/").status_code == 200
    return path


REPORT_URL = f"{ORG}/regulatory-reports/{{report_uuid}}/download-url/"
case("GET", REPORT_URL, "200")(lambda c: c.client.get(f"{_report(c, True)}/download-url/", params={"file": "xml"}))
case("GET", REPORT_URL, "409")(lambda c: c.client.get(f"{_report(c, False)}/download-url/"))


FINALIZE = f"{ORG}/regulatory-reports/{{report_uuid}}/finalize/"


@case("POST", FINALIZE, "200")
def _finalize(c: Ctx) -> httpx.Response:
    path = _report(c, False)
    c.client.post(f"{path}/validate/")
    answer = c.client.post(f"{path}/finalize/")
    assert answer.json()["status"] == "FINALIZED" and answer.json()["finalized_at"]
    return answer


case("POST", FINALIZE, "400")(lambda c: c.client.post(f"{_report(c, False)}/finalize/"))
case("POST", FINALIZE, "409")(lambda c: c.client.post(f"{_report(c, True)}/finalize/"))
