"""The operation table: a request path to its operations, as Django's URLconf would resolve it."""

from __future__ import annotations

from didit_mock.spec.table import OperationTable, api_operations

TABLE = OperationTable(api_operations())
UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def ids(path: str) -> dict[str, str] | None:
    found = TABLE.find(path)
    return None if found is None else {method: op.operation_id for method, op in found.methods.items()}


def test_a_literal_segment_wins_over_a_parameter() -> None:
    assert ids("/v3/session/imports/template/") == {"GET": "get_v3_session_imports_template"}
    assert ids("/v3/transactions/rules/") == {"GET": "listTransactionRules", "POST": "createTransactionRule"}
    assert ids(f"/v3/transactions/{UUID}/") == {"GET": "getTransaction"}


def test_a_uuid_parameter_matches_only_a_canonical_uuid() -> None:
    assert ids(f"/v3/session/{UUID}/decision/") == {"GET": "get_v3_session_decision"}
    assert TABLE.find(f"/v3/session/{UUID}/decision/").values == (UUID,)
    assert ids(f"/v3/session/{UUID.upper()}/decision/") is None
    assert ids("/v3/session/not-a-uuid/decision/") is None
    assert ids("/v3/users/any-vendor-data/") == {"GET": "get_user", "PATCH": "update_user"}


def test_unknown_paths_and_empty_segments_match_nothing() -> None:
    for path in ("/", "/v3", "/v3/", "/v3/session", "/v3//decision/", "/nowhere", "v3/session/"):
        assert ids(path) is None, path


def test_a_path_that_needs_a_second_look_is_still_found() -> None:
    """`/v3/session/{id}/webhook/{uuid}` shares its prefix with literal routes under /v3/session/."""
    found = TABLE.find(f"/v3/session/{UUID}/webhook/{UUID}")
    assert found is not None and found.operation("GET").operation_id == "get_session_webhook"
    assert found.operation("HEAD") is found.operation("GET")
    assert found.operation("DELETE") is None


def test_the_compact_table_is_what_the_documents_say() -> None:
    import json

    from didit_mock.spec.document import api_document
    from didit_mock.spec.index import TABLE, table_rows
    from didit_mock.spec.operation import operations_of

    assert json.loads(TABLE.read_text("utf-8")) == table_rows(), "stale: run `python -m didit_mock.spec.index`"
    full = {op.operation_id: op for op in operations_of(api_document())}
    for op in api_operations():
        whole = full[op.operation_id]
        assert (op.method, op.path, op.tags, op.request_types, op.security, op.addition, op.success_status) == \
            (whole.method, whole.path, whole.tags, whole.request_types, whole.security, whole.addition,
             whole.success_status)
        assert op.responses == whole.responses and op.request_schemas == whole.request_schemas  # read on demand


def test_the_server_starts_without_reading_the_whole_document() -> None:
    import subprocess
    import sys

    code = ("from didit_mock.app import create_app; from didit_mock.settings import Settings; "
            "from didit_mock.spec import document; create_app(Settings.from_env(environ={}, port=0)); "
            "print(document.didit_document.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0"]
