"""Questionnaires (`/v3/questionnaires/`): form elements, languages, versions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .tenant import Tenant


class QuestionnaireCatalog:
    """A tenant's questionnaire versions by `questionnaire_id`."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        self.versions: dict[str, Any] = {}


def catalog(tenant: Tenant) -> QuestionnaireCatalog:
    return tenant.component(QuestionnaireCatalog)
