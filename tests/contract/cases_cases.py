"""Contract cases of the case rules (bulk changes, statistics, presets, a case's reports) and of the
network views."""

from __future__ import annotations

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
    c.client.post(f"{org(c)}/cases/{made['uuid']}/regulatory-reports/", json={"report_type": "SAR"})
    answer = c.client.get(f"{org(c)}/cases/{made['uuid']}/regulatory-reports/")
    assert answer.json()["count"] == 1 and answer.json()["results"][0]["case_uuid"] == made["uuid"]
    return answer


@case("POST", f"{ORG}/cases/{{case_uuid}}/regulatory-reports/", "201")
def _case_report(c: Ctx) -> httpx.Response:
    made = new_case(c)
    answer = c.client.post(f"{org(c)}/cases/{made['uuid']}/regulatory-reports/", json={"report_type": "STR"})
    assert answer.json()["case_number"] == made["case_number"] and answer.json()["status"] == "DRAFT"
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
