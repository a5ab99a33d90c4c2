"""Contract cases of the biometric templates (`/v3/biometric-templates/`)."""

from __future__ import annotations

from tests.contract.test_contract import UNKNOWN, WAIVED, Ctx, case

T = "/v3/biometric-templates/"
ONE = "/v3/biometric-templates/{template_uuid}/"
COUNT = "/v3/biometric-templates/count/"
BULK = "/v3/biometric-templates/delete/"
BAD_RANGE = {"retained_from": "2026-01-02T00:00:00Z", "retained_to": "2026-01-01T00:00:00Z"}

WAIVED.update({
    ("DELETE", ONE, "503"): "no biometric store that can be down (scenario faults can inject a 503)",
    ("POST", BULK, "503"): "no biometric store that can be down (scenario faults can inject a 503)",
})


def _template(c: Ctx) -> str:
    session = c.finished()
    deleted = c.client.request("DELETE", f"/v3/session/{session['session_id']}/delete/",
                               json={"retain_face_embeddings": True, "face_retention_days": 30})
    assert deleted.status_code == 200, deleted.text
    return str(deleted.json()["biometric_template_uuid"])


def _list_200(c: Ctx):  # type: ignore[no-untyped-def]
    _template(c)
    return c.client.get(T)


case("GET", T, "200")(_list_200)
case("GET", T, "400")(lambda c: c.client.get(T, params=BAD_RANGE))
case("GET", T, "403")(lambda c: c.anon.get(T))
case("GET", COUNT, "200")(lambda c: c.client.get(COUNT))
case("GET", COUNT, "400")(lambda c: c.client.get(COUNT, params=BAD_RANGE))
case("GET", COUNT, "403")(lambda c: c.anon.get(COUNT))
case("GET", ONE, "200")(lambda c: c.client.get(f"{T}{_template(c)}/"))
case("GET", ONE, "403")(lambda c: c.anon.get(f"{T}{UNKNOWN}/"))
case("GET", ONE, "404")(lambda c: c.client.get(f"{T}{UNKNOWN}/"))
case("DELETE", ONE, "200")(lambda c: c.client.delete(f"{T}{_template(c)}/"))
case("DELETE", ONE, "403")(lambda c: c.anon.delete(f"{T}{UNKNOWN}/"))
case("DELETE", ONE, "404")(lambda c: c.client.delete(f"{T}{UNKNOWN}/"))
case("POST", BULK, "200")(lambda c: c.client.post(BULK, json={"template_uuids": [_template(c)]}))
case("POST", BULK, "400")(lambda c: c.client.post(BULK, json={}))
case("POST", BULK, "403")(lambda c: c.anon.post(BULK, json={"delete_all": True}))
