"""Admin routes of the standalone APIs: armed outcomes and fixture images.

* `POST /_mock/standalone/{endpoint}/outcomes` `{"status"?, "risks"|"warnings"?, "scenario"?,
  "vendor_data"?, "sticky"?}`: the next call of `endpoint` (for that vendor_data, if given) answers
  this outcome; `GET /_mock/standalone/outcomes` lists what is armed; `DELETE
  /_mock/standalone/outcomes` (or `.../{endpoint}/outcomes`) disarms.
* `GET /_mock/fixtures/{name}.png?person=<vendor_data>&scenario=<slug>`: a deterministic 256x256
  PNG (`selfie`, `id-front`, `id-back`; `tiny` is Didit's 1x1 PNG) whose `didit-mock` text chunk
  carries the person and the scenario, so an upload of it picks its outcome.
* `GET`/`PUT /_mock/standalone/compat` `{"switches": [...]}`: this tenant's compat switches.
* `POST /_mock/kyb/{request_id}/resolve`: finish a pending KYB search (its callback goes out) or a
  pending KYB retrieval (its business session settles and fires `status.updated`).
"""

from __future__ import annotations

import hashlib
import io
import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..domain import kyb
from ..domain.errors import NotFound, ValidationFailed
from ..domain.standalone import compat
from ..domain.standalone.armed import ENDPOINTS, armed, directive_from
from ..web.auth import authenticate
from ..web.http import json_response, read_json
from ..web.uploads import MARKER_KEY

FIXTURES = ("selfie", "id-front", "id-back", "tiny")
FIXTURE_SIZE = 256


async def arm_outcome(request: Request) -> Response:
    tenant = authenticate(request)
    endpoint = request.path_params["endpoint"]
    if endpoint not in ENDPOINTS:
        raise NotFound(f"Unknown standalone endpoint: {endpoint}. Known: {', '.join(ENDPOINTS)}.")
    directive = directive_from(await read_json(request))
    with tenant.lock:
        book = armed(tenant)
        book.arm(endpoint, directive)
        return json_response({"endpoint": endpoint, **directive.to_dict(), "armed": book.listed()}, 201)


async def list_outcomes(request: Request) -> Response:
    tenant = authenticate(request)
    with tenant.lock:
        return json_response(armed(tenant).listed())


async def clear_outcomes(request: Request) -> Response:
    tenant = authenticate(request)
    endpoint = request.path_params.get("endpoint")
    if endpoint is not None and endpoint not in ENDPOINTS:
        raise NotFound(f"Unknown standalone endpoint: {endpoint}.")
    with tenant.lock:
        armed(tenant).clear(endpoint)
    return Response(status_code=204)


async def set_compat(request: Request) -> Response:
    """`PUT /_mock/standalone/compat {"switches": [...]}`: this tenant's compat switches."""
    tenant = authenticate(request)
    body = await read_json(request)
    switches = body.get("switches") if isinstance(body, dict) else None
    if not isinstance(switches, list) or not all(isinstance(s, str) for s in switches):
        raise ValidationFailed.field("switches", "Expected a list of switch names.")
    bad = compat.unknown(switches)
    if bad:
        known = ", ".join(compat.SWITCHES)
        raise ValidationFailed.field("switches", f"Unknown switch: {', '.join(bad)}. Known: {known}.")
    with tenant.lock:
        tenant.config.extra = {**tenant.config.extra, compat.CONFIG_KEY: list(dict.fromkeys(switches))}
        return json_response({"switches": tenant.config.extra[compat.CONFIG_KEY]})


async def get_compat(request: Request) -> Response:
    tenant = authenticate(request)
    return json_response({"switches": list(tenant.config.extra.get(compat.CONFIG_KEY) or [])})


def fixture_png(name: str, person: str | None, scenario: str | None) -> bytes:
    """The fixture image `name` for `person` and `scenario`: the same arguments, the same bytes."""
    from PIL import Image, ImageDraw
    from PIL.PngImagePlugin import PngInfo

    if name not in FIXTURES:
        raise NotFound(f"Unknown fixture: {name}. Known: {', '.join(FIXTURES)}.")
    info = PngInfo()
    marker = {k: v for k, v in (("person", person), ("scenario", scenario), ("fixture", name)) if v}
    info.add_text(MARKER_KEY, json.dumps(marker, sort_keys=True))
    if name == "tiny":
        image = Image.new("RGB", (1, 1), (255, 255, 255))
    else:
        digest = hashlib.sha256(json.dumps([name, person, scenario]).encode()).digest()
        background = (digest[0], digest[1], digest[2])
        image = Image.new("RGB", (FIXTURE_SIZE, FIXTURE_SIZE), background)
        draw = ImageDraw.Draw(image)
        if name == "selfie":
            skin = (200 + digest[3] % 50, 160 + digest[4] % 60, 120 + digest[5] % 60)
            draw.ellipse((72, 48, 184, 200), fill=skin, outline=(40, 40, 40))
            draw.ellipse((98, 100, 114, 112), fill=(30, 30, 30))
            draw.ellipse((142, 100, 158, 112), fill=(30, 30, 30))
            draw.arc((104, 130, 152, 170), 20, 160, fill=(120, 30, 30), width=3)
        else:
            draw.rectangle((16, 56, 240, 200), fill=(235, 235, 225), outline=(20, 20, 60), width=2)
            draw.rectangle((28, 72, 92, 152), fill=(180, 150, 120))
            for row in range(5):
                draw.line((104, 80 + row * 16, 224, 80 + row * 16), fill=(60, 60, 60), width=3)
        draw.text((8, 236), f"didit-mock {name}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, optimize=False)
    return out.getvalue()


async def fixture(request: Request) -> Response:
    name = request.path_params["name"]
    query = request.query_params
    for field in ("person", "scenario"):
        if len(query.get(field) or "") > 2000:
            raise ValidationFailed.field(field, "Ensure this field has no more than 2000 characters.")
    body = fixture_png(name, query.get("person") or None, query.get("scenario") or None)
    return Response(body, media_type="image/png")




async def resolve_kyb(request: Request) -> Response:
    """Finish a pending KYB search or retrieval."""
    tenant = authenticate(request)
    with tenant.lock:
        return json_response(kyb.resolve(tenant, request.path_params["request_id"]))


routes = [
    Route("/_mock/standalone/outcomes", list_outcomes, methods=["GET"]),
    Route("/_mock/standalone/outcomes", clear_outcomes, methods=["DELETE"]),
    Route("/_mock/standalone/{endpoint}/outcomes", arm_outcome, methods=["POST"]),
    Route("/_mock/standalone/{endpoint}/outcomes", clear_outcomes, methods=["DELETE"]),
    Route("/_mock/fixtures/{name}.png", fixture, methods=["GET"]),
    Route("/_mock/standalone/compat", get_compat, methods=["GET"]),
    Route("/_mock/standalone/compat", set_compat, methods=["PUT"]),
    Route("/_mock/kyb/{request_id}/resolve", resolve_kyb, methods=["POST"]),
]
