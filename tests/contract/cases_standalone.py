"""Contract cases of the standalone APIs (passive liveness, face match, age estimation, ID verification)."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from tests.contract.test_contract import Ctx, case


def _png(size: int = 128) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (90, 120, 150)).save(out, format="PNG")
    return out.getvalue()


#: path -> (file fields, a field that refuses "101": out of range or not a choice)
ENDPOINTS = {
    "/v3/passive-liveness/": (("user_image",), "face_liveness_score_decline_threshold"),
    "/v3/face-match/": (("user_image", "ref_image"), "face_match_score_decline_threshold"),
    "/v3/age-estimation/": (("user_image",), "age_estimation_decline_threshold"),
    "/v3/face-search/": (("user_image",), "search_type"),
    "/v3/poa/": (("document",), "poa_address_mismatch_action"),
    "/v3/id-verification/": (("front_image",), "invalid_mrz_action"),
}


def _post(client: httpx.Client, path: str, **data: str) -> httpx.Response:
    names, _ = ENDPOINTS[path]
    return client.post(path, data=data, files={n: (f"{n}.png", _png(), "image/png") for n in names})


def _register(path: str) -> None:
    _, bounded = ENDPOINTS[path]
    case("POST", path, "200")(lambda c: _post(c.client, path, vendor_data="contract"))
    case("POST", path, "400")(lambda c: _post(c.client, path, **{bounded: "101"}))
    case("POST", path, "403")(lambda c: _post(c.anon, path))

    @case("POST", path, "429")
    def _throttled(c: Ctx) -> httpx.Response:
        c.exhaust("generic-write")
        return _post(c.client, path)


for _path in ENDPOINTS:
    _register(_path)


#: JSON standalone APIs: path -> (a valid body, an invalid one)
JSON_ENDPOINTS = {
    "/v3/aml/": ({"full_name": "Antonio Ejemplo Modelo", "date_of_birth": "1972-02-29", "nationality": "ES"},
                 {"full_name": "X"}),
    "/v3/email/risk/": ({"email": "breached.bob@example.org", "vendor_data": "contract"}, {"email": "nope"}),
    "/v3/phone/risk/": ({"phone_number": "+14155552671"}, {"phone_number": "12"}),
    "/v3/ip/risk/": ({"ip_address": "8.8.8.8", "claimed_country": "ESP"}, {"ip_address": "x"}),
    "/v3/database-validation/": ({"issuing_state": "BRA", "identification_number": "12345678901"},
                                 {"issuing_state": "XXX"}),
}


def _register_json(path: str) -> None:
    good, bad = JSON_ENDPOINTS[path]
    case("POST", path, "200")(lambda c: c.client.post(path, json=good))
    case("POST", path, "400")(lambda c: c.client.post(path, json=bad))
    case("POST", path, "403")(lambda c: c.anon.post(path, json=good))

    @case("POST", path, "429")
    def _throttled(c: Ctx) -> httpx.Response:
        c.exhaust("generic-write")
        return c.client.post(path, json=good)


for _path in JSON_ENDPOINTS:
    _register_json(_path)

case("POST", "/v3/database-validation/", "502")(  # a number ending in 8888: the provider returns nothing
    lambda c: c.client.post("/v3/database-validation/", json={"issuing_state": "BRA", "tax_number": "12345678888"}))


# ---------------------------------------------------------------- AML hit review statuses

HIT = "/v3/session/{sessionId}/update-aml-hit-status/"
HITS = "/v3/session/{sessionId}/bulk-update-aml-hit-status/"
UNKNOWN_SESSION = "5f1f8c9e-0000-4000-8000-00000000c0de"


def _screened(c: Ctx) -> tuple[str, str]:
    body = c.client.post("/v3/aml/", json={"full_name": "Ivan Sanctionov"}).json()
    return body["request_id"], body["aml"]["hits"][0]["id"]


def _hit(c: Ctx, client: httpx.Client | None = None, hit: str | None = None, status: str = "False Positive",
         session: str | None = None) -> httpx.Response:
    session_id, hit_id = _screened(c)
    return (client or c.client).patch(f"/v3/session/{session or session_id}/update-aml-hit-status/",
                                      json={"hit_id": hit or hit_id, "review_status": status})


def _hits(c: Ctx, client: httpx.Client | None = None, updates: list | None = None,
          session: str | None = None) -> httpx.Response:
    session_id, hit_id = _screened(c)
    body = {"hit_updates": [{"hit_id": hit_id, "review_status": "Confirmed Match"}] if updates is None else updates}
    return (client or c.client).patch(f"/v3/session/{session or session_id}/bulk-update-aml-hit-status/", json=body)


case("PATCH", HIT, "200")(lambda c: _hit(c))
case("PATCH", HIT, "400")(lambda c: _hit(c, status="Maybe"))
case("PATCH", HIT, "403")(lambda c: _hit(c, c.anon))
case("PATCH", HIT, "404")(lambda c: _hit(c, hit="unknown-hit"))
case("PATCH", HITS, "200")(lambda c: _hits(c))
case("PATCH", HITS, "400")(lambda c: _hits(c, updates=[]))
case("PATCH", HITS, "403")(lambda c: _hits(c, c.anon))
case("PATCH", HITS, "404")(lambda c: _hits(c, session=UNKNOWN_SESSION))
