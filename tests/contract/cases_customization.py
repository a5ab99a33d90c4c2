"""Contract cases of customization (`PATCH /v3/customization/`, which has rules)."""

from __future__ import annotations

import httpx

from tests.contract.test_contract import Ctx, case

BRANDING = "/v3/customization/"

case("PATCH", BRANDING, "200")(lambda c: c.client.patch(BRANDING, json={"color_primary": "#123456"}))
case("PATCH", BRANDING, "400")(lambda c: c.client.patch(BRANDING, json={"color_primary": "blue"}))
case("PATCH", BRANDING, "403")(lambda c: c.anon.patch(BRANDING, json={"color_primary": "#123456"}))


@case("PATCH", BRANDING, "429")
def _branding_429(c: Ctx) -> httpx.Response:
    c.exhaust("generic-write")
    return c.client.patch(BRANDING, json={"color_primary": "#123456"})
