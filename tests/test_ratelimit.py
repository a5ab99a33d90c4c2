"""Rate limits as the real API enforces them: per key, 60 s sliding windows on the tenant clock."""

from __future__ import annotations

import math

import httpx
import pytest

from didit_mock.domain import ratelimit as rl
from didit_mock.domain.errors import RateLimited
from didit_mock.domain.tenant import TenantConfig, TenantRegistry
from didit_mock.server import MockServer

from .conftest import KYC_WORKFLOW, advance, create_session, new_key
from .contract.conformance import assert_conforms

UNKNOWN = "00000000-0000-4000-8000-000000000000"
START = "2030-01-01T00:00:00Z"
START_TS = 1893456000

CREATE_TEXT = "Session creation rate limit exceeded. You can make up to {} requests per minute."
GET_TEXT = "GET request rate limit exceeded. You can make up to {} requests per minute."
WRITE_TEXT = "Write request rate limit exceeded. You can make up to {} requests per minute."
PDF_TEXT = "Session PDF generation rate limit exceeded. You can make up to {} requests per minute."
QUOTA_TEXT = ("Sandbox session quota exceeded ({} sessions per 24h). Wait for the window to reset. "
              "Expected available in {} seconds.")


def limits(client: httpx.Client, **body: object) -> dict:
    response = client.post("/_mock/ratelimits", json=body) if body else client.get("/_mock/ratelimits")
    assert response.status_code == 200, response.text
    return response.json()


def at_start(client: httpx.Client) -> None:
    assert client.post("/_mock/clock/set", json={"now": START}).status_code == 200


def assert_limited(response: httpx.Response, text: str, limit: int, retry_after: int, reset: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json() == {"detail": text}
    assert response.headers["Retry-After"] == str(retry_after)
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Reset"] == str(reset)


def write(client: httpx.Client) -> httpx.Response:
    """A harmless write: batch delete of a session number that does not exist."""
    return client.post("/v3/sessions/delete/", json={"session_numbers": [999999]})


# ---------------------------------------------------------------- the documented limits and texts

@pytest.mark.parametrize(
    ("scope", "limit", "method", "path", "text"),
    [
        ("session-create", 600, "POST", "/v3/session/", CREATE_TEXT),
        ("generic-get", 600, "GET", "/v3/sessions/", GET_TEXT),
        ("generic-get", 600, "GET", f"/v3/session/{UNKNOWN}/decision/", GET_TEXT),
        ("generic-write", 300, "DELETE", f"/v3/session/{UNKNOWN}/delete/", WRITE_TEXT),
        ("generic-write", 300, "PATCH", f"/v3/session/{UNKNOWN}/update-status/", WRITE_TEXT),
        ("generic-write", 300, "POST", "/v3/phone/send/", WRITE_TEXT),
        ("generate-pdf", 50, "GET", f"/v3/session/{UNKNOWN}/generate-pdf/", PDF_TEXT),
        ("generate-pdf", 50, "GET", f"/v3/session/{UNKNOWN}/generate-pdf", PDF_TEXT),
    ],
)
def test_each_documented_limit_answers_its_text_and_headers(
    client: httpx.Client, scope: str, limit: int, method: str, path: str, text: str
) -> None:
    at_start(client)
    state = limits(client, consume={scope: limit})["scopes"][scope]
    assert state == {"limit": limit, "used": limit, "remaining": 0, "reset": START_TS + 60}
    body = {"workflow_id": KYC_WORKFLOW} if method != "GET" else None
    response = client.request(method, path, json=body)
    assert_limited(response, text.format(limit), limit, 60, START_TS + 60)
    advance(client, 45)
    again = client.request(method, path, json=body)
    assert_limited(again, text.format(limit), limit, 15, START_TS + 60)
    assert client.get("/_mock/sessions").json()["count"] == 0  # a refused create created nothing


def test_429_bodies_conform_to_the_spec(client: httpx.Client) -> None:
    limits(client, consume={"session-create": 600, "generic-get": 600, "generic-write": 300})
    cases = [
        ("POST", "/v3/session/", "/v3/session/"),
        ("GET", f"/v3/session/{UNKNOWN}/decision/", "/v3/session/{sessionId}/decision/"),
        ("DELETE", f"/v3/session/{UNKNOWN}/delete/", "/v3/session/{sessionId}/delete/"),
        ("POST", "/v3/sessions/delete/", "/v3/sessions/delete/"),
    ]
    for method, path, spec_path in cases:
        response = client.request(method, path, json={} if method != "GET" else None)
        assert response.status_code == 429
        assert_conforms(method, spec_path, 429, response.json())


def test_a_burst_of_real_requests_is_counted(client: httpx.Client) -> None:
    limits(client, scale=0.1)
    statuses = [client.get("/v3/sessions/").status_code for _ in range(60)]
    assert statuses == [200] * 60
    refused = client.get("/v3/sessions/")
    assert refused.status_code == 429
    assert refused.json() == {"detail": GET_TEXT.format(60)}
    assert limits(client)["scopes"]["generic-get"]["used"] == 60
    creates = [client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW}).status_code for _ in range(50)]
    assert creates == [201] * 50  # creates have their own counter (and 50 fit the scaled sandbox quota)


def test_the_window_slides_on_the_tenant_clock(client: httpx.Client) -> None:
    at_start(client)
    limits(client, scale=0.01)  # write limit 3
    assert [write(client).status_code for _ in range(2)] == [200, 200]
    advance(client, 30)
    assert write(client).status_code == 200
    assert_limited(write(client), WRITE_TEXT.format(3), 3, 30, START_TS + 60)
    advance(client, 29)
    assert_limited(write(client), WRITE_TEXT.format(3), 3, 1, START_TS + 60)
    advance(client, 1)  # the two writes of t=0 leave the window
    assert [write(client).status_code for _ in range(2)] == [200, 200]
    assert_limited(write(client), WRITE_TEXT.format(3), 3, 30, START_TS + 90)
    advance(client, 60)
    assert write(client).status_code == 200
    assert limits(client)["scopes"]["generic-write"]["used"] == 1


def test_fractional_times_round_up(client: httpx.Client) -> None:
    client.post("/_mock/clock/set", json={"now": "2030-01-01T00:00:00.400Z"})
    limits(client, consume={"generic-write": 300})
    advance(client, 10)
    response = write(client)
    assert response.headers["Retry-After"] == "50"  # 49.999... rounds up
    assert response.headers["X-RateLimit-Reset"] == str(START_TS + 61)


# ---------------------------------------------------------------- scopes

def test_every_scope_has_its_own_counter(client: httpx.Client) -> None:
    limits(client, consume={"generic-write": 300})
    assert write(client).status_code == 429
    assert client.get("/v3/sessions/").status_code == 200
    created = create_session(client)  # session create is not a generic write
    limits(client, clear=True, consume={"generic-get": 600})
    assert client.get("/v3/sessions/").status_code == 429
    assert write(client).status_code == 200
    assert client.post(f"/_mock/sessions/{created['session_id']}/complete", json={}).status_code == 200


def test_pdf_counts_against_the_get_cap_and_the_first_full_scope_answers(client: httpx.Client) -> None:
    limits(client, consume={"generic-get": 600})
    response = client.get(f"/v3/session/{UNKNOWN}/generate-pdf/")
    assert response.json() == {"detail": GET_TEXT.format(600)}
    limits(client, clear=True, consume={"generic-get": 600, "generate-pdf": 50})
    response = client.get(f"/v3/session/{UNKNOWN}/generate-pdf/")
    assert response.json() == {"detail": PDF_TEXT.format(50)}


def test_a_refused_request_counts_nowhere(client: httpx.Client) -> None:
    limits(client, scale=0.1)  # PDF 5, GET 60
    assert [client.get(f"/v3/session/{UNKNOWN}/generate-pdf").status_code for _ in range(5)] == [404] * 5
    assert {client.get(f"/v3/session/{UNKNOWN}/generate-pdf").status_code for _ in range(10)} == {429}
    scopes = limits(client)["scopes"]
    assert scopes["generate-pdf"]["used"] == 5
    assert scopes["generic-get"]["used"] == 5


def test_decision_limit_is_the_get_cap_unless_configured(client: httpx.Client) -> None:
    decision = f"/v3/session/{UNKNOWN}/decision/"
    at_start(client)
    assert limits(client)["decision_limit"] == 600
    limits(client, consume={"generic-get": 600})
    assert client.get(decision).json() == {"detail": GET_TEXT.format(600)}
    state = limits(client, clear=True, decision_limit=100, consume={"decision": 100})
    assert state["decision_limit"] == 100 and state["scopes"]["decision"]["limit"] == 100
    assert_limited(client.get(decision), "Session decision rate limit exceeded. You can make up to 100 requests per "
                   "minute.", 100, 60, START_TS + 60)
    assert client.get("/v3/sessions/").status_code == 200
    assert limits(client, clear=True, scale=0.5)["scopes"]["decision"]["limit"] == 50


def test_data_update_scopes(client: httpx.Client) -> None:
    limits(client, consume={"kyc-data-update": 10, "poa-data-update": 10})
    kyc = client.patch(f"/v3/session/{UNKNOWN}/update-data/", json={})
    assert kyc.json() == {"detail": "Session KYC data update rate limit exceeded. You can make up to 10 requests per minute."}
    poa = client.patch(f"/v3/session/{UNKNOWN}/update-poa-data/", json={})
    assert poa.json() == {"detail": "Session POA data update rate limit exceeded. You can make up to 10 requests per minute."}
    assert limits(client)["scopes"]["generic-write"]["used"] == 0


def test_limits_are_per_api_key(server: MockServer, client: httpx.Client) -> None:
    limits(client, consume={"generic-get": 600})
    assert client.get("/v3/sessions/").status_code == 429
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}) as other:
        assert other.get("/v3/sessions/").status_code == 200


# ---------------------------------------------------------------- sandbox quota

def test_sandbox_quota_exact_text(client: httpx.Client) -> None:
    at_start(client)
    limits(client, consume={"sandbox-quota": 500})
    refused = client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW})
    assert refused.status_code == 429
    assert refused.json() == {"detail": QUOTA_TEXT.format(500, 86400)}
    assert refused.headers["Retry-After"] == "86400"
    assert not any(name.lower().startswith("x-ratelimit") for name in refused.headers)
    advance(client, 86400 - 3600)
    later = client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW})
    assert later.json() == {
        "detail": "Sandbox session quota exceeded (500 sessions per 24h). Wait for the window to reset. "
                  "Expected available in 3600 seconds."
    }
    advance(client, 3600)
    create_session(client)


def test_sandbox_quota_counts_created_sessions(client: httpx.Client) -> None:
    at_start(client)
    limits(client, scale=0.01)  # quota 5, creates 6/min
    for n in range(4):
        create_session(client, vendor_data=f"user-{n}")
        advance(client, 600)
    create_session(client, vendor_data="user-0")  # hands back the unfinished session: nothing new
    assert limits(client)["scopes"]["sandbox-quota"]["used"] == 4
    create_session(client, vendor_data="user-4")
    refused = client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW, "vendor_data": "new"})
    assert refused.status_code == 429
    assert refused.json() == {"detail": QUOTA_TEXT.format(5, 86400 - 2400)}
    assert client.get("/_mock/sessions").json()["count"] == 5
    advance(client, 86400 - 2400)  # the first session leaves the 24 h window
    create_session(client, vendor_data="new")
    assert client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW}).status_code == 429


def test_live_tenants_have_no_sandbox_quota(server: MockServer, anon: httpx.Client) -> None:
    view = anon.post("/_mock/tenants", json={"environment": "live", "rate_limit_scale": 0.01, "frozen": True}).json()
    with httpx.Client(base_url=server.url, headers={"x-api-key": view["api_key"]}) as live:
        assert "sandbox-quota" not in limits(live)["scopes"]
        assert [live.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW}).status_code for _ in range(6)] == [201] * 6
        refused = live.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW})
        assert refused.json() == {"detail": CREATE_TEXT.format(6)}


# ---------------------------------------------------------------- what bypasses limiting

def test_hosted_pages_admin_routes_and_healthcheck_bypass(client: httpx.Client, anon: httpx.Client) -> None:
    session = create_session(client)
    limits(client, consume={"generic-get": 600, "generic-write": 300})
    assert client.get("/v3/sessions/").status_code == 429
    assert client.get("/_mock/tenant").status_code == 200
    assert client.get("/system/healthcheck").status_code == 200
    for _ in range(3):
        assert client.get(f"/session/{session['session_token']}").status_code == 200
    armed = anon.post(f"/v3/session/{session['session_id']}/sandbox/arm/", json={"scenario": "nope"},
                      headers={"Session-Token": session["session_token"]})
    assert armed.status_code != 429
    assert limits(client)["scopes"]["generic-get"]["used"] == 600


def test_refused_requests_appear_in_the_journal(client: httpx.Client) -> None:
    limits(client, consume={"generic-get": 600})
    client.get("/v3/sessions/")
    entries = client.get("/_mock/requests", params={"status": "429"}).json()["results"]
    assert [(e["path"], e["status"]) for e in entries] == [("/v3/sessions/", 429)]
    assert "GET request rate limit exceeded" in entries[0]["response_body"]


# ---------------------------------------------------------------- switching off and scaling

def test_limits_switched_off_per_tenant(client: httpx.Client, anon: httpx.Client, server: MockServer) -> None:
    limits(client, consume={"generic-get": 600})
    assert limits(client, enabled=False)["enabled"] is False
    assert client.get("/v3/sessions/").status_code == 200
    assert limits(client, enabled=True)["enabled"] is True
    assert client.get("/v3/sessions/").status_code == 429
    view = anon.post("/_mock/tenants", json={"rate_limits": False, "rate_limit_scale": 0.01}).json()
    with httpx.Client(base_url=server.url, headers={"x-api-key": view["api_key"]}) as unlimited:
        assert {unlimited.get("/v3/sessions/").status_code for _ in range(10)} == {200}


def test_server_settings_switch_off_or_scale_limits() -> None:
    with MockServer(rate_limits=False, rate_limit_scale=0.01) as off, \
            httpx.Client(base_url=off.url, headers={"x-api-key": new_key()}) as http:
        assert limits(http)["enabled"] is False
        assert {http.get("/v3/sessions/").status_code for _ in range(10)} == {200}
    with MockServer(rate_limit_scale=0.01, decision_rate_limit=100) as scaled, \
            httpx.Client(base_url=scaled.url, headers={"x-api-key": new_key()}) as http:
        state = limits(http)
        assert (state["scale"], state["decision_limit"]) == (0.01, 100)
        assert {name: s["limit"] for name, s in state["scopes"].items()} == {
            "session-create": 6, "generic-get": 6, "generic-write": 3, "ingest-write": 6, "decision": 1,
            "generate-pdf": 1, "kyc-data-update": 1, "poa-data-update": 1, "sandbox-quota": 5,
        }
        assert [http.get("/v3/sessions/").status_code for _ in range(7)] == [200] * 6 + [429]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"scale": 0}, {"scale": ["Ensure this value is greater than or equal to 0.0001."]}),
        ({"scale": 2, "enabled": "perhaps"}, {"enabled": ["Must be a valid boolean."]}),
        ({"scale": 2, "decision_limit": 0}, {"decision_limit": ["Ensure this value is greater than or equal to 1."]}),
        ({"scale": 2, "consume": {"everything": 5}}, {"consume": {"everything": ['"everything" is not a valid choice.']}}),
        ({"scale": 2, "consume": {"generic-get": -1}},
         {"consume": {"generic-get": ["Ensure this value is greater than or equal to 0."]}}),
        ({"scale": 2, "speed": 1}, {"speed": ["Unexpected field."]}),
    ],
)
def test_ratelimits_route_refuses_bad_input_and_changes_nothing(client: httpx.Client, body: dict, errors: dict) -> None:
    before = limits(client)
    response = client.post("/_mock/ratelimits", json=body)
    assert response.status_code == 400
    assert response.json() == errors
    assert limits(client) == before


# ---------------------------------------------------------------- the pure domain

def tenant(**config: object):  # type: ignore[no-untyped-def]
    registry = TenantRegistry(defaults=TenantConfig(clock_frozen=True, clock_start=START_TS, **config))
    return registry.get("sk_test_unit")


def test_scopes_for_each_kind_of_request() -> None:
    def scopes(method: str, scope: str | None, sandbox: bool = False, decision_limit: int = 600) -> list[str]:
        return rl.scopes_for(method, scope, sandbox=sandbox, decision_limit=decision_limit)

    assert scopes("POST", "session-create") == ["session-create"]
    assert scopes("POST", "session-create", sandbox=True) == ["session-create", "sandbox-quota"]
    assert scopes("GET", None) == ["generic-get"]
    assert scopes("HEAD", None) == ["generic-get"]
    assert scopes("GET", "decision") == ["generic-get"]
    assert scopes("GET", "decision", decision_limit=100) == ["decision", "generic-get"]
    assert scopes("GET", "generate-pdf") == ["generate-pdf", "generic-get"]
    assert scopes("DELETE", None) == ["generic-write"]
    assert scopes("POST", "ingest-write") == ["ingest-write"]
    assert scopes("PATCH", "kyc-data-update") == ["kyc-data-update", "generic-write"]
    assert scopes("OPTIONS", None) == []
    assert [rl.scaled(600, s) for s in (1, 0.1, 0.01, 0.001, 2)] == [600, 60, 6, 1, 1200]
    assert rl.scaled(50, 0.01) == 1


def test_windows_stay_bounded_under_a_flood() -> None:
    unit = tenant(rate_limit_scale=0.01)
    limiter = rl.limiter(unit)
    refused = 0
    for _ in range(5000):
        try:
            limiter.admit("GET")
        except RateLimited:
            refused += 1
    assert refused == 5000 - 6
    assert len(limiter.window("generic-get")._hits) == 6
    limiter.consume("generic-write", 10_000)
    assert len(limiter.window("generic-write")._hits) == 3
    unit.clock.advance(60)
    assert limiter.state("generic-get").used == 0
    assert len(limiter.window("generic-get")._hits) == 0


def test_moving_the_clock_back_forgets_the_future() -> None:
    unit = tenant(rate_limit_scale=0.01)
    limiter = rl.limiter(unit)
    limiter.consume("generic-get", 6)
    unit.clock.set(START_TS - 3600)
    limiter.admit("GET")
    assert limiter.state("generic-get").used == 1


def test_refusal_headers_are_whole_seconds() -> None:
    unit = tenant()
    unit.clock.set(START_TS + 0.25)
    limiter = rl.limiter(unit)
    limiter.consume("generate-pdf", 50)
    unit.clock.advance(0.5)
    with pytest.raises(RateLimited) as raised:
        limiter.admit("GET", "generate-pdf")
    headers = raised.value.headers
    assert headers["Retry-After"] == str(math.ceil(59.5))
    assert headers["X-RateLimit-Reset"] == str(START_TS + 61)
