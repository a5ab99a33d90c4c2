"""Contract cases of the lists (`/v3/lists/`)."""

from __future__ import annotations

import base64

import httpx

from tests.contract.test_contract import UNKNOWN, WAIVED, Ctx, case

L = "/v3/lists/"
ONE = "/v3/lists/{list_uuid}/"
ENTRIES = "/v3/lists/{list_uuid}/entries/"
ENTRY = "/v3/lists/{list_uuid}/entries/{entry_uuid}/"
FACE = "/v3/lists/{list_uuid}/entries/face-upload/"
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + b"0" * 32).decode()

WAIVED.update({
    ("POST", FACE, "503"): "no face analysis that can be down (scenario faults can inject a 503)",
})


def _custom(c: Ctx, entry_type: str = "email") -> str:
    made = c.client.post(L, json={"name": f"c-{entry_type}", "list_type": "custom", "entry_type": entry_type})
    assert made.status_code == 201, made.text
    return str(made.json()["uuid"])


def _system(c: Ctx, entry_type: str) -> str:
    return str(c.client.get(L, params={"list_type": "blocklist", "entry_type": entry_type}).json()["results"][0]["uuid"])


def _entry(c: Ctx) -> tuple[str, str]:
    list_uuid = _custom(c)
    made = c.client.post(f"{L}{list_uuid}/entries/", json={"value": "a@acme.dev"})
    return list_uuid, str(made.json()["uuid"])


case("GET", L, "200")(lambda c: c.client.get(L))
case("GET", L, "400")(lambda c: c.client.get(L, params={"list_type": "denylist"}))
case("GET", L, "401")(lambda c: c.refused.get(L))
case("GET", L, "403")(lambda c: c.anon.get(L))
case("POST", L, "201")(lambda c: c.client.post(L, json={"name": "VIP", "list_type": "allowlist", "entry_type": "email"}))
case("POST", L, "400")(lambda c: c.client.post(L, json={"list_type": "allowlist", "entry_type": "email"}))
case("POST", L, "401")(lambda c: c.refused.post(L, json={"name": "x", "list_type": "custom", "entry_type": "key"}))
case("POST", L, "403")(lambda c: c.anon.post(L, json={"name": "x", "list_type": "custom", "entry_type": "key"}))

case("GET", ONE, "200")(lambda c: c.client.get(f"{L}{_custom(c)}/"))
case("GET", ONE, "401")(lambda c: c.refused.get(f"{L}{UNKNOWN}/"))
case("GET", ONE, "403")(lambda c: c.anon.get(f"{L}{UNKNOWN}/"))
case("GET", ONE, "404")(lambda c: c.client.get(f"{L}{UNKNOWN}/"))
case("PATCH", ONE, "200")(lambda c: c.client.patch(f"{L}{_custom(c)}/", json={"name": "renamed"}))
case("PATCH", ONE, "400")(lambda c: c.client.patch(f"{L}{_custom(c)}/", json={"name": ""}))
case("PATCH", ONE, "401")(lambda c: c.refused.patch(f"{L}{UNKNOWN}/", json={"name": "x"}))
case("PATCH", ONE, "403")(lambda c: c.client.patch(f"{L}{_system(c, 'face')}/", json={"name": "x"}))
case("PATCH", ONE, "404")(lambda c: c.client.patch(f"{L}{UNKNOWN}/", json={"name": "x"}))
case("DELETE", ONE, "204")(lambda c: c.client.delete(f"{L}{_custom(c)}/"))
case("DELETE", ONE, "401")(lambda c: c.refused.delete(f"{L}{UNKNOWN}/"))
case("DELETE", ONE, "403")(lambda c: c.client.delete(f"{L}{_system(c, 'face')}/"))
case("DELETE", ONE, "404")(lambda c: c.client.delete(f"{L}{UNKNOWN}/"))

case("GET", ENTRIES, "200")(lambda c: c.client.get(f"{L}{_entry(c)[0]}/entries/"))
case("GET", ENTRIES, "401")(lambda c: c.refused.get(f"{L}{UNKNOWN}/entries/"))
case("GET", ENTRIES, "403")(lambda c: c.anon.get(f"{L}{UNKNOWN}/entries/"))
case("GET", ENTRIES, "404")(lambda c: c.client.get(f"{L}{UNKNOWN}/entries/"))
case("POST", ENTRIES, "201")(lambda c: c.client.post(f"{L}{_custom(c)}/entries/", json={"value": "a@acme.dev"}))
case("POST", ENTRIES, "400")(lambda c: c.client.post(f"{L}{_custom(c)}/entries/", json={"value": "nope"}))
case("POST", ENTRIES, "401")(lambda c: c.refused.post(f"{L}{UNKNOWN}/entries/", json={"value": "a@acme.dev"}))
case("POST", ENTRIES, "403")(lambda c: c.anon.post(f"{L}{UNKNOWN}/entries/", json={"value": "a@acme.dev"}))
case("POST", ENTRIES, "404")(lambda c: c.client.post(f"{L}{UNKNOWN}/entries/", json={"value": "a@acme.dev"}))


@case("DELETE", ENTRY, "204")
def _delete_entry(c: Ctx) -> httpx.Response:
    list_uuid, entry_uuid = _entry(c)
    return c.client.delete(f"{L}{list_uuid}/entries/{entry_uuid}/")


case("DELETE", ENTRY, "401")(lambda c: c.refused.delete(f"{L}{UNKNOWN}/entries/{UNKNOWN}/"))
case("DELETE", ENTRY, "403")(lambda c: c.anon.delete(f"{L}{UNKNOWN}/entries/{UNKNOWN}/"))
case("DELETE", ENTRY, "404")(lambda c: c.client.delete(f"{L}{_custom(c)}/entries/{UNKNOWN}/"))

case("POST", FACE, "201")(lambda c: c.client.post(f"{L}{_system(c, 'face')}/entries/face-upload/", json={"image": JPEG}))
case("POST", FACE, "400")(lambda c: c.client.post(f"{L}{_system(c, 'email')}/entries/face-upload/", json={"image": JPEG}))
case("POST", FACE, "401")(lambda c: c.refused.post(f"{L}{UNKNOWN}/entries/face-upload/", json={"image": JPEG}))
case("POST", FACE, "403")(lambda c: c.anon.post(f"{L}{UNKNOWN}/entries/face-upload/", json={"image": JPEG}))
case("POST", FACE, "404")(lambda c: c.client.post(f"{L}{UNKNOWN}/entries/face-upload/", json={"image": JPEG}))
