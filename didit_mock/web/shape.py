"""The answer of an operation that has no rules yet: a document of its documented success shape.

The request is authenticated and its body checked like any other; the answer is the spec's own
example for the success status when it has one, else a document built from the schema, marked
with the `X-Didit-Mock-Shape-Only` header (and "shape only" in `docs/coverage.md`).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..spec.operation import Operation
from ..spec.schemas import json_schema, sample
from .http import dumps
from .operations import Call, Handler, HandlerSpec

SHAPE_ONLY_HEADER = "X-Didit-Mock-Shape-Only"


def shape_document(operation: Operation) -> Any:
    """The success body of `operation`: its example when it has one, else one built from its schema."""
    status = operation.success_status
    example = operation.response_example(status)
    if example is not None:
        return example
    schema = operation.response_schema(status)
    return None if schema is None else sample(json_schema(schema))


def shape_handler(operation: Operation) -> Handler:
    status = operation.success_status

    def answer(call: Call) -> Response:
        document = shape_document(call.operation)
        headers = {SHAPE_ONLY_HEADER: "true"}
        if document is None or status == 204:
            return Response(status_code=status, headers=headers)
        headers["content-type"] = "application/json"
        return Response(dumps(document), status_code=status, headers=headers)

    return Handler(answer, HandlerSpec(operation.operation_id), is_async=False, kind="shape")
