"""The tenant's custom workflows and the API-made workflow versions as a state section.

Stored in the tenant entry's `workflows` (the `Workflow`s sessions run), `workflow_versions` and
`retired_workflows` (both absent from documents written before versions existed). Sessions need
the parsed workflows (`session_state`), so this section comes first.
"""

from __future__ import annotations

from typing import Any

from .sessions import workflows as workflow_book
from .state import Reader, StateInvalid, StateSection, check, json_copy, unique
from .tenant import Tenant
from .workflow_versions import WorkflowVersion
from .workflow_versions import catalog as workflow_catalog
from .workflows import Workflow

NAME = "workflows"


def workflow_json(workflow: Workflow) -> dict[str, Any]:
    """One `Workflow` as JSON (also the inline workflow of a session that ran another one)."""
    return {
        "workflow_id": workflow.workflow_id,
        "label": workflow.label,
        "template": workflow.template,
        "features": list(workflow.features),
        "version": workflow.version,
        "expiration_seconds": workflow.expiration_seconds,
        "requires_portrait": workflow.requires_portrait,
        "builtin": workflow.builtin,
        "callback_url": workflow.callback_url,
        "extra": json_copy(workflow.extra, "extra"),
    }


def parse_workflow(r: Reader) -> Workflow:
    features = tuple(check(f, "str", f"{r.at('features')}[{i}]") for i, f in enumerate(r("features", "list")))
    expiration = r("expiration_seconds", "int")
    if expiration <= 0:
        raise StateInvalid(f"{r.at('expiration_seconds')}: must be positive.")
    return Workflow(
        workflow_id=r("workflow_id", "str"), label=r("label", "str"), template=r("template", "str"),
        features=features, version=r("version", "int"), expiration_seconds=expiration,
        requires_portrait=r("requires_portrait", "bool"), builtin=r("builtin", "bool"),
        callback_url=r("callback_url", "str?"), extra=r("extra", "object", {}),
    )


class ParsedWorkflows:
    """The section's parsed value: the custom workflows by id, the versions, the retired groups."""

    def __init__(self, custom: list[Workflow], versions: list[WorkflowVersion], retired: list[str]):
        self.by_id = {w.workflow_id: w for w in custom}
        self.versions = versions
        self.retired = retired


def _export(tenant: Tenant) -> dict[str, Any]:
    catalog = workflow_catalog(tenant)
    return {
        "workflows": [workflow_json(w) for w in workflow_book(tenant).custom.values()],
        "workflow_versions": [v.to_json() for v in catalog.versions.values()],
        "retired_workflows": sorted(catalog.retired),
    }


def _parse(data: Any, path: str) -> ParsedWorkflows:
    r = Reader(data, path)
    custom = [parse_workflow(w) for w in r.items("workflows")]
    versions = []
    for item in r.items("workflow_versions", []):
        status = item.choice("status", ("draft", "published"))
        features = [check(f, "object", f"{item.at('features')}[{i}]") for i, f in enumerate(item("features", "list"))]
        for i, f in enumerate(features):
            if not isinstance(f.get("feature"), str) or not isinstance(f.get("config", {}), dict):
                raise StateInvalid(f"{item.at('features')}[{i}]: expected {{feature, config}}.")
        versions.append(WorkflowVersion(
            uuid=item("uuid", "str"), workflow_id=item("workflow_id", "str"), label=item("label", "str"),
            version=item("version", "int"), status=status, is_default=item("is_default", "bool"), features=features,
            options=item("options", "object"), created_at=item("created_at", "float"),
            updated_at=item("updated_at", "float"), published_at=item("published_at", "float?"),
            url_token=item("url_token", "str"), extra=item("extra", "object", {}),
        ))
    unique([v.uuid for v in versions], r.at("workflow_versions"), "uuid")
    retired = [check(g, "str", f"{r.at('retired_workflows')}[{i}]")
               for i, g in enumerate(r("retired_workflows", "list", []))]
    return ParsedWorkflows(custom, versions, retired)


def _restore(tenant: Tenant, parsed: ParsedWorkflows) -> None:
    custom = workflow_book(tenant).custom
    custom.clear()
    custom.update(parsed.by_id)
    workflow_catalog(tenant).restore(parsed.versions, parsed.retired)


WORKFLOWS_SECTION = StateSection(NAME, _export, _parse, _restore,
                                 fields=("workflows", "workflow_versions", "retired_workflows"))
