"""The fast request path keeps the old answers: prefix routing, randomness, JSON checks, journal."""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import random
import re
import string
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from starlette.responses import Response
from starlette.routing import Match

from didit_mock.app import create_app
from didit_mock.domain import sessions as sessions_domain
from didit_mock.domain import statuses
from didit_mock.domain.rng import TenantRandom
from didit_mock.domain.sessions import NewSession, SessionBook
from didit_mock.domain.tenant import TenantRegistry
from didit_mock.handlers.sessions import created_body, created_response
from didit_mock.journal import BODY_LIMIT, journal_of
from didit_mock.server import MockServer
from didit_mock.settings import Settings
from didit_mock.web.http import dumps, json_response
from didit_mock.web.limits import parse_json

PARAMETER = re.compile(r"{([^}:]+)(?::[^}]+)?}")
SAMPLES = {"session_id": "0f5e1c5e-1c9a-4f5e-9e7b-3f1c2a7d9b10", "token": "AbCdEf123456", "lang": "en"}


def sample_path(path: str) -> str:
    return PARAMETER.sub(lambda m: SAMPLES.get(m.group(1), "0f5e1c5e-1c9a-4f5e-9e7b-3f1c2a7d9b10"), path)


def first_match(routes: list, scope: dict) -> tuple[object, dict, Match]:
    """Starlette's choice: the first FULL match, else the first PARTIAL one, with its child scope."""
    partial = None
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is Match.FULL:
            return route, child_scope, match
        if match is Match.PARTIAL and partial is None:
            partial = (route, child_scope, match)
    return partial or (None, {}, Match.NONE)


def test_uuid4_is_the_standard_library_rendering_of_the_same_bits() -> None:
    ours, reference = TenantRandom(42), random.Random(42)
    for _ in range(2000):
        assert ours.uuid4() == str(uuid.UUID(int=reference.getrandbits(128), version=4))


@pytest.mark.parametrize("length", [1, 8, 12, 32, 33])
def test_tokens_are_url_safe_of_the_asked_length_and_seed_stable(length: int) -> None:
    alphabet = set(string.ascii_letters + string.digits + "-_")
    first = [TenantRandom(7).token(length) for _ in range(3)]
    tokens = [TenantRandom(s).token(length) for s in range(1000, 1200)]
    assert len(set(first)) == 1
    assert all(len(t) == length and set(t) <= alphabet for t in tokens)
    if length >= 8:
        assert len(set(tokens)) == len(tokens)  # 6 random bits a character: no collisions here
    reference = random.Random(7)  # what the token is: the URL-safe base64 of the seed's next bytes
    assert first[0] == base64.urlsafe_b64encode(reference.randbytes(-(-length * 6 // 8))).decode()[:length]


@pytest.fixture(scope="module")
def server() -> MockServer:
    with MockServer() as running:
        yield running


@pytest.fixture()
def client(server: MockServer) -> httpx.Client:
    with httpx.Client(base_url=server.url, headers={"x-api-key": f"sk_test_{uuid.uuid4().hex}"}) as client:
        yield client


KYC = "d1d17000-0000-4000-8000-000000000001"


def document(rest: str) -> str:
    """A create-session body as raw JSON text: the KYC workflow and `rest`."""
    return '{"workflow_id":"' + KYC + '",' + rest + "}"


@pytest.mark.parametrize(("raw", "status", "body"), [
    # NUL and lone surrogates can only arrive as escapes: the escape triggers the full check.
    (document('"vendor_data":"a\\u0000b"'), 400, {"vendor_data": ["Null characters are not allowed."]}),
    (document('"vendor_data":"\\ud800"'), 400,
     {"detail": "JSON parse error - unpaired surrogate characters are not valid Unicode."}),
    # 101 levels of nesting, each bracket counted.
    (document('"metadata":' + "[" * 101 + "]" * 101), 400,
     {"detail": "JSON parse error - the document is nested too deeply"}),
    # Numbers beyond a float's range are refused while parsing, whatever their form.
    (document('"metadata":{"x":1e999}'), 400,
     {"detail": "JSON parse error - Out of range float values are not JSON compliant."}),
    (document('"metadata":{"x":-1E400}'), 400,
     {"detail": "JSON parse error - Out of range float values are not JSON compliant."}),
])
def test_the_json_checks_refuse_what_they_must(client: httpx.Client, raw: str, status: int, body: dict) -> None:
    response = client.post("/v3/session/", content=raw, headers={"content-type": "application/json"})
    assert (response.status_code, response.json()) == (status, body)
    assert client.get("/v3/sessions/").json()["count"] == 0  # nothing was created


def test_documents_at_the_limits_pass(client: httpx.Client) -> None:
    deep = "[" * 98 + "]" * 98  # 100 levels with the two objects around it
    escaped = '"caf\\u00e9 \\u2603"'  # escapes that are neither NUL nor surrogates
    raw = document(f'"vendor_data":{escaped},"metadata":{{"deep":{deep},"f":1.5e300}}')
    response = client.post("/v3/session/", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["vendor_data"] == "café ☃"
    assert response.json()["metadata"]["f"] == 1.5e300


def test_the_journal_records_bodies_and_statuses_as_the_client_saw_them(client: httpx.Client) -> None:
    created = client.post("/v3/session/", json={"workflow_id": KYC, "vendor_data": "journal-1"})
    client.post("/v3/session/", content=b"{", headers={"content-type": "application/json"})
    client.get("/v3/session/" + created.json()["session_id"] + "/decision/")
    entries = client.get("/_mock/requests").json()["results"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/v3/session/", 201),
        ("POST", "/v3/session/", 400),
        ("GET", f"/v3/session/{created.json()['session_id']}/decision/", 200),
    ]
    assert json.loads(entries[0]["request_body"]) == {"workflow_id": KYC, "vendor_data": "journal-1"}
    assert json.loads(entries[0]["response_body"]) == created.json()
    assert entries[1]["request_body"] == "{" and "JSON parse error" in entries[1]["response_body"]
    assert [e["id"] for e in entries] == sorted(e["id"] for e in entries)
    assert all(e["duration_ms"] >= 0 for e in entries)


def test_an_unexpected_error_is_didits_500_in_the_journal_and_the_server_goes_on(
    client: httpx.Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from didit_mock.domain import sessions

    def broken(tenant: object, request: object) -> None:
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(sessions, "create_session", broken)
    with caplog.at_level("ERROR", logger="didit_mock"):
        response = client.post("/v3/session/", json={"workflow_id": KYC})
    assert (response.status_code, response.json()) == (500, {"detail": "A server error occurred."})
    assert any("a bug in a handler" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    monkeypatch.undo()
    assert client.post("/v3/session/", json={"workflow_id": KYC}).status_code == 201
    entries = client.get("/_mock/requests").json()["results"]
    assert [e["status"] for e in entries] == [500, 201]
    assert json.loads(entries[0]["response_body"]) == {"detail": "A server error occurred."}


@pytest.mark.parametrize("status", [200, 201, 400, 404])
def test_json_answers_carry_the_headers_starlette_would_give_them(status: int) -> None:
    document = {"detail": "Not found.", "count": 3}
    built = json_response(document, status)
    general = Response(dumps(document), status, media_type="application/json")
    assert (built.status_code, built.body, built.raw_headers) == (general.status_code, general.body, general.raw_headers)
    with_header = json_response(document, status, headers={"Retry-After": "7"})
    assert with_header.raw_headers == Response(dumps(document), status, {"Retry-After": "7"}, "application/json").raw_headers
    assert _messages_sent(built) == _messages_sent(general)  # JSONBytes sends as Response.__call__ does


def _messages_sent(response: Response) -> list[dict]:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    with ThreadPoolExecutor(1) as pool:  # a browser test's sync Playwright may hold this thread's loop
        pool.submit(asyncio.run, response(scope, receive, send)).result()
    return sent


JSON_DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(JSON_DOCUMENTS)
def test_responses_are_rendered_byte_for_byte_as_pythons_json(document: object) -> None:
    expected = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    assert dumps(document) == expected


@pytest.mark.parametrize("document", [
    {"small": 1e-05, "large": 1e16, "plain": 0.5},  # floats orjson would write differently
    {1: "int key", "nested": {2: [3, 2**65]}},  # what orjson refuses
    (1, "tuple", None),
])
def test_documents_orjson_cannot_render_exactly_take_the_standard_path(document: object) -> None:
    assert dumps(document) == json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize("number", [
    0.0, -0.0, 1e-4, 0.000099999, 1.5e-4, -0.00012, 0.1, 0.5, 99.99, 123456789.123, 9.999999999999998e15,
    1e16, -1e16, 1.2345e17, 5e-324, 1.7976931348623157e308, 2.209278197011611e-08,
])
def test_floats_either_side_of_the_exponent_thresholds_render_as_pythons(number: float) -> None:
    document = {"score": number, "rows": [{"value": number}, number, 1, "x"]}
    assert dumps(document) == json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


@settings(max_examples=200, deadline=None)
@given(JSON_DOCUMENTS)
def test_a_created_sessions_metadata_is_echoed_byte_for_byte_as_pythons_json(metadata: object) -> None:
    """The created body renders the client's metadata exactly, floats included."""
    tenant = TenantRegistry().get("sk_echo")
    assert tenant is not None
    session, _ = sessions_domain.create_session(tenant, NewSession(workflow_id=WORKFLOWS[0], metadata=metadata))
    response = created_response(session)
    body = json.dumps(created_body(session), ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    assert response.body == body


@settings(max_examples=400, deadline=None)
@given(JSON_DOCUMENTS)
def test_request_bodies_are_read_as_pythons_json_reads_them(document: object) -> None:
    raw = json.dumps(document, ensure_ascii=st_ascii_choice(document)).encode()
    parsed = parse_json(raw, strict=True)
    # Compared as text, so that an integer read back as a float would show.
    assert json.dumps(parsed) == json.dumps(json.loads(raw))


def st_ascii_choice(document: object) -> bool:
    """Half the documents with escapes (`\\uXXXX`), half with raw UTF-8."""
    return len(repr(document)) % 2 == 0


@pytest.mark.parametrize("raw", [b"18446744073709551616", b"-9223372036854775809", b'{"n":[12345678901234567890123]}'])
def test_integers_beyond_64_bits_stay_integers(raw: bytes) -> None:
    assert json.dumps(parse_json(raw, strict=True)) == json.dumps(json.loads(raw))  # no float on the way


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=120) | st.text(alphabet="0123456789-.e{}[]\"a ", max_size=80).map(str.encode))
@example(b'{"n":' + b"7" * 19 + b"}")
@example(b"1" * 18 + b"\xd9" + b"1")
def test_long_digit_runs_are_found_as_the_regular_expression_finds_them(raw: bytes) -> None:
    from didit_mock.web.limits import _DIGITS_AS_ONES, _LONG_DIGIT_RUN

    assert (_LONG_DIGIT_RUN in raw.translate(_DIGITS_AS_ONES)) == (re.search(rb"\d{19}", raw) is not None)


# ---------------------------------------------------------------- indexes built on first use

WORKFLOWS = ("d1d17000-0000-4000-8000-000000000001", "d1d17000-0000-4000-8000-000000000002")
INDEX_STEPS = st.lists(st.tuples(st.sampled_from(["create", "finish", "delete", "read"]), st.integers(0, 50)),
                       max_size=40)


def _indexes_from_scratch(book: SessionBook) -> tuple[object, ...]:
    by_status: dict[str, set[str]] = {}
    by_workflow: dict[str, set[str]] = {}
    for s in book.by_id.values():
        by_status.setdefault(s.status, set()).add(s.session_id)
        by_workflow.setdefault(s.workflow.workflow_id, set()).add(s.session_id)
    return ({s.session_number: s.session_id for s in book.by_id.values()}, by_status, by_workflow,
            {s.session_token: s.session_id for s in book.by_id.values()})


def _indexes_kept(book: SessionBook) -> tuple[object, ...]:
    return ({n: s.session_id for n, s in book.by_number.items()},
            {k: set(v) for k, v in book.by_status.items() if v},
            {k: set(v) for k, v in book.by_workflow.items() if v},
            {t: s.session_id for t, s in book.by_token.items()})


@settings(max_examples=60, deadline=None)
@given(steps=INDEX_STEPS, read_first=st.booleans())
def test_indexes_built_late_or_early_agree_with_the_sessions(steps: list[tuple[str, int]], read_first: bool) -> None:
    tenant = TenantRegistry().get("sk_index")
    assert tenant is not None
    book = sessions_domain.book(tenant)
    if read_first:
        _indexes_kept(book)
    for action, pick in steps:
        alive = list(book.by_id.values())
        if action == "create":
            sessions_domain.create_session(tenant, NewSession(workflow_id=WORKFLOWS[pick % 2], vendor_data=f"u{pick}"))
        elif action == "read":
            _indexes_kept(book)
        elif alive:
            session = alive[pick % len(alive)]
            if action == "delete":
                sessions_domain.delete_session(tenant, session)
            elif session.status in (statuses.NOT_STARTED, statuses.IN_PROGRESS):
                sessions_domain.finish_session(tenant, session, statuses.APPROVED)
    assert _indexes_kept(book) == _indexes_from_scratch(book)


# ---------------------------------------------------------------- bodies in several messages

async def _call_in_chunks(app: object, path: str, chunks: list[bytes]) -> tuple[int, bytes]:
    """One ASGI request whose body arrives in `chunks` (no Content-Length), as a server streams it."""
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [(b"x-api-key", b"sk_chunks"), (b"content-type", b"application/json")]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    await app(scope, receive, send)  # type: ignore[operator]
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def _run(coroutine: Coroutine[object, object, tuple[int, bytes]]) -> tuple[int, bytes]:
    """Run on a thread of its own: a browser test's sync Playwright may hold this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_body_streamed_in_several_messages_is_read_whole_and_bounded() -> None:
    app = create_app(Settings.from_env(environ={}, port=0, max_body_bytes=200))
    document = json.dumps({"workflow_id": WORKFLOWS[0], "vendor_data": "streamed"}).encode()
    status, body = _run(_call_in_chunks(app, "/v3/session/", [document[:10], document[10:40], document[40:]]))
    assert status == 201 and json.loads(body)["vendor_data"] == "streamed"
    journal = journal_of(app.registry.get("sk_chunks"))  # type: ignore[attr-defined, arg-type]
    assert json.loads(journal.entries()[-1].request_body) == json.loads(document)
    status, body = _run(_call_in_chunks(app, "/v3/session/", [b'{"vendor_data":"' + b"x" * 150, b"y" * 100]))
    assert status == 413 and json.loads(body) == {"detail": "Request body is too large."}


def test_a_created_session_holds_each_field_of_its_request() -> None:
    """`create_session` builds the session positionally: every field must land in its own place."""
    registry = TenantRegistry()
    tenant = registry.get("sk_fields")
    assert tenant is not None
    request = NewSession(
        workflow_id=WORKFLOWS[0], vendor_data="user-7", metadata={"m": 1}, callback="https://cb.example/x",
        callback_method="both", language="fr", contact_details={"email": "a@b.co"},
        expected_details={"first_name": "Ana"}, portrait_digest="d" * 64, sandbox_scenario=None,
    )
    session, new = sessions_domain.create_session(tenant, request)
    assert new and session.session_number == 1 and len(session.session_token) == 12
    assert uuid.UUID(session.session_id).version == 4
    assert session.workflow.workflow_id == WORKFLOWS[0]
    assert session.url.endswith(f"/fr/session/{session.session_token}")
    assert session.expires_at == session.created_at + session.workflow.expiration_seconds
    assert (session.vendor_data, session.metadata, session.callback, session.callback_method, session.language) == \
        ("user-7", {"m": 1}, "https://cb.example/x", "both", "fr")
    assert (session.contact_details, session.expected_details, session.portrait_digest, session.sandbox_scenario) == \
        ({"email": "a@b.co"}, {"first_name": "Ana"}, "d" * 64, None)
    assert session.timeline == ((statuses.NOT_STARTED, session.created_at),) and session.status == statuses.NOT_STARTED
    assert registry.by_token(session.session_token) is tenant


def test_a_create_request_puts_each_field_in_its_place() -> None:
    """The create route builds its request positionally: each field of the body lands in its own place."""
    app = create_app(Settings.from_env(environ={}, port=0))
    body = {"workflow_id": WORKFLOWS[0], "vendor_data": "user-8", "metadata": {"m": 2},
            "callback": "https://cb.example/y", "callback_method": "completer", "language": "de",
            "contact_details": {"email": "c@d.co", "send_notification_emails": True, "email_lang": "de",
                                "phone": "+14155552671"},
            "expected_details": {"first_name": "Bea"}}
    status, answer = _run(_call_in_chunks(app, "/v3/session/", [json.dumps(body).encode()]))
    assert status == 201, answer
    tenant = app.registry.get("sk_chunks")  # type: ignore[attr-defined]
    session = sessions_domain.book(tenant).get(json.loads(answer)["session_id"])
    assert (session.workflow.workflow_id, session.vendor_data, session.metadata, session.callback,
            session.callback_method, session.language) == (
        WORKFLOWS[0], "user-8", {"m": 2}, "https://cb.example/y", "completer", "de")
    assert session.contact_details == body["contact_details"]
    assert session.expected_details == {"first_name": "Bea"}
    assert session.portrait_digest is None and session.sandbox_scenario is None
    assert session.url.endswith(f"/de/session/{session.session_token}")


def test_the_journal_keeps_no_more_than_the_start_of_a_big_body() -> None:
    app = create_app(Settings.from_env(environ={}, port=0))
    metadata = {"blob": "x" * (4 * BODY_LIMIT)}
    document = json.dumps({"workflow_id": WORKFLOWS[0], "vendor_data": "big", "metadata": metadata}).encode()
    status, body = _run(_call_in_chunks(app, "/v3/session/", [document]))
    assert status == 201 and len(body) > 4 * BODY_LIMIT  # the answer echoes the metadata
    journal = journal_of(app.registry.get("sk_chunks"))  # type: ignore[attr-defined, arg-type]
    kept_request, kept_response = journal._entries[-1][8], journal._entries[-1][11]  # see journal.Recorded
    assert len(kept_request) == len(kept_response) == BODY_LIMIT  # not the whole bodies, for 1,000 entries
    gc.collect()
    assert not gc.is_tracked(journal._entries[-1])  # strings, bytes and numbers only: left out of collections
    entry = journal.entries()[-1]
    assert entry.request_truncated and entry.response_truncated
    assert document.decode().startswith(entry.request_body) and len(entry.request_body) == BODY_LIMIT
