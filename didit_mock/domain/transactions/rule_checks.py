"""What a rule document must satisfy beyond its schema (§2.4): unique titles, a workflow for
AWAITING_USER, and presets that change only their `mode` and go only by uninstalling."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import ValidationFailed

TITLE_TAKEN = "A rule with this title already exists."
WORKFLOW_REQUIRED = "workflow_id is required when change_status is AWAITING_USER."
PRESET_MODE_ONLY = "Preset rules accept only mode changes."
PRESET_NOT_DELETABLE = "Preset rules cannot be deleted; uninstall them from the library instead."


def check_rule(body: dict[str, Any], others: Iterable[dict[str, Any]]) -> None:
    """400 when `body` (a create or a custom rule's update) breaks a rule the schema cannot say."""
    title = body.get("title")
    if isinstance(title, str) and any(str(o.get("title") or "").casefold() == title.casefold() for o in others):
        raise ValidationFailed.field("title", TITLE_TAKEN)
    for action in body.get("actions") or []:
        if isinstance(action, dict) and action.get("type") == "change_status" and \
                str(action.get("value") or action.get("status") or "").upper() == "AWAITING_USER" and \
                not (action.get("workflow_id") or action.get("remediation_workflow_id")):
            raise ValidationFailed.field("actions", WORKFLOW_REQUIRED)


def check_update(rule: dict[str, Any], body: dict[str, Any], others: Iterable[dict[str, Any]]) -> None:
    if rule.get("source") == "PRESET":
        if set(body) - {"mode"}:
            raise ValidationFailed.detail(PRESET_MODE_ONLY)
        return
    check_rule(body, others)


def check_delete(rule: dict[str, Any]) -> None:
    if rule.get("source") == "PRESET":
        raise ValidationFailed.detail(PRESET_NOT_DELETABLE)
