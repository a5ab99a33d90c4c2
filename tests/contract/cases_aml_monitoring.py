"""Contract cases of AML ongoing monitoring (`/v3/*/aml-monitoring/`, its jobs, the console twins)."""

from __future__ import annotations

import httpx

from tests.contract.test_contract import UNKNOWN, WAIVED, Ctx, case

USERS = "/v3/users/aml-monitoring/"
BUSINESSES = "/v3/businesses/aml-monitoring/"
JOB = "/v3/aml-monitoring/jobs/{job_id}/"
ORG = "/v3/organization/{organization_id}/application/{application_id}"
VENDOR_USERS = f"{ORG}/vendor-users/toggle-ongoing-monitoring/"
VENDOR_BUSINESSES = f"{ORG}/vendor-businesses/toggle-ongoing-monitoring/"
SESSIONS = f"{ORG}/businesses/toggle-ongoing-monitoring/"
PERSON = {"full_name": "Ann Lee", "date_of_birth": "1990-02-03", "issuing_states": ["ESP"]}
#: More profiles than a toggle completes inline.
MANY = 21

for toggle in (VENDOR_USERS, VENDOR_BUSINESSES, SESSIONS):
    WAIVED[("PATCH", toggle, "200")] = (
        "the documented 200 is a `oneOf` whose branches require no field, so every answer matches both and "
        "`oneOf` fails; tests/test_aml_monitoring.py produces it and checks it against each branch")


def _org(client: httpx.Client, path: str) -> str:
    tenant = client.get("/_mock/tenant").json()
    return path.replace("{organization_id}", tenant["organization_id"]).replace(
        "{application_id}", tenant["application_id"])


def _made(client: httpx.Client, path: str, body: dict[str, object]) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text


def _verified(c: Ctx) -> str:
    return str(c.finished()["vendor_data"])


def _kyb_workflow(client: httpx.Client) -> str:
    made = client.post("/v3/workflows/", json={"features": [{"feature": "KYB_REGISTRY"}]})
    assert made.status_code == 201, made.text
    return str(made.json()["uuid"])


def _kyb_session(client: httpx.Client, workflow: str, vendor_data: str) -> int:
    made = client.post("/v3/session/", json={"workflow_id": workflow, "vendor_data": vendor_data})
    assert made.status_code == 201, made.text
    return int(made.json()["session_number"])


def _job(c: Ctx) -> str:
    started = c.client.post(USERS, json={"is_enabled": True, "vendor_data_list": [_verified(c)]})
    assert started.status_code == 200, started.text
    return str(started.json()["job_id"])


# ---------------------------------------------------------------- the API toggles and their job

case("POST", USERS, "200")(lambda c: c.client.post(USERS, json={"is_enabled": True, "vendor_data_list": [_verified(c)]}))
case("POST", USERS, "400")(lambda c: c.client.post(USERS, json={"is_enabled": True}))
case("POST", USERS, "401")(lambda c: c.anon.post(USERS, json={"is_enabled": True, "vendor_data_list": ["a"]}))
case("POST", BUSINESSES, "400")(lambda c: c.client.post(BUSINESSES, json={"vendor_data_list": ["a"]}))
case("POST", BUSINESSES, "401")(lambda c: c.anon.post(BUSINESSES, json={"is_enabled": True, "vendor_data_list": ["a"]}))
case("GET", JOB, "200")(lambda c: c.client.get(f"/v3/aml-monitoring/jobs/{_job(c)}/"))
case("GET", JOB, "401")(lambda c: c.anon.get(f"/v3/aml-monitoring/jobs/{UNKNOWN}/"))
case("GET", JOB, "404")(lambda c: c.client.get(f"/v3/aml-monitoring/jobs/{UNKNOWN}/"))


@case("POST", USERS, "202")
def _users_202(c: Ctx) -> httpx.Response:
    names = [f"monitored-{i}" for i in range(MANY)]
    for name in names:
        _made(c.client, "/v3/users/create/", {"vendor_data": name})
    return c.client.post(USERS, json={"is_enabled": True, "vendor_data_list": names})


@case("POST", USERS, "403")
def _users_403(c: Ctx) -> httpx.Response:
    live = c.tenant(environment="live", credits=0)
    _made(live, "/v3/users/create/", {"vendor_data": "ann", **PERSON})
    return live.post(USERS, json={"is_enabled": True, "vendor_data_list": ["ann"]})


@case("POST", BUSINESSES, "200")
def _businesses_200(c: Ctx) -> httpx.Response:
    _made(c.client, "/v3/businesses/create/", {"vendor_data": "acme", "legal_name": "Acme Ltd"})
    return c.client.post(BUSINESSES, json={"is_enabled": False, "vendor_data_list": ["acme", "unknown"]})


@case("POST", BUSINESSES, "202")
def _businesses_202(c: Ctx) -> httpx.Response:
    names = [f"company-{i}" for i in range(MANY)]
    for name in names:
        _made(c.client, "/v3/businesses/create/", {"vendor_data": name})
    return c.client.post(BUSINESSES, json={"is_enabled": False, "vendor_data_list": names})


@case("POST", BUSINESSES, "403")
def _businesses_403(c: Ctx) -> httpx.Response:
    live = c.tenant(environment="live", credits=0)
    _made(live, "/v3/businesses/create/", {"vendor_data": "acme", "legal_name": "Acme Ltd"})
    return live.post(BUSINESSES, json={"is_enabled": True, "vendor_data_list": ["acme"]})


# ---------------------------------------------------------------- the console twins

@case("PATCH", VENDOR_USERS, "202")
def _vendor_users_202(c: Ctx) -> httpx.Response:
    for i in range(MANY):
        _made(c.client, "/v3/users/create/", {"vendor_data": f"console-{i}"})
    return c.client.patch(_org(c.client, VENDOR_USERS), json={"is_enabled": False, "update_all": True})


@case("PATCH", VENDOR_USERS, "403")
def _vendor_users_403(c: Ctx) -> httpx.Response:
    live = c.tenant(environment="live", credits=0)
    _made(live, "/v3/users/create/", {"vendor_data": "ann", **PERSON})
    return live.patch(_org(live, VENDOR_USERS), json={"is_enabled": True, "update_all": True})


@case("GET", f"{VENDOR_USERS}{{job_id}}/", "200")
def _vendor_users_job(c: Ctx) -> httpx.Response:
    _verified(c)
    url = _org(c.client, VENDOR_USERS)
    started = c.client.patch(url, json={"is_enabled": True, "update_all": True})
    assert started.status_code == 200, started.text
    return c.client.get(f"{url}{started.json()['job_id']}/")


case("GET", f"{VENDOR_USERS}{{job_id}}/", "404")(
    lambda c: c.client.get(f"{_org(c.client, VENDOR_USERS)}{UNKNOWN}/"))


@case("PATCH", VENDOR_BUSINESSES, "202")
def _vendor_businesses_202(c: Ctx) -> httpx.Response:
    for i in range(MANY):
        _made(c.client, "/v3/businesses/create/", {"vendor_data": f"console-co-{i}"})
    return c.client.patch(_org(c.client, VENDOR_BUSINESSES), json={"is_enabled": False, "update_all": True})


@case("PATCH", VENDOR_BUSINESSES, "403")
def _vendor_businesses_403(c: Ctx) -> httpx.Response:
    live = c.tenant(environment="live", credits=0)
    _made(live, "/v3/businesses/create/", {"vendor_data": "acme", "legal_name": "Acme Ltd"})
    return live.patch(_org(live, VENDOR_BUSINESSES), json={"is_enabled": True, "update_all": True})


@case("GET", f"{VENDOR_BUSINESSES}{{job_id}}/", "200")
def _vendor_businesses_job(c: Ctx) -> httpx.Response:
    _made(c.client, "/v3/businesses/create/", {"vendor_data": "acme", "legal_name": "Acme Ltd"})
    url = _org(c.client, VENDOR_BUSINESSES)
    started = c.client.patch(url, json={"is_enabled": True, "update_all": True})
    assert started.status_code == 200, started.text
    return c.client.get(f"{url}{started.json()['job_id']}/")


case("GET", f"{VENDOR_BUSINESSES}{{job_id}}/", "404")(
    lambda c: c.client.get(f"{_org(c.client, VENDOR_BUSINESSES)}{UNKNOWN}/"))


@case("PATCH", SESSIONS, "202")
def _sessions_202(c: Ctx) -> httpx.Response:
    workflow = _kyb_workflow(c.client)
    numbers = [str(_kyb_session(c.client, workflow, f"kyb-{i}")) for i in range(MANY)]
    return c.client.patch(_org(c.client, SESSIONS), json={"is_enabled": False, "session_numbers": numbers})


@case("PATCH", SESSIONS, "403")
def _sessions_403(c: Ctx) -> httpx.Response:
    live = c.tenant(environment="live", credits=1)  # one session's price, then nothing left
    number = _kyb_session(live, _kyb_workflow(live), "kyb-co")
    assert live.patch("/v3/businesses/kyb-co/", json={"legal_name": "KYB Co"}).status_code == 200
    return live.patch(_org(live, SESSIONS), json={"is_enabled": True, "session_numbers": [str(number)]})


@case("GET", f"{SESSIONS}{{job_id}}/", "200")
def _sessions_job(c: Ctx) -> httpx.Response:
    number = _kyb_session(c.client, _kyb_workflow(c.client), "kyb-co")
    url = _org(c.client, SESSIONS)
    started = c.client.patch(url, json={"is_enabled": True, "session_numbers": [str(number)]})
    assert started.status_code == 200, started.text
    return c.client.get(f"{url}{started.json()['job_id']}/")


case("GET", f"{SESSIONS}{{job_id}}/", "404")(lambda c: c.client.get(f"{_org(c.client, SESSIONS)}{UNKNOWN}/"))
