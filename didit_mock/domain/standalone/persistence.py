"""The standalone APIs' own state in the state document (`extensions.standalone`): armed outcomes and
AML idempotency answers. (Saved calls are sessions: the sessions section carries them.)"""

from __future__ import annotations

from typing import Any

from ..errors import ValidationFailed
from ..state import StateInvalid, StateSection
from ..tenant import Tenant
from .aml import IdempotencyBook
from .armed import ENDPOINTS, ArmedOutcomes, directive_from


def _export(tenant: Tenant) -> dict[str, Any]:
    armed = tenant.component(ArmedOutcomes)
    answers = tenant.component(IdempotencyBook).answers
    return {"armed": armed.listed(),
            "idempotency": {key: {"fingerprint": fp, "answer": answer} for key, (fp, answer) in answers.items()}}


def _parse(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StateInvalid(f"{path}: an object is expected.")
    armed = value.get("armed", {})
    if not isinstance(armed, dict):
        raise StateInvalid(f"{path}.armed: an object is expected.")
    for endpoint, queue in armed.items():
        if endpoint not in ENDPOINTS or not isinstance(queue, list):
            raise StateInvalid(f"{path}.armed.{endpoint}: a known endpoint with a list is expected.")
        for index, item in enumerate(queue):
            try:
                directive_from(item)
            except ValidationFailed as problem:
                raise StateInvalid(f"{path}.armed.{endpoint}[{index}]: {problem.body}") from None
    answers = value.get("idempotency", {})
    if not isinstance(answers, dict) or not all(
            isinstance(a, dict) and isinstance(a.get("fingerprint"), str) and isinstance(a.get("answer"), dict)
            for a in answers.values()):
        raise StateInvalid(f"{path}.idempotency: {{key: {{fingerprint, answer}}}} is expected.")
    return value


def _restore(tenant: Tenant, value: dict[str, Any]) -> None:
    armed = tenant.component(ArmedOutcomes)
    armed.clear()
    for endpoint, queue in (value.get("armed") or {}).items():
        for item in queue:
            armed.arm(endpoint, directive_from(item))
    book = tenant.component(IdempotencyBook)
    stored = value.get("idempotency") or {}
    book.answers = {key: (item["fingerprint"], item["answer"]) for key, item in stored.items()}


STANDALONE_SECTION = StateSection("standalone", _export, _parse, _restore)
