"""Lists: system blocklists shared with /v3/blocklist/, allowlists and custom lists, typed entries,
and the effect of a blocking entry on later sessions."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx

from didit_mock.server import MockServer
from tests.conftest import new_key
from tests.test_blocklist import COMPLETE_KYC, finished

L = "/v3/lists/"


def system_list(client: httpx.Client, entry_type: str) -> dict:
    found = client.get(L, params={"list_type": "blocklist", "entry_type": entry_type}).json()["results"]
    assert len(found) == 1 and found[0]["is_system"] is True
    return found[0]


def test_system_lists_exist_and_cannot_change(client: httpx.Client) -> None:
    page = client.get(L).json()
    assert page["count"] == 11
    types = {(r["list_type"], r["entry_type"]) for r in page["results"]}
    assert ("custom", "country") in types and ("blocklist", "key") not in types
    assert {r["entry_type"] for r in page["results"] if r["list_type"] == "blocklist"} == {
        "face", "document", "phone", "email", "ip_address", "device_fingerprint", "wallet_address",
        "bank_account", "user", "business"}
    face = system_list(client, "face")
    assert client.patch(f"{L}{face['uuid']}/", json={"name": "x"}).status_code == 403
    assert client.delete(f"{L}{face['uuid']}/").status_code == 403
    assert client.get(L, params={"list_type": "denylist"}).status_code == 400


def test_custom_lists_crud_and_typed_entries(client: httpx.Client) -> None:
    created = client.post(L, json={"name": "VIP", "list_type": "allowlist", "entry_type": "email"})
    assert created.status_code == 201, created.text
    vip = created.json()
    assert vip["entry_count"] == 0 and vip["last_entry_added_at"] is None and vip["is_system"] is False
    assert client.post(L, json={"name": "vip", "list_type": "custom", "entry_type": "email"}).status_code == 400
    assert client.post(L, json={"name": "B", "list_type": "blocklist", "entry_type": "email"}).status_code == 400
    entries = f"{L}{vip['uuid']}/entries/"
    bad = client.post(entries, json={"value": "not-an-email"})
    assert bad.status_code == 400 and bad.json() == {"value": ["Enter a valid email address."]}
    entry = client.post(entries, json={"value": "Jane.Doe@Acme.dev", "comment": "good"}).json()
    assert entry["value"] == "jane.doe@acme.dev" and entry["added_by"] == "api"
    assert client.post(entries, json={"value": "jane.doe@acme.dev"}).status_code == 400
    assert client.post(entries, json={"comment": "nothing"}).status_code == 400
    got = client.get(f"{L}{vip['uuid']}/").json()
    assert got["entry_count"] == 1 and got["last_entry_added_at"] == entry["created_at"]
    assert client.get(entries, params={"search": "jane"}).json()["count"] == 1
    assert client.get(entries, params={"search": "zed"}).json()["count"] == 0
    renamed = client.patch(f"{L}{vip['uuid']}/", json={"name": "VIP customers", "description": "d"}).json()
    assert renamed["name"] == "VIP customers" and renamed["description"] == "d"
    assert client.delete(f"{entries}{entry['uuid']}/").status_code == 204
    assert client.delete(f"{entries}{entry['uuid']}/").status_code == 404
    assert client.delete(f"{L}{vip['uuid']}/").status_code == 204
    assert client.get(f"{L}{vip['uuid']}/").status_code == 404


def test_values_are_checked_per_entry_type(client: httpx.Client) -> None:
    def entry(entry_type: str, value: str) -> httpx.Response:
        made = client.post(L, json={"name": f"l-{entry_type}", "list_type": "custom", "entry_type": entry_type})
        lst = made.json() if made.status_code == 201 else next(
            r for r in client.get(L, params={"entry_type": entry_type, "list_type": "custom"}).json()["results"])
        return client.post(f"{L}{lst['uuid']}/entries/", json={"value": value})

    assert entry("phone", "+1 415 555 2671").json()["value"] == "+14155552671"
    assert entry("phone", "12").status_code == 400
    assert entry("ip_address", "10.0.0.0/8").json()["value"] == "10.0.0.0/8"
    assert entry("ip_address", "300.1.1.1").status_code == 400
    assert entry("device_fingerprint", "abc").status_code == 400
    assert entry("device_fingerprint", "fp-1234:abcd").status_code == 201
    assert entry("country", "es").json()["value"] == "ESP"
    assert entry("country", "Spain").status_code == 400
    assert entry("wallet_address", "0xabc").status_code == 201


def test_one_store_two_apis(client: httpx.Client) -> None:
    decision = finished(client, vendor_data="person-l1")
    client.post("/v3/blocklist/add/", json={"session_id": decision["session_id"], "blocklist_face": True})
    face = system_list(client, "face")
    assert face["entry_count"] == 1
    rows = client.get(f"{L}{face['uuid']}/entries/").json()["results"]
    assert rows[0]["reference_session_id"] == decision["session_id"]
    # Deleting the entry through the lists API removes it from the blocklist feed too.
    assert client.delete(f"{L}{face['uuid']}/entries/{rows[0]['uuid']}/").status_code == 204
    assert client.get("/v3/blocklist/").json()["count"] == 0
    # And adding by reference session through the lists API shows in the blocklist feed.
    added = client.post(f"{L}{face['uuid']}/entries/", json={"reference_session_id": decision["session_id"]})
    assert added.status_code == 201, added.text
    assert client.get("/v3/blocklist/").json()["results"][0]["session_id"] == decision["session_id"]
    assert finished(client, vendor_data="person-l1")["status"] == "Declined"


def test_an_email_entry_declines_later_sessions_until_deleted(client: httpx.Client) -> None:
    address = "listed.person@acme.dev"
    emails = system_list(client, "email")
    entry = client.post(f"{L}{emails['uuid']}/entries/", json={"value": address}).json()
    second = finished(client, vendor_data="person-l2", workflow_id=COMPLETE_KYC, contact_details={"email": address})
    assert second["status"] == "Declined"
    assert "EMAIL_IN_BLOCKLIST" in {w["risk"] for w in second["email_verifications"][0]["warnings"]}
    other = finished(client, vendor_data="person-l3", workflow_id=COMPLETE_KYC,
                     contact_details={"email": "someone@acme.dev"})
    assert other["status"] == "Approved"
    # An allowlist or custom list with the value has no such effect.
    assert client.delete(f"{L}{emails['uuid']}/entries/{entry['uuid']}/").status_code == 204
    third = finished(client, vendor_data="person-l2", workflow_id=COMPLETE_KYC, contact_details={"email": address})
    assert third["status"] == "Approved"


def test_face_upload(client: httpx.Client) -> None:
    face = system_list(client, "face")
    jpeg = base64.b64encode(b"\xff\xd8\xff\xe0" + b"0" * 64).decode()
    made = client.post(f"{L}{face['uuid']}/entries/face-upload/", json={"image": jpeg, "comment": "fraud"})
    assert made.status_code == 201, made.text
    assert made.json()["value"] == made.json()["reference_object_uuid"]
    text = base64.b64encode(b"hello world").decode()
    assert client.post(f"{L}{face['uuid']}/entries/face-upload/", json={"image": text}).status_code == 400
    emails = system_list(client, "email")
    assert client.post(f"{L}{emails['uuid']}/entries/face-upload/", json={"image": jpeg}).status_code == 400


def test_lists_are_per_tenant(client: httpx.Client, server: MockServer) -> None:
    mine = client.post(L, json={"name": "Mine", "list_type": "custom", "entry_type": "key"}).json()
    with httpx.Client(base_url=server.url, headers={"x-api-key": new_key()}, timeout=10) as other:
        assert other.get(f"{L}{mine['uuid']}/").status_code == 404
        assert other.get(L).json()["count"] == 11


def test_lists_survive_a_state_file_restart(tmp_path: Path) -> None:
    state_file, key = tmp_path / "state.json", new_key()
    with MockServer(state_file=str(state_file), freeze_clock=True) as first, \
            httpx.Client(base_url=first.url, headers={"x-api-key": key}, timeout=10) as http:
        made = http.post(L, json={"name": "Kept", "list_type": "custom", "entry_type": "key"}).json()
        http.post(f"{L}{made['uuid']}/entries/", json={"value": "k-1"})
        before = http.get(L).json()
    with MockServer(state_file=str(state_file), freeze_clock=True) as second, \
            httpx.Client(base_url=second.url, headers={"x-api-key": key}, timeout=10) as http:
        assert http.get(L).json() == before
        assert http.get(f"{L}{made['uuid']}/entries/").json()["results"][0]["value"] == "k-1"


def test_phone_and_email_entries_block_otp(client: httpx.Client) -> None:
    from tests.otp_helpers import check_email, email_code, send_email, send_phone

    number, address = "+14155550199", "listed.otp@acme.dev"
    phones, emails = system_list(client, "phone"), system_list(client, "email")
    entry = client.post(f"{L}{phones['uuid']}/entries/", json={"value": number}).json()
    client.post(f"{L}{emails['uuid']}/entries/", json={"value": address})
    assert send_phone(client, number)["status"] == "Blocked"
    send_email(client, address)
    result = check_email(client, address, email_code(client, address)["code"])
    assert result["status"] == "Declined"
    client.delete(f"{L}{phones['uuid']}/entries/{entry['uuid']}/")
    assert send_phone(client, number)["status"] != "Blocked"
