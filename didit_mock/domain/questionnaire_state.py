"""Questionnaires as a section of the state document (`extensions.questionnaires`)."""

from __future__ import annotations

from typing import Any

from .questionnaires import DRAFT, PUBLISHED, QuestionnaireCatalog, QuestionnaireVersion
from .state import Reader, StateInvalid, StateSection, check
from .tenant import Tenant


def _export(tenant: Tenant) -> list[dict[str, Any]]:
    return [v.to_json() for v in tenant.component(QuestionnaireCatalog).versions.values()]


def _parse(value: Any, path: str) -> list[QuestionnaireVersion]:
    if not isinstance(value, list):
        raise StateInvalid(f"{path}: a list is expected.")
    versions = []
    for i, raw in enumerate(value):
        r = Reader(raw, f"{path}[{i}]")
        versions.append(QuestionnaireVersion(
            questionnaire_id=r("questionnaire_id", "str"), group_id=r("group_id", "str"), title=r("title", "str"),
            description=r("description", "str?"),
            languages=[check(x, "str", f"{r.at('languages')}[{j}]") for j, x in enumerate(r("languages", "list"))],
            default_language=r("default_language", "str"), is_active=r("is_active", "bool"),
            elements=[check(e, "object", f"{r.at('elements')}[{j}]") for j, e in enumerate(r("elements", "list"))],
            version=r("version", "int"), status=r.choice("status", (DRAFT, PUBLISHED)),
            created_at=r("created_at", "float"), updated_at=r("updated_at", "float"),
            published_at=r("published_at", "float?"),
        ))
    ids = [v.questionnaire_id for v in versions]
    if len(set(ids)) != len(ids):
        raise StateInvalid(f"{path}: a questionnaire_id appears twice.")
    return versions


def _restore(tenant: Tenant, versions: list[QuestionnaireVersion]) -> None:
    tenant.component(QuestionnaireCatalog).restore(versions)


QUESTIONNAIRES_SECTION = StateSection("questionnaires", _export, _parse, _restore)
