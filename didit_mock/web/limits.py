"""Request hygiene before any handler runs: body size, media type, JSON sanity and `Allow` headers.

The gateway (`api/gateway.py`) applies these rules, so nothing a client sends reaches a handler
unbounded:

* a body larger than `Settings.max_body_bytes` gets `413 {"detail": "Request body is too large."}`;
  a declared `Content-Length` is refused before a byte is read, a chunked body as soon as the
  running count passes the limit;
* on the Didit API (`/v2/`, `/v3/`), a body whose media type DRF's default parsers would not read
  (JSON, form, multipart) gets `415 {"detail": "Unsupported media type \\"text/plain\\" in request."}`;
  form and multipart bodies are turned into the JSON object DRF's FormParser would give the view;
* JSON nested deeper than `MAX_JSON_DEPTH`, or holding unpaired UTF-16 surrogates (which no UTF-8
  response can carry back), gets a 400 in DRF's words; on the Didit API, a string holding a NUL
  character gets DRF's `{"field": ["Null characters are not allowed."]}`;
* a 405 names every method the path accepts in its `Allow` header, across all routes of the path.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.routing import Match
from starlette.types import Message, Receive, Scope

from ..domain.errors import DiditError
from ..spec.overlay import FREE_FORM_FIELDS
from .drf import descend
from .http import PARSED_JSON, dumps
from .lazy_routes import LazyRoutes
from .request_head import HEAD, RequestHead

TOO_LARGE = "Request body is too large."
NULL_CHARACTERS = "Null characters are not allowed."
TOO_DEEP = "JSON parse error - the document is nested too deeply"
OUT_OF_RANGE = "JSON parse error - Out of range float values are not JSON compliant."
SURROGATES = "JSON parse error - unpaired surrogate characters are not valid Unicode."
#: Deepest JSON document accepted (arrays and objects); deeper ones could exhaust the stack when echoed.
MAX_JSON_DEPTH = 100
#: Paths answered by the emulated Didit API, where DRF's parsers and validators are emulated.
API_PREFIXES = ("/v2/", "/v3/")
#: Paths whose bodies are buffered and checked (the Didit API and the admin API).
CHECKED_PREFIXES = (*API_PREFIXES, "/_mock/")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
#: DRF lists allowed methods in Django's `http_method_names` order.
METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")


class BodyTooLarge(DiditError):
    """413: the body passed `Settings.max_body_bytes`."""

    status_code = 413

    def __init__(self) -> None:
        super().__init__({"detail": TOO_LARGE}, headers={"Connection": "close"})


def _refused(status: int, body: Any) -> DiditError:
    """An answer decided before the app runs."""
    return DiditError(body, status)


def is_json_type(kind: str) -> bool:
    """`application/json`, `application/*+json`, or no type at all (read as JSON, leniently)."""
    return kind in ("", "application/json") or (kind.startswith("application/") and kind.endswith("+json"))


def unsupported_media_type(content_type: str) -> dict[str, str]:
    return {"detail": f'Unsupported media type "{content_type}" in request.'}


def refuse_declared_size(head: RequestHead, limit: int) -> None:
    """413 before a byte is read when the declared `Content-Length` passes `limit`."""
    declared = head.content_length
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()


def with_allow_header(scope: Scope, message: Message) -> Message:
    """A 405's start message naming every method of the path in `Allow`."""
    allowed = allowed_methods(scope)
    if not allowed:
        return message
    kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
    return {**message, "headers": [*kept, (b"allow", ", ".join(allowed).encode("latin-1"))]}


def allowed_methods(scope: Scope) -> list[str]:
    """Every method some route of the app accepts at this path, in DRF's order."""
    methods: set[str] = set()
    probe = {**scope, "method": "GET"}
    routes = [inner for route in scope["app"].router.routes
              for inner in (route.routes if isinstance(route, LazyRoutes) and route.matches(probe)[0] is not Match.NONE
                            else [route])]
    for route in routes:
        match, _ = route.matches(probe)
        route_methods = getattr(route, "methods", None)
        if match != Match.NONE and route_methods:
            methods.update(route_methods)
    return [m for m in METHOD_ORDER if m in methods] + sorted(methods - set(METHOD_ORDER))


# ---------------------------------------------------------------- reading

def counting(receive: Receive, limit: int, observe: Callable[[bytes], None] | None = None) -> Receive:
    """`receive`, raising `BodyTooLarge` once the streamed body passes `limit` bytes.

    `observe` (the journal) sees every chunk the app reads.
    """
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            seen += len(chunk)
            if observe is not None:
                observe(chunk)
            if seen > limit:
                raise BodyTooLarge()
        return message

    return counted


def single_body(message: Message, limit: int) -> bytes | None:
    """The body, when the first message of a request holds all of it (the usual case), else None.

    `BodyTooLarge` when it passes `limit` bytes.
    """
    if message["type"] != "http.request":
        return b""
    chunk: bytes = message.get("body", b"")
    if len(chunk) > limit:
        raise BodyTooLarge()
    return None if message.get("more_body", False) else chunk


async def read_body(receive: Receive, limit: int, first: Message) -> bytes:
    """The whole body of a request whose first message is `first`; `BodyTooLarge` past `limit` bytes."""
    chunk = single_body(first, limit)
    if chunk is not None:
        return chunk
    chunks = [first.get("body", b"")]
    size = len(chunks[0])
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """The buffered body as one message, then whatever the server sends next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


# ---------------------------------------------------------------- checks

def is_form(head: RequestHead, body: bytes, *, api: bool) -> bool:
    """A form body for the Didit API, to be read as DRF's form parsers would (`form_as_json`)."""
    return api and head.media_type in FORM_TYPES and not _looks_like_json(body)


#: Where `form_as_json` leaves the uploaded files of a multipart body: field -> [`UploadedFile`].
FILES = "didit_mock.files"


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart body, kept whole for the handler (JSON cannot carry it)."""

    filename: str
    content_type: str
    data: bytes


async def form_as_json(scope: Scope, head: RequestHead, body: bytes) -> tuple[Scope, bytes]:
    """The scope and body of a form request turned into its JSON equivalent.

    The file parts of a multipart body are not JSON: they stay in the scope under `FILES`.
    """
    files: dict[str, list[UploadedFile]] = {}
    converted, json_body = _as_json(scope, await _form_data(head.media_type, head.content_type, body, files))
    if files:
        converted[FILES] = files
    return converted, json_body


def checked(scope: Scope, head: RequestHead, body: bytes, *, api: bool,
            free_form: frozenset[str] = frozenset()) -> tuple[Scope, bytes]:
    """The scope and body to hand on; a `DiditError` with the answer when the body is refused.

    `free_form` names the operation's fields that hold the caller's own JSON (from the overlay):
    their strings may hold NUL characters. Form bodies of the Didit API go through `form_as_json`.
    """
    if not body or body.isspace():
        return scope, body
    kind = head.media_type
    json_type = is_json_type(kind)
    if api and not json_type and kind not in FORM_TYPES:
        raise _refused(415, unsupported_media_type(head.content_type.strip()))
    if not (json_type or kind in FORM_TYPES):
        return scope, body  # admin routes may take other types (YAML scenarios); their handlers decide
    try:
        document = parse_json(body, strict=api)
    except _NotJSON:
        return scope, body
    if b"\\u" in body or body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH:
        # Only escapes can carry NULs or lone surrogates, and only that many brackets can nest that
        # deep: any other document is known to pass without a walk.
        check_document(document, nul_characters=api, free_form=free_form)
    scope[PARSED_JSON] = document
    return scope, body


class _NotJSON(Exception):
    """The body is no JSON document (the route's handler decides what that means)."""


def parse_json(body: bytes, *, strict: bool) -> Any:
    """The JSON document of `body`, as DRF's strict JSONParser reads it.

    Refused (400, "JSON parse error - ..."): NaN and Infinity, numbers too long for Python's int
    conversion and documents too deep for the parser; on the Didit API (`strict`) also syntax errors
    and invalid UTF-8. Elsewhere a body that is not JSON at all is left to the handler.

    orjson reads the body when it reads it exactly as Python would: it refuses everything Python's
    decoder would answer differently (NaN, out-of-range floats, lone surrogates, a BOM, syntax
    errors), except integers beyond 64 bits, which it turns into floats; bodies with such long
    digit runs, and everything orjson refuses, go to Python's decoder for its exact answer.
    """
    if _LONG_DIGIT_RUN not in body.translate(_DIGITS_AS_ONES):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    try:
        text = body.decode("utf-8")
        if text.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        return _DECODER.decode(text)
    except RecursionError:
        raise _refused(400, {"detail": TOO_DEEP}) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        if strict:
            raise _refused(400, {"detail": f"JSON parse error - {exc}"}) from None
        raise _NotJSON() from None
    except ValueError as exc:
        raise _refused(400, {"detail": f"JSON parse error - {exc}"}) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: '{name}'")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # such as 1e999
        raise ValueError(OUT_OF_RANGE.removeprefix("JSON parse error - "))
    return value


#: Digits as `1`, every other byte as a space: a run of 19 digits becomes `_LONG_DIGIT_RUN` (one
#: C pass, three times as fast as the regular expression `\d{19}` on a typical body).
_DIGITS_AS_ONES = bytes(ord("1") if chr(byte).isdigit() and byte < 128 else ord(" ") for byte in range(256))
_LONG_DIGIT_RUN = b"1" * 19
#: DRF's strict JSON reading: NaN, Infinity and numbers beyond a float's range are refused.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def _looks_like_json(body: bytes) -> bool:
    """`curl -d '{...}'` sends JSON labelled as a form; read it as the JSON it is."""
    return body.lstrip()[:1] in (b"{", b"[")


def check_document(document: Any, *, nul_characters: bool, free_form: frozenset[str] = frozenset()) -> None:
    """Refuse (400) documents nested too deeply, unpaired surrogates, and NUL characters in strings.

    (Out-of-range floats are refused while parsing, by `parse_json`.)
    """
    if _depth(document) > MAX_JSON_DEPTH:
        raise _refused(400, {"detail": TOO_DEEP})
    if any(_has_surrogate(text) for text in _strings(document, keys=True)):
        raise _refused(400, {"detail": SURROGATES})
    if nul_characters:
        errors = _nul_errors(document, free_form)
        if errors:
            raise _refused(400, errors)


def _depth(document: Any) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, level)
            if deepest > MAX_JSON_DEPTH:
                return deepest
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def _strings(node: Any, *, keys: bool) -> Iterator[str]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            if keys:
                yield from (k for k in item if isinstance(k, str))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


#: Free-form JSON fields (DRF JSONField): their strings are not CharFields, NULs are kept.
def _nul_errors(document: Any, free_form: frozenset[str]) -> dict[str, Any]:
    """DRF's CharField refusal of `\\x00`, nested as DRF nests; free-form fields are exempt."""
    if not isinstance(document, dict):
        return {}
    errors: dict[str, Any] = {}
    for name, value in document.items():
        if name in free_form:
            continue
        if isinstance(value, dict):
            nested = _nul_errors(value, free_form)
            if nested:
                errors[name] = nested
        elif any("\x00" in text for text in _strings(value, keys=False)):
            errors[name] = [NULL_CHARACTERS]
    return errors


# ---------------------------------------------------------------- forms

async def _form_data(kind: str, content_type: str, body: bytes,
                     files: dict[str, list[UploadedFile]] | None = None) -> dict[str, Any]:
    """A form body as the JSON object DRF's parsers give a view: dotted names nest, repeats list."""
    pairs: list[tuple[str, str]]
    if kind == "application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _refused(400, {"detail": "Form parse error - the body is not valid UTF-8."}) from None
        pairs = parse_qsl(text, keep_blank_values=True)
    else:
        pairs = await _multipart_pairs(content_type, body, files)
    data: dict[str, Any] = {}
    for name, value in pairs:
        if "\x00" in name or _has_surrogate(name) or _has_surrogate(value):
            raise _refused(400, {"detail": "Form parse error - invalid characters."})
        parts = name.split(".")
        node = descend(data, parts[:-1])
        last = parts[-1]
        if last in node:
            previous = node[last]
            node[last] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            node[last] = value
    check_document(data, nul_characters=True, free_form=FREE_FORM_FIELDS)
    return data


async def _multipart_pairs(content_type: str, body: bytes,
                           files: dict[str, list[UploadedFile]] | None = None) -> list[tuple[str, str]]:
    """The text fields of a multipart body; its file parts go to `files` (they are not JSON)."""

    async def stream() -> AsyncIterator[bytes]:
        yield body

    parser = MultiPartParser(Headers({"content-type": content_type}), stream())
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise _refused(400, {"detail": f"Multipart form parse error - {exc.message}"}) from None
    except Exception:
        raise _refused(400, {"detail": "Multipart form parse error - the body is malformed."}) from None
    try:
        pairs: list[tuple[str, str]] = []
        for name, value in form.multi_items():
            if not isinstance(value, UploadFile):
                pairs.append((name, value))
            elif files is not None:
                data = await value.read()
                files.setdefault(name, []).append(
                    UploadedFile(value.filename or "", value.content_type or "", data))
        return pairs
    finally:
        await form.close()


def _as_json(scope: Scope, data: dict[str, Any]) -> tuple[Scope, bytes]:
    """The same request carrying `data` as a JSON body."""
    body = dumps(data)
    headers = [
        (k, v) for k, v in scope["headers"] if k.lower() not in (b"content-type", b"content-length")
    ]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    converted = {**scope, "headers": headers}
    converted[HEAD] = RequestHead.of({"headers": headers})
    return converted, body
