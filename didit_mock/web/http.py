"""Request parsing and response rendering shared by every route family."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..domain.errors import ValidationFailed, not_a_dictionary

if TYPE_CHECKING:
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
#: orjson refuses (TypeError) what the standard library would render differently or refuse.
_ORJSON_EXACT = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON, byte for byte as Django REST Framework (Python's `json`) renders it.

    orjson renders it when it gives the same bytes: for every document whose floats Python writes
    without an exponent (orjson writes `1e-5` where Python writes `1e-05`) and without what orjson
    refuses (integers beyond 64 bits, non-string keys, lone surrogates); Python's encoder renders
    the rest (and refuses NaN and infinities, as DRF does).
    """
    return _rendered(body, _needs_python(body))


def dumps_scalars_and(body: dict[str, Any], *documents: Any) -> bytes:
    """`dumps(body)` for a `body` whose values are strings, integers, booleans and None, except
    `documents` (a caller's own JSON, such as `metadata`): only those are looked at for floats."""
    return _rendered(body, any(_needs_python(document) for document in documents))


def _rendered(body: Any, needs_python: bool) -> bytes:
    """`body` by orjson unless it `needs_python` or orjson refuses it, else by Python's encoder."""
    if not needs_python:
        try:
            return orjson.dumps(body, option=_ORJSON_EXACT)
        except TypeError:
            pass
    return _ENCODER.encode(body).encode("utf-8")


_SCALARS = frozenset({str, int, bool, type(None)})


def _needs_python(body: Any) -> bool:
    """Whether `body` holds a float Python and orjson write differently (one Python writes with an
    exponent: below 1e-4 or from 1e16 on, or not finite); containers of plain scalars are told at once."""
    kind = type(body)
    if kind is float:
        return not (body == 0.0 or 1e-4 <= abs(body) < 1e16)
    if kind is dict:
        values: Any = body.values()
    elif kind is list or kind is tuple:
        values = body
    else:
        return False
    if _SCALARS.issuperset(map(type, values)):
        return False
    return any(_needs_python(value) for value in values if type(value) not in _SCALARS)


class JSONBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


class JSONBytes(Response):
    """A JSON body already rendered, with Starlette's `content-length` and `content-type` headers.

    Built directly rather than through `Response.init_headers`, which would give the same two
    headers by a longer way: this is the answer of nearly every request.
    """

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200):
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-length", str(len(body)).encode("latin-1")), _JSON_TYPE]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`Response.__call__` for HTTP (the app serves no websockets) and no background task."""
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body})


_JSON_TYPE = (b"content-type", b"application/json")


def json_response(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """`body` as compact JSON (see `dumps`), with `headers` added."""
    if headers or status_code < 200 or status_code in (204, 304):  # the general way, rarely
        return JSONBody(body, status_code=status_code, headers=headers)
    return JSONBytes(dumps(body), status_code)


#: Where the gateway leaves the document it already parsed and checked (see api/limits.py).
PARSED_JSON = "didit_mock.parsed_json"


async def read_json(request: Request, default: Any = None) -> Any:
    """The request's JSON body (`default` when empty); a 400 in DRF's words when it is not JSON."""
    if PARSED_JSON in request.scope:
        return request.scope[PARSED_JSON]
    raw = await request.body()
    if not raw.strip():
        return {} if default is None else default
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed.detail(f"JSON parse error - {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed.detail(f"JSON parse error - {exc}") from None
    except RecursionError:
        raise ValidationFailed.detail("JSON parse error - the document is nested too deeply") from None


def parse(model: type[M], data: Any) -> M:
    """Validate `data` with `model`, turning failures into a DRF-shaped 400."""
    if not isinstance(data, dict):
        raise not_a_dictionary(data)
    from pydantic import ValidationError  # loaded by the modules that define models, not at start-up

    from .drf import drf_errors

    try:
        # `model_validate` without its wrapper, whose keyword checks cost a third of the call.
        return model.__pydantic_validator__.validate_python(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise ValidationFailed(drf_errors(exc)) from None


async def parse_body(request: Request, model: type[M]) -> M:
    return parse(model, await read_json(request))
