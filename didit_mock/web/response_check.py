"""An optional check of every answer against the spec's schema for its operation and status.

Switched on with `--validate-responses` (`DIDIT_MOCK_VALIDATE_RESPONSES`): a JSON answer that
breaks the documented schema is logged as a warning and kept in `violations`, which the test
suite asserts empty. Off by default: it costs a schema validation per request.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import orjson
from starlette.responses import Response

from ..spec.operation import Operation
from ..spec.schemas import json_schema

log = logging.getLogger("didit_mock.contract")


class ResponseCheck:
    """Validates answers; remembers each violation once (operation, status, first problem)."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self._validators: dict[tuple[str, int], Any] = {}
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, operation: Operation, response: Response) -> None:
        body = getattr(response, "body", None)
        media = response.headers.get("content-type", "")
        if not body or not media.startswith("application/json"):
            return
        status = response.status_code
        key = (operation.operation_id, status)
        validator = self._validators.get(key)
        if validator is None:
            schema = operation.response_schema(status)
            if schema is None:
                return
            import jsonschema_rs  # only when answers are checked (`validate_responses`)

            validator = self._validators[key] = jsonschema_rs.Draft4Validator(json_schema(schema))
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return
        error = next(iter(validator.iter_errors(document)), None)
        if error is None:
            return
        where = "/".join(str(p) for p in error.instance_path) or "<root>"
        text = f"{operation.method} {operation.path} {status}: {where}: {error.message[:200]}"
        with self._lock:
            if text not in self._seen:
                self._seen.add(text)
                self.violations.append(text)
                log.warning("answer breaks the spec: %s", text)
