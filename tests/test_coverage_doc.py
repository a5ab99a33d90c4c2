"""docs/coverage.md is generated from the operation table, the overlay and the handlers."""

from __future__ import annotations

from didit_mock import coverage


def test_the_coverage_page_is_current() -> None:
    assert coverage.PAGE.read_text("utf-8") == coverage.render(), (
        "docs/coverage.md is stale: run python -m didit_mock.coverage")


def test_the_page_names_every_operation_once() -> None:
    page = coverage.render()
    from didit_mock.spec.table import api_operations

    for operation in api_operations():
        assert page.count(f"`{operation.operation_id}`") == 1, operation.operation_id
