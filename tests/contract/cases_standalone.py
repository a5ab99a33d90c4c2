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


#: path -> (file fields, a field that refuses "101")
ENDPOINTS = {
    "/v3/passive-liveness/": (("user_image",), "face_liveness_score_decline_threshold"),
    "/v3/face-match/": (("user_image", "ref_image"), "face_match_score_decline_threshold"),
    "/v3/age-estimation/": (("user_image",), "age_estimation_decline_threshold"),
    "/v3/id-verification/": (("front_image",), "minimum_age"),
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
