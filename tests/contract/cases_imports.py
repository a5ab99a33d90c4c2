"""Contract cases of session imports (`/v3/session/imports/`) and the user face upload."""

from __future__ import annotations

import base64
import io

import httpx

from tests.conftest import KYC_WORKFLOW
from tests.contract.test_contract import UNKNOWN, WAIVED, Ctx, case

IMPORTS = "/v3/session/imports/"
TEMPLATE = "/v3/session/imports/template/"
ONE = "/v3/session/imports/{importId}/"
ERRORS = "/v3/session/imports/{importId}/errors/"
FACES = ("/v3/organization/{organization_id}/application/{application_id}/vendor-users/by-id/"
         "{didit_internal_id}/faces/upload/")
CSV = b"external_id,vendor_data,status\nc-1,contract-import,Approved\nc-2,contract-import,unknown_status\n"

WAIVED.update({
    ("POST", FACES, "403"): "keys without write access to User profiles are not emulated",
})


def _live(c: Ctx) -> httpx.Client:
    return c.tenant(environment="live")


def _upload(client: httpx.Client) -> httpx.Response:
    return client.post(IMPORTS, data={"workflow_id": KYC_WORKFLOW}, files={"file": ("s.csv", CSV, "text/csv")})


def _finished_job(c: Ctx) -> tuple[httpx.Client, str]:
    client = _live(c)
    job = _upload(client).json()["uuid"]
    client.post("/_mock/clock/advance", json={"seconds": 60})
    client.post("/_mock/clock/advance", json={"seconds": 60})
    return client, job


def _429(c: Ctx) -> httpx.Response:
    client = _live(c)
    assert _upload(client).status_code == 201
    return _upload(client)


def _one(c: Ctx) -> httpx.Response:
    client, job = _finished_job(c)
    return client.get(f"{IMPORTS}{job}/")


def _errors(c: Ctx) -> httpx.Response:
    client, job = _finished_job(c)
    return client.get(f"{IMPORTS}{job}/errors/")


case("GET", TEMPLATE, "200")(lambda c: c.client.get(TEMPLATE, params={"import_type": "user_verification"}))
case("GET", TEMPLATE, "403")(lambda c: c.anon.get(TEMPLATE))
case("POST", IMPORTS, "201")(lambda c: _upload(_live(c)))
case("POST", IMPORTS, "400")(lambda c: _live(c).post(IMPORTS, data={"workflow_id": KYC_WORKFLOW}))
case("POST", IMPORTS, "403")(lambda c: _upload(c.client))  # a sandbox application
case("POST", IMPORTS, "429")(_429)
case("GET", ONE, "200")(_one)
case("GET", ONE, "403")(lambda c: c.anon.get(f"{IMPORTS}{UNKNOWN}/"))
case("GET", ONE, "404")(lambda c: c.client.get(f"{IMPORTS}{UNKNOWN}/"))
case("GET", ERRORS, "200")(_errors)
case("GET", ERRORS, "403")(lambda c: c.anon.get(f"{IMPORTS}{UNKNOWN}/errors/"))
case("GET", ERRORS, "404")(lambda c: c.client.get(f"{IMPORTS}{UNKNOWN}/errors/"))


def _png() -> str:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 120), (90, 80, 70)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")


def _faces_path(c: Ctx, user_id: str | None = None) -> str:
    tenant = c.client.get("/_mock/tenant").json()
    if user_id is None:
        created = c.client.post("/v3/users/create/", json={"vendor_data": "contract-face"})
        assert created.status_code == 201, created.text
        user_id = created.json()["didit_internal_id"]
    return (f"/v3/organization/{tenant['organization_id']}/application/{tenant['application_id']}"
            f"/vendor-users/by-id/{user_id}/faces/upload/")


def _faces_429(c: Ctx) -> httpx.Response:
    path = _faces_path(c)
    c.exhaust("generic-write")
    return c.client.post(path, json={"image": _png()})


case("POST", FACES, "201")(lambda c: c.client.post(_faces_path(c), json={"image": _png(), "comment": "imported"}))
case("POST", FACES, "400")(lambda c: c.client.post(_faces_path(c), json={"image": "not base64!"}))
case("POST", FACES, "401")(lambda c: c.anon.post(_faces_path(c, UNKNOWN), json={"image": _png()}))
case("POST", FACES, "404")(lambda c: c.client.post(_faces_path(c, UNKNOWN), json={"image": _png()}))
case("POST", FACES, "429")(_faces_429)
