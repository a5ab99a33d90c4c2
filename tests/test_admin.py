"""The admin API (`/_mock/...`) this module owns: tenants, reset, sessions, the request journal,
the admin token, and the default bind address."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timezone

import httpx
import pytest

from didit_mock.cli import build_parser
from didit_mock.domain.events import STATUS_UPDATED
from didit_mock.domain.statuses import SESSION_STATUSES
from didit_mock.server import MockServer
from didit_mock.settings import Settings

from .conftest import KYC_WORKFLOW, advance, create_session, new_key

KEY_FORMAT = re.compile(r"^sk_(test|live)_[A-Za-z0-9_-]{43}$")


def make_tenant(anon: httpx.Client, **body: object) -> dict:
    response = anon.post("/_mock/tenants", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def as_client(server: MockServer, api_key: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"x-api-key": api_key}, timeout=10)


# ---------------------------------------------------------------- POST /_mock/tenants

def test_create_tenant_generates_a_sandbox_key(server: MockServer, anon: httpx.Client) -> None:
    first = make_tenant(anon)
    second = make_tenant(anon)
    assert KEY_FORMAT.match(first["api_key"]) and first["api_key"].startswith("sk_test_")
    assert first["api_key"] != second["api_key"]
    assert first["application_id"] != second["application_id"]
    assert first["environment"] == "sandbox"
    assert first["sessions"] == 0
    with as_client(server, first["api_key"]) as tenant:
        view = tenant.get("/_mock/tenant").json()
    assert view["application_id"] == first["application_id"]


def test_create_live_tenant_gets_a_live_key(anon: httpx.Client) -> None:
    view = make_tenant(anon, environment="live")
    assert view["api_key"].startswith("sk_live_") and KEY_FORMAT.match(view["api_key"])
    assert view["environment"] == "live"


def test_create_tenant_with_every_option(server: MockServer, anon: httpx.Client) -> None:
    key = new_key()
    application_id = "0a0b0c0d-0000-4000-8000-00000000abcd"
    view = make_tenant(
        anon, api_key=key, environment="live", application_id=application_id, seed=42,
        clock_start="2030-05-01T12:00:00Z", frozen=True, strict_workflows=True, credits=12.5,
        rate_limits=False, rate_limit_scale=0.5, decision_rate_limit=100,
    )
    assert view["api_key"] == key
    assert view["environment"] == "live"  # explicit environment beats the key's prefix
    assert view["application_id"] == application_id
    assert view["seed"] == 42
    assert view["clock"]["now"].startswith("2030-05-01T12:00:00.00")
    assert view["clock"]["frozen"] is True
    assert view["settings"] == {
        "strict_workflows": True,
        "public_base_url": view["settings"]["public_base_url"],
        "rate_limits_enabled": False,
        "rate_limit_scale": 0.5,
        "decision_rate_limit": 100,
        "credits": 12.5,
    }
    with as_client(server, key) as tenant:
        # strict workflows refuse an unknown workflow id
        refused = tenant.post("/v3/session/", json={"workflow_id": "0a0b0c0d-0000-4000-8000-000000000000"})
        assert refused.status_code == 400
        assert tenant.get("/_mock/tenant").json()["application_id"] == application_id


def test_seed_and_options_survive_a_reset(server: MockServer, anon: httpx.Client) -> None:
    view = make_tenant(anon, seed=7, clock_start="2031-01-01T00:00:00Z", frozen=True)
    with as_client(server, view["api_key"]) as tenant:
        first = create_session(tenant)
        assert tenant.post("/_mock/reset").status_code == 200
        again = create_session(tenant)
        assert tenant.get("/_mock/clock").json()["now"].startswith("2031-01-01T00:00:00.00")
    assert again["session_id"] == first["session_id"]
    assert again["session_number"] == 1


def test_create_tenant_with_an_existing_key_starts_it_afresh(server: MockServer, anon: httpx.Client) -> None:
    key = new_key()
    make_tenant(anon, api_key=key)
    with as_client(server, key) as tenant:
        create_session(tenant)
        assert tenant.get("/_mock/tenant").json()["sessions"] == 1
        assert make_tenant(anon, api_key=key)["sessions"] == 0
        assert tenant.get("/_mock/sessions").json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"environment": "moon"}, {"environment": ['"moon" is not a valid choice.']}),
        ({"clock_start": "yesterday"}, {"clock_start": ["Datetime has wrong format."]}),
        ({"application_id": "not-a-uuid"}, {"application_id": ["Must be a valid UUID."]}),
        ({"frozen": "maybe"}, {"frozen": ["Must be a valid boolean."]}),
        ({"rate_limit_scale": 0}, None),
        ({"credits": -1}, None),
        ({"colour": "blue"}, {"colour": ["Unexpected field."]}),
        ({"api_key": "has space"}, None),
        ({"api_key": ""}, {"api_key": ["This field may not be blank."]}),
    ],
)
def test_create_tenant_refuses_bad_options(
    server: MockServer, anon: httpx.Client, body: dict, errors: dict | None
) -> None:
    key = new_key()
    response = anon.post("/_mock/tenants", json={"api_key": key, **body})
    assert response.status_code == 400, response.text
    if errors is not None:
        assert response.json() == errors
    else:
        assert set(response.json()) == set(body)
    assert key not in server.registry.key_configs
    assert key not in {t.api_key for t in server.registry.tenants()}


def test_create_tenant_refuses_an_application_id_in_use(anon: httpx.Client) -> None:
    taken = make_tenant(anon)["application_id"]
    response = anon.post("/_mock/tenants", json={"application_id": taken})
    assert response.status_code == 400
    assert response.json() == {"application_id": ["Another tenant already uses this application_id."]}


def test_create_tenant_registers_its_key_when_keys_are_restricted() -> None:
    with MockServer(api_keys=["sk_test_only"]) as restricted, httpx.Client(base_url=restricted.url) as anon:
        assert anon.get("/_mock/tenant", headers={"x-api-key": new_key()}).status_code == 401
        view = make_tenant(anon)
        headers = {"x-api-key": view["api_key"]}
        assert anon.get("/_mock/tenant", headers=headers).status_code == 200
        created = anon.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW}, headers=headers)
        assert created.status_code == 201
        assert anon.get("/_mock/tenant", headers={"x-api-key": "sk_test_only"}).status_code == 200


# ---------------------------------------------------------------- POST /_mock/reset

def test_reset_empties_one_tenant_or_all(server: MockServer, client: httpx.Client) -> None:
    create_session(client)
    with as_client(server, new_key()) as other:
        create_session(other)
        response = client.post("/_mock/reset")
        assert response.status_code == 200
        assert response.json()["tenant"]["sessions"] == 0
        assert client.get("/_mock/sessions").json()["count"] == 0
        assert other.get("/_mock/sessions").json()["count"] == 1
        # ?all=true empties every tenant (run against a private server: it is server-wide)
    with MockServer() as private, as_client(private, new_key()) as one, as_client(private, new_key()) as two:
        create_session(one)
        create_session(two)
        assert httpx.post(private.url + "/_mock/reset?all=true").json() == {"reset": "all"}
        assert one.get("/_mock/sessions").json()["count"] == 0
        assert two.get("/_mock/sessions").json()["count"] == 0


# ---------------------------------------------------------------- sessions

def test_list_sessions_is_compact_and_filters(client: httpx.Client) -> None:
    a1 = create_session(client, vendor_data="a")
    b = create_session(client, vendor_data="b")
    a2 = create_session(client, vendor_data="a", workflow_id="d1d17000-0000-4000-8000-000000000002")
    client.post(f"/_mock/sessions/{b['session_id']}/status", json={"status": "Approved"})
    listed = client.get("/_mock/sessions").json()
    assert listed["count"] == 3
    assert [r["session_id"] for r in listed["results"]] == [a1["session_id"], b["session_id"], a2["session_id"]]
    row = listed["results"][0]
    assert row == {
        "session_id": a1["session_id"],
        "session_number": a1["session_number"],
        "status": "Not Started",
        "vendor_data": "a",
        "workflow_id": KYC_WORKFLOW,
        "created_at": row["created_at"],
        "session_token": a1["session_token"],
        "url": a1["url"],
    }
    assert row["created_at"] == client.get("/_mock/clock").json()["now"]
    assert client.get("/_mock/sessions", params={"vendor_data": "a"}).json()["count"] == 2
    approved = client.get("/_mock/sessions", params={"status": "Approved"}).json()
    assert [r["session_id"] for r in approved["results"]] == [b["session_id"]]


@pytest.mark.parametrize("status", SESSION_STATUSES)
def test_force_any_status_fires_the_event(server: MockServer, client: httpx.Client, api_key: str, status: str) -> None:
    session = create_session(client)
    events: list = []
    server.registry.get(api_key).events.subscribe(events.append)
    response = client.post(f"/_mock/sessions/{session['session_id']}/status", json={"status": status})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == status
    assert [(e.webhook_type, e.session_id, e.status) for e in events] == [
        (STATUS_UPDATED, session["session_id"], status)
    ]
    decision = client.get(f"/v3/session/{session['session_id']}/decision/")
    assert decision.status_code == 200
    assert decision.json()["status"] == status
    listed = client.get("/v3/sessions/", params={"status": status}).json()
    assert [r["session_id"] for r in listed["results"]] == [session["session_id"]]


def test_force_status_refuses_bad_input(client: httpx.Client) -> None:
    session = create_session(client)
    path = f"/_mock/sessions/{session['session_id']}/status"
    bad = client.post(path, json={"status": "Done"})
    assert bad.status_code == 400
    assert bad.json() == {"status": ['"Done" is not a valid choice.']}
    assert client.post(path, json={}).json() == {"status": ["This field is required."]}
    assert client.get("/_mock/sessions").json()["results"][0]["status"] == "Not Started"
    missing = client.post("/_mock/sessions/00000000-0000-4000-8000-000000000000/status", json={"status": "Approved"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not found."}
    html = client.post("/_mock/sessions/NOT-A-UUID/status", json={"status": "Approved"})
    assert html.status_code == 404 and html.headers["content-type"].startswith("text/html")


def test_admin_routes_need_a_tenant(anon: httpx.Client) -> None:
    for method, path in [("GET", "/_mock/sessions"), ("GET", "/_mock/requests"), ("DELETE", "/_mock/requests"),
                         ("GET", "/_mock/ratelimits"), ("POST", "/_mock/reset")]:
        response = anon.request(method, path)
        assert response.status_code == 403, (method, path)


# ---------------------------------------------------------------- the request journal

def journal(client: httpx.Client, **params: object) -> list[dict]:
    response = client.get("/_mock/requests", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["results"])
    return body["results"]


def test_journal_records_each_request_with_bodies(client: httpx.Client) -> None:
    session = create_session(client, vendor_data="journal-user")
    client.get(f"/v3/session/{session['session_id']}/decision/", params={"include": "events"})
    client.get("/_mock/requests")  # the journal's own route is not recorded
    entries = journal(client)
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/v3/session/", 201),
        ("GET", f"/v3/session/{session['session_id']}/decision/", 200),
    ]
    created, decision = entries
    assert set(created) == {
        "id", "method", "path", "query", "status", "duration_ms", "at", "request_body", "request_truncated",
        "response_body", "response_truncated",
    }
    assert '"vendor_data":"journal-user"' in created["request_body"].replace(" ", "")
    assert session["session_id"] in created["response_body"]
    assert created["at"] == client.get("/_mock/clock").json()["now"]
    assert created["duration_ms"] >= 0
    assert created["id"] < decision["id"]
    assert decision["query"] == "include=events"
    assert decision["request_body"] == ""


def test_journal_filters(client: httpx.Client) -> None:
    client.post("/_mock/clock/set", json={"now": "2030-01-01T00:00:00Z"})
    session = create_session(client)
    advance(client, 60)
    client.get(f"/v3/session/{session['session_id']}/decision/")
    client.get("/v3/session/00000000-0000-4000-8000-000000000000/decision/")
    advance(client, 60)
    client.get("/v3/sessions/")
    client.post("/v3/session/", json={})

    def paths(**params: object) -> list[tuple[str, str, int]]:
        return [(e["method"], e["path"], e["status"]) for e in journal(client, **params)]

    assert paths(method="post", path="/v3/") == [("POST", "/v3/session/", 201), ("POST", "/v3/session/", 400)]
    assert [p for _, p, _ in paths(path="/v3/session/*/decision/")] == [
        f"/v3/session/{session['session_id']}/decision/", "/v3/session/00000000-0000-4000-8000-000000000000/decision/"
    ]
    assert paths(status="404") == [("GET", "/v3/session/00000000-0000-4000-8000-000000000000/decision/", 404)]
    assert [s for *_, s in paths(status="4xx", path="/v3")] == [404, 400]
    assert [s for *_, s in paths(status="201,400", path="/v3")] == [201, 400]
    assert paths(since="2030-01-01T00:01:00Z", until="2030-01-01T00:01:59Z", path="/v3") == [
        ("GET", f"/v3/session/{session['session_id']}/decision/", 200),
        ("GET", "/v3/session/00000000-0000-4000-8000-000000000000/decision/", 404),
    ]
    assert paths(path="/v3", limit=2) == [("GET", "/v3/sessions/", 200), ("POST", "/v3/session/", 400)]
    assert paths(path="/v3", limit=0) == []
    # admin calls with the key are journaled too
    assert ("POST", "/_mock/clock/advance", 200) in paths(path="/_mock/")


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"limit": "many"}, {"limit": ["A valid integer is required."]}),
        ({"limit": "-1"}, {"limit": ["Ensure this value is greater than or equal to 0."]}),
        ({"since": "soon"}, {"since": ["Datetime has wrong format."]}),
        ({"until": "2030-13-01"}, {"until": ["Datetime has wrong format."]}),
        ({"status": "teapot"}, None),
    ],
)
def test_journal_refuses_bad_filters(client: httpx.Client, params: dict, errors: dict | None) -> None:
    response = client.get("/_mock/requests", params=params)
    assert response.status_code == 400
    if errors:
        assert response.json() == errors
    else:
        assert list(response.json()) == list(params)


def test_journal_clear(client: httpx.Client) -> None:
    create_session(client)
    client.get("/v3/sessions/")
    cleared = client.delete("/_mock/requests")
    assert cleared.status_code == 200
    assert cleared.json() == {"cleared": 2}
    assert journal(client) == []
    client.get("/v3/sessions/")
    assert [e["path"] for e in journal(client)] == ["/v3/sessions/"]


def test_journal_is_per_tenant(server: MockServer, client: httpx.Client) -> None:
    create_session(client)
    with as_client(server, new_key()) as other:
        other.get("/v3/sessions/")
        assert [e["path"] for e in journal(other)] == ["/v3/sessions/"]
    assert [e["path"] for e in journal(client)] == ["/v3/session/"]


def test_journal_records_hosted_traffic_by_session_token(anon: httpx.Client, client: httpx.Client) -> None:
    session = create_session(client)
    client.delete("/_mock/requests")
    page = anon.get(f"/session/{session['session_token']}")
    assert page.status_code == 200
    entries = journal(client)
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", f"/session/{session['session_token']}", 200)
    ]
    assert entries[0]["response_body"].lstrip().lower().startswith("<!doctype html")


def test_journal_truncates_big_bodies(client: httpx.Client) -> None:
    big = {"workflow_id": KYC_WORKFLOW, "vendor_data": "v", "metadata": {"blob": "x" * 10_000}}
    client.post("/v3/session/", json=big)
    entry = journal(client)[0]
    assert entry["request_truncated"] is True
    assert len(entry["request_body"].encode()) == 4096
    assert entry["request_body"].startswith('{"workflow_id"')


def test_journal_size_is_bounded_and_can_be_switched_off() -> None:
    with MockServer(journal_size=5) as small, as_client(small, new_key()) as http:
        for offset in range(8):
            http.get("/v3/sessions/", params={"offset": offset})
        entries = journal(http)
        assert [e["query"] for e in entries] == [f"offset={n}" for n in range(3, 8)]
    with MockServer(journal_size=0) as off, as_client(off, new_key()) as http:
        http.get("/v3/sessions/")
        assert journal(http) == []


# ---------------------------------------------------------------- the admin token

@pytest.fixture(scope="module")
def guarded() -> Iterator[MockServer]:
    with MockServer(admin_token="s3cret-token") as running:
        yield running


ADMIN_PATHS = [
    ("GET", "/_mock/tenant"), ("POST", "/_mock/tenants"), ("POST", "/_mock/reset"), ("GET", "/_mock/clock"),
    ("GET", "/_mock/requests"), ("DELETE", "/_mock/requests"), ("GET", "/_mock/sessions"),
    ("GET", "/_mock/ratelimits"),
    # routes other modules add are guarded by prefix too
    ("GET", "/_mock/webhooks"), ("POST", "/_mock/webhook"), ("GET", "/_mock/phone/+15555550100/code"),
    ("GET", "/_mock/does-not-exist"), ("GET", "/_mock"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_PATHS)
def test_admin_token_guards_every_mock_path(guarded: MockServer, method: str, path: str) -> None:
    # Each case speaks for its own client address (X-Forwarded-For, trusted from loopback), so the
    # throttle of wrong tokens (tests/test_admin_guard.py) leaves every answer a 401.
    client = f"10.0.0.{ADMIN_PATHS.index((method, path)) + 1}"
    headers = {"x-api-key": new_key(), "x-forwarded-for": client}
    for extra in ({}, {"authorization": "Bearer wrong"}, {"x-admin-token": "wrong"}, {"authorization": "s3cret-token"}):
        response = httpx.request(method, guarded.url + path, headers={**headers, **extra})
        assert response.status_code == 401, (extra, response.text)
        assert response.json() == {"detail": "Admin token required."}


def test_admin_token_accepted_as_bearer_or_header(guarded: MockServer) -> None:
    key = new_key()
    for auth in ({"authorization": "Bearer s3cret-token"}, {"x-admin-token": "s3cret-token"}):
        response = httpx.get(guarded.url + "/_mock/tenant", headers={"x-api-key": key, **auth})
        assert response.status_code == 200, response.text
    created = httpx.post(guarded.url + "/_mock/tenants", json={}, headers={"x-admin-token": "s3cret-token"})
    assert created.status_code == 201


def test_admin_token_leaves_the_didit_api_alone(guarded: MockServer) -> None:
    key = new_key()
    created = httpx.post(guarded.url + "/v3/session/", json={"workflow_id": KYC_WORKFLOW}, headers={"x-api-key": key})
    assert created.status_code == 201
    assert httpx.get(guarded.url + "/system/healthcheck").status_code == 200
    token = created.json()["session_token"]
    assert httpx.get(guarded.url + f"/session/{token}").status_code == 200
    # unauthorised admin calls are not journaled; authorised ones are
    httpx.get(guarded.url + "/_mock/clock", headers={"x-api-key": key})
    entries = httpx.get(guarded.url + "/_mock/requests", headers={"x-api-key": key, "x-admin-token": "s3cret-token"})
    assert [e["path"] for e in entries.json()["results"]] == ["/v3/session/", f"/session/{token}"]


# ---------------------------------------------------------------- bind address and settings

def test_server_binds_loopback_unless_told_otherwise(server: MockServer) -> None:
    assert Settings().host == "127.0.0.1"
    assert Settings.from_env(environ={}).host == "127.0.0.1"
    args = build_parser().parse_args(["serve"])
    assert args.host is None  # no flag: the setting's default applies
    assert Settings.from_env(environ={}, host=args.host).host == "127.0.0.1"
    assert Settings.from_env(environ={"DIDIT_MOCK_HOST": "0.0.0.0"}).host == "0.0.0.0"
    assert Settings.from_env(environ={}, host="0.0.0.0").host == "0.0.0.0"
    assert server.settings.host == "127.0.0.1" and server.url.startswith("http://127.0.0.1:")


def test_harness_settings_from_env_and_flags() -> None:
    settings = Settings.from_env(environ={
        "DIDIT_MOCK_JOURNAL_SIZE": "50", "DIDIT_MOCK_RATE_LIMIT_SCALE": "0.1", "DIDIT_MOCK_RATE_LIMITS": "false",
        "DIDIT_MOCK_DECISION_RATE_LIMIT": "100", "DIDIT_MOCK_ADMIN_TOKEN": "tok",
    })
    assert (settings.journal_size, settings.rate_limit_scale, settings.rate_limits) == (50, 0.1, False)
    assert (settings.decision_rate_limit, settings.admin_token) == (100, "tok")
    args = build_parser().parse_args([
        "serve", "--no-rate-limits", "--rate-limit-scale", "0.5", "--decision-rate-limit", "100",
        "--journal-size", "10", "--admin-token", "t",
    ])
    assert (args.no_rate_limits, args.rate_limit_scale, args.decision_rate_limit) == (True, 0.5, 100)
    assert (args.journal_size, args.admin_token) == (10, "t")


def test_clock_view_is_iso(client: httpx.Client) -> None:
    now = client.get("/_mock/clock").json()
    parsed = datetime.fromisoformat(now["now"].replace("Z", "+00:00"))
    assert parsed.tzinfo is not None and parsed.astimezone(timezone.utc).timestamp() == pytest.approx(now["timestamp"])
