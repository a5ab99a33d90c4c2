"""Limits a shared instance needs: a cap on tenants, a paged state export, header limits, a body-read timeout."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from didit_mock.domain.errors import DiditError
from didit_mock.domain.tenant import TenantLimitReached, TenantRegistry
from didit_mock.server import MockServer

from .conftest import KYC_WORKFLOW, create_session, new_key


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------- the tenant cap

def test_past_the_cap_the_least_recently_used_idle_tenant_makes_room() -> None:
    wall = Wall()
    registry = TenantRegistry(wall=wall, max_tenants=3, idle_after=60)
    a, b, c = (registry.get(k) for k in ("sk_a", "sk_b", "sk_c"))
    assert a is not None and b is not None and c is not None
    wall.now += 10
    with pytest.raises(TenantLimitReached) as refused:
        registry.get("sk_d")  # every tenant was used in the last minute
    assert refused.value.status_code == 503
    assert "--max-tenants" in refused.value.body["detail"]
    assert refused.value.headers["Retry-After"] == "50"
    assert [t.api_key for t in registry.tenants()] == ["sk_a", "sk_b", "sk_c"]

    wall.now += 60
    assert registry.get("sk_a") is a  # used again: now the most recent
    d = registry.get("sk_d")  # sk_b is the least recently used and idle: it goes
    assert d is not None
    assert [t.api_key for t in registry.tenants()] == ["sk_a", "sk_c", "sk_d"]
    assert registry.by_application(b.application_id) is None
    assert registry.get("sk_e") is not None  # then sk_c, idle as long
    assert [t.api_key for t in registry.tenants()] == ["sk_a", "sk_d", "sk_e"]
    with pytest.raises(TenantLimitReached):
        registry.get("sk_b")  # the rest were used just now: a dropped tenant comes back only with room
    wall.now += 60
    fresh_b = registry.get("sk_b")
    assert fresh_b is not None and fresh_b is not b and fresh_b.application_id == b.application_id  # empty again
    assert [t.api_key for t in registry.tenants()] == ["sk_d", "sk_e", "sk_b"]


def test_a_hosted_page_visit_keeps_its_tenant() -> None:
    wall = Wall()
    registry = TenantRegistry(wall=wall, max_tenants=2, idle_after=60)
    a = registry.get("sk_a")
    assert a is not None
    registry.index_token("tok-a", a)
    registry.get("sk_b")
    wall.now += 61
    assert registry.by_token("tok-a") is a
    registry.get("sk_c")
    assert [t.api_key for t in registry.tenants()] == ["sk_a", "sk_c"]


def test_no_cap_keeps_every_tenant() -> None:
    registry = TenantRegistry(max_tenants=0)
    for n in range(50):
        assert registry.get(f"sk_{n}") is not None
    assert len(registry.tenants()) == 50


@pytest.fixture
def capped() -> Iterator[tuple[MockServer, Wall]]:
    with MockServer(max_tenants=2, freeze_clock=True) as running:
        wall = Wall(time.time())
        running.registry.wall = wall
        yield running, wall


def test_a_full_server_refuses_a_new_key_with_a_clear_error(capped: tuple[MockServer, Wall]) -> None:
    server, wall = capped
    first, second, third = new_key(), new_key(), new_key()
    for key in (first, second):
        with httpx.Client(base_url=server.url, headers={"x-api-key": key}, timeout=10) as http:
            create_session(http)
    refused = httpx.post(server.url + "/v3/session/", json={"workflow_id": KYC_WORKFLOW},
                         headers={"x-api-key": third})
    assert refused.status_code == 503, refused.text
    assert "at most 2 tenants" in refused.json()["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    admin = httpx.get(server.url + "/_mock/tenant", headers={"x-api-key": third})
    assert admin.status_code == 503  # the admin API names tenants the same way
    # The tenants in use are untouched; once the first one is idle, it makes room.
    assert httpx.get(server.url + "/v3/sessions/", headers={"x-api-key": second}).json()["count"] == 1
    wall.now += 61
    assert httpx.get(server.url + "/v3/sessions/", headers={"x-api-key": second}).json()["count"] == 1
    created = httpx.post(server.url + "/v3/session/", json={"workflow_id": KYC_WORKFLOW},
                         headers={"x-api-key": third})
    assert created.status_code == 201, created.text
    kept = [t["api_key"] for t in httpx.get(server.url + "/_mock/state?all=true").json()["tenants"]]
    assert kept == [second, third]


def test_the_cap_is_a_setting() -> None:
    from didit_mock.cli import build_parser
    from didit_mock.settings import Settings

    assert Settings().max_tenants == 10_000
    assert Settings.from_env({"DIDIT_MOCK_MAX_TENANTS": "25"}).max_tenants == 25
    args = build_parser().parse_args(["serve", "--max-tenants", "7"])
    assert args.max_tenants == 7
    assert issubclass(TenantLimitReached, DiditError)
