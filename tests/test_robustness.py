"""Hostile and malformed input gets a clear 4xx, never a 5xx, and changes no state.

Covers body size (413, declared or streamed), media types (415; form and multipart read as DRF
reads them), malformed JSON, NaN/Infinity and oversized numbers, deep nesting, invalid UTF-8,
unpaired surrogates, NUL characters, huge and odd strings, and unexpected methods (405 + Allow),
across the session, phone, email, blocklist, webhook and admin routes.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from didit_mock.server import MockServer

from .conftest import KYC_WORKFLOW, create_session, new_key

UNKNOWN_SESSION = "00000000-0000-4000-8000-000000000000"
SMALL_LIMIT = 4096

#: (method, path) of JSON routes from several families; `{sid}` is replaced by a real session id.
JSON_ROUTES = [
    ("POST", "/v3/session/"),
    ("PATCH", "/v3/session/{sid}/update-status/"),
    ("DELETE", "/v3/session/{sid}/delete/"),
    ("POST", "/v3/sessions/delete/"),
    ("POST", "/v3/phone/send/"),
    ("POST", "/v3/phone/check/"),
    ("POST", "/v3/email/send/"),
    ("POST", "/v3/blocklist/add/"),
    ("POST", "/v3/blocklist/remove/"),
    ("POST", "/v3/webhook/destinations/"),
    ("PATCH", "/v3/webhook/"),
    ("POST", "/v3/session/{sid}/share/"),
    ("POST", "/_mock/clock/advance"),
    ("POST", "/_mock/tenants"),
    ("POST", "/_mock/webhook/faults"),
]
DIDIT_ROUTES = [route for route in JSON_ROUTES if route[1].startswith("/v3/")]


def _url(path: str, session_id: str) -> str:
    return path.replace("{sid}", session_id)


def _count_sessions(client: httpx.Client) -> int:
    response = client.get("/v3/sessions/")
    assert response.status_code == 200
    return int(response.json()["count"])


@pytest.fixture
def session(client: httpx.Client) -> dict:
    return create_session(client, vendor_data="robust")


@pytest.fixture(scope="module")
def small_server() -> Iterator[MockServer]:
    """A server that refuses bodies above 4 KiB."""
    with MockServer(freeze_clock=True, max_body_bytes=SMALL_LIMIT) as running:
        yield running


@pytest.fixture
def small(small_server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=small_server.url, headers={"x-api-key": new_key()}, timeout=10) as http:
        yield http


def _raw_exchange(url: str, head: bytes, body_chunks: Iterator[bytes], read_timeout: float = 5.0) -> bytes:
    """Send a request by hand, stopping the body as soon as the server answers; the response head."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=read_timeout) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        received = b""
        deadline = time.monotonic() + read_timeout
        for chunk in body_chunks:
            with contextlib.suppress(BlockingIOError):
                received += sock.recv(65536)
            if b"\r\n\r\n" in received or time.monotonic() > deadline:
                break
            try:
                sock.sendall(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
        sock.setblocking(True)
        sock.settimeout(read_timeout)
        while b"\r\n\r\n" not in received:
            try:
                data = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not data:
                break
            received += data
        return received


# ---------------------------------------------------------------- 413

@pytest.mark.parametrize("method,path", JSON_ROUTES)
def test_a_body_over_the_limit_is_413(small: httpx.Client, method: str, path: str) -> None:
    body = json.dumps({"workflow_id": KYC_WORKFLOW, "vendor_data": "x" * (SMALL_LIMIT + 1)}).encode()
    response = small.request(method, _url(path, UNKNOWN_SESSION), content=body,
                             headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.json() == {"detail": "Request body is too large."}
    assert _count_sessions(small) == 0


def test_a_body_at_the_limit_is_read(small: httpx.Client) -> None:
    body = json.dumps({"workflow_id": KYC_WORKFLOW, "metadata": {"pad": ""}})
    body = body.replace('"pad": ""', '"pad": "' + "x" * (SMALL_LIMIT - len(body)) + '"')
    assert len(body.encode()) == SMALL_LIMIT
    response = small.post("/v3/session/", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text


def test_a_streamed_body_over_the_limit_is_413(small: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"workflow_id": "' + KYC_WORKFLOW.encode() + b'", "metadata": "'
        for _ in range(SMALL_LIMIT // 512 + 2):
            yield b"x" * 512
        yield b'"}'

    for method, path in [("POST", "/v3/session/"), ("POST", "/v3/phone/send/"), ("POST", "/_mock/clock/advance"),
                         ("POST", "/session/abcdefghijkl")]:
        response = small.request(method, path, content=chunks(), headers={"content-type": "application/json"})
        # The hosted page does not read bodies of unknown sessions: its 404 is fine, a 5xx is not.
        expected = 404 if path.startswith("/session/") else 413
        assert response.status_code == expected, (path, response.status_code, response.text[:200])
    assert _count_sessions(small) == 0


def test_a_declared_length_over_the_limit_is_refused_before_reading(small_server: MockServer) -> None:
    """A Content-Length of a terabyte: the server answers 413 without waiting for a byte of it."""
    head = (b"POST /v3/session/ HTTP/1.1\r\nHost: mock\r\nx-api-key: sk_test_huge\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n")
    answer = _raw_exchange(small_server.url, head, iter([]))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_an_endless_chunked_body_is_cut_off_at_the_limit(small_server: MockServer) -> None:
    """Chunks keep coming; the server stops reading once past the limit and answers 413."""
    head = (b"POST /v3/phone/send/ HTTP/1.1\r\nHost: mock\r\nx-api-key: sk_test_endless\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")

    def endless() -> Iterator[bytes]:
        sent = 0
        while sent < 64 * SMALL_LIMIT:  # bounded so a broken server fails the test instead of hanging
            yield b"400\r\n" + b"x" * 1024 + b"\r\n"
            sent += 1024

    answer = _raw_exchange(small_server.url, head, endless())
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


# ---------------------------------------------------------------- 415 and other media types

@pytest.mark.parametrize("method,path", DIDIT_ROUTES)
@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "text/plain; charset=utf-8"])
def test_a_body_of_an_unsupported_media_type_is_415(
    client: httpx.Client, session: dict, method: str, path: str, content_type: str
) -> None:
    body = json.dumps({"workflow_id": KYC_WORKFLOW, "phone_number": "+14155552671"})
    response = client.request(method, _url(path, session["session_id"]), content=body,
                              headers={"content-type": content_type})
    assert response.status_code == 415, response.text
    assert response.json() == {"detail": f'Unsupported media type "{content_type}" in request.'}
    assert _count_sessions(client) == 1


def test_an_empty_body_is_no_media_type_error(client: httpx.Client, session: dict) -> None:
    """DRF parses nothing when there is no body, whatever the content type says."""
    response = client.request("DELETE", f"/v3/session/{session['session_id']}/delete/",
                              headers={"content-type": "text/plain"})
    assert response.status_code == 200, response.text


def test_form_bodies_are_read_as_drf_reads_them(client: httpx.Client, server: MockServer) -> None:
    sent = client.post("/v3/phone/send/", data={"phone_number": "+14155552671", "options.code_size": "4",
                                                "vendor_data": "form"})
    assert sent.status_code == 200, sent.text
    assert sent.json()["vendor_data"] == "form"
    code = client.get("/_mock/phone/+14155552671/code").json()["code"]
    assert len(code) == 4
    multipart = client.post("/v3/session/", data={"workflow_id": KYC_WORKFLOW, "vendor_data": "multi"},
                            files={"ignored": ("a.bin", b"\x00\x01", "application/octet-stream")})
    assert multipart.status_code == 201, multipart.text
    assert multipart.json()["vendor_data"] == "multi"
    # `curl -d '{...}'` labels JSON as a form: it is read as the JSON it is.
    curl = client.post("/v3/session/", content=json.dumps({"workflow_id": KYC_WORKFLOW}),
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert curl.status_code == 201, curl.text
    # A form still gets the model's validation.
    invalid = client.post("/v3/phone/send/", data={"options.code_size": "99"})
    assert invalid.status_code == 400
    assert invalid.json()["phone_number"] == ["This field is required."]
    assert invalid.json()["options"]["code_size"] == ["Ensure this value is less than or equal to 8."]


def test_json_with_a_vendor_media_type_is_json(client: httpx.Client) -> None:
    response = client.post("/v3/session/", content=json.dumps({"workflow_id": KYC_WORKFLOW}),
                           headers={"content-type": "application/vnd.api+json"})
    assert response.status_code == 201, response.text


# ---------------------------------------------------------------- malformed JSON

MALFORMED = [
    pytest.param(b'{"workflow_id": ', id="truncated"),
    pytest.param(b'{"a": 1} trailing', id="trailing-garbage"),
    pytest.param(b"{'single': 'quotes'}", id="single-quotes"),
    pytest.param(b'\xff\xfe{"a": 1}', id="invalid-utf8"),
    pytest.param(b'{"a": "\xc3\x28"}', id="invalid-utf8-in-string"),
    pytest.param(b'{"a": 1,}', id="trailing-comma"),
    pytest.param(b'\x00{"a": 1}', id="raw-nul-byte"),
]


@pytest.mark.parametrize("raw", MALFORMED)
@pytest.mark.parametrize("method,path", JSON_ROUTES)
def test_malformed_json_is_a_parse_error(
    client: httpx.Client, session: dict, method: str, path: str, raw: bytes
) -> None:
    response = client.request(method, _url(path, session["session_id"]), content=raw,
                              headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("JSON parse error - ")
    assert _count_sessions(client) == 1


NOT_JSON_COMPLIANT = [
    pytest.param(b"NaN", "Out of range float values are not JSON compliant", id="nan"),
    pytest.param(b"-Infinity", "Out of range float values are not JSON compliant", id="infinity"),
    pytest.param(b"1e999", "Out of range float values are not JSON compliant", id="overflowing-float"),
    pytest.param(b"1" * 5000, "Exceeds the limit", id="5000-digit-integer"),
]


@pytest.mark.parametrize("value,message", NOT_JSON_COMPLIANT)
@pytest.mark.parametrize("method,path", [("POST", "/v3/session/"), ("POST", "/v3/phone/send/"),
                                         ("POST", "/_mock/clock/advance"), ("POST", "/v3/blocklist/add/")])
def test_numbers_json_cannot_carry_back_are_refused(
    client: httpx.Client, method: str, path: str, value: bytes, message: str
) -> None:
    """Python's parser takes NaN, 1e999 and huge integers; echoing them back could not be done."""
    raw = b'{"workflow_id": "' + KYC_WORKFLOW.encode() + b'", "metadata": ' + value + b', "seconds": ' + value + b"}"
    response = client.request(method, path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith("JSON parse error - ")
    assert message in response.json()["detail"]
    assert _count_sessions(client) == 0


@pytest.mark.parametrize("depth", [101, 5_000, 200_000])
@pytest.mark.parametrize("method,path", [("POST", "/v3/session/"), ("POST", "/v3/email/send/"),
                                         ("POST", "/_mock/tenants"), ("PATCH", "/v3/webhook/")])
def test_deep_nesting_is_refused(client: httpx.Client, method: str, path: str, depth: int) -> None:
    nested = "[" * (depth - 1) + "]" * (depth - 1)
    raw = f'{{"workflow_id": "{KYC_WORKFLOW}", "metadata": {nested}}}'
    response = client.request(method, path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": "JSON parse error - the document is nested too deeply"}
    assert _count_sessions(client) == 0


def test_nesting_within_the_limit_is_kept_and_echoed(client: httpx.Client) -> None:
    metadata: object = "leaf"
    for _ in range(98):  # the body object + "metadata" + 98 lists = 100 levels, the limit
        metadata = [metadata]
    created = client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW, "metadata": metadata})
    assert created.status_code == 201, created.text
    assert created.json()["metadata"] == metadata
    decision = client.get(f"/v3/session/{created.json()['session_id']}/decision/")
    assert decision.status_code == 200


def test_wrong_json_types_are_400(client: httpx.Client, session: dict) -> None:
    for body in ([1, 2], "text", 42, True, None):
        for method, path in JSON_ROUTES:
            response = client.request(method, _url(path, session["session_id"]), content=json.dumps(body),
                                      headers={"content-type": "application/json"})
            assert 400 <= response.status_code < 500, (method, path, body, response.text)
    assert _count_sessions(client) == 1


# ---------------------------------------------------------------- odd strings

@pytest.mark.parametrize("method,path", DIDIT_ROUTES)
def test_nul_characters_in_strings_are_refused_as_drf_does(
    client: httpx.Client, session: dict, method: str, path: str
) -> None:
    body = {"workflow_id": KYC_WORKFLOW, "vendor_data": "a\x00b", "phone_number": "+1415555\x002671",
            "session_id": session["session_id"], "url": "https://example.com/\x00"}
    response = client.request(method, _url(path, session["session_id"]), json=body)
    assert response.status_code == 400, response.text
    errors = response.json()
    assert errors["vendor_data"] == ["Null characters are not allowed."]
    assert errors["phone_number"] == ["Null characters are not allowed."]
    assert _count_sessions(client) == 1


def test_nested_nul_characters_name_the_nested_field(client: httpx.Client) -> None:
    response = client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW,
                                                 "expected_details": {"first_name": "Ann\x00"}})
    assert response.status_code == 400
    assert response.json() == {"expected_details": {"first_name": ["Null characters are not allowed."]}}


def test_nul_characters_in_free_form_metadata_are_kept(client: httpx.Client) -> None:
    """`metadata` is a JSONField, not a CharField: DRF keeps what it is given."""
    created = client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW, "metadata": {"k": "a\x00b"}})
    assert created.status_code == 201, created.text
    assert created.json()["metadata"] == {"k": "a\x00b"}


@pytest.mark.parametrize("method,path", JSON_ROUTES)
def test_unpaired_surrogates_are_refused(client: httpx.Client, session: dict, method: str, path: str) -> None:
    raw = (f'{{"workflow_id": "{KYC_WORKFLOW}", "metadata": {{"k": "\\ud800"}}, "vendor_data": "\\udfff"}}').encode()
    response = client.request(method, _url(path, session["session_id"]), content=raw,
                              headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert "surrogate" in response.json()["detail"]


def test_paired_surrogates_are_characters(client: httpx.Client) -> None:
    raw = (f'{{"workflow_id": "{KYC_WORKFLOW}", "vendor_data": "\\ud83d\\ude00"}}').encode()
    response = client.post("/v3/session/", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["vendor_data"] == "\U0001F600"


ODD_STRINGS = [
    "\u202etxt.exe", "e\u0301\u0301\u0301", "\u200b\u200d\ufeff", "\U0001F469\u200d\U0001F4BB",
    "'; DROP TABLE sessions; --", "<script>alert(1)</script>", "%00%ff", "\\u0000", "\x1b[31m", " ", "",
]


@pytest.mark.parametrize("odd", ODD_STRINGS)
def test_odd_strings_are_stored_and_echoed_exactly(client: httpx.Client, odd: str) -> None:
    created = client.post("/v3/session/", json={"workflow_id": KYC_WORKFLOW, "vendor_data": odd,
                                                "metadata": {odd: odd}})
    assert created.status_code == 201, created.text
    assert created.json()["vendor_data"] == odd
    session_id = created.json()["session_id"]
    decision = client.get(f"/v3/session/{session_id}/decision/")
    assert decision.status_code == 200
    assert decision.json()["vendor_data"] == odd
    listed = client.get("/v3/sessions/", params={"vendor_data": odd})
    assert listed.status_code == 200
    for path in ("/_mock/sessions", "/_mock/requests"):
        assert client.get(path).status_code == 200
    completed = client.post(f"/_mock/sessions/{session_id}/complete", json={"status": "Approved"})
    assert completed.status_code == 200
    pdf = client.get(f"/v3/session/{session_id}/generate-pdf/")
    assert pdf.status_code == 200, pdf.text[:200]


def test_huge_strings_get_a_field_error(client: httpx.Client) -> None:
    huge = "x" * 200_000
    for method, path, body, field in [
        ("POST", "/v3/session/", {"workflow_id": KYC_WORKFLOW, "vendor_data": huge}, "vendor_data"),
        ("POST", "/v3/session/", {"workflow_id": huge}, "workflow_id"),
        ("POST", "/v3/phone/send/", {"phone_number": huge}, "phone_number"),
        ("POST", "/v3/email/send/", {"email": huge + "@example.com"}, "email"),
        ("POST", "/v3/blocklist/add/", {"session_id": huge, "blocklist_face": True}, "session_id"),
        ("POST", "/v3/phone/check/", {"phone_number": "+14155552671", "code": huge}, "code"),
    ]:
        response = client.request(method, path, json=body)
        assert response.status_code == 400, (path, response.text[:200])
        assert field in response.json(), (path, response.text[:200])
    assert _count_sessions(client) == 0


def test_huge_query_strings_and_path_segments_are_answered(client: httpx.Client) -> None:
    huge = "x" * 20_000
    assert client.get("/v3/sessions/", params={"vendor_data": huge, "search": huge}).status_code == 200
    assert client.get("/v3/sessions/", params={"limit": huge, "offset": "-1", "status": "\x00"}).status_code == 200
    assert client.get(f"/v3/session/{huge}/decision/").status_code == 404
    assert client.get(f"/_mock/phone/{huge}/code").status_code == 404
    assert client.get(f"/_mock/email/{huge}@example.com/code").status_code == 404
    assert client.get("/v3/blocklist/", params={"item_type": huge}).status_code == 400
    assert client.get("/_mock/requests", params={"limit": huge}).status_code == 400
    assert client.get("/_mock/webhooks", params={"delivered": huge}).status_code == 400


# ---------------------------------------------------------------- 405

@pytest.mark.parametrize("method,path,allowed", [
    ("PUT", "/v3/session/", "POST"),
    ("GET", "/v3/session/", "POST"),
    ("DELETE", "/v3/phone/send/", "POST"),
    ("PUT", "/v3/webhook/", "GET, PATCH, HEAD"),
    ("POST", "/v3/blocklist/", "GET, HEAD"),
    ("POST", "/v3/session/{sid}/decision/", "GET, HEAD"),
    ("GET", "/v3/session/{sid}/update-status/", "PATCH"),
    ("PATCH", "/_mock/clock", "GET, HEAD"),
    ("POST", "/_mock/requests", "GET, DELETE, HEAD"),
    ("DELETE", "/_mock/otp/config", "GET, PUT, PATCH, HEAD"),
    ("OPTIONS", "/v3/sessions/", "GET, HEAD"),
    ("TRACE", "/v3/phone/check/", "POST"),
])
def test_unexpected_methods_are_405_with_every_allowed_method(
    client: httpx.Client, session: dict, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, _url(path, session["session_id"]), json={})
    assert response.status_code == 405, response.text
    assert response.json() == {"detail": f'Method "{method}" not allowed.'}
    assert response.headers["allow"] == allowed
    assert _count_sessions(client) == 1


def test_an_unknown_method_token_is_a_client_error(client: httpx.Client) -> None:
    response = client.request("FROB", "/v3/session/", json={})
    assert 400 <= response.status_code < 500


# ---------------------------------------------------------------- the sweep

NASTY_BODIES: list[tuple[str, bytes, str]] = [
    ("empty", b"", "application/json"),
    ("whitespace", b" \n\t ", "application/json"),
    ("null", b"null", "application/json"),
    ("list", b"[{}]", "application/json"),
    ("string", b'"x"', "application/json"),
    ("huge-number", b'{"seconds": 1e308, "code_size": 1e308, "limit": -1e308}', "application/json"),
    ("bool-for-everything", json.dumps({k: True for k in (
        "workflow_id", "vendor_data", "phone_number", "email", "code", "session_id", "seconds", "status",
        "new_status", "url", "options", "expected_details", "contact_details", "session_numbers")}).encode(),
     "application/json"),
    ("lists-for-everything", json.dumps({k: [[]] for k in (
        "workflow_id", "vendor_data", "phone_number", "email", "code", "session_id", "seconds", "status",
        "new_status", "url", "options", "expected_details", "contact_details", "session_numbers")}).encode(),
     "application/json"),
    ("form-garbage", b"a=%ZZ&&=&b=\xff", "application/x-www-form-urlencoded"),
    ("multipart-garbage", b"--x\r\nnot a part", "multipart/form-data; boundary=x"),
    ("multipart-no-boundary", b"data", "multipart/form-data"),
    ("binary", bytes(range(256)), "application/octet-stream"),
]


@pytest.mark.parametrize("name,body,content_type", NASTY_BODIES, ids=[b[0] for b in NASTY_BODIES])
def test_no_nasty_body_gets_a_server_error(
    client: httpx.Client, session: dict, name: str, body: bytes, content_type: str
) -> None:
    deleted = 0
    for method, path in JSON_ROUTES:
        response = client.request(method, _url(path, session["session_id"]), content=body,
                                  headers={"content-type": content_type})
        assert response.status_code < 500, (name, method, path, response.status_code, response.text[:300])
        if name in ("null", "list", "string", "binary", "form-garbage") and path != "/v3/webhook/":
            assert response.status_code >= 400, (name, method, path, response.text[:300])
        if "delete" in path and response.is_success:
            deleted = 1  # every field of the delete bodies is optional: such a body is a valid delete
    assert _count_sessions(client) == 1 - deleted
