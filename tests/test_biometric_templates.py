"""Biometric templates: left by a session deleted with face retention; listed, counted, got, purged."""

from __future__ import annotations

from pathlib import Path

import httpx

from didit_mock.server import MockServer
from tests.conftest import advance, complete, create_session, new_key

T = "/v3/biometric-templates/"


def retained(client: httpx.Client, vendor_data: str, days: int = 30, **extra: object) -> str:
    session = create_session(client, vendor_data=vendor_data)
    complete(client, session["session_id"], "Approved")
    deleted = client.request("DELETE", f"/v3/session/{session['session_id']}/delete/",
                             json={"retain_face_embeddings": True, "face_retention_days": days, **extra})
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["face_retention_outcome"] == "retained_with_user"
    return str(deleted.json()["biometric_template_uuid"])


def test_a_retained_deletion_leaves_a_template(client: httpx.Client) -> None:
    template_id = retained(client, "user-42", instruction_id="cleanup-1")
    template = client.get(f"{T}{template_id}/").json()
    assert template["uuid"] == template_id and template["vendor_data"] == "user-42"
    assert template["status"] == "active" and template["source_type"] == "session_delete"
    assert template["retention_override"] is True and template["instruction_id"] == "cleanup-1"
    assert template["instruction_class"] == "operational_session_delete"
    assert template["provenance_reference"] != template_id and template["purged_at"] is None
    listing = client.get(T).json()
    assert listing["count"] == 1 and listing["results"] == [template]
    assert client.get(f"{T}count/").json() == {"count": 1}
    # A deletion without retention leaves nothing.
    plain = create_session(client, vendor_data="user-43")
    complete(client, plain["session_id"], "Approved")
    client.delete(f"/v3/session/{plain['session_id']}/delete/")
    assert client.get(f"{T}count/").json() == {"count": 1}


def test_filters_and_ordering(client: httpx.Client) -> None:
    first = retained(client, "Alice-1")
    advance(client, 60)
    second = retained(client, "bob-2", days=5)
    assert [t["uuid"] for t in client.get(T).json()["results"]] == [second, first]
    assert [t["uuid"] for t in client.get(T, params={"ordering": "expires_at"}).json()["results"]] == [second, first]
    assert client.get(f"{T}count/", params={"vendor_data": "alice"}).json() == {"count": 1}
    user = client.get(f"{T}{first}/").json()["vendor_user_uuid"]
    assert client.get(T, params={"vendor_user_uuid": user}).json()["results"][0]["uuid"] == first
    retained_at = client.get(f"{T}{second}/").json()["retained_at"]
    assert client.get(f"{T}count/", params={"retained_from": retained_at}).json() == {"count": 1}
    bad = client.get(T, params={"retained_from": retained_at, "retained_to": "2000-01-01T00:00:00Z"})
    assert bad.status_code == 400 and bad.json() == {"retained_to": ["Must be on or after retained_from."]}
    assert client.get(f"{T}count/", params={"status": "purged"}).status_code == 400


def test_purge_and_bulk_purge(client: httpx.Client) -> None:
    one, two, three = (retained(client, f"p-{i}") for i in range(3))
    assert client.delete(f"{T}{one}/").json() == {"uuid": one, "outcome": "purged"}
    assert client.delete(f"{T}{one}/").json() == {"uuid": one, "outcome": "already_purged"}
    missing = client.get(f"{T}{one}/")
    assert missing.status_code == 404 and missing.json() == {"detail": "Biometric template not found."}
    assert client.post(f"{T}delete/", json={}).json() == {
        "template_uuids": ["This field is required unless delete_all is true."]}
    results = client.post(f"{T}delete/", json={"template_uuids": [one, two]}).json()["results"]
    assert results == [{"uuid": one, "outcome": "already_purged"}, {"uuid": two, "outcome": "purged"}]
    everything = client.post(f"{T}delete/", json={"delete_all": True}).json()["results"]
    assert everything == [{"uuid": three, "outcome": "purged"}]
    assert client.get(f"{T}count/").json() == {"count": 0}


def test_templates_expire_on_the_tenant_clock(client: httpx.Client) -> None:
    template_id = retained(client, "short", days=1)
    advance(client, 86_400)
    assert client.get(f"{T}{template_id}/").status_code == 404
    assert client.get(f"{T}count/").json() == {"count": 0}


def test_templates_survive_a_state_file_restart(tmp_path: Path) -> None:
    state_file, key = tmp_path / "state.json", new_key()
    with MockServer(state_file=str(state_file), freeze_clock=True) as first, \
            httpx.Client(base_url=first.url, headers={"x-api-key": key}, timeout=10) as http:
        template_id = retained(http, "kept")
        before = http.get(f"{T}{template_id}/").json()
    with MockServer(state_file=str(state_file), freeze_clock=True) as second, \
            httpx.Client(base_url=second.url, headers={"x-api-key": key}, timeout=10) as http:
        assert http.get(f"{T}{template_id}/").json() == before


def test_templates_are_per_tenant(client: httpx.Client, server: MockServer) -> None:
    template_id = retained(client, "mine")
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}, timeout=10) as other:
        assert other.get(f"{T}{template_id}/").status_code == 404
        assert other.delete(f"{T}{template_id}/").status_code == 404
        assert other.get(f"{T}count/").json() == {"count": 0}
    assert client.get(f"{T}{template_id}/").status_code == 200
